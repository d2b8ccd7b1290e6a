//! OpenSSL's command-line tool as a peer no one here wrote: making PKCS#12
//! files and RSA keys, and running `s_server` and `s_client`, each wait
//! bounded.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::LIMIT;

fn command() -> Command {
    Command::new("openssl")
}

const MISSING: &str = "openssl is installed (cargo xtask test installs it)";

/// Runs `openssl args…`, panicking with its error output if it fails.
pub fn openssl(args: &[&str]) -> Vec<u8> {
    let out = command().args(args).output().expect(MISSING);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Writes `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// An RSA key of `bits` made by OpenSSL, PKCS#8 PEM.
pub fn rsa_key_pem(bits: u32) -> String {
    let out = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        &format!("rsa_keygen_bits:{bits}"),
    ]);
    String::from_utf8(out).unwrap()
}

/// `openssl pkcs12 -export` of a certificate, its key and `extra` (PEM
/// certificates), with `password` and any further `flags` (`-legacy`, …).
pub fn export_pkcs12(
    dir: &Path,
    name: &str,
    cert_pem: &str,
    key_pem: Option<&str>,
    extra: &str,
    password: &str,
    flags: &[&str],
) -> PathBuf {
    let cert = write(dir, &format!("{name}.cert.pem"), cert_pem);
    let out = dir.join(format!("{name}.p12"));
    let pass = format!("pass:{password}");
    let mut args = vec![
        "pkcs12",
        "-export",
        "-in",
        cert.to_str().unwrap(),
        "-passout",
        &pass,
        "-out",
        out.to_str().unwrap(),
    ];
    let key;
    match key_pem {
        Some(pem) => {
            key = write(dir, &format!("{name}.key.pem"), pem);
            args.extend(["-inkey", key.to_str().unwrap()]);
        }
        None => args.push("-nokeys"),
    }
    let extra_path;
    if !extra.is_empty() {
        extra_path = write(dir, &format!("{name}.extra.pem"), extra);
        args.extend(["-certfile", extra_path.to_str().unwrap()]);
    }
    args.extend(flags);
    openssl(&args);
    out
}

/// Starts `openssl args…` with its output lines (both streams) sent to
/// the receiver as they come.
fn spawn(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(MISSING);
    let (tx, lines) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    (child, lines)
}

/// A running `openssl s_server`, killed on drop.
pub struct SServer {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub port: u16,
    /// Every line it printed so far.
    pub seen: Vec<String>,
}

impl SServer {
    /// Starts `openssl s_server -accept 127.0.0.1:0 args…` and waits for it
    /// to say which port it listens on.
    pub fn start(args: &[&str]) -> Self {
        let mut all = vec!["s_server", "-accept", "127.0.0.1:0", "-naccept", "1"];
        all.extend(args);
        let (child, lines) = spawn(&all);
        let mut server = Self {
            child,
            lines,
            port: 0,
            seen: Vec::new(),
        };
        let line = server
            .wait_for("ACCEPT")
            .unwrap_or_else(|| panic!("s_server did not start: {:?}", server.seen));
        server.port = line.rsplit(':').next().unwrap().parse().unwrap();
        server
    }

    /// Waits (at most [`LIMIT`]) for a line containing `needle`; `None` if
    /// the server ended or the time ran out first.
    pub fn wait_for(&mut self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openssl s_client args…`, sends `input` and closes its input once
/// it has said it is connected; gives back everything it printed. Killed
/// after [`LIMIT`].
pub fn s_client(args: &[&str], input: &str) -> String {
    let mut all = vec!["s_client"];
    all.extend(args);
    let (mut child, lines) = spawn(&all);
    let mut stdin = child.stdin.take().unwrap();
    let deadline = Instant::now() + LIMIT;
    let mut seen = Vec::new();
    let mut sent = false;
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        // The handshake is done once it shows the verification result.
        if !sent && line.contains("Verify return code") {
            stdin.write_all(input.as_bytes()).unwrap();
            stdin.flush().unwrap();
            sent = true;
        }
        seen.push(line);
        if sent
            && seen
                .iter()
                .any(|l| l.contains("closed") || l.contains("DONE"))
        {
            break;
        }
    }
    drop(stdin);
    let stop = Instant::now() + Duration::from_secs(2);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < stop {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(50)) {
            seen.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    seen.extend(lines.try_iter());
    seen.join("\n")
}
