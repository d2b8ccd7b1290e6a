//! The WebSocket fuzz targets' bodies (`sock_websocket::fuzzing`) run on
//! random bytes: neither the frame decoder nor the handshake parsers panic or
//! break their invariants on any input.
//!
//! A normal `cargo test` runs 2,000 inputs per body. `cargo xtask fuzz` runs
//! them for longer where cargo-fuzz is not available, by setting
//! `SOCK_FUZZ_SECONDS` (seconds per body) and naming one test (`fuzz_<target>`).

use std::time::{Duration, Instant};

use sock_websocket::fuzzing;

/// A small xorshift generator: inputs differ per run (seeded from the clock)
/// and a failure prints the starting value that made it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Random bytes, or `seed` with a few bytes changed and random bytes
    /// after it.
    fn input(&mut self, seed: &[u8]) -> Vec<u8> {
        let (mut data, tail) = match self.below(4) {
            0 => (Vec::new(), self.below(64)),
            1 => (Vec::new(), self.below(2048)),
            _ => (seed.to_vec(), self.below(256)),
        };
        for _ in 0..self.below(4) {
            if !data.is_empty() {
                let at = self.below(data.len());
                data[at] = self.next() as u8;
            }
        }
        data.extend((0..tail).map(|_| self.next() as u8));
        data
    }
}

/// Runs `body` on 2,000 inputs, or for `SOCK_FUZZ_SECONDS`.
fn fuzz(name: &str, body: fn(&[u8]), seed: &[u8]) {
    let seconds = std::env::var("SOCK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = Rng(start);
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut cases = 0u64;
    loop {
        for _ in 0..2000 {
            let data = rng.input(seed);
            let result = std::panic::catch_unwind(|| body(&data));
            assert!(
                result.is_ok(),
                "fuzz body {name} failed on {data:?} (generator seeded {start})"
            );
        }
        cases += 2000;
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

#[test]
fn fuzz_websocket_deflate() {
    // Window 2^10 with context takeover, split at 5/16; the rest is an
    // offer, compressed and inflated as it is, and "Hello" compressed (RFC
    // 7692 section 7.2.3.1).
    fuzz(
        "websocket_deflate",
        fuzzing::deflate,
        b"\x52permessage-deflate; server_max_window_bits=10; client_max_window_bits\
          \xf2\x48\xcd\xc9\xc9\x07\x00",
    );
}
