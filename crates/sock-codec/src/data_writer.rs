//! [`DataWriter`]: typed writes into a buffer, stored to a stream in one write,
//! as UWP's `Windows.Storage.Streams.DataWriter`.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use sock_core::{ByteOrder, Error, Result, UnicodeEncoding};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// A Windows GUID, as `DataWriter.WriteGuid` and `DataReader.ReadGuid` carry it:
/// the fields of the Windows `GUID` struct (`guiddef.h`).
///
/// [`Display`](fmt::Display) gives the canonical 8-4-4-4-12 form in lowercase
/// (`6ba7b810-9dad-11d1-80b4-00c04fd430c8`): `data1`, `data2`, `data3` as hex
/// numbers, then the 8 bytes of `data4` in order (2 and 6 of them).
/// [`FromStr`] reads that form, in either case, with or without braces.
///
/// On the wire (see [`DataWriter::write_guid`]) the three numbers follow the
/// byte order and `data4` never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Guid {
    /// The first 8 hex digits, a 32-bit number.
    pub data1: u32,
    /// The next 4 hex digits, a 16-bit number.
    pub data2: u16,
    /// The next 4 hex digits, a 16-bit number.
    pub data3: u16,
    /// The last 16 hex digits, 8 bytes in the order written.
    pub data4: [u8; 8],
}

impl Guid {
    /// The all-zero GUID.
    pub const NIL: Self = Self::new(0, 0, 0, [0; 8]);

    /// A GUID from its Windows fields.
    pub const fn new(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Self {
        Self {
            data1,
            data2,
            data3,
            data4,
        }
    }

    /// The 16 bytes in the order of the canonical text form (RFC 4122 / 9562
    /// order: every field big-endian), as a big-endian `DataWriter` writes it.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..4].copy_from_slice(&self.data1.to_be_bytes());
        out[4..6].copy_from_slice(&self.data2.to_be_bytes());
        out[6..8].copy_from_slice(&self.data3.to_be_bytes());
        out[8..].copy_from_slice(&self.data4);
        out
    }

    /// The GUID of 16 bytes in the order of the canonical text form (the
    /// inverse of [`to_bytes`](Self::to_bytes)).
    pub fn from_bytes(b: [u8; 16]) -> Self {
        let mut data4 = [0; 8];
        data4.copy_from_slice(&b[8..]);
        Self::new(
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]),
            data4,
        )
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

impl FromStr for Guid {
    type Err = Error;

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex digits of either
    /// case), optionally in braces; anything else is [`Error::InvalidData`].
    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid_data(format!("invalid guid {text:?}: {why}"));
        let inner = match text.strip_prefix('{') {
            Some(rest) => rest
                .strip_suffix('}')
                .ok_or_else(|| bad("opening brace without a closing one"))?,
            None => text,
        };
        let groups: Vec<&str> = inner.split('-').collect();
        let lens = groups.iter().map(|g| g.len()).collect::<Vec<_>>();
        if lens != [8, 4, 4, 4, 12] {
            return Err(bad("expected 8-4-4-4-12 hex digits"));
        }
        let mut bytes = [0u8; 16];
        let digits = groups.concat();
        for (i, pair) in digits.as_bytes().chunks_exact(2).enumerate() {
            let hex = |c: u8| (c as char).to_digit(16);
            match (hex(pair[0]), hex(pair[1])) {
                (Some(hi), Some(lo)) => bytes[i] = (hi * 16 + lo) as u8,
                _ => return Err(bad("not a hex digit")),
            }
        }
        Ok(Self::from_bytes(bytes))
    }
}

/// A WinRT `TimeSpan` (`Windows.Foundation.TimeSpan`): a signed count of
/// 100-nanosecond ticks, as `DataWriter.WriteTimeSpan` and
/// `DataReader.ReadTimeSpan` carry it.
///
/// Kept as the tick count so that every value read round-trips, including
/// negative spans, which [`Duration`] cannot hold. Convert with
/// `TimeSpan::try_from(duration)` (fails past `i64::MAX` ticks; nanoseconds
/// below one tick are dropped) and `Duration::try_from(span)` (fails for a
/// negative span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimeSpan(i64);

/// 100-ns ticks per second.
const TICKS_PER_SECOND: i64 = 10_000_000;
/// Nanoseconds per tick.
const NANOS_PER_TICK: i128 = 100;
/// Ticks from 1601-01-01 (the WinRT `DateTime` epoch) to 1970-01-01 UTC.
const UNIX_EPOCH_TICKS: i128 = 11_644_473_600 * TICKS_PER_SECOND as i128;

impl TimeSpan {
    /// No time.
    pub const ZERO: Self = Self(0);
    /// The longest span, `i64::MAX` ticks (about 29,227 years).
    pub const MAX: Self = Self(i64::MAX);
    /// The most negative span, `i64::MIN` ticks.
    pub const MIN: Self = Self(i64::MIN);

    /// A span of `ticks` 100-nanosecond ticks (may be negative).
    pub const fn from_ticks(ticks: i64) -> Self {
        Self(ticks)
    }

    /// The span in 100-nanosecond ticks.
    pub const fn ticks(self) -> i64 {
        self.0
    }

    /// Whether the span is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl TryFrom<Duration> for TimeSpan {
    type Error = Error;

    /// Whole ticks of `d` (nanoseconds below 100 are dropped);
    /// [`Error::InvalidData`] when it is longer than [`TimeSpan::MAX`].
    fn try_from(d: Duration) -> Result<Self> {
        i64::try_from(d.as_nanos() / NANOS_PER_TICK as u128)
            .map(Self)
            .map_err(|_| {
                Error::invalid_data(format!(
                    "duration of {d:?} is longer than a time_span holds (i64::MAX 100-ns ticks)"
                ))
            })
    }
}

impl TryFrom<TimeSpan> for Duration {
    type Error = Error;

    /// The span as a `Duration`; [`Error::InvalidData`] when it is negative.
    fn try_from(span: TimeSpan) -> Result<Self> {
        let ticks = u64::try_from(span.0).map_err(|_| {
            Error::invalid_data(format!(
                "time_span of {} ticks is negative: a Duration cannot hold it",
                span.0
            ))
        })?;
        let per_second = TICKS_PER_SECOND as u64;
        Ok(Self::new(
            ticks / per_second,
            (ticks % per_second) as u32 * NANOS_PER_TICK as u32,
        ))
    }
}

/// A `SystemTime` as WinRT `DateTime` ticks: 100-ns ticks since 1601-01-01
/// UTC, rounded down to a whole tick; [`Error::InvalidData`] out of `i64`.
pub(crate) fn date_time_ticks(time: SystemTime) -> Result<i64> {
    let nanos: i128 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => i128::try_from(before.duration().as_nanos()).map_or(i128::MIN, |n| -n),
    };
    let ticks = nanos
        .div_euclid(NANOS_PER_TICK)
        .saturating_add(UNIX_EPOCH_TICKS);
    i64::try_from(ticks).map_err(|_| {
        Error::invalid_data(format!(
            "date_time {time:?} is outside what a windows DateTime holds \
             (i64 100-ns ticks from 1601-01-01 utc)"
        ))
    })
}

/// The `SystemTime` of WinRT `DateTime` ticks; [`Error::InvalidData`] where the
/// platform's `SystemTime` cannot hold it.
pub(crate) fn date_time_from_ticks(ticks: i64) -> Result<SystemTime> {
    let nanos = (i128::from(ticks) - UNIX_EPOCH_TICKS) * NANOS_PER_TICK;
    let whole = |n: u128| {
        let secs = u64::try_from(n / 1_000_000_000).ok()?;
        Some(Duration::new(secs, (n % 1_000_000_000) as u32))
    };
    let time = if nanos >= 0 {
        whole(nanos.unsigned_abs()).and_then(|d| UNIX_EPOCH.checked_add(d))
    } else {
        whole(nanos.unsigned_abs()).and_then(|d| UNIX_EPOCH.checked_sub(d))
    };
    time.ok_or_else(|| {
        Error::invalid_data(format!(
            "date_time of {ticks} ticks from 1601-01-01 utc is outside what this platform's \
             SystemTime holds"
        ))
    })
}

/// The stream type of a [`DataWriter`] or [`DataReader`](crate::DataReader) that has
/// none: one made by [`DataWriter::new_buffer`] or
/// [`DataReader::from_buffer`](crate::DataReader::from_buffer).
///
/// It implements neither `AsyncRead` nor `AsyncWrite`, so `store`, `flush` and
/// `load` do not exist on such a reader or writer: where UWP throws at run time,
/// this does not compile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoStream;

/// Typed writes into a buffer, then [`store`](Self::store) in one write: UWP's
/// `DataWriter`, for any [`AsyncWrite`].
///
/// The `write_*` methods only append to the writer's buffer (nothing can fail
/// there); multi-byte values follow [`byte_order`](Self::byte_order) (big-endian by
/// default, as UWP) and strings [`unicode_encoding`](Self::unicode_encoding)
/// (UTF-8 by default). [`store`](Self::store) then writes everything buffered.
///
/// Like UWP, [`write_string`](Self::write_string) writes no length and no
/// terminator. The length-prefixed pattern of the UWP samples,
/// `WriteUInt32(MeasureString(s)); WriteString(s)`, is byte for byte the default
/// [`LengthPrefixedCodec`](crate::LengthPrefixedCodec) frame: the length is in
/// bytes, never UTF-16 units (the guide's C++ sample got this wrong for non-ASCII
/// text).
///
/// # Examples
///
/// ```
/// use sock_codec::{DataReader, DataWriter};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sock_core::Error> {
/// let (a, b) = tokio::io::duplex(1024);
/// let mut writer = DataWriter::new(a);
/// let text = "héllo";
/// writer.write_u32(writer.measure_string(text));
/// writer.write_string(text);
/// assert_eq!(writer.store().await?, 4 + 6);
///
/// let mut reader = DataReader::new(b);
/// assert_eq!(reader.load(4).await?, 4);
/// let len = reader.read_u32()?;
/// assert_eq!(reader.load(len).await?, len);
/// assert_eq!(reader.read_string(len)?, "héllo");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DataWriter<W> {
    stream: W,
    buf: BytesMut,
    byte_order: ByteOrder,
    encoding: UnicodeEncoding,
}

macro_rules! write_numbers {
    ($($(#[$doc:meta])* $name:ident($ty:ty) => $be:ident, $le:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self, value: $ty) {
                match self.byte_order {
                    ByteOrder::BigEndian => self.buf.$be(value),
                    ByteOrder::LittleEndian => self.buf.$le(value),
                }
            }
        )*
    };
}

impl DataWriter<NoStream> {
    /// A writer with no stream, that builds a buffer: take it with
    /// [`detach_buffer`](Self::detach_buffer) (UWP's `new DataWriter()`).
    pub fn new_buffer() -> Self {
        Self::with_stream(NoStream)
    }
}

impl<W> DataWriter<W> {
    fn with_stream(stream: W) -> Self {
        Self {
            stream,
            buf: BytesMut::new(),
            byte_order: ByteOrder::default(),
            encoding: UnicodeEncoding::default(),
        }
    }

    /// The byte order of multi-byte values (big-endian by default).
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Sets the byte order of the values written from now on.
    pub fn set_byte_order(&mut self, order: ByteOrder) {
        self.byte_order = order;
    }

    /// The encoding of strings (UTF-8 by default).
    pub fn unicode_encoding(&self) -> UnicodeEncoding {
        self.encoding
    }

    /// Sets the encoding of the strings written from now on.
    pub fn set_unicode_encoding(&mut self, encoding: UnicodeEncoding) {
        self.encoding = encoding;
    }

    /// Bytes written but not yet stored.
    pub fn unstored_buffer_length(&self) -> u32 {
        u32::try_from(self.buf.len()).unwrap_or(u32::MAX)
    }

    /// Appends one byte.
    pub fn write_u8(&mut self, value: u8) {
        self.buf.put_u8(value);
    }

    /// Appends one signed byte.
    pub fn write_i8(&mut self, value: i8) {
        self.buf.put_i8(value);
    }

    /// Appends a boolean as one byte, 1 or 0.
    pub fn write_bool(&mut self, value: bool) {
        self.buf.put_u8(u8::from(value));
    }

    write_numbers! {
        /// Appends a `u16` in the writer's byte order.
        write_u16(u16) => put_u16, put_u16_le;
        /// Appends a `u32` in the writer's byte order.
        write_u32(u32) => put_u32, put_u32_le;
        /// Appends a `u64` in the writer's byte order.
        write_u64(u64) => put_u64, put_u64_le;
        /// Appends an `i16` in the writer's byte order.
        write_i16(i16) => put_i16, put_i16_le;
        /// Appends an `i32` in the writer's byte order.
        write_i32(i32) => put_i32, put_i32_le;
        /// Appends an `i64` in the writer's byte order.
        write_i64(i64) => put_i64, put_i64_le;
        /// Appends an IEEE 754 `f32` in the writer's byte order.
        write_f32(f32) => put_f32, put_f32_le;
        /// Appends an IEEE 754 `f64` in the writer's byte order.
        write_f64(f64) => put_f64, put_f64_le;
    }

    /// Appends a GUID (UWP's `WriteGuid`): `data1` as a `u32`, `data2` and
    /// `data3` as `u16`s, each in the writer's byte order, then the 8 bytes of
    /// `data4` as they are; 16 bytes in all.
    ///
    /// This is the layout of the Windows `GUID` struct with each integer field
    /// written as [`write_u32`](Self::write_u32)/[`write_u16`](Self::write_u16)
    /// write it: big-endian (the default) gives the bytes of the canonical text
    /// form ([`Guid::to_bytes`]); little-endian gives the in-memory layout on
    /// Windows (.NET's `Guid.ToByteArray()`). UWP's documentation does not spell
    /// the layout out; it is derived from the WinRT `GUID` fields and the
    /// writer's per-field byte order.
    pub fn write_guid(&mut self, value: Guid) {
        self.write_u32(value.data1);
        self.write_u16(value.data2);
        self.write_u16(value.data3);
        self.buf.put_slice(&value.data4);
    }

    /// Appends a point in time as a WinRT `DateTime` (UWP's `WriteDateTime`):
    /// an `i64` count of 100-ns ticks since 1601-01-01 UTC, in the writer's byte
    /// order. Time below a whole tick is rounded down.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidData`] naming `date_time`, appending nothing, for a time
    /// outside what the `i64` holds (before 1601-01-01 minus about 29,000 years,
    /// or after about year 30828).
    pub fn write_date_time(&mut self, value: SystemTime) -> Result<()> {
        let ticks = date_time_ticks(value)?;
        self.write_i64(ticks);
        Ok(())
    }

    /// Appends a WinRT `TimeSpan` (UWP's `WriteTimeSpan`): its `i64` count of
    /// 100-ns ticks, in the writer's byte order. Convert a [`Duration`] with
    /// `TimeSpan::try_from`.
    pub fn write_time_span(&mut self, value: TimeSpan) {
        self.write_i64(value.ticks());
    }

    /// Appends bytes as they are (UWP's `WriteBytes`).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    /// Appends the remaining bytes of a buffer (UWP's `WriteBuffer`; slice a
    /// `Bytes` for its `start, count` form).
    pub fn write_buffer(&mut self, buffer: impl Buf) {
        self.buf.put(buffer);
    }

    /// Appends a string in the writer's encoding, with no length prefix and no
    /// terminator, and returns its size in bytes (UWP's `WriteString`; the size is
    /// `u32::MAX` for a string of 4 GiB or more, which UWP cannot express either).
    pub fn write_string(&mut self, value: &str) -> u32 {
        let before = self.buf.len();
        match self.encoding {
            UnicodeEncoding::Utf8 => self.buf.put_slice(value.as_bytes()),
            UnicodeEncoding::Utf16LE => {
                self.buf.reserve(value.len() * 2);
                value.encode_utf16().for_each(|u| self.buf.put_u16_le(u));
            }
            UnicodeEncoding::Utf16BE => {
                self.buf.reserve(value.len() * 2);
                value.encode_utf16().for_each(|u| self.buf.put_u16(u));
            }
        }
        u32::try_from(self.buf.len() - before).unwrap_or(u32::MAX)
    }

    /// The size in bytes that [`write_string`](Self::write_string) would write for
    /// `value` in the current encoding (UWP's `MeasureString`).
    ///
    /// For UTF-16 this is twice the code units, while
    /// [`DataReader::read_string`](crate::DataReader::read_string) counts code
    /// units: divide by 2 there, as in UWP.
    pub fn measure_string(&self, value: &str) -> u32 {
        let len = match self.encoding {
            UnicodeEncoding::Utf8 => value.len(),
            UnicodeEncoding::Utf16LE | UnicodeEncoding::Utf16BE => value.encode_utf16().count() * 2,
        };
        u32::try_from(len).unwrap_or(u32::MAX)
    }

    /// Takes everything written and not stored, leaving the buffer empty (UWP's
    /// `DetachBuffer`).
    pub fn detach_buffer(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// The stream.
    pub fn get_ref(&self) -> &W {
        &self.stream
    }

    /// The stream, mutably. Writing to it directly bypasses unstored bytes.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.stream
    }

    /// Gives the stream back; unstored bytes are dropped (see
    /// [`into_parts`](Self::into_parts) to keep them).
    pub fn into_inner(self) -> W {
        self.stream
    }

    /// UWP's name for [`into_inner`](Self::into_inner): the stream outlives the
    /// writer.
    pub fn detach_stream(self) -> W {
        self.into_inner()
    }

    /// The stream and the bytes written but not stored.
    pub fn into_parts(self) -> (W, Bytes) {
        (self.stream, self.buf.freeze())
    }
}

impl<W: AsyncWrite + Unpin> DataWriter<W> {
    /// A writer over `stream`, big-endian and UTF-8.
    pub fn new(stream: W) -> Self {
        Self::with_stream(stream)
    }

    /// Writes everything buffered to the stream, then flushes the stream, and
    /// returns the number of bytes stored (UWP's `StoreAsync`).
    ///
    /// The buffer goes out in **one** `write_all` followed by **one** `flush` of the
    /// stream. On a datagram output stream, where a flush sends what was written as
    /// one datagram, one `store` is therefore exactly one datagram, as in UWP. With
    /// nothing buffered, nothing is written and the stream is only flushed.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe as a whole, but nothing is lost or sent twice: bytes the
    /// stream has accepted leave the buffer as they go, so after a cancelled
    /// `store` the buffer holds exactly what was not written, and the next `store`
    /// continues from there.
    pub async fn store(&mut self) -> Result<usize> {
        let len = self.buf.len();
        self.stream.write_all_buf(&mut self.buf).await?;
        self.stream.flush().await?;
        Ok(len)
    }

    /// Flushes the stream (UWP's `FlushAsync`). Like UWP it does not store: call
    /// [`store`](Self::store) first (which already flushes).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if the stream's `poll_flush` is; calling it again resumes.
    pub async fn flush(&mut self) -> Result<()> {
        self.stream.flush().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;
    use sock_test::io::{block_on, TrickleWriter};

    #[test]
    fn write_numbers_follow_the_byte_order() {
        let mut w = DataWriter::new_buffer();
        w.write_u16(0x0102);
        w.write_u32(0x0304_0506);
        w.write_i64(-2);
        w.set_byte_order(ByteOrder::LittleEndian);
        w.write_u16(0x0102);
        w.write_f32(1.0);
        w.write_bool(true);
        w.write_i8(-1);
        assert_eq!(
            &w.detach_buffer()[..],
            &[
                1, 2, 3, 4, 5, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 2, 1, 0, 0, 0x80,
                0x3f, 1, 0xff
            ]
        );
        assert_eq!(w.unstored_buffer_length(), 0);
    }

    #[test]
    fn write_string_writes_no_prefix_and_returns_bytes_in_the_encoding() {
        let mut w = DataWriter::new_buffer();
        assert_eq!(w.measure_string("hé"), 3);
        assert_eq!(w.write_string("hé"), 3);
        w.set_unicode_encoding(UnicodeEncoding::Utf16LE);
        assert_eq!(w.measure_string("hé"), 4);
        assert_eq!(w.write_string("hé"), 4);
        w.set_unicode_encoding(UnicodeEncoding::Utf16BE);
        assert_eq!(w.write_string("😀"), 4);
        assert_eq!(
            &w.detach_buffer()[..],
            &[b'h', 0xc3, 0xa9, b'h', 0, 0xe9, 0, 0xd8, 0x3d, 0xde, 0x00]
        );
    }

    #[test]
    fn store_writes_everything_then_flushes_once() {
        block_on(async {
            let mut w = DataWriter::new(TrickleWriter::new(3));
            w.write_bytes(b"0123456789");
            w.write_buffer(Bytes::from_static(b"ab"));
            assert_eq!(w.unstored_buffer_length(), 12);
            assert_eq!(w.store().await.unwrap(), 12);
            assert_eq!(w.unstored_buffer_length(), 0);
            assert_eq!(w.get_ref().bytes(), b"0123456789ab");
            assert_eq!(w.get_ref().flushes, 1);
            assert_eq!(w.store().await.unwrap(), 0);
            assert_eq!(w.get_ref().flushes, 2);
            assert_eq!(w.get_ref().bytes().len(), 12);
        });
    }

    /// A stand-in for a datagram output stream: writes accumulate, and each
    /// flush sends what was written as one datagram.
    #[derive(Default)]
    struct Datagrams {
        pending: Vec<u8>,
        sent: Vec<Vec<u8>>,
    }

    impl AsyncWrite for Datagrams {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.pending.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let datagram = std::mem::take(&mut self.pending);
            self.sent.push(datagram);
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn one_store_is_one_datagram_on_a_datagram_stream() {
        block_on(async {
            let mut w = DataWriter::new(Datagrams::default());
            w.write_u32(5);
            w.write_string("hello");
            w.store().await.unwrap();
            w.write_u8(1);
            w.write_u8(2);
            w.store().await.unwrap();
            assert_eq!(
                w.get_ref().sent,
                vec![b"\0\0\0\x05hello".to_vec(), vec![1, 2]]
            );
        });
    }

    #[test]
    fn into_parts_keeps_unstored_bytes() {
        let mut w = DataWriter::new(TrickleWriter::new(1));
        w.write_u8(7);
        let (stream, rest) = w.into_parts();
        assert!(stream.bytes().is_empty());
        assert_eq!(&rest[..], &[7]);
    }
}
