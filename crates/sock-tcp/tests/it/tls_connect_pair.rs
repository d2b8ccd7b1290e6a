//! `connect_pair` with a protection level: the TLS handshake runs on the
//! connection made from the local endpoint asked for, and
//! `connect_pair_with_tls_info` keeps what a failed handshake learned.
#![cfg(feature = "tls")]

use crate::support;

use std::net::{IpAddr, Ipv4Addr};

use sock_core::{EndpointPair, HostName, ProtectionLevel, ServiceName, SocketErrorStatus as S};
use sock_tcp::ServerCertificateErrorSeverity;
use sock_tls::{ClientAuth, IgnorableCertificateError};
use support::certs::{client_trusting, server_config, tls_listener, while_accepting, Ca};
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A pair from `local` (any port) to 127.0.0.1 at `port`.
fn from_local(local: &str, port: u16) -> EndpointPair {
    EndpointPair::new(
        Some(HostName::new(local).unwrap()),
        ServiceName::any(),
        v4(),
        ServiceName::from(port),
    )
}

#[tokio::test]
async fn a_tls_connection_from_an_explicit_local_address() {
    let ca = Ca::new("Pair CA");
    let leaf = ca.server(&["127.0.0.1"]);
    let listener = tls_listener(server_config(&leaf, ClientAuth::None, ProtectionLevel::Ssl)).await;
    let port = listener.information().local_port;
    let pair = from_local("127.0.0.2", port);
    let control = client_trusting(&ca, ProtectionLevel::Tls13);
    let (client, server) =
        within(async { tokio::join!(control.connect_pair(&pair), listener.accept()) }).await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());

    assert_eq!(client.protection_level(), ProtectionLevel::Tls13);
    assert_eq!(
        server.peer_addr().ip(),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))
    );
    assert_eq!(server.peer_addr(), client.local_addr());
    client.write_all(b"sealed").await.unwrap();
    let mut buf = [0u8; 6];
    within(server.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"sealed");
}

#[tokio::test]
async fn a_failed_handshake_from_an_explicit_local_address_keeps_what_it_learned() {
    let trusted = Ca::new("Trusted CA");
    let other = Ca::new("Other CA");
    // The server sends its root too, so the problem is an untrusted root
    // (ignorable), not a missing issuer.
    let leaf = other.server(&["127.0.0.1"]).with_root(&other);
    let listener = tls_listener(server_config(&leaf, ClientAuth::None, ProtectionLevel::Ssl)).await;
    let port = listener.information().local_port;
    let pair = from_local("127.0.0.3", port);
    let control = client_trusting(&trusted, ProtectionLevel::Tls12);

    let err = while_accepting(&listener, control.connect_pair_with_tls_info(&pair))
        .await
        .expect_err("a server from another CA must fail");
    assert_eq!(err.status(), S::CertificateUntrustedRoot, "{err}");
    let info = err.tls_info().expect("what the handshake learned");
    assert_eq!(
        info.peer_certificate().unwrap().issuer(),
        "O=Sock Tests, CN=Other CA"
    );
    assert_eq!(
        err.server_certificate_error_severity(),
        ServerCertificateErrorSeverity::Ignorable
    );
    let ignorable = err.ignorable_server_certificate_errors().unwrap();
    assert_eq!(ignorable, [IgnorableCertificateError::UntrustedRoot]);

    // The retry from the same local address, with the problem waived, gets
    // through, and the server sees the address asked for.
    let retry = control.ignorable_server_certificate_errors(&ignorable);
    let (client, server) =
        within(async { tokio::join!(retry.connect_pair_with_tls_info(&pair), listener.accept()) })
            .await;
    let (client, server) = (client.unwrap(), server.unwrap());
    assert_eq!(
        server.peer_addr().ip(),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3))
    );
    assert!(client.information().server_certificate_errors()[0].is_waived());
}
