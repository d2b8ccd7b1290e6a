//! `cargo xtask bench`: run the criterion benches and print ours ÷ peer.
//!
//! Every bench group measures two functions in the same run, `peer` (the
//! hand-assembled tokio / tokio-util / tokio-rustls baseline) and `ours`. Both
//! process the same work per iteration, so the ratio of their times per
//! iteration is the ratio of their throughputs: `ratio = peer time ÷ ours time`, above 1 when
//! ours is faster. A group may also measure `floor`, the same work with no
//! library at all; `peer time ÷ floor time` is then the best ratio any library
//! could reach there, printed as the group's ceiling.

use std::fmt::Write as _;
use std::path::Path;

use crate::{cargo, check_options, project_root, run_step};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    check_options(args, &["--quick"])?;
    let quick = args.iter().any(|a| a == "--quick");
    let groups: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();

    let mut cmd = cargo(&["bench", "--package", "sock-benches"]);
    if !groups.is_empty() {
        cmd.arg("--");
        cmd.args(&groups);
    }
    if quick {
        cmd.env("SOCK_BENCH_QUICK", "1");
    }
    run_step("criterion benches", cmd)?;

    let criterion_dir = project_root().join("target/criterion");
    let rows = collect(&criterion_dir, &groups);
    if rows.is_empty() {
        println!(
            "no bench results with both `peer` and `ours` under {}",
            criterion_dir.display()
        );
        return Ok(());
    }
    let table = render(&rows);
    println!("\n{table}");
    let report = project_root().join("target/bench-report.md");
    std::fs::write(&report, &table).map_err(|e| format!("write {}: {e}", report.display()))?;
    println!(
        "written to {}; plots in target/criterion/report/index.html",
        report.display()
    );
    Ok(())
}

/// One group's result: median nanoseconds per iteration for peer and ours (and
/// the floor, where the group measures one).
#[derive(Debug, PartialEq)]
struct Row {
    group: String,
    peer_ns: f64,
    ours_ns: f64,
    floor_ns: Option<f64>,
}

fn collect(dir: &Path, only: &[&str]) -> Vec<Row> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut rows: Vec<Row> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let group = e.file_name().to_string_lossy().into_owned();
            if !only.is_empty() && !only.iter().any(|g| group.contains(g)) {
                return None;
            }
            let median = |f: &str| median_ns(&e.path().join(f).join("new/estimates.json"));
            Some(Row {
                peer_ns: median("peer")?,
                ours_ns: median("ours")?,
                floor_ns: median("floor"),
                group,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.group.cmp(&b.group));
    rows
}

/// The median's point estimate from a criterion `estimates.json`: on a shared
/// virtual machine a few samples land on a busy host, and the median of the
/// samples is not pulled by them as the mean is.
fn median_ns(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_median(&text)
}

fn parse_median(json: &str) -> Option<f64> {
    let median = &json[json.find("\"median\"")?..];
    let rest = &median[median.find("\"point_estimate\"")? + "\"point_estimate\"".len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| bench | peer (per iteration) | ours (per iteration) | ratio (ours ÷ peer throughput) | ceiling (floor ÷ peer throughput) |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        let ceiling = r
            .floor_ns
            .map_or_else(|| "–".to_owned(), |f| format!("{:.2}", r.peer_ns / f));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} | {ceiling} |",
            r.group,
            human(r.peer_ns),
            human(r.ours_ns),
            r.peer_ns / r.ours_ns
        );
    }
    out
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_read_from_criterion_estimates() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.5e3,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":8.0,"upper_bound":10.0},"point_estimate":9.5e2,"standard_error":0.1}}"#;
        assert_eq!(parse_median(json), Some(950.0));
        assert_eq!(parse_median(r#"{"mean":{"point_estimate":1.0}}"#), None);
    }

    #[test]
    fn ratio_is_peer_time_over_ours() {
        let table = render(&[Row {
            group: "tcp_bulk".into(),
            peer_ns: 2000.0,
            ours_ns: 1000.0,
            floor_ns: None,
        }]);
        assert!(
            table.contains("| tcp_bulk | 2.00 µs | 1.00 µs | 2.00 | – |"),
            "{table}"
        );
    }

    #[test]
    fn ceiling_is_peer_time_over_floor() {
        let table = render(&[Row {
            group: "udp_datagrams".into(),
            peer_ns: 900.0,
            ours_ns: 450.0,
            floor_ns: Some(360.0),
        }]);
        assert!(
            table.contains("| udp_datagrams | 900 ns | 450 ns | 2.00 | 2.50 |"),
            "{table}"
        );
    }
}
