//! The hand-off wire format: one message per socket, over a Unix stream
//! socket.
//!
//! ```text
//! offset size  field
//!      0    4  magic "SKHO"
//!      4    1  version (1)
//!      5    1  op: 1 = socket (one descriptor attached), 2 = request every
//!              held socket, 3 = end of a reply
//!      6    1  kind (SocketActivityKind: 1 listener, 2 datagram, 3 stream); 0 unless op 1
//!      7    1  flags: bit 0 = multicast_only (kind 2 only); other bits 0
//!      8    2  id length, big-endian, at most MAX_ID_LEN
//!     10    4  context length, big-endian, at most the receiver's max_context_len
//!     14    -  id (UTF-8), then context
//! ```
//!
//! A socket message carries exactly one descriptor (`SCM_RIGHTS`), attached
//! to its first byte. Requests and ends carry no flags, no id, no context and
//! no descriptor. The flags are the [`SocketSettings`] that live in the
//! sending process rather than in the kernel; a receiver refuses a bit it
//! does not know and a flag on a kind that cannot have it. (Byte 7 was
//! "reserved, 0" before it held flags; a message without flags is the same
//! bytes as then, so the version stays 1.) Everything is checked before
//! anything is allocated.

use sock_core::Error;

use crate::{SocketActivityKind, SocketSettings};

/// The first four bytes of every message.
pub(crate) const MAGIC: [u8; 4] = *b"SKHO";

/// The wire version this crate speaks.
pub const WIRE_VERSION: u8 = 1;

/// Bytes in a message header.
pub(crate) const HEADER_LEN: usize = 14;

/// Flags bit: the datagram socket is `multicast_only`.
pub(crate) const FLAG_MULTICAST_ONLY: u8 = 0x01;

/// Every flags bit this side knows.
const KNOWN_FLAGS: u8 = FLAG_MULTICAST_ONLY;

/// The longest id, in bytes.
pub const MAX_ID_LEN: usize = 255;

/// The longest context accepted unless the receiver allows more (64 KiB).
pub const DEFAULT_MAX_CONTEXT_LEN: usize = 64 * 1024;

/// The most `max_context_len` can be raised to (16 MiB).
pub const MAX_CONTEXT_LEN: usize = 16 * 1024 * 1024;

/// What a message asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Here is a socket.
    Socket = 1,
    /// Give me every socket you hold.
    Request = 2,
    /// That was every socket.
    End = 3,
}

/// A decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) op: Op,
    pub(crate) kind: SocketActivityKind,
    pub(crate) settings: SocketSettings,
    pub(crate) id_len: usize,
    pub(crate) context_len: usize,
}

/// Checks what a sender is about to send.
pub(crate) fn check_outgoing(
    kind: SocketActivityKind,
    settings: SocketSettings,
    id: &str,
    context: &[u8],
    max_context_len: usize,
) -> Result<(), Error> {
    if kind == SocketActivityKind::None {
        return Err(Error::unsupported(
            "handing over a socket of kind None",
            "say which kind of socket it is",
        ));
    }
    if settings.is_multicast_only() && kind != SocketActivityKind::DatagramSocket {
        return Err(Error::unsupported(
            format!("handing over a {kind} with multicast_only set"),
            "only a DatagramSocket can be multicast_only",
        ));
    }
    limit("max_id_len", id.len(), MAX_ID_LEN)?;
    limit("max_context_len", context.len(), max_context_len)
}

fn limit(name: &'static str, actual: usize, max: usize) -> Result<(), Error> {
    if actual > max {
        return Err(Error::LimitExceeded {
            limit: name,
            actual: actual as u64,
            max: max as u64,
        });
    }
    Ok(())
}

/// The flags byte for `settings`.
fn flags(settings: SocketSettings) -> u8 {
    if settings.is_multicast_only() {
        FLAG_MULTICAST_ONLY
    } else {
        0
    }
}

/// A whole message: header, id, context.
pub(crate) fn encode(
    op: Op,
    kind: SocketActivityKind,
    settings: SocketSettings,
    id: &str,
    context: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + id.len() + context.len());
    out.extend_from_slice(&MAGIC);
    out.push(WIRE_VERSION);
    out.push(op as u8);
    out.push(kind as u8);
    out.push(flags(settings));
    // Lengths were checked by `check_outgoing` (or are zero).
    out.extend_from_slice(&(id.len() as u16).to_be_bytes());
    out.extend_from_slice(&(context.len() as u32).to_be_bytes());
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(context);
    out
}

/// Decodes and checks a header from a peer.
pub(crate) fn decode_header(h: &[u8; HEADER_LEN], max_context_len: usize) -> Result<Header, Error> {
    if h[..4] != MAGIC {
        return Err(Error::invalid_data(format!(
            "not a socket hand-off message (starts with {:02x?}, expected \"SKHO\")",
            &h[..4]
        )));
    }
    if h[4] != WIRE_VERSION {
        return Err(Error::unsupported(
            format!("socket hand-off wire version {}", h[4]),
            format!("this side speaks version {WIRE_VERSION}"),
        ));
    }
    let op = match h[5] {
        1 => Op::Socket,
        2 => Op::Request,
        3 => Op::End,
        other => {
            return Err(Error::invalid_data(format!(
                "unknown socket hand-off operation {other}"
            )))
        }
    };
    let kind = SocketActivityKind::from_u8(h[6]).ok_or_else(|| {
        Error::invalid_data(format!(
            "unknown socket kind {} in a hand-off message",
            h[6]
        ))
    })?;
    let unknown = h[7] & !KNOWN_FLAGS;
    if unknown != 0 {
        return Err(Error::invalid_data(format!(
            "flags byte of a hand-off message is {:#04x}: unknown bits {unknown:#04x} \
             (this side knows {KNOWN_FLAGS:#04x})",
            h[7]
        )));
    }
    let settings = SocketSettings::new().multicast_only(h[7] & FLAG_MULTICAST_ONLY != 0);
    if settings.is_multicast_only() && kind != SocketActivityKind::DatagramSocket {
        return Err(Error::invalid_data(format!(
            "hand-off message sets the multicast_only flag on a {kind} \
             (only a DatagramSocket can be multicast_only)"
        )));
    }
    let id_len = usize::from(u16::from_be_bytes([h[8], h[9]]));
    let context_len = u32::from_be_bytes([h[10], h[11], h[12], h[13]]) as usize;
    limit("max_id_len", id_len, MAX_ID_LEN)?;
    limit("max_context_len", context_len, max_context_len)?;
    match op {
        Op::Socket if kind == SocketActivityKind::None => Err(Error::invalid_data(
            "hand-off message carries a socket of kind None",
        )),
        Op::Request | Op::End
            if kind != SocketActivityKind::None || id_len != 0 || context_len != 0 =>
        {
            Err(Error::invalid_data(format!(
                "hand-off {op:?} message has a kind, id or context (it must be empty)"
            )))
        }
        _ => Ok(Header {
            op,
            kind,
            settings,
            id_len,
            context_len,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: SocketSettings = SocketSettings::new();

    fn header(bytes: &[u8]) -> [u8; HEADER_LEN] {
        bytes[..HEADER_LEN].try_into().unwrap()
    }

    #[test]
    fn a_socket_message_round_trips() {
        let msg = encode(
            Op::Socket,
            SocketActivityKind::DatagramSocket,
            NONE,
            "dns",
            b"\x00ctx",
        );
        assert_eq!(&msg[..8], b"SKHO\x01\x01\x02\x00");
        let h = decode_header(&header(&msg), DEFAULT_MAX_CONTEXT_LEN).unwrap();
        assert_eq!(
            h,
            Header {
                op: Op::Socket,
                kind: SocketActivityKind::DatagramSocket,
                settings: NONE,
                id_len: 3,
                context_len: 4
            }
        );
        assert_eq!(&msg[HEADER_LEN..], b"dns\x00ctx");
    }

    #[test]
    fn a_context_over_the_limit_is_refused_by_name_before_reading_it() {
        let msg = encode(
            Op::Socket,
            SocketActivityKind::StreamSocket,
            NONE,
            "a",
            &[7; 100],
        );
        let err = decode_header(&header(&msg), 99).unwrap_err();
        assert_eq!(
            err.to_string(),
            "max_context_len exceeded: 100 bytes is more than the maximum of 99"
        );
        let mut h = header(&msg);
        h[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_header(&h, MAX_CONTEXT_LEN).is_err());
    }

    #[test]
    fn outgoing_limits_are_checked_by_name() {
        let long = "x".repeat(MAX_ID_LEN + 1);
        let err =
            check_outgoing(SocketActivityKind::StreamSocket, NONE, &long, b"", 10).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("max_id_len exceeded: 256 bytes"),
            "{err}"
        );
        let err =
            check_outgoing(SocketActivityKind::StreamSocket, NONE, "a", &[0; 11], 10).unwrap_err();
        assert!(
            err.to_string().starts_with("max_context_len exceeded"),
            "{err}"
        );
        assert!(check_outgoing(SocketActivityKind::None, NONE, "a", b"", 10).is_err());
        check_outgoing(
            SocketActivityKind::StreamSocket,
            NONE,
            &"x".repeat(MAX_ID_LEN),
            &[0; 10],
            10,
        )
        .unwrap();
    }

    #[test]
    fn bad_headers_get_clear_errors() {
        let good = header(&encode(
            Op::Socket,
            SocketActivityKind::StreamSocket,
            NONE,
            "",
            b"",
        ));
        let cases: [(usize, u8, &str); 7] = [
            (0, b'X', "not a socket hand-off message"),
            (4, 2, "socket hand-off wire version 2 is not supported"),
            (5, 9, "unknown socket hand-off operation 9"),
            (6, 4, "unknown socket kind 4"),
            (6, 0, "socket of kind None"),
            (
                7,
                0x02,
                "flags byte of a hand-off message is 0x02: unknown bits 0x02",
            ),
            (7, 0x81, "unknown bits 0x80"),
        ];
        for (at, value, expected) in cases {
            let mut h = good;
            h[at] = value;
            let err = decode_header(&h, 10).unwrap_err();
            assert!(err.to_string().contains(expected), "{at}: {err}");
        }
        let mut req = header(&encode(
            Op::Request,
            SocketActivityKind::None,
            NONE,
            "",
            b"",
        ));
        assert_eq!(decode_header(&req, 0).unwrap().op, Op::Request);
        req[9] = 1;
        assert!(decode_header(&req, 0)
            .unwrap_err()
            .to_string()
            .contains("must be empty"));
    }

    #[test]
    fn the_multicast_only_flag_round_trips_on_a_datagram_socket() {
        let on = SocketSettings::new().multicast_only(true);
        let msg = encode(
            Op::Socket,
            SocketActivityKind::DatagramSocket,
            on,
            "mdns",
            b"",
        );
        assert_eq!(&msg[..8], b"SKHO\x01\x01\x02\x01");
        let h = decode_header(&header(&msg), DEFAULT_MAX_CONTEXT_LEN).unwrap();
        assert!(h.settings.is_multicast_only());
        assert_eq!((h.kind, h.id_len), (SocketActivityKind::DatagramSocket, 4));
        check_outgoing(SocketActivityKind::DatagramSocket, on, "mdns", b"", 0).unwrap();

        // Without it, byte 7 is 0: the same bytes as before it was a flags byte.
        let off = encode(
            Op::Socket,
            SocketActivityKind::DatagramSocket,
            NONE,
            "mdns",
            b"",
        );
        assert_eq!(off[7], 0);
        let h = decode_header(&header(&off), DEFAULT_MAX_CONTEXT_LEN).unwrap();
        assert!(!h.settings.is_multicast_only());
    }

    #[test]
    fn the_multicast_only_flag_on_another_kind_is_refused_by_both_ends() {
        let on = SocketSettings::new().multicast_only(true);
        for kind in [
            SocketActivityKind::StreamSocketListener,
            SocketActivityKind::StreamSocket,
        ] {
            let err = check_outgoing(kind, on, "x", b"", 10).unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
            assert_eq!(
                err.to_string(),
                format!(
                    "handing over a {kind} with multicast_only set is not supported: \
                     only a DatagramSocket can be multicast_only"
                )
            );
            let mut h = header(&encode(Op::Socket, kind, NONE, "x", b""));
            h[7] = FLAG_MULTICAST_ONLY;
            let err = decode_header(&h, 10).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid data: hand-off message sets the multicast_only flag on a {kind} \
                     (only a DatagramSocket can be multicast_only)"
                )
            );
        }
        // A request or an end has no socket to be multicast_only.
        let mut req = header(&encode(
            Op::Request,
            SocketActivityKind::None,
            NONE,
            "",
            b"",
        ));
        req[7] = FLAG_MULTICAST_ONLY;
        let err = decode_header(&req, 0).unwrap_err();
        assert!(err.to_string().contains("multicast_only flag"), "{err}");
    }

    #[test]
    fn unknown_flag_bits_are_refused_even_beside_a_known_one() {
        let good = header(&encode(
            Op::Socket,
            SocketActivityKind::DatagramSocket,
            SocketSettings::new().multicast_only(true),
            "",
            b"",
        ));
        for bit in 1..8 {
            let mut h = good;
            h[7] |= 1 << bit;
            let err = decode_header(&h, 10).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("unknown bits {:#04x}", 1u8 << bit)),
                "{bit}: {err}"
            );
            assert!(err.to_string().contains("flags byte"), "{err}");
        }
    }

    #[test]
    fn no_header_panics() {
        // Every value of every byte, on top of a valid header.
        let good = header(&encode(
            Op::Socket,
            SocketActivityKind::StreamSocket,
            NONE,
            "id",
            b"c",
        ));
        for at in 0..HEADER_LEN {
            for value in 0..=255u8 {
                let mut h = good;
                h[at] = value;
                let _ = decode_header(&h, DEFAULT_MAX_CONTEXT_LEN);
            }
        }
    }
}
