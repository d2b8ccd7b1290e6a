//! TLS for sock over any `AsyncRead + AsyncWrite`: client and server
//! configurations, client certificates, certificate-error policy, and the
//! certificate statuses of UWP's `SocketErrorStatus`.
//!
//! * [`TlsClientConfig`]: trust roots (the operating system's by default, plus
//!   your own), a client certificate, a [`ProtectionLevel`](sock_core::ProtectionLevel)
//!   that picks the TLS versions, ALPN, SNI, a handshake timeout, key logging,
//!   and the server certificate problems to tolerate
//!   ([`IgnorableCertificateError`], UWP's `IgnorableServerCertificateErrors`).
//! * [`TlsServerConfig`]: a certificate and key, and client authentication
//!   ([`ClientAuth`]) against given roots and revocation lists.
//! * [`TlsStream`]: the connection, with [`TlsConnectionInfo`] (version, cipher
//!   suite, ALPN, the peer's certificates and identity, the certificate problems
//!   found and waived).
//! * Failures are [`sock_core::Error`]s: certificate problems are
//!   `Error::Certificate` with statuses 23–30 ([`status_of`]) and the names and
//!   dates involved; a failed handshake is a [`HandshakeError`] that still has the
//!   peer's chain and the problems found, to show to a user.
//!
//! A level that would need SSL 3, TLS 1.0/1.1 or a NULL cipher is refused with
//! `Error::Unsupported`; nothing ever falls back to plain text.
//!
//! # Examples
//!
//! A client and a server over an in-memory pipe (any `AsyncRead + AsyncWrite`
//! works the same way: a `TcpStream`, a Unix socket, a `StreamSocket`):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sock_core::HostName;
//! use sock_tls::{TlsClientConfig, TlsServerConfig};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
//! let server = TlsServerConfig::builder()
//!     .certificate_chain_pem(cert.cert.pem().as_bytes(), cert.key_pair.serialize_pem().as_bytes())
//!     .build()?;
//! let client = TlsClientConfig::builder()
//!     .with_os_roots(false)
//!     .add_root_certificates_pem(cert.cert.pem().as_bytes())
//!     .build()?;
//!
//! let (client_io, server_io) = tokio::io::duplex(64 * 1024);
//! let serve = tokio::spawn(async move {
//!     let mut tls = server.accept(server_io).await?;
//!     let mut buf = [0; 5];
//!     tls.read_exact(&mut buf).await?;
//!     tls.write_all(&buf).await?;
//!     tls.shutdown().await?;
//!     Ok::<_, sock_core::Error>(())
//! });
//!
//! let mut tls = client.connect(&HostName::new("localhost")?, client_io).await?;
//! tls.write_all(b"hello").await?;
//! let mut echo = String::new();
//! tls.read_to_string(&mut echo).await?;
//! assert_eq!(echo, "hello");
//! println!("{:?} with {:?}", tls.info().protocol_version(), tls.info().cipher_suite());
//! serve.await??;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

mod certificate;
mod client;
mod config;
mod error;
mod info;
mod pem;
#[cfg(feature = "pkcs11")]
mod pkcs11;
mod pkcs12;
mod prefixed;
mod problem;
mod query;
mod server;
mod store;
mod stream;
mod sys;
mod verify;
mod x509;

pub use rustls;
pub use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

pub use certificate::Certificate;
pub use client::{TlsClientConfig, TlsClientConfigBuilder};
pub use config::DEFAULT_HANDSHAKE_TIMEOUT;
pub use error::HandshakeError;
pub use info::TlsConnectionInfo;
#[cfg(feature = "pkcs11")]
pub use pkcs11::Pkcs11Uri;
pub use prefixed::PrefixedIo;
pub use problem::{
    status_of, status_of_certificate_error, CertificateProblem, IgnorableCertificateError,
    ServerCertificateErrorSeverity,
};
pub use query::CertificateQuery;
pub use server::{ClientAuth, TlsServerConfig, TlsServerConfigBuilder};
pub use store::{CertificateStore, CertificateStores, FoundCertificates, MAX_STORE_FILE_LENGTH};
pub use stream::TlsStream;
pub use x509::{CertificateInfo, CertificateParseError};
