//! Close codes and the close frame's payload (RFC 6455 sections 5.5.1 and
//! 7.4): which codes may be sent, and reading a peer's close frame.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

/// The most bytes a close reason may take: a control frame carries at most
/// 125 bytes, two of which are the code.
pub const MAX_CLOSE_REASON_LEN: usize = 123;

/// A close status code (RFC 6455 section 7.4), as UWP's
/// `WebSocketClosedEventArgs.Code` and the `code` of `Close(code, reason)`.
///
/// An open set: any `u16` fits; [`is_sendable`](Self::is_sendable) says
/// whether it may go on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (a server shutting down, a page left).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a message of a type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: the peer's close frame had no code (never sent, only reported).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection ended without a closing handshake (never sent,
    /// only reported).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a text message that is not UTF-8, or data inconsistent with its
    /// type.
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message too big to process (`max_message_size`,
    /// `max_frame_size`).
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client needed an extension the server did not offer.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway got a bad response.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: the TLS handshake failed (never sent, only reported).
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Whether the code may be sent in a close frame (RFC 6455 section
    /// 7.4): 1000–1003, 1007–1014 and the registered and private ranges
    /// 3000–4999. 1004–1006 and 1015 are reserved, the rest unassigned.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

/// How a WebSocket closed: the code and reason of a close frame (UWP's
/// `WebSocketClosedEventArgs`).
///
/// A peer's close frame without a code is reported as
/// [`CloseCode::NO_STATUS`] (1005); a connection that ended without a closing
/// handshake as [`CloseCode::ABNORMAL`] (1006).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The close status code.
    pub code: CloseCode,
    /// The reason text (at most 123 bytes of UTF-8).
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with this code and reason.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            reason: reason.into(),
        }
    }

    /// The close frame a closing handshake with no code reports (1005).
    pub(crate) fn no_status() -> Self {
        Self::new(CloseCode::NO_STATUS, "")
    }

    /// The payload of a close frame carrying this code and reason; empty for
    /// the codes that are never sent (1005 echoes an empty close).
    pub(crate) fn payload(&self) -> Bytes {
        if !self.code.is_sendable() {
            return Bytes::new();
        }
        let mut out = BytesMut::with_capacity(2 + self.reason.len());
        out.put_u16(self.code.0);
        out.put_slice(self.reason.as_bytes());
        out.freeze()
    }

    /// Reads a peer's close frame payload (RFC 6455 section 5.5.1).
    pub(crate) fn parse(payload: &[u8]) -> Result<Self, CloseParseError> {
        match payload {
            [] => Ok(Self::no_status()),
            [_] => Err(CloseParseError::OneByte),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(CloseParseError::Code(code));
                }
                let reason = std::str::from_utf8(reason).map_err(|_| CloseParseError::Reason)?;
                Ok(Self::new(code, reason))
            }
        }
    }
}

impl fmt::Display for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "code {}", self.code)
        } else {
            write!(f, "code {} ({:?})", self.code, self.reason)
        }
    }
}

/// Why a peer's close frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseParseError {
    /// A one-byte payload: half a code.
    OneByte,
    /// A code that may not be sent.
    Code(CloseCode),
    /// A reason that is not UTF-8.
    Reason,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_follow_section_7_4() {
        for ok in [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999] {
            assert!(CloseCode(ok).is_sendable(), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(!CloseCode(bad).is_sendable(), "{bad}");
        }
    }

    #[test]
    fn close_payloads_round_trip_and_bad_ones_are_refused() {
        let frame = CloseFrame::new(CloseCode::GOING_AWAY, "bye");
        assert_eq!(CloseFrame::parse(&frame.payload()), Ok(frame));
        assert_eq!(CloseFrame::parse(&[]), Ok(CloseFrame::no_status()));
        assert_eq!(CloseFrame::parse(&[3]), Err(CloseParseError::OneByte));
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xED]),
            Err(CloseParseError::Code(CloseCode(1005)))
        );
        assert_eq!(
            CloseFrame::parse(&[0x03, 0xE8, 0xFF]),
            Err(CloseParseError::Reason)
        );
        assert!(CloseFrame::no_status().payload().is_empty());
    }
}
