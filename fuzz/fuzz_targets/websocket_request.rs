//! Fuzz target `websocket_request`: the server reading an upgrade request
//! (body: `sock_websocket::fuzzing::upgrade_request`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_websocket::fuzzing::upgrade_request(data));
