//! TLS over `StreamSocket` (feature `tls`): the client settings of
//! `StreamSocketControl`, `upgrade_to_tls` and the listener's handshakes. A
//! failed TLS connect is sock-tls's `HandshakeError` (`TlsConnectError`).

mod client;
mod connect;
mod server;
mod upgrade;

pub(crate) use client::{level_of, ClientTls};
pub(crate) use server::ServerTls;
pub use server::{DEFAULT_MAX_PENDING_TLS_HANDSHAKES, DEFAULT_TLS_FIRST_BYTE_TIMEOUT};
