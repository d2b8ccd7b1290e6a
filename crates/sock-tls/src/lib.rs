//! TLS for sock over any `AsyncRead + AsyncWrite`: client and server
//! configuration, client certificates, certificate-error policy.
//!
//! This crate is being built; it exports nothing yet.
