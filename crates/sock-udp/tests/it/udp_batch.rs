//! `send_batch` and `recv_batch` move long runs of datagrams with nothing lost
//! or reordered: with segmentation offload, without it, and with receive
//! offload splitting coalesced datagrams back apart.

use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sock_udp::{DatagramMessage, DatagramSocket, DatagramSocketControl};
use support::{bind_v4, within};
use tokio::sync::watch;

/// Datagrams sent per `send_batch` call.
const CHUNK: u64 = 200;
/// Datagrams in flight at most: well under what the receive buffer holds.
const WINDOW: u64 = 1_000;

/// The size of datagram `seq`: mostly 1200 bytes, with runs broken by
/// shorter and longer ones so segmented sends end and restart.
fn size_of_seq(seq: u64) -> usize {
    match seq % 97 {
        13 => 700,
        50 => 1400,
        96 => 9,
        _ => 1200,
    }
}

fn datagram(seq: u64) -> Bytes {
    let mut d = seq.to_be_bytes().to_vec();
    d.resize(size_of_seq(seq), (seq % 251) as u8);
    Bytes::from(d)
}

/// How a batch's datagrams lie in memory.
#[derive(Clone, Copy)]
enum Layout {
    /// Each in its own allocation.
    Separate,
    /// One after another in one buffer (the sender hands them to the kernel
    /// as runs).
    Sliced,
    /// In one buffer, with a byte between every third and the next, so some
    /// runs join and some do not.
    Gapped,
}

fn batch(seqs: std::ops::Range<u64>, layout: Layout) -> Vec<Bytes> {
    if let Layout::Separate = layout {
        return seqs.map(datagram).collect();
    }
    let mut buf = Vec::new();
    let mut spans = Vec::new();
    for seq in seqs {
        if matches!(layout, Layout::Gapped) && seq % 3 == 0 {
            buf.push(0xee);
        }
        let start = buf.len();
        buf.extend_from_slice(&datagram(seq));
        spans.push(start..buf.len());
    }
    let buf = Bytes::from(buf);
    spans.into_iter().map(|span| buf.slice(span)).collect()
}

struct Outcome {
    received: u64,
    out_of_order: u64,
}

async fn run(
    count: u64,
    sender: DatagramSocketControl,
    receiver: DatagramSocketControl,
) -> Outcome {
    run_with(count, sender, receiver, Layout::Separate).await
}

async fn run_with(
    count: u64,
    sender: DatagramSocketControl,
    receiver: DatagramSocketControl,
    layout: Layout,
) -> Outcome {
    let receiver = bind_v4(receiver.inbound_buffer_size(4 << 20)).await;
    let dest: SocketAddr = receiver.local_addr();
    let sender = Arc::new(sender.bind_service_name("").await.unwrap());
    let (progress_tx, mut progress_rx) = watch::channel(0u64);

    let send_task = tokio::spawn(async move {
        let mut seq = 0;
        while seq < count {
            let end = (seq + CHUNK).min(count);
            within(
                "receiver to catch up",
                progress_rx.wait_for(|&got| end <= got + WINDOW),
            )
            .await
            .unwrap();
            let batch = batch(seq..end, layout);
            let sent = sender.send_batch(dest, &batch).await.unwrap();
            assert_eq!(sent as u64, end - seq);
            seq = end;
        }
    });

    let mut slots = vec![DatagramMessage::default(); 64];
    let mut received = 0u64;
    let mut out_of_order = 0u64;
    let mut next_expected = 0u64;
    while next_expected < count {
        let Ok(n) =
            tokio::time::timeout(Duration::from_secs(1), receiver.recv_batch(&mut slots)).await
        else {
            break;
        };
        let n = n.expect("recv_batch");
        assert!(n >= 1 && n <= slots.len());
        for msg in &slots[..n] {
            let seq = u64::from_be_bytes(msg.data[..8].try_into().unwrap());
            assert_eq!(msg.data, datagram(seq), "datagram {seq}");
            assert!(!msg.truncated);
            if seq < next_expected {
                out_of_order += 1;
            } else {
                next_expected = seq + 1;
            }
            received += 1;
        }
        progress_tx.send_replace(received);
    }
    within("sender", send_task).await.unwrap();
    let lost = count - received;
    println!("received {received} of {count}: {lost} lost, {out_of_order} out of order");
    Outcome {
        received,
        out_of_order,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_datagrams_arrive_whole_and_in_order() {
    let out = run(
        100_000,
        DatagramSocket::builder(),
        DatagramSocket::builder(),
    )
    .await;
    assert_eq!((out.received, out.out_of_order), (100_000, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagrams_sliced_from_one_buffer_arrive_whole_and_in_order() {
    for layout in [Layout::Sliced, Layout::Gapped] {
        let out = run_with(
            20_000,
            DatagramSocket::builder(),
            DatagramSocket::builder(),
            layout,
        )
        .await;
        assert_eq!((out.received, out.out_of_order), (20_000, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_segmentation_offload_nothing_changes_but_speed() {
    let out = run(
        20_000,
        DatagramSocket::builder().segmentation_offload(false),
        DatagramSocket::builder(),
    )
    .await;
    assert_eq!((out.received, out.out_of_order), (20_000, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_offload_splits_coalesced_datagrams_back_apart() {
    let out = run(
        20_000,
        DatagramSocket::builder(),
        DatagramSocket::builder().receive_offload(true),
    )
    .await;
    assert_eq!((out.received, out.out_of_order), (20_000, 0));
}

#[tokio::test]
async fn recv_batch_also_hands_out_single_datagrams_and_recv_reads_batches() {
    let receiver = bind_v4(DatagramSocket::builder().receive_offload(true)).await;
    let sender = DatagramSocket::bind_service_name("").await.unwrap();
    // A segmented send, read one at a time by recv.
    let batch: Vec<Bytes> = (0..10).map(datagram).collect();
    sender
        .send_batch(receiver.local_addr(), &batch)
        .await
        .unwrap();
    for seq in 0..10 {
        let msg = within("recv", receiver.recv()).await.unwrap();
        assert_eq!(msg.data, datagram(seq));
    }
    // No slots: nothing to do.
    assert_eq!(receiver.recv_batch(&mut []).await.unwrap(), 0);
    // Plain sends, read by recv_batch.
    sender
        .send_to_addr(receiver.local_addr(), b"one")
        .await
        .unwrap();
    let mut slots = vec![DatagramMessage::default(); 4];
    let n = within("recv_batch", receiver.recv_batch(&mut slots))
        .await
        .unwrap();
    assert_eq!((n, &slots[0].data[..]), (1, &b"one"[..]));
    assert_eq!(slots[0].remote_port, sender.local_addr().port());
}

#[tokio::test]
async fn segmentation_is_reported_and_an_empty_batch_sends_nothing() {
    let receiver = bind_v4(DatagramSocket::builder()).await;
    let sender = DatagramSocket::bind_service_name("").await.unwrap();
    if cfg!(target_os = "linux") {
        assert!(sender.segmentation_offload(), "linux loopback has UDP GSO");
    }
    let none: [Bytes; 0] = [];
    assert_eq!(
        sender
            .send_batch(receiver.local_addr(), &none)
            .await
            .unwrap(),
        0
    );
    // An empty datagram is a datagram.
    assert_eq!(
        sender
            .send_batch(
                receiver.local_addr(),
                &[Bytes::new(), Bytes::from_static(b"x")]
            )
            .await
            .unwrap(),
        2
    );
    assert!(within("empty", receiver.recv())
        .await
        .unwrap()
        .data
        .is_empty());
    assert_eq!(&within("x", receiver.recv()).await.unwrap().data[..], b"x");
}
