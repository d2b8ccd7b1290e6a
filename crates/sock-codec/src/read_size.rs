//! How much room a reader asks the stream for: reads start at 8 KiB and
//! double while they come back full, up to a maximum, so frames that queue
//! up at the socket come in with few reads. Shared by `FrameReader`,
//! `Framed`, and decoders built on sock-codec elsewhere (sock-websocket's).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use tokio::io::AsyncRead;

/// The most a [`FrameReader`](crate::FrameReader) or a
/// [`Framed`](crate::Framed) asks the stream for in one read: 256 KiB. Reads
/// start at 8 KiB and double while they fill what they asked for.
pub const DEFAULT_READ_BUFFER: usize = 256 * 1024;

/// What the first read asks for.
pub(crate) const INITIAL_READ: usize = 8 * 1024;

/// The room the next read asks for, learned from the reads before it: the
/// read policy of [`FrameReader`](crate::FrameReader) and
/// [`Framed`](crate::Framed), for other readers that decode from a
/// `BytesMut`.
///
/// Reads start at 8 KiB and double while they fill the room they were given,
/// up to [`DEFAULT_READ_BUFFER`] (or [`set_max`](Self::set_max)): a burst of
/// frames queued at the socket comes in with one or two reads, while a
/// connection that only ever receives small messages keeps small reads.
///
/// ```
/// use bytes::BytesMut;
/// use sock_codec::ReadSize;
/// use tokio::io::AsyncRead;
///
/// /// Reads once into `buf`, as a decoder does when it has no whole frame.
/// async fn fill<R: AsyncRead + Unpin>(
///     io: &mut R,
///     size: &mut ReadSize,
///     buf: &mut BytesMut,
/// ) -> std::io::Result<usize> {
///     std::future::poll_fn(|cx| size.poll_read(std::pin::Pin::new(&mut *io), cx, buf)).await
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut io: &[u8] = b"some bytes";
/// let (mut size, mut buf) = (ReadSize::new(), BytesMut::new());
/// assert_eq!(fill(&mut io, &mut size, &mut buf).await?, 10);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ReadSize {
    next: usize,
    max: usize,
}

impl Default for ReadSize {
    fn default() -> Self {
        Self::new()
    }
}

impl ReadSize {
    /// Reads of 8 KiB first, growing up to [`DEFAULT_READ_BUFFER`].
    pub fn new() -> Self {
        Self {
            next: INITIAL_READ,
            max: DEFAULT_READ_BUFFER,
        }
    }

    /// Sets the most one read asks for (at least 1 byte).
    pub fn set_max(&mut self, bytes: usize) {
        self.max = bytes.max(1);
        self.next = self.next.min(self.max);
    }

    /// What the next read asks for, at least.
    #[cfg(test)]
    pub(crate) fn next(&self) -> usize {
        self.next
    }

    /// Reads into `buf`, making room for the next read's size first; how
    /// many bytes came (0 at the end of the stream). A read that filled the
    /// room doubles the next one.
    ///
    /// # Errors
    ///
    /// The stream's read error.
    #[inline]
    pub fn poll_read<R: AsyncRead>(
        &mut self,
        io: Pin<&mut R>,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        if buf.capacity() - buf.len() < self.next / 4 {
            buf.reserve(self.next);
        }
        let room = buf.capacity() - buf.len();
        let n = ready!(tokio_util::io::poll_read_buf(io, cx, buf))?;
        if n == room && self.next < self.max {
            self.next = (self.next * 2).min(self.max);
        }
        Poll::Ready(Ok(n))
    }
}
