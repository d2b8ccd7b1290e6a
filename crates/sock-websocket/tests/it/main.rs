//! The integration tests of sock-websocket, linked as one binary: each module is
//! one area, and `support` holds what they share.

mod support;

mod fuzz_bodies;
mod interop_peers;
mod rfc6455_conformance;
mod websocket_client_server;
mod websocket_deflate;
mod websocket_limits;
mod websocket_tls;
mod websocket_watermarks;
