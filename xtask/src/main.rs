//! `cargo xtask`: the project's tasks, so that a developer and CI run the same thing.
//!
//! ```text
//! cargo xtask test [--stress]   fmt check, clippy -D warnings, tests and doc tests,
//!                               benches once each, every example's smoke run;
//!                               --stress adds the #[ignore]d stress_* tests
//! cargo xtask ci                the same as `test` (what .ci/run calls)
//! cargo xtask bench [--quick] [--runs N] [GROUP]
//!                               criterion benches, then the peer/ours ratio table
//!                               (also written to target/bench-report.md)
//! cargo xtask attack [--short] [--only NAME-PART]
//!                               the attack suite: hostile clients against servers
//!                               built with sock, a well-behaved client timed
//!                               meanwhile (table also in target/attack-report.md)
//! cargo xtask fuzz [--seconds N] [TARGET]
//!                               the fuzz targets in fuzz/, N seconds each (30):
//!                               with cargo-fuzz if installed, else their bodies
//!                               as property tests
//! ```

mod attack;
mod bench;
mod fuzz;
mod history;
#[cfg(test)]
mod module_graph;
mod test;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str =
    "usage: cargo xtask <test [--stress] | ci | bench [--quick] [--runs N] [GROUP] \
                     | attack [--short] [--only NAME-PART] | fuzz [--seconds N] [TARGET]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("ci") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("attack") => attack::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some(other) => Err(format!("unknown task {other:?}\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A `cargo` command run from the workspace root, using the cargo that runs us.
fn cargo(args: &[&str]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args(args).current_dir(project_root());
    cmd
}

/// Runs a command to completion, failing with its description if it fails.
fn run_step(title: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("\n==> {title}");
    let status = cmd
        .status()
        .map_err(|e| format!("{title}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{title}: failed ({status})"))
    }
}

/// Rejects options a task does not know.
/// The number given after `option`, which must lie in `range`.
fn number_after(
    option: &str,
    value: Option<&String>,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{option} needs a number\n{USAGE}"))?;
    value
        .parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "{option} {value:?}: expected a number from {} to {}",
                range.start(),
                range.end()
            )
        })
}

fn check_options(args: &[String], known: &[&str]) -> Result<(), String> {
    match args
        .iter()
        .find(|a| a.starts_with("--") && !known.contains(&a.as_str()))
    {
        Some(bad) => Err(format!("unknown option {bad:?}\n{USAGE}")),
        None => Ok(()),
    }
}
