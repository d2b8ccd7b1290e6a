//! Cutting frames out of the bytes read: the header checks of `frame`, the
//! fragmentation rules (RFC 6455 section 5.4), and the size limits, all
//! checked on the header, before any payload byte is stored.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use sock_codec::FrameMemoryCharge;
use tokio::time::Instant;

use crate::error::ARRIVAL_LIMIT;
use crate::frame::{Header, OpCode, Role};
use crate::mask::apply_mask;
use crate::{CloseCode, WebSocketError};

/// How much room a payload still on its way gets at a time: at least this
/// much, and at most [`ROOM_PER_BYTE_ARRIVED`] times what has arrived, so
/// that memory follows the bytes that arrived and never the length a header
/// announced (as sock-codec's length-prefixed decoder does).
const MIN_READ_ROOM: usize = 64 * 1024;

/// Room kept per payload byte that arrived, past [`MIN_READ_ROOM`].
const ROOM_PER_BYTE_ARRIVED: usize = 16;

/// Payloads up to this long are copied out of the read buffer rather than
/// split off it (as sock-codec's length-prefixed frames are).
const SMALL_PAYLOAD: usize = 256;

/// One frame, its payload unmasked.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) fin: bool,
    /// RSV1 on a message's first frame: the message is compressed.
    pub(crate) rsv1: bool,
    pub(crate) opcode: OpCode,
    pub(crate) payload: Bytes,
}

impl Frame {
    fn new(header: &Header, payload: Bytes) -> Self {
        Self {
            fin: header.fin,
            rsv1: header.rsv1,
            opcode: header.opcode,
            payload,
        }
    }
}

/// Takes the `len`-byte payload that starts `at` bytes into `buf` out of it
/// (the bytes before it with it), unmasked. A small payload is copied:
/// cheaper than sharing the read buffer, and a small message kept for long
/// does not pin it. A larger one is split off the buffer.
fn take_payload(buf: &mut BytesMut, at: usize, len: usize, mask: Option<u32>) -> Bytes {
    if len <= SMALL_PAYLOAD {
        let mut payload = buf[at..at + len].to_vec();
        buf.advance(at + len);
        if let Some(key) = mask {
            apply_mask(&mut payload, key.to_ne_bytes());
        }
        return Bytes::from(payload);
    }
    buf.advance(at);
    let mut payload = buf.split_to(len);
    if let Some(key) = mask {
        apply_mask(&mut payload, key.to_ne_bytes());
    }
    payload.freeze()
}

/// The limits a decoder enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The largest payload of one frame (`max_frame_size`).
    pub(crate) max_frame_size: usize,
    /// The largest message, its fragments joined (`max_message_size`);
    /// `None` when messages are handed out part by part.
    pub(crate) max_message_size: Option<usize>,
    /// How long a message (all its fragments) or a frame may take to arrive
    /// from its first byte (`message_timeout`); `None` for no bound.
    pub(crate) message_timeout: Option<Duration>,
}

/// Reads frames one after the other out of a read buffer.
#[derive(Debug)]
pub(crate) struct FrameDecoder {
    role: Role,
    limits: Limits,
    /// A header read whose payload is still arriving.
    current: Option<Header>,
    /// The data message in progress: its bytes so far, announced included.
    message_len: Option<u64>,
    /// The room kept for a partial frame, charged to the shared budget.
    charge: FrameMemoryCharge,
    /// When the message or frame now arriving began to.
    arriving_since: Option<Instant>,
    /// permessage-deflate was agreed: RSV1 may be set.
    rsv1_allowed: bool,
}

impl FrameDecoder {
    /// A decoder for the receiving end `role`, charging partial frames to
    /// `charge`'s budget.
    pub(crate) fn new(role: Role, limits: Limits, charge: FrameMemoryCharge) -> Self {
        Self {
            role,
            limits,
            current: None,
            message_len: None,
            charge,
            arriving_since: None,
            rsv1_allowed: false,
        }
    }

    /// Lets RSV1 mark compressed messages (permessage-deflate was agreed).
    #[cfg(feature = "deflate")]
    pub(crate) fn allow_rsv1(mut self) -> Self {
        self.rsv1_allowed = true;
        self
    }

    /// The next whole frame at the start of `buf`, taken out of it;
    /// `Ok(None)` until it has all arrived. Inlined, with `next_frame` and
    /// `admit`, into the engine's receive loop: returned through memory,
    /// the frame and its header were written a byte field at a time and
    /// read back a word at a time, which stalled the load on every frame of
    /// a burst of small messages.
    #[inline]
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, WebSocketError> {
        let frame = self.next_frame(buf)?;
        let partial_frame = !buf.is_empty() || self.current.is_some();
        if frame.is_some() && partial_frame {
            // More is buffered: the clock is read when the decoder next has
            // to wait for bytes, not once per frame of a pipelined burst.
            return Ok(frame);
        }
        self.check_arrival(partial_frame)?;
        Ok(frame)
    }

    /// Bounds the time a message or frame takes to arrive, checked whenever
    /// the decoder runs out of whole frames (a peer that sends nothing at
    /// all is the idle timeout's): the clock starts when something partial
    /// is first left waiting and stops once nothing is partial.
    fn check_arrival(&mut self, partial_frame: bool) -> Result<(), WebSocketError> {
        if !partial_frame && self.message_len.is_none() {
            self.arriving_since = None;
            return Ok(());
        }
        let since = *self.arriving_since.get_or_insert_with(Instant::now);
        match self.limits.message_timeout {
            Some(limit) if since.elapsed() > limit => Err(WebSocketError::TimedOut {
                operation: ARRIVAL_LIMIT,
                after: limit,
            }),
            _ => Ok(()),
        }
    }

    #[inline(always)]
    fn next_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, WebSocketError> {
        let header = match self.current {
            Some(header) => header,
            None => {
                let Some(header) = Header::parse(buf, self.role, self.rsv1_allowed)? else {
                    return Ok(None);
                };
                self.admit(&header)?;
                // Within max_frame_size, which fits in usize (checked by admit).
                let len = header.payload_len as usize;
                if buf.len() >= header.len + len {
                    // The whole frame is here (most of a burst): taken out
                    // with its header in one step.
                    let payload = take_payload(buf, header.len, len, header.mask);
                    return Ok(Some(Frame::new(&header, payload)));
                }
                buf.advance(header.len);
                self.current = Some(header);
                header
            }
        };
        let len = header.payload_len as usize;
        if buf.len() < len {
            let missing = len - buf.len();
            let room = (buf.len() * ROOM_PER_BYTE_ARRIVED).max(MIN_READ_ROOM);
            let grow = missing.min(room);
            buf.reserve(grow);
            // The room this frame may take, not the buffer's capacity: that
            // follows the size reads have grown to, for any frame.
            self.charge.hold(buf.len() + grow).map_err(budget_error)?;
            return Ok(None);
        }
        self.current = None;
        self.charge.release();
        let payload = take_payload(buf, 0, len, header.mask);
        Ok(Some(Frame::new(&header, payload)))
    }

    /// Checks a header against the limits and the fragmentation rules, and
    /// notes where the message stands.
    #[inline]
    fn admit(&mut self, header: &Header) -> Result<(), WebSocketError> {
        let max_frame = self.limits.max_frame_size as u64;
        if header.payload_len > max_frame {
            return Err(WebSocketError::LimitExceeded {
                limit: "max_frame_size",
                actual: header.payload_len,
                max: max_frame,
            });
        }
        let so_far = match (header.opcode, self.message_len) {
            (op, _) if op.is_control() => return Ok(()),
            (OpCode::Continuation, Some(so_far)) => so_far,
            (OpCode::Continuation, None) => {
                return Err(protocol(
                    "continuation frame with no message to continue (rfc 6455 5.4)",
                ))
            }
            (_, Some(_)) => {
                return Err(protocol(
                    "new data frame before the fragmented message ended (rfc 6455 5.4)",
                ))
            }
            (_, None) => 0,
        };
        let total = so_far + header.payload_len;
        if let Some(max) = self.limits.max_message_size {
            if total > max as u64 {
                return Err(WebSocketError::LimitExceeded {
                    limit: "max_message_size",
                    actual: total,
                    max: max as u64,
                });
            }
        }
        self.message_len = (!header.fin).then_some(total);
        Ok(())
    }
}

/// The shared budget is spent: sock-codec's error, as ours.
pub(crate) fn budget_error(e: sock_core::Error) -> WebSocketError {
    match e {
        sock_core::Error::LimitExceeded { limit, actual, max } => {
            WebSocketError::LimitExceeded { limit, actual, max }
        }
        other => WebSocketError::Socket(other),
    }
}

fn protocol(detail: &str) -> WebSocketError {
    WebSocketError::protocol(CloseCode::PROTOCOL_ERROR, detail)
}

#[cfg(test)]
pub(crate) mod tests {
    use bytes::BufMut;

    use super::*;
    use crate::frame::write_header;

    pub(super) fn unlimited() -> FrameMemoryCharge {
        FrameMemoryCharge::new(sock_codec::FrameMemoryBudget::new(usize::MAX))
    }

    const LIMITS: Limits = Limits {
        max_frame_size: 100,
        max_message_size: Some(150),
        message_timeout: None,
    };

    /// One client frame as it crosses the wire: masked.
    pub(crate) fn frame(fin: bool, opcode: OpCode, payload: &[u8]) -> BytesMut {
        let mut buf = BytesMut::new();
        let key = [9, 8, 7, 6];
        write_header(&mut buf, fin, opcode, Some(key), payload.len());
        let start = buf.len();
        buf.put_slice(payload);
        apply_mask(&mut buf[start..], key);
        buf
    }

    #[test]
    fn a_frame_arriving_byte_by_byte_comes_out_whole_and_unmasked() {
        let wire = frame(true, OpCode::Text, b"hello");
        let mut decoder = FrameDecoder::new(Role::Server, LIMITS, unlimited());
        let mut buf = BytesMut::new();
        for (i, byte) in wire.iter().enumerate() {
            buf.put_u8(*byte);
            let out = decoder.decode(&mut buf).unwrap();
            if i + 1 < wire.len() {
                assert!(out.is_none());
            } else {
                let out = out.unwrap();
                assert_eq!(&out.payload[..], b"hello");
                assert!(out.fin);
            }
        }
        assert!(buf.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn whole_frames_already_buffered_are_not_timed_but_a_partial_one_is() {
        let limits = Limits {
            message_timeout: Some(Duration::from_secs(1)),
            ..LIMITS
        };
        let mut decoder = FrameDecoder::new(Role::Server, limits, unlimited());
        let mut buf = BytesMut::new();
        for payload in [&b"one"[..], b"two", b"three"] {
            buf.extend_from_slice(&frame(true, OpCode::Binary, payload));
        }
        // A slow reader of a burst that arrived whole: nothing is late.
        for payload in [&b"one"[..], b"two", b"three"] {
            let out = decoder.decode(&mut buf).unwrap().expect("a whole frame");
            assert_eq!(&out.payload[..], payload);
            tokio::time::advance(Duration::from_secs(2)).await;
        }
        // A whole frame, then the start of one that never finishes.
        buf.extend_from_slice(&frame(true, OpCode::Binary, b"four"));
        let partial = frame(true, OpCode::Binary, b"never whole");
        buf.extend_from_slice(&partial[..4]);
        assert!(decoder.decode(&mut buf).unwrap().is_some());
        assert!(decoder.decode(&mut buf).unwrap().is_none());
        tokio::time::advance(Duration::from_millis(600)).await;
        buf.extend_from_slice(&partial[4..5]);
        assert!(
            decoder.decode(&mut buf).unwrap().is_none(),
            "within the bound"
        );
        tokio::time::advance(Duration::from_millis(600)).await;
        buf.extend_from_slice(&partial[5..6]);
        let err = decoder.decode(&mut buf).unwrap_err();
        assert!(matches!(err, WebSocketError::TimedOut { .. }), "{err}");
    }

    #[test]
    fn sizes_are_refused_on_the_header_before_the_payload_is_stored() {
        let mut decoder = FrameDecoder::new(Role::Server, LIMITS, unlimited());
        let mut buf = BytesMut::new();
        write_header(&mut buf, true, OpCode::Binary, Some([0; 4]), 101);
        let err = decoder.decode(&mut buf).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("max_frame_size exceeded: 101 bytes"));

        let mut decoder = FrameDecoder::new(Role::Server, LIMITS, unlimited());
        let mut buf = frame(false, OpCode::Binary, &[0; 100]);
        assert!(decoder.decode(&mut buf).unwrap().is_some());
        write_header(&mut buf, true, OpCode::Continuation, Some([0; 4]), 51);
        let err = decoder.decode(&mut buf).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("max_message_size exceeded: 151 bytes"));
        assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    }

    #[test]
    fn an_announced_length_reserves_room_only_as_bytes_arrive() {
        let limits = Limits {
            max_frame_size: 1 << 30,
            max_message_size: None,
            message_timeout: None,
        };
        let mut decoder = FrameDecoder::new(Role::Server, limits, unlimited());
        let mut buf = BytesMut::new();
        write_header(&mut buf, true, OpCode::Binary, Some([0; 4]), 1 << 29);
        assert!(decoder.decode(&mut buf).unwrap().is_none());
        assert!(buf.capacity() <= 2 * MIN_READ_ROOM, "{}", buf.capacity());
    }

    #[test]
    fn a_partial_frame_past_the_shared_budget_fails_and_gives_its_charge_back() {
        let budget = sock_codec::FrameMemoryBudget::new(256 * 1024);
        let limits = Limits {
            max_frame_size: 1 << 30,
            max_message_size: None,
            message_timeout: None,
        };
        let mut decoder =
            FrameDecoder::new(Role::Server, limits, FrameMemoryCharge::new(budget.clone()));
        let mut buf = BytesMut::new();
        write_header(&mut buf, true, OpCode::Binary, Some([0; 4]), 1 << 24);
        assert!(decoder.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&[0u8; 100_000]);
        let err = decoder.decode(&mut buf).unwrap_err();
        assert!(
            err.to_string().starts_with("frame_memory_budget exceeded"),
            "{err}"
        );
        drop(decoder);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn a_small_frame_cut_at_the_end_of_a_large_read_charges_nothing() {
        let budget = sock_codec::FrameMemoryBudget::new(1 << 20);
        let mut decoder =
            FrameDecoder::new(Role::Server, LIMITS, FrameMemoryCharge::new(budget.clone()));
        // A read buffer grown by bursts, holding a whole frame and the
        // start of the next.
        let mut buf = BytesMut::with_capacity(256 * 1024);
        buf.extend_from_slice(&frame(true, OpCode::Binary, b"whole"));
        let cut = frame(true, OpCode::Binary, b"cut in two");
        buf.extend_from_slice(&cut[..8]);
        assert!(decoder.decode(&mut buf).unwrap().is_some());
        assert!(decoder.decode(&mut buf).unwrap().is_none());
        assert_eq!(budget.in_use(), 0, "a 10-byte frame charged the budget");
        buf.extend_from_slice(&cut[8..]);
        assert_eq!(
            &decoder.decode(&mut buf).unwrap().unwrap().payload[..],
            b"cut in two"
        );
    }

    #[test]
    fn payloads_around_the_copy_threshold_come_out_unmasked_whole_or_finished_later() {
        let limits = Limits {
            max_frame_size: 1 << 20,
            max_message_size: Some(1 << 20),
            message_timeout: None,
        };
        for len in [SMALL_PAYLOAD - 1, SMALL_PAYLOAD, SMALL_PAYLOAD + 1, 4099] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let wire = frame(true, OpCode::Binary, &payload);
            // All of it in one read, behind another frame.
            let mut decoder = FrameDecoder::new(Role::Server, limits, unlimited());
            let mut buf = frame(true, OpCode::Binary, b"before");
            buf.extend_from_slice(&wire);
            let first = decoder.decode(&mut buf).unwrap().unwrap();
            assert_eq!(&first.payload[..], b"before");
            let whole = decoder.decode(&mut buf).unwrap().unwrap();
            assert_eq!(whole.payload, payload, "whole, {len} bytes");
            assert!(buf.is_empty());
            // The header and half the payload first, the rest later.
            let mut decoder = FrameDecoder::new(Role::Server, limits, unlimited());
            let half = wire.len() - len / 2;
            let mut buf = BytesMut::from(&wire[..half]);
            assert!(decoder.decode(&mut buf).unwrap().is_none());
            buf.extend_from_slice(&wire[half..]);
            let later = decoder.decode(&mut buf).unwrap().unwrap();
            assert_eq!(later.payload, payload, "finished later, {len} bytes");
        }
    }

    #[test]
    fn fragments_follow_section_5_4() {
        let mut decoder = FrameDecoder::new(Role::Server, LIMITS, unlimited());
        let mut buf = frame(true, OpCode::Continuation, b"x");
        assert!(decoder
            .decode(&mut buf)
            .unwrap_err()
            .to_string()
            .contains("no message"));

        let mut decoder = FrameDecoder::new(Role::Server, LIMITS, unlimited());
        let mut buf = frame(false, OpCode::Text, b"a");
        buf.extend_from_slice(&frame(true, OpCode::Ping, b"p"));
        buf.extend_from_slice(&frame(true, OpCode::Text, b"b"));
        assert!(decoder.decode(&mut buf).unwrap().is_some());
        // A control frame may come between fragments.
        assert_eq!(
            decoder.decode(&mut buf).unwrap().unwrap().opcode,
            OpCode::Ping
        );
        assert!(decoder
            .decode(&mut buf)
            .unwrap_err()
            .to_string()
            .contains("before the fragmented message ended"));
    }
}
