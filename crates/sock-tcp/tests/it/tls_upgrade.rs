//! STARTTLS with `upgrade_to_tls`: a plaintext exchange, then TLS on the same
//! connection, keeping bytes that were read together with the last plaintext line.
#![cfg(feature = "tls")]

use crate::support;

use futures::{SinkExt, StreamExt};
use sock_codec::Framed;
use sock_core::{Error, HostName, ProtectionLevel};
use sock_tcp::StreamSocket;
use sock_tls::ClientAuth;
use support::certs::{client_trusting, server_config, Ca};
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::LinesCodec;

fn localhost() -> HostName {
    HostName::new("localhost").unwrap()
}

/// Reads one line, and gives the socket back with what was read after it.
async fn read_line(lines: &mut Framed<StreamSocket, LinesCodec>) -> String {
    within(lines.next()).await.unwrap().unwrap()
}

#[tokio::test]
async fn starttls_keeps_the_client_hello_read_with_the_command() {
    let ca = Ca::new("CA");
    let config = server_config(
        &ca.server(&["localhost"]),
        ClientAuth::None,
        ProtectionLevel::Ssl,
    );
    let listener = support::listener().await;
    let port = listener.information().local_port;
    let control = client_trusting(&ca, ProtectionLevel::PlainSocket);

    let client = async {
        let socket = control.connect(&localhost(), port).await.unwrap();
        assert_eq!(socket.protection_level(), ProtectionLevel::PlainSocket);
        let mut lines = socket.framed(LinesCodec::new());
        assert_eq!(read_line(&mut lines).await, "220 ready");
        lines.send("STARTTLS").await.unwrap();
        // No wait for an answer: the hello follows the command at once.
        let socket = StreamSocket::from_framed(lines).await.unwrap();
        let mut tls = socket
            .upgrade_to_tls(ProtectionLevel::Tls13, &localhost())
            .await
            .unwrap();
        assert_eq!(tls.protection_level(), ProtectionLevel::Tls13);
        tls.write_all(b"secret\n").await.unwrap();
        tls.flush().await.unwrap();
        let mut reply = String::new();
        tls.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "250 ok secret\n");
        tls.close().await.unwrap();
    };
    let server = async {
        let socket = listener.accept().await.unwrap();
        let mut lines = socket.framed(LinesCodec::new());
        lines.send("220 ready").await.unwrap();
        assert_eq!(read_line(&mut lines).await, "STARTTLS");
        assert!(
            !lines.read_buffer().is_empty(),
            "the client hello was not read with the command"
        );
        let socket = StreamSocket::from_framed(lines).await.unwrap();
        let tls = socket.upgrade_to_tls_server(&config).await.unwrap();
        let mut lines = tls.framed(LinesCodec::new());
        let secret = read_line(&mut lines).await;
        lines.send(format!("250 ok {secret}")).await.unwrap();
        let socket = StreamSocket::from_framed(lines).await.unwrap();
        socket.close().await.unwrap();
    };
    within(async { tokio::join!(client, server) }).await;
}

#[tokio::test]
async fn the_reply_and_the_start_of_tls_in_one_read_are_both_kept() {
    // Here the accepting side runs the TLS client: its "OK" line and its
    // ClientHello reach the connecting side in one read.
    let ca = Ca::new("CA");
    let config = server_config(
        &ca.server(&["127.0.0.1"]),
        ClientAuth::None,
        ProtectionLevel::Ssl,
    );
    let listener = support::listener().await;
    let port = listener.information().local_port;

    let connecting = async {
        let socket = StreamSocket::connect(&v4(), port).await.unwrap();
        let mut lines = socket.framed(LinesCodec::new());
        lines.send("UPGRADE").await.unwrap();
        assert_eq!(read_line(&mut lines).await, "OK");
        assert!(!lines.read_buffer().is_empty());
        let socket = StreamSocket::from_framed(lines).await.unwrap();
        let mut tls = socket.upgrade_to_tls_server(&config).await.unwrap();
        let mut buf = [0; 5];
        tls.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
    };
    let accepting = async {
        let socket = listener.accept().await.unwrap();
        let mut lines = socket.framed(LinesCodec::new());
        assert_eq!(read_line(&mut lines).await, "UPGRADE");
        lines.feed("OK").await.unwrap();
        // Encoded but not flushed: from_framed sends it, then the hello follows.
        let socket = StreamSocket::from_framed(lines).await.unwrap();
        let config = sock_tls::TlsClientConfig::builder()
            .with_os_roots(false)
            .add_root_certificates_pem(ca.pem().as_bytes())
            .build()
            .unwrap();
        let mut tls = socket.upgrade_to_tls_with(&config, &v4()).await.unwrap();
        tls.write_all(b"hello").await.unwrap();
        tls.flush().await.unwrap();
        tls
    };
    let (_, _tls) = within(async { tokio::join!(connecting, accepting) }).await;
}

#[tokio::test]
async fn a_failed_upgrade_says_why_and_weak_levels_are_refused() {
    let ca = Ca::new("CA");
    let other = Ca::new("Other");
    let config = server_config(
        &other.server(&["localhost"]),
        ClientAuth::None,
        ProtectionLevel::Ssl,
    );
    let (client, server) = support::pair().await;

    let err = client
        .upgrade_to_tls(ProtectionLevel::Tls10, &localhost())
        .await
        .unwrap_err();
    assert!(matches!(err.error(), Error::Unsupported { .. }), "{err}");

    let (client, server2) = support::pair().await;
    drop(server);
    let control_ca = ca.pem();
    let tls_config = sock_tls::TlsClientConfig::builder()
        .with_os_roots(false)
        .add_root_certificates_pem(control_ca.as_bytes())
        .build()
        .unwrap();
    let (client, server) = within(async {
        tokio::join!(
            client.upgrade_to_tls_with(&tls_config, &localhost()),
            server2.upgrade_to_tls_server(&config)
        )
    })
    .await;
    let err = client.unwrap_err();
    assert_eq!(
        err.status(),
        sock_core::SocketErrorStatus::CertificateUntrustedRoot,
        "{err}"
    );
    assert_eq!(err.tls_info().unwrap().peer_certificates().len(), 1);
    assert!(server.is_err());
}

#[tokio::test]
async fn a_tls_socket_cannot_be_upgraded_again() {
    let ca = Ca::new("CA");
    let config = server_config(
        &ca.server(&["127.0.0.1"]),
        ClientAuth::None,
        ProtectionLevel::Ssl,
    );
    let (client, server) = support::pair().await;
    let tls_config = sock_tls::TlsClientConfig::builder()
        .with_os_roots(false)
        .add_root_certificates_pem(ca.pem().as_bytes())
        .build()
        .unwrap();
    let host = v4();
    let (client, _server) = within(async {
        tokio::join!(
            client.upgrade_to_tls_with(&tls_config, &host),
            server.upgrade_to_tls_server(&config)
        )
    })
    .await;
    let err = client
        .unwrap()
        .upgrade_to_tls(ProtectionLevel::Tls12, &v4())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("protected already"), "{err}");
}
