//! Fuzz target `data_reader`: DataReader loads and reads driven by a script of operations
//! (body: `sock_test::fuzz::data_reader`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_test::fuzz::data_reader(data));
