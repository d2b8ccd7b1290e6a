//! A server under attack, as a child process: started with its arguments,
//! watched (alive, resident memory), and stopped by closing its input.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::server::ServerArgs;

/// A running server.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

/// How a server came out of an attack.
pub(crate) struct Outcome {
    /// `None` while it ran to the end; else how it died.
    pub(crate) died: Option<String>,
    /// Its peak resident memory, in bytes.
    pub(crate) peak_rss: u64,
}

impl Server {
    /// Starts `args` and waits for it to listen.
    pub(crate) async fn start(args: &ServerArgs) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(args.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start the {} server: {e}", args.kind))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .map_err(|_| format!("the {} server did not start", args.kind))?
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("the {} server said {first:?}", args.kind))?;
        Ok(Self { child, port })
    }

    /// Its resident memory now and at its peak (bytes), from `/proc`.
    pub(crate) fn rss(&self) -> (u64, u64) {
        let Some(pid) = self.child.id() else {
            return (0, 0);
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kib| kib * 1024)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Whether it still runs; if not, how it ended.
    pub(crate) fn died(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(None) => None,
            Ok(Some(status)) => Some(describe(status)),
            Err(e) => Some(e.to_string()),
        }
    }

    /// Stops it (closing its input asks it to shut down) and says how it did.
    pub(crate) async fn stop(mut self) -> Outcome {
        let died = self.died();
        let (_, peak_rss) = self.rss();
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        Outcome { died, peak_rss }
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(signal) => format!("killed by signal {signal}"),
        None => format!("exited with {status}"),
    }
}
