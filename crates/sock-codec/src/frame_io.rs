//! [`FrameWriter`] and [`FrameReader`]: length-prefixed frames written without
//! copying large payloads, and read with few reads.
//!
//! tokio-util's `FramedWrite` encodes every frame into one contiguous buffer, so a
//! 1 MiB payload is copied before it is written (tokio#4122). `FrameWriter` copies
//! only small frames (into one buffer, so a batch still goes out in one write) and
//! sends each large payload as it is, after its header, with vectored writes.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_core::Stream;
use futures_sink::Sink;
use pin_project_lite::pin_project;
use sock_core::{Error, Result};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep};
use tokio_util::codec::Decoder;

use crate::length_prefixed::Settings;
use crate::read_size::{ReadSize, INITIAL_READ};
use crate::{LengthPrefixedBuilder, LengthPrefixedCodec};

/// Payloads at least this long are written from the caller's `Bytes`, not copied.
pub const DEFAULT_COPY_THRESHOLD: usize = 4 * 1024;
/// The default high watermark of a [`FrameWriter`]: 64 KiB. Once this much
/// waits to be written, the writer is not writable (`poll_ready` writes until
/// the low watermark).
pub const DEFAULT_HIGH_WATERMARK: usize = 64 * 1024;
/// The default low watermark of a [`FrameWriter`]: 32 KiB. A writer that went
/// over the high watermark is writable again once less than this waits.
pub const DEFAULT_LOW_WATERMARK: usize = 32 * 1024;
/// The high watermark, under its earlier name.
pub const DEFAULT_BACKPRESSURE_BOUNDARY: usize = DEFAULT_HIGH_WATERMARK;
/// The limit named when a frame takes too long to arrive
/// ([`FrameReader::set_frame_timeout`]).
const FRAME_TIMEOUT_LIMIT: &str = "reading a frame (frame_timeout)";

/// The write buffer's size between bursts.
const INITIAL_WRITE: usize = 8 * 1024;

/// The most slices handed to one vectored write (Linux's `UIO_MAXIOV` is 1024).
const MAX_SLICES: usize = 64;

// ===== FrameWriter =====

pin_project! {
    /// Writes length-prefixed frames to an [`AsyncWrite`]: a [`Sink`] of [`Bytes`],
    /// with the wire format and encode limit of a [`LengthPrefixedCodec`].
    ///
    /// * Small payloads are copied after their header into one buffer, so frames
    ///   sent with `feed` and then one `flush` go out in one write.
    /// * Large payloads (4 KiB or more) are **not copied**: the header goes into the
    ///   buffer and the payload is written from the caller's `Bytes`, with vectored
    ///   writes (`writev`) when the stream supports them.
    /// * Backpressure follows two watermarks, as Netty's `WriteBufferWaterMark`:
    ///   once the bytes waiting reach the high watermark (64 KiB by default) the
    ///   writer is not [writable](Self::is_writable), and `poll_ready` (so
    ///   `send`/`feed`) writes until less than the low watermark (32 KiB)
    ///   waits. A producer that does not go through the `Sink` can ask
    ///   [`is_writable`](Self::is_writable) and await
    ///   [`writable`](Self::writable). Memory held for a slow peer is bounded
    ///   by the high watermark plus one frame.
    /// * `flush` resolves only when every frame fed before it is written and
    ///   the stream is flushed.
    ///
    /// A payload over the codec's
    /// [`max_encode_frame_length`](LengthPrefixedBuilder::max_encode_frame_length),
    /// or too long for its prefix width, is refused by `start_send` with
    /// [`Error::LimitExceeded`], and nothing of it is written.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures::{SinkExt, StreamExt};
    /// use sock_codec::{FrameReader, FrameWriter};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sock_core::Error> {
    /// let (a, b) = tokio::io::duplex(1 << 16);
    /// let mut writer = FrameWriter::new(a);
    /// let big = Bytes::from(vec![7u8; 100_000]);
    /// let reader = tokio::spawn(async move {
    ///     FrameReader::new(b).map(|f| f.map(|f| f.len())).collect::<Vec<_>>().await
    /// });
    ///
    /// for _ in 0..3 {
    ///     writer.feed(Bytes::from_static(b"small")).await?;
    /// }
    /// writer.feed(big.clone()).await?; // written from `big` itself, not copied
    /// writer.close().await?;
    ///
    /// let lens: Result<Vec<usize>, _> = reader.await.unwrap().into_iter().collect();
    /// assert_eq!(lens?, [5, 5, 5, 100_000]);
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Debug)]
    pub struct FrameWriter<W> {
        #[pin]
        inner: W,
        settings: Settings,
        // Copied frames and the headers of large ones, in wire order.
        buf: BytesMut,
        // Large payloads, each with the number of `buf` bytes that go before it.
        large: VecDeque<(usize, Bytes)>,
        // Bytes of large payloads not yet written.
        large_pending: usize,
        copy_threshold: usize,
        high_watermark: usize,
        low_watermark: usize,
        // Over the high watermark, and not yet back under the low one.
        throttled: bool,
    }
}

impl<W: AsyncWrite> FrameWriter<W> {
    /// A writer with the default wire format (4-byte big-endian length, frames of
    /// at most 8 MiB).
    pub fn new(inner: W) -> Self {
        Self::with_codec(inner, &LengthPrefixedCodec::new())
    }

    /// A writer with the prefix width, byte order and encode limit of `codec`.
    pub fn with_codec(inner: W, codec: &LengthPrefixedCodec) -> Self {
        Self {
            inner,
            settings: *codec.settings(),
            buf: BytesMut::with_capacity(INITIAL_WRITE),
            large: VecDeque::new(),
            large_pending: 0,
            copy_threshold: DEFAULT_COPY_THRESHOLD,
            high_watermark: DEFAULT_HIGH_WATERMARK,
            low_watermark: DEFAULT_LOW_WATERMARK,
            throttled: false,
        }
    }

    /// Sets the watermarks: the writer stops being writable when `high`
    /// bytes wait, and is writable again below `low` (defaults
    /// [`DEFAULT_HIGH_WATERMARK`] and [`DEFAULT_LOW_WATERMARK`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (naming `watermarks`) when `low` is above
    /// `high`; the watermarks in force do not change.
    pub fn set_watermarks(&mut self, low: usize, high: usize) -> Result<()> {
        if low > high {
            return Err(Error::invalid_argument(
                "watermarks",
                format!("the low watermark ({low} bytes) is above the high one ({high} bytes)"),
            ));
        }
        self.high_watermark = high;
        self.low_watermark = low;
        Ok(())
    }

    /// Sets the high watermark to `bytes` and the low one to half of it.
    pub fn set_backpressure_boundary(&mut self, bytes: usize) {
        self.high_watermark = bytes;
        self.low_watermark = bytes / 2;
    }

    /// Whether more frames may be fed without going over the high watermark
    /// (UWP has no such call; it is Netty's `Channel.isWritable`). Once the
    /// high watermark is reached it stays `false` until less than the low
    /// watermark waits.
    pub fn is_writable(&self) -> bool {
        !self.throttled && self.pending_len() < self.high_watermark
    }

    /// Writes until the writer is [writable](Self::is_writable) again: at
    /// once if it is.
    ///
    /// # Errors
    ///
    /// The stream's write error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: frames not yet written stay queued, in order.
    pub fn writable(&mut self) -> impl Future<Output = Result<()>> + '_
    where
        W: Unpin,
    {
        std::future::poll_fn(move |cx| Pin::new(&mut *self).poll_writable(cx))
    }

    /// Writes down to the low watermark when the high one was reached.
    fn poll_writable(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if self.pending_len() >= self.high_watermark {
            *self.as_mut().project().throttled = true;
        }
        if self.throttled {
            let low = self.low_watermark;
            ready!(self.as_mut().poll_write_out(cx, low))?;
            *self.project().throttled = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Bytes of frames accepted and not yet written.
    pub fn pending_len(&self) -> usize {
        self.buf.len() + self.large_pending
    }

    /// The stream.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The stream, mutably. Writing to it directly can interleave with pending
    /// frames: flush first.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Gives the stream back; frames not yet written are dropped (flush first).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Queues one frame; the caller has checked readiness.
    #[inline]
    fn queue(self: Pin<&mut Self>, payload: Bytes) -> Result<()> {
        let this = self.project();
        let len = payload.len();
        this.settings.check_encode(len)?;
        if len < *this.copy_threshold {
            this.buf.reserve(this.settings.width + len);
            this.settings.put_header(len, this.buf);
            this.buf.put_slice(&payload);
            return Ok(());
        }
        queue_large(
            this.settings,
            this.buf,
            this.large,
            this.large_pending,
            payload,
        );
        Ok(())
    }

    /// Writes until fewer than `until` bytes are pending (0: all of them).
    fn poll_write_out(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        until: usize,
    ) -> Poll<io::Result<()>> {
        let mut this = self.project();
        loop {
            if until > 0 && this.buf.len() + *this.large_pending < until {
                return Poll::Ready(Ok(()));
            }
            let written = if this.large.is_empty() {
                // Only copied frames: one contiguous write.
                if this.buf.is_empty() {
                    break;
                }
                ready!(this.inner.as_mut().poll_write(cx, this.buf))?
            } else if !this.inner.is_write_vectored() {
                let (before, payload) = &this.large[0];
                let chunk = if *before > 0 {
                    &this.buf[..*before]
                } else {
                    &payload[..]
                };
                ready!(this.inner.as_mut().poll_write(cx, chunk))?
            } else {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let mut count = 0;
                let mut at = 0;
                for (before, payload) in this.large.iter() {
                    if count + 2 > MAX_SLICES {
                        break;
                    }
                    if *before > at {
                        slices[count] = IoSlice::new(&this.buf[at..*before]);
                        count += 1;
                        at = *before;
                    }
                    slices[count] = IoSlice::new(payload);
                    count += 1;
                }
                if count < MAX_SLICES && at < this.buf.len() {
                    slices[count] = IoSlice::new(&this.buf[at..]);
                    count += 1;
                }
                ready!(this
                    .inner
                    .as_mut()
                    .poll_write_vectored(cx, &slices[..count]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "failed to write frames: the stream accepted 0 bytes",
                )));
            }
            // Consume `written` bytes in wire order.
            let mut left = written;
            while left > 0 {
                let Some((before, payload)) = this.large.front_mut() else {
                    this.buf.advance(left);
                    break;
                };
                if *before > 0 {
                    let now = left.min(*before);
                    this.buf.advance(now);
                    left -= now;
                    for (b, _) in this.large.iter_mut() {
                        *b -= now;
                    }
                    continue;
                }
                let now = left.min(payload.len());
                payload.advance(now);
                *this.large_pending -= now;
                left -= now;
                if payload.is_empty() {
                    this.large.pop_front();
                }
            }
        }
        // Everything is out: start the buffer afresh so it never grows.
        this.buf.clear();
        Poll::Ready(Ok(()))
    }
}

/// Queues a large payload after its header, without copying it.
#[inline(never)]
fn queue_large(
    settings: &Settings,
    buf: &mut BytesMut,
    large: &mut VecDeque<(usize, Bytes)>,
    large_pending: &mut usize,
    payload: Bytes,
) {
    settings.put_header(payload.len(), buf);
    *large_pending += payload.len();
    large.push_back((buf.len(), payload));
}

impl<W: AsyncWrite> Sink<Bytes> for FrameWriter<W> {
    type Error = Error;

    #[inline]
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if !self.throttled && self.buf.len() + self.large_pending < self.high_watermark {
            return Poll::Ready(Ok(()));
        }
        self.poll_writable(cx)
    }

    #[inline]
    fn start_send(self: Pin<&mut Self>, item: Bytes) -> Result<()> {
        self.queue(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let grown = self.buf.len() > INITIAL_WRITE;
        ready!(self.as_mut().poll_write_out(cx, 0))?;
        *self.as_mut().project().throttled = false;
        if grown {
            // A burst grew the buffer; once it is out, do not keep it.
            *self.as_mut().project().buf = BytesMut::with_capacity(INITIAL_WRITE);
        }
        ready!(self.project().inner.poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        ready!(self.as_mut().poll_write_out(cx, 0))?;
        ready!(self.project().inner.poll_shutdown(cx))?;
        Poll::Ready(Ok(()))
    }
}

// ===== FrameReader =====

pin_project! {
    /// Reads length-prefixed frames from an [`AsyncRead`]: a [`Stream`] of
    /// `Result<Bytes>`, decoded by a [`LengthPrefixedCodec`] (its limits, skip mode
    /// and errors).
    ///
    /// Compared with tokio-util's `FramedRead` (8 KiB reads) it reads in chunks that
    /// grow while reads come back full (from 8 KiB up to 256 KiB by default), so
    /// frames that queue up at the socket come in with fewer reads,
    /// and a large frame is read straight into a buffer of its size and handed
    /// out without a copy. Frames of up to 256 bytes are copied into their own
    /// allocation, so one that the caller keeps does not pin a read buffer.
    ///
    /// A peer that starts a frame and then sends its bytes slowly, or stops,
    /// holds the reader only as long as
    /// [`set_frame_timeout`](FrameReader::set_frame_timeout) allows (no limit by
    /// default); the wait between frames is not bounded here.
    ///
    /// The stream ends after the first error.
    #[derive(Debug)]
    pub struct FrameReader<R> {
        #[pin]
        inner: R,
        codec: LengthPrefixedCodec,
        buf: BytesMut,
        // What the next read asks for.
        read: ReadSize,
        eof: bool,
        done: bool,
        frame_timeout: Option<Duration>,
        // The current frame's deadline, armed when the reader first waits
        // inside a frame; the timer is kept and reset for later frames.
        deadline: Option<Pin<Box<Sleep>>>,
        armed: bool,
    }
}

impl<R: AsyncRead> FrameReader<R> {
    /// A reader with the default wire format and limits.
    pub fn new(inner: R) -> Self {
        Self::with_codec(inner, LengthPrefixedCodec::new())
    }

    /// A reader that decodes with `codec`.
    pub fn with_codec(inner: R, codec: LengthPrefixedCodec) -> Self {
        Self {
            inner,
            codec,
            buf: BytesMut::new(),
            read: ReadSize::new(),
            eof: false,
            done: false,
            frame_timeout: None,
            deadline: None,
            armed: false,
        }
    }

    /// Bounds how long one frame may take to arrive once it has begun: when
    /// the reader has part of a frame and the rest has not come within
    /// `timeout` of the reader first waiting for it, the stream yields
    /// [`Error::TimedOut`] (operation `"reading a frame (frame_timeout)"`,
    /// status `ConnectionTimedOut`) and ends. This stops a peer from holding a
    /// connection by sending a frame one byte at a time, which a timeout on
    /// each read does not. `None` (the default) sets no bound; the time between
    /// frames is never bounded here.
    ///
    /// # Panics
    ///
    /// Polling with a timeout set panics outside a tokio runtime with its time
    /// driver enabled, as tokio's timers do.
    pub fn set_frame_timeout(&mut self, timeout: Option<Duration>) {
        self.frame_timeout = timeout;
        self.armed = false;
    }

    /// The bound set by [`set_frame_timeout`](Self::set_frame_timeout).
    pub fn frame_timeout(&self) -> Option<Duration> {
        self.frame_timeout
    }

    /// Sets the most room one read asks for (256 KiB by default). Reads start
    /// at 8 KiB (or this, if smaller) and double while they come back full, so a
    /// busy connection needs few reads. A reader that finds nothing to read
    /// and nothing buffered gives its buffer back (an idle connection holds
    /// none) but remembers the size its reads reached.
    pub fn set_read_buffer_size(&mut self, bytes: usize) {
        self.read.set_max(bytes);
    }

    /// The codec (e.g. for [`LengthPrefixedCodec::skipped_frames`]).
    pub fn codec(&self) -> &LengthPrefixedCodec {
        &self.codec
    }

    /// Bytes read from the stream and not yet returned as frames.
    pub fn read_buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The stream.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The stream, mutably. Reading from it directly skips buffered bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives the stream back; buffered bytes are dropped (see
    /// [`into_parts`](Self::into_parts)).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The stream and the bytes read but not yet decoded (e.g. to switch protocol
    /// without losing them).
    pub fn into_parts(self) -> (R, Bytes) {
        (self.inner, self.buf.freeze())
    }
}

impl<R: AsyncRead> Stream for FrameReader<R> {
    type Item = Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let mut this = self.project();
        // The common case: a whole frame is buffered.
        if !*this.done {
            if let Some(frame) = this.codec.whole_frame(this.buf) {
                *this.armed = false;
                return Poll::Ready(Some(Ok(frame)));
            }
        }
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            let decoded = if *this.eof {
                this.codec.decode_eof(this.buf)
            } else {
                this.codec.decode(this.buf)
            };
            match decoded {
                Ok(Some(frame)) => {
                    *this.armed = false;
                    return Poll::Ready(Some(Ok(frame)));
                }
                Ok(None) if *this.eof => {
                    *this.done = true;
                    return Poll::Ready(None);
                }
                Ok(None) => {}
                Err(e) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            let read = this.read.poll_read(this.inner.as_mut(), cx, this.buf);
            let Poll::Ready(read) = read else {
                // Idle with nothing buffered: give a grown buffer back, so an
                // idle connection costs little however busy it was. The read
                // size learned stays: a connection that was busy takes its next
                // burst in as few reads as its last one.
                if this.buf.is_empty() && this.buf.capacity() > INITIAL_READ {
                    *this.buf = BytesMut::new();
                }
                if let Some(timeout) = *this.frame_timeout {
                    if !this.buf.is_empty() || this.codec.in_frame() {
                        if frame_overdue(this.deadline, this.armed, timeout, cx) {
                            *this.done = true;
                            return Poll::Ready(Some(Err(Error::TimedOut {
                                operation: FRAME_TIMEOUT_LIMIT,
                                after: timeout,
                            })));
                        }
                    } else {
                        *this.armed = false;
                    }
                }
                return Poll::Pending;
            };
            match read {
                Ok(0) => *this.eof = true,
                Ok(_) => {}
                Err(e) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
    }
}

/// Arms the frame deadline if it is not armed yet, then polls it: whether
/// the frame is overdue. Polling registers the task to wake at the deadline.
#[cold]
fn frame_overdue(
    deadline: &mut Option<Pin<Box<Sleep>>>,
    armed: &mut bool,
    timeout: Duration,
    cx: &mut Context<'_>,
) -> bool {
    let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
    if !*armed {
        sleep.as_mut().reset(Instant::now() + timeout);
        *armed = true;
    }
    sleep.as_mut().poll(cx).is_ready()
}

// ===== builder finishers =====

impl LengthPrefixedBuilder {
    /// A [`FrameWriter`] over `io` with these settings.
    pub fn new_frame_writer<W: AsyncWrite>(&self, io: W) -> FrameWriter<W> {
        FrameWriter::with_codec(io, &self.new_codec())
    }

    /// A [`FrameReader`] over `io` with these settings.
    pub fn new_frame_reader<R: AsyncRead>(&self, io: R) -> FrameReader<R> {
        FrameReader::with_codec(io, self.new_codec())
    }
}

#[cfg(test)]
mod tests {
    use futures::{SinkExt, StreamExt};

    use super::*;
    use sock_test::io::{block_on, Trickle, TrickleWriter};

    fn wire_of(frames: &[Bytes]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames {
            out.extend_from_slice(&(f.len() as u32).to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    fn mixed_frames() -> Vec<Bytes> {
        vec![
            Bytes::from_static(b"a"),
            Bytes::from(vec![1u8; 10_000]),
            Bytes::new(),
            Bytes::from(vec![2u8; DEFAULT_COPY_THRESHOLD]),
            Bytes::from(vec![3u8; DEFAULT_COPY_THRESHOLD - 1]),
            Bytes::from_static(b"tail"),
        ]
    }

    #[test]
    fn frame_writer_writes_the_codec_wire_format_over_a_trickling_stream() {
        for vectored in [false, true] {
            let frames = mixed_frames();
            let out = block_on(async {
                let mut stream = TrickleWriter::new(777);
                stream.vectored = vectored;
                let mut w = FrameWriter::new(stream);
                for f in &frames {
                    w.feed(f.clone()).await.unwrap();
                }
                w.flush().await.unwrap();
                assert_eq!(w.pending_len(), 0);
                w.into_inner().into_bytes()
            });
            assert_eq!(out, wire_of(&frames), "vectored: {vectored}");
        }
    }

    #[test]
    fn frame_writer_sends_a_fed_batch_of_small_frames_in_one_write() {
        block_on(async {
            let mut w = FrameWriter::new(TrickleWriter::new(usize::MAX));
            for _ in 0..64 {
                w.feed(Bytes::from_static(&[0; 64])).await.unwrap();
            }
            assert_eq!(w.get_ref().writes, 0, "nothing is written before flush");
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().writes, 1);
            assert_eq!(w.get_ref().flushes, 1);
            assert_eq!(w.get_ref().bytes().len(), 64 * 68);
        });
    }

    #[test]
    fn frame_writer_writes_a_large_payload_with_its_header_in_one_vectored_write() {
        block_on(async {
            let mut stream = TrickleWriter::new(usize::MAX);
            stream.vectored = true;
            let mut w = FrameWriter::new(stream);
            let big = Bytes::from(vec![9u8; 1 << 20]);
            w.feed(Bytes::from_static(b"hi")).await.unwrap();
            w.feed(big.clone()).await.unwrap();
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().writes, 1);
            assert_eq!(w.get_ref().bytes(), &wire_of(&[Bytes::from("hi"), big])[..]);
        });
    }

    #[test]
    fn frame_writer_refuses_a_payload_over_the_encode_limit_and_writes_none_of_it() {
        block_on(async {
            let codec = LengthPrefixedCodec::builder()
                .max_encode_frame_length(3)
                .new_codec();
            let mut w = FrameWriter::with_codec(TrickleWriter::new(100), &codec);
            let err = w.send(Bytes::from_static(b"four")).await.unwrap_err();
            assert!(matches!(
                err,
                Error::LimitExceeded {
                    limit: "max_encode_frame_length",
                    ..
                }
            ));
            w.send(Bytes::from_static(b"ok")).await.unwrap();
            assert_eq!(w.get_ref().bytes(), b"\0\0\0\x02ok");
        });
    }

    #[test]
    fn frame_writer_applies_backpressure_at_the_boundary() {
        block_on(async {
            let mut w = FrameWriter::new(TrickleWriter::new(usize::MAX));
            w.set_backpressure_boundary(100);
            for _ in 0..10 {
                w.feed(Bytes::from_static(&[0; 60])).await.unwrap();
                assert!(w.pending_len() < 100 + 64);
            }
            assert!(w.get_ref().writes >= 4);
        });
    }

    #[test]
    fn frame_reader_reads_frames_trickled_one_byte_at_a_time() {
        let frames = mixed_frames();
        let got: Vec<Bytes> = block_on(
            FrameReader::new(Trickle::new(&wire_of(&frames)))
                .map(|f| f.unwrap())
                .collect(),
        );
        assert_eq!(got, frames);
    }

    #[test]
    fn frame_reader_reports_truncation_then_ends() {
        let mut wire = wire_of(&[Bytes::from_static(b"ok")]);
        wire.extend_from_slice(&[0, 0, 0, 9, b'x']);
        block_on(async {
            let mut r = FrameReader::new(Trickle::chunked(&wire, &[3, 5]));
            assert_eq!(r.next().await.unwrap().unwrap(), Bytes::from("ok"));
            let err = r.next().await.unwrap().unwrap_err();
            assert_eq!(
                err.to_string(),
                "unexpected end of stream in a frame: 8 of 9 payload bytes missing"
            );
            assert!(r.next().await.is_none());
        });
    }

    /// Fills every read completely with zeros (an endless run of empty frames),
    /// recording how much room each read offered.
    struct Firehose {
        offered: Vec<usize>,
    }

    impl AsyncRead for Firehose {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.offered.push(buf.remaining());
            buf.put_slice(&vec![0; buf.remaining()]);
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn frame_reader_reads_grow_while_they_come_back_full() {
        let mut r = FrameReader::new(Firehose {
            offered: Vec::new(),
        });
        r.set_read_buffer_size(64 * 1024);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut r = Pin::new(&mut r);
        for _ in 0..200_000 {
            match r.as_mut().poll_next(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => assert!(frame.is_empty()),
                other => panic!("{other:?}"),
            }
        }
        let offered = &r.get_ref().offered;
        assert_eq!(offered[0], INITIAL_READ, "{offered:?}");
        assert!(offered.iter().any(|&o| o >= 64 * 1024), "{offered:?}");
        assert!(offered.iter().all(|&o| o <= 2 * 64 * 1024), "{offered:?}");
    }

    /// Full reads for a while, then nothing more (the peer went quiet).
    struct Burst {
        reads_left: usize,
        offered: Vec<usize>,
    }

    impl AsyncRead for Burst {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if self.reads_left == 0 {
                return Poll::Pending;
            }
            self.reads_left -= 1;
            self.offered.push(buf.remaining());
            buf.put_slice(&vec![0; buf.remaining()]);
            Poll::Ready(Ok(()))
        }
    }

    /// Polls until the reader reports `Pending`.
    fn drain(r: &mut FrameReader<Burst>) {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            match Pin::new(&mut *r).poll_next(&mut cx) {
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Pending => break,
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn frame_reader_gives_a_grown_buffer_back_when_the_peer_goes_quiet() {
        let mut r = FrameReader::new(Burst {
            reads_left: 40,
            offered: Vec::new(),
        });
        drain(&mut r);
        let reached = r.read.next();
        assert!(
            reached > INITIAL_READ,
            "the burst should have grown the reads"
        );
        assert_eq!(r.buf.capacity(), 0, "an idle reader holds no buffer");

        // The next burst starts at the size the last one reached.
        r.get_mut().reads_left = 1;
        r.get_mut().offered.clear();
        drain(&mut r);
        assert!(
            r.get_ref().offered[0] >= reached,
            "{:?} after reaching {reached}",
            r.get_ref().offered
        );
        assert_eq!(r.buf.capacity(), 0);
    }

    #[test]
    fn frame_writer_drops_a_grown_buffer_after_the_burst_is_flushed() {
        block_on(async {
            let mut w = FrameWriter::new(Vec::new());
            for _ in 0..100 {
                w.feed(Bytes::from(vec![1u8; 200])).await.unwrap();
            }
            assert!(w.buf.len() > INITIAL_WRITE);
            w.flush().await.unwrap();
            assert!(w.buf.capacity() <= INITIAL_WRITE, "{}", w.buf.capacity());
            assert_eq!(w.get_ref().len(), 100 * 204);
        });
    }

    #[test]
    fn frame_reader_uses_the_codec_limits() {
        let wire = wire_of(&[Bytes::from_static(b"0123456789"), Bytes::from_static(b"x")]);
        block_on(async {
            let mut r = LengthPrefixedCodec::builder()
                .max_frame_length(4)
                .new_frame_reader(Trickle::new(&wire));
            assert!(matches!(
                r.next().await,
                Some(Err(Error::LimitExceeded { .. }))
            ));
            assert!(r.next().await.is_none());

            let mut r = LengthPrefixedCodec::builder()
                .max_frame_length(4)
                .skip_oversized(true)
                .new_frame_reader(Trickle::new(&wire));
            assert_eq!(r.next().await.unwrap().unwrap(), Bytes::from("x"));
            assert!(r.next().await.is_none());
            assert_eq!(r.codec().skipped_frames(), 1);
        });
    }
}
