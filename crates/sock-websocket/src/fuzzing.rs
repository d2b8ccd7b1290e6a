//! The bodies of the WebSocket fuzz targets in `fuzz/`, kept here so that one
//! copy runs both under cargo-fuzz and, where cargo-fuzz is not available, as
//! bounded property tests (`tests/fuzz_bodies.rs`, `cargo xtask fuzz`).
//!
//! Each function takes arbitrary bytes, drives the frame decoder, a
//! handshake parser or (feature `deflate`) permessage-deflate with them, and
//! panics only if an invariant breaks: a frame over its limit, a buffer that
//! grew past what the limits allow, text handed out that is not UTF-8, a
//! message that does not inflate back to itself. Not part of the API.

use bytes::BytesMut;
use sock_codec::{FrameMemoryBudget, FrameMemoryCharge};

use crate::close::CloseFrame;
use crate::decoder::{FrameDecoder, Limits};
#[cfg(feature = "deflate")]
use crate::deflate::codec::{InflateLimit, PerMessageDeflate};
#[cfg(feature = "deflate")]
use crate::deflate::negotiate;
use crate::frame::{OpCode, Role};
use crate::handshake::{client, server};
use crate::utf8::Utf8Validator;

/// The frame limit the bodies decode with.
const MAX_FRAME: usize = 1024;

/// Frames decoded from `data` cut into chunks: the first byte picks the
/// receiving role, the next four the chunk sizes. Every frame is within
/// `max_frame_size`, fragments add up within `max_message_size`, the read
/// buffer stays within a frame plus its room, and text the validator passes
/// is UTF-8 once whole.
pub fn frames(data: &[u8]) {
    let (role, sizes, wire) = match data {
        [r, a, b, c, d, rest @ ..] => (
            if r & 1 == 0 {
                Role::Server
            } else {
                Role::Client
            },
            [*a, *b, *c, *d],
            rest,
        ),
        _ => return,
    };
    let limits = Limits {
        max_frame_size: MAX_FRAME,
        max_message_size: Some(4 * MAX_FRAME),
        message_timeout: None,
    };
    let budget = FrameMemoryBudget::new(usize::MAX);
    let mut decoder = FrameDecoder::new(role, limits, FrameMemoryCharge::new(budget));
    let mut buf = BytesMut::new();
    let mut text: Option<(Utf8Validator, Vec<u8>)> = None;
    let mut message_len = 0usize;
    let mut rest = wire;
    let mut i = 0;
    while !rest.is_empty() {
        let size = usize::from(sizes[i % 4]).clamp(1, rest.len());
        buf.extend_from_slice(&rest[..size]);
        rest = &rest[size..];
        i += 1;
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.payload.len() <= MAX_FRAME, "a frame over its limit");
                    match frame.opcode {
                        OpCode::Close => drop(CloseFrame::parse(&frame.payload)),
                        OpCode::Ping | OpCode::Pong => {}
                        OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                            if frame.opcode != OpCode::Continuation {
                                message_len = 0;
                                text = (frame.opcode == OpCode::Text)
                                    .then(|| (Utf8Validator::default(), Vec::new()));
                            }
                            message_len += frame.payload.len();
                            assert!(message_len <= 4 * MAX_FRAME, "a message over its limit");
                            if let Some((validator, joined)) = &mut text {
                                let ok = validator.feed(&frame.payload).is_ok()
                                    && (!frame.fin || validator.finish().is_ok());
                                if !ok {
                                    return;
                                }
                                joined.extend_from_slice(&frame.payload);
                                if frame.fin {
                                    assert!(std::str::from_utf8(joined).is_ok(), "text passed");
                                }
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
            // A header, a frame's payload, its room, and a chunk.
            assert!(
                buf.capacity() <= 64 * 1024 + 16 * MAX_FRAME + 512,
                "the buffer grew"
            );
        }
    }
}

/// permessage-deflate on arbitrary bytes (feature `deflate`): the bytes as a
/// `Sec-WebSocket-Extensions` offer and answer agree only windows the RFC
/// allows; after the first byte (which picks the window, context takeover
/// and a split), they compress, whole or in two parts, and inflate back to
/// themselves at every window; and inflated as they are, as a compressed
/// message, they fail or stay within the message limit, growing the output
/// only as far as it allows.
#[cfg(feature = "deflate")]
pub fn deflate(data: &[u8]) {
    negotiate::check_both_ways(&String::from_utf8_lossy(data));
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let no_takeover = first & 0x08 != 0;
    let agreed = crate::DeflateParameters {
        server_no_context_takeover: no_takeover,
        client_no_context_takeover: no_takeover,
        server_max_window_bits: 8 + (first & 0x07),
        client_max_window_bits: 8 + (first & 0x07),
    };
    let config = crate::DeflateConfig::new().threshold(0);
    let split = usize::from(first >> 4) * rest.len() / 16;
    let limit = InflateLimit {
        name: "max_message_size",
        max: 4 * MAX_FRAME,
    };

    let mut client = PerMessageDeflate::new(Role::Client, &config, &agreed);
    let mut server = PerMessageDeflate::new(Role::Server, &config, &agreed);
    let unbounded = InflateLimit {
        name: "max_message_size",
        max: usize::MAX,
    };
    for round in 0..2 {
        let mut out = Vec::new();
        let mut inflate = |piece: &[u8], fin: bool, out: &mut Vec<u8>| {
            server
                .inflater
                .inflate(piece, fin, out, unbounded, &mut |_| Ok(()))
                .expect("our own compressed message inflates");
        };
        if round == 0 {
            match client.deflater.compress_message(rest).expect("compress") {
                Some(sent) => inflate(&sent, true, &mut out),
                None => out.extend_from_slice(rest),
            }
        } else {
            let head = client
                .deflater
                .compress_part(&rest[..split], false)
                .expect("compress");
            let tail = client
                .deflater
                .compress_part(&rest[split..], true)
                .expect("compress");
            inflate(&head, false, &mut out);
            inflate(&tail, true, &mut out);
        }
        assert!(out == rest, "a message did not inflate back to itself");
    }

    let mut server = PerMessageDeflate::new(Role::Server, &config, &agreed);
    let mut out = Vec::new();
    let mut largest = 0;
    for (piece, fin) in [(&rest[..split], false), (&rest[split..], true)] {
        let result = server
            .inflater
            .inflate(piece, fin, &mut out, limit, &mut |size| {
                largest = largest.max(size);
                Ok(())
            });
        assert!(out.len() <= limit.max + 1, "inflated past the limit");
        if result.is_err() {
            break;
        }
    }
    assert!(largest <= limit.max + 1, "grew past the limit: {largest}");
    assert!(out.capacity() <= limit.max + 1, "room past the limit");
}

/// An upgrade request parsed from arbitrary bytes: an upgrade or a refusal
/// with a client-error status.
pub fn upgrade_request(data: &[u8]) {
    server::check_request(data);
}

/// A server's answer parsed from arbitrary bytes: accepted or an error.
pub fn upgrade_response(data: &[u8]) {
    client::check_answer(data);
}
