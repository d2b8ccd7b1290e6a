//! [`LineCodec`] and [`BytesLineCodec`]: LF-terminated lines, CRLF accepted.
//!
//! The framing of the C# echo sample of UWP's sockets guide (`ReadLine`/`WriteLine`): a line is
//! its bytes, then `\n`. Readers accept `\r\n` too and strip it.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use sock_core::{Error, Result};
use tokio::time::Instant;
use tokio_util::codec::{Decoder, Encoder};

/// The default maximum line length, in bytes without the terminator: 64 KiB.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 64 * 1024;

/// How long one line may take to arrive by default, from its first byte to
/// its terminator: 5 minutes (the same as a frame's,
/// [`DEFAULT_FRAME_TIMEOUT`](crate::DEFAULT_FRAME_TIMEOUT)).
pub const DEFAULT_LINE_TIMEOUT: Duration = crate::DEFAULT_FRAME_TIMEOUT;

const LIMIT: &str = "max_line_length";

/// The operation named when a line took longer than the line timeout.
const ARRIVAL_LIMIT: &str = "a line's arrival (line_timeout)";

/// The state shared by both line codecs: where the search for `\n` stopped, and
/// where the current line starts in the stream (for error messages).
#[derive(Debug, Clone)]
struct Splitter {
    max: usize,
    /// Bytes of `src` already searched for `\n`.
    searched: usize,
    /// Discarding the rest of an over-long line.
    discarding: bool,
    /// 1-based number of the line being read.
    line: u64,
    /// Stream offset of the first byte of the line being read.
    offset: u64,
    /// How long a line may take to arrive.
    timeout: Option<Duration>,
    /// When the line being read started to arrive.
    started: Option<Instant>,
}

impl Splitter {
    fn new(max: usize) -> Self {
        Self {
            max,
            searched: 0,
            discarding: false,
            line: 1,
            offset: 0,
            timeout: Some(DEFAULT_LINE_TIMEOUT),
            started: None,
        }
    }

    fn too_long(&self, actual: usize) -> Error {
        Error::LimitExceeded {
            limit: LIMIT,
            actual: actual as u64,
            max: self.max as u64,
        }
    }

    /// Moves past a consumed line of `len` bytes (terminator included).
    fn consumed(&mut self, len: usize) {
        self.offset += len as u64;
        self.line += 1;
        self.searched = 0;
        self.started = None;
    }

    /// With part of a line buffered (or being discarded): fails when that
    /// line has taken longer than the line timeout to arrive, dropping it
    /// (the rest of it is discarded as it comes).
    fn check_arrival(&mut self, src: &mut BytesMut) -> Result<()> {
        let Some(limit) = self.timeout else {
            return Ok(());
        };
        let started = *self.started.get_or_insert_with(Instant::now);
        if started.elapsed() <= limit {
            return Ok(());
        }
        self.started = None;
        self.discarding = true;
        self.offset += src.len() as u64;
        *src = BytesMut::new();
        self.searched = 0;
        Err(Error::TimedOut {
            operation: ARRIVAL_LIMIT,
            after: limit,
        })
    }

    /// The next complete line, without its terminator.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>> {
        loop {
            let Some(found) = src[self.searched..].iter().position(|&b| b == b'\n') else {
                return self.no_newline_yet(src);
            };
            let newline = self.searched + found;
            if self.discarding {
                self.discarding = false;
                src.advance(newline + 1);
                self.consumed(newline + 1);
                continue;
            }
            let content = if newline > 0 && src[newline - 1] == b'\r' {
                newline - 1
            } else {
                newline
            };
            if content > self.max {
                src.advance(newline + 1);
                self.consumed(newline + 1);
                return Err(self.too_long(content));
            }
            let mut line = src.split_to(newline + 1);
            line.truncate(content);
            return Ok(Some(line));
        }
    }

    /// No `\n` in `src`: checks the limits on what has arrived so far.
    fn no_newline_yet(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>> {
        if self.discarding || !src.is_empty() {
            self.check_arrival(src)?;
        }
        if self.discarding {
            self.offset += src.len() as u64;
            src.clear();
            self.searched = 0;
            return Ok(None);
        }
        // A trailing '\r' may yet turn out to be part of "\r\n".
        let at_least = src.len() - usize::from(src.last() == Some(&b'\r'));
        if at_least > self.max {
            // Report once, then drop this line's bytes as they arrive.
            self.discarding = true;
            self.offset += src.len() as u64;
            src.clear();
            self.searched = 0;
            return Err(self.too_long(at_least));
        }
        self.searched = src.len();
        Ok(None)
    }

    /// At end of stream: the last line, even without a terminator.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>> {
        if let Some(line) = self.decode(src)? {
            return Ok(Some(line));
        }
        if self.discarding || src.is_empty() {
            self.discarding = false;
            src.clear();
            self.searched = 0;
            return Ok(None);
        }
        let mut line = src.split();
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        Ok(Some(line))
    }

    /// The stream position of the line just returned, then counts it.
    fn take_position(&mut self, line_len_with_terminator: usize) -> (u64, u64) {
        let pos = (self.line, self.offset);
        self.consumed(line_len_with_terminator);
        pos
    }

    /// Checks a line to encode and appends it with its terminator: `\n`, or
    /// `\r\n` for a line that ends with `\r` (which a reader would
    /// otherwise strip), so that every line a reader can return encodes to
    /// bytes that read back as that line.
    fn encode(&self, line: &[u8], dst: &mut BytesMut) -> Result<()> {
        if line.len() > self.max {
            return Err(self.too_long(line.len()));
        }
        if let Some(at) = line.iter().position(|&b| b == b'\n') {
            return Err(Error::invalid_data(format!(
                "line to encode contains a line feed at byte {at}"
            )));
        }
        let keep_cr = line.last() == Some(&b'\r');
        dst.reserve(line.len() + 1 + usize::from(keep_cr));
        dst.put_slice(line);
        if keep_cr {
            dst.put_u8(b'\r');
        }
        dst.put_u8(b'\n');
        Ok(())
    }
}

// ===== LineCodec =====

/// Frames a byte stream as UTF-8 text lines: a `tokio_util::codec` [`Decoder`] of
/// `String` and [`Encoder`] of `&str` and `String`.
///
/// * Lines end with `\n`; a `\r\n` is accepted and stripped. A last line without a
///   terminator is returned at end of stream (as C#'s `ReadLine` does).
/// * A line longer than the maximum ([`DEFAULT_MAX_LINE_LENGTH`], 64 KiB, by
///   default; the terminator does not count) is refused as soon as that many bytes
///   have arrived without a `\n`: [`Error::LimitExceeded`] naming
///   `max_line_length`. The rest of that line is discarded, so a caller that keeps
///   decoding resumes at the next line (tokio-util's `Framed` ends the stream at
///   the first error).
/// * A line that is not UTF-8 is [`Error::InvalidData`] naming the line, the byte
///   within it and its offset in the stream; the line is consumed.
/// * Encoding appends `\n` (`\r\n` after a line that ends with `\r`, so a reader
///   gets the `\r` back); a line that contains `\n` or is over the maximum is
///   refused (a reader would not get it back as one line). Every line the
///   decoder returns encodes, and reads back unchanged.
///
/// For protocols that are not UTF-8, [`BytesLineCodec`] yields raw lines.
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use sock_codec::{Framed, LineCodec};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sock_core::Error> {
/// let (a, b) = tokio::io::duplex(1024);
/// let mut client = Framed::new(a, LineCodec::new());
/// let mut server = Framed::new(b, LineCodec::new());
///
/// client.send("hello").await?;
/// assert_eq!(server.next().await.transpose()?.as_deref(), Some("hello"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LineCodec {
    splitter: Splitter,
}

impl Default for LineCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl LineCodec {
    /// A codec for lines of at most 64 KiB.
    pub fn new() -> Self {
        Self::with_max_length(DEFAULT_MAX_LINE_LENGTH)
    }

    /// A codec for lines of at most `max_length` bytes (terminator not counted).
    pub fn with_max_length(max_length: usize) -> Self {
        Self {
            splitter: Splitter::new(max_length),
        }
    }

    /// The maximum line length in bytes.
    pub fn max_length(&self) -> usize {
        self.splitter.max
    }

    /// Sets how long one line may take to arrive, from its first byte to
    /// its terminator ([`DEFAULT_LINE_TIMEOUT`], 5 minutes; `None` for no
    /// bound). Checked as the line's bytes arrive: a line dripped past it
    /// fails with [`Error::TimedOut`] (operation `"a line's arrival
    /// (line_timeout)"`), and the rest of it is discarded.
    pub fn set_line_timeout(&mut self, timeout: Option<Duration>) {
        self.splitter.timeout = timeout;
    }

    /// The bound set by [`set_line_timeout`](Self::set_line_timeout).
    pub fn line_timeout(&self) -> Option<Duration> {
        self.splitter.timeout
    }

    fn line_text(&mut self, line: BytesMut, wire: usize) -> Result<String> {
        let (number, offset) = self.splitter.take_position(wire);
        match String::from_utf8(line.into()) {
            Ok(s) => Ok(s),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                Err(Error::invalid_data(format!(
                    "line {number} is not valid utf-8 at byte {at} (stream offset {})",
                    offset + at as u64
                )))
            }
        }
    }
}

impl Decoder for LineCodec {
    type Item = String;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>> {
        let before = src.len();
        match self.splitter.decode(src)? {
            Some(line) => self.line_text(line, before - src.len()).map(Some),
            None => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<String>> {
        let before = src.len();
        match self.splitter.decode_eof(src)? {
            Some(line) => self.line_text(line, before - src.len()).map(Some),
            None => Ok(None),
        }
    }
}

impl Encoder<&str> for LineCodec {
    type Error = Error;

    fn encode(&mut self, line: &str, dst: &mut BytesMut) -> Result<()> {
        self.splitter.encode(line.as_bytes(), dst)
    }
}

impl Encoder<String> for LineCodec {
    type Error = Error;

    fn encode(&mut self, line: String, dst: &mut BytesMut) -> Result<()> {
        self.splitter.encode(line.as_bytes(), dst)
    }
}

impl Encoder<&String> for LineCodec {
    type Error = Error;

    fn encode(&mut self, line: &String, dst: &mut BytesMut) -> Result<()> {
        self.splitter.encode(line.as_bytes(), dst)
    }
}

// ===== BytesLineCodec =====

/// [`LineCodec`] for protocols that are not UTF-8: a [`Decoder`] of raw [`Bytes`]
/// lines (terminator stripped, no text check) and an [`Encoder`] of `Bytes` and
/// `&[u8]`. Limits and terminators are as for `LineCodec`.
///
/// ```
/// use bytes::BytesMut;
/// use sock_codec::BytesLineCodec;
/// use tokio_util::codec::Decoder;
///
/// let mut codec = BytesLineCodec::new();
/// let mut src = BytesMut::from(&b"caf\xe9\r\nrest"[..]);
/// assert_eq!(codec.decode(&mut src)?.as_deref(), Some(&b"caf\xe9"[..]));
/// assert_eq!(codec.decode(&mut src)?, None);
/// assert_eq!(codec.decode_eof(&mut src)?.as_deref(), Some(&b"rest"[..]));
/// # Ok::<(), sock_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BytesLineCodec {
    splitter: Splitter,
}

impl Default for BytesLineCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl BytesLineCodec {
    /// A codec for lines of at most 64 KiB.
    pub fn new() -> Self {
        Self::with_max_length(DEFAULT_MAX_LINE_LENGTH)
    }

    /// A codec for lines of at most `max_length` bytes (terminator not counted).
    pub fn with_max_length(max_length: usize) -> Self {
        Self {
            splitter: Splitter::new(max_length),
        }
    }

    /// The maximum line length in bytes.
    pub fn max_length(&self) -> usize {
        self.splitter.max
    }

    /// Sets how long one line may take to arrive; see
    /// [`LineCodec::set_line_timeout`].
    pub fn set_line_timeout(&mut self, timeout: Option<Duration>) {
        self.splitter.timeout = timeout;
    }

    /// The bound set by [`set_line_timeout`](Self::set_line_timeout).
    pub fn line_timeout(&self) -> Option<Duration> {
        self.splitter.timeout
    }
}

impl Decoder for BytesLineCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>> {
        let before = src.len();
        let line = self.splitter.decode(src)?;
        if line.is_some() {
            self.splitter.take_position(before - src.len());
        }
        Ok(line.map(BytesMut::freeze))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>> {
        let before = src.len();
        let line = self.splitter.decode_eof(src)?;
        if line.is_some() {
            self.splitter.take_position(before - src.len());
        }
        Ok(line.map(BytesMut::freeze))
    }
}

impl Encoder<Bytes> for BytesLineCodec {
    type Error = Error;

    fn encode(&mut self, line: Bytes, dst: &mut BytesMut) -> Result<()> {
        self.splitter.encode(&line, dst)
    }
}

impl Encoder<&[u8]> for BytesLineCodec {
    type Error = Error;

    fn encode(&mut self, line: &[u8], dst: &mut BytesMut) -> Result<()> {
        self.splitter.encode(line, dst)
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use tokio_util::codec::FramedRead;

    use super::*;
    use sock_test::io::{block_on, Trickle};

    /// Decodes `wire` trickled one byte per read with `Pending` between reads.
    fn lines<D>(codec: D, wire: &[u8]) -> (Vec<D::Item>, Option<Error>)
    where
        D: Decoder<Error = Error>,
    {
        block_on(async {
            let mut framed = FramedRead::new(Trickle::new(wire), codec);
            let mut out = Vec::new();
            while let Some(item) = framed.next().await {
                match item {
                    Ok(line) => out.push(line),
                    Err(e) => return (out, Some(e)),
                }
            }
            (out, None)
        })
    }

    #[test]
    fn decode_splits_on_lf_and_strips_crlf() {
        let (got, err) = lines(LineCodec::new(), b"one\ntwo\r\n\nthree\r\r\n");
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got, ["one", "two", "", "three\r"]);
    }

    #[test]
    fn decode_returns_an_unterminated_last_line_at_end_of_stream() {
        let (got, err) = lines(LineCodec::new(), b"a\nlast");
        assert!(err.is_none());
        assert_eq!(got, ["a", "last"]);
        let (got, _) = lines(LineCodec::new(), b"a\nlast\r");
        assert_eq!(got, ["a", "last"]);
    }

    #[test]
    fn decode_rejects_an_overlong_line_before_its_end_arrives() {
        let mut codec = LineCodec::with_max_length(4);
        let mut src = BytesMut::from(&b"abcd"[..]);
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        // "abcd\r" may still be "abcd\r\n": not yet too long.
        src.extend_from_slice(b"\r");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        let mut src = BytesMut::from(&b"abcde"[..]);
        let err = codec.decode(&mut src).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LimitExceeded {
                    limit: "max_line_length",
                    actual: 5,
                    max: 4
                }
            ),
            "{err:?}"
        );
        assert!(src.is_empty(), "an over-long line is not kept");
    }

    #[test]
    fn decode_accepts_a_line_of_exactly_the_maximum_with_crlf() {
        let (got, err) = lines(LineCodec::with_max_length(3), b"abc\r\nxyz\n");
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got, ["abc", "xyz"]);
    }

    #[test]
    fn decode_overlong_line_ends_framed_read() {
        let (got, err) = lines(LineCodec::with_max_length(3), b"ok\ntoolong\nnext\n");
        assert_eq!(got, ["ok"]);
        assert_eq!(
            err.expect("an error").to_string(),
            "max_line_length exceeded: 4 bytes is more than the maximum of 3"
        );
    }

    #[test]
    fn decode_resumes_after_an_overlong_line_when_called_again() {
        let mut codec = LineCodec::with_max_length(3);
        let mut src = BytesMut::from(&b"toolong"[..]);
        assert!(codec.decode(&mut src).is_err());
        src.extend_from_slice(b"still the same line");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        src.extend_from_slice(b"\nnew\n");
        assert_eq!(codec.decode(&mut src).unwrap().as_deref(), Some("new"));
    }

    #[test]
    fn decode_names_the_line_and_byte_of_invalid_utf8() {
        let (got, err) = lines(LineCodec::new(), b"fine\nab\xffcd\nnext\n");
        assert_eq!(got, ["fine"]);
        let err = err.expect("an error");
        assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "invalid data: line 2 is not valid utf-8 at byte 2 (stream offset 7)"
        );
    }

    #[test]
    fn decode_invalid_utf8_consumes_only_its_line() {
        let mut codec = LineCodec::new();
        let mut src = BytesMut::from(&b"\xc3\nok\n"[..]);
        assert!(codec.decode(&mut src).is_err());
        assert_eq!(codec.decode(&mut src).unwrap().as_deref(), Some("ok"));
    }

    #[test]
    fn decode_utf8_split_across_reads_is_whole() {
        let text = "héllo ✓ wörld\n";
        let (got, err) = lines(LineCodec::new(), text.as_bytes());
        assert!(err.is_none());
        assert_eq!(got, ["héllo ✓ wörld"]);
    }

    #[test]
    fn bytes_decode_yields_raw_lines() {
        let (got, err) = lines(BytesLineCodec::new(), b"\xff\xfe\r\nplain\n\x00");
        assert!(err.is_none());
        assert_eq!(got, [&b"\xff\xfe"[..], b"plain", b"\x00"]);
    }

    #[test]
    fn bytes_decode_applies_the_limit() {
        let (got, err) = lines(BytesLineCodec::with_max_length(2), b"ab\nabc\n");
        assert_eq!(got, [&b"ab"[..]]);
        assert!(matches!(err, Some(Error::LimitExceeded { .. })));
    }

    #[test]
    fn encode_appends_lf() {
        let mut codec = LineCodec::new();
        let mut dst = BytesMut::new();
        codec.encode("hi", &mut dst).unwrap();
        codec.encode(String::from("there"), &mut dst).unwrap();
        codec.encode("", &mut dst).unwrap();
        assert_eq!(&dst[..], b"hi\nthere\n\n");
        let mut raw = BytesLineCodec::new();
        raw.encode(Bytes::from_static(b"\xff"), &mut dst).unwrap();
        raw.encode(&b"x"[..], &mut dst).unwrap();
        assert_eq!(&dst[..], b"hi\nthere\n\n\xff\nx\n");
    }

    #[test]
    fn encode_refuses_what_would_not_read_back_as_one_line() {
        let mut codec = LineCodec::with_max_length(5);
        let mut dst = BytesMut::new();
        let err = codec.encode("a\nb", &mut dst).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid data: line to encode contains a line feed at byte 1"
        );
        let err = codec.encode("abcdef", &mut dst).unwrap_err();
        assert!(matches!(
            err,
            Error::LimitExceeded {
                limit: "max_line_length",
                ..
            }
        ));
        assert!(dst.is_empty(), "nothing is written on error");
    }

    #[test]
    fn a_line_that_ends_with_a_carriage_return_is_echoed_byte_for_byte() {
        // "x\r\r\n" reads as "x\r"; an echo must send back the same bytes.
        let (got, _) = lines(LineCodec::new(), b"x\r\r\n");
        assert_eq!(got, ["x\r"]);
        let mut codec = LineCodec::new();
        let mut dst = BytesMut::new();
        codec.encode("x\r", &mut dst).unwrap();
        assert_eq!(&dst[..], b"x\r\r\n");
        let (again, _) = lines(LineCodec::new(), &dst);
        assert_eq!(again, ["x\r"]);
    }
}
