//! Framing and typed I/O for sock: length-prefixed and line codecs,
//! `DataReader` and `DataWriter`.
//!
//! * [`LengthPrefixedCodec`]: a length (1, 2, 4 or 8 bytes, either byte order;
//!   4-byte big-endian by default), then the payload, with separate limits for
//!   what is read and what is written, checked before any buffer grows.
//! * [`Framed`]: any codec on a byte stream, a `Stream` of frames and a `Sink`
//!   (what `StreamSocket::framed` returns), as tokio-util's `Framed` but
//!   holding no buffer while the connection waits, and reading in chunks that
//!   grow while the peer sends faster than the program reads.
//! * [`FrameWriter`] (a `Sink` of `Bytes` that writes large payloads without
//!   copying them, with vectored writes) and [`FrameReader`] (a `Stream` of frames
//!   that reads in large chunks): the same frames, faster than tokio-util's
//!   `Framed` with `LengthDelimitedCodec`.
//! * [`LineCodec`] (UTF-8 `String`s) and [`BytesLineCodec`] (raw `Bytes`): lines
//!   ending in `\n`, `\r\n` accepted, with a maximum length checked as bytes arrive.
//! * [`DataWriter`] and [`DataReader`]: UWP's typed writer and reader, so code that
//!   uses `Windows.Storage.Streams.DataWriter`/`DataReader` ports nearly line for
//!   line (`store`, `load`, [`InputStreamOptions`], [`ByteOrder`], [`UnicodeEncoding`]).
//!
//! The codecs are `tokio_util::codec` [`Decoder`](tokio_util::codec::Decoder)s and
//! [`Encoder`](tokio_util::codec::Encoder)s, so they frame any `AsyncRead`/`AsyncWrite`
//! through [`Framed`] (or tokio-util's `Framed`), `FramedRead` and `FramedWrite`,
//! and any other tokio-util codec can take their place. Every error is a
//! [`sock_core::Error`], which knows its UWP `SocketErrorStatus`; a limit
//! crossed is [`Error::LimitExceeded`] naming the
//! setter of that limit.
//!
//! # Examples
//!
//! The C++ echo sample of UWP's sockets guide sends `WriteUInt32(MeasureString(s))` then
//! `WriteString(s)`; that is a default `LengthPrefixedCodec` frame:
//!
//! ```
//! use futures::StreamExt;
//! use sock_codec::{DataWriter, LengthPrefixedCodec};
//! use tokio_util::codec::FramedRead;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sock_codec::Error> {
//! let (client, server) = tokio::io::duplex(1024);
//!
//! let mut writer = DataWriter::new(client);
//! let text = "grüße";
//! writer.write_u32(writer.measure_string(text)); // bytes, not UTF-16 units
//! writer.write_string(text);
//! writer.store().await?;
//!
//! let mut frames = FramedRead::new(server, LengthPrefixedCodec::new());
//! let frame = frames.next().await.transpose()?.expect("a frame");
//! assert_eq!(&frame[..], text.as_bytes());
//! # Ok(())
//! # }
//! ```
//!
//! # Cancel safety
//!
//! The codecs hold their state between calls, so `Framed` streams and sinks
//! built on them are as cancel safe as tokio-util's: a cancelled `next()` loses
//! no bytes, and so does [`FrameReader`].
//! [`DataReader::load`] keeps whatever it read before a cancellation, and
//! [`DataWriter::store`] removes from its buffer exactly what the stream took, so
//! no byte is lost or sent twice.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

mod data_reader;
mod data_writer;
mod frame_io;
mod framed;
mod length_prefixed;
mod line;
mod memory_budget;
mod read_size;

pub use data_reader::{DataReader, InputStreamOptions, DEFAULT_MAX_BUFFER_LENGTH};
pub use data_writer::{DataWriter, Guid, NoStream, TimeSpan};
pub use frame_io::{
    FrameReader, FrameWriter, DEFAULT_BACKPRESSURE_BOUNDARY, DEFAULT_COPY_THRESHOLD,
    DEFAULT_HIGH_WATERMARK, DEFAULT_LOW_WATERMARK,
};
pub use framed::{Framed, FramedParts};
pub use length_prefixed::{
    LengthPrefixedBuilder, LengthPrefixedCodec, DEFAULT_FRAME_TIMEOUT, DEFAULT_MAX_FRAME_LENGTH,
};
pub use line::{BytesLineCodec, LineCodec, DEFAULT_LINE_TIMEOUT, DEFAULT_MAX_LINE_LENGTH};
pub use memory_budget::{
    FrameMemoryBudget, FrameMemoryCharge, DEFAULT_FRAME_MEMORY_BUDGET, FRAME_MEMORY_ALLOWANCE,
};
pub use read_size::{ReadSize, DEFAULT_READ_BUFFER};
pub use sock_core::{ByteOrder, Error, Result, UnicodeEncoding};
