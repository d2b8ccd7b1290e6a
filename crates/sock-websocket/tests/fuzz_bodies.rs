//! The WebSocket fuzz targets' bodies (`sock_websocket::fuzzing`) run on
//! random bytes: neither the frame decoder nor the handshake parsers panic or
//! break their invariants on any input.
//!
//! A normal `cargo test` runs 256 cases per body. `cargo xtask fuzz` runs
//! them for longer where cargo-fuzz is not available, by setting
//! `SOCK_FUZZ_SECONDS` (seconds per body) and naming one test (`fuzz_<target>`).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sock_websocket::fuzzing;

/// Runs `body` on random inputs, some of them a valid start to build on: 256
/// cases, or for `SOCK_FUZZ_SECONDS`.
fn fuzz(name: &str, body: fn(&[u8]), seed: &'static [u8]) {
    let seconds = std::env::var("SOCK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let input = prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => proptest::collection::vec(any::<u8>(), 0..2048),
        // A valid start with random bytes after it, or one byte changed.
        2 => (proptest::collection::vec(any::<u8>(), 0..256), any::<usize>(), any::<u8>())
            .prop_map(move |(tail, at, byte)| {
                let mut data = seed.to_vec();
                if !data.is_empty() {
                    let at = at % data.len();
                    data[at] = byte;
                }
                data.extend(tail);
                data
            }),
    ];
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut cases = 0u64;
    loop {
        let mut runner = TestRunner::new(Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(&input, |data| {
            body(&data);
            Ok(())
        }) {
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
fn fuzz_websocket_frames() {
    // Server role, chunks of 3, 1, 7, 2 bytes; a masked text fragment "Hel",
    // a ping, and the final fragment.
    fuzz(
        "websocket_frames",
        fuzzing::frames,
        b"\x00\x03\x01\x07\x02\x01\x83\x00\x00\x00\x00Hel\x89\x80\x00\x00\x00\x00\x80\x82\x00\x00\x00\x00lo",
    );
}

#[test]
fn fuzz_websocket_request() {
    fuzz(
        "websocket_request",
        fuzzing::upgrade_request,
        b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
          Sec-WebSocket-Protocol: chat\r\n\r\n",
    );
}

#[test]
fn fuzz_websocket_response() {
    fuzz(
        "websocket_response",
        fuzzing::upgrade_response,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
    );
}
