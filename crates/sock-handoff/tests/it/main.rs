//! The integration tests of sock-handoff, linked as one binary: each module is
//! one area, and `support` holds what they share.

mod broker_holds_and_wakes;
mod channel_finish;
