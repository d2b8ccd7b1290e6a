//! `connect_pair` with a protection level: the TLS handshake runs on the
//! connection made from the local endpoint asked for.
#![cfg(feature = "tls")]

mod support;

use std::net::{IpAddr, Ipv4Addr};

use sock_core::{EndpointPair, HostName, ProtectionLevel, ServiceName};
use sock_tls::ClientAuth;
use support::certs::{client_trusting, server_config, tls_listener, Ca};
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_tls_connection_from_an_explicit_local_address() {
    let ca = Ca::new("Pair CA");
    let leaf = ca.server(&["127.0.0.1"]);
    let listener = tls_listener(server_config(&leaf, ClientAuth::None, ProtectionLevel::Ssl)).await;
    let port = listener.information().local_port;
    let pair = EndpointPair::new(
        Some(HostName::new("127.0.0.2").unwrap()),
        ServiceName::any(),
        v4(),
        ServiceName::from(port),
    );
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
