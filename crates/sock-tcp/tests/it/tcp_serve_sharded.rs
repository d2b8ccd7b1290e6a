//! `serve_sharded`: listeners on one port (`SO_REUSEPORT`), one per worker
//! thread, a combined report, and shards drained and added while clients
//! keep connecting, without a connection refused or lost.
#![cfg(unix)]

use crate::support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use sock_core::SocketErrorStatus;
use sock_tcp::{StreamSocket, StreamSocketListener};
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads 4 bytes and writes them back.
async fn echo_once(mut socket: StreamSocket) -> sock_core::Result<()> {
    let mut buf = [0u8; 4];
    socket.read_exact(&mut buf).await?;
    socket.write_all(&buf).await?;
    Ok(())
}

/// One round trip on a new connection.
async fn round_trip(addr: SocketAddr, n: u32) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&n.to_be_bytes()).await?;
    let mut back = [0u8; 4];
    stream.read_exact(&mut back).await?;
    assert_eq!(u32::from_be_bytes(back), n);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_share_one_port_on_their_own_threads_and_report_together() {
    let threads: Arc<Mutex<HashSet<ThreadId>>> = Arc::default();
    let seen = Arc::clone(&threads);
    let server = within(
        StreamSocketListener::builder()
            .serve_sharded(Some(&v4()), "", 2, move |socket| {
                seen.lock().unwrap().insert(std::thread::current().id());
                echo_once(socket)
            })
            .start(),
    )
    .await
    .unwrap();
    assert_eq!(server.shard_count(), 2);
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    for n in 0..200 {
        within(round_trip(addr, n)).await.unwrap();
    }
    let report = within(server.shutdown()).await;
    assert_eq!(report.accepted, 200, "{report:?}");
    assert_eq!(report.completed, 200, "{report:?}");
    // The kernel spread 200 connections over both listeners.
    let threads = threads.lock().unwrap();
    assert_eq!(
        threads.len(),
        2,
        "handlers ran on {} threads",
        threads.len()
    );
    assert!(!threads.contains(&std::thread::current().id()));
}

#[tokio::test]
async fn the_last_shard_and_unknown_shards_cannot_be_drained() {
    let mut server = within(
        StreamSocketListener::builder()
            .serve_sharded(Some(&v4()), "", 1, echo_once)
            .start(),
    )
    .await
    .unwrap();
    let err = server.drain_shard(0).await.unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(err.to_string().contains("last shard"), "{err}");
    let err = server.drain_shard(3).await.unwrap_err();
    assert!(err.to_string().contains("drain_shard"), "{err}");
    within(server.shutdown()).await;
}

#[tokio::test]
async fn an_unknown_service_fails_to_start_by_name() {
    let err = within(
        StreamSocketListener::builder()
            .serve_sharded(Some(&v4()), "no-such-sock-service", 2, echo_once)
            .start(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no-such-sock-service"), "{err}");
    assert_eq!(err.status(), SocketErrorStatus::ClassTypeNotFound, "{err}");
}

#[tokio::test]
async fn a_port_taken_without_reuse_port_fails_to_start() {
    let taken = support::listener().await;
    let port = taken.local_addr().port();
    let err = within(
        StreamSocketListener::builder()
            .serve_sharded(Some(&v4()), port, 2, echo_once)
            .start(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.status(),
        SocketErrorStatus::AddressAlreadyInUse,
        "{err}"
    );
}

/// A rolling restart: while a client connects again and again, shards are
/// added and drained; every connection gets its answer.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_come_and_go_without_refusing_or_losing_a_connection() {
    const CONNECTIONS: u32 = 600;
    let mut server = within(
        StreamSocketListener::builder()
            .serve_sharded(Some(&v4()), "", 2, echo_once)
            .start(),
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let done = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&done);
    let client = tokio::spawn(async move {
        let mut failures = Vec::new();
        for n in 0..CONNECTIONS {
            if let Err(e) = within(round_trip(addr, n)).await {
                failures.push(format!("connection {n}: {e}"));
            }
            counter.fetch_add(1, Ordering::Relaxed);
        }
        failures
    });
    // Each step waits until the client has made progress, so shards change
    // while connections arrive.
    let reached = |n: usize| {
        let done = Arc::clone(&done);
        async move {
            while done.load(Ordering::Relaxed) < n {
                tokio::task::yield_now().await;
            }
        }
    };
    let mut drained = 0;
    for (step, at) in [50, 150, 250, 350].into_iter().enumerate() {
        within(reached(at)).await;
        within(server.add_shard()).await.unwrap();
        let report = within(server.drain_shard(step % 2)).await.unwrap();
        drained += report.accepted;
        assert_eq!(server.shard_count(), 2);
    }
    let failures = within(client).await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    let report = within(server.shutdown()).await;
    assert_eq!(report.accepted, u64::from(CONNECTIONS), "{report:?}");
    assert_eq!(report.completed, u64::from(CONNECTIONS), "{report:?}");
    assert!(drained > 0, "the drained shards served no one");
}
