//! Test certificates made with rcgen (CAs, leaves that are expired, for the
//! wrong name or usage, self-signed, from another CA, revoked) and helpers that
//! run a client and a server handshake against each other.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use sock_core::{HostName, ProtectionLevel};
use sock_tls::{
    ClientAuth, HandshakeError, IgnorableCertificateError, TlsClientConfig, TlsServerConfig,
    TlsStream,
};
use tokio::io::DuplexStream;

pub use sock_test::certs::{Ca, Leaf, LeafSpec};

pub mod openssl;
#[cfg(feature = "pkcs11")]
pub mod softhsm;

/// Every wait in these tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Awaits `f`, failing the test if it takes longer than [`LIMIT`].
pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test step took longer than its limit")
}

/// A server configuration presenting `leaf`.
pub fn server_config(leaf: &Leaf) -> TlsServerConfig {
    server_builder(leaf).build().unwrap()
}

pub fn server_builder(leaf: &Leaf) -> sock_tls::TlsServerConfigBuilder {
    TlsServerConfig::builder()
        .certificate_chain_pem(leaf.chain_pem.as_bytes(), leaf.key_pem.as_bytes())
}

/// A client configuration trusting only `ca`.
pub fn client_trusting(ca: &Ca) -> sock_tls::TlsClientConfigBuilder {
    TlsClientConfig::builder()
        .with_os_roots(false)
        .add_root_certificates_pem(ca.pem().as_bytes())
}

/// A client configuration trusting `ca` and tolerating `ignorable`.
pub fn client_tolerating(ca: &Ca, ignorable: &[IgnorableCertificateError]) -> TlsClientConfig {
    client_trusting(ca)
        .ignorable_server_certificate_errors(ignorable)
        .build()
        .unwrap()
}

/// `ProtectionLevel`s that negotiate each TLS version.
pub const LEVELS: [ProtectionLevel; 2] = [ProtectionLevel::Tls12, ProtectionLevel::Tls13];

pub type Outcome = Result<TlsStream<DuplexStream>, HandshakeError>;

/// Runs both sides of a handshake over an in-memory pipe.
pub async fn handshake(
    client: &TlsClientConfig,
    server: &TlsServerConfig,
    name: &str,
) -> (Outcome, Outcome) {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let host = HostName::new(name).unwrap();
    bounded(async { tokio::join!(client.connect(&host, client_io), server.accept(server_io)) })
        .await
}

/// A client configuration presenting `leaf` and trusting `ca`.
pub fn client_with_certificate(ca: &Ca, leaf: &Leaf, level: ProtectionLevel) -> TlsClientConfig {
    client_trusting(ca)
        .protection_level(level)
        .client_certificate_pem(leaf.chain_pem.as_bytes(), leaf.key_pem.as_bytes())
        .build()
        .unwrap()
}

/// Client authentication required against `ca`.
pub fn required(ca: &Ca) -> ClientAuth {
    ClientAuth::required_pem(ca.pem().as_bytes()).unwrap()
}

/// Presents `certificate` at `level` to a server requiring a client
/// certificate from `ca`; gives the common name the server saw.
pub async fn presented(
    ca: &Ca,
    certificate: &sock_tls::Certificate,
    level: ProtectionLevel,
) -> String {
    let server = server_builder(&ca.server(&["localhost"]))
        .protection_level(level)
        .client_authentication(required(ca))
        .build()
        .unwrap();
    let client = client_trusting(ca)
        .protection_level(level)
        .client_certificate_from(certificate.clone())
        .build()
        .unwrap();
    let (client, server) = handshake(&client, &server, "localhost").await;
    client.unwrap();
    let server = server.unwrap();
    let who = server.info().peer_identity().expect("a client identity");
    who.common_name().unwrap_or_default().to_owned()
}
