//! `FrameReader::set_frame_timeout`: a frame must arrive whole within the bound
//! once it has begun, however its bytes trickle in; the wait between frames is
//! not bounded. Runs on tokio's paused clock, so the waits cost no real time.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use sock_codec::FrameReader;
use sock_core::{Error, SocketErrorStatus};
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

const TIMEOUT: Duration = Duration::from_secs(1);

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut wire = (payload.len() as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(payload);
    wire
}

fn reader() -> (DuplexStream, FrameReader<DuplexStream>) {
    let (tx, rx) = tokio::io::duplex(1 << 16);
    let mut reader = FrameReader::new(rx);
    reader.set_frame_timeout(Some(TIMEOUT));
    assert_eq!(reader.frame_timeout(), Some(TIMEOUT));
    (tx, reader)
}

#[tokio::test(start_paused = true)]
async fn a_frame_dripped_a_byte_at_a_time_times_out_after_the_bound() {
    let (mut tx, mut reader) = reader();
    tx.write_all(&frame(b"whole")).await.unwrap();
    let wire = frame(&[7; 100]);
    let drip = tokio::spawn(async move {
        // One byte every 300 ms: each read sees progress, the frame never ends
        // in time.
        for byte in wire {
            if tx.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });

    assert_eq!(reader.next().await.unwrap().unwrap(), Bytes::from("whole"));
    let started = Instant::now();
    let err = reader.next().await.unwrap().unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            err,
            Error::TimedOut {
                operation: "reading a frame (frame_timeout)",
                after: TIMEOUT
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), SocketErrorStatus::ConnectionTimedOut);
    assert!(err.to_string().contains("frame_timeout"), "{err}");
    assert!(
        waited >= TIMEOUT && waited < TIMEOUT + Duration::from_millis(400),
        "timed out after {waited:?}"
    );
    assert!(
        reader.next().await.is_none(),
        "the stream ends after the error"
    );
    drop(reader);
    drip.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_bound_is_per_frame_and_the_wait_between_frames_is_free() {
    let (mut tx, mut reader) = reader();
    let send = tokio::spawn(async move {
        for i in 0..3u8 {
            // Idle far longer than the bound before each frame...
            tokio::time::sleep(TIMEOUT * 5).await;
            // ...then the frame in three parts, 300 ms apart: 600 ms in all,
            // under the bound, though the three frames take longer together.
            let wire = frame(&[i; 30]);
            for part in wire.chunks(12) {
                tx.write_all(part).await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    });
    for i in 0..3u8 {
        let got = reader.next().await.unwrap().unwrap();
        assert_eq!(got, Bytes::from(vec![i; 30]));
    }
    send.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn without_a_bound_a_slow_frame_still_arrives() {
    let (mut tx, rx) = tokio::io::duplex(1 << 16);
    let mut reader = FrameReader::new(rx);
    assert_eq!(reader.frame_timeout(), None, "no bound by default");
    let send = tokio::spawn(async move {
        for part in frame(b"patience").chunks(3) {
            tx.write_all(part).await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    });
    assert_eq!(
        reader.next().await.unwrap().unwrap(),
        Bytes::from("patience")
    );
    send.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn skipping_an_oversized_frame_slowly_is_bounded_too() {
    let (mut tx, rx) = tokio::io::duplex(1 << 16);
    let mut reader = sock_codec::LengthPrefixedCodec::builder()
        .max_frame_length(10)
        .skip_oversized(true)
        .new_frame_reader(rx);
    reader.set_frame_timeout(Some(TIMEOUT));
    let drip = tokio::spawn(async move {
        // A 1000-byte frame over the limit, its bytes 100 ms apart: skipping
        // it would take 100 s.
        for byte in frame(&[1; 1000]) {
            if tx.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let started = Instant::now();
    let err = reader.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::TimedOut { .. }), "{err:?}");
    assert!(started.elapsed() < TIMEOUT * 2, "{:?}", started.elapsed());
    assert_eq!(reader.codec().skipped_frames(), 1);
    drop(reader);
    drip.await.unwrap();
}
