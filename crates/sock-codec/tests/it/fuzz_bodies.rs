//! The fuzz targets' bodies (`sock_test::fuzz`) run on random bytes: no
//! decoder or parser panics or breaks its invariants on any input.
//!
//! A normal `cargo test` runs a few hundred cases per body. `cargo xtask fuzz`
//! runs them for longer where cargo-fuzz is not available, by setting
//! `SOCK_FUZZ_SECONDS` (seconds per body) and naming one test (`fuzz_<target>`).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sock_test::fuzz as fuzzing;

/// Runs `body` on random inputs: 256 cases, or for `SOCK_FUZZ_SECONDS`.
fn fuzz(name: &str, body: fn(&[u8])) {
    let seconds = std::env::var("SOCK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    // Mostly short inputs, some long enough to hold several frames or lines.
    let input = prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => proptest::collection::vec(any::<u8>(), 0..2048),
    ];
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut cases = 0u64;
    loop {
        let mut runner = TestRunner::new(Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&input, |data| {
            body(&data);
            Ok(())
        });
        if let Err(e) = result {
            panic!("fuzz body {name} failed: {e}");
        }
        cases += 256;
        match deadline {
            Some(d) if Instant::now() < d => continue,
            _ => break,
        }
    }
    if seconds.is_some() {
        println!("fuzz body {name}: {cases} inputs, no failure");
    }
}

#[test]
fn fuzz_length_prefixed() {
    fuzz("length_prefixed", fuzzing::length_prefixed);
}

#[test]
fn fuzz_line() {
    fuzz("line", fuzzing::line);
}

#[test]
fn fuzz_data_reader() {
    fuzz("data_reader", fuzzing::data_reader);
}

#[test]
fn fuzz_host_name() {
    fuzz("host_name", fuzzing::host_name);
}

#[test]
fn fuzz_service_name() {
    fuzz("service_name", fuzzing::service_name);
}

#[test]
fn fuzz_server_bytes() {
    fuzz("server_bytes", fuzzing::server_bytes);
}

/// Text-shaped inputs reach deeper into the name parsers than random bytes.
#[test]
fn fuzz_names_with_name_shaped_text() {
    let config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(text in "[a-zA-Z0-9.:%\\[\\]_-]{0,40}")| {
        fuzzing::host_name(text.as_bytes());
        fuzzing::service_name(text.as_bytes());
    });
}
