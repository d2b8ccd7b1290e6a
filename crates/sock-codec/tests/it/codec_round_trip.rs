//! Property tests: random frame, line and value sequences, cut at random
//! boundaries on the way, come back exactly.

use crate::support;

use bytes::{Bytes, BytesMut};
use futures::executor::block_on;
use futures::{SinkExt, StreamExt};
use proptest::prelude::*;
use sock_codec::{
    ByteOrder, BytesLineCodec, DataReader, DataWriter, FrameReader, FrameWriter,
    LengthPrefixedCodec, LineCodec, UnicodeEncoding,
};
use support::{Chunked, ChunkedWriter};
use tokio_util::codec::{Decoder, Encoder, FramedRead};

fn settings() -> impl Strategy<Value = (usize, bool)> {
    (prop::sample::select(vec![1usize, 2, 4, 8]), any::<bool>())
}

fn frames(max_len: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..max_len), 0..16)
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..80, 1..8)
}

fn codec(width: usize, little: bool) -> LengthPrefixedCodec {
    LengthPrefixedCodec::builder()
        .prefix_width(width)
        .byte_order(if little {
            ByteOrder::LittleEndian
        } else {
            ByteOrder::BigEndian
        })
        .new_codec()
}

/// Decodes every line of `input` (the last one at end of stream too).
fn decode_all<C>(mut codec: C, input: &[u8]) -> Vec<C::Item>
where
    C: Decoder,
{
    let mut src = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match codec.decode_eof(&mut src) {
            Ok(Some(item)) => out.push(item),
            Ok(None) => return out,
            // A refused line (too long, not UTF-8) is skipped: go on.
            Err(_) if !src.is_empty() => {}
            Err(_) => return out,
        }
    }
}

proptest! {
    /// Whatever the line decoders return on arbitrary input (CR and LF
    /// dense), their encoders accept, and the bytes decode back to the same
    /// lines: an echo server never drops a line it read.
    #[test]
    fn every_decoded_line_encodes_and_reads_back_unchanged(
        input in prop::collection::vec(
            prop::sample::select(vec![b'a', b'\r', b'\n', 0xff, 0xc3, 0xa9]),
            0..64,
        ),
    ) {
        let raw = decode_all(BytesLineCodec::with_max_length(16), &input);
        let mut wire = BytesMut::new();
        let mut enc = BytesLineCodec::with_max_length(16);
        for line in &raw {
            enc.encode(line.clone(), &mut wire).unwrap();
        }
        prop_assert_eq!(decode_all(BytesLineCodec::with_max_length(16), &wire), raw);

        let text = decode_all(LineCodec::with_max_length(16), &input);
        let mut wire = BytesMut::new();
        let mut enc = LineCodec::with_max_length(16);
        for line in &text {
            enc.encode(line.as_str(), &mut wire).unwrap();
        }
        prop_assert_eq!(decode_all(LineCodec::with_max_length(16), &wire), text);
    }

    /// Whatever the length-prefixed decoder returns, the encoder turns back
    /// into exactly the bytes it was read from.
    #[test]
    fn every_decoded_frame_encodes_to_the_bytes_it_came_from(
        (width, little) in settings(),
        input in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut dec = codec(width, little);
        let mut src = BytesMut::from(&input[..]);
        let mut consumed = 0;
        while let Ok(Some(frame)) = dec.decode(&mut src) {
            let used = input.len() - consumed - src.len();
            let mut wire = BytesMut::new();
            codec(width, little).encode(&frame[..], &mut wire).unwrap();
            prop_assert_eq!(&wire[..], &input[consumed..consumed + used]);
            consumed += used;
        }
    }

    #[test]
    fn length_prefixed_frames_round_trip_through_every_reader_and_writer(
        (width, little) in settings(),
        frames in frames(256),
        read_cuts in cuts(),
        write_cuts in cuts(),
        vectored in any::<bool>(),
    ) {
        // Width 1 holds lengths up to 255.
        let frames: Vec<Vec<u8>> = frames
            .into_iter()
            .map(|mut f| { if width == 1 { f.truncate(255) } f })
            .collect();
        let bytes: Vec<Bytes> = frames.iter().map(|f| Bytes::from(f.clone())).collect();
        let cut: Vec<u8> = read_cuts.iter().map(|&c| c as u8).collect();
        sock_test::fuzz::length_prefixed_round_trip(&frames, width, little, &cut);

        let mut wire = BytesMut::new();
        let mut enc = codec(width, little);
        for f in &frames {
            enc.encode(&f[..], &mut wire).unwrap();
        }

        // FrameWriter writes the same bytes as the codec, through any cut.
        let written = block_on(async {
            let mut w = FrameWriter::with_codec(ChunkedWriter::new(write_cuts, vectored), &enc);
            for f in &bytes {
                w.feed(f.clone()).await.unwrap();
            }
            w.close().await.unwrap();
            w.into_inner().data
        });
        prop_assert_eq!(&written[..], &wire[..]);

        // FramedRead and FrameReader decode them back.
        let via_framed: Vec<Bytes> = block_on(
            FramedRead::new(Chunked::new(wire.to_vec(), read_cuts.clone()), codec(width, little))
                .map(|f| f.unwrap())
                .collect(),
        );
        prop_assert_eq!(&via_framed, &bytes);
        let via_reader: Vec<Bytes> = block_on(
            FrameReader::with_codec(Chunked::new(wire.to_vec(), read_cuts), codec(width, little))
                .map(|f| f.unwrap())
                .collect(),
        );
        prop_assert_eq!(&via_reader, &bytes);
    }

    #[test]
    fn large_frames_round_trip_through_frame_writer_and_reader(
        sizes in prop::collection::vec(0usize..20_000, 1..6),
        write_cuts in prop::collection::vec(1usize..9000, 1..4),
        read_cuts in prop::collection::vec(1usize..9000, 1..4),
        vectored in any::<bool>(),
    ) {
        let frames: Vec<Bytes> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| Bytes::from(vec![i as u8; n]))
            .collect();
        let written = block_on(async {
            let mut w = FrameWriter::new(ChunkedWriter::new(write_cuts, vectored));
            for f in &frames {
                w.feed(f.clone()).await.unwrap();
            }
            w.flush().await.unwrap();
            w.into_inner().data
        });
        let back: Vec<Bytes> = block_on(
            FrameReader::new(Chunked::new(written, read_cuts)).map(|f| f.unwrap()).collect(),
        );
        prop_assert_eq!(back, frames);
    }

    #[test]
    fn lines_round_trip_with_lf_or_crlf(
        lines in prop::collection::vec("[^\r\n]{0,30}", 0..12),
        crlf in prop::collection::vec(any::<bool>(), 12),
        read_cuts in cuts(),
    ) {
        let mut wire = Vec::new();
        for (line, crlf) in lines.iter().zip(&crlf) {
            wire.extend_from_slice(line.as_bytes());
            wire.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
        }
        let text: Vec<String> = block_on(
            FramedRead::new(Chunked::new(wire.clone(), read_cuts.clone()), LineCodec::new())
                .map(|l| l.unwrap())
                .collect(),
        );
        prop_assert_eq!(&text, &lines);
        let raw: Vec<Bytes> = block_on(
            FramedRead::new(Chunked::new(wire, read_cuts), BytesLineCodec::new())
                .map(|l| l.unwrap())
                .collect(),
        );
        let raw_text: Vec<&[u8]> = raw.iter().map(|b| &b[..]).collect();
        let want: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        prop_assert_eq!(raw_text, want);

        // And the encoder writes what the decoder reads.
        let mut enc = LineCodec::new();
        let mut out = BytesMut::new();
        for line in &lines {
            enc.encode(line.as_str(), &mut out).unwrap();
        }
        prop_assert_eq!(out.len(), lines.iter().map(|l| l.len() + 1).sum::<usize>());
    }

    #[test]
    fn data_values_round_trip_through_store_and_load(
        values in prop::collection::vec(value(), 0..24),
        read_cuts in cuts(),
        little in any::<bool>(),
    ) {
        let order = if little { ByteOrder::LittleEndian } else { ByteOrder::BigEndian };
        let written = block_on(async {
            let mut w = DataWriter::new(ChunkedWriter::new(vec![7], false));
            w.set_byte_order(order);
            for v in &values {
                v.write(&mut w);
            }
            w.store().await.unwrap();
            w.into_inner().data
        });
        let total = written.len() as u32;
        let back = block_on(async {
            let mut r = DataReader::new(Chunked::new(written, read_cuts));
            r.set_byte_order(order);
            assert_eq!(r.load(total).await.unwrap(), total);
            let back: Vec<Value> = values.iter().map(|v| v.read_same(&mut r)).collect();
            assert_eq!(r.unconsumed_buffer_length(), 0);
            back
        });
        prop_assert_eq!(back, values);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    I16(i16),
    I32(i32),
    I64(i64),
    F64(u64),
    Bool(bool),
    Text(UnicodeEncoding, String),
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u8>().prop_map(Value::U8),
        any::<u16>().prop_map(Value::U16),
        any::<u32>().prop_map(Value::U32),
        any::<u64>().prop_map(Value::U64),
        any::<i16>().prop_map(Value::I16),
        any::<i32>().prop_map(Value::I32),
        any::<i64>().prop_map(Value::I64),
        // Compared by bits, so NaNs round-trip too.
        any::<u64>().prop_map(Value::F64),
        any::<bool>().prop_map(Value::Bool),
        (
            prop::sample::select(vec![
                UnicodeEncoding::Utf8,
                UnicodeEncoding::Utf16LE,
                UnicodeEncoding::Utf16BE
            ]),
            ".{0,12}"
        )
            .prop_map(|(e, s)| Value::Text(e, s)),
    ]
}

impl Value {
    fn write<W>(&self, w: &mut DataWriter<W>) {
        match self {
            Self::U8(v) => w.write_u8(*v),
            Self::U16(v) => w.write_u16(*v),
            Self::U32(v) => w.write_u32(*v),
            Self::U64(v) => w.write_u64(*v),
            Self::I16(v) => w.write_i16(*v),
            Self::I32(v) => w.write_i32(*v),
            Self::I64(v) => w.write_i64(*v),
            Self::F64(bits) => w.write_f64(f64::from_bits(*bits)),
            Self::Bool(v) => w.write_bool(*v),
            Self::Text(encoding, s) => {
                w.set_unicode_encoding(*encoding);
                let len = w.measure_string(s);
                w.write_u32(len);
                assert_eq!(w.write_string(s), len);
            }
        }
    }

    fn read_same<R>(&self, r: &mut DataReader<R>) -> Self {
        match self {
            Self::U8(_) => Self::U8(r.read_u8().unwrap()),
            Self::U16(_) => Self::U16(r.read_u16().unwrap()),
            Self::U32(_) => Self::U32(r.read_u32().unwrap()),
            Self::U64(_) => Self::U64(r.read_u64().unwrap()),
            Self::I16(_) => Self::I16(r.read_i16().unwrap()),
            Self::I32(_) => Self::I32(r.read_i32().unwrap()),
            Self::I64(_) => Self::I64(r.read_i64().unwrap()),
            Self::F64(_) => Self::F64(r.read_f64().unwrap().to_bits()),
            Self::Bool(_) => Self::Bool(r.read_bool().unwrap()),
            Self::Text(encoding, _) => {
                r.set_unicode_encoding(*encoding);
                let bytes = r.read_u32().unwrap();
                let units = bytes / encoding.code_unit_len() as u32;
                Self::Text(*encoding, r.read_string(units).unwrap())
            }
        }
    }
}
