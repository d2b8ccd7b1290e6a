//! [`LengthPrefixedCodec`]: frames as a length, then that many payload bytes.
//!
//! The wire format, with the default settings:
//!
//! ```text
//! +---- len: u32 (big-endian) ----+---------- payload ----------+
//! | 0x00 0x00 0x00 0x0B           | h e l l o   w o r l d       |
//! +-------------------------------+-----------------------------+
//! ```
//!
//! The length counts payload bytes only (never UTF-16 units, never itself). Its width
//! (1, 2, 4 or 8 bytes) and byte order are set with [`LengthPrefixedBuilder`].

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use sock_core::{ByteOrder, Error, Result};
use tokio::time::Instant;
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

use crate::memory_budget::{FrameMemoryBudget, FrameMemoryCharge};

/// The default maximum frame length, for decoding and for encoding: 8 MiB.
pub const DEFAULT_MAX_FRAME_LENGTH: usize = 8 * 1024 * 1024;

/// How long one frame (or line) may take to arrive by default, from its
/// first byte to its last: 5 minutes. A peer that drips a frame a byte at a
/// time, each just inside an idle timeout, is cut off then; a legitimate
/// 8 MiB frame needs only about 28 KB/s to make it.
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(300);

/// The operation named when a frame took longer than the frame timeout.
pub(crate) const ARRIVAL_LIMIT: &str = "a frame's arrival (frame_timeout)";

/// The limit named in errors about frames that are too long to decode
/// ([`LengthPrefixedBuilder::max_frame_length`]).
pub(crate) const DECODE_LIMIT: &str = "max_frame_length";
/// The limit named in errors about frames that are too long to encode
/// ([`LengthPrefixedBuilder::max_encode_frame_length`]).
pub(crate) const ENCODE_LIMIT: &str = "max_encode_frame_length";
/// The limit named when a length does not fit the prefix
/// ([`LengthPrefixedBuilder::prefix_width`]).
pub(crate) const WIDTH_LIMIT: &str = "prefix_width";

/// Frames up to this long are copied out of the read buffer: an allocation of
/// their own costs about what sharing the buffer does, and a small frame kept by
/// the caller does not pin a whole read buffer.
const SMALL_FRAME: usize = 256;

/// A partial frame's buffer keeps room for at most this many times what has
/// arrived (and at least [`GROW_STEP`]): memory follows the bytes a peer
/// sent, never the length it announced, while a large frame that is really
/// coming gets its whole buffer early, with little copying.
const GROWTH: usize = 16;

/// The room a partial frame's buffer may keep however little has arrived:
/// 64 KiB, the budget's free allowance.
const GROW_STEP: usize = crate::memory_budget::FRAME_MEMORY_ALLOWANCE;

// ===== Settings =====

/// The wire settings of a codec, shared with [`FrameWriter`](crate::FrameWriter)
/// and [`FrameReader`](crate::FrameReader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Bytes in the length prefix: 1, 2, 4 or 8.
    pub(crate) width: usize,
    pub(crate) byte_order: ByteOrder,
    pub(crate) max_decode: usize,
    pub(crate) max_encode: usize,
    pub(crate) skip_oversized: bool,
    /// How long one frame may take to arrive, checked as its bytes come.
    pub(crate) frame_timeout: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            width: 4,
            byte_order: ByteOrder::BigEndian,
            max_decode: DEFAULT_MAX_FRAME_LENGTH,
            max_encode: DEFAULT_MAX_FRAME_LENGTH,
            skip_oversized: false,
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
        }
    }
}

impl Settings {
    /// The largest length the prefix can express.
    #[inline]
    fn width_max(&self) -> u64 {
        match self.width {
            8 => u64::MAX,
            w => (1u64 << (8 * w)) - 1,
        }
    }

    /// Reads a length from the first `self.width` bytes of `src`.
    #[inline(always)]
    pub(crate) fn read_len(&self, src: &[u8]) -> u64 {
        fn array<const N: usize>(src: &[u8]) -> [u8; N] {
            let mut out = [0u8; N];
            out.copy_from_slice(&src[..N]);
            out
        }
        match (self.width, self.byte_order) {
            (1, _) => u64::from(src[0]),
            (2, ByteOrder::BigEndian) => u64::from(u16::from_be_bytes(array(src))),
            (2, ByteOrder::LittleEndian) => u64::from(u16::from_le_bytes(array(src))),
            (4, ByteOrder::BigEndian) => u64::from(u32::from_be_bytes(array(src))),
            (4, ByteOrder::LittleEndian) => u64::from(u32::from_le_bytes(array(src))),
            (_, ByteOrder::BigEndian) => u64::from_be_bytes(array(src)),
            (_, ByteOrder::LittleEndian) => u64::from_le_bytes(array(src)),
        }
    }

    /// Appends the header of a frame of `len` bytes, which the caller has checked
    /// with [`check_encode`](Self::check_encode).
    #[inline(always)]
    pub(crate) fn put_header(&self, len: usize, dst: &mut BytesMut) {
        let len = len as u64;
        let little = self.byte_order == ByteOrder::LittleEndian;
        match (self.width, little) {
            (1, _) => dst.put_u8(len as u8),
            (2, false) => dst.put_u16(len as u16),
            (2, true) => dst.put_u16_le(len as u16),
            (4, false) => dst.put_u32(len as u32),
            (4, true) => dst.put_u32_le(len as u32),
            (_, false) => dst.put_u64(len),
            (_, true) => dst.put_u64_le(len),
        }
    }

    /// Checks a payload length against the encode limit and the prefix width.
    #[inline]
    pub(crate) fn check_encode(&self, len: usize) -> Result<()> {
        if len <= self.max_encode && (len as u64) <= self.width_max() {
            Ok(())
        } else {
            Err(self.encode_error(len))
        }
    }

    #[cold]
    fn encode_error(&self, len: usize) -> Error {
        if len > self.max_encode {
            Error::LimitExceeded {
                limit: ENCODE_LIMIT,
                actual: len as u64,
                max: self.max_encode as u64,
            }
        } else {
            Error::LimitExceeded {
                limit: WIDTH_LIMIT,
                actual: len as u64,
                max: self.width_max(),
            }
        }
    }

    /// Appends one frame (header, then payload) to `dst`.
    #[inline]
    pub(crate) fn encode_slice(&self, payload: &[u8], dst: &mut BytesMut) -> Result<()> {
        self.check_encode(payload.len())?;
        dst.reserve(self.width + payload.len());
        self.put_header(payload.len(), dst);
        dst.put_slice(payload);
        Ok(())
    }
}

// ===== LengthPrefixedBuilder =====

/// Settings for a [`LengthPrefixedCodec`].
///
/// Setters take `&mut self` so a builder can be kept and reused; finish with
/// [`new_codec`](Self::new_codec), [`new_framed`](Self::new_framed),
/// [`new_frame_writer`](Self::new_frame_writer) or
/// [`new_frame_reader`](Self::new_frame_reader).
///
/// ```
/// use sock_codec::{ByteOrder, LengthPrefixedCodec};
///
/// let codec = LengthPrefixedCodec::builder()
///     .prefix_width(2)
///     .byte_order(ByteOrder::LittleEndian)
///     .max_frame_length(64 * 1024) // what a peer may send us
///     .max_encode_frame_length(1024) // what we may send
///     .new_codec();
/// assert_eq!(codec.max_frame_length(), 64 * 1024);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LengthPrefixedBuilder {
    settings: Settings,
    budget: Option<FrameMemoryBudget>,
}

impl LengthPrefixedBuilder {
    /// The defaults: a 4-byte big-endian length, 8 MiB limits both ways, oversized
    /// frames are errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the width of the length prefix in bytes: 1, 2, 4 (the default) or 8.
    ///
    /// # Panics
    ///
    /// When `width` is not 1, 2, 4 or 8 (a programming error, not a peer's).
    pub fn prefix_width(&mut self, width: usize) -> &mut Self {
        if let Err(e) = self.try_prefix_width(width) {
            panic!("{e}");
        }
        self
    }

    /// [`prefix_width`](Self::prefix_width) for a width that comes from
    /// outside the program (a command line, a configuration file).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] naming `prefix_width` when `width` is not
    /// 1, 2, 4 or 8; the width in force does not change.
    pub fn try_prefix_width(&mut self, width: usize) -> Result<&mut Self> {
        if !matches!(width, 1 | 2 | 4 | 8) {
            return Err(Error::invalid_argument(
                "prefix_width",
                format!("must be 1, 2, 4 or 8 bytes, not {width}"),
            ));
        }
        self.settings.width = width;
        Ok(self)
    }

    /// Sets the byte order of the length prefix (big-endian by default).
    pub fn byte_order(&mut self, order: ByteOrder) -> &mut Self {
        self.settings.byte_order = order;
        self
    }

    /// Sets the byte order of the length prefix to big-endian (the default).
    pub fn big_endian(&mut self) -> &mut Self {
        self.byte_order(ByteOrder::BigEndian)
    }

    /// Sets the byte order of the length prefix to little-endian.
    pub fn little_endian(&mut self) -> &mut Self {
        self.byte_order(ByteOrder::LittleEndian)
    }

    /// Sets the largest frame payload the **decoder** accepts, in bytes (8 MiB by
    /// default). It protects this side from what a peer sends: a longer announced
    /// length is refused before any buffer grows, with
    /// [`Error::LimitExceeded`] naming `max_frame_length`.
    ///
    /// The encoder has its own limit, [`max_encode_frame_length`](Self::max_encode_frame_length).
    pub fn max_frame_length(&mut self, max: usize) -> &mut Self {
        self.settings.max_decode = max;
        self
    }

    /// Sets the largest frame payload the **encoder** writes, in bytes (8 MiB by
    /// default). A longer payload is refused with [`Error::LimitExceeded`] naming
    /// `max_encode_frame_length`, and nothing is written.
    pub fn max_encode_frame_length(&mut self, max: usize) -> &mut Self {
        self.settings.max_encode = max;
        self
    }

    /// What the decoder does with a frame longer than
    /// [`max_frame_length`](Self::max_frame_length).
    ///
    /// `false` (the default): the decoder returns [`Error::LimitExceeded`] and the
    /// stream is done (every later call returns the same error; `FramedRead` ends).
    /// `true`: the frame's bytes are discarded as they arrive, never buffered, and
    /// decoding resumes at the next frame; [`LengthPrefixedCodec::skipped_frames`]
    /// counts them.
    pub fn skip_oversized(&mut self, skip: bool) -> &mut Self {
        self.settings.skip_oversized = skip;
        self
    }

    /// Sets how long one frame may take to arrive, from its first byte to its
    /// last ([`DEFAULT_FRAME_TIMEOUT`], 5 minutes; `None` for no bound). The
    /// bound is checked as the frame's bytes arrive: a frame dripped past it
    /// fails with [`Error::TimedOut`] (operation `"a frame's arrival
    /// (frame_timeout)"`) and the stream is done. A peer that stops sending
    /// altogether is the socket's idle timeout's to end;
    /// [`FrameReader::set_frame_timeout`](crate::FrameReader::set_frame_timeout)
    /// also ends a frame that stalls, with a timer.
    pub fn frame_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.settings.frame_timeout = timeout;
        self
    }

    /// Sets the budget that partial frames are charged to (shared by every
    /// codec given a clone of it); by default the process-wide one
    /// ([`FrameMemoryBudget::process_default`]). A frame that would take the
    /// budget over its limit fails with [`Error::LimitExceeded`] naming
    /// `frame_memory_budget`, and the stream is done.
    pub fn memory_budget(&mut self, budget: FrameMemoryBudget) -> &mut Self {
        self.budget = Some(budget);
        self
    }

    /// A codec with these settings.
    pub fn new_codec(&self) -> LengthPrefixedCodec {
        let budget = self
            .budget
            .clone()
            .unwrap_or_else(FrameMemoryBudget::process_default);
        LengthPrefixedCodec {
            settings: self.settings,
            state: DecodeState::Head,
            skipped: 0,
            charge: FrameMemoryCharge::new(budget),
            frame_started: None,
        }
    }

    /// `io` framed for reading by a codec with these settings.
    pub fn new_read<R>(&self, io: R) -> FramedRead<R, LengthPrefixedCodec> {
        FramedRead::new(io, self.new_codec())
    }

    /// `io` framed for writing by a codec with these settings (tokio-util's writer,
    /// which copies every payload into its buffer).
    pub fn new_write<W>(&self, io: W) -> FramedWrite<W, LengthPrefixedCodec> {
        FramedWrite::new(io, self.new_codec())
    }
}

// ===== LengthPrefixedCodec =====

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeState {
    /// Waiting for a length prefix.
    Head,
    /// Waiting for a payload of this many bytes.
    Data(usize),
    /// Discarding this many more bytes of an oversized frame.
    Skip(u64),
    /// An oversized frame of this length ended the stream.
    Failed(u64),
    /// A partial frame would have taken the memory budget past its limit,
    /// which ended the stream.
    OverBudget { actual: u64, max: u64 },
    /// A frame took longer than the frame timeout to arrive, which ended the
    /// stream.
    TooSlow(Duration),
}

/// Frames a byte stream as length-prefixed payloads: a `tokio_util::codec`
/// [`Decoder`] of [`Bytes`] and [`Encoder`] of `Bytes`, `&[u8]`, `&str`, `String`
/// and `Vec<u8>`.
///
/// The default is the format of UWP's
/// `WriteUInt32(MeasureString(s)); WriteString(s)`: a 4-byte big-endian length,
/// then the payload, with frames of at most 8 MiB each way. Change it with
/// [`LengthPrefixedCodec::builder`].
///
/// # Bad input
///
/// * An announced length over [`max_frame_length`](LengthPrefixedBuilder::max_frame_length)
///   is refused *before* any buffer grows: [`Error::LimitExceeded`] with
///   `limit: "max_frame_length"` (status `MessageTooLong`, I/O kind `InvalidData`),
///   and the stream is done; or, with
///   [`skip_oversized(true)`](LengthPrefixedBuilder::skip_oversized), the frame is
///   discarded as it arrives and decoding goes on.
/// * A stream that ends inside a frame gives [`Error::UnexpectedEof`], saying how
///   many bytes were missing; a stream that ends between frames just ends.
/// * A payload over [`max_encode_frame_length`](LengthPrefixedBuilder::max_encode_frame_length),
///   or too long for the prefix width, is refused on encode (`limit:
///   "max_encode_frame_length"` or `"prefix_width"`), never truncated.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use futures::{SinkExt, StreamExt};
/// use sock_codec::LengthPrefixedCodec;
/// use tokio_util::codec::{FramedRead, FramedWrite};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sock_core::Error> {
/// let (a, b) = tokio::io::duplex(1024);
/// let mut tx = FramedWrite::new(a, LengthPrefixedCodec::new());
/// let mut rx = FramedRead::new(b, LengthPrefixedCodec::new());
///
/// tx.send("héllo").await?;
/// assert_eq!(rx.next().await.transpose()?, Some(Bytes::from("héllo")));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LengthPrefixedCodec {
    settings: Settings,
    state: DecodeState,
    skipped: u64,
    /// What the partial frame being read holds of the memory budget.
    charge: FrameMemoryCharge,
    /// When the frame being read (or skipped) started to arrive.
    frame_started: Option<Instant>,
}

impl Default for LengthPrefixedCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl LengthPrefixedCodec {
    /// A codec with the defaults: 4-byte big-endian length, 8 MiB limits both ways.
    pub fn new() -> Self {
        LengthPrefixedBuilder::new().new_codec()
    }

    /// A builder to choose the prefix width, byte order and limits.
    pub fn builder() -> LengthPrefixedBuilder {
        LengthPrefixedBuilder::new()
    }

    /// The largest payload the decoder accepts.
    pub fn max_frame_length(&self) -> usize {
        self.settings.max_decode
    }

    /// The largest payload the encoder writes.
    pub fn max_encode_frame_length(&self) -> usize {
        self.settings.max_encode
    }

    /// The width of the length prefix in bytes.
    pub fn prefix_width(&self) -> usize {
        self.settings.width
    }

    /// The byte order of the length prefix.
    pub fn byte_order(&self) -> ByteOrder {
        self.settings.byte_order
    }

    /// How many oversized frames the decoder has discarded (only with
    /// [`skip_oversized(true)`](LengthPrefixedBuilder::skip_oversized); a frame
    /// counts as soon as its length is read).
    pub fn skipped_frames(&self) -> u64 {
        self.skipped
    }

    /// Whether the decoder is inside a frame: its length read, its payload (or
    /// the bytes it skips) not yet all seen.
    pub(crate) fn in_frame(&self) -> bool {
        matches!(self.state, DecodeState::Data(_) | DecodeState::Skip(_))
    }

    /// The settings as a builder, e.g. to make a matching codec for the other
    /// direction.
    pub fn to_builder(&self) -> LengthPrefixedBuilder {
        LengthPrefixedBuilder {
            settings: self.settings,
            budget: Some(self.charge.budget().clone()),
        }
    }

    /// The memory budget this codec's partial frames are charged to.
    pub fn memory_budget(&self) -> &FrameMemoryBudget {
        self.charge.budget()
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    fn too_large(&self, len: u64) -> Error {
        Error::LimitExceeded {
            limit: DECODE_LIMIT,
            actual: len,
            max: self.settings.max_decode as u64,
        }
    }
}

impl Decoder for LengthPrefixedCodec {
    type Item = Bytes;
    type Error = Error;

    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>> {
        // The common case first: a whole frame within the limit is buffered.
        if let Some(frame) = self.whole_frame(src) {
            return Ok(Some(frame));
        }
        self.decode_slow(src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        self.eof_error(src)
    }
}

/// Room the read buffer gets again when a large frame took the old one: what
/// tokio-util's `Framed` starts with (it asks for only one more byte before
/// each read, so an empty buffer would be refilled a few bytes at a time).
const REFILL: usize = 8 * 1024;

/// The first `len` bytes of `src` as a frame. A small frame is copied out
/// (see [`SMALL_FRAME`]); a large one is split off without a copy, and when
/// that empties `src` the frame takes the allocation alone and `src` gets a
/// fresh buffer of [`REFILL`] bytes: an empty view of the old one would keep
/// the frame's whole allocation alive after the caller drops the frame, so an
/// idle connection would hold its largest recent frame.
#[inline]
fn detach(src: &mut BytesMut, len: usize) -> Bytes {
    if len <= SMALL_FRAME {
        let frame = Bytes::copy_from_slice(&src[..len]);
        src.advance(len);
        return frame;
    }
    let frame = src.split_to(len).freeze();
    if src.is_empty() {
        *src = BytesMut::with_capacity(REFILL);
    }
    frame
}

impl LengthPrefixedCodec {
    /// The next frame if it is whole in `src`, within the limit, and the decoder
    /// is between frames; otherwise `None` and nothing changes.
    #[inline(always)]
    pub(crate) fn whole_frame(&mut self, src: &mut BytesMut) -> Option<Bytes> {
        let width = self.settings.width;
        if self.state != DecodeState::Head || src.len() < width {
            return None;
        }
        let len = self.settings.read_len(src);
        if len > self.settings.max_decode as u64 || ((src.len() - width) as u64) < len {
            return None;
        }
        let len = len as usize;
        if len <= SMALL_FRAME {
            let frame = Bytes::copy_from_slice(&src[width..width + len]);
            src.advance(width + len);
            return Some(frame);
        }
        src.advance(width);
        Some(detach(src, len))
    }

    /// Every state and every partial frame.
    fn decode_slow(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>> {
        loop {
            match self.state {
                DecodeState::Head => {
                    let width = self.settings.width;
                    if src.len() < width {
                        return Ok(None);
                    }
                    let len = self.settings.read_len(src);
                    if len > self.settings.max_decode as u64 {
                        if !self.settings.skip_oversized {
                            self.state = DecodeState::Failed(len);
                            return Err(self.too_large(len));
                        }
                        src.advance(width);
                        self.skipped += 1;
                        self.state = DecodeState::Skip(len);
                        self.frame_started = Some(Instant::now());
                        continue;
                    }
                    src.advance(width);
                    // Checked against max_decode (a usize) above.
                    let len = len as usize;
                    if src.len() >= len {
                        return Ok(Some(detach(src, len)));
                    }
                    self.state = DecodeState::Data(len);
                    self.frame_started = Some(Instant::now());
                    return self.partial(src, len);
                }
                DecodeState::Data(len) => {
                    if src.len() < len {
                        return self.partial(src, len);
                    }
                    self.charge.release();
                    self.frame_started = None;
                    self.state = DecodeState::Head;
                    return Ok(Some(detach(src, len)));
                }
                DecodeState::Skip(remaining) => {
                    let now = remaining.min(src.len() as u64);
                    src.advance(now as usize);
                    if now < remaining {
                        self.state = DecodeState::Skip(remaining - now);
                        self.check_arrival(src)?;
                        return Ok(None);
                    }
                    self.frame_started = None;
                    self.state = DecodeState::Head;
                }
                DecodeState::Failed(len) => return Err(self.too_large(len)),
                DecodeState::OverBudget { actual, max } => return Err(over_budget(actual, max)),
                DecodeState::TooSlow(after) => return Err(too_slow(after)),
            }
        }
    }

    /// Fails the stream when the frame being read has taken longer than the
    /// frame timeout to arrive.
    fn check_arrival(&mut self, src: &mut BytesMut) -> Result<()> {
        let (Some(limit), Some(started)) = (self.settings.frame_timeout, self.frame_started) else {
            return Ok(());
        };
        if started.elapsed() <= limit {
            return Ok(());
        }
        self.state = DecodeState::TooSlow(limit);
        self.charge.release();
        *src = BytesMut::new();
        Err(too_slow(limit))
    }

    /// A frame of `len` bytes is partly in `src`: lets the buffer keep room
    /// for at most [`GROWTH`] times what arrived (or [`GROW_STEP`]) rather
    /// than for the announced length, and charges that room to the memory
    /// budget.
    fn partial(&mut self, src: &mut BytesMut, len: usize) -> Result<Option<Bytes>> {
        self.check_arrival(src)?;
        let have = src.len();
        let room = have
            .saturating_mul(GROWTH)
            .max(GROW_STEP)
            .min(len)
            .max(have);
        if let Err(e) = self.charge.hold(room) {
            if let Error::LimitExceeded { actual, max, .. } = e {
                self.state = DecodeState::OverBudget { actual, max };
            }
            // What was buffered is dropped, and the stream is done.
            self.charge.release();
            *src = BytesMut::new();
            return Err(e);
        }
        if src.capacity() < room {
            src.reserve(room - have);
        }
        Ok(None)
    }

    /// At end of stream with no whole frame left: a clean end, or what was missing.
    #[cold]
    fn eof_error(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>> {
        let context = match self.state {
            DecodeState::Head if src.is_empty() => return Ok(None),
            DecodeState::Head => format!(
                "in a frame header: {} of {} length bytes missing",
                self.settings.width - src.len(),
                self.settings.width
            ),
            DecodeState::Data(len) => format!(
                "in a frame: {} of {len} payload bytes missing",
                len - src.len()
            ),
            DecodeState::Skip(remaining) => {
                format!("in a skipped oversized frame: {remaining} bytes missing")
            }
            DecodeState::Failed(len) => return Err(self.too_large(len)),
            DecodeState::OverBudget { actual, max } => return Err(over_budget(actual, max)),
            DecodeState::TooSlow(after) => return Err(too_slow(after)),
        };
        // Reported once: what is left is dropped, and the codec starts afresh.
        src.clear();
        self.charge.release();
        self.frame_started = None;
        self.state = DecodeState::Head;
        Err(Error::UnexpectedEof { context })
    }
}

impl Encoder<Bytes> for LengthPrefixedCodec {
    type Error = Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<()> {
        self.settings.encode_slice(&item, dst)
    }
}

impl Encoder<&[u8]> for LengthPrefixedCodec {
    type Error = Error;

    fn encode(&mut self, item: &[u8], dst: &mut BytesMut) -> Result<()> {
        self.settings.encode_slice(item, dst)
    }
}

impl Encoder<&str> for LengthPrefixedCodec {
    type Error = Error;

    fn encode(&mut self, item: &str, dst: &mut BytesMut) -> Result<()> {
        self.settings.encode_slice(item.as_bytes(), dst)
    }
}

impl Encoder<String> for LengthPrefixedCodec {
    type Error = Error;

    fn encode(&mut self, item: String, dst: &mut BytesMut) -> Result<()> {
        self.settings.encode_slice(item.as_bytes(), dst)
    }
}

impl Encoder<Vec<u8>> for LengthPrefixedCodec {
    type Error = Error;

    fn encode(&mut self, item: Vec<u8>, dst: &mut BytesMut) -> Result<()> {
        self.settings.encode_slice(&item, dst)
    }
}

fn too_slow(after: Duration) -> Error {
    Error::TimedOut {
        operation: ARRIVAL_LIMIT,
        after,
    }
}

fn over_budget(actual: u64, max: u64) -> Error {
    Error::LimitExceeded {
        limit: crate::memory_budget::BUDGET_LIMIT,
        actual,
        max,
    }
}

#[cfg(test)]
mod tests {
    use futures::{SinkExt, StreamExt};
    use sock_core::SocketErrorStatus;
    use tokio_util::codec::{FramedRead, FramedWrite};

    use super::*;
    use sock_test::io::{block_on, Trickle, TrickleWriter};

    /// Decodes `wire` through `FramedRead` over a reader that gives one byte per
    /// read with `Pending` between reads; returns the frames and the final error.
    fn decode_trickled(
        codec: LengthPrefixedCodec,
        wire: &[u8],
    ) -> (Vec<Bytes>, Option<Error>, LengthPrefixedCodec) {
        block_on(async {
            let mut framed = FramedRead::new(Trickle::new(wire), codec);
            let mut frames = Vec::new();
            let mut error = None;
            while let Some(item) = framed.next().await {
                match item {
                    Ok(frame) => frames.push(frame),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            // The stream is done after an error.
            if error.is_some() {
                assert!(framed.next().await.is_none());
            }
            (frames, error, framed.decoder().clone())
        })
    }

    fn frame(len_be: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = len_be.to_be_bytes().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decode_reads_frames_delivered_one_byte_at_a_time() {
        let mut wire = frame(5, b"hello");
        wire.extend(frame(0, b""));
        wire.extend(frame(3, b"abc"));
        let (frames, error, _) = decode_trickled(LengthPrefixedCodec::new(), &wire);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(frames, vec![&b"hello"[..], b"", b"abc"]);
    }

    #[test]
    fn decode_rejects_oversized_length_before_allocating() {
        let mut codec = LengthPrefixedCodec::builder()
            .max_frame_length(16)
            .new_codec();
        let mut src = BytesMut::from(&frame(17, b"x")[..]);
        let capacity = src.capacity();
        let err = codec.decode(&mut src).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LimitExceeded {
                    limit: "max_frame_length",
                    actual: 17,
                    max: 16
                }
            ),
            "{err:?}"
        );
        assert_eq!(src.capacity(), capacity, "the buffer must not grow");
        assert_eq!(err.status(), SocketErrorStatus::MessageTooLong);
        assert_eq!(
            std::io::Error::from(err).kind(),
            std::io::ErrorKind::InvalidData
        );

        // A 4 GiB announcement does not reserve 4 GiB either.
        let mut codec = LengthPrefixedCodec::new();
        let mut src = BytesMut::from(&u32::MAX.to_be_bytes()[..]);
        assert!(codec.decode(&mut src).is_err());
        assert!(src.capacity() < 1024);
    }

    #[test]
    fn decode_oversized_frame_ends_the_stream() {
        let mut wire = frame(2, b"ok");
        wire.extend(frame(100, &[0; 100]));
        wire.extend(frame(2, b"no"));
        let codec = LengthPrefixedCodec::builder()
            .max_frame_length(10)
            .new_codec();
        let (frames, error, mut codec) = decode_trickled(codec, &wire);
        assert_eq!(frames, vec![&b"ok"[..]]);
        let err = error.expect("an error");
        assert_eq!(
            err.to_string(),
            "max_frame_length exceeded: 100 bytes is more than the maximum of 10"
        );
        // Called again directly, the codec keeps refusing.
        assert!(codec
            .decode(&mut BytesMut::from(&frame(1, b"a")[..]))
            .is_err());
    }

    #[test]
    fn decode_skip_oversized_discards_the_frame_and_resumes() {
        let mut wire = frame(2, b"ok");
        wire.extend(frame(100, &[7; 100]));
        wire.extend(frame(3, b"yes"));
        wire.extend(frame(11, &[1; 11]));
        wire.extend(frame(1, b"!"));
        let codec = LengthPrefixedCodec::builder()
            .max_frame_length(10)
            .skip_oversized(true)
            .new_codec();
        let (frames, error, codec) = decode_trickled(codec, &wire);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(frames, vec![&b"ok"[..], b"yes", b"!"]);
        assert_eq!(codec.skipped_frames(), 2);
    }

    #[test]
    fn decode_skip_oversized_never_buffers_the_frame() {
        let mut codec = LengthPrefixedCodec::builder()
            .max_frame_length(10)
            .skip_oversized(true)
            .new_codec();
        let mut src = BytesMut::from(&frame(1_000_000, &[0; 500])[..]);
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert!(src.is_empty(), "skipped bytes are consumed at once");
        assert!(src.capacity() < 1000);
        src.extend_from_slice(&[0; 999_500]);
        src.extend_from_slice(&frame(2, b"hi"));
        assert_eq!(codec.decode(&mut src).unwrap(), Some(Bytes::from("hi")));
    }

    #[test]
    fn decode_eof_inside_a_payload_says_how_many_bytes_were_missing() {
        let wire = &frame(10, b"abcd")[..];
        let (frames, error, _) = decode_trickled(LengthPrefixedCodec::new(), wire);
        assert!(frames.is_empty());
        let err = error.expect("an error");
        assert!(matches!(err, Error::UnexpectedEof { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "unexpected end of stream in a frame: 6 of 10 payload bytes missing"
        );
        assert_eq!(
            std::io::Error::from(err).kind(),
            std::io::ErrorKind::UnexpectedEof
        );
    }

    #[test]
    fn decode_eof_inside_a_header_says_how_many_bytes_were_missing() {
        let mut wire = frame(1, b"a");
        wire.extend([0, 0]);
        let (frames, error, _) = decode_trickled(LengthPrefixedCodec::new(), &wire);
        assert_eq!(frames, vec![&b"a"[..]]);
        assert_eq!(
            error.expect("an error").to_string(),
            "unexpected end of stream in a frame header: 2 of 4 length bytes missing"
        );
    }

    #[test]
    fn decode_eof_between_frames_is_a_clean_end() {
        let (frames, error, _) = decode_trickled(LengthPrefixedCodec::new(), &frame(1, b"z"));
        assert_eq!(frames, vec![&b"z"[..]]);
        assert!(error.is_none());
        let (frames, error, _) = decode_trickled(LengthPrefixedCodec::new(), b"");
        assert!(frames.is_empty() && error.is_none());
    }

    #[test]
    fn decode_honours_every_prefix_width_and_byte_order() {
        for width in [1, 2, 4, 8] {
            for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
                let mut codec = LengthPrefixedCodec::builder()
                    .prefix_width(width)
                    .byte_order(order)
                    .new_codec();
                let mut wire = BytesMut::new();
                codec.encode("abc", &mut wire).unwrap();
                let mut header = vec![0u8; width];
                match order {
                    ByteOrder::BigEndian => header[width - 1] = 3,
                    ByteOrder::LittleEndian => header[0] = 3,
                }
                header.extend_from_slice(b"abc");
                assert_eq!(&wire[..], &header[..], "width {width} {order:?}");
                let (frames, error, _) = decode_trickled(codec, &wire);
                assert!(error.is_none());
                assert_eq!(frames, vec![&b"abc"[..]]);
            }
        }
    }

    #[test]
    fn decode_eight_byte_length_larger_than_memory_is_refused() {
        let mut codec = LengthPrefixedCodec::builder().prefix_width(8).new_codec();
        let mut src = BytesMut::from(&u64::MAX.to_be_bytes()[..]);
        let err = codec.decode(&mut src).unwrap_err();
        assert!(
            matches!(err, Error::LimitExceeded { actual, .. } if actual == u64::MAX),
            "{err:?}"
        );
    }

    #[test]
    #[should_panic(expected = "invalid prefix_width: must be 1, 2, 4 or 8 bytes, not 3")]
    fn builder_refuses_a_prefix_width_of_three() {
        LengthPrefixedCodec::builder().prefix_width(3);
    }

    #[test]
    fn a_large_frame_that_empties_the_buffer_is_its_allocation_alone() {
        // An idle connection must not keep its last large frame's memory
        // through an empty view of the read buffer.
        let mut codec = LengthPrefixedCodec::new();
        let mut src = BytesMut::with_capacity(4 + 16 * 1024);
        src.put_u32(16 * 1024);
        src.put_bytes(7, 16 * 1024);
        let frame = codec.decode(&mut src).unwrap().unwrap();
        assert_eq!(frame.len(), 16 * 1024);
        assert!(
            frame.is_unique(),
            "the read buffer still shares the frame's allocation"
        );
        assert_eq!(src.capacity(), REFILL);
    }

    #[test]
    fn a_small_frame_completed_by_a_later_read_leaves_the_buffer_its_room() {
        // A frame that arrives in two pieces is decoded on the slow path; it
        // must not leave the buffer empty of capacity, or `Framed` would read
        // the next frames a few bytes at a time.
        let mut codec = LengthPrefixedCodec::new();
        let mut src = BytesMut::with_capacity(8 * 1024);
        src.put_u32(64);
        src.put_bytes(1, 10);
        assert!(codec.decode(&mut src).unwrap().is_none());
        src.put_bytes(1, 54);
        let frame = codec.decode(&mut src).unwrap().unwrap();
        assert_eq!(frame.len(), 64);
        assert!(src.capacity() >= 1024, "capacity left: {}", src.capacity());
    }

    #[test]
    fn try_prefix_width_refuses_by_name_and_keeps_the_width() {
        let mut builder = LengthPrefixedCodec::builder();
        let err = builder.try_prefix_width(3).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    setting: "prefix_width",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(builder.new_codec().prefix_width(), 4);
        builder.try_prefix_width(2).unwrap();
        assert_eq!(builder.new_codec().prefix_width(), 2);
    }

    #[test]
    fn encode_refuses_a_length_the_prefix_cannot_hold() {
        let mut codec = LengthPrefixedCodec::builder().prefix_width(1).new_codec();
        let mut dst = BytesMut::new();
        codec.encode(&[0u8; 255][..], &mut dst).unwrap();
        assert_eq!(dst.len(), 256);
        dst.clear();
        let err = codec.encode(&[0u8; 256][..], &mut dst).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LimitExceeded {
                    limit: "prefix_width",
                    actual: 256,
                    max: 255
                }
            ),
            "{err:?}"
        );
        assert!(dst.is_empty(), "nothing is written on error");

        let mut codec = LengthPrefixedCodec::builder().prefix_width(2).new_codec();
        assert!(codec.encode(vec![0u8; 65_536], &mut dst).is_err());
        assert!(dst.is_empty());
    }

    #[test]
    fn encode_limit_is_separate_from_decode_limit() {
        let mut codec = LengthPrefixedCodec::builder()
            .max_frame_length(100)
            .max_encode_frame_length(4)
            .new_codec();
        let mut dst = BytesMut::new();
        let err = codec.encode("hello", &mut dst).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LimitExceeded {
                    limit: "max_encode_frame_length",
                    actual: 5,
                    max: 4
                }
            ),
            "{err:?}"
        );
        assert!(dst.is_empty());
        // The decoder still accepts 5..=100 bytes.
        let mut src = BytesMut::from(&frame(5, b"hello")[..]);
        assert_eq!(codec.decode(&mut src).unwrap(), Some(Bytes::from("hello")));
    }

    #[test]
    fn encode_accepts_every_payload_type() {
        let mut codec = LengthPrefixedCodec::new();
        let mut dst = BytesMut::new();
        codec.encode(Bytes::from_static(b"a"), &mut dst).unwrap();
        codec.encode(&b"b"[..], &mut dst).unwrap();
        codec.encode("c", &mut dst).unwrap();
        codec.encode(String::from("d"), &mut dst).unwrap();
        codec.encode(vec![b'e'], &mut dst).unwrap();
        let mut expected = Vec::new();
        for p in [b"a", b"b", b"c", b"d", b"e"] {
            expected.extend(frame(1, p));
        }
        assert_eq!(&dst[..], &expected[..]);
    }

    #[test]
    fn encode_length_counts_utf8_bytes_not_utf16_units() {
        let mut codec = LengthPrefixedCodec::new();
        let mut dst = BytesMut::new();
        codec.encode("héllo wörld ✓", &mut dst).unwrap();
        assert_eq!(&dst[..4], &17u32.to_be_bytes());
    }

    #[test]
    fn framed_write_then_read_over_a_trickling_writer() {
        let frames = vec![
            Bytes::from_static(b"one"),
            Bytes::new(),
            Bytes::from(vec![9u8; 300]),
        ];
        let written = block_on(async {
            let mut w = FramedWrite::new(TrickleWriter::new(3), LengthPrefixedCodec::new());
            for f in &frames {
                w.feed(f.clone()).await.unwrap();
            }
            SinkExt::<Bytes>::flush(&mut w).await.unwrap();
            w.into_inner().into_bytes()
        });
        let (decoded, error, _) = decode_trickled(LengthPrefixedCodec::new(), &written);
        assert!(error.is_none());
        assert_eq!(decoded, frames);
    }
}
