//! Load: 1,000,000 datagrams through `send_batch` and `recv_batch` on
//! loopback, each carrying its sequence number, twice:
//!
//! - sent as fast as `send_batch` goes into the default receive buffer: UDP
//!   may drop; what is lost is counted and reported, and what arrives is
//!   whole, never duplicated;
//! - into a large receive buffer (8 MiB asked for), with the sender keeping
//!   no more in flight than that buffer holds: nothing is lost.
//!
//! Slow, so ignored by default; run with `cargo xtask test --stress`, or
//! `cargo test -p sock-udp --release --test it stress_datagrams -- --ignored --nocapture --test-threads=1`.

use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sock_udp::{DatagramMessage, DatagramSocket};
use support::{bind_v4, within};
use tokio::sync::watch;

const COUNT: u64 = 1_000_000;
/// Datagrams per `send_batch` call.
const CHUNK: u64 = 256;
/// Each datagram: its sequence number, then filler derived from it.
const SIZE: usize = 64;
/// The whole test, however slow the machine.
const DEADLINE: Duration = Duration::from_secs(300);
/// The receiver gives up after this long without a datagram.
const QUIET: Duration = Duration::from_secs(1);

fn datagram(seq: u64) -> Bytes {
    let mut d = seq.to_be_bytes().to_vec();
    d.resize(SIZE, (seq % 251) as u8);
    Bytes::from(d)
}

struct Outcome {
    received: u64,
    elapsed: Duration,
}

/// Sends `COUNT` datagrams; with `window`, at most that many are ahead of
/// what the receiver has taken.
async fn run(inbound_buffer: Option<usize>, window: Option<u64>) -> Outcome {
    let mut control = DatagramSocket::builder();
    if let Some(bytes) = inbound_buffer {
        control = control.inbound_buffer_size(bytes);
    }
    let receiver = bind_v4(control).await;
    let dest: SocketAddr = receiver.local_addr();
    let sender = Arc::new(bind_v4(DatagramSocket::builder()).await);
    let (progress_tx, mut progress_rx) = watch::channel(0u64);
    let started = Instant::now();

    let send_task = tokio::spawn(async move {
        let mut seq = 0;
        while seq < COUNT {
            let end = (seq + CHUNK).min(COUNT);
            if let Some(window) = window {
                within(
                    "the receiver to catch up",
                    progress_rx.wait_for(|&got| end <= got + window),
                )
                .await
                .unwrap();
            }
            let batch: Vec<Bytes> = (seq..end).map(datagram).collect();
            let mut sent = 0;
            while sent < batch.len() {
                sent += sender.send_batch(dest, &batch[sent..]).await.unwrap();
            }
            seq = end;
            if window.is_none() && seq % (64 * CHUNK) == 0 {
                // Unpaced, but let the receiver's task run on a busy runtime.
                tokio::task::yield_now().await;
            }
        }
    });

    let mut slots = vec![DatagramMessage::default(); 64];
    let mut seen = vec![false; COUNT as usize];
    let mut received = 0u64;
    loop {
        let Ok(n) = tokio::time::timeout(QUIET, receiver.recv_batch(&mut slots)).await else {
            break;
        };
        let n = n.expect("recv_batch");
        for msg in &slots[..n] {
            let seq = u64::from_be_bytes(msg.data[..8].try_into().unwrap());
            assert!(!msg.truncated);
            assert_eq!(msg.data, datagram(seq), "datagram {seq} arrived damaged");
            assert!(!seen[seq as usize], "datagram {seq} arrived twice");
            seen[seq as usize] = true;
            received += 1;
        }
        progress_tx.send_replace(received);
        if received == COUNT {
            break;
        }
    }
    let elapsed = started.elapsed();
    within("the sender", send_task).await.unwrap();
    Outcome { received, elapsed }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run by cargo xtask test --stress"]
async fn stress_a_million_datagrams_unpaced_losses_are_counted() {
    let out = tokio::time::timeout(DEADLINE, run(None, None))
        .await
        .expect("deadline");
    let lost = COUNT - out.received;
    println!(
        "stress udp (default receive buffer, unpaced): sent {COUNT}, received {}, lost {lost} \
         ({:.3}%), in {:.2?}",
        out.received,
        lost as f64 * 100.0 / COUNT as f64,
        out.elapsed
    );
    assert!(out.received > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run by cargo xtask test --stress"]
async fn stress_a_million_datagrams_into_a_large_buffer_lose_nothing() {
    // 8 MiB asked for (the kernel may cap it at net.core.rmem_max); 4,096
    // datagrams of 64 bytes in flight take well under 4 MiB of it, counting
    // the kernel's per-datagram overhead.
    let out = tokio::time::timeout(DEADLINE, run(Some(8 << 20), Some(4_096)))
        .await
        .expect("deadline");
    let lost = COUNT - out.received;
    println!(
        "stress udp (8 MiB receive buffer, 4096 in flight): sent {COUNT}, received {}, \
         lost {lost}, in {:.2?}",
        out.received, out.elapsed
    );
    assert_eq!(lost, 0);
}
