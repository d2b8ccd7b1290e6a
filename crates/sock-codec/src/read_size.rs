//! How much room a reader asks the stream for: reads start at 8 KiB and
//! double while they come back full, up to a maximum, so frames that queue
//! up at the socket come in with few reads. Shared by `FrameReader` and
//! `Framed`.

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

/// The room the next read asks for, learned from the reads before it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadSize {
    next: usize,
    max: usize,
}

impl ReadSize {
    pub(crate) fn new() -> Self {
        Self {
            next: INITIAL_READ,
            max: DEFAULT_READ_BUFFER,
        }
    }

    /// Sets the most one read asks for.
    pub(crate) fn set_max(&mut self, bytes: usize) {
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
    #[inline]
    pub(crate) fn poll_read<R: AsyncRead>(
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
