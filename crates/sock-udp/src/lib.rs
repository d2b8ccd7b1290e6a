//! UDP for sock: `DatagramSocket`.
//!
//! This crate is being built; it exports nothing yet.
