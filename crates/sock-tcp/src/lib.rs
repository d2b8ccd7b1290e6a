//! TCP for sock: [`StreamSocket`] and [`StreamSocketListener`], the UWP
//! `StreamSocket` feature set on tokio.
//!
//! - **Connect** by name or address: [`StreamSocket::connect`] resolves the
//!   name off the async threads and races the addresses Happy Eyeballs style
//!   (RFC 8305); when every address fails, the error keeps each one's error
//!   and its [`status`](sock_core::Error::status) is the most telling.
//! - **Options** on [`StreamSocket::builder`] ([`StreamSocketControl`]):
//!   `no_delay` (on by default, as UWP), keep-alive timings, send buffer, hop
//!   limit, quality of service, connect and idle timeouts.
//! - **Information**: addresses, the names as given, and round-trip times from
//!   `TCP_INFO` ([`StreamSocket::information`]).
//! - **Streams**: a socket is `AsyncRead + AsyncWrite`;
//!   [`split`](StreamSocket::split) / [`into_split`](StreamSocket::into_split)
//!   give an [`InputStream`] and an [`OutputStream`];
//!   [`framed`](StreamSocket::framed) puts on any tokio-util codec;
//!   [`write_batch`](OutputStream::write_batch) sends many buffers with
//!   vectored writes.
//! - **Control**: [`cancel_io`](StreamSocket::cancel_io) ends waiting
//!   operations with `OperationAborted` and keeps the connection;
//!   [`close`](StreamSocket::close) is graceful, [`abort`](StreamSocket::abort)
//!   resets; half-close with `shutdown()`.
//! - **Listen**: [`StreamSocketListener::bind_service_name`] (dual-stack) or
//!   [`bind_endpoint`](StreamSocketListener::bind_endpoint); then
//!   [`accept`](StreamSocketListener::accept),
//!   [`incoming`](StreamSocketListener::incoming) or
//!   [`serve`](StreamSocketListener::serve) (a task per connection, a cap on
//!   connections, idle timeout, graceful shutdown). Accepted sockets get the
//!   listener's options, and the accept loop survives running out of file
//!   descriptors.
//! - **TLS** (feature `tls`, with `sock-tls`):
//!   [`protection_level`](StreamSocketControl::protection_level) (`Tls12`,
//!   `Tls13`, `Ssl` = best available; weak levels are `Unsupported`, never a
//!   plaintext fallback), client certificates, trust roots, ignorable server
//!   certificate errors, or a whole `TlsClientConfig`;
//!   [`connect_with_tls_info`](StreamSocketControl::connect_with_tls_info)
//!   keeps the server's chain and certificate errors when the handshake fails;
//!   [`upgrade_to_tls`](StreamSocket::upgrade_to_tls) for STARTTLS keeps the
//!   bytes already buffered; a listener with
//!   [`tls_server_config`](StreamSocketListenerControl::tls_server_config)
//!   runs each server handshake on its own task and hands out finished ones;
//!   `information()` shows the version, the server certificate, the
//!   certificate errors and, on the server, the verified client;
//!   [`close`](StreamSocket::close) sends `close_notify`.
//!
//! # Examples
//!
//! The echo client and server of UWP's sockets guide, with the line framing
//! of its C# sample:
//!
//! ```no_run
//! use futures::{SinkExt, StreamExt};
//! use sock_core::HostName;
//! use sock_tcp::{StreamSocket, StreamSocketListener};
//! use tokio_util::codec::LinesCodec;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = StreamSocketListener::bind_service_name("1337").await?;
//! tokio::spawn(async move {
//!     let mut lines = listener.accept().await?.framed(LinesCodec::new());
//!     while let Some(Ok(request)) = lines.next().await {
//!         lines.send(request).await?;
//!     }
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//! });
//!
//! let socket = StreamSocket::connect(&HostName::new("localhost")?, "1337").await?;
//! let mut lines = socket.framed(LinesCodec::new());
//! lines.send("Hello, World!").await?;
//! let response = lines.next().await.transpose()?;
//! assert_eq!(response.as_deref(), Some("Hello, World!"));
//! # Ok(()) }
//! ```
//!
//! Errors carry their UWP status:
//!
//! ```no_run
//! use sock_core::{HostName, SocketErrorStatus};
//! use sock_tcp::StreamSocket;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sock_core::Result<()> {
//! match StreamSocket::connect(&HostName::new("127.0.0.1")?, 1).await {
//!     Err(e) if e.status() == SocketErrorStatus::ConnectionRefused => println!("nobody there"),
//!     other => drop(other?),
//! }
//! # Ok(()) }
//! ```
//!
//! # Runtime
//!
//! Everything runs on a tokio runtime with both the I/O and the time driver
//! enabled (`#[tokio::main]` does that): connect and idle timeouts, graceful
//! close and the accept loop's back-off use timers.
//!
//! # Cancel safety
//!
//! Reads and writes through `AsyncRead`/`AsyncWrite`, `accept` and `connect`
//! are cancel safe: dropping the future loses nothing and leaves the socket
//! usable. `write_batch`, `close` and `from_framed` are not (each method says
//! what is left).
//!
//! # Logs
//!
//! With the `tracing` feature (on by default) sock-tcp reports through
//! [`tracing`](https://docs.rs/tracing): connect attempts and their errors,
//! TLS handshake failures and idle timeouts at `debug`, shutdown at `info`,
//! accept errors and failed handlers at `warn`; each served connection's
//! handler runs in a `connection` span with the peer and local addresses
//! and the protection level. Install a subscriber (for example
//! `tracing-subscriber`) to see them; without one they cost next to
//! nothing.
//!
//! # Feature flags
//!
//! - `tls`: TLS over these sockets (with `sock-tls`).
//! - `tracing` (default): log events and spans through `tracing`.
//! - `handoff`: pass sockets and listeners to other processes and adopt
//!   them (Unix; with `sock-handoff`): `transfer_ownership`,
//!   `from_socket_activity`, `from_activation`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
// `unsafe` lives in `sys`, the platform glue, and nowhere else.
#![deny(unsafe_code)]

mod answer;
mod cancel;
mod connect;
mod control;
mod deadline;
mod dial;
#[cfg(feature = "hickory-resolver")]
mod dns;
#[cfg(unix)]
mod fd;
#[cfg(feature = "handoff")]
mod handoff;
mod idle;
mod idle_handle;
mod info;
mod io;
mod listener;
mod log;
mod options;
mod progressive;
mod resolve;
mod serve;
#[cfg(unix)]
mod shard;
mod shutdown;
mod socket;
mod split;
mod srv;
mod stats;
#[allow(unsafe_code)]
mod sys;
#[cfg(feature = "tls")]
mod tls;

pub use answer::{AddressBatches, Resolving, ResolvingService};
pub use cancel::CancelIoHandle;
pub use control::{StreamSocketControl, DEFAULT_CONNECTION_ATTEMPT_DELAY, DEFAULT_CONNECT_TIMEOUT};
#[cfg(feature = "hickory-resolver")]
pub use dns::{DnsResolver, DEFAULT_DNS_QUERY_TIMEOUT};
pub use idle::IdleKind;
pub use idle_handle::IdleHandle;
pub use info::{StreamSocketInformation, StreamSocketListenerInformation};
pub use listener::{
    Incoming, StreamSocketListener, StreamSocketListenerControl, DEFAULT_BACKLOG,
    MAX_ACCEPT_BACKOFF, MIN_ACCEPT_BACKOFF,
};
pub use options::{
    KeepAlive, DEFAULT_CLOSE_DRAIN_LIMIT, DEFAULT_CLOSE_TIMEOUT, LOW_LATENCY_TRAFFIC_CLASS,
};
pub use progressive::{resolve_families, DEFAULT_RESOLUTION_DELAY};
pub use resolve::{Resolve, SystemResolver};
pub use serve::{
    HandlerFailure, HandlerOutcome, Serve, ServeReport, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SERVE_IDLE_TIMEOUT, DEFAULT_SHED_MIN_IDLE, DEFAULT_SHUTDOWN_TIMEOUT,
};
#[cfg(unix)]
pub use shard::{ShardedServe, ShardedServer, DEFAULT_DRAIN_TIMEOUT};
pub use shutdown::ShutdownSignal;
#[cfg(all(unix, feature = "handoff"))]
#[doc(no_inline)]
pub use sock_handoff::{
    HandoffChannel, SocketActivityInformation, SocketActivityKind, TransferError,
};
/// A failed connect or upgrade, with what the TLS handshake learned when it
/// got that far: sock-tls's [`HandshakeError`](sock_tls::HandshakeError),
/// named for what it reports here.
#[cfg(feature = "tls")]
pub use sock_tls::HandshakeError as TlsConnectError;
#[cfg(feature = "tls")]
pub use sock_tls::ServerCertificateErrorSeverity;
pub use socket::StreamSocket;
pub use split::{InputStream, OutputStream, ReuniteError};
pub use srv::ServiceRecord;
pub use stats::{BandwidthStatistics, RoundTripTimeStatistics};
#[cfg(feature = "tls")]
pub use tls::{DEFAULT_MAX_PENDING_TLS_HANDSHAKES, DEFAULT_TLS_FIRST_BYTE_TIMEOUT};

#[doc(no_inline)]
pub use sock_core::{
    Error, HostName, ProtectionLevel, QualityOfService, Result, ServiceName, SocketErrorStatus,
};
#[cfg(feature = "tls")]
#[doc(no_inline)]
pub use sock_tls::{
    IgnorableCertificateError, TlsClientConfig, TlsConnectionInfo, TlsServerConfig,
};
