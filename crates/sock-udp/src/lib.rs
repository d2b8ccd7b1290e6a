//! UDP for sock: [`DatagramSocket`], UWP's `Windows.Networking.Sockets.DatagramSocket`
//! on tokio.
//!
//! * Bind with [`DatagramSocket::bind_service_name`] or
//!   [`bind_endpoint`](DatagramSocket::bind_endpoint), or talk to one peer with
//!   [`connect`](DatagramSocket::connect) (which also filters incoming
//!   datagrams to that peer); options go through [`DatagramSocket::builder`]
//!   ([`DatagramSocketControl`]: port sharing for multicast, "don't fragment",
//!   buffer size, hop limit, quality of service).
//! * Receive with [`recv`](DatagramSocket::recv) or the
//!   [`messages`](DatagramSocket::messages) stream: each [`DatagramMessage`]
//!   says who sent it and to which local address. A receive loop never dies on
//!   an ICMP report, and a datagram larger than the receive buffer is flagged
//!   [`truncated`](DatagramMessage::truncated), never silently cut.
//! * Send with [`send_to`](DatagramSocket::send_to) or through a
//!   [`DatagramOutputStream`] (each flush, or a `DataWriter::store`, is one
//!   datagram).
//! * Multicast: [`join_multicast_group`](DatagramSocket::join_multicast_group)
//!   for IPv4 and IPv6.
//! * Hand-off (feature `handoff`, Unix): `transfer_ownership` passes the
//!   socket to another process over a `HandoffChannel`;
//!   `from_socket_activity` and `from_activation` adopt one (UWP's socket
//!   broker, and service-manager socket activation).
//! * Batches: [`send_batch`](DatagramSocket::send_batch) and
//!   [`recv_batch`](DatagramSocket::recv_batch) use `sendmmsg`/`recvmmsg` and
//!   UDP GSO/GRO where Linux has them, and plain calls elsewhere.
//!
//! Errors are [`sock_core::Error`]s and carry their [`SocketErrorStatus`]
//! (`AddressAlreadyInUse`, `MessageTooLong`, `ConnectionRefused`, …).
//!
//! # Examples
//!
//! The UWP echo story, server and client in one program:
//!
//! ```
//! use sock_core::HostName;
//! use sock_udp::DatagramSocket;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sock_core::Result<()> {
//! // The guide binds "1337" and "1336"; "" lets the system pick free ports.
//! let server = DatagramSocket::bind_service_name("").await?;
//! let client = DatagramSocket::bind_service_name("").await?;
//! let server_port = server.information().local_port;
//!
//! let localhost = HostName::new("localhost")?;
//! client.send_to(&localhost, server_port, "Hello, World!").await?;
//! let request = server.recv().await?;
//! server.send_to_addr(request.remote_addr(), &request.data).await?;
//! let response = client.recv().await?;
//! assert_eq!(&response.data[..], b"Hello, World!");
//! # Ok(()) }
//! ```
//!
//! [`SocketErrorStatus`]: sock_core::SocketErrorStatus
//!
//! # Feature flags
//!
//! - `tracing` (default): log events through `tracing`.
//! - `handoff`: pass sockets to other processes and adopt them (Unix; with
//!   `sock-handoff`).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
// `unsafe` lives in `sys`, the platform glue, and nowhere else.
#![deny(unsafe_code)]

mod batch;
mod control;
#[cfg(feature = "handoff")]
mod handoff;
mod log;
mod message;
mod messages;
mod open;
mod options;
mod output;
mod resolve;
mod rx;
mod shard;
mod socket;
#[allow(unsafe_code)]
mod sys;

pub use control::{DatagramSocketControl, DEFAULT_MAX_MESSAGE_SIZE};
pub use message::DatagramMessage;
pub use messages::Messages;
pub use output::DatagramOutputStream;
pub use resolve::{MAX_DATAGRAM_SIZE_V4, MAX_DATAGRAM_SIZE_V6};
pub use shard::DatagramShards;
#[cfg(all(unix, feature = "handoff"))]
#[doc(no_inline)]
pub use sock_handoff::{
    HandoffChannel, SocketActivityInformation, SocketActivityKind, SocketSettings, TransferError,
};
pub use socket::{DatagramSocket, DatagramSocketInformation};
