//! `cargo xtask bench`: run the criterion benches and print ours ÷ peer.
//!
//! Every bench group measures two functions in the same run, `peer` (the
//! hand-assembled tokio / tokio-util / tokio-rustls baseline) and `ours`. Both
//! process the same work per iteration, so the ratio of their times per
//! iteration is the ratio of their throughputs: `ratio = peer time ÷ ours time`, above 1 when
//! ours is faster. A group may also measure `floor`, the same work with no
//! library at all; `peer time ÷ floor time` is then the best ratio any library
//! could reach there, printed as the group's ceiling.
//!
//! A group may measure more peers than one (the WebSocket groups also run
//! fastwebsockets): each function that is none of `peer`, `ours` and `floor`
//! is listed under the table with ours ÷ it.
//!
//! Every run (but `--quick` ones) appends its ratios to
//! `target/bench-history.csv` and redraws `target/bench-history/GROUP.svg`,
//! the ratio over the last runs.
//!
//! The `memory` target measures bytes per connection instead of time; its
//! line (`target/bench-memory.md`, from the last run) follows the table.
//!
//! On a shared machine a ratio moves from run to run; `--runs N` repeats the
//! whole run N times and reports, per group, the run with the median ratio
//! and the lowest and highest ratio seen.

use std::fmt::Write as _;
use std::path::Path;

use crate::{cargo, check_options, number_after, project_root, run_step};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    check_options(args, &["--quick", "--runs"])?;
    let mut quick = false;
    let mut runs = 1;
    let mut groups: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => runs = number_after("--runs", rest.next(), 1..=20)?,
            group => groups.push(group),
        }
    }

    // The PKCS#11 group signs on a SoftHSM2 token, as the tests do.
    crate::test::install_missing_tools()?;
    let criterion_dir = project_root().join("target/criterion");
    // Written by the `memory` target when it runs (bytes, not time).
    let memory_report = project_root().join("target/bench-memory.md");
    let _ = std::fs::remove_file(&memory_report);
    let mut results: Vec<Vec<Row>> = Vec::new();
    for run in 1..=runs {
        let mut cmd = cargo(&["bench", "--package", "sock-benches"]);
        if !groups.is_empty() {
            // Criterion takes one filter, a regular expression.
            cmd.arg("--");
            cmd.arg(groups.join("|"));
        }
        if quick {
            cmd.env("SOCK_BENCH_QUICK", "1");
        }
        run_step(&format!("criterion benches, run {run} of {runs}"), cmd)?;
        let rows = collect(&criterion_dir, &groups);
        if !quick {
            let ratios: Vec<(String, f64)> =
                rows.iter().map(|r| (r.group.clone(), r.ratio())).collect();
            crate::history::record(&project_root().join("target"), &ratios)?;
        }
        results.push(rows);
    }

    let rows = summarize(&results);
    if rows.is_empty() {
        println!(
            "no bench results with both `peer` and `ours` under {}",
            criterion_dir.display()
        );
        return Ok(());
    }
    let mut table = render(&rows, runs);
    if let Ok(memory) = std::fs::read_to_string(&memory_report) {
        // The last run's figure (the target rewrites it every run).
        table.push('\n');
        table.push_str(&memory);
    }
    println!("\n{table}");
    let report = project_root().join("target/bench-report.md");
    std::fs::write(&report, &table).map_err(|e| format!("write {}: {e}", report.display()))?;
    println!(
        "written to {}; plots in target/criterion/report/index.html, ratio over the last \
         runs in target/bench-history/GROUP.svg",
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
    /// Other peers the group measured: their function name and median.
    others: Vec<(String, f64)>,
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
                others: other_peers(&e.path()),
                group,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.group.cmp(&b.group));
    rows
}

/// The functions of a group's folder other than `peer`, `ours`, `floor`
/// (and criterion's `report`), with their medians, sorted by name.
fn other_peers(group: &Path) -> Vec<(String, f64)> {
    let Ok(entries) = std::fs::read_dir(group) else {
        return Vec::new();
    };
    let mut others: Vec<(String, f64)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if ["peer", "ours", "floor", "report"].contains(&name.as_str()) {
                return None;
            }
            Some((name, median_ns(&e.path().join("new/estimates.json"))?))
        })
        .collect();
    others.sort_by(|a, b| a.0.cmp(&b.0));
    others
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

/// One group over every run: the run with the median ratio, and the lowest
/// and highest ratio seen.
#[derive(Debug, PartialEq)]
struct Summary {
    row: Row,
    ratios: Vec<f64>,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.peer_ns / self.ours_ns
    }
}

/// Groups the runs' rows by group; each summary keeps the run whose ratio is
/// the median (the lower middle one for an even count).
fn summarize(runs: &[Vec<Row>]) -> Vec<Summary> {
    let mut by_group: Vec<(String, Vec<&Row>)> = Vec::new();
    for row in runs.iter().flatten() {
        match by_group.iter_mut().find(|(g, _)| *g == row.group) {
            Some((_, rows)) => rows.push(row),
            None => by_group.push((row.group.clone(), vec![row])),
        }
    }
    by_group.sort_by(|a, b| a.0.cmp(&b.0));
    by_group
        .into_iter()
        .map(|(_, mut rows)| {
            rows.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
            let ratios = rows.iter().map(|r| r.ratio()).collect();
            let mid = rows[(rows.len() - 1) / 2];
            Summary {
                row: Row {
                    group: mid.group.clone(),
                    peer_ns: mid.peer_ns,
                    ours_ns: mid.ours_ns,
                    floor_ns: mid.floor_ns,
                    others: mid.others.clone(),
                },
                ratios,
            }
        })
        .collect()
}

fn render(rows: &[Summary], runs: u64) -> String {
    let mut out = if runs == 1 {
        String::from(
            "| bench | peer (per iteration) | ours (per iteration) | ratio (ours ÷ peer throughput) | ceiling (floor ÷ peer throughput) |\n|---|---|---|---|---|\n",
        )
    } else {
        format!(
            "| bench | peer (per iteration) | ours (per iteration) | ratio (ours ÷ peer throughput), median of {runs} runs | lowest–highest | ceiling (floor ÷ peer throughput) |\n|---|---|---|---|---|---|\n",
        )
    };
    let mut notes = String::new();
    for Summary { row: r, ratios } in rows {
        for (name, ns) in &r.others {
            let _ = writeln!(
                notes,
                "- {}: {name} {}, ours ÷ {name} throughput {:.2}",
                r.group,
                human(*ns),
                ns / r.ours_ns
            );
        }
        let ceiling = r
            .floor_ns
            .map_or_else(|| "–".to_owned(), |f| format!("{:.2}", r.peer_ns / f));
        let spread = if runs == 1 {
            String::new()
        } else {
            let (lo, hi) = (ratios[0], ratios[ratios.len() - 1]);
            format!(" {lo:.2}–{hi:.2} |")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} |{spread} {ceiling} |",
            r.group,
            human(r.peer_ns),
            human(r.ours_ns),
            r.ratio()
        );
    }
    if !notes.is_empty() {
        out.push_str("\nOther peers measured in the same runs (the median run's figures):\n\n");
        out.push_str(&notes);
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

    fn row(group: &str, peer_ns: f64, ours_ns: f64, floor_ns: Option<f64>) -> Row {
        Row {
            group: group.into(),
            peer_ns,
            ours_ns,
            floor_ns,
            others: Vec::new(),
        }
    }

    #[test]
    fn other_peers_are_listed_under_the_table() {
        let mut r = row("websocket_echo_64", 2000.0, 1000.0, None);
        r.others.push(("fastwebsockets".into(), 500.0));
        let table = render(&summarize(&[vec![r]]), 1);
        assert!(
            table.contains(
                "- websocket_echo_64: fastwebsockets 500 ns, ours ÷ fastwebsockets throughput 0.50"
            ),
            "{table}"
        );
    }

    #[test]
    fn ratio_is_peer_time_over_ours() {
        let rows = summarize(&[vec![row("tcp_bulk", 2000.0, 1000.0, None)]]);
        let table = render(&rows, 1);
        assert!(
            table.contains("| tcp_bulk | 2.00 µs | 1.00 µs | 2.00 | – |"),
            "{table}"
        );
    }

    #[test]
    fn ceiling_is_peer_time_over_floor() {
        let rows = summarize(&[vec![row("udp_datagrams", 900.0, 450.0, Some(360.0))]]);
        let table = render(&rows, 1);
        assert!(
            table.contains("| udp_datagrams | 900 ns | 450 ns | 2.00 | 2.50 |"),
            "{table}"
        );
    }

    #[test]
    fn several_runs_report_the_median_run_and_the_range() {
        let runs = [
            vec![row("a", 300.0, 100.0, None), row("b", 100.0, 100.0, None)],
            vec![row("a", 200.0, 100.0, None)],
            vec![row("a", 150.0, 100.0, None), row("b", 120.0, 100.0, None)],
        ];
        let rows = summarize(&runs);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].ratios, [1.5, 2.0, 3.0]);
        assert_eq!(rows[0].row.peer_ns, 200.0, "the median run");
        assert_eq!(rows[1].row.peer_ns, 100.0, "the lower middle of two");
        let table = render(&rows, 3);
        assert!(table.contains("median of 3 runs"), "{table}");
        assert!(
            table.contains("| a | 200 ns | 100 ns | 2.00 | 1.50–3.00 | – |"),
            "{table}"
        );
        assert!(
            table.contains("| b | 100 ns | 100 ns | 1.00 | 1.00–1.20 | – |"),
            "{table}"
        );
    }
}
