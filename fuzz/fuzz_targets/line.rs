//! Fuzz target `line`: LineCodec and BytesLineCodec decoding, which must agree
//! (body: `sock_test::fuzz::line`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sock_test::fuzz::line(data));
