//! WebSockets for sock (RFC 6455): UWP's `MessageWebSocket` and
//! `StreamWebSocket`, client and server, on sock's [`StreamSocket`].
//!
//! - **Clients**: [`MessageWebSocket::connect`] for `ws://` and `wss://`
//!   (feature `tls`) URIs, or [`MessageWebSocket::builder`]
//!   ([`MessageWebSocketControl`]): message type, full or partial receive,
//!   `max_message_size`, subprotocols, request headers, HTTP basic
//!   credentials, client certificates and ignorable server certificate
//!   errors (sock-tcp's), keep-alive pongs, connect / handshake / close
//!   timeouts.
//! - **Messages**: a [`MessageWebSocket`] is a `Stream` and a `Sink` of
//!   [`Message`]s (text or binary, whole or in parts);
//!   [`close`](MessageWebSocket::close) runs the closing handshake with a
//!   code and reason, and the peer's are reported
//!   ([`close_frame`](MessageWebSocket::close_frame),
//!   [`closed`](MessageWebSocket::closed)).
//! - **Bytes**: a [`StreamWebSocket`] is `AsyncRead + AsyncWrite`, each
//!   write a binary message.
//! - **Servers**: [`ServerWebSocketControl`] accepts upgrades on sockets a
//!   `StreamSocketListener` accepted (plain or TLS), one by one or with
//!   [`serve`](ServerWebSocketControl::serve); a `decide` function inspects
//!   each [`UpgradeRequest`] (path, headers, origin, credentials,
//!   subprotocols) and accepts it or rejects it with an HTTP status
//!   ([`Decision`]). A socket already partly read can still be upgraded
//!   ([`accept_buffered`](ServerWebSocketControl::accept_buffered)).
//! - **Errors**: [`WebSocketError`] knows its [`SocketErrorStatus`]
//!   ([`status`](WebSocketError::status)) and UWP's [`WebErrorStatus`]
//!   ([`web_status`](WebSocketError::web_status)): the HTTP status of a
//!   refused upgrade (`Unauthorized`, `NotFound`, …).
//!
//! # Examples
//!
//! An echo server and a client on loopback:
//!
//! ```
//! use futures::StreamExt;
//! use sock_tcp::StreamSocketListener;
//! use sock_websocket::{CloseCode, Message, MessageWebSocket, ServerWebSocketControl};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sock_websocket::Result<()> {
//! // "" lets the system pick a port.
//! let listener = StreamSocketListener::bind_service_name("").await?;
//! let port = listener.information().local_port;
//! tokio::spawn(ServerWebSocketControl::new().serve(listener, |mut ws| async move {
//!     while let Some(message) = ws.next().await.transpose()? {
//!         ws.send(message).await?;
//!     }
//!     Ok(())
//! }));
//!
//! let mut ws = MessageWebSocket::connect(&format!("ws://127.0.0.1:{port}/")).await?;
//! ws.send(Message::text("Hello, World!")).await?;
//! let reply = ws.next().await.transpose()?;
//! assert_eq!(reply.as_ref().and_then(Message::as_text), Some("Hello, World!"));
//! let peer = ws.close(CloseCode::NORMAL, "done").await?;
//! println!("closed: {peer}");
//! # Ok(()) }
//! ```
//!
//! # Limits
//!
//! Every size a peer can make us store has a limit, checked on the frame
//! header before any payload byte is stored, and memory grows with the bytes
//! that arrive, never with the length a header announces: `max_message_size`
//! ([`DEFAULT_MAX_MESSAGE_SIZE`], 64 MiB), `max_frame_size`
//! ([`DEFAULT_MAX_FRAME_SIZE`], 16 MiB), the handshake's `max_handshake_size`
//! ([`DEFAULT_MAX_HANDSHAKE_SIZE`], 16 KiB) and `handshake_timeout`
//! ([`DEFAULT_HANDSHAKE_TIMEOUT`], 10 s), and `close_timeout`
//! ([`DEFAULT_CLOSE_TIMEOUT`], 5 s) for a peer that never finishes the
//! closing handshake; a message dripped in slowly enough never to be idle
//! must still arrive within `message_timeout` ([`DEFAULT_MESSAGE_TIMEOUT`], 5
//! minutes, checked as bytes arrive). The room kept for frames still arriving
//! and for messages partly joined is charged to a memory budget shared with
//! sock-codec's decoders (`memory_budget`; by default the process-wide 256
//! MiB): the connection that would overspend it fails with close code 1013,
//! the others go on. Pings a peer sends without reading our pongs stop being
//! read past 256 KiB of unsent pongs. Idle and slow peers are bounded by the
//! socket's idle timeouts (`StreamSocketControl`, `serve`).
//!
//! # Conformance
//!
//! A peer that breaks RFC 6455 gets the reaction the RFC asks for: reserved
//! bits or opcodes, an unmasked client frame or a masked server frame,
//! fragmented or long control frames, continuation frames out of order,
//! a close frame with a one-byte payload or a code that may not be sent
//! fail the connection with 1002; text that is not UTF-8 fails it with
//! 1007 as soon as the bad byte arrives, even split across fragments; a
//! message or frame over its limit with 1009.
//!
//! # Protocol engine
//!
//! The frame codec and the protocol engine are this crate's own. The choice
//! was measured: the `websocket_*` bench groups (`cargo xtask bench
//! websocket`) run tokio-tungstenite, fastwebsockets and ours in the same
//! run, on one current-thread runtime over loopback. Median time per
//! iteration, `--quick`, on the 2-core virtual machine of the README with
//! other builds running (load 5; single runs move by ±20 %):
//!
//! | group | tokio-tungstenite | fastwebsockets | ours |
//! |---|---|---|---|
//! | `websocket_echo_64`: 64 B binary, echoed | 21.2 µs | 13.7 µs | 15.3 µs |
//! | `websocket_echo_16k`: 16 KiB | 22.5 µs | 20.2 µs | 22.7 µs |
//! | `websocket_echo_1m`: 1 MiB | 692 µs | 457 µs | 442 µs |
//! | `websocket_text_64`: 64 B text | 21.8 µs | 23.8 µs | 18.3 µs |
//! | `websocket_pipelined`: 256 × 64 B, one flush | 82.0 µs | 418 µs | 44.0 µs |
//!
//! A single small echo costs four system calls and two wake-ups in every
//! library, so the three are within noise there; ours leads where the
//! library's own work shows: many small messages (a queue written with one
//! system call; fastwebsockets writes each frame on its own) and large ones
//! (no copy on receipt). Beyond speed:
//!
//! - tungstenite assembles messages itself, so partial receive
//!   (`ReceiveMode::PartialMessage`) cannot be had from it, and it copies
//!   each payload on both sides;
//! - fastwebsockets reserves the length a header announces before the bytes
//!   arrive (a peer announcing 64 MiB gets 64 MiB), lets an unmasked client
//!   frame through, and its `read_frame` is not cancel safe (dropped
//!   mid-frame, it loses the header);
//! - ours reads into one buffer and hands payloads over 256 bytes out
//!   without copying, unmasked in place (a shorter one is copied, so that
//!   one kept for long does not pin the buffer), writes large server
//!   payloads with vectored writes and no copy, gathers small ones into one
//!   write, and passes the RFC 6455 conformance tests
//!   (`tests/rfc6455_conformance.rs`) and interop with Python's
//!   `websockets` and Node's `ws` (`tests/interop_peers.rs`).
//!
//! # Cancel safety
//!
//! Reading (the `Stream`, [`recv`](MessageWebSocket::recv), `AsyncRead`)
//! is cancel safe. A message given to the `Sink` is queued and sent by the
//! next flush, whatever happens to the future that gave it. `connect`,
//! `accept*` and `close` close the connection when dropped.
//!
//! # Compression
//!
//! With the `deflate` feature, permessage-deflate (RFC 7692): a client
//! offers it with `MessageWebSocketControl::deflate`, a server accepts
//! offers with `ServerWebSocketControl::deflate`, each given a
//! `DeflateConfig` (context takeover, window sizes, level, and the size
//! below which a message is sent as it is, 256 bytes by default). It is off
//! by default, as UWP's WebSockets have no compression; what was agreed is
//! in [`information()`](MessageWebSocket::information)'s `extensions` and
//! `deflate`. A compressed message is inflated in bounded steps: its
//! inflated bytes count against `max_message_size` as they are produced
//! (a message that inflates past it fails the connection with 1009 once
//! one byte more than the limit is out, the buffer having grown only with
//! what was inflated) and, while the message is incomplete, against the
//! memory budget; data that is not DEFLATE fails it with 1007
//! (as Node's `ws`; Python's `websockets` sends 1002); RSV1 on a control
//! or continuation frame with 1002. DEFLATE is zlib-rs's (through flate2),
//! whose window sizes the negotiation needs.
//!
//! # Feature flags
//!
//! - `tls`: `wss://`, client certificates and ignorable server certificate
//!   errors (with `sock-tls`); upgrades on TLS listeners work without it
//!   too when sock-tcp has its own `tls` feature.
//! - `deflate`: permessage-deflate (RFC 7692), with `flate2` on zlib-rs.
//!
//! [`StreamSocket`]: sock_tcp::StreamSocket
//! [`SocketErrorStatus`]: sock_core::SocketErrorStatus
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

mod close;
mod control;
mod decoder;
#[cfg(feature = "deflate")]
mod deflate;
mod engine;
mod error;
mod frame;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handshake;
mod info;
mod mask;
mod message;
mod options;
mod outbox;
mod server;
mod socket;
mod stream;
mod uri;
mod utf8;
mod web_status;

pub use close::{CloseCode, CloseFrame, MAX_CLOSE_REASON_LEN};
pub use control::MessageWebSocketControl;
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub use deflate::{
    DeflateConfig, DeflateParameters, DEFAULT_DEFLATE_LEVEL, DEFAULT_DEFLATE_THRESHOLD,
};
pub use error::{Result, WebSocketError};
pub use frame::Role;
pub use handshake::server::{Decision, UpgradeRequest};
pub use info::MessageWebSocketInformation;
pub use message::{Message, MessageType, ReceiveMode};
pub use options::{
    DEFAULT_CLOSE_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_HANDSHAKE_SIZE, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MESSAGE_TIMEOUT,
};
pub use server::{HandlerFuture, ServerWebSocketControl};
pub use socket::MessageWebSocket;
pub use stream::{StreamWebSocket, MAX_STREAM_WRITE};
pub use web_status::WebErrorStatus;

/// UWP's name for a [`MessageWebSocket`] a server accepted: the same type
/// ([`information().role`](MessageWebSocketInformation::role) says which
/// end it is).
pub type ServerMessageWebSocket = MessageWebSocket;

/// UWP's name for a [`StreamWebSocket`] a server accepted: the same type.
pub type ServerStreamWebSocket = StreamWebSocket;

#[doc(no_inline)]
pub use sock_core::SocketErrorStatus;
