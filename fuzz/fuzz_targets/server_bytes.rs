//! Fuzz target `server_bytes`: an echo server (length-prefixed frames or lines)
//! fed arbitrary bytes (body: `sock_test::fuzz::server_bytes`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_test::fuzz::server_bytes(data));
