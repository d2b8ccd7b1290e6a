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
//! | `sock-tcp` | `tcp` | `tcp` | `StreamSocket`, `StreamSocketListener` |
//! | `sock-udp` | `udp` | `udp` | `DatagramSocket` |
//! | `sock-tls` | `tls` | `tls` | TLS client and server configuration, certificate policy |
//!
//! # Feature flags
//!
//! - `tcp` (default): [`tcp`], `StreamSocket` and `StreamSocketListener`.
//! - `udp` (default): [`udp`], `DatagramSocket`.
//! - `codec` (default): [`codec`], framing and typed reading and writing.
//! - `tls`: [`tls`], and TLS on `StreamSocket` (protection levels, client
//!   certificates, `upgrade_to_tls`, TLS listeners).
//! - `full`: all of the above.
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

pub use sock_core as core;
pub use sock_core::{
    ByteOrder, EndpointPair, Error, HostName, HostNameType, ProtectionLevel, QualityOfService,
    Report, Result, ServiceName, SocketErrorStatus, TlsVersion, TransportProtocol, UnicodeEncoding,
};

/// Framing and typed I/O: the `sock-codec` crate.
#[cfg(feature = "codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "codec")))]
pub use sock_codec as codec;

/// TCP: the `sock-tcp` crate.
#[cfg(feature = "tcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "tcp")))]
pub use sock_tcp as tcp;

/// UDP: the `sock-udp` crate.
#[cfg(feature = "udp")]
#[cfg_attr(docsrs, doc(cfg(feature = "udp")))]
pub use sock_udp as udp;

/// TLS: the `sock-tls` crate (which re-exports `rustls`).
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use sock_tls as tls;

/// The names most programs need, for `use sock::prelude::*;`.
pub mod prelude {
    pub use sock_core::{
        ByteOrder, EndpointPair, Error, HostName, ProtectionLevel, QualityOfService, ServiceName,
        SocketErrorStatus, UnicodeEncoding,
    };

    #[cfg(feature = "codec")]
    pub use sock_codec::{
        BytesLineCodec, DataReader, DataWriter, FrameReader, FrameWriter, InputStreamOptions,
        LengthPrefixedCodec, LineCodec,
    };

    #[cfg(feature = "tcp")]
    pub use sock_tcp::{
        InputStream, OutputStream, StreamSocket, StreamSocketControl, StreamSocketListener,
        StreamSocketListenerControl,
    };

    #[cfg(feature = "udp")]
    pub use sock_udp::{
        DatagramMessage, DatagramOutputStream, DatagramSocket, DatagramSocketControl,
    };

    #[cfg(feature = "tls")]
    pub use sock_tls::{
        ClientAuth, IgnorableCertificateError, TlsClientConfig, TlsConnectionInfo, TlsServerConfig,
    };
}
