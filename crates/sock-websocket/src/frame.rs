//! The frame header of RFC 6455 section 5.2: reading one with every check
//! the RFC asks of a receiver, and writing one.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```

use bytes::BytesMut;

use crate::{CloseCode, WebSocketError};

/// The longest header: 2 bytes, a 64-bit length, a masking key.
pub(crate) const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame (section 5.5).
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;

/// The first reserved bit, which permessage-deflate sets on the first frame
/// of a compressed message (RFC 7692 section 6).
pub(crate) const RSV1: u8 = 0x40;

/// Which end of the connection this is: clients mask what they send and
/// must receive unmasked frames; servers the other way round (section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end that sent the opening handshake's request.
    Client,
    /// The end that accepted it.
    Server,
}

/// A frame's opcode (section 5.2; the reserved ones are refused on reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpCode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong (section 5.5).
    pub(crate) fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A frame header as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    /// RSV1: the message is compressed (only when permessage-deflate was
    /// agreed, and only on a message's first frame).
    pub(crate) rsv1: bool,
    pub(crate) opcode: OpCode,
    /// The masking key, its four bytes as they came in native order (a
    /// `u32` rather than `[u8; 4]`: an `Option<[u8; 4]>` is stored as a tag
    /// byte and an unaligned array, which the decoder then reloads across
    /// the two stores, stalling on each frame).
    pub(crate) mask: Option<u32>,
    pub(crate) payload_len: u64,
    /// The bytes the header itself took.
    pub(crate) len: usize,
}

impl Header {
    /// Reads the header at the start of `buf`: `Ok(None)` while it is
    /// incomplete. `role` is the receiver's; `rsv1_allowed` when
    /// permessage-deflate was agreed. Fails on what section 5 forbids:
    /// reserved bits without an extension (5.2), reserved opcodes (5.2),
    /// fragmented or long control frames (5.5), a 64-bit length with its top
    /// bit set (5.2), a client's unmasked frame or a server's masked one
    /// (5.1); and on what RFC 7692 section 6.1 forbids: RSV1 on a control
    /// frame or a continuation frame.
    #[inline]
    pub(crate) fn parse(
        buf: &[u8],
        role: Role,
        rsv1_allowed: bool,
    ) -> Result<Option<Self>, WebSocketError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let allowed = if rsv1_allowed { RSV1 } else { 0 };
        if b0 & 0x70 & !allowed != 0 {
            return Err(protocol(format!(
                "reserved bits {:#05b} set with no extension negotiated (rfc 6455 5.2)",
                (b0 >> 4) & 0x7
            )));
        }
        let opcode = OpCode::from_bits(b0 & 0x0F)
            .ok_or_else(|| protocol(format!("reserved opcode {:#x} (rfc 6455 5.2)", b0 & 0x0F)))?;
        let rsv1 = b0 & RSV1 != 0;
        if rsv1 && opcode.is_control() {
            return Err(protocol("rsv1 set on a control frame (rfc 7692 6.1)"));
        }
        if rsv1 && opcode == OpCode::Continuation {
            return Err(protocol("rsv1 set on a continuation frame (rfc 7692 6.1)"));
        }
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        let (extra, short) = match b1 & 0x7F {
            126 => (2, None),
            127 => (8, None),
            n => (0, Some(u64::from(n))),
        };
        if opcode.is_control() {
            if !fin {
                return Err(protocol("fragmented control frame (rfc 6455 5.5)"));
            }
            if short.is_none_or(|n| n > MAX_CONTROL_PAYLOAD as u64) {
                return Err(protocol(
                    "control frame payload longer than 125 bytes (rfc 6455 5.5)",
                ));
            }
        }
        match (role, masked) {
            (Role::Server, false) => {
                return Err(protocol("unmasked frame from a client (rfc 6455 5.1)"))
            }
            (Role::Client, true) => {
                return Err(protocol("masked frame from a server (rfc 6455 5.1)"))
            }
            _ => {}
        }
        let len = 2 + extra + if masked { 4 } else { 0 };
        if buf.len() < len {
            return Ok(None);
        }
        let payload_len = match short {
            Some(n) => n,
            None if extra == 2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            None => {
                let mut wide = [0u8; 8];
                wide.copy_from_slice(&buf[2..10]);
                let n = u64::from_be_bytes(wide);
                if n >> 63 != 0 {
                    return Err(protocol(
                        "64-bit payload length with its most significant bit set (rfc 6455 5.2)",
                    ));
                }
                n
            }
        };
        let mask = masked.then(|| {
            let at = 2 + extra;
            u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
        });
        Ok(Some(Self {
            fin,
            rsv1,
            opcode,
            mask,
            payload_len,
            len,
        }))
    }
}

/// Writes a header for a payload of `payload_len` bytes, with the masking
/// key when there is one. A short payload's header (most frames) is
/// appended as one fixed-size array; a longer one's is made on the stack
/// and appended in one copy.
#[inline]
pub(crate) fn write_header(
    dst: &mut BytesMut,
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload_len: usize,
) {
    let b0 = if fin { 0x80 } else { 0 } | opcode.bits();
    if payload_len < 126 {
        let short = payload_len as u8;
        match mask {
            Some([k0, k1, k2, k3]) => dst.extend_from_slice(&[b0, 0x80 | short, k0, k1, k2, k3]),
            None => dst.extend_from_slice(&[b0, short]),
        }
        return;
    }
    let mut head = [0u8; MAX_HEADER_LEN];
    head[0] = b0;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut len = 4;
    if let Ok(short) = u16::try_from(payload_len) {
        head[1] = mask_bit | 126;
        head[2..4].copy_from_slice(&short.to_be_bytes());
    } else {
        head[1] = mask_bit | 127;
        head[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
        len = 10;
    }
    if let Some(key) = mask {
        head[len..len + 4].copy_from_slice(&key);
        len += 4;
    }
    dst.extend_from_slice(&head[..len]);
}

/// Out of line and cold: the checks in `Header::parse` stay a few
/// branches on the path every frame takes.
#[cold]
#[inline(never)]
fn protocol(detail: impl Into<String>) -> WebSocketError {
    WebSocketError::protocol(CloseCode::PROTOCOL_ERROR, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8], role: Role) -> Result<Option<Header>, WebSocketError> {
        Header::parse(bytes, role, false)
    }

    #[test]
    fn headers_round_trip_at_each_length_form() {
        for len in [0, 1, 125, 126, 65535, 65536, 1 << 40] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut buf = BytesMut::new();
                write_header(&mut buf, true, OpCode::Binary, mask, len);
                let role = if mask.is_some() {
                    Role::Server
                } else {
                    Role::Client
                };
                let header = parse(&buf, role).unwrap().unwrap();
                assert_eq!(header.payload_len, len as u64);
                assert_eq!(header.mask.map(u32::to_ne_bytes), mask);
                assert_eq!(header.len, buf.len());
                // One byte short: not yet a header.
                assert_eq!(parse(&buf[..buf.len() - 1], role).unwrap(), None);
            }
        }
    }

    #[test]
    fn what_section_5_forbids_is_refused() {
        let cases: &[(&[u8], Role, &str)] = &[
            (&[0xC1, 0x80, 0, 0, 0, 0], Role::Server, "reserved bits"),
            (
                &[0x83, 0x80, 0, 0, 0, 0],
                Role::Server,
                "reserved opcode 0x3",
            ),
            (
                &[0x8B, 0x80, 0, 0, 0, 0],
                Role::Server,
                "reserved opcode 0xb",
            ),
            (
                &[0x09, 0x80, 0, 0, 0, 0],
                Role::Server,
                "fragmented control",
            ),
            (&[0x89, 0xFE, 0, 126], Role::Server, "longer than 125"),
            (&[0x82, 0x05], Role::Server, "unmasked frame from a client"),
            (
                &[0x82, 0x85, 0, 0, 0, 0],
                Role::Client,
                "masked frame from a server",
            ),
            (
                &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
                Role::Client,
                "most significant bit",
            ),
        ];
        for (bytes, role, expected) in cases {
            let err = parse(bytes, *role).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
            assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
        }
    }

    #[test]
    fn rsv1_is_read_only_on_a_first_data_frame_when_deflate_was_agreed() {
        // A compressed text frame.
        let header = Header::parse(&[0xC1, 0x80, 0, 0, 0, 0], Role::Server, true)
            .unwrap()
            .unwrap();
        assert!(header.rsv1);
        let cases: &[(&[u8], &str)] = &[
            (&[0xC9, 0x80, 0, 0, 0, 0], "rsv1 set on a control frame"),
            (&[0xC8, 0x80, 0, 0, 0, 0], "rsv1 set on a control frame"),
            (
                &[0xC0, 0x80, 0, 0, 0, 0],
                "rsv1 set on a continuation frame",
            ),
            // RSV2 and RSV3 have no extension still.
            (&[0xA1, 0x80, 0, 0, 0, 0], "reserved bits 0b010"),
            (&[0x91, 0x80, 0, 0, 0, 0], "reserved bits 0b001"),
        ];
        for (bytes, expected) in cases {
            let err = Header::parse(bytes, Role::Server, true).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
            assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
        }
    }
}
