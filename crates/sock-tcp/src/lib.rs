//! TCP for sock: `StreamSocket` and `StreamSocketListener`.
//!
//! This crate is being built; it exports nothing yet.
