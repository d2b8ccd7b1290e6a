//! `--frame`: how messages are delimited on the socket (`raw`, `lines`,
//! `length[:1|2|4|8][:be|le]`), and the one codec that speaks each, built on
//! sock-codec's `BytesLineCodec` and `LengthPrefixedCodec`.

use std::fmt;
use std::str::FromStr;

use sock::codec::{BytesLineCodec, LengthPrefixedCodec, DEFAULT_MAX_FRAME_LENGTH};
use sock::{ByteOrder, Bytes, BytesMut, Decoder, Encoder};

/// The longest line accepted by default (sock-codec's default).
pub(crate) const DEFAULT_MAX_LINE: usize = sock::codec::DEFAULT_MAX_LINE_LENGTH;

/// A `--frame` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameSpec {
    /// No framing: bytes as they come.
    Raw,
    /// Lines ending in `\n` (a `\r\n` is accepted).
    Lines,
    /// A length prefix of `width` bytes in `order`, then the payload.
    Length {
        /// 1, 2, 4 or 8.
        width: usize,
        /// The prefix's byte order.
        order: ByteOrder,
    },
}

impl FrameSpec {
    /// Whether messages have boundaries (everything but `raw`).
    pub(crate) fn is_framed(self) -> bool {
        self != Self::Raw
    }

    /// The longest message by default.
    pub(crate) fn default_max(self) -> usize {
        match self {
            Self::Lines => DEFAULT_MAX_LINE,
            Self::Raw | Self::Length { .. } => DEFAULT_MAX_FRAME_LENGTH,
        }
    }

    /// The codec for this framing, refusing messages over `max` bytes.
    pub(crate) fn codec(self, max: usize) -> WireCodec {
        match self {
            Self::Raw => WireCodec::Raw,
            Self::Lines => WireCodec::Lines(BytesLineCodec::with_max_length(max)),
            Self::Length { width, order } => WireCodec::Length(
                LengthPrefixedCodec::builder()
                    .prefix_width(width)
                    .byte_order(order)
                    .max_frame_length(max)
                    .max_encode_frame_length(max.min(max_for_width(width)))
                    .new_codec(),
            ),
        }
    }
}

/// The largest length a prefix of `width` bytes can carry.
fn max_for_width(width: usize) -> usize {
    match width {
        1 => 0xff,
        2 => 0xffff,
        4 => usize::try_from(u32::MAX).unwrap_or(usize::MAX),
        _ => usize::MAX,
    }
}

/// Why a `--frame` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid framing {input:?}: {reason} (raw, lines, or length[:1|2|4|8][:be|le])")]
pub(crate) struct FrameSpecError {
    input: String,
    reason: &'static str,
}

impl FromStr for FrameSpec {
    type Err = FrameSpecError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| FrameSpecError {
            input: input.to_owned(),
            reason,
        };
        let mut parts = input.split(':');
        match parts.next().unwrap_or_default() {
            "raw" | "lines" if input.contains(':') => Err(fail("only length takes options")),
            "raw" => Ok(Self::Raw),
            "lines" => Ok(Self::Lines),
            "length" => {
                let mut width = None;
                let mut order = None;
                for part in parts {
                    match part {
                        "1" | "2" | "4" | "8" if width.is_none() => {
                            width = part.parse().ok();
                        }
                        "be" if order.is_none() => order = Some(ByteOrder::BigEndian),
                        "le" if order.is_none() => order = Some(ByteOrder::LittleEndian),
                        _ => {
                            return Err(fail(
                                "the prefix is 1, 2, 4 or 8 bytes, be or le, each once",
                            ))
                        }
                    }
                }
                Ok(Self::Length {
                    width: width.unwrap_or(4),
                    order: order.unwrap_or(ByteOrder::BigEndian),
                })
            }
            _ => Err(fail("unknown framing")),
        }
    }
}

impl fmt::Display for FrameSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Raw => f.write_str("raw"),
            Self::Lines => f.write_str("lines"),
            Self::Length { width, order } => {
                let order = if *order == ByteOrder::LittleEndian {
                    "le"
                } else {
                    "be"
                };
                write!(f, "length:{width}:{order}")
            }
        }
    }
}

/// The socket's codec: `Bytes` in, `Bytes` out, whatever the framing.
#[derive(Debug, Clone)]
pub(crate) enum WireCodec {
    /// Bytes as they come.
    Raw,
    /// Lines, terminator stripped on reading and added on writing.
    Lines(BytesLineCodec),
    /// Length-prefixed frames.
    Length(LengthPrefixedCodec),
}

impl Decoder for WireCodec {
    type Item = Bytes;
    type Error = sock::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, sock::Error> {
        match self {
            Self::Raw if src.is_empty() => Ok(None),
            Self::Raw => Ok(Some(src.split().freeze())),
            Self::Lines(codec) => codec.decode(src),
            Self::Length(codec) => codec.decode(src),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, sock::Error> {
        match self {
            Self::Raw => self.decode(src),
            Self::Lines(codec) => codec.decode_eof(src),
            Self::Length(codec) => codec.decode_eof(src),
        }
    }
}

impl Encoder<Bytes> for WireCodec {
    type Error = sock::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), sock::Error> {
        match self {
            Self::Raw => {
                dst.extend_from_slice(&item);
                Ok(())
            }
            Self::Lines(codec) => codec.encode(item, dst),
            Self::Length(codec) => codec.encode(item, dst),
        }
    }
}

impl WireCodec {
    /// One message as one datagram's payload (UDP): the framing applied to
    /// it alone.
    pub(crate) fn encode_datagram(&mut self, item: Bytes) -> Result<Bytes, sock::Error> {
        match self {
            // A datagram is a message already: lines and raw send it as is.
            Self::Raw | Self::Lines(_) => Ok(item),
            Self::Length(codec) => {
                let mut dst = BytesMut::new();
                codec.encode(item, &mut dst)?;
                Ok(dst.freeze())
            }
        }
    }

    /// The message in one received datagram: with length framing, the
    /// datagram must hold exactly one whole frame.
    pub(crate) fn decode_datagram(&mut self, datagram: Bytes) -> Result<Bytes, sock::Error> {
        match self {
            Self::Raw | Self::Lines(_) => Ok(datagram),
            Self::Length(codec) => {
                let total = datagram.len();
                let mut src = BytesMut::from(&datagram[..]);
                let frame = codec.decode(&mut src)?;
                match frame {
                    Some(frame) if src.is_empty() => Ok(frame),
                    _ => Err(sock::Error::invalid_data(format!(
                        "a {total}-byte datagram is not exactly one length-prefixed frame"
                    ))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framings_parse_with_their_defaults() {
        assert_eq!("raw".parse(), Ok(FrameSpec::Raw));
        assert_eq!("lines".parse(), Ok(FrameSpec::Lines));
        assert_eq!(
            "length".parse(),
            Ok(FrameSpec::Length {
                width: 4,
                order: ByteOrder::BigEndian
            })
        );
        assert_eq!(
            "length:2:le".parse(),
            Ok(FrameSpec::Length {
                width: 2,
                order: ByteOrder::LittleEndian
            })
        );
        assert_eq!(
            "length:le".parse(),
            Ok(FrameSpec::Length {
                width: 4,
                order: ByteOrder::LittleEndian
            })
        );
        for bad in [
            "",
            "length:3",
            "length:2:2",
            "raw:2",
            "frames",
            "length:be:le",
        ] {
            assert!(bad.parse::<FrameSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn framings_print_as_they_parse() {
        for text in ["raw", "lines", "length:1:be", "length:8:le"] {
            assert_eq!(text.parse::<FrameSpec>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn every_byte_survives_each_codec() {
        let all: Vec<u8> = (0..=255).collect();
        for spec in ["raw", "length:1", "length:2:le", "length:8"] {
            // A one-byte prefix carries at most 255 bytes.
            let data = if spec == "length:1" {
                &all[1..]
            } else {
                &all[..]
            };
            let mut codec = spec.parse::<FrameSpec>().unwrap().codec(1024);
            let mut wire = BytesMut::new();
            codec
                .encode(Bytes::copy_from_slice(data), &mut wire)
                .unwrap();
            let back = codec.decode_eof(&mut wire).unwrap().unwrap();
            assert_eq!(&back[..], data, "{spec}");
        }
        let mut one = "length:1".parse::<FrameSpec>().unwrap().codec(1024);
        let err = one
            .encode(Bytes::from(all), &mut BytesMut::new())
            .unwrap_err();
        assert_eq!(err.status(), sock::SocketErrorStatus::MessageTooLong);
    }

    #[test]
    fn a_datagram_must_be_one_whole_frame() {
        let mut codec = FrameSpec::Length {
            width: 2,
            order: ByteOrder::BigEndian,
        }
        .codec(100);
        let datagram = codec.encode_datagram(Bytes::from_static(b"hi")).unwrap();
        assert_eq!(&datagram[..], b"\0\x02hi");
        assert_eq!(&codec.decode_datagram(datagram).unwrap()[..], b"hi");
        assert!(codec
            .decode_datagram(Bytes::from_static(b"\0\x05hi"))
            .is_err());
        assert!(codec
            .decode_datagram(Bytes::from_static(b"\0\x01hi"))
            .is_err());
    }
}
