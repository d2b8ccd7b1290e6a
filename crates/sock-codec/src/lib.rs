//! Framing and typed I/O for sock: length-prefixed and line codecs,
//! `DataReader` and `DataWriter`.
//!
//! This crate is being built; it exports nothing yet.
