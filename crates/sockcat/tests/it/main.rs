//! End-to-end tests of the built `sockcat`: against itself, Python sockets,
//! `openssl s_server`/`s_client`, ncat and socat, on loopback only. Each
//! module is one area; `support` runs the processes with bounded waits.

mod failures;
mod framing;
mod interop;
mod peers;
mod sessions;
mod support;
mod tls;
mod udp;
mod websocket;
