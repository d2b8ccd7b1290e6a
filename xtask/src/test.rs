//! `cargo xtask test` and `cargo xtask ci`: fmt check, clippy, tests and doc
//! tests, each published crate built alone, benches once, examples' smoke runs,
//! the attack suite's short form.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{cargo, check_options, project_root, run_step};

/// The published crates: each must build on its own, with no default features.
const STANDALONE_PACKAGES: &[&str] = &[
    "sock-core",
    "sock-codec",
    "sock-tls",
    "sock-handoff",
    "sock-tcp",
    "sock-udp",
    "sock-websocket",
    "sock",
];

/// How long one example may run in its smoke run before it counts as hung.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    check_options(args, &["--stress"])?;
    if let Some(stray) = args.iter().find(|a| !a.starts_with("--")) {
        return Err(format!("unexpected argument {stray:?}\n{}", crate::USAGE));
    }
    let stress = args.iter().any(|a| a == "--stress");

    install_missing_tools()?;
    run_step("format check", cargo(&["fmt", "--all", "--check"]))?;
    run_step(
        "clippy",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "tests and doc tests",
        cargo(&["test", "--workspace", "--all-features"]),
    )?;
    facade_docs()?;
    for package in STANDALONE_PACKAGES {
        run_step(
            &format!("{package} builds alone with no default features"),
            cargo(&[
                "check",
                "--package",
                package,
                "--no-default-features",
                "--lib",
            ]),
        )?;
    }
    run_step(
        "benches, each run once",
        cargo(&["test", "--package", "sock-benches", "--benches"]),
    )?;
    examples_smoke()?;
    run_step(
        "attack suite, short form",
        cargo(&[
            "run",
            "--quiet",
            "--package",
            "sock-attack",
            "--",
            "--short",
        ]),
    )?;
    if stress {
        run_step(
            "stress tests",
            cargo(&[
                "test",
                "--workspace",
                "--all-features",
                "--release",
                "--",
                "--ignored",
                "stress_",
                "--test-threads=1",
            ]),
        )?;
    }
    eprintln!("\nxtask: all checks passed");
    Ok(())
}

/// Programs the tests run as peers no one here wrote, with the Debian
/// package that has each. SoftHSM2 and OpenSC's `pkcs11-tool` make the PKCS#11 tokens the
/// client-certificate tests sign on; dnsmasq answers `DnsResolver`'s queries; ncat,
/// socat and Python sockets talk to `sockcat`.
const TEST_TOOLS: &[(&str, &str)] = &[
    ("openssl", "openssl"),
    ("dnsmasq", "dnsmasq-base"),
    ("softhsm2-util", "softhsm2"),
    ("pkcs11-tool", "opensc"),
    ("ncat", "ncat"),
    ("socat", "socat"),
    ("python3", "python3"),
];

/// Installs the test peers a fresh machine lacks (`apt-get`, as root); fails
/// with what to install when that is impossible, since the tests need them.
pub(crate) fn install_missing_tools() -> Result<(), String> {
    let missing: Vec<&str> = TEST_TOOLS
        .iter()
        .filter(|(program, _)| !on_path(program))
        .map(|&(_, package)| package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages = missing.join(" ");
    if !is_root() || !on_path("apt-get") {
        return Err(format!(
            "the tests need {packages} (Debian packages), which are not installed, and \
             cargo xtask can only install them as root with apt-get: run \
             `apt-get install -y {packages}` (or your system's equivalent) and try again"
        ));
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-q"]);
    run_step("apt-get update (for the test peers)", update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-q"]).args(&missing);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run_step(
        &format!("install test peers: {}", missing.join(" ")),
        install,
    )
}

/// Whether this process runs as root (`id -u` says 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
}

/// Whether `program` is an executable file in a `PATH` directory.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Pages of the facade's docs that must exist: a user of `sock` alone reaches
/// every crate's items through them.
const FACADE_PAGES: &[&str] = &[
    "sock/index.html",
    "sock/tcp/struct.StreamSocket.html",
    "sock/tcp/struct.Serve.html",
    "sock/tcp/struct.ServeReport.html",
    "sock/tcp/struct.TlsConnectError.html",
    "sock/tcp/enum.ServerCertificateErrorSeverity.html",
    "sock/udp/struct.DatagramSocket.html",
    "sock/codec/struct.LengthPrefixedCodec.html",
    "sock/tls/struct.TlsClientConfig.html",
    "sock/handoff/struct.HandoffChannel.html",
    "sock/websocket/struct.MessageWebSocket.html",
    "sock/struct.Framed.html",
    "sock/struct.Bytes.html",
];

/// The facade's docs build with every rustdoc warning an error (broken
/// links among them) and have a page for every crate's items.
fn facade_docs() -> Result<(), String> {
    let mut cmd = cargo(&["doc", "--package", "sock", "--all-features", "--no-deps"]);
    cmd.env("RUSTDOCFLAGS", "-D warnings");
    run_step("facade docs, warnings denied", cmd)?;
    let doc = target_dir().join("doc");
    let missing: Vec<&str> = FACADE_PAGES
        .iter()
        .copied()
        .filter(|page| !doc.join(page).is_file())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "facade docs: no page for {} (under {})",
            missing.join(", "),
            doc.display()
        ))
    }
}

/// Where cargo puts what it builds.
fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
}

/// The example names: the `*.rs` files in `dir`, sorted.
fn example_names(dir: &Path) -> Result<Vec<String>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("read {}: {e}", dir.display())),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Runs every example with no arguments: each tells its story on loopback and
/// exits 0 within [`EXAMPLE_TIMEOUT`].
fn examples_smoke() -> Result<(), String> {
    let names = example_names(&project_root().join("examples/examples"))?;
    if names.is_empty() {
        eprintln!("\n==> examples: none yet");
        return Ok(());
    }
    run_step(
        "build examples",
        cargo(&["build", "--package", "sock-examples", "--examples"]),
    )?;
    for name in names {
        let mut cmd = cargo(&[
            "run",
            "--quiet",
            "--package",
            "sock-examples",
            "--example",
            &name,
        ]);
        run_with_timeout(&format!("example {name}"), &mut cmd, EXAMPLE_TIMEOUT)?;
    }
    Ok(())
}

fn run_with_timeout(title: &str, cmd: &mut Command, limit: Duration) -> Result<(), String> {
    eprintln!("\n==> {title}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{title}: could not start: {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("{title}: wait: {e}"))?
        {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("{title}: failed ({status})"))
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{title}: still running after {limit:?}; killed"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_names_are_the_rust_files_of_the_directory() {
        let dir = std::env::temp_dir().join(format!("xtask-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["udp-echo.rs", "tcp-echo.rs", "notes.md"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        assert_eq!(example_names(&dir).unwrap(), ["tcp-echo", "udp-echo"]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(example_names(&dir).unwrap().is_empty());
    }
}
