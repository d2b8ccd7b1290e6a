//! Fuzz target `websocket_response`: the client checking a server's answer to its upgrade
//! (body: `sock_websocket::fuzzing::upgrade_response`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_websocket::fuzzing::upgrade_response(data));
