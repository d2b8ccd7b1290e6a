//! Misbehaving peers: garbage at a TLS listener fails that connection only,
//! with an error that says so.

use crate::support;

use std::net::SocketAddr;

use sock_core::{Error, HostName};
use sock_tls::TlsServerConfig;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A TLS echo listener: each connection is handshaken in its own task and its
/// outcome reported on the channel.
async fn listener(server: TlsServerConfig) -> (SocketAddr, mpsc::Receiver<Result<(), Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let server = server.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let outcome = match server.accept(tcp).await {
                    Ok(mut tls) => {
                        let mut buf = [0; 5];
                        let echoed = async {
                            tls.read_exact(&mut buf).await?;
                            tls.write_all(&buf).await?;
                            tls.shutdown().await
                        };
                        echoed.await.map_err(Error::from)
                    }
                    Err(e) => Err(e.into()),
                };
                let _ = tx.send(outcome).await;
            });
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn garbage_at_a_tls_listener_fails_that_connection_only() {
    let ca = Ca::new("CA");
    let (addr, mut outcomes) = listener(server_config(&ca.server(&["localhost"]))).await;

    let garbage: [&[u8]; 3] = [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        // A handshake record header announcing an absurd length, then junk.
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x02, 0x03],
        // An empty connection: connect and close.
        b"",
    ];
    for bytes in garbage {
        let mut tcp = bounded(TcpStream::connect(addr)).await.unwrap();
        tcp.write_all(bytes).await.unwrap();
        tcp.shutdown().await.unwrap();
        // Whatever the server answers (an alert), it then closes.
        let mut answer = Vec::new();
        let _ = bounded(tcp.read_to_end(&mut answer)).await;
        let err = bounded(outcomes.recv()).await.unwrap().unwrap_err();
        assert!(matches!(err, Error::Tls { .. }), "{err:?}");
        let text = err.to_string();
        if bytes.starts_with(b"GET") {
            assert!(text.contains("is it speaking plain text"), "{text}");
        }
        if bytes.is_empty() {
            assert!(
                text.contains("closed the connection during the tls handshake"),
                "{text}"
            );
        }
    }

    // The listener still serves a real client.
    let client = client_trusting(&ca).build().unwrap();
    let tcp = bounded(TcpStream::connect(addr)).await.unwrap();
    let mut tls = bounded(client.connect(&HostName::new("localhost").unwrap(), tcp))
        .await
        .unwrap();
    tls.write_all(b"hello").await.unwrap();
    tls.flush().await.unwrap();
    let mut echo = Vec::new();
    bounded(tls.read_to_end(&mut echo)).await.unwrap();
    assert_eq!(echo, b"hello");
    bounded(outcomes.recv()).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_client_meeting_a_plaintext_server_fails_clearly() {
    let ca = Ca::new("CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let _ = tcp.write_all(b"220 smtp.localhost ESMTP ready\r\n").await;
        let mut sink = Vec::new();
        let _ = tcp.read_to_end(&mut sink).await;
    });
    let client = client_trusting(&ca).build().unwrap();
    let tcp = bounded(TcpStream::connect(addr)).await.unwrap();
    let err = bounded(client.connect(&HostName::new("localhost").unwrap(), tcp))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not valid tls"), "{err}");
    assert!(err.info().peer_certificates().is_empty());
}
