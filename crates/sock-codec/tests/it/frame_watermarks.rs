//! `FrameWriter`'s watermarks against a peer that stops reading: the writer
//! stops being writable at the high watermark, holds no more than that plus a
//! frame, and is writable again once the peer has read it below the low one.

use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use sock_codec::{FrameWriter, DEFAULT_HIGH_WATERMARK, DEFAULT_LOW_WATERMARK};
use tokio::io::AsyncReadExt;

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_writer_to_a_stalled_peer_stops_at_the_high_watermark_and_resumes_below_the_low() {
    // The pipe holds 4 KiB: the peer reads nothing until told to.
    let (ours, mut peer) = tokio::io::duplex(4 * 1024);
    let mut writer = FrameWriter::new(ours);
    let frame = Bytes::from(vec![1u8; 1000]);
    assert!(writer.is_writable());

    // Feed without awaiting readiness, as a producer checking is_writable does.
    let mut fed = 0;
    while writer.is_writable() {
        // `feed` runs poll_ready first: under the high watermark it is ready at once.
        tokio::time::timeout(LIMIT, writer.feed(frame.clone()))
            .await
            .expect("feeding under the high watermark does not wait")
            .unwrap();
        fed += 1;
        assert!(fed < 1000, "the writer never stopped being writable");
    }
    let held = writer.pending_len();
    assert!(held >= DEFAULT_HIGH_WATERMARK, "{held}");
    assert!(held < DEFAULT_HIGH_WATERMARK + 1004, "{held}");

    // The peer is stalled: waiting for writability does not finish...
    let stalled = tokio::time::timeout(Duration::from_millis(50), writer.writable()).await;
    assert!(
        stalled.is_err(),
        "writable() finished with the peer stalled"
    );
    assert!(!writer.is_writable(), "still over the low watermark");

    // ...until the peer reads: then the writer drains below the low watermark.
    let reading = tokio::spawn(async move {
        let mut sink = vec![0u8; 64 * 1024];
        let mut total = 0usize;
        loop {
            match peer.read(&mut sink).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    });
    tokio::time::timeout(LIMIT, writer.writable())
        .await
        .expect("the writer drains once the peer reads")
        .unwrap();
    assert!(writer.pending_len() < DEFAULT_LOW_WATERMARK);
    assert!(writer.is_writable());

    writer.close().await.unwrap();
    let total = tokio::time::timeout(LIMIT, reading).await.unwrap().unwrap();
    assert_eq!(total, fed * (1000 + 4), "every frame arrived whole");
}

#[tokio::test]
async fn send_waits_at_the_high_watermark_so_memory_stays_bounded() {
    let (ours, peer) = tokio::io::duplex(1024);
    let mut writer = FrameWriter::new(ours);
    writer.set_watermarks(2 * 1024, 8 * 1024).unwrap();
    let frame = Bytes::from(vec![2u8; 1500]);
    // With the peer stalled, `send` (ready, then write out) cannot finish.
    let mut sent = 0;
    let stuck = tokio::time::timeout(Duration::from_millis(100), async {
        loop {
            writer.feed(frame.clone()).await.unwrap();
            sent += 1;
        }
    })
    .await;
    assert!(stuck.is_err());
    assert!(
        writer.pending_len() <= 8 * 1024 + 1504,
        "{}",
        writer.pending_len()
    );
    assert!(sent < 20, "fed {sent} frames into a stalled peer");
    drop(peer);
}

#[test]
fn a_low_watermark_above_the_high_one_is_refused_by_name() {
    let (ours, _peer) = tokio::io::duplex(64);
    let mut writer = FrameWriter::new(ours);
    let err = writer.set_watermarks(10, 5).unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(err.to_string().contains("watermarks"), "{err}");
    // Nothing changed: the defaults still hold.
    assert!(writer.is_writable());
    writer.set_watermarks(5, 5).unwrap();
}
