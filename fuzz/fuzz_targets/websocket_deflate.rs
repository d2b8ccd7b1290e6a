//! Fuzz target `websocket_deflate`: permessage-deflate's negotiation parsers, round trips at
//! every window, and inflating arbitrary bytes within the message limit
//! (body: `sock_websocket::fuzzing::deflate`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_websocket::fuzzing::deflate(data));
