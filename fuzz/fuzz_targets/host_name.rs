//! Fuzz target `host_name`: sock-core's HostName parsing
//! (body: `sock_codec::fuzzing::host_name`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_codec::fuzzing::host_name(data));
