//! `cargo xtask fuzz [--seconds N] [TARGET]`: runs the fuzz targets in `fuzz/`.
//!
//! With cargo-fuzz installed (`cargo install cargo-fuzz`), each target runs under
//! libFuzzer for N seconds (default 30) with `-rss_limit_mb=2048`. The machine
//! has only a stable toolchain, so targets build with `--sanitizer none` (no
//! AddressSanitizer, which needs nightly; the code under test is safe Rust).
//! Where cargo-fuzz is missing or cannot build the targets, the same bodies
//! (`sock_test::fuzz`, `sock_websocket::fuzzing`) run for N seconds each
//! as property tests on random inputs instead. Either way the first line printed says which mode ran.
//! Nothing is installed.

use std::process::{Command, Stdio};

use crate::{cargo, check_options, number_after, project_root, run_step};

/// Every target in `fuzz/fuzz_targets`, each named after its body in
/// `sock_test::fuzz`, or (`websocket_*`) in `sock_websocket::fuzzing`.
const TARGETS: &[&str] = &[
    "length_prefixed",
    "line",
    "data_reader",
    "host_name",
    "service_name",
    "server_bytes",
    "websocket_frames",
    "websocket_request",
    "websocket_response",
    "websocket_deflate",
];

/// The package whose `tests/fuzz_bodies.rs` runs a target's body.
fn body_package(target: &str) -> &'static str {
    if target.starts_with("websocket_") {
        "sock-websocket"
    } else {
        "sock-codec"
    }
}

const DEFAULT_SECONDS: u64 = 30;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    check_options(args, &["--seconds"])?;
    let mut seconds = DEFAULT_SECONDS;
    let mut targets: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--seconds" {
            seconds = number_after("--seconds", rest.next(), 1..=86_400)?;
        } else if let Some(target) = TARGETS.iter().find(|t| **t == arg) {
            targets.push(target);
        } else {
            return Err(format!(
                "unknown fuzz target {arg:?}; the targets are {}",
                TARGETS.join(", ")
            ));
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }

    if !cargo_fuzz_installed() {
        println!(
            "xtask fuzz: cargo-fuzz is not installed (`cargo install cargo-fuzz`): running \
             the fuzz bodies as property tests instead, {seconds} s each"
        );
        return property_fallback(&targets, seconds);
    }
    // Build first, so that a toolchain that cannot build the targets falls back
    // instead of being reported as a finding.
    eprintln!("\n==> building the fuzz targets with cargo-fuzz");
    for target in &targets {
        let built = cargo(&["fuzz", "build", "--sanitizer", "none", target])
            .status()
            .map_err(|e| format!("cargo fuzz build: could not start: {e}"))?;
        if !built.success() {
            println!(
                "xtask fuzz: cargo-fuzz could not build {target} on this toolchain ({built}): \
                 running the fuzz bodies as property tests instead, {seconds} s each"
            );
            return property_fallback(&targets, seconds);
        }
    }

    println!("xtask fuzz: mode cargo-fuzz (libFuzzer, --sanitizer none), {seconds} s per target");
    for target in &targets {
        let mut cmd = cargo(&["fuzz", "run", "--sanitizer", "none", target, "--"]);
        cmd.arg(format!("-max_total_time={seconds}"))
            .arg("-rss_limit_mb=2048");
        run_step(&format!("fuzz {target} for {seconds} s"), cmd)
            .map_err(|e| format!("{e}\nthe crashing input is under fuzz/artifacts/{target}/"))?;
    }
    println!("xtask fuzz: {} targets ran, no crash", targets.len());
    Ok(())
}

/// Whether `cargo fuzz` runs here.
fn cargo_fuzz_installed() -> bool {
    cargo(&["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the bodies as time-bounded property tests (each body's crate's
/// `tests/it/fuzz_bodies.rs`).
fn property_fallback(targets: &[&str], seconds: u64) -> Result<(), String> {
    println!("xtask fuzz: mode property tests (proptest), {seconds} s per body");
    for target in targets {
        let mut cmd: Command = cargo(&[
            "test",
            "--package",
            body_package(target),
            "--release",
            "--test",
            "it",
            "--",
            "--nocapture",
            "--exact",
        ]);
        cmd.arg(format!("fuzz_bodies::fuzz_{target}"))
            .env("SOCK_FUZZ_SECONDS", seconds.to_string())
            .current_dir(project_root());
        run_step(&format!("fuzz body {target} for {seconds} s"), cmd)?;
    }
    println!("xtask fuzz: {} bodies ran, no failure", targets.len());
    Ok(())
}
