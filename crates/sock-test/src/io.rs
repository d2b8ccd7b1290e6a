//! Scripted I/O for tests: readers and writers that move a few bytes per call
//! and return `Pending` between calls, as a slow socket does.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Runs a future to completion on the current thread.
pub fn block_on<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// A reader that yields its data in chunks, returning `Pending` (and waking
/// itself) before each chunk, then end of stream.
#[derive(Debug)]
pub struct Trickle {
    chunks: VecDeque<Vec<u8>>,
    pending_next: bool,
}

impl Trickle {
    /// One byte per read.
    pub fn new(data: &[u8]) -> Self {
        Self::chunked(data, &vec![1; data.len()])
    }

    /// Reads of the given sizes (the rest in one read at the end).
    pub fn chunked(data: &[u8], sizes: &[usize]) -> Self {
        let mut chunks = VecDeque::new();
        let mut rest = data;
        for &size in sizes {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at(size.clamp(1, rest.len()));
            chunks.push_back(now.to_vec());
            rest = later;
        }
        if !rest.is_empty() {
            chunks.push_back(rest.to_vec());
        }
        Self {
            chunks,
            pending_next: true,
        }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        if let Some(mut chunk) = self.chunks.pop_front() {
            let n = chunk.len().min(buf.remaining());
            buf.put_slice(&chunk[..n]);
            if n < chunk.len() {
                chunk.drain(..n);
                self.chunks.push_front(chunk);
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// A writer that accepts at most `per_write` bytes per call, returning `Pending`
/// before each call, and keeps what it was given. It counts its calls.
#[derive(Debug)]
pub struct TrickleWriter {
    per_write: usize,
    data: Vec<u8>,
    pending_next: bool,
    /// How many writes it took.
    pub writes: usize,
    /// How many flushes it was asked for.
    pub flushes: usize,
    /// Whether it advertises vectored writes.
    pub vectored: bool,
}

impl TrickleWriter {
    /// A writer taking at most `per_write` bytes a call.
    pub fn new(per_write: usize) -> Self {
        Self {
            per_write,
            data: Vec::new(),
            pending_next: true,
            writes: 0,
            flushes: 0,
            vectored: false,
        }
    }

    /// Everything written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// Everything written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }
}

impl AsyncWrite for TrickleWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        self.writes += 1;
        let n = buf.len().min(self.per_write);
        self.data.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.vectored {
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
            return self.poll_write(cx, first);
        }
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        self.writes += 1;
        let mut left = self.per_write;
        let mut total = 0;
        for b in bufs {
            let n = b.len().min(left);
            self.data.extend_from_slice(&b[..n]);
            left -= n;
            total += n;
            if left == 0 {
                break;
            }
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
