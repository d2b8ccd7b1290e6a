//! A datagram longer than the receive buffer is flagged, never silently cut.

use crate::support;

use sock_udp::{DatagramMessage, DatagramSocket, DEFAULT_MAX_MESSAGE_SIZE, MAX_DATAGRAM_SIZE_V4};
use support::{bind_v4, within};

#[tokio::test]
async fn a_datagram_over_max_message_size_is_flagged_truncated() {
    let receiver = bind_v4(DatagramSocket::builder().max_message_size(16)).await;
    let sender = DatagramSocket::bind_service_name("").await.unwrap();
    let long: Vec<u8> = (0..100).collect();
    sender
        .send_to_addr(receiver.local_addr(), &long)
        .await
        .unwrap();
    sender
        .send_to_addr(receiver.local_addr(), &long[..16])
        .await
        .unwrap();

    let msg = within("long", receiver.recv()).await.unwrap();
    assert!(msg.truncated, "{msg:?}");
    assert_eq!(&msg.data[..], &long[..16]);
    let msg = within("exact", receiver.recv()).await.unwrap();
    assert!(!msg.truncated, "{msg:?}");
    assert_eq!(&msg.data[..], &long[..16]);

    // The same in a batch: each datagram carries its own flag.
    sender
        .send_batch(receiver.local_addr(), &[&long[..5], &long, &long[..3]])
        .await
        .unwrap();
    let mut slots = vec![DatagramMessage::default(); 8];
    let mut got = Vec::new();
    while got.len() < 3 {
        let n = within("batch", receiver.recv_batch(&mut slots))
            .await
            .unwrap();
        got.extend(slots[..n].iter().map(|m| (m.data.len(), m.truncated)));
    }
    assert_eq!(got, vec![(5, false), (16, true), (3, false)]);
}

#[tokio::test]
async fn the_default_limit_takes_the_largest_datagram_whole() {
    const { assert!(DEFAULT_MAX_MESSAGE_SIZE > MAX_DATAGRAM_SIZE_V4) };
    let receiver = bind_v4(DatagramSocket::builder()).await;
    let sender = DatagramSocket::bind_service_name("").await.unwrap();
    let big = vec![0xA5u8; MAX_DATAGRAM_SIZE_V4];
    sender
        .send_to_addr(receiver.local_addr(), &big)
        .await
        .unwrap();
    let msg = within("largest datagram", receiver.recv()).await.unwrap();
    assert!(!msg.truncated);
    assert_eq!(msg.data.len(), MAX_DATAGRAM_SIZE_V4);
}
