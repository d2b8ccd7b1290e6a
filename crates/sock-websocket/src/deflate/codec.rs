//! Compressing and inflating messages for permessage-deflate (RFC 7692
//! section 7.2): raw DEFLATE ended by a sync flush, whose `00 00 ff ff` a
//! sender takes off and a receiver puts back; the inflated bytes bounded and
//! charged as they are produced, never as a header announces.

use std::io;

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::{DeflateConfig, DeflateParameters, MIN_WINDOW_BITS};
use crate::frame::Role;
use crate::{CloseCode, WebSocketError};

/// What a sync flush ends with: an empty stored block (section 7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The room a message's inflated bytes get first, at most; after that it
/// doubles with what was produced, so memory follows the bytes inflated.
const FIRST_ROOM: usize = 64 * 1024;

/// Spare room past this is given back when a buffer is handed out.
const MAX_SLACK: usize = 4 * 1024;

/// zlib and its ports (zlib-rs here) have no 2^8 window: 2^9 it is, whose
/// matches reach at most 250 bytes back (a window less zlib's 262 bytes of
/// lookahead), so a peer that asked for 256 bytes still reads what we send;
/// and a window of 2^9 reads whatever fits in 2^8.
fn zlib_bits(bits: u8) -> u8 {
    bits.max(MIN_WINDOW_BITS + 1)
}

/// One connection's compressor and decompressor, each created on first use
/// and, without context takeover, dropped after each message.
#[derive(Debug)]
pub(crate) struct PerMessageDeflate {
    pub(crate) deflater: Deflater,
    pub(crate) inflater: Inflater,
}

impl PerMessageDeflate {
    /// The state for the end `role` of a connection that agreed `agreed`.
    pub(crate) fn new(role: Role, config: &DeflateConfig, agreed: &DeflateParameters) -> Self {
        let client = (
            agreed.client_no_context_takeover,
            agreed.client_max_window_bits,
        );
        let server = (
            agreed.server_no_context_takeover,
            agreed.server_max_window_bits,
        );
        let (ours, theirs) = match role {
            Role::Client => (client, server),
            Role::Server => (server, client),
        };
        Self {
            deflater: Deflater {
                state: None,
                level: config.compression(),
                window_bits: zlib_bits(ours.1),
                no_context_takeover: ours.0,
                threshold: config.threshold,
            },
            inflater: Inflater {
                state: None,
                window_bits: zlib_bits(theirs.1),
                no_context_takeover: theirs.0,
                ended: false,
            },
        }
    }
}

/// Compresses the messages this end sends.
#[derive(Debug)]
pub(crate) struct Deflater {
    state: Option<Compress>,
    level: Compression,
    window_bits: u8,
    no_context_takeover: bool,
    threshold: usize,
}

impl Deflater {
    /// A whole message compressed, when that is worth it: `None` below the
    /// threshold, or when the compressed form is no smaller (then the
    /// window is emptied too: the peer never sees these bytes, so what
    /// follows may not refer to them).
    pub(crate) fn compress_message(
        &mut self,
        data: &[u8],
    ) -> Result<Option<Bytes>, WebSocketError> {
        if data.len() < self.threshold {
            return Ok(None);
        }
        let out = self.compress(data, true)?;
        if out.len() >= data.len() {
            if let Some(state) = &mut self.state {
                state.reset();
            }
            return Ok(None);
        }
        Ok(Some(into_bytes(out)))
    }

    /// One part of a message sent in parts, compressed (`fin` on the
    /// last): each part ends with a sync flush, so the peer can inflate it
    /// at once.
    pub(crate) fn compress_part(
        &mut self,
        data: &[u8],
        fin: bool,
    ) -> Result<Bytes, WebSocketError> {
        self.compress(data, fin).map(into_bytes)
    }

    fn compress(&mut self, data: &[u8], fin: bool) -> Result<Vec<u8>, WebSocketError> {
        let (level, bits) = (self.level, self.window_bits);
        let state = self
            .state
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits));
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut rest = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let (before_in, before_out) = (state.total_in(), out.len());
            state
                .compress_vec(rest, &mut out, FlushCompress::Sync)
                .map_err(|e| deflate_failed(&e))?;
            let used = usize::try_from(state.total_in() - before_in).unwrap_or(rest.len());
            rest = rest.get(used..).unwrap_or_default();
            // The flush is done once it leaves room unused (zlib's rule).
            let stuck = used == 0 && out.len() == before_out;
            if (rest.is_empty() && out.len() < out.capacity()) || stuck {
                break;
            }
        }
        if fin {
            if out.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if self.no_context_takeover {
                self.state = None;
            }
        }
        Ok(out)
    }
}

/// Inflates the compressed messages this end receives.
#[derive(Debug)]
pub(crate) struct Inflater {
    state: Option<Decompress>,
    window_bits: u8,
    no_context_takeover: bool,
    /// The message's data ended with a final block (section 7.2.3.4):
    /// what follows it in the message is padding, and the next message
    /// starts a new stream.
    ended: bool,
}

/// How far one message's inflated bytes may go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InflateLimit {
    /// The limit's name in the error (`max_message_size`, or in partial mode
    /// `max_frame_size`).
    pub(crate) name: &'static str,
    /// The most bytes the output may hold.
    pub(crate) max: usize,
}

impl Inflater {
    /// Inflates one frame of a compressed message onto `out` (with `fin`,
    /// the flush's tail is put back after it). `out` grows in steps, at
    /// most doubling, and `grow` is asked first with the size it would
    /// have (the shared memory budget); it never holds more than one byte
    /// past `limit.max`, at which the message fails with `LimitExceeded`
    /// (close code 1009).
    ///
    /// Data that is not DEFLATE fails with close code 1007, as Node's `ws`
    /// does (the payload is not what its frame says it is).
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: InflateLimit,
        grow: &mut dyn FnMut(usize) -> Result<(), WebSocketError>,
    ) -> Result<(), WebSocketError> {
        let bits = self.window_bits;
        let state = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let first_room = input.len().saturating_mul(4).clamp(1024, FIRST_ROOM);
        let mut step = |piece: &[u8], ended: &mut bool| {
            feed(state, piece, out, limit, first_room, grow, ended)
        };
        step(input, &mut self.ended)?;
        if fin {
            if !self.ended {
                step(&TAIL, &mut self.ended)?;
            }
            if self.no_context_takeover || self.ended {
                self.state = None;
            }
            self.ended = false;
        }
        Ok(())
    }
}

/// Feeds `input` to the inflater until it is used up and all it gave out
/// is in `out`.
fn feed(
    state: &mut Decompress,
    mut input: &[u8],
    out: &mut Vec<u8>,
    limit: InflateLimit,
    first_room: usize,
    grow: &mut dyn FnMut(usize) -> Result<(), WebSocketError>,
    ended: &mut bool,
) -> Result<(), WebSocketError> {
    loop {
        if *ended {
            // The RFC's own example (section 7.2.3.4) pads a final block
            // with a 0x00; zlib ignores what follows the end too.
            return Ok(());
        }
        if out.len() == out.capacity() {
            let room = if out.capacity() == 0 {
                first_room
            } else {
                out.len()
            };
            // One byte past the limit shows it crossed.
            let room = room.min(limit.max.saturating_sub(out.len()).saturating_add(1));
            grow(out.len().saturating_add(room))?;
            out.reserve_exact(room);
        }
        let (before_in, before_out) = (state.total_in(), out.len());
        let status = state
            .decompress_vec(input, out, FlushDecompress::None)
            .map_err(|e| invalid(format!("{e}")))?;
        let used = usize::try_from(state.total_in() - before_in).unwrap_or(input.len());
        input = input.get(used..).unwrap_or_default();
        if out.len() > limit.max {
            return Err(WebSocketError::LimitExceeded {
                limit: limit.name,
                actual: out.len() as u64,
                max: limit.max as u64,
            });
        }
        if status == Status::StreamEnd {
            *ended = true;
            continue;
        }
        let stuck = used == 0 && out.len() == before_out;
        if out.len() < out.capacity() && (input.is_empty() || stuck) {
            // Input left that the inflater will not take (it wants none
            // past what it read) is a stream that cannot go on.
            return if input.is_empty() {
                Ok(())
            } else {
                Err(invalid("the deflate stream does not go on".to_owned()))
            };
        }
    }
}

/// A message's inflated bytes, handed out: spare room given back first.
pub(crate) fn into_bytes(mut data: Vec<u8>) -> Bytes {
    if data.capacity() - data.len() > MAX_SLACK {
        data.shrink_to_fit();
    }
    Bytes::from(data)
}

fn invalid(detail: String) -> WebSocketError {
    WebSocketError::protocol(
        CloseCode::INVALID_PAYLOAD,
        format!("a compressed message is not valid deflate data: {detail} (rfc 7692 7.2.2)"),
    )
}

fn deflate_failed(e: &flate2::CompressError) -> WebSocketError {
    WebSocketError::Socket(sock_core::Error::Io(io::Error::other(format!(
        "compressing a message failed: {e}"
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(agreed: DeflateParameters, threshold: usize) -> (PerMessageDeflate, PerMessageDeflate) {
        let config = DeflateConfig::new().threshold(threshold);
        (
            PerMessageDeflate::new(Role::Client, &config, &agreed),
            PerMessageDeflate::new(Role::Server, &config, &agreed),
        )
    }

    const DEFAULT: DeflateParameters = DeflateParameters {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };

    fn no_limit() -> InflateLimit {
        InflateLimit {
            name: "max_message_size",
            max: usize::MAX,
        }
    }

    fn inflate_all(
        inflater: &mut Inflater,
        frames: &[(&[u8], bool)],
        limit: InflateLimit,
    ) -> Result<Vec<u8>, WebSocketError> {
        let mut out = Vec::new();
        for (data, fin) in frames {
            inflater.inflate(data, *fin, &mut out, limit, &mut |_| Ok(()))?;
        }
        Ok(out)
    }

    #[test]
    fn the_rfc_examples_inflate() {
        // RFC 7692 section 7.2.3.1: "Hello", compressed, one frame.
        let (_, mut server) = pair(DEFAULT, 0);
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let out = inflate_all(&mut server.inflater, &[(&hello, true)], no_limit()).unwrap();
        assert_eq!(out, b"Hello");
        // 7.2.3.2: the same message again, with context takeover, refers back.
        let again = [0xf2, 0x00, 0x11, 0x00, 0x00];
        let out = inflate_all(&mut server.inflater, &[(&again, true)], no_limit()).unwrap();
        assert_eq!(out, b"Hello");
        // 7.2.3.1, fragmented.
        let out = inflate_all(
            &mut server.inflater,
            &[(&hello[..3], false), (&hello[3..], true)],
            no_limit(),
        );
        assert_eq!(out.unwrap(), b"Hello");
        // 7.2.3.3: a stored block; 7.2.3.6: an empty message is one 0x00.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        let out = inflate_all(&mut server.inflater, &[(&stored, true)], no_limit()).unwrap();
        assert_eq!(out, b"Hello");
        let out = inflate_all(&mut server.inflater, &[(&[0x00], true)], no_limit()).unwrap();
        assert!(out.is_empty());
        // 7.2.3.4: a final block ends the stream; the next message starts a new one.
        let final_block = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        let out = inflate_all(&mut server.inflater, &[(&final_block, true)], no_limit()).unwrap();
        assert_eq!(out, b"Hello");
        let out = inflate_all(&mut server.inflater, &[(&hello, true)], no_limit()).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn messages_round_trip_at_every_window_with_and_without_context_takeover() {
        let text: Vec<u8> = (0..40_000u32)
            .flat_map(|i| format!("{{\"n\":{},\"v\":\"abc\"}}", i % 97).into_bytes())
            .collect();
        for bits in 8..=15 {
            for no_takeover in [false, true] {
                let agreed = DeflateParameters {
                    server_no_context_takeover: no_takeover,
                    client_no_context_takeover: no_takeover,
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                };
                let (mut client, mut server) = pair(agreed, 0);
                for round in 0..3 {
                    let data = &text[round * 1000..round * 1000 + 5000 + round * 50_000];
                    let sent = client.deflater.compress_message(data).unwrap().unwrap();
                    assert!(
                        sent.len() < data.len() / 3,
                        "bits {bits}: {} of {}",
                        sent.len(),
                        data.len()
                    );
                    let out =
                        inflate_all(&mut server.inflater, &[(&sent, true)], no_limit()).unwrap();
                    assert!(
                        out == data,
                        "bits {bits}, no takeover {no_takeover}, round {round}"
                    );
                }
                // In parts: every part ends with a flush the peer can inflate at once.
                let first = client.deflater.compress_part(&text[..3000], false).unwrap();
                let last = client
                    .deflater
                    .compress_part(&text[3000..9000], true)
                    .unwrap();
                let out = inflate_all(
                    &mut server.inflater,
                    &[(&first, false), (&last, true)],
                    no_limit(),
                )
                .unwrap();
                assert!(out == text[..9000]);
            }
        }
    }

    #[test]
    fn small_or_incompressible_messages_go_uncompressed() {
        let (mut client, mut server) = pair(DEFAULT, 256);
        assert!(client
            .deflater
            .compress_message(&[b'a'; 255])
            .unwrap()
            .is_none());
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        assert!(client.deflater.compress_message(&noise).unwrap().is_none());
        // The window was emptied: what follows does not refer to the noise.
        let mut data = noise[..1000].to_vec();
        data.extend_from_slice(&[b'z'; 1000]);
        let sent = client.deflater.compress_message(&data).unwrap().unwrap();
        let out = inflate_all(&mut server.inflater, &[(&sent, true)], no_limit()).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn a_bomb_stops_one_byte_past_the_limit_and_memory_follows_the_output() {
        let (mut client, mut server) = pair(DEFAULT, 0);
        let zeros = vec![0u8; 10 << 20];
        let bomb = client.deflater.compress_message(&zeros).unwrap().unwrap();
        assert!(bomb.len() < 20 * 1024, "{}", bomb.len());
        let mut out = Vec::new();
        let mut largest = 0;
        let limit = InflateLimit {
            name: "max_message_size",
            max: 1 << 20,
        };
        let err = server
            .inflater
            .inflate(&bomb, true, &mut out, limit, &mut |size| {
                largest = largest.max(size);
                Ok(())
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "max_message_size exceeded: 1048577 bytes is more than the maximum of 1048576"
        );
        assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
        assert!(out.capacity() <= (1 << 20) + 1, "{}", out.capacity());
        assert_eq!(largest, (1 << 20) + 1);
        // The budget's refusal stops it too, before the buffer grows.
        let (_, mut server) = pair(DEFAULT, 0);
        let mut out = Vec::new();
        let err = server
            .inflater
            .inflate(&bomb, true, &mut out, no_limit(), &mut |size| {
                if size > 256 * 1024 {
                    Err(WebSocketError::LimitExceeded {
                        limit: "frame_memory_budget",
                        actual: size as u64,
                        max: 256 * 1024,
                    })
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert!(err.to_string().starts_with("frame_memory_budget"));
        assert!(out.capacity() <= 256 * 1024);
    }

    #[test]
    fn garbage_is_invalid_payload_never_a_panic() {
        let (_, mut server) = pair(DEFAULT, 0);
        // 0xff: a block of the reserved type 3.
        let err = inflate_all(
            &mut server.inflater,
            &[(&[0xff, 0xff, 0xff], true)],
            no_limit(),
        )
        .unwrap_err();
        assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
        assert!(err.to_string().contains("not valid deflate data"), "{err}");
        // A distance before the start of the stream.
        let (_, mut server) = pair(DEFAULT, 0);
        // Fixed Huffman: literal 'a', then length 3 at distance 2.
        let err = inflate_all(
            &mut server.inflater,
            &[(&[0x4a, 0x04, 0x42, 0x00], true)],
            no_limit(),
        )
        .unwrap_err();
        assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD), "{err}");
    }
}
