//! Connections that never send a ClientHello cannot starve a TLS listener:
//! each is closed at the first-byte timeout, and at the pending-handshake
//! limit the oldest silent one makes room for a new connection. One that
//! sends its first byte has the handshake timeout from then on.
#![cfg(feature = "tls")]

use crate::support;

use std::time::{Duration, Instant};

use sock_core::{HostName, ProtectionLevel};
use sock_tcp::StreamSocketListener;
use sock_tls::{ClientAuth, TlsServerConfig};
use support::certs::{await_failed_handshakes, client_trusting, server_config, Ca};
use support::{closed_by_server, v4, within};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn listener(ca: &Ca, max_pending: usize, first_byte: Duration) -> StreamSocketListener {
    StreamSocketListener::builder()
        .tls_server_config(server_config(
            &ca.server(&["localhost"]),
            ClientAuth::None,
            ProtectionLevel::Ssl,
        ))
        .max_pending_tls_handshakes(max_pending)
        .tls_first_byte_timeout(first_byte)
        .bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_real_client_is_not_queued_behind_silent_connections_at_the_limit() {
    let ca = Ca::new("CA");
    // The first-byte timeout is far away: only the shedding can help.
    let listener = listener(&ca, 4, Duration::from_secs(600)).await;
    let addr = listener.local_addr();
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    let (client, server) = within(async {
        tokio::join!(
            client_trusting(&ca, ProtectionLevel::Tls13)
                .connect(&HostName::new("localhost").unwrap(), addr.port()),
            listener.accept()
        )
    })
    .await;
    client.unwrap();
    server.unwrap();
    assert_eq!(listener.shed_tls_handshakes(), 1);
    // The oldest silent connection made room: it is closed.
    closed_by_server(&mut silent.remove(0)).await;
    // The others still hold their slots.
    let mut buf = [0u8; 1];
    for s in &silent {
        match s.try_read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("a newer silent connection was closed: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_first_byte_timeout() {
    let ca = Ca::new("CA");
    let listener = listener(&ca, 16, Duration::from_millis(200)).await;
    let silent = TcpStream::connect(listener.local_addr()).await.unwrap();
    // Accept runs (and finds nothing to hand out) until the handshake fails.
    await_failed_handshakes(&listener, 1).await;
    closed_by_server(&mut { silent }).await;
    assert_eq!(listener.shed_tls_handshakes(), 0);
}

#[tokio::test]
async fn a_client_that_stalls_after_its_first_byte_is_cut_at_the_handshake_timeout() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    let handshake = Duration::from_secs(2);
    let config = TlsServerConfig::builder()
        .certificate_chain_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes())
        .handshake_timeout(handshake)
        .build()
        .unwrap();
    let listener = StreamSocketListener::builder()
        .tls_server_config(config)
        .tls_first_byte_timeout(Duration::from_millis(200))
        .bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let mut stalled = TcpStream::connect(listener.local_addr()).await.unwrap();
    let started = Instant::now();
    // The first byte of a handshake record, and nothing after it.
    stalled.write_all(&[0x16]).await.unwrap();
    await_failed_handshakes(&listener, 1).await;
    closed_by_server(&mut stalled).await;
    // The byte moved the bound from the first-byte timeout, long past, on to
    // the handshake timeout.
    assert!(
        started.elapsed() >= handshake,
        "cut after {:?}, before the handshake timeout",
        started.elapsed()
    );
}
