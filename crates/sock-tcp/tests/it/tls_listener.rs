//! TLS listeners: `serve` with mutual TLS, handshakes that stall or receive
//! garbage fail only their own connection, and `close` sends close_notify.
#![cfg(feature = "tls")]

use crate::support;
use crate::support::certs;

use std::future::IntoFuture;
use std::time::Duration;

use sock_core::{HostName, ProtectionLevel};
use sock_tls::{ClientAuth, TlsServerConfig};
use support::certs::{await_failed_handshakes, client_trusting, server_config, tls_listener, Ca};
use support::{v4, within};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

fn localhost() -> HostName {
    HostName::new("localhost").unwrap()
}

#[tokio::test]
async fn serve_runs_mutual_tls_and_the_handler_sees_the_client() {
    let ca = Ca::new("CA");
    let listener = tls_listener(server_config(
        &ca.server(&["localhost"]),
        certs::required(&ca),
        ProtectionLevel::Ssl,
    ))
    .await;
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(|socket| async move {
                let who = socket
                    .information()
                    .client_identity()
                    .and_then(|c| c.common_name().map(str::to_owned))
                    .unwrap_or_default();
                let mut lines = BufReader::new(socket);
                let mut line = String::new();
                lines.read_line(&mut line).await?;
                let mut socket = lines.into_inner();
                socket
                    .write_all(format!("{who} said {line}").as_bytes())
                    .await?;
                socket.close().await
            })
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );

    for name in ["alice", "bob"] {
        let leaf = ca.client(name);
        let mut socket = within(
            client_trusting(&ca, ProtectionLevel::Tls13)
                .client_certificate_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes())
                .connect(&localhost(), port),
        )
        .await
        .unwrap();
        socket.write_all(b"hello\n").await.unwrap();
        socket.flush().await.unwrap();
        let mut reply = String::new();
        // The server's close sends close_notify: a clean end of stream.
        within(socket.read_to_string(&mut reply)).await.unwrap();
        assert_eq!(reply, format!("{name} said hello\n"));
        within(socket.close()).await.unwrap();
    }
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.accepted, 2);
    assert_eq!(report.completed, 2, "{report:?}");
    assert_eq!(report.failed_tls_handshakes, 0);
}

/// How long the server waits for a stalled handshake: far longer than a good
/// handshake takes, even in a debug build on a busy machine.
const STALL_TIMEOUT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_stalled_handshake_does_not_block_others_and_times_out() {
    let ca = Ca::new("CA");
    let config = TlsServerConfig::builder()
        .certificate_chain_pem(
            ca.server(&["localhost"]).cert_pem.as_bytes(),
            ca.server(&["localhost"]).key_pem.as_bytes(),
        )
        .build();
    // (a mismatched key is refused: build from one leaf)
    assert!(config.is_err());
    let leaf = ca.server(&["localhost"]);
    let config = TlsServerConfig::builder()
        .certificate_chain_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes())
        .handshake_timeout(STALL_TIMEOUT)
        .build()
        .unwrap();
    let listener = tls_listener(config).await;
    let addr = listener.local_addr();

    // A client that connects and says nothing, and one that sends garbage.
    let stalled = TcpStream::connect(addr).await.unwrap();
    let mut garbage = TcpStream::connect(addr).await.unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    // A good client gets through while the stalled one still holds its slot.
    let (client, server) = within(async {
        tokio::join!(
            client_trusting(&ca, ProtectionLevel::Tls12).connect(&localhost(), addr.port()),
            listener.accept()
        )
    })
    .await;
    client.unwrap();
    server.unwrap();
    // Had the good client waited for the stalled handshake to time out, the
    // stalled connection would be closed by now.
    match stalled.try_read(&mut [0; 16]) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the good client waited for the stalled one: {other:?}"),
    }

    // The garbage sender gets an alert or a close, not a hang.
    let mut buf = Vec::new();
    let _ = within(garbage.read_to_end(&mut buf)).await;

    // The stalled one is dropped at the handshake timeout.
    let mut stalled = stalled;
    let n = within(stalled.read(&mut [0; 16])).await.unwrap_or(0);
    assert_eq!(n, 0, "the stalled connection was closed");
    await_failed_handshakes(&listener, 2).await;
    assert_eq!(listener.failed_tls_handshakes(), 2);
}

#[tokio::test]
async fn serve_counts_failed_handshakes_and_keeps_serving() {
    let ca = Ca::new("CA");
    let listener = tls_listener(server_config(
        &ca.server(&["localhost"]),
        ClientAuth::None,
        ProtectionLevel::Ssl,
    ))
    .await;
    let addr = listener.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(|mut socket| async move {
                socket.write_all(b"hi").await?;
                socket.close().await
            })
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let mut garbage = TcpStream::connect(addr).await.unwrap();
    garbage
        .write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3])
        .await
        .unwrap();
    garbage.write_all(&[0u8; 64]).await.unwrap();
    let mut socket =
        within(client_trusting(&ca, ProtectionLevel::Ssl).connect(&localhost(), addr.port()))
            .await
            .unwrap();
    let mut hi = String::new();
    within(socket.read_to_string(&mut hi)).await.unwrap();
    assert_eq!(hi, "hi");
    let _ = within(garbage.read_to_end(&mut Vec::new())).await;
    drop(socket);
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.accepted, 1, "{report:?}");
    assert_eq!(report.failed_tls_handshakes, 1, "{report:?}");
}

#[tokio::test]
async fn close_sends_close_notify_and_a_drop_does_not() {
    let ca = Ca::new("CA");
    let listener = tls_listener(server_config(
        &ca.server(&["127.0.0.1"]),
        ClientAuth::None,
        ProtectionLevel::Ssl,
    ))
    .await;
    let port = listener.information().local_port;
    let control = client_trusting(&ca, ProtectionLevel::Ssl);

    // close(): the peer reads a clean end of stream.
    let (client, server) =
        within(async { tokio::join!(control.connect(&v4(), port), listener.accept()) }).await;
    let (client, mut server) = (client.unwrap(), server.unwrap());
    let closing = tokio::spawn(client.close());
    let mut rest = Vec::new();
    within(server.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());
    within(server.close()).await.unwrap();
    within(closing).await.unwrap().unwrap();

    // Dropping without close: the peer is told the stream may be truncated.
    let (client, server) =
        within(async { tokio::join!(control.connect(&v4(), port), listener.accept()) }).await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    // Read what the server sent (with TLS 1.3, session tickets too), so the
    // drop closes with a FIN rather than a reset for unread data.
    server.write_all(b"x").await.unwrap();
    server.flush().await.unwrap();
    within(client.read_exact(&mut [0; 1])).await.unwrap();
    drop(client);
    let err = within(server.read_to_end(&mut rest)).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    assert!(err.to_string().contains("close_notify"), "{err}");
}
