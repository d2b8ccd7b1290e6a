//! Fuzz target `websocket_frames`: the WebSocket frame decoder fed chunks, with UTF-8 and close checks
//! (body: `sock_websocket::fuzzing::frames`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_websocket::fuzzing::frames(data));
