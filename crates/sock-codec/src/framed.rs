//! [`Framed`]: any tokio-util codec on a byte stream, as tokio-util's
//! `Framed`, reading in large chunks and holding no buffer while the
//! connection is idle.
//!
//! tokio-util's `Framed` allocates an 8 KiB read buffer and an 8 KiB write
//! buffer when it is made, keeps them (grown to the largest frame seen) for
//! as long as the connection lives, and reads at most what its buffer has
//! room for. On a server with many connections that mostly wait, those
//! buffers are most of the memory per connection. This `Framed` takes the
//! same codecs and gives the same `Stream` and `Sink`, but:
//!
//! * it gives both buffers back whenever it finds nothing to read and holds
//!   nothing unsent (a connection waiting for its next message holds none);
//! * its reads start at 8 KiB and double while they come back full, up to
//!   256 KiB ([`set_read_buffer_size`](Framed::set_read_buffer_size)), so
//!   frames that queue up at the socket come in with few reads;
//! * a write buffer that a burst grew is dropped once the burst is written.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use futures_core::Stream;
use futures_sink::Sink;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{Decoder, Encoder};

use crate::read_size::ReadSize;
use crate::{LengthPrefixedBuilder, LengthPrefixedCodec};

/// The write buffer's size when the first frame of a burst is encoded, and
/// the default backpressure boundary.
const INITIAL_WRITE: usize = 8 * 1024;

pin_project! {
    /// A codec on a byte stream: a [`Stream`] of decoded frames and a
    /// [`Sink`] of frames to encode, for any tokio-util
    /// [`Decoder`]/[`Encoder`] (sock's codecs, `LinesCodec`,
    /// `LengthDelimitedCodec`, one of your own). It is what
    /// `StreamSocket::framed` returns, and has the methods of tokio-util's
    /// `Framed` that a program uses.
    ///
    /// What differs (see the [module docs](self)): no buffer is held while
    /// the connection waits with nothing buffered, reads grow while they come
    /// back full, and a write buffer grown by a burst is dropped once the
    /// burst is out.
    ///
    /// * `feed` many frames and `flush` once: the frames go out in as few
    ///   writes as the stream takes. `send` and `poll_ready` write out what is
    ///   buffered once it reaches the
    ///   [backpressure boundary](Self::set_backpressure_boundary) (8 KiB).
    /// * The stream ends after the first error, as tokio-util's does. At the
    ///   end of the input, the codec's `decode_eof` has the last word (a
    ///   [`LengthPrefixedCodec`](crate::LengthPrefixedCodec) reports a frame
    ///   cut short).
    ///
    /// # Cancel safety
    ///
    /// As tokio-util's `Framed`: a cancelled `next()` loses no bytes (they
    /// stay in the read buffer), and frames fed and not yet written stay
    /// queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures::{SinkExt, StreamExt};
    /// use sock_codec::{Framed, LengthPrefixedCodec};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sock_core::Error> {
    /// let (a, b) = tokio::io::duplex(1 << 16);
    /// let mut client = Framed::new(a, LengthPrefixedCodec::new());
    /// let mut server = Framed::new(b, LengthPrefixedCodec::new());
    ///
    /// client.send(Bytes::from_static(b"hello")).await?;
    /// let frame = server.next().await.transpose()?.expect("a frame");
    /// assert_eq!(&frame[..], b"hello");
    /// # Ok(())
    /// # }
    /// ```
    pub struct Framed<T, C> {
        #[pin]
        io: T,
        codec: C,
        read_buf: BytesMut,
        write_buf: BytesMut,
        // What the next read asks for.
        read: ReadSize,
        backpressure_boundary: usize,
        // The read buffer may hold a frame: decode before reading.
        readable: bool,
        eof: bool,
        errored: bool,
    }
}

/// A [`Framed`] taken apart: the stream, the codec, and the bytes read but
/// not decoded and encoded but not written
/// ([`Framed::into_parts`], [`Framed::from_parts`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct FramedParts<T, C> {
    /// The byte stream.
    pub io: T,
    /// The codec.
    pub codec: C,
    /// Bytes read from the stream and not yet decoded.
    pub read_buf: BytesMut,
    /// Bytes encoded and not yet written.
    pub write_buf: BytesMut,
}

impl<T, C> FramedParts<T, C> {
    /// Parts with empty buffers.
    pub fn new(io: T, codec: C) -> Self {
        Self {
            io,
            codec,
            read_buf: BytesMut::new(),
            write_buf: BytesMut::new(),
        }
    }
}

impl<T, C> From<tokio_util::codec::FramedParts<T, C>> for FramedParts<T, C> {
    /// The parts of a tokio-util `Framed`, to carry on with this one.
    fn from(parts: tokio_util::codec::FramedParts<T, C>) -> Self {
        Self {
            io: parts.io,
            codec: parts.codec,
            read_buf: parts.read_buf,
            write_buf: parts.write_buf,
        }
    }
}

impl<T, C> Framed<T, C> {
    /// `codec` on `io`. Nothing is allocated until the first read or frame.
    pub fn new(io: T, codec: C) -> Self {
        Self::from_parts(FramedParts::new(io, codec))
    }

    /// Carries on from parts: buffered bytes are decoded before anything is
    /// read, and written before any new frame.
    pub fn from_parts(parts: FramedParts<T, C>) -> Self {
        Self {
            io: parts.io,
            codec: parts.codec,
            readable: !parts.read_buf.is_empty(),
            read_buf: parts.read_buf,
            write_buf: parts.write_buf,
            read: ReadSize::new(),
            backpressure_boundary: INITIAL_WRITE,
            eof: false,
            errored: false,
        }
    }

    /// The stream, the codec and both buffers.
    pub fn into_parts(self) -> FramedParts<T, C> {
        FramedParts {
            io: self.io,
            codec: self.codec,
            read_buf: self.read_buf,
            write_buf: self.write_buf,
        }
    }

    /// The stream; buffered bytes are dropped (see
    /// [`into_parts`](Self::into_parts)).
    pub fn into_inner(self) -> T {
        self.io
    }

    /// The stream.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The stream, mutably. Reading or writing it directly can interleave
    /// with buffered bytes.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// The pinned stream, mutably.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().io
    }

    /// The codec.
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The codec, mutably (e.g. to change a limit between frames).
    pub fn codec_mut(&mut self) -> &mut C {
        &mut self.codec
    }

    /// The same stream and buffers with another codec (e.g. after a
    /// protocol switch announced in-band).
    pub fn map_codec<D>(self, map: impl FnOnce(C) -> D) -> Framed<T, D> {
        Framed {
            io: self.io,
            codec: map(self.codec),
            read_buf: self.read_buf,
            write_buf: self.write_buf,
            read: self.read,
            backpressure_boundary: self.backpressure_boundary,
            readable: self.readable,
            eof: self.eof,
            errored: self.errored,
        }
    }

    /// Bytes read and not yet decoded.
    pub fn read_buffer(&self) -> &BytesMut {
        &self.read_buf
    }

    /// Bytes read and not yet decoded, mutably.
    pub fn read_buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.read_buf
    }

    /// Bytes encoded and not yet written.
    pub fn write_buffer(&self) -> &BytesMut {
        &self.write_buf
    }

    /// Bytes encoded and not yet written, mutably.
    pub fn write_buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.write_buf
    }

    /// How many encoded bytes `poll_ready` (so `send` and `feed`) lets wait
    /// before it writes them out: 8 KiB unless set.
    pub fn backpressure_boundary(&self) -> usize {
        self.backpressure_boundary
    }

    /// Sets the [backpressure boundary](Self::backpressure_boundary).
    pub fn set_backpressure_boundary(&mut self, bytes: usize) {
        self.backpressure_boundary = bytes;
    }

    /// Sets the most room one read asks for (256 KiB by default). Reads
    /// start at 8 KiB (or this, if smaller) and double while they come back
    /// full.
    pub fn set_read_buffer_size(&mut self, bytes: usize) {
        self.read.set_max(bytes);
    }
}

impl<T: fmt::Debug, C: fmt::Debug> fmt::Debug for Framed<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Framed")
            .field("io", &self.io)
            .field("codec", &self.codec)
            .field("read_buffered", &self.read_buf.len())
            .field("write_buffered", &self.write_buf.len())
            .finish_non_exhaustive()
    }
}

impl<T, C> Stream for Framed<T, C>
where
    T: AsyncRead,
    C: Decoder,
{
    type Item = Result<C::Item, C::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.errored {
                // One `None` after the error, then the stream may be polled
                // again (as tokio-util's).
                *this.errored = false;
                *this.readable = false;
                return Poll::Ready(None);
            }
            if *this.readable {
                if *this.eof {
                    return match this.codec.decode_eof(this.read_buf) {
                        Ok(Some(frame)) => Poll::Ready(Some(Ok(frame))),
                        Ok(None) => {
                            *this.readable = false;
                            Poll::Ready(None)
                        }
                        Err(e) => {
                            *this.errored = true;
                            Poll::Ready(Some(Err(e)))
                        }
                    };
                }
                match this.codec.decode(this.read_buf) {
                    Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                    Ok(None) => *this.readable = false,
                    Err(e) => {
                        *this.errored = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            let read = this.read.poll_read(this.io.as_mut(), cx, this.read_buf);
            let Poll::Ready(read) = read else {
                // Waiting with nothing buffered: hold no buffer while idle.
                if this.read_buf.is_empty() {
                    *this.read_buf = BytesMut::new();
                    if this.write_buf.is_empty() && this.write_buf.capacity() > 0 {
                        *this.write_buf = BytesMut::new();
                    }
                }
                return Poll::Pending;
            };
            match read {
                Ok(0) => {
                    if *this.eof {
                        return Poll::Ready(None);
                    }
                    *this.eof = true;
                }
                Ok(_) => *this.eof = false,
                Err(e) => {
                    *this.errored = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
            *this.readable = true;
        }
    }
}

impl<T, C> Framed<T, C>
where
    T: AsyncWrite,
{
    /// Writes until the write buffer is empty.
    fn poll_write_out(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        while !this.write_buf.is_empty() {
            let n = ready!(this.io.as_mut().poll_write(cx, this.write_buf))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "failed to write frames: the stream accepted 0 bytes",
                )));
            }
            this.write_buf.advance(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T, C, I> Sink<I> for Framed<T, C>
where
    T: AsyncWrite,
    C: Encoder<I>,
    C::Error: From<io::Error>,
{
    type Error = C::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.write_buf.len() < self.backpressure_boundary {
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll_write_out(cx))?;
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: I) -> Result<(), Self::Error> {
        let this = self.project();
        if this.write_buf.capacity() == 0 {
            this.write_buf.reserve(INITIAL_WRITE);
        }
        this.codec.encode(item, this.write_buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.as_mut().poll_write_out(cx))?;
        let this = self.project();
        if this.write_buf.capacity() > INITIAL_WRITE {
            // A burst grew the buffer; once it is out, do not keep it.
            *this.write_buf = BytesMut::new();
        }
        ready!(this.io.poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.as_mut().poll_write_out(cx))?;
        ready!(self.project().io.poll_shutdown(cx))?;
        Poll::Ready(Ok(()))
    }
}

// ===== builder finisher =====

impl LengthPrefixedBuilder {
    /// `io` framed for both directions by a codec with these settings.
    pub fn new_framed<T>(&self, io: T) -> Framed<T, LengthPrefixedCodec> {
        Framed::new(io, self.new_codec())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::{SinkExt, StreamExt};
    use tokio::io::AsyncReadExt;
    use tokio_util::codec::LinesCodec;

    use super::*;
    use crate::DEFAULT_READ_BUFFER;
    use sock_test::io::{block_on, Trickle, TrickleWriter};

    fn wire(frames: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames {
            out.extend_from_slice(&(f.len() as u32).to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn frames_come_out_whole_from_a_stream_that_trickles() {
        let big = vec![7u8; 20_000];
        let data = wire(&[b"one", b"", &big, b"last"]);
        block_on(async {
            let mut framed = Framed::new(
                Trickle::chunked(&data, &[1, 2, 3, 5000, 7]),
                LengthPrefixedCodec::new(),
            );
            let mut lens = Vec::new();
            while let Some(frame) = framed.next().await {
                lens.push(frame.unwrap().len());
            }
            assert_eq!(lens, [3, 0, 20_000, 4]);
        });
    }

    #[test]
    fn a_frame_cut_short_by_the_end_of_the_stream_is_an_error_and_then_the_end() {
        let mut data = wire(&[b"whole"]);
        data.extend_from_slice(&[0, 0, 0, 9, b'c', b'u']);
        block_on(async {
            let mut framed = Framed::new(Trickle::chunked(&data, &[]), LengthPrefixedCodec::new());
            assert_eq!(&framed.next().await.unwrap().unwrap()[..], b"whole");
            let err = framed.next().await.unwrap().unwrap_err();
            assert!(err.to_string().contains("end of stream"), "{err}");
            assert!(framed.next().await.is_none());
        });
    }

    #[tokio::test]
    async fn an_idle_connection_holds_no_buffer_after_traffic() {
        let (a, b) = tokio::io::duplex(1 << 20);
        let mut client = Framed::new(a, LengthPrefixedCodec::new());
        let mut server = Framed::new(b, LengthPrefixedCodec::new());
        let big = Bytes::from(vec![1u8; 100_000]);
        client.send(big.clone()).await.unwrap();
        let frame = server.next().await.unwrap().unwrap();
        server.send(frame).await.unwrap();
        assert_eq!(client.next().await.unwrap().unwrap(), big);
        // Both sides now wait for a frame that does not come.
        for side in [&mut client, &mut server] {
            let waited = futures::poll!(side.next());
            assert!(waited.is_pending());
            assert_eq!(side.read_buffer().capacity(), 0, "read buffer kept");
            assert_eq!(side.write_buffer().capacity(), 0, "write buffer kept");
        }
        // And carry on when the next frame comes.
        client.send(Bytes::from_static(b"again")).await.unwrap();
        assert_eq!(&server.next().await.unwrap().unwrap()[..], b"again");
    }

    #[tokio::test]
    async fn a_write_buffer_grown_by_a_burst_is_dropped_once_written() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut framed = Framed::new(a, LengthPrefixedCodec::new());
        framed.set_backpressure_boundary(1 << 20);
        for _ in 0..1000 {
            framed.feed(Bytes::from_static(&[3; 100])).await.unwrap();
        }
        assert!(framed.write_buffer().capacity() >= 104_000);
        SinkExt::<Bytes>::flush(&mut framed).await.unwrap();
        assert_eq!(framed.write_buffer().capacity(), 0);
        let mut got = vec![0; 104_000];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(got, wire(&[&[3u8; 100][..]; 1000]));
    }

    #[tokio::test]
    async fn reads_grow_while_they_come_back_full() {
        // A reader that records the room each read offers.
        struct Offered(Vec<u8>, Vec<usize>);
        impl AsyncRead for Offered {
            fn poll_read(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let room = buf.remaining();
                self.1.push(room);
                let n = room.min(self.0.len());
                buf.put_slice(&self.0[..n]);
                self.0.drain(..n);
                Poll::Ready(Ok(()))
            }
        }
        let frames: Vec<&[u8]> = vec![&[5u8; 60]; 20_000];
        let mut framed = Framed::new(
            Offered(wire(&frames), Vec::new()),
            LengthPrefixedCodec::new(),
        );
        let mut count = 0;
        while let Some(frame) = framed.next().await {
            assert_eq!(frame.unwrap().len(), 60);
            count += 1;
        }
        assert_eq!(count, 20_000);
        let offered = &framed.get_ref().1;
        assert_eq!(offered[0], 8 * 1024);
        let largest = offered.iter().max().copied().unwrap();
        assert!(largest >= DEFAULT_READ_BUFFER / 2, "largest read {largest}");
        // The buffer grows as a `Vec` does: at most twice what a read asks for.
        assert!(largest <= 2 * DEFAULT_READ_BUFFER, "largest read {largest}");
        // 1.28 MB in far fewer reads than 8 KiB at a time would take (157).
        assert!(offered.len() < 40, "{} reads", offered.len());
    }

    #[test]
    fn parts_keep_the_bytes_read_and_the_bytes_not_yet_written() {
        block_on(async {
            let mut framed = Framed::new(
                Trickle::chunked(b"first\nsecond\nthi", &[]),
                LinesCodec::new(),
            );
            assert_eq!(framed.next().await.unwrap().unwrap(), "first");
            let parts = framed.into_parts();
            assert_eq!(&parts.read_buf[..], b"second\nthi");
            let mut again = Framed::from_parts(parts);
            assert_eq!(again.next().await.unwrap().unwrap(), "second");
            assert_eq!(again.next().await.unwrap().unwrap(), "thi");
            assert!(again.next().await.is_none());

            let mut out = Framed::new(TrickleWriter::new(3), LinesCodec::new());
            out.feed("queued").await.unwrap();
            let parts = out.into_parts();
            assert_eq!(&parts.write_buf[..], b"queued\n");
            let mut out = Framed::from_parts(parts).map_codec(|_| LinesCodec::new());
            out.send("next").await.unwrap();
            assert_eq!(out.get_ref().bytes(), b"queued\nnext\n");
        });
    }

    #[tokio::test]
    async fn send_writes_out_at_the_backpressure_boundary_and_flush_at_once() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut framed = Framed::new(a, LengthPrefixedCodec::new());
        assert_eq!(framed.backpressure_boundary(), 8 * 1024);
        framed.set_backpressure_boundary(1000);
        for _ in 0..10 {
            framed.feed(Bytes::from_static(&[1; 196])).await.unwrap();
        }
        // 5 frames reached the boundary; the 6th `feed` wrote them first.
        assert_eq!(framed.write_buffer().len(), 5 * 200);
        let mut first = vec![0; 1000];
        b.read_exact(&mut first).await.unwrap();
        SinkExt::<Bytes>::flush(&mut framed).await.unwrap();
        assert!(framed.write_buffer().is_empty());
        let mut rest = vec![0; 1000];
        b.read_exact(&mut rest).await.unwrap();
        SinkExt::<Bytes>::close(&mut framed).await.unwrap();
        assert_eq!(
            b.read(&mut [0; 1]).await.unwrap(),
            0,
            "closed after the frames"
        );
    }
}
