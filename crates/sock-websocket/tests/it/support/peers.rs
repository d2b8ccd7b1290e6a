//! Peers no one here wrote: Python's `websockets` (in a virtual environment)
//! and Node's `ws` (in a folder), both under `target/interop/`, installed on
//! first use; and the PEM files a TLS peer reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

/// A peer implementation.
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    /// Python's `websockets`.
    Python,
    /// Node's `ws`.
    Node,
}

/// Where the peers are installed.
fn interop_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("interop")
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: could not start: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The virtual environment's python, with `websockets` installed.
fn python() -> &'static Result<PathBuf, String> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = interop_dir().join("python");
        let python = venv.join("bin/python");
        if !python.is_file() {
            run(
                "python3 -m venv",
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
            )?;
        }
        let has = Command::new(&python)
            .args(["-c", "import websockets"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has {
            run(
                "pip install websockets",
                Command::new(&python).args(["-m", "pip", "install", "-q", "websockets"]),
            )?;
        }
        Ok(python)
    })
}

/// The folder whose `node_modules` holds `ws`.
fn node_modules() -> &'static Result<PathBuf, String> {
    static NODE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = interop_dir().join("node");
        let modules = dir.join("node_modules");
        if !modules.join("ws/package.json").is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            run(
                "npm install ws",
                Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&dir)
                    .arg("ws"),
            )?;
        }
        Ok(modules)
    })
}

impl Peer {
    /// The command that runs this peer's script with `args`.
    fn command(self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = match self {
            Self::Python => {
                let python = python().as_ref().expect("install python websockets");
                let mut cmd = tokio::process::Command::new(python);
                cmd.arg(scripts().join("peer_websockets.py"));
                cmd
            }
            Self::Node => {
                let modules = node_modules().as_ref().expect("install node ws");
                let mut cmd = tokio::process::Command::new("node");
                cmd.arg(scripts().join("peer_ws.js"))
                    .env("WS_MODULES", modules);
                cmd
            }
        };
        cmd.args(args).kill_on_drop(true);
        cmd
    }

    /// Starts this peer's echo server (TLS with `tls`: certificate and key
    /// files); gives the process (it ends when dropped) and its port.
    pub async fn server(self, tls: Option<&TlsFiles>) -> (Child, u16) {
        let mut args = vec!["server"];
        if let Some(files) = tls {
            args.push(files.cert.to_str().unwrap());
            args.push(files.key.to_str().unwrap());
        }
        let mut child = self
            .command(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the peer server");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        super::within(BufReader::new(stdout).read_line(&mut line))
            .await
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the peer server said {line:?}"));
        (child, port)
    }

    /// Runs this peer's client script against `uri`; panics with its output
    /// unless it passed.
    pub async fn client(self, uri: &str, ca: Option<&Path>) {
        self.run_client("client", uri, ca).await;
    }

    /// Runs this peer's client script in mode `role` (`client`, or
    /// `deflate-client`: compressed messages, permessage-deflate checked to
    /// be agreed) against `uri`; panics with its output unless it passed.
    pub async fn run_client(self, role: &str, uri: &str, ca: Option<&Path>) {
        let mut args = vec![role, uri];
        if let Some(ca) = ca {
            args.push(ca.to_str().unwrap());
        }
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(90),
            self.command(&args).stdin(Stdio::null()).output(),
        )
        .await
        .expect("the peer client finished in time")
        .expect("run the peer client");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("OK"),
            "{self:?} client failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// PEM files for a TLS peer: its certificate chain and key, and the CA.
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TlsFiles {
    /// Writes the PEM texts to a fresh folder under `target/interop`.
    pub fn write(name: &str, cert: &str, key: &str, ca: &str) -> Self {
        let dir = interop_dir().join(format!("certs-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = Self {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            ca: dir.join("ca.pem"),
        };
        std::fs::write(&files.cert, cert).unwrap();
        std::fs::write(&files.key, key).unwrap();
        std::fs::write(&files.ca, ca).unwrap();
        files
    }
}
