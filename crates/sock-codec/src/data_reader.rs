//! [`DataReader`]: load bytes from a stream, then read typed values from them, as
//! UWP's `Windows.Storage.Streams.DataReader`.

use std::time::SystemTime;

use bytes::{Buf, Bytes, BytesMut};
use sock_core::{ByteOrder, Error, Result, UnicodeEncoding};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::data_writer::date_time_from_ticks;
use crate::{Guid, NoStream, TimeSpan};

/// The default largest number of loaded, unconsumed bytes a [`DataReader`] holds:
/// 8 MiB.
pub const DEFAULT_MAX_BUFFER_LENGTH: usize = 8 * 1024 * 1024;

/// How many bytes a read-ahead load asks the stream for at least.
const READ_AHEAD: usize = 64 * 1024;
/// The most a non-read-ahead load reserves at once (it grows as bytes arrive).
const LOAD_CHUNK: usize = 64 * 1024;

/// When [`DataReader::load`] completes, as UWP's `InputStreamOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InputStreamOptions {
    /// `load(n)` completes when `n` bytes are loaded or the stream ends: a result
    /// below `n` means the peer closed. Never reads past `n` (the default).
    #[default]
    None = 0,
    /// `load(n)` completes as soon as at least one byte is loaded (at most `n`),
    /// and returns 0 at end of stream: the streaming idiom.
    Partial = 1,
    /// As `None`, but each read may fetch more than asked, to save reads; the
    /// result may exceed `n`.
    ReadAhead = 2,
}

/// Reads typed values from bytes loaded from a stream: UWP's `DataReader`, for
/// any [`AsyncRead`].
///
/// [`load`](Self::load) fills the reader's buffer from the stream (how much, and
/// when it completes, follows [`InputStreamOptions`]); the `read_*` methods then
/// consume that buffer synchronously. Reading more than is loaded is an
/// [`Error::UnexpectedEof`] that consumes nothing, never a panic. Multi-byte values
/// follow [`byte_order`](Self::byte_order) (big-endian by default) and strings
/// [`unicode_encoding`](Self::unicode_encoding) (UTF-8 by default).
///
/// The buffer holds at most [`DEFAULT_MAX_BUFFER_LENGTH`] (8 MiB) unconsumed bytes
/// unless [`set_max_buffer_length`](Self::set_max_buffer_length) says otherwise: a
/// `load` that would pass it is refused before reading, with
/// [`Error::LimitExceeded`] naming `max_buffer_length`, so a length read from a
/// peer cannot make the reader allocate without bound.
///
/// # Examples
///
/// The streaming idiom of UWP's background-networking guide:
///
/// ```
/// use sock_codec::{DataReader, InputStreamOptions};
/// use tokio::io::AsyncWriteExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sock_core::Error> {
/// let (mut a, b) = tokio::io::duplex(1024);
/// a.write_all(b"hello").await?;
/// drop(a);
///
/// let mut reader = DataReader::new(b);
/// reader.set_input_stream_options(InputStreamOptions::Partial);
/// let mut text = String::new();
/// while reader.load(250).await? > 0 {
///     let n = reader.unconsumed_buffer_length();
///     text += &reader.read_string(n)?;
/// }
/// assert_eq!(text, "hello");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DataReader<R> {
    stream: R,
    buf: BytesMut,
    byte_order: ByteOrder,
    encoding: UnicodeEncoding,
    options: InputStreamOptions,
    max_buffer: usize,
    /// Bytes consumed so far: the stream offset of `buf[0]`.
    consumed: u64,
}

macro_rules! read_numbers {
    ($($(#[$doc:meta])* $name:ident -> $ty:ty => $be:ident, $le:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self) -> Result<$ty> {
                self.need(size_of::<$ty>(), stringify!($name))?;
                self.consumed += size_of::<$ty>() as u64;
                Ok(match self.byte_order {
                    ByteOrder::BigEndian => self.buf.$be(),
                    ByteOrder::LittleEndian => self.buf.$le(),
                })
            }
        )*
    };
}

impl DataReader<NoStream> {
    /// A reader over bytes already in memory, with no stream (UWP's
    /// `DataReader.FromBuffer`): everything is loaded from the start, e.g. a
    /// received datagram.
    pub fn from_buffer(buffer: Bytes) -> Self {
        let mut reader = Self::with_stream(NoStream);
        reader.max_buffer = reader.max_buffer.max(buffer.len());
        reader.buf = BytesMut::from(buffer);
        reader
    }
}

impl<R> DataReader<R> {
    fn with_stream(stream: R) -> Self {
        Self {
            stream,
            buf: BytesMut::new(),
            byte_order: ByteOrder::default(),
            encoding: UnicodeEncoding::default(),
            options: InputStreamOptions::default(),
            max_buffer: DEFAULT_MAX_BUFFER_LENGTH,
            consumed: 0,
        }
    }

    /// The byte order of multi-byte values (big-endian by default).
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Sets the byte order of the values read from now on.
    pub fn set_byte_order(&mut self, order: ByteOrder) {
        self.byte_order = order;
    }

    /// The encoding of strings (UTF-8 by default).
    pub fn unicode_encoding(&self) -> UnicodeEncoding {
        self.encoding
    }

    /// Sets the encoding of the strings read from now on.
    pub fn set_unicode_encoding(&mut self, encoding: UnicodeEncoding) {
        self.encoding = encoding;
    }

    /// When [`load`](Self::load) completes ([`InputStreamOptions::None`] by default).
    pub fn input_stream_options(&self) -> InputStreamOptions {
        self.options
    }

    /// Sets when [`load`](Self::load) completes.
    pub fn set_input_stream_options(&mut self, options: InputStreamOptions) {
        self.options = options;
    }

    /// The largest number of unconsumed bytes the reader holds.
    pub fn max_buffer_length(&self) -> usize {
        self.max_buffer
    }

    /// Sets the largest number of unconsumed bytes the reader holds
    /// ([`DEFAULT_MAX_BUFFER_LENGTH`] by default).
    pub fn set_max_buffer_length(&mut self, max: usize) {
        self.max_buffer = max;
    }

    /// Bytes loaded and not yet read (UWP's `UnconsumedBufferLength`).
    pub fn unconsumed_buffer_length(&self) -> u32 {
        u32::try_from(self.buf.len()).unwrap_or(u32::MAX)
    }

    /// Fails, consuming nothing, unless `n` bytes are loaded.
    fn need(&self, n: usize, what: &str) -> Result<()> {
        if self.buf.len() >= n {
            return Ok(());
        }
        Err(Error::UnexpectedEof {
            context: format!(
                "in the loaded data: {what} needs {n} bytes, {} loaded (load more first)",
                self.buf.len()
            ),
        })
    }

    /// Reads one byte.
    pub fn read_u8(&mut self) -> Result<u8> {
        self.need(1, "read_u8")?;
        self.consumed += 1;
        Ok(self.buf.get_u8())
    }

    /// Reads one signed byte.
    pub fn read_i8(&mut self) -> Result<i8> {
        self.need(1, "read_i8")?;
        self.consumed += 1;
        Ok(self.buf.get_i8())
    }

    /// Reads a boolean from one byte: any non-zero byte is `true`, as in UWP.
    pub fn read_bool(&mut self) -> Result<bool> {
        self.need(1, "read_bool")?;
        self.consumed += 1;
        Ok(self.buf.get_u8() != 0)
    }

    read_numbers! {
        /// Reads a `u16` in the reader's byte order.
        read_u16 -> u16 => get_u16, get_u16_le;
        /// Reads a `u32` in the reader's byte order.
        read_u32 -> u32 => get_u32, get_u32_le;
        /// Reads a `u64` in the reader's byte order.
        read_u64 -> u64 => get_u64, get_u64_le;
        /// Reads an `i16` in the reader's byte order.
        read_i16 -> i16 => get_i16, get_i16_le;
        /// Reads an `i32` in the reader's byte order.
        read_i32 -> i32 => get_i32, get_i32_le;
        /// Reads an `i64` in the reader's byte order.
        read_i64 -> i64 => get_i64, get_i64_le;
        /// Reads an IEEE 754 `f32` in the reader's byte order.
        read_f32 -> f32 => get_f32, get_f32_le;
        /// Reads an IEEE 754 `f64` in the reader's byte order.
        read_f64 -> f64 => get_f64, get_f64_le;
    }

    /// Reads a GUID (UWP's `ReadGuid`): `data1` as a `u32`, `data2` and `data3`
    /// as `u16`s in the reader's byte order, then the 8 bytes of `data4` as they
    /// are; the layout of [`DataWriter::write_guid`](crate::DataWriter::write_guid).
    /// Consumes nothing if fewer than 16 bytes are loaded.
    pub fn read_guid(&mut self) -> Result<Guid> {
        self.need(16, "read_guid")?;
        let data1 = self.read_u32()?;
        let data2 = self.read_u16()?;
        let data3 = self.read_u16()?;
        let mut data4 = [0; 8];
        self.read_bytes(&mut data4)?;
        Ok(Guid::new(data1, data2, data3, data4))
    }

    /// Reads a WinRT `DateTime` (UWP's `ReadDateTime`): an `i64` count of 100-ns
    /// ticks since 1601-01-01 UTC in the reader's byte order, as a `SystemTime`.
    ///
    /// Fails, consuming nothing, with [`Error::UnexpectedEof`] if fewer than 8
    /// bytes are loaded, and with [`Error::InvalidData`] naming `date_time` for a
    /// tick count this platform's `SystemTime` cannot hold (on Linux every `i64`
    /// fits); [`read_i64`](Self::read_i64) reads the raw ticks.
    pub fn read_date_time(&mut self) -> Result<SystemTime> {
        self.need(8, "read_date_time")?;
        let mut raw = [0; 8];
        raw.copy_from_slice(&self.buf[..8]);
        let ticks = match self.byte_order {
            ByteOrder::BigEndian => i64::from_be_bytes(raw),
            ByteOrder::LittleEndian => i64::from_le_bytes(raw),
        };
        let time = date_time_from_ticks(ticks)?;
        self.buf.advance(8);
        self.consumed += 8;
        Ok(time)
    }

    /// Reads a WinRT `TimeSpan` (UWP's `ReadTimeSpan`): an `i64` count of 100-ns
    /// ticks in the reader's byte order; every value, negative ones included, is
    /// kept exactly (convert with `Duration::try_from`).
    pub fn read_time_span(&mut self) -> Result<TimeSpan> {
        self.need(8, "read_time_span")?;
        self.read_i64().map(TimeSpan::from_ticks)
    }

    /// Fills `dest` with the next bytes (UWP's `ReadBytes`).
    pub fn read_bytes(&mut self, dest: &mut [u8]) -> Result<()> {
        self.need(dest.len(), "read_bytes")?;
        self.consumed += dest.len() as u64;
        self.buf.copy_to_slice(dest);
        Ok(())
    }

    /// The next `len` bytes, without copying (UWP's `ReadBuffer`).
    pub fn read_buffer(&mut self, len: u32) -> Result<Bytes> {
        let len = len as usize;
        self.need(len, "read_buffer")?;
        self.consumed += len as u64;
        Ok(self.buf.split_to(len).freeze())
    }

    /// Reads a string of `code_units` code units of the reader's encoding: bytes
    /// for UTF-8, 16-bit units for UTF-16 (UWP's `ReadString`). For the datagram
    /// idiom `read_string(unconsumed_buffer_length())`, halve the length for UTF-16.
    ///
    /// Text that is not valid in the encoding is an [`Error::InvalidData`] naming
    /// the position of the first bad unit, in the string and in the stream;
    /// nothing is consumed then, so the bytes can still be read raw.
    pub fn read_string(&mut self, code_units: u32) -> Result<String> {
        let len = code_units as usize * self.encoding.code_unit_len();
        self.need(len, "read_string")?;
        let bytes = &self.buf[..len];
        let text = match self.encoding {
            UnicodeEncoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => s.to_owned(),
                Err(e) => {
                    let at = e.valid_up_to();
                    return Err(Error::invalid_data(format!(
                        "string is not valid utf-8 at byte {at} (stream offset {})",
                        self.consumed + at as u64
                    )));
                }
            },
            UnicodeEncoding::Utf16LE | UnicodeEncoding::Utf16BE => {
                let little = self.encoding == UnicodeEncoding::Utf16LE;
                decode_utf16(bytes, little).map_err(|unit| {
                    Error::invalid_data(format!(
                        "string is not valid utf-16 at code unit {unit} (stream offset {})",
                        self.consumed + 2 * unit as u64
                    ))
                })?
            }
        };
        self.buf.advance(len);
        self.consumed += len as u64;
        Ok(text)
    }

    /// Takes every loaded, unconsumed byte (UWP's `DetachBuffer`).
    pub fn detach_buffer(&mut self) -> Bytes {
        self.consumed += self.buf.len() as u64;
        self.buf.split().freeze()
    }

    /// The stream.
    pub fn get_ref(&self) -> &R {
        &self.stream
    }

    /// The stream, mutably. Reading from it directly skips the loaded bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.stream
    }

    /// Gives the stream back; loaded, unconsumed bytes are dropped (see
    /// [`into_parts`](Self::into_parts) to keep them).
    pub fn into_inner(self) -> R {
        self.stream
    }

    /// UWP's name for [`into_inner`](Self::into_inner): the stream outlives the
    /// reader.
    pub fn detach_stream(self) -> R {
        self.into_inner()
    }

    /// The stream and the bytes loaded but not read.
    pub fn into_parts(self) -> (R, Bytes) {
        (self.stream, self.buf.freeze())
    }
}

impl<R: AsyncRead + Unpin> DataReader<R> {
    /// A reader over `stream`, big-endian, UTF-8, [`InputStreamOptions::None`].
    pub fn new(stream: R) -> Self {
        Self::with_stream(stream)
    }

    /// Loads up to `count` more bytes from the stream into the buffer and returns
    /// how many were loaded (UWP's `LoadAsync`). When it completes depends on
    /// [`input_stream_options`](Self::input_stream_options):
    ///
    /// * `None`: when `count` bytes are loaded or the stream ends (fewer then);
    /// * `Partial`: as soon as at least one byte is loaded; 0 means end of stream;
    /// * `ReadAhead`: as `None`, but may load more than `count`.
    ///
    /// A load that would hold more than
    /// [`max_buffer_length`](Self::max_buffer_length) unconsumed bytes is refused
    /// before reading ([`Error::LimitExceeded`]).
    ///
    /// # Cancel safety
    ///
    /// No byte is lost: what was read before the cancellation stays loaded (see
    /// [`unconsumed_buffer_length`](Self::unconsumed_buffer_length)); only the count
    /// is not returned.
    pub async fn load(&mut self, count: u32) -> Result<u32> {
        self.load_as(count, self.options).await
    }

    /// [`load`](Self::load) with the given options.
    async fn load_as(&mut self, count: u32, options: InputStreamOptions) -> Result<u32> {
        let count = count as usize;
        if self.buf.len().saturating_add(count) > self.max_buffer {
            return Err(Error::LimitExceeded {
                limit: "max_buffer_length",
                actual: (self.buf.len() + count) as u64,
                max: self.max_buffer as u64,
            });
        }
        let mut loaded = 0;
        while loaded < count {
            let want = count - loaded;
            let n = if options == InputStreamOptions::ReadAhead {
                let room = self.max_buffer - self.buf.len();
                let ask = want.max(READ_AHEAD).min(room);
                self.buf.reserve(ask);
                (&mut self.stream)
                    .take(ask as u64)
                    .read_buf(&mut self.buf)
                    .await?
            } else {
                self.buf.reserve(want.min(LOAD_CHUNK));
                (&mut self.stream)
                    .take(want as u64)
                    .read_buf(&mut self.buf)
                    .await?
            };
            if n == 0 {
                break;
            }
            loaded += n;
            if options == InputStreamOptions::Partial {
                break;
            }
        }
        Ok(u32::try_from(loaded).unwrap_or(u32::MAX))
    }

    /// Loads exactly `count` more bytes, as tokio's `read_exact` reads: a
    /// stream that ends first is an error rather than a short count.
    ///
    /// The same as [`load`](Self::load) with [`InputStreamOptions::None`],
    /// whatever [`input_stream_options`](Self::input_stream_options) says,
    /// then a check of the count.
    ///
    /// # Errors
    ///
    /// [`Error::UnexpectedEof`] (its `io::ErrorKind` is `UnexpectedEof`) when
    /// the stream ends before `count` bytes arrive; the bytes that did
    /// arrive stay loaded. [`Error::LimitExceeded`] and I/O errors as
    /// [`load`](Self::load).
    ///
    /// # Cancel safety
    ///
    /// As [`load`](Self::load): what was read before the cancellation stays
    /// loaded.
    pub async fn load_exact(&mut self, count: u32) -> Result<()> {
        let loaded = self.load_as(count, InputStreamOptions::None).await?;
        if loaded < count {
            return Err(Error::UnexpectedEof {
                context: format!(
                    "in load_exact: {loaded} of {count} bytes arrived before the stream ended"
                ),
            });
        }
        Ok(())
    }
}

/// Decodes UTF-16 code units; on failure, the index of the first bad unit.
fn decode_utf16(bytes: &[u8], little: bool) -> Result<String, usize> {
    let units = bytes.chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut text = String::with_capacity(bytes.len());
    let mut unit = 0;
    for c in char::decode_utf16(units) {
        let c = c.map_err(|_| unit)?;
        unit += c.len_utf16();
        text.push(c);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataWriter;
    use sock_test::io::{block_on, Trickle};

    #[test]
    fn load_exact_loads_everything_across_short_reads_even_when_partial() {
        block_on(async {
            let mut r = DataReader::new(Trickle::new(b"abcdef"));
            // Partial would stop after one byte; load_exact does not.
            r.set_input_stream_options(InputStreamOptions::Partial);
            r.load_exact(4).await.unwrap();
            assert_eq!(r.unconsumed_buffer_length(), 4);
            assert_eq!(r.read_buffer(4).unwrap(), &b"abcd"[..]);
            assert_eq!(r.input_stream_options(), InputStreamOptions::Partial);
        });
    }

    #[test]
    fn load_exact_on_a_short_stream_is_unexpected_eof_and_keeps_what_came() {
        block_on(async {
            let mut r = DataReader::new(Trickle::new(b"abc"));
            let err = r.load_exact(5).await.unwrap_err();
            assert!(matches!(err, Error::UnexpectedEof { .. }), "{err}");
            assert_eq!(
                err.to_string(),
                "unexpected end of stream in load_exact: 3 of 5 bytes arrived before the stream ended"
            );
            assert_eq!(
                std::io::Error::from(err).kind(),
                std::io::ErrorKind::UnexpectedEof
            );
            assert_eq!(r.unconsumed_buffer_length(), 3);
            // `load` on the same stream reports the short count instead.
            let mut r = DataReader::new(Trickle::new(b"abc"));
            assert_eq!(r.load(5).await.unwrap(), 3);
        });
    }

    #[test]
    fn reading_more_than_is_loaded_is_an_error_that_consumes_nothing() {
        let mut r = DataReader::from_buffer(Bytes::from_static(&[1, 2]));
        let err = r.read_u32().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected end of stream in the loaded data: read_u32 needs 4 bytes, 2 loaded \
             (load more first)"
        );
        assert_eq!(r.unconsumed_buffer_length(), 2);
        assert_eq!(r.read_u16().unwrap(), 0x0102);
        assert!(r.read_u8().is_err());
        assert!(r.read_string(1).is_err());
        assert!(r.read_buffer(1).is_err());
        assert!(r.read_bytes(&mut [0]).is_err());
    }

    #[test]
    fn reads_follow_the_byte_order_and_mirror_the_writer() {
        let mut w = DataWriter::new_buffer();
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            w.set_byte_order(order);
            w.write_u8(1);
            w.write_i8(-2);
            w.write_bool(true);
            w.write_u16(3);
            w.write_i16(-4);
            w.write_u32(5);
            w.write_i32(-6);
            w.write_u64(7);
            w.write_i64(-8);
            w.write_f32(9.5);
            w.write_f64(-10.25);
            w.write_bytes(b"xy");
        }
        let mut r = DataReader::from_buffer(w.detach_buffer());
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            r.set_byte_order(order);
            assert_eq!(r.read_u8().unwrap(), 1);
            assert_eq!(r.read_i8().unwrap(), -2);
            assert!(r.read_bool().unwrap());
            assert_eq!(r.read_u16().unwrap(), 3);
            assert_eq!(r.read_i16().unwrap(), -4);
            assert_eq!(r.read_u32().unwrap(), 5);
            assert_eq!(r.read_i32().unwrap(), -6);
            assert_eq!(r.read_u64().unwrap(), 7);
            assert_eq!(r.read_i64().unwrap(), -8);
            assert_eq!(r.read_f32().unwrap(), 9.5);
            assert_eq!(r.read_f64().unwrap(), -10.25);
            let mut two = [0; 2];
            r.read_bytes(&mut two).unwrap();
            assert_eq!(&two, b"xy");
        }
        assert_eq!(r.unconsumed_buffer_length(), 0);
    }

    #[test]
    fn read_string_counts_code_units_of_the_encoding() {
        for encoding in [
            UnicodeEncoding::Utf8,
            UnicodeEncoding::Utf16LE,
            UnicodeEncoding::Utf16BE,
        ] {
            let mut w = DataWriter::new_buffer();
            w.set_unicode_encoding(encoding);
            let bytes = w.write_string("añ😀");
            let mut r = DataReader::from_buffer(w.detach_buffer());
            r.set_unicode_encoding(encoding);
            let units = bytes / encoding.code_unit_len() as u32;
            assert_eq!(r.read_string(units).unwrap(), "añ😀", "{encoding:?}");
        }
    }

    #[test]
    fn read_string_names_the_position_of_invalid_utf8() {
        let mut r = DataReader::from_buffer(Bytes::from_static(b"ok\x00ab\xffc"));
        r.read_buffer(3).unwrap();
        let err = r.read_string(4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid data: string is not valid utf-8 at byte 2 (stream offset 5)"
        );
        assert_eq!(r.unconsumed_buffer_length(), 4, "nothing consumed");
        // A code-unit count that cuts a character in two is invalid too.
        let mut r = DataReader::from_buffer(Bytes::from("é"));
        assert!(r.read_string(1).is_err());
    }

    #[test]
    fn read_string_names_the_position_of_invalid_utf16() {
        // "a", then a lone high surrogate, then "b" (UTF-16LE).
        let mut r = DataReader::from_buffer(Bytes::from_static(&[b'a', 0, 0x3d, 0xd8, b'b', 0]));
        r.set_unicode_encoding(UnicodeEncoding::Utf16LE);
        let err = r.read_string(3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid data: string is not valid utf-16 at code unit 1 (stream offset 2)"
        );
        assert_eq!(r.unconsumed_buffer_length(), 6);
    }

    #[test]
    fn load_none_waits_for_every_byte_asked() {
        block_on(async {
            let mut r = DataReader::new(Trickle::new(b"abcdefgh"));
            assert_eq!(r.load(5).await.unwrap(), 5);
            assert_eq!(r.unconsumed_buffer_length(), 5, "never reads past n");
            assert_eq!(r.read_string(5).unwrap(), "abcde");
            // The stream ends before 5 more: fewer are loaded.
            assert_eq!(r.load(5).await.unwrap(), 3);
            assert_eq!(r.load(5).await.unwrap(), 0);
            assert_eq!(r.read_string(3).unwrap(), "fgh");
        });
    }

    #[test]
    fn load_partial_completes_with_the_first_bytes_and_zero_at_end() {
        block_on(async {
            let mut r = DataReader::new(Trickle::chunked(b"abcdef", &[2, 4]));
            r.set_input_stream_options(InputStreamOptions::Partial);
            assert_eq!(r.load(100).await.unwrap(), 2);
            assert_eq!(r.load(3).await.unwrap(), 3, "at most n");
            assert_eq!(r.load(100).await.unwrap(), 1);
            assert_eq!(r.load(100).await.unwrap(), 0);
            assert_eq!(r.read_string(6).unwrap(), "abcdef");
        });
    }

    #[test]
    fn load_read_ahead_may_load_more_than_asked() {
        block_on(async {
            let mut r = DataReader::new(Trickle::chunked(b"abcdefgh", &[8]));
            r.set_input_stream_options(InputStreamOptions::ReadAhead);
            assert_eq!(r.load(2).await.unwrap(), 8);
            assert_eq!(r.unconsumed_buffer_length(), 8);
        });
    }

    #[test]
    fn load_refuses_to_buffer_past_the_limit() {
        block_on(async {
            let mut r = DataReader::new(Trickle::new(b"abcdef"));
            r.set_max_buffer_length(4);
            assert_eq!(r.load(3).await.unwrap(), 3);
            let err = r.load(2).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::LimitExceeded {
                        limit: "max_buffer_length",
                        actual: 5,
                        max: 4
                    }
                ),
                "{err:?}"
            );
            assert_eq!(r.unconsumed_buffer_length(), 3);
            // A huge announced length does not allocate it.
            r.set_max_buffer_length(usize::MAX);
            r.set_input_stream_options(InputStreamOptions::Partial);
            assert_eq!(r.load(u32::MAX).await.unwrap(), 1);
        });
    }

    #[test]
    fn into_parts_keeps_unconsumed_bytes() {
        let mut r = DataReader::from_buffer(Bytes::from_static(b"abc"));
        r.read_u8().unwrap();
        let (_, rest) = r.into_parts();
        assert_eq!(&rest[..], b"bc");
    }
}
