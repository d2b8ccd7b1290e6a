//! Running the built `sockcat` and its peers (itself, Python, OpenSSL,
//! ncat, socat) as child processes: their output gathered as it comes,
//! every wait bounded by [`TIMEOUT`], listeners' ports read from what they
//! print; and test certificates written to a temporary directory.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sock_test::certs::{Ca, Leaf};

/// The bound on every wait: generous, since the machine may be busy.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How often a wait for a process to exit looks again.
const POLL: Duration = Duration::from_millis(10);

/// A command running the built `sockcat` with `args`.
pub fn sockcat(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sockcat"));
    cmd.args(args);
    cmd
}

/// A Python program run with `python3 -c`, its arguments after it.
pub fn python(program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg("-u").arg("-c").arg(program).args(args);
    cmd
}

/// Whether `program` is on `PATH`.
pub fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// A loopback TCP port no one listens on: bound, noted, let go.
pub fn closed_tcp_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A loopback UDP port no one listens on.
pub fn closed_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

/// A process with its stdin, stdout and stderr piped; what it prints is
/// gathered by threads as it comes.
pub struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout_chunks: Option<Receiver<Vec<u8>>>,
    stdout: Vec<u8>,
    stderr_lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Proc {
    /// Starts `cmd`.
    pub fn spawn(cmd: &mut Command) -> Self {
        let name = format!("{:?}", cmd.get_program());
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let mut out = child.stdout.take().unwrap();
        let (chunk_tx, chunk_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = vec![0; 64 * 1024];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || chunk_tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let (line_tx, line_rx) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let all = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut pending = Vec::new();
            let mut buf = [0; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                all.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
                pending.extend_from_slice(&buf[..n]);
                while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    let _ = line_tx.send(String::from_utf8_lossy(&line).trim_end().to_owned());
                }
            }
        });
        Self {
            name,
            stdin: child.stdin.take(),
            child,
            stdout_chunks: Some(chunk_rx),
            stdout: Vec::new(),
            stderr_lines: line_rx,
            stderr,
        }
    }

    /// Waits for a line of stderr containing `needle`, and gives it.
    pub fn wait_stderr(&self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self
                .stderr_lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "{}: no stderr line with {needle:?} within {TIMEOUT:?}; stderr:\n{}",
                    self.name,
                    self.stderr()
                ),
            }
        }
    }

    /// The port of `listening on ADDR:PORT` (sockcat) or `ACCEPT ADDR:PORT`
    /// (`openssl s_server`) on stderr or stdout.
    pub fn port(&self) -> u16 {
        let line = self.wait_stderr("listening on ");
        parse_port(&line)
    }

    /// The address of a `sockcat listen` on loopback.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port()))
    }

    /// Writes to stdin.
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes stdin.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits until stdout has at least `len` bytes, and gives them all.
    pub fn wait_stdout_len(&mut self, len: usize) -> &[u8] {
        self.wait_stdout(|out| out.len() >= len)
    }

    /// Waits until stdout contains `needle`.
    pub fn wait_stdout_text(&mut self, needle: &str) -> String {
        let needle = needle.as_bytes().to_vec();
        let out = self.wait_stdout(|out| out.windows(needle.len().max(1)).any(|w| w == needle));
        String::from_utf8_lossy(out).into_owned()
    }

    /// Waits until what stdout gave so far satisfies `done`.
    pub fn wait_stdout(&mut self, done: impl Fn(&[u8]) -> bool) -> &[u8] {
        let deadline = Instant::now() + TIMEOUT;
        while !done(&self.stdout) {
            let chunks = self.stdout_chunks.as_ref().expect("stdout is read");
            match chunks.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(chunk) => self.stdout.extend_from_slice(&chunk),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: stdout not as expected within {TIMEOUT:?}: {:?}\nstderr:\n{}",
                    self.name,
                    String::from_utf8_lossy(&self.stdout),
                    self.stderr()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: stdout ended before it was as expected: {:?}\nstderr:\n{}",
                    self.name,
                    String::from_utf8_lossy(&self.stdout),
                    self.stderr()
                ),
            }
        }
        &self.stdout
    }

    /// Stops reading stdout: its pipe is closed once the reader is gone.
    pub fn close_stdout(&mut self) {
        self.stdout_chunks = None;
    }

    /// Everything on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the process to exit (killing it and failing past
    /// [`TIMEOUT`]), and gives its status, all of stdout and stderr.
    pub fn finish(mut self) -> Finished {
        self.stdin = None;
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} still running after {TIMEOUT:?}; stdout {:?}; stderr:\n{}",
                    self.name,
                    String::from_utf8_lossy(&self.stdout),
                    self.stderr()
                );
            }
            thread::sleep(POLL);
        };
        if let Some(chunks) = self.stdout_chunks.take() {
            // The pipe ends with the process (or its children): bounded.
            while let Ok(chunk) = chunks.recv_timeout(TIMEOUT) {
                self.stdout.extend_from_slice(&chunk);
            }
        }
        // Give the stderr thread the end of the pipe.
        let end = Instant::now() + TIMEOUT;
        while self
            .stderr_lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .is_ok()
        {}
        Finished {
            status,
            stdout: std::mem::take(&mut self.stdout),
            stderr: self.stderr(),
        }
    }

    /// Kills the process (a server that runs until stopped).
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A finished process.
#[derive(Debug)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// All of stdout.
    pub stdout: Vec<u8>,
    /// All of stderr.
    pub stderr: String,
}

impl Finished {
    /// The exit code (panics, showing stderr, if killed by a signal).
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {:?}\n{}", self.status, self.stderr))
    }

    /// Stdout as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts the exit code, showing stderr when it differs.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "exit status {:?}; stdout {:?}; stderr:\n{}",
            self.status,
            self.text(),
            self.stderr
        );
        self
    }

    /// Asserts that stderr contains each of `needles`.
    pub fn assert_stderr(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}:\n{}",
                self.stderr
            );
        }
        assert!(
            !self.stderr.contains("panicked"),
            "a panic:\n{}",
            self.stderr
        );
        self
    }
}

/// Runs `cmd` with `input` on stdin (then closed) to its end.
pub fn run(cmd: &mut Command, input: &[u8]) -> Finished {
    let mut proc = Proc::spawn(cmd);
    let mut stdin = proc.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        // A process that exits early closes the pipe: not an error here.
        let _ = stdin.write_all(&input);
    });
    let finished = proc.finish();
    writer.join().unwrap();
    finished
}

/// The port at the end of the first `ADDR:PORT` in `line`.
pub fn parse_port(line: &str) -> u16 {
    line.split_whitespace()
        .filter_map(|word| word.rsplit_once(':'))
        .find_map(|(_, port)| {
            port.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// Every byte value once.
pub fn all_bytes() -> Vec<u8> {
    (0..=255).collect()
}

/// Test certificates on disk: a CA, a server certificate for `localhost`
/// and `127.0.0.1`, a client certificate, each with its key.
pub struct Certs {
    dir: tempfile::TempDir,
    /// The CA.
    pub ca: Ca,
}

impl Certs {
    /// Makes them.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("Sockcat Test CA");
        let certs = Self { dir, ca };
        std::fs::write(certs.path("ca.pem"), certs.ca.pem()).unwrap();
        certs.write_leaf("server", &certs.ca.server(&["localhost", "127.0.0.1"]));
        certs.write_leaf("client", &certs.ca.client("sockcat test client"));
        certs
    }

    /// Writes `leaf` as `NAME.pem` and `NAME.key`.
    pub fn write_leaf(&self, name: &str, leaf: &Leaf) {
        std::fs::write(self.path(&format!("{name}.pem")), &leaf.chain_pem).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), &leaf.key_pem).unwrap();
    }

    /// A file in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file's path as text, for command lines.
    pub fn arg(&self, name: &str) -> String {
        path_arg(&self.path(name))
    }
}

/// A path as a command-line argument.
pub fn path_arg(path: &Path) -> String {
    path.to_str().expect("temporary paths are UTF-8").to_owned()
}
