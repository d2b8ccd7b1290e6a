//! `messages()` delivers a long run of datagrams in order, with nothing lost
//! when the receive buffer is large enough for what is in flight.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sock_udp::DatagramSocket;
use support::{bind_v4, within};
use tokio::sync::watch;

const COUNT: u64 = 10_000;
/// At most this many datagrams in flight: far less than the receive buffer holds.
const WINDOW: u64 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_delivers_ten_thousand_datagrams_in_order() {
    let receiver = bind_v4(DatagramSocket::builder().inbound_buffer_size(4 << 20)).await;
    let dest = receiver.local_addr();
    let sender = Arc::new(DatagramSocket::bind_service_name("").await.unwrap());
    let (progress_tx, mut progress_rx) = watch::channel(0u64);

    let send_task = tokio::spawn(async move {
        for seq in 0..COUNT {
            // Wait until the receiver is less than a window behind.
            within(
                "receiver to catch up",
                progress_rx.wait_for(|&got| seq < got + WINDOW),
            )
            .await
            .unwrap();
            let mut payload = seq.to_be_bytes().to_vec();
            payload.resize(100, seq as u8);
            sender.send_to_addr(dest, &payload).await.unwrap();
        }
    });

    let mut messages = receiver.messages();
    let mut received = 0u64;
    let mut out_of_order = 0u64;
    let mut next_expected = 0u64;
    while next_expected < COUNT {
        // A lost datagram would stall the sender's window: stop after a quiet
        // second and count what is missing.
        let Ok(item) = tokio::time::timeout(Duration::from_secs(1), messages.next()).await else {
            break;
        };
        let msg = item.expect("stream never ends").expect("recv");
        assert_eq!(msg.data.len(), 100);
        let seq = u64::from_be_bytes(msg.data[..8].try_into().unwrap());
        assert!(
            msg.data[8..].iter().all(|&b| b == seq as u8),
            "payload of {seq}"
        );
        if seq < next_expected {
            out_of_order += 1;
        } else {
            next_expected = seq + 1;
        }
        received += 1;
        progress_tx.send_replace(received);
    }
    let lost = COUNT - received;
    println!("received {received} of {COUNT}: {lost} lost, {out_of_order} out of order");
    assert_eq!((lost, out_of_order), (0, 0));
    within("sender", send_task).await.unwrap();
}
