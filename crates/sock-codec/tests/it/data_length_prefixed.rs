//! The C++ echo sample's framing, `WriteUInt32(MeasureString(s)); WriteString(s)`,
//! is the default `LengthPrefixedCodec` frame, both ways, non-ASCII included.

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use sock_codec::{DataReader, DataWriter, LengthPrefixedCodec};
use tokio_util::codec::{FramedRead, FramedWrite};

const TEXTS: [&str; 5] = ["hello", "", "héllo wörld", "日本語のテキスト", "emoji 😀 ✓"];
const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn data_writer_frames_decode_with_length_prefixed_codec() {
    let (a, b) = tokio::io::duplex(64);
    let writer = async move {
        let mut w = DataWriter::new(a);
        for text in TEXTS {
            let len = w.measure_string(text);
            w.write_u32(len);
            assert_eq!(w.write_string(text), len);
            assert_eq!(w.store().await.unwrap(), 4 + text.len());
        }
    };
    let reader = async move {
        let mut frames = FramedRead::new(b, LengthPrefixedCodec::new());
        let mut got = Vec::new();
        while let Some(frame) = frames.next().await {
            got.push(frame.unwrap());
        }
        got
    };
    let ((), got) = tokio::time::timeout(LIMIT, async { tokio::join!(writer, reader) })
        .await
        .expect("the round trip finishes");
    let want: Vec<Bytes> = TEXTS.iter().map(|t| Bytes::from(*t)).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn length_prefixed_frames_read_back_with_data_reader() {
    let (a, b) = tokio::io::duplex(64);
    let writer = async move {
        let mut frames = FramedWrite::new(a, LengthPrefixedCodec::new());
        for text in TEXTS {
            frames.feed(text).await.unwrap();
        }
        SinkExt::<&str>::close(&mut frames).await.unwrap();
    };
    let reader = async move {
        let mut r = DataReader::new(b);
        let mut got = Vec::new();
        while r.load(4).await.unwrap() == 4 {
            let len = r.read_u32().unwrap();
            assert_eq!(r.load(len).await.unwrap(), len, "the whole string arrives");
            got.push(r.read_string(len).unwrap());
        }
        assert_eq!(
            r.unconsumed_buffer_length(),
            0,
            "a clean end between frames"
        );
        got
    };
    let ((), got) = tokio::time::timeout(LIMIT, async { tokio::join!(writer, reader) })
        .await
        .expect("the round trip finishes");
    assert_eq!(got, TEXTS);
}

#[test]
fn the_length_counts_bytes_not_utf16_units() {
    // The sockets guide's C++ sample sent hstring.size() (UTF-16 units) and read that many
    // UTF-8 bytes; "héllo" is 5 units but 6 bytes.
    let w = DataWriter::new_buffer();
    assert_eq!(w.measure_string("héllo"), 6);
    assert_eq!("héllo".encode_utf16().count(), 5);
}
