//! Test I/O: a reader and a writer that move bytes in given chunk sizes and
//! return `Pending` between chunks, as a slow socket does.
#![allow(dead_code)] // each test file uses a different part

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Sizes cycled through for each read or write (at least 1 byte each).
fn size_at(sizes: &[usize], i: usize) -> usize {
    sizes
        .get(i % sizes.len().max(1))
        .copied()
        .unwrap_or(1)
        .max(1)
}

/// A reader over `data` that returns `Pending` before each read and then at most
/// the next chunk size; then end of stream.
#[derive(Debug)]
pub(crate) struct Chunked {
    data: Vec<u8>,
    at: usize,
    sizes: Vec<usize>,
    reads: usize,
    pending_next: bool,
}

impl Chunked {
    pub(crate) fn new(data: Vec<u8>, sizes: Vec<usize>) -> Self {
        Self {
            data,
            at: 0,
            sizes,
            reads: 0,
            pending_next: true,
        }
    }
}

impl AsyncRead for Chunked {
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
        let size = size_at(&self.sizes, self.reads);
        self.reads += 1;
        let n = size.min(buf.remaining()).min(self.data.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.data[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

/// A writer that returns `Pending` before each write, then accepts at most the
/// next chunk size; optionally vectored.
#[derive(Debug, Default)]
pub(crate) struct ChunkedWriter {
    pub(crate) data: Vec<u8>,
    sizes: Vec<usize>,
    writes: usize,
    vectored: bool,
    pending_next: bool,
}

impl ChunkedWriter {
    pub(crate) fn new(sizes: Vec<usize>, vectored: bool) -> Self {
        Self {
            data: Vec::new(),
            sizes,
            writes: 0,
            vectored,
            pending_next: true,
        }
    }

    fn accept(&mut self, cx: &mut Context<'_>, bufs: &[&[u8]]) -> Poll<io::Result<usize>> {
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        let mut left = size_at(&self.sizes, self.writes);
        self.writes += 1;
        let mut total = 0;
        for b in bufs {
            let n = b.len().min(left);
            self.data.extend_from_slice(&b[..n]);
            total += n;
            left -= n;
            if left == 0 {
                break;
            }
        }
        Poll::Ready(Ok(total))
    }
}

impl AsyncWrite for ChunkedWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.accept(cx, &[buf])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.vectored {
            let slices: Vec<&[u8]> = bufs.iter().map(|b| &b[..]).collect();
            self.accept(cx, &slices)
        } else {
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
            self.accept(cx, &[first])
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
