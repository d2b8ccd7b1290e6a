//! A peer that announces a 4 GiB frame gets `LimitExceeded` on its own
//! connection before any buffer grows: the server's memory does not move, and
//! other connections keep echoing.
//!
//! One test in this file on purpose: it reads the process's resident memory,
//! which other tests running beside it would disturb.

use crate::faults;
use crate::support;

use faults::{echo_once, EchoServer, Outcome};
use sock_core::SocketErrorStatus as S;
use sock_tcp::StreamSocket;
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Peers that each announce a frame of `u32::MAX` bytes (4 GiB - 1), the
/// largest the default 4-byte prefix can say.
const LIARS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_four_gib_frame_announcement_fails_that_connection_and_costs_no_memory() {
    let mut server = EchoServer::start(None).await;
    let mut good = within(StreamSocket::connect(&v4(), server.port()))
        .await
        .unwrap();
    echo_once(&mut good, b"warm up").await;
    let before = faults::resident_bytes();

    let mut liars = Vec::new();
    for _ in 0..LIARS {
        let mut liar = within(StreamSocket::connect(&v4(), server.port()))
            .await
            .unwrap();
        // The header, then the start of the "payload".
        liar.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        liar.write_all(&[0xAB; 1024]).await.unwrap();
        liars.push(liar);
    }
    for _ in 0..LIARS {
        match server.next_outcome().await {
            Outcome::Failed {
                status,
                limit,
                announced,
                message,
            } => {
                assert_eq!(limit, Some("max_frame_length"), "{message}");
                assert_eq!(announced, u64::from(u32::MAX), "{message}");
                assert_eq!(status, S::MessageTooLong, "{message}");
            }
            other => panic!("a 4 GiB announcement was not refused: {other:?}"),
        }
    }
    // Each liar's connection is closed by the server, with no reply.
    for mut liar in liars {
        let mut rest = Vec::new();
        let _ = within(liar.read_to_end(&mut rest)).await;
        assert!(rest.is_empty());
    }
    let after = faults::resident_bytes();
    let grown = after.saturating_sub(before);
    println!(
        "{LIARS} announcements of {} bytes: resident memory {before} -> {after} bytes",
        u32::MAX
    );
    // Had any of them reserved even the 8 MiB default limit, this would be
    // 256 MiB.
    assert!(grown < 16 << 20, "resident memory grew by {grown} bytes");

    // The well-behaved connection never noticed.
    echo_once(&mut good, b"still here").await;
    drop(good);
    assert!(matches!(server.next_outcome().await, Outcome::Echoed(2)));
    let report = server.stop().await;
    assert_eq!(
        (report.failed, report.completed),
        (LIARS as u64, 1),
        "{report:?}"
    );
}
