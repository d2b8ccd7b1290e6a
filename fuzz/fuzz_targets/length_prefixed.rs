//! Fuzz target `length_prefixed`: LengthPrefixedCodec decoding, with settings taken from the first bytes
//! (body: `sock_test::fuzz::length_prefixed`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_test::fuzz::length_prefixed(data));
