//! Async sockets with the whole feature set of the UWP
//! `Windows.Networking.Sockets` namespace, on tokio.
//!
//! `sock` is the facade over the sock crates: depend on it and write
//! `use sock::prelude::*;`, or depend on just the crate you need — each builds on
//! its own:
//!
//! | crate | re-exported as | feature | what it holds |
//! |---|---|---|---|
//! | `sock-core` | [`core`] and the root | always | `HostName`, `ServiceName`, `Error`, `SocketErrorStatus`, `ProtectionLevel`, … |
//! | `sock-codec` | `codec` | `codec` | `LengthPrefixedCodec`, `LineCodec`, `FrameWriter`/`FrameReader`, `DataWriter`/`DataReader` |
//! | `sock-tcp` | `tcp` | `tcp` | `StreamSocket`, `StreamSocketListener`, `Serve` |
//! | `sock-udp` | `udp` | `udp` | `DatagramSocket` |
//! | `sock-tls` | `tls` | `tls` | TLS client and server configuration, certificate policy |
//! | `sock-websocket` | `websocket` | `websocket` | `MessageWebSocket`, `StreamWebSocket`, `ServerWebSocketControl` |
//! | `sock-handoff` | `handoff` | `handoff` (Unix; in `full`) | passing sockets between processes, the socket broker, activation |
//!
//! The root also re-exports [`Bytes`] and the tokio-util codec types the API
//! returns (`Framed`, `FramedRead`, `FramedWrite`, and `Encoder` /
//! `Decoder` to write a codec), so a program needs neither `bytes` nor
//! `tokio-util` in its own manifest.
//!
//! # Feature flags
//!
//! - `tcp` (default): `tcp`, `StreamSocket` and `StreamSocketListener`.
//! - `udp` (default): `udp`, `DatagramSocket`.
//! - `codec` (default): `codec`, framing and typed reading and writing.
//! - `tls`: `tls`, and TLS on `StreamSocket` (protection levels, client
//!   certificates from PEM, PKCS#12 and certificate stores, `upgrade_to_tls`,
//!   TLS listeners).
//! - `aws-lc-rs`: rustls's aws-lc-rs crypto provider as the default instead
//!   of *ring* (not in `full`).
//! - `pkcs11`: client certificates whose keys stay on PKCS#11 tokens
//!   (smartcards, HSMs, SoftHSM2): `tls::Pkcs11Uri`, `Certificate::from_pkcs11`.
//! - `websocket`: `websocket`, UWP's `MessageWebSocket` and
//!   `StreamWebSocket`, client and server (`wss://` with `tls`).
//! - `deflate`: permessage-deflate (RFC 7692) for WebSockets (turns on
//!   `websocket`): `websocket::DeflateConfig`, given to either control's
//!   `deflate`, compresses messages when both ends agree. UWP's WebSockets
//!   have no compression, so it is off unless asked for.
//! - `hickory-resolver`: `tcp::DnsResolver`, DNS that starts connecting with
//!   the first answer (AAAA and A asked in parallel, RFC 8305) and looks up
//!   SRV records for service names that are not ports (RFC 2782).
//! - `tracing` (default): log events and per-connection spans through
//!   `tracing` (see `tcp`'s "Logs").
//! - `full`: all of the above but `aws-lc-rs`.
//!
//! # Ownership instead of keeping sockets alive
//!
//! UWP's C++ samples warn to keep a reference to an accepted socket inside
//! continuations, or it may be disposed. In Rust the socket is owned: an accepted
//! `StreamSocket` lives exactly as long as the task that owns it, and closes when
//! that task drops it.
//!
#![cfg_attr(all(feature = "tcp", feature = "codec"), doc = include_str!("../QUICKSTART.md"))]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

/// Runtime-free types: host and service names, errors and their statuses,
/// protection levels (the `sock-core` crate; the most used are also at the
/// root).
pub mod core {
    #[doc(inline)]
    pub use sock_core::*;
}

pub use sock_core::{
    ByteOrder, EndpointPair, Error, HostName, HostNameType, ProtectionLevel, QualityOfService,
    Report, Result, ServiceName, SocketErrorStatus, TlsVersion, TransportProtocol, UnicodeEncoding,
};

/// Byte buffers, as the codecs and datagram messages hand them out (from the
/// `bytes` crate), so that a program need not add it to name them.
pub use bytes::{Bytes, BytesMut};

/// The tokio-util codec traits and readers that sock's API takes, so that a
/// program need not add tokio-util to name them or to write a codec of its
/// own.
#[cfg(any(feature = "codec", feature = "tcp"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "codec", feature = "tcp"))))]
pub use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

/// What `StreamSocket::framed` gives: any tokio-util codec on a byte stream,
/// holding no buffer while idle (sock-codec's [`Framed`]).
#[cfg(any(feature = "codec", feature = "tcp"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "codec", feature = "tcp"))))]
pub use sock_codec::{Framed, FramedParts};

/// Framing and typed I/O (the `sock-codec` crate): [`LengthPrefixedCodec`],
/// [`LineCodec`], [`FrameWriter`]/[`FrameReader`], [`DataWriter`]/[`DataReader`].
///
/// [`LengthPrefixedCodec`]: codec::LengthPrefixedCodec
/// [`LineCodec`]: codec::LineCodec
/// [`FrameWriter`]: codec::FrameWriter
/// [`FrameReader`]: codec::FrameReader
/// [`DataWriter`]: codec::DataWriter
/// [`DataReader`]: codec::DataReader
#[cfg(feature = "codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "codec")))]
pub mod codec {
    #[doc(inline)]
    pub use sock_codec::*;
}

/// TCP (the `sock-tcp` crate): [`StreamSocket`] and [`StreamSocketListener`],
/// their controls and information, [`Serve`], idle detection.
///
/// [`StreamSocket`]: tcp::StreamSocket
/// [`StreamSocketListener`]: tcp::StreamSocketListener
/// [`Serve`]: tcp::Serve
#[cfg(feature = "tcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "tcp")))]
pub mod tcp {
    #[doc(inline)]
    pub use sock_tcp::*;
}

/// UDP (the `sock-udp` crate): [`DatagramSocket`], its control and
/// information, batched sends and receives, multicast.
///
/// [`DatagramSocket`]: udp::DatagramSocket
#[cfg(feature = "udp")]
#[cfg_attr(docsrs, doc(cfg(feature = "udp")))]
pub mod udp {
    #[doc(inline)]
    pub use sock_udp::*;
}

/// TLS (the `sock-tls` crate, which re-exports `rustls`): client and server
/// configuration, client certificates, certificate-error policy.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls {
    #[doc(inline)]
    pub use sock_tls::*;
}

/// WebSockets (the `sock-websocket` crate): [`MessageWebSocket`] and
/// [`StreamWebSocket`], client and server ([`ServerWebSocketControl`]).
///
/// [`MessageWebSocket`]: websocket::MessageWebSocket
/// [`StreamWebSocket`]: websocket::StreamWebSocket
/// [`ServerWebSocketControl`]: websocket::ServerWebSocketControl
///
#[doc = include_str!("../WEBSOCKET.md")]
#[cfg(feature = "websocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
pub mod websocket {
    #[doc(inline)]
    pub use sock_websocket::*;
}

/// Passing sockets between processes (the `sock-handoff` crate): the
/// hand-off channel, the socket broker and service-manager activation, as
/// UWP's `SocketActivityInformation` and `TransferOwnership`.
#[cfg(all(unix, feature = "handoff"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "handoff"))))]
pub mod handoff {
    #[doc(inline)]
    pub use sock_handoff::*;
}

/// The names most programs need, for `use sock::prelude::*;`.
pub mod prelude {
    pub use sock_core::{
        ByteOrder, EndpointPair, Error, HostName, ProtectionLevel, QualityOfService, ServiceName,
        SocketErrorStatus, UnicodeEncoding,
    };

    pub use bytes::Bytes;

    #[cfg(feature = "codec")]
    pub use sock_codec::{
        BytesLineCodec, DataReader, DataWriter, FrameReader, FrameWriter, InputStreamOptions,
        LengthPrefixedCodec, LineCodec,
    };

    #[cfg(feature = "tcp")]
    pub use sock_tcp::{
        HandlerFailure, IdleKind, InputStream, OutputStream, ServeReport, ShutdownSignal,
        StreamSocket, StreamSocketControl, StreamSocketListener, StreamSocketListenerControl,
    };

    #[cfg(feature = "udp")]
    pub use sock_udp::{
        DatagramMessage, DatagramOutputStream, DatagramSocket, DatagramSocketControl,
    };

    #[cfg(feature = "tls")]
    pub use sock_tls::{
        Certificate, CertificateQuery, CertificateStores, ClientAuth, IgnorableCertificateError,
        TlsClientConfig, TlsConnectionInfo, TlsServerConfig,
    };

    #[cfg(feature = "tls")]
    pub use sock_tcp::{ServerCertificateErrorSeverity, TlsConnectError};

    #[cfg(feature = "websocket")]
    pub use sock_websocket::{
        CloseCode, Decision, Message, MessageType, MessageWebSocket, MessageWebSocketControl,
        ReceiveMode, ServerWebSocketControl, StreamWebSocket, WebErrorStatus, WebSocketError,
    };

    #[cfg(feature = "deflate")]
    pub use sock_websocket::DeflateConfig;
}
