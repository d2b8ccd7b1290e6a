//! A frame or a line must arrive within its arrival bound (5 minutes by
//! default), checked as its bytes come: a peer that drips one byte just
//! inside every idle timeout is cut off, a slow but steady one is not.
//!
//! The clock is tokio's, paused: time moves only when the test advances it.

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use sock_codec::{
    BytesLineCodec, LengthPrefixedCodec, LineCodec, DEFAULT_FRAME_TIMEOUT, DEFAULT_LINE_TIMEOUT,
};
use sock_core::Error;
use tokio::time::advance;
use tokio_util::codec::Decoder;

const SECOND: Duration = Duration::from_secs(1);

fn is_arrival_timeout(e: &Error, what: &str) -> bool {
    matches!(e, Error::TimedOut { operation, after } if operation.contains(what) && *after == 10 * SECOND)
}

#[test]
fn the_defaults_are_five_minutes() {
    assert_eq!(DEFAULT_FRAME_TIMEOUT, 300 * SECOND);
    assert_eq!(DEFAULT_LINE_TIMEOUT, DEFAULT_FRAME_TIMEOUT);
    assert_eq!(LineCodec::new().line_timeout(), Some(DEFAULT_LINE_TIMEOUT));
    assert_eq!(
        BytesLineCodec::new().line_timeout(),
        Some(DEFAULT_LINE_TIMEOUT)
    );
}

#[tokio::test(start_paused = true)]
async fn a_frame_dripped_past_its_bound_ends_the_stream() {
    let mut dec = LengthPrefixedCodec::builder()
        .frame_timeout(Some(10 * SECOND))
        .new_codec();
    let mut src = BytesMut::new();
    src.put_u32(100);
    src.put_slice(b"a");
    assert!(dec.decode(&mut src).unwrap().is_none());
    // A byte every 3 s: fine for 9 s, refused at 12 s.
    for _ in 0..3 {
        advance(3 * SECOND).await;
        src.put_slice(b"a");
        assert!(dec.decode(&mut src).unwrap().is_none());
    }
    advance(3 * SECOND).await;
    src.put_slice(b"a");
    let err = dec.decode(&mut src).unwrap_err();
    assert!(
        is_arrival_timeout(&err, "a frame's arrival (frame_timeout)"),
        "{err}"
    );
    assert!(src.is_empty(), "the partial frame is dropped");
    assert!(dec.decode(&mut src).is_err(), "the stream is done");
}

#[tokio::test(start_paused = true)]
async fn a_slow_frame_within_its_bound_and_idle_gaps_between_frames_are_fine() {
    let mut dec = LengthPrefixedCodec::builder()
        .frame_timeout(Some(10 * SECOND))
        .new_codec();
    let mut src = BytesMut::new();
    for _ in 0..3 {
        // A long gap between frames does not count.
        advance(60 * SECOND).await;
        src.put_u32(3);
        src.put_slice(b"x");
        assert!(dec.decode(&mut src).unwrap().is_none());
        advance(9 * SECOND).await;
        src.put_slice(b"yz");
        assert_eq!(&dec.decode(&mut src).unwrap().unwrap()[..], b"xyz");
    }
}

#[tokio::test(start_paused = true)]
async fn a_line_dripped_past_its_bound_is_refused_and_the_next_line_read() {
    let mut dec = LineCodec::new();
    dec.set_line_timeout(Some(10 * SECOND));
    let mut src = BytesMut::from(&b"slow"[..]);
    assert!(dec.decode(&mut src).unwrap().is_none());
    advance(11 * SECOND).await;
    src.put_slice(b"er");
    let err = dec.decode(&mut src).unwrap_err();
    assert!(
        is_arrival_timeout(&err, "a line's arrival (line_timeout)"),
        "{err}"
    );
    // The rest of that line is discarded; the next one is read.
    src.put_slice(b" still\nnext\n");
    assert_eq!(dec.decode(&mut src).unwrap().as_deref(), Some("next"));
    // A line that arrives in time, after a long quiet spell, is fine.
    advance(600 * SECOND).await;
    src.put_slice(b"late but quick\n");
    assert_eq!(
        dec.decode(&mut src).unwrap().as_deref(),
        Some("late but quick")
    );
}

#[tokio::test(start_paused = true)]
async fn an_oversized_frame_being_skipped_must_also_arrive_within_its_bound() {
    let mut dec = LengthPrefixedCodec::builder()
        .max_frame_length(4)
        .skip_oversized(true)
        .frame_timeout(Some(10 * SECOND))
        .new_codec();
    let mut src = BytesMut::new();
    src.put_u32(1000);
    src.put_slice(b"a");
    assert!(dec.decode(&mut src).unwrap().is_none());
    assert_eq!(dec.skipped_frames(), 1);
    advance(11 * SECOND).await;
    src.put_slice(b"a");
    let err = dec.decode(&mut src).unwrap_err();
    assert!(
        is_arrival_timeout(&err, "a frame's arrival (frame_timeout)"),
        "{err}"
    );
}
