//! The bodies of the fuzz targets in `fuzz/`, kept here so that one copy runs both
//! under cargo-fuzz and, where cargo-fuzz is not available, as bounded property
//! tests (`crates/sock-codec/tests/fuzz_bodies.rs`, `cargo xtask fuzz`).
//!
//! Each function takes arbitrary bytes, drives one decoder or parser with them,
//! and panics only if an invariant breaks: a frame over its limit, a buffer that
//! grew past what the limit allows, a re-encoding that differs from what was
//! decoded, a failed read that consumed bytes.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_sink::Sink;
use sock_core::{ByteOrder, HostName, ServiceName, UnicodeEncoding};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

use sock_codec::{
    BytesLineCodec, DataReader, DataWriter, InputStreamOptions, LengthPrefixedCodec, LineCodec,
};

/// Splits `data` into a configuration prefix of `n` bytes (zero-padded) and the rest.
fn config<const N: usize>(data: &[u8]) -> ([u8; N], &[u8]) {
    let mut cfg = [0u8; N];
    let n = data.len().min(N);
    cfg[..n].copy_from_slice(&data[..n]);
    (cfg, &data[n..])
}

/// Cuts `wire` into chunks whose sizes cycle through `sizes` (each at least 1).
fn chunks<'a>(wire: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = wire;
    let mut i = 0;
    while !rest.is_empty() {
        let size = usize::from(sizes[i % sizes.len()]).clamp(1, rest.len());
        out.push(&rest[..size]);
        rest = &rest[size..];
        i += 1;
    }
    out
}

/// Polls a future that never waits (its I/O is in memory) to completion.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("in-memory i/o never waits"),
    }
}

/// `LengthPrefixedCodec`: settings from the first bytes, the rest decoded in
/// chunks. Frames respect the limit, the buffer never holds more than a frame
/// and a chunk, and (without skipping) re-encoding the frames gives back exactly
/// the bytes consumed.
pub fn length_prefixed(data: &[u8]) {
    let ([shape, max, c0, c1], wire) = config::<4>(data);
    let width = [1, 2, 4, 8][usize::from(shape & 3)];
    let skip = shape & 8 != 0;
    let max = usize::from(max);
    let mut codec = LengthPrefixedCodec::builder()
        .prefix_width(width)
        .byte_order(if shape & 4 != 0 {
            ByteOrder::LittleEndian
        } else {
            ByteOrder::BigEndian
        })
        .max_frame_length(max)
        .skip_oversized(skip)
        .new_codec();

    let mut src = BytesMut::new();
    let mut frames = Vec::new();
    let mut failed = false;
    'feed: for chunk in chunks(wire, &[c0, c1, 1]) {
        src.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut src) {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= max, "frame over max_frame_length");
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(_) => {
                    assert!(!skip, "skip mode reported an oversized frame");
                    failed = true;
                    break 'feed;
                }
            }
            assert!(src.len() <= width + max + 256, "buffer grew past a frame");
        }
        assert!(src.len() <= width + max + 256, "buffer grew past a frame");
    }
    let mut clean_end = false;
    if !failed {
        loop {
            match codec.decode_eof(&mut src) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => {
                    clean_end = true;
                    break;
                }
                Err(_) => break,
            }
        }
    }
    if !skip {
        let mut again = BytesMut::new();
        for frame in &frames {
            codec
                .encode(frame.clone(), &mut again)
                .expect("a decoded frame encodes");
        }
        assert!(wire.starts_with(&again), "re-encoding differs");
        if clean_end {
            assert_eq!(again.len(), wire.len(), "a clean end left bytes undecoded");
        }
    }
}

/// `LineCodec` and `BytesLineCodec`: lines respect the limit and hold no `\n`,
/// and both codecs agree on the lines that are valid UTF-8.
pub fn line(data: &[u8]) {
    let ([max, c0, c1], wire) = config::<3>(data);
    let max = usize::from(max);
    let mut text = LineCodec::with_max_length(max);
    let mut raw = BytesLineCodec::with_max_length(max);
    let (mut src_text, mut src_raw) = (BytesMut::new(), BytesMut::new());
    let pieces = chunks(wire, &[c0, c1]);
    let last = pieces.len();
    for (i, chunk) in pieces.into_iter().enumerate() {
        src_text.extend_from_slice(chunk);
        src_raw.extend_from_slice(chunk);
        let eof = i + 1 == last;
        loop {
            let t = if eof {
                text.decode_eof(&mut src_text)
            } else {
                text.decode(&mut src_text)
            };
            let r = if eof {
                raw.decode_eof(&mut src_raw)
            } else {
                raw.decode(&mut src_raw)
            };
            match (t, r) {
                (Ok(None), Ok(None)) => break,
                (Ok(Some(line)), Ok(Some(bytes))) => {
                    assert_eq!(line.as_bytes(), &bytes[..], "codecs disagree");
                    assert!(bytes.len() <= max && !bytes.contains(&b'\n'));
                }
                // Not UTF-8: only the text codec refuses it.
                (Err(sock_core::Error::InvalidData { .. }), Ok(Some(bytes))) => {
                    assert!(std::str::from_utf8(&bytes).is_err());
                }
                (Err(_), Err(_)) => {}
                (t, r) => panic!("codecs disagree: {t:?} vs {r:?}"),
            }
            assert!(
                src_raw.len() <= max + 1 + 256,
                "line buffer grew past its limit"
            );
        }
    }
}

/// `DataReader`: a script of reads (from the first half) over a buffer (the
/// rest), loaded through `load` in every `InputStreamOptions`. A failed read
/// consumes nothing; a successful one consumes exactly its size.
pub fn data_reader(data: &[u8]) {
    let split = data.len() / 2;
    let (script, payload) = data.split_at(split);
    let options = match script.first().map_or(0, |b| b % 3) {
        0 => InputStreamOptions::None,
        1 => InputStreamOptions::Partial,
        _ => InputStreamOptions::ReadAhead,
    };
    let mut reader = DataReader::new(payload);
    reader.set_input_stream_options(options);
    reader.set_max_buffer_length(64 + usize::from(script.get(1).copied().unwrap_or(0)));
    for (i, &op) in script.iter().enumerate() {
        let before = reader.unconsumed_buffer_length();
        let arg = u32::from(script.get(i + 1).copied().unwrap_or(0));
        let taken = match op % 16 {
            0 => {
                let limit = reader.max_buffer_length();
                match now(reader.load(arg)) {
                    Ok(n) => {
                        assert_eq!(reader.unconsumed_buffer_length(), before + n);
                        assert!(options == InputStreamOptions::ReadAhead || n <= arg);
                    }
                    Err(_) => assert!(before as usize + arg as usize > limit),
                }
                continue;
            }
            1 => reader.read_u8().map(|_| 1),
            2 => reader.read_u16().map(|_| 2),
            3 => reader.read_u32().map(|_| 4),
            4 => reader.read_u64().map(|_| 8),
            5 => reader.read_i32().map(|_| 4),
            6 => reader.read_f64().map(|_| 8),
            7 => reader.read_bool().map(|_| 1),
            8 => reader.read_buffer(arg).map(|b| b.len() as u32),
            9 => {
                let mut dest = vec![0; arg as usize % 16];
                reader.read_bytes(&mut dest).map(|()| dest.len() as u32)
            }
            10 | 11 => {
                let unit = reader.unicode_encoding().code_unit_len() as u32;
                reader.read_string(arg).map(|s| {
                    assert!(s.len() <= 3 * (arg * unit) as usize);
                    arg * unit
                })
            }
            12 => {
                reader.set_byte_order(if arg & 1 == 0 {
                    ByteOrder::BigEndian
                } else {
                    ByteOrder::LittleEndian
                });
                continue;
            }
            _ => {
                reader.set_unicode_encoding(match arg % 3 {
                    0 => UnicodeEncoding::Utf8,
                    1 => UnicodeEncoding::Utf16LE,
                    _ => UnicodeEncoding::Utf16BE,
                });
                continue;
            }
        };
        let after = reader.unconsumed_buffer_length();
        match taken {
            Ok(n) => assert_eq!(after + n, before, "a read consumed the wrong amount"),
            Err(_) => assert_eq!(after, before, "a failed read consumed bytes"),
        }
    }

    // Strings round-trip through DataWriter in every encoding.
    if let Ok(text) = std::str::from_utf8(payload) {
        for encoding in [
            UnicodeEncoding::Utf8,
            UnicodeEncoding::Utf16LE,
            UnicodeEncoding::Utf16BE,
        ] {
            let mut writer = DataWriter::new_buffer();
            writer.set_unicode_encoding(encoding);
            let bytes = writer.write_string(text);
            assert_eq!(bytes, writer.measure_string(text));
            let mut reader = DataReader::from_buffer(writer.detach_buffer());
            reader.set_unicode_encoding(encoding);
            let units = bytes / encoding.code_unit_len() as u32;
            assert_eq!(reader.read_string(units).expect("own output reads"), text);
        }
    }
}

/// `HostName::new` (sock-core): never panics; a name it accepts parses again
/// from its raw and canonical forms to an equal name.
pub fn host_name(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match HostName::new(text) {
        Ok(host) => {
            let _ = (
                host.kind(),
                host.display_name(),
                host.ip_addr(),
                host.zone(),
            );
            let _ = host.is_loopback();
            let raw = HostName::new(host.raw_name()).expect("the raw name parses again");
            assert_eq!(raw, host);
            let canonical = host.canonical_name();
            let again = HostName::new(canonical).expect("the canonical name parses again");
            assert_eq!(again, host, "canonical name of {text:?}");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// `ServiceName::new` (sock-core): never panics; an accepted service is a port or
/// a name, and parses again from its text to an equal service.
pub fn service_name(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ServiceName::new(text) {
        Ok(service) => {
            assert!(service.as_port().is_some() != service.as_name().is_some());
            let again = ServiceName::new(service.as_str()).expect("the text parses again");
            assert_eq!(again, service);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// An in-memory client: hands out `data` in chunks whose sizes cycle
/// through `sizes`, then the end of the stream. Never waits.
struct Client<'a> {
    data: &'a [u8],
    sizes: [u8; 3],
    turn: usize,
}

impl AsyncRead for Client<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let size = usize::from(self.sizes[self.turn % 3])
            .max(1)
            .min(self.data.len())
            .min(buf.remaining());
        let (now, rest) = self.data.split_at(size);
        buf.put_slice(now);
        self.data = rest;
        self.turn += 1;
        Poll::Ready(Ok(()))
    }
}

/// Where the server's replies go: takes at most `per_write` bytes a write.
struct Replies {
    out: Vec<u8>,
    per_write: usize,
}

impl AsyncWrite for Replies {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.per_write);
        self.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A server fed arbitrary bytes: an echo handler, as a user writes one,
/// reading from a client that sends `data` in chunks and writing to a stream
/// that takes a few bytes per write. Even bytes of the first one pick
/// length-prefixed frames (`FrameReader`/`FrameWriter`), odd ones lines
/// (`BytesLineCodec` through `FramedRead`/`FramedWrite`).
///
/// It never panics; it ends, cleanly or with an error; its read buffer never
/// holds more than one frame (or line) and one read; and it echoes exactly
/// what it decoded: with frames, a prefix of its input, and all of it when
/// the input ended between frames.
pub fn server_bytes(data: &[u8]) {
    let ([mode, max, c0, c1], wire) = config::<4>(data);
    let max = 1 + usize::from(max) * 8;
    let client = Client {
        data: wire,
        sizes: [c0, c1, 3],
        turn: 0,
    };
    let replies = Replies {
        out: Vec::new(),
        per_write: 1 + usize::from(c1 % 64),
    };
    // At most one frame (or line), its header (or terminator), one read.
    let bound = 8 + max + 256;
    if mode & 1 == 0 {
        let mut settings = LengthPrefixedCodec::builder();
        settings.max_frame_length(max);
        let mut frames = settings.new_frame_reader(client);
        let mut writer = settings.new_frame_writer(replies);
        let ended = now(async {
            while let Some(frame) = poll_fn(|cx| Pin::new(&mut frames).poll_next(cx)).await {
                let frame = frame?;
                assert!(frame.len() <= max, "frame over max_frame_length");
                assert!(frames.read_buffer().len() <= bound, "read buffer grew");
                poll_fn(|cx| Pin::new(&mut writer).poll_ready(cx)).await?;
                Pin::new(&mut writer).start_send(frame)?;
                poll_fn(|cx| Pin::new(&mut writer).poll_flush(cx)).await?;
            }
            Ok::<_, sock_core::Error>(())
        });
        let echoed = writer.into_inner().out;
        assert!(wire.starts_with(&echoed), "echoed what was never sent");
        if ended.is_ok() {
            assert_eq!(echoed.len(), wire.len(), "a clean end left frames unechoed");
        }
    } else {
        let mut lines = FramedRead::new(client, BytesLineCodec::with_max_length(max));
        let mut writer = FramedWrite::new(replies, BytesLineCodec::with_max_length(max));
        let mut echoed_lines = 0usize;
        let _ = now(async {
            while let Some(line) = poll_fn(|cx| Pin::new(&mut lines).poll_next(cx)).await {
                let line = line?;
                assert!(
                    line.len() <= max && !line.contains(&b'\n'),
                    "line over its limit"
                );
                assert!(lines.read_buffer().len() <= bound, "read buffer grew");
                poll_fn(|cx| Sink::<Bytes>::poll_ready(Pin::new(&mut writer), cx)).await?;
                Pin::new(&mut writer).start_send(line)?;
                poll_fn(|cx| Sink::<Bytes>::poll_flush(Pin::new(&mut writer), cx)).await?;
                echoed_lines += 1;
            }
            Ok::<_, sock_core::Error>(())
        });
        let echoed = writer.into_inner().out;
        // Each echoed line ends in `\n`; none is longer than what was sent.
        assert_eq!(echoed.iter().filter(|&&b| b == b'\n').count(), echoed_lines);
        assert!(echoed.len() <= wire.len() + 1, "echoed more than was sent");
    }
}

/// A frame sequence encoded by `LengthPrefixedCodec` decodes back exactly, for
/// any split of the wire (used by the property tests).
pub fn length_prefixed_round_trip(frames: &[Vec<u8>], width: usize, little: bool, cut: &[u8]) {
    let mut codec = LengthPrefixedCodec::builder()
        .prefix_width(width)
        .byte_order(if little {
            ByteOrder::LittleEndian
        } else {
            ByteOrder::BigEndian
        })
        .new_codec();
    let mut wire = BytesMut::new();
    for frame in frames {
        codec.encode(&frame[..], &mut wire).expect("encodes");
    }
    let mut src = BytesMut::new();
    let mut out: Vec<Bytes> = Vec::new();
    for chunk in chunks(&wire, if cut.is_empty() { &[1] } else { cut }) {
        src.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut src).expect("decodes") {
            out.push(frame);
        }
    }
    assert_eq!(codec.decode_eof(&mut src).expect("clean end"), None);
    assert_eq!(out, frames);
}
