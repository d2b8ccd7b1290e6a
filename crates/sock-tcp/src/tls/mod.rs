//! TLS over `StreamSocket` (feature `tls`): the client settings of
//! `StreamSocketControl`, `upgrade_to_tls`, the listener's handshakes, and
//! the errors that keep what a failed handshake learned.

mod client;
mod connect;
mod error;
mod server;
mod upgrade;

pub(crate) use client::{level_of, ClientTls};
pub use error::{ServerCertificateErrorSeverity, TlsConnectError};
pub(crate) use server::ServerTls;
pub use server::{DEFAULT_MAX_PENDING_TLS_HANDSHAKES, DEFAULT_TLS_FIRST_BYTE_TIMEOUT};
