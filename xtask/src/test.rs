//! `cargo xtask test` and `cargo xtask ci`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{cargo, check_options, project_root, run_step};

/// How long one example may run in its smoke run before it counts as hung.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    check_options(args, &["--stress"])?;
    if let Some(stray) = args.iter().find(|a| !a.starts_with("--")) {
        return Err(format!("unexpected argument {stray:?}\n{}", crate::USAGE));
    }
    let stress = args.iter().any(|a| a == "--stress");

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
    run_step(
        "benches, each run once",
        cargo(&["test", "--package", "sock-benches", "--benches"]),
    )?;
    examples_smoke()?;
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

/// The example names declared in `examples/Cargo.toml`.
fn example_names(manifest: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| format!("read {}: {e}", manifest.display()))?;
    let mut names = Vec::new();
    let mut in_example = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_example = line == "[[example]]";
        } else if in_example {
            if let Some(value) = line.strip_prefix("name") {
                let name = value
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"');
                names.push(name.to_owned());
            }
        }
    }
    Ok(names)
}

/// Runs every example with no arguments: each tells its story on loopback and
/// exits 0 within [`EXAMPLE_TIMEOUT`].
fn examples_smoke() -> Result<(), String> {
    let names = example_names(&project_root().join("examples/Cargo.toml"))?;
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
    fn example_names_are_read_from_example_sections_only() {
        let dir = std::env::temp_dir().join(format!("xtask-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = dir.join("Cargo.toml");
        std::fs::write(
            &manifest,
            "[package]\nname = \"sock-examples\"\n\n[[example]]\nname = \"tcp-echo\"\npath = \"tcp-echo.rs\"\n\n[[example]]\nname=\"udp-echo\"\n[dependencies]\nname = \"x\"\n",
        )
        .unwrap();
        assert_eq!(example_names(&manifest).unwrap(), ["tcp-echo", "udp-echo"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
