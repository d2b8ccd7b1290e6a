//! The integration tests of sock-codec, linked as one binary: each module is
//! one area, and `support` holds what they share.

mod support;

mod codec_round_trip;
mod data_guid_time;
mod data_length_prefixed;
mod frame_arrival;
mod frame_memory_budget;
mod frame_timeout;
mod frame_watermarks;
mod fuzz_bodies;
