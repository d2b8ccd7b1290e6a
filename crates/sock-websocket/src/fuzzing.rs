//! The bodies of the WebSocket fuzz targets in `fuzz/`, kept here so that one
//! copy runs both under cargo-fuzz and, where cargo-fuzz is not available, as
//! bounded property tests (`tests/fuzz_bodies.rs`, `cargo xtask fuzz`).
//!
//! Each function takes arbitrary bytes, drives the frame decoder or a
//! handshake parser with them, and panics only if an invariant breaks: a
//! frame over its limit, a buffer that grew past what the limits allow, text
//! handed out that is not UTF-8. Not part of the API.

use bytes::BytesMut;
use sock_codec::{FrameMemoryBudget, FrameMemoryCharge};

use crate::close::CloseFrame;
use crate::decoder::{FrameDecoder, Limits};
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

/// An upgrade request parsed from arbitrary bytes: an upgrade or a refusal
/// with a client-error status.
pub fn upgrade_request(data: &[u8]) {
    server::check_request(data);
}

/// A server's answer parsed from arbitrary bytes: accepted or an error.
pub fn upgrade_response(data: &[u8]) {
    client::check_answer(data);
}
