//! A TLS connect to a server that accepts and then never answers ends at
//! whichever bound comes first: the handshake timeout, or the connect timeout
//! (which covers the whole connect, handshake included). Timeouts too long
//! for the clock mean none.
#![cfg(feature = "tls")]

use crate::support;

use std::time::Duration;

use sock_core::{Error, HostName, ProtectionLevel, SocketErrorStatus as S};
use sock_tls::TlsServerConfig;
use support::certs::{client_trusting, tls_listener, Ca};
use support::{v4, within};
use tokio::net::TcpListener;

/// A TCP listener that accepts and keeps every connection, saying nothing.
async fn mute_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (port, task)
}

fn timed_out_operation(err: &Error) -> &'static str {
    assert_eq!(err.status(), S::ConnectionTimedOut, "{err}");
    match err {
        Error::TimedOut { operation, .. } => operation,
        other => panic!("expected TimedOut, got {other:?}"),
    }
}

#[tokio::test]
async fn a_connect_timeout_shorter_than_the_handshake_timeout_ends_the_handshake() {
    let (port, server) = mute_server().await;
    let ca = Ca::new("Timeout CA");
    let control = client_trusting(&ca, ProtectionLevel::Tls13)
        .connect_timeout(Duration::from_millis(300))
        .tls_handshake_timeout(Duration::from_secs(30));
    let err = within(control.connect(&v4(), port)).await.unwrap_err();
    assert_eq!(timed_out_operation(&err), "tls handshake (connect_timeout)");
    server.abort();
}

#[tokio::test]
async fn a_handshake_timeout_shorter_than_the_connect_timeout_ends_the_handshake() {
    let (port, server) = mute_server().await;
    let ca = Ca::new("Timeout CA");
    let control = client_trusting(&ca, ProtectionLevel::Tls13)
        .connect_timeout(Duration::from_secs(30))
        .tls_handshake_timeout(Duration::from_millis(300));
    let err = within(control.connect(&v4(), port)).await.unwrap_err();
    assert_eq!(timed_out_operation(&err), "tls handshake");
    server.abort();
}

#[tokio::test]
async fn timeouts_too_long_for_the_clock_mean_no_timeout() {
    let ca = Ca::new("Timeout CA");
    let leaf = ca.server(&["localhost"]);
    let config = TlsServerConfig::builder()
        .certificate_chain_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes())
        .handshake_timeout(Duration::MAX)
        .build()
        .unwrap();
    let listener = tls_listener(config).await;
    let control = client_trusting(&ca, ProtectionLevel::Tls13)
        .connect_timeout(Duration::MAX)
        .tls_handshake_timeout(Duration::MAX);
    let (client, server) = within(async {
        tokio::join!(
            control.connect(
                &HostName::new("localhost").unwrap(),
                listener.local_addr().port()
            ),
            listener.accept()
        )
    })
    .await;
    client.unwrap();
    server.unwrap();
}

#[tokio::test]
async fn a_handshake_cut_by_the_connect_timeout_says_tls_had_started() {
    let (port, server) = mute_server().await;
    let ca = Ca::new("Timeout CA");
    let control = client_trusting(&ca, ProtectionLevel::Tls13)
        .connect_timeout(Duration::from_millis(300))
        .tls_handshake_timeout(Duration::from_secs(30));
    let err = within(control.connect_with_tls_info(&v4(), port))
        .await
        .unwrap_err();
    assert_eq!(
        timed_out_operation(err.error()),
        "tls handshake (connect_timeout)"
    );
    // The failure came during TLS, not before it: the information is there
    // (nothing learned yet from a server that never answered).
    let info = err.tls_info().expect("tls had started");
    assert!(!info.is_handshake_complete());
    assert!(info.peer_certificates().is_empty());
    server.abort();
}
