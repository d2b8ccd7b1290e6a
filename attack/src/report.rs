//! The table the suite prints: per attack, the hostile connections, the
//! well-behaved client's latency, the server's peak memory, what was lost or
//! corrupted, and the verdict.

use std::fmt::Write as _;
use std::time::Duration;

use crate::probe::ProbeStats;

/// One attack's result.
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) hostile: usize,
    pub(crate) stats: ProbeStats,
    pub(crate) died: Option<String>,
    pub(crate) peak_rss: u64,
    pub(crate) loss_allowed: bool,
    /// The p99 latency the row must stay under; `None` in the short form,
    /// which runs inside `cargo xtask test` on machines of any load and
    /// judges only what the server must never do (die, lose, corrupt).
    pub(crate) p99_target: Option<Duration>,
}

impl Row {
    /// Why the row failed, if it did.
    pub(crate) fn failure(&self) -> Option<String> {
        if let Some(died) = &self.died {
            return Some(format!("server {died}"));
        }
        if self.stats.corrupted > 0 {
            return Some(format!("{} corrupted", self.stats.corrupted));
        }
        if self.stats.lost > 0 && !self.loss_allowed {
            let why = self.stats.first_error.as_deref().unwrap_or("");
            return Some(format!("{} lost ({why})", self.stats.lost));
        }
        match (self.stats.quantile(0.99), self.p99_target) {
            (None, _) => Some("no request succeeded".into()),
            (Some(p99), Some(target)) if p99 > target => {
                Some(format!("p99 {} over {}", ms(p99), ms(target)))
            }
            _ => None,
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The machine the run was on, in a line.
pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), Linux {kernel}, loopback")
}

/// The table, as Markdown.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Machine: {}.\n", machine());
    out.push_str(
        "| attack | hostile | well-behaved p50 / p99 | server peak RSS | lost / corrupted | verdict |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in rows {
        let latency = match (row.stats.quantile(0.5), row.stats.quantile(0.99)) {
            (Some(p50), Some(p99)) => format!("{} / {}", ms(p50), ms(p99)),
            _ => "—".into(),
        };
        let verdict = match row.failure() {
            None if row.stats.lost > 0 => {
                format!("pass ({} datagrams dropped by the kernel)", row.stats.lost)
            }
            None => "pass".into(),
            Some(why) => format!("**FAIL**: {why}"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} MiB | {} / {} | {} |",
            row.name,
            row.hostile,
            latency,
            row.peak_rss as f64 / (1024.0 * 1024.0),
            row.stats.lost,
            row.stats.corrupted,
            verdict
        );
    }
    out
}
