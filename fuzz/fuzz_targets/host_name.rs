//! Fuzz target `host_name`: sock-core's HostName parsing
//! (body: `sock_test::fuzz::host_name`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_test::fuzz::host_name(data));
