//! Handshake timeouts: a peer that stalls cannot hold a handshake forever,
//! whether the handshake timeout or a caller's own bound ends it.

use crate::support;

use std::time::{Duration, Instant};

use sock_core::{Error, HostName, SocketErrorStatus};
use sock_tls::{TlsClientConfig, DEFAULT_HANDSHAKE_TIMEOUT};
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const SHORT: Duration = Duration::from_millis(300);

fn assert_timed_out(err: &sock_tls::HandshakeError, started: Instant) {
    assert!(
        matches!(
            err.error(),
            Error::TimedOut {
                operation: "tls handshake",
                after
            } if *after == SHORT
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), SocketErrorStatus::ConnectionTimedOut);
    assert_eq!(err.to_string(), "tls handshake timed out after 300ms");
    assert!(started.elapsed() >= SHORT);
}

#[test]
fn the_default_timeout_is_ten_seconds() {
    assert_eq!(DEFAULT_HANDSHAKE_TIMEOUT, Duration::from_secs(10));
    let config = TlsClientConfig::builder().build().unwrap();
    assert_eq!(config.handshake_timeout(), DEFAULT_HANDSHAKE_TIMEOUT);
}

#[tokio::test]
async fn a_server_that_never_answers_times_the_client_out() {
    let ca = Ca::new("CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts, reads nothing, answers nothing; holds the socket until the end.
    let silent = tokio::spawn(async move { listener.accept().await.map(|(s, _)| s) });

    let client = client_trusting(&ca)
        .handshake_timeout(SHORT)
        .build()
        .unwrap();
    let tcp = bounded(TcpStream::connect(addr)).await.unwrap();
    let started = Instant::now();
    let err = bounded(client.connect(&HostName::new("localhost").unwrap(), tcp))
        .await
        .unwrap_err();
    assert_timed_out(&err, started);
    let _held = bounded(silent).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_client_that_sends_nothing_or_half_a_hello_times_the_server_out() {
    let ca = Ca::new("CA");
    let server = server_builder(&ca.server(&["localhost"]))
        .handshake_timeout(SHORT)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    for first_bytes in [&b""[..], &[0x16, 0x03, 0x01, 0x02][..]] {
        let mut stalled = bounded(TcpStream::connect(addr)).await.unwrap();
        stalled.write_all(first_bytes).await.unwrap();
        let (tcp, _) = bounded(listener.accept()).await.unwrap();
        let started = Instant::now();
        let err = bounded(server.accept(tcp)).await.unwrap_err();
        assert_timed_out(&err, started);
        drop(stalled);
    }
}

/// The error a caller's own bound gives.
fn outer_bound() -> Error {
    Error::TimedOut {
        operation: "outer deadline",
        after: SHORT,
    }
}

#[tokio::test]
async fn a_callers_bound_ends_either_side_with_its_own_error() {
    let ca = Ca::new("CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The handshake timeout is far away: only the caller's bound can end it.
    let client = client_trusting(&ca)
        .handshake_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let server = server_builder(&ca.server(&["localhost"]))
        .handshake_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let until = || async {
        tokio::time::sleep(SHORT).await;
        outer_bound()
    };

    // A client whose server accepts and says nothing.
    let (tcp, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let _silent = accepted.unwrap();
    let started = Instant::now();
    let err =
        bounded(client.connect_until(&HostName::new("localhost").unwrap(), tcp.unwrap(), until()))
            .await
            .unwrap_err();
    assert_outer_bound(&err);
    assert!(started.elapsed() >= SHORT);

    // A server whose client says nothing.
    let (_silent, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let started = Instant::now();
    let err = bounded(server.accept_until(accepted.unwrap().0, until()))
        .await
        .unwrap_err();
    assert_outer_bound(&err);
    assert!(started.elapsed() >= SHORT);
}

/// `err` is the caller's bound's, with its status.
fn assert_outer_bound(err: &sock_tls::HandshakeError) {
    assert!(
        matches!(
            err.error(),
            Error::TimedOut {
                operation: "outer deadline",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), SocketErrorStatus::ConnectionTimedOut);
}

#[tokio::test]
async fn a_bound_that_never_ends_leaves_the_handshake_alone() {
    let ca = Ca::new("CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = client_trusting(&ca).build().unwrap();
    let server = server_builder(&ca.server(&["localhost"])).build().unwrap();
    let (tcp, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, server) = bounded(async {
        tokio::join!(
            client.connect_until(
                &HostName::new("localhost").unwrap(),
                tcp.unwrap(),
                std::future::pending::<Error>()
            ),
            server.accept_until(accepted.unwrap().0, std::future::pending::<Error>())
        )
    })
    .await;
    let client = client.unwrap();
    server.unwrap();
    assert!(client.info().is_handshake_complete());
}
