//! `--stats`: bytes and messages each way, connections, duration and
//! throughput, printed at the end; and the live progress line on stderr
//! while it is a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the progress line is redrawn.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// The counters every session adds to.
#[derive(Debug)]
pub(crate) struct Stats {
    started: Instant,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    connections: AtomicU64,
}

impl Stats {
    /// Counters starting now.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        })
    }

    /// A message of `len` bytes received.
    pub(crate) fn received(&self, len: usize) {
        self.bytes_in.fetch_add(len as u64, Ordering::Relaxed);
        self.messages_in.fetch_add(1, Ordering::Relaxed);
    }

    /// A message of `len` bytes sent.
    pub(crate) fn sent(&self, len: usize) {
        self.bytes_out.fetch_add(len as u64, Ordering::Relaxed);
        self.messages_out.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection (or, for UDP, a socket) opened.
    pub(crate) fn connected(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// The progress line's text.
    fn progress(&self) -> String {
        format!(
            "sent {} in {} messages, received {} in {} messages",
            HumanBytes(self.bytes_out.load(Ordering::Relaxed)),
            self.messages_out.load(Ordering::Relaxed),
            HumanBytes(self.bytes_in.load(Ordering::Relaxed)),
            self.messages_in.load(Ordering::Relaxed),
        )
    }

    /// The summary printed at the end.
    pub(crate) fn summary(&self) -> String {
        let elapsed = self.started.elapsed();
        let secs = elapsed.as_secs_f64().max(1e-6);
        let total = self.bytes_in.load(Ordering::Relaxed) + self.bytes_out.load(Ordering::Relaxed);
        let connections = self.connections.load(Ordering::Relaxed);
        format!(
            "{}; {connections} connection{}; {:.3} s; {}/s",
            self.progress(),
            if connections == 1 { "" } else { "s" },
            elapsed.as_secs_f64(),
            HumanBytes((total as f64 / secs) as u64),
        )
    }
}

/// The live progress line, drawn while it exists (only on a terminal).
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    /// Starts the progress line when stderr is a terminal.
    pub(crate) fn start(stats: &Arc<Stats>) -> Option<Self> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let ticker = tokio::spawn({
            let bar = bar.clone();
            let stats = Arc::clone(stats);
            async move {
                let mut tick = tokio::time::interval(PROGRESS_INTERVAL);
                loop {
                    tick.tick().await;
                    bar.set_message(stats.progress());
                    bar.tick();
                }
            }
        });
        Some(Self { bar, ticker })
    }

    /// Removes the line.
    pub(crate) fn finish(self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_adds_up_both_ways() {
        let stats = Stats::new();
        stats.connected();
        stats.sent(1000);
        stats.received(24);
        stats.received(0);
        let text = stats.summary();
        assert!(
            text.starts_with(
                "sent 1000 B in 1 messages, received 24 B in 2 messages; 1 connection; "
            ),
            "{text}"
        );
        assert!(text.ends_with("/s"), "{text}");
    }
}
