//! Fuzz target `service_name`: sock-core's ServiceName parsing
//! (body: `sock_test::fuzz::service_name`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_test::fuzz::service_name(data));
