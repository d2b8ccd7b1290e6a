//! Socket hand-off for sock: the UWP socket broker, the Linux way.
//!
//! In UWP an app hands its sockets to a system broker
//! (`TransferOwnership(id, context)`) and a later instance reclaims them
//! (`SocketActivityInformation.AllSockets`), so listeners and connections
//! outlive the process that made them. On Linux the same need (zero-downtime
//! restarts, on-demand start) is met by passing sockets between processes and
//! by service-manager socket activation. This crate has both:
//!
//! - **Passing sockets**: a [`HandoffChannel`] is one end of a Unix stream
//!   socket that carries sockets with `SCM_RIGHTS`, each with its id, its
//!   [`SocketActivityKind`] and an opaque context. The receiver gets a
//!   [`SocketActivityInformation`] and adopts the socket as the right type:
//!   sock-tcp's `StreamSocketListener::from_socket_activity` and
//!   `StreamSocket::from_socket_activity`, sock-udp's
//!   `DatagramSocket::from_socket_activity`. The sending side is each type's
//!   `transfer_ownership(id, context, &mut channel)`.
//! - **A broker**: [`SocketBroker`] holds handed-over sockets while no app
//!   process runs, gives them to the next process that asks
//!   ([`all_sockets`], UWP's `AllSockets`), and can wake (spawn) a command
//!   when a held listener has a connection waiting or a held datagram socket
//!   has a datagram: UWP's `SocketActivityTrigger`.
//! - **Socket activation**: [`Activation`] adopts the sockets a service
//!   manager passed (`LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`);
//!   sock-tcp's `StreamSocketListener::from_activation(name)` and sock-udp's
//!   `DatagramSocket::from_activation(name)` use it.
//!
//! Every adopted socket is checked to be the kind asked for (a UDP socket
//! asked for as a listener is a clear error naming both), and is made
//! non-blocking (tokio's `from_std` wants that) and close-on-exec (received
//! descriptors get it atomically, with `MSG_CMSG_CLOEXEC`).
//!
//! # UWP's "cancel I/O first" rule
//!
//! UWP's `TransferOwnership` fails while I/O is pending; apps call
//! `CancelIOAsync` first. Here `transfer_ownership` takes the socket by value,
//! so no operation on it can be pending (a split `StreamSocket` must be
//! reunited first). What remains is data the socket has already read from
//! the kernel but not handed out: a `StreamSocket` holding such bytes (given
//! back by `from_framed`) refuses the hand-off with an error naming the count,
//! so read them first; nothing is dropped silently. A TLS `StreamSocket`
//! cannot be handed over (its session state cannot travel): `Unsupported`.
//! When a hand-off fails, the socket comes back in the [`TransferError`].
//!
//! # Wire format
//!
//! One message per socket, on a Unix stream socket; the descriptor is
//! attached to the message's first byte:
//!
//! ```text
//! "SKHO" | version 1 | op | kind | flags | id length (u16 BE) | context length (u32 BE) | id | context
//! ```
//!
//! `op` is 1 for a socket (exactly one descriptor attached), 2 for "give me
//! every socket you hold" and 3 for "that was all". `flags` carry the
//! [`SocketSettings`] that live in the sending process rather than in the
//! kernel, so do not travel with the descriptor: bit 0 is `multicast_only`
//! (a datagram socket only); every other bit is 0. Ids are UTF-8 and at most
//! [`MAX_ID_LEN`] bytes; contexts at most [`DEFAULT_MAX_CONTEXT_LEN`] unless
//! the receiver allows more (`max_context_len`, up to [`MAX_CONTEXT_LEN`]).
//! A receiver trusts nothing: lengths are checked before allocating, a
//! message with no descriptor or more than one, an unknown version, op,
//! kind or flag bit, a flag on a kind that cannot have it, or a descriptor that is not the socket the message says, is a clear
//! error and every descriptor that came with it is closed.
//!
//! Everything runs on tokio without blocking a thread: the channel is a
//! tokio `UnixStream` and descriptors are sent and received with
//! `sendmsg`/`recvmsg` when it is ready.
//!
//! # Platforms
//!
//! Linux (and Android). On other Unix systems every call returns an
//! `Unsupported` error; on non-Unix systems the crate is empty (sock-tcp and
//! sock-udp then have no hand-off methods).
//!
//! # Examples
//!
//! Hand a listener to another process (here: the other end of a pair) and
//! adopt it there:
//!
//! ```
//! use sock_handoff::{HandoffChannel, SocketActivityKind};
//! use std::os::fd::AsFd;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sock_core::Result<()> {
//! let (mut old, mut new) = HandoffChannel::pair()?;
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! old.send(SocketActivityKind::StreamSocketListener, "web", b"generation 1", listener.as_fd())
//!     .await?;
//! drop(listener);
//!
//! let info = new.recv().await?.expect("a socket");
//! assert_eq!((info.id.as_str(), &info.context[..]), ("web", &b"generation 1"[..]));
//! let listener = tokio::net::TcpListener::from_std(info.into_tcp_listener()?)?;
//! # drop(listener);
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
// `unsafe` lives in `sys`, the platform glue, and nowhere else.
#![deny(unsafe_code)]

#[cfg(unix)]
mod activation;
#[cfg(unix)]
mod broker;
#[cfg(unix)]
mod channel;
#[cfg(unix)]
mod info;
#[cfg(unix)]
mod log;
#[cfg(unix)]
#[allow(unsafe_code)]
mod sys;
#[cfg(unix)]
mod wire;

#[cfg(unix)]
pub use activation::{
    parse_listen_vars, Activation, ListenFd, DEFAULT_FD_NAME, LISTEN_FDS_START, MAX_LISTEN_FDS,
};
#[cfg(unix)]
pub use broker::{
    all_sockets, BrokerReport, SocketBroker, DEFAULT_BROKER_IDLE_TIMEOUT, DEFAULT_MAX_HELD,
    DEFAULT_MIN_WAKE_INTERVAL,
};
#[cfg(unix)]
pub use channel::HandoffChannel;
#[cfg(unix)]
pub use info::{
    SocketActivityInformation, SocketActivityKind, SocketActivityTriggerReason, SocketSettings,
    TransferError,
};
#[cfg(unix)]
pub use wire::{DEFAULT_MAX_CONTEXT_LEN, MAX_CONTEXT_LEN, MAX_ID_LEN, WIRE_VERSION};
