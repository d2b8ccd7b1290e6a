//! Misbehaving peers, played by an in-test proxy (`faults::Proxy`) between a
//! client and a `serve` echo server: a peer that resets or vanishes mid-frame,
//! and a slowloris, each fail only their own connection, with an error that
//! says what happened, while other clients are served.

use crate::faults;
use crate::support;

use std::time::{Duration, Instant};

use faults::{echo_once, frame, EchoServer, Fault, Outcome, Proxy};
use sock_core::SocketErrorStatus as S;
use sock_tcp::StreamSocket;
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A 1000-byte frame of which the proxy lets through the header and 300
/// payload bytes.
const PASSED: usize = 4 + 300;

fn big_frame() -> Vec<u8> {
    frame(&[7u8; 1000])
}

async fn connect(port: u16) -> StreamSocket {
    within(StreamSocket::connect(&v4(), port)).await.unwrap()
}

#[tokio::test]
async fn a_peer_that_resets_mid_frame_fails_only_its_connection() {
    let mut server = EchoServer::start(None).await;
    let proxy = Proxy::start(server.addr, Fault::ResetAfter(PASSED), Fault::Pass).await;
    let mut good = connect(server.port()).await;
    echo_once(&mut good, b"before").await;

    let mut crashing = connect(proxy.port()).await;
    crashing.write_all(&big_frame()).await.unwrap();
    // The server's read of the rest of the frame fails with the reset.
    match server.next_outcome().await {
        Outcome::Failed {
            status, message, ..
        } => assert_eq!(status, S::ConnectionResetByPeer, "{message}"),
        other => panic!("the server did not see the reset: {other:?}"),
    }
    // The client is reset too (the proxy stands for a crashed path).
    let mut buf = [0u8; 16];
    let err = within(crashing.read(&mut buf)).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");

    // Nothing else noticed.
    echo_once(&mut good, b"after").await;
    drop(good);
    assert!(matches!(server.next_outcome().await, Outcome::Echoed(2)));
    let report = server.stop().await;
    assert_eq!((report.failed, report.completed), (1, 1), "{report:?}");
}

#[tokio::test]
async fn a_peer_that_vanishes_mid_frame_is_reported_with_the_missing_bytes() {
    let mut server = EchoServer::start(None).await;
    let proxy = Proxy::start(server.addr, Fault::CutAfter(PASSED), Fault::Pass).await;

    let mut vanishing = connect(proxy.port()).await;
    vanishing.write_all(&big_frame()).await.unwrap();
    match server.next_outcome().await {
        Outcome::Failed { message, .. } => assert_eq!(
            message,
            "unexpected end of stream in a frame: 700 of 1000 payload bytes missing"
        ),
        other => panic!("the server did not see the cut: {other:?}"),
    }
    // The client's connection ends too (with a FIN, or a reset if the
    // proxy left its bytes unread), and no reply came for the half frame.
    let mut rest = Vec::new();
    let _ = within(vanishing.read_to_end(&mut rest)).await;
    assert!(rest.is_empty());
    let report = server.stop().await;
    assert_eq!(report.failed, 1, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_is_cut_off_by_the_idle_timeout_while_others_are_served() {
    const IDLE: Duration = Duration::from_millis(300);
    let mut server = EchoServer::start(Some(IDLE)).await;
    // One byte per second reaches the server.
    let proxy = Proxy::start(
        server.addr,
        Fault::Trickle {
            bytes: 1,
            every: Duration::from_secs(1),
        },
        Fault::Pass,
    )
    .await;

    let started = Instant::now();
    let mut slow = connect(proxy.port()).await;
    slow.write_all(&frame(b"hello, slowly")).await.unwrap();

    // Meanwhile a well-behaved client is served, frame after frame.
    let port = server.port();
    let good = tokio::spawn(async move {
        let mut socket = connect(port).await;
        for i in 0..50u32 {
            echo_once(&mut socket, &i.to_be_bytes()).await;
        }
        socket.close().await.unwrap();
    });

    // The server gives up on the slow one after one idle timeout: the client
    // sees the connection end long before its frame could have arrived
    // (17 bytes at one per second).
    let mut rest = Vec::new();
    let _ = within(slow.read_to_end(&mut rest)).await;
    let closed_after = started.elapsed();
    assert!(rest.is_empty());
    assert!(
        closed_after < Duration::from_secs(5),
        "closed after {closed_after:?}"
    );
    within(good).await.unwrap();
    // Both connections have ended, in either order.
    let (mut timed_out, mut echoed) = (0, 0);
    for _ in 0..2 {
        match server.next_outcome().await {
            Outcome::Failed {
                status, message, ..
            } => {
                assert_eq!(status, S::ConnectionTimedOut, "{message}");
                assert!(message.contains("timed out after 300ms"), "{message}");
                timed_out += 1;
            }
            Outcome::Echoed(n) => {
                assert_eq!(n, 50);
                echoed += 1;
            }
        }
    }
    assert_eq!((timed_out, echoed), (1, 1));
    let report = server.stop().await;
    assert_eq!((report.completed, report.failed), (1, 1), "{report:?}");
}

#[tokio::test]
async fn replies_through_a_slow_path_arrive_whole_and_in_order() {
    // The proxy itself must not be what loses data: latency and a trickle
    // on the way back change timing only.
    let mut server = EchoServer::start(None).await;
    let proxy = Proxy::start(
        server.addr,
        Fault::Delay(Duration::from_millis(50)),
        Fault::Trickle {
            bytes: 7,
            every: Duration::from_millis(1),
        },
    )
    .await;
    let mut socket = connect(proxy.port()).await;
    for i in 0..20u32 {
        echo_once(&mut socket, &vec![i as u8; i as usize * 10]).await;
    }
    drop(socket);
    assert!(matches!(server.next_outcome().await, Outcome::Echoed(20)));
    server.stop().await;
}
