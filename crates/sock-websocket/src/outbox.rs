//! The bytes waiting to be sent: frames encoded (and masked, for a client)
//! in order; small ones gathered in one buffer, large server payloads kept
//! as they are and written with vectored writes, without a copy.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::AsyncWrite;

use crate::frame::{write_header, OpCode, Role, RSV1};
use crate::mask::{put_masked, MaskKeys};

/// Payloads at least this long are queued as they are instead of copied
/// (when no mask has to be applied).
const ZERO_COPY_MIN: usize = 8 * 1024;

/// The most buffers one vectored write is given.
const MAX_IOVECS: usize = 64;

/// Encoded frames waiting to be written.
#[derive(Debug)]
pub(crate) struct Outbox {
    /// Set for a client, whose frames are masked.
    keys: Option<MaskKeys>,
    /// Buffers queued before `staging`, in order.
    segments: VecDeque<Bytes>,
    /// The newest bytes, gathered.
    staging: BytesMut,
    /// Bytes queued in all.
    queued: usize,
}

impl Outbox {
    /// An empty outbox for the sending end `role`.
    pub(crate) fn new(role: Role) -> Self {
        Self {
            keys: (role == Role::Client).then(MaskKeys::new),
            segments: VecDeque::new(),
            staging: BytesMut::with_capacity(8 * 1024),
            queued: 0,
        }
    }

    /// How many bytes wait to be written.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    /// Queues one frame.
    pub(crate) fn push(&mut self, fin: bool, opcode: OpCode, payload: &Bytes) {
        self.push_frame(fin, false, opcode, payload);
    }

    /// Queues one frame of a compressed message: RSV1 set on its first
    /// (RFC 7692 section 6).
    #[cfg(feature = "deflate")]
    pub(crate) fn push_compressed(
        &mut self,
        fin: bool,
        first: bool,
        opcode: OpCode,
        payload: &Bytes,
    ) {
        self.push_frame(fin, first, opcode, payload);
    }

    fn push_frame(&mut self, fin: bool, rsv1: bool, opcode: OpCode, payload: &Bytes) {
        let before = self.staging.len();
        let mask = self.keys.as_mut().map(MaskKeys::next_key);
        write_header(&mut self.staging, fin, opcode, mask, payload.len());
        if rsv1 {
            self.staging[before] |= RSV1;
        }
        match mask {
            Some(key) => put_masked(&mut self.staging, payload, key),
            None => {
                if payload.len() >= ZERO_COPY_MIN {
                    self.queued += self.staging.len() - before + payload.len();
                    let head = self.staging.split().freeze();
                    self.segments.push_back(head);
                    self.segments.push_back(payload.clone());
                    return;
                }
                self.staging.extend_from_slice(payload);
            }
        }
        self.queued += self.staging.len() - before;
    }

    /// Writes everything queued, then flushes `io`.
    pub(crate) fn poll_flush<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(self.poll_write_below(io, cx, 0))?;
        Pin::new(io).poll_flush(cx)
    }

    /// Writes until no more than `limit` bytes wait (nothing waits, for 0).
    pub(crate) fn poll_write_below<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        limit: usize,
    ) -> Poll<io::Result<()>> {
        while self.queued > limit {
            let n = if self.segments.is_empty() {
                ready!(Pin::new(&mut *io).poll_write(cx, &self.staging))?
            } else {
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let mut count = 0;
                for segment in self.segments.iter().take(MAX_IOVECS - 1) {
                    slices[count] = IoSlice::new(segment);
                    count += 1;
                }
                if count < MAX_IOVECS && !self.staging.is_empty() {
                    slices[count] = IoSlice::new(&self.staging);
                    count += 1;
                }
                ready!(Pin::new(&mut *io).poll_write_vectored(cx, &slices[..count]))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.consume(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Drops the first `n` bytes written.
    fn consume(&mut self, mut n: usize) {
        self.queued -= n;
        while n > 0 {
            let Some(front) = self.segments.front_mut() else {
                self.staging.advance(n);
                break;
            };
            if n < front.len() {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.segments.pop_front();
        }
        if self.staging.is_empty() {
            // Reuse the allocation from its start.
            self.staging.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn small_and_large_frames_leave_in_order_through_partial_writes() {
        let mut outbox = Outbox::new(Role::Server);
        let big = Bytes::from(vec![7u8; ZERO_COPY_MIN + 3]);
        outbox.push(true, OpCode::Text, &Bytes::from_static(b"a"));
        outbox.push(true, OpCode::Binary, &big);
        outbox.push(true, OpCode::Text, &Bytes::from_static(b"b"));
        let total = outbox.queued();
        // A pipe that holds 1000 bytes: every write is partial.
        let (mut io, mut peer) = tokio::io::duplex(1000);
        let read = async {
            let mut out = vec![0u8; total];
            peer.read_exact(&mut out).await.unwrap();
            out
        };
        let (flushed, out) = tokio::join!(
            std::future::poll_fn(|cx| outbox.poll_flush(&mut io, cx)),
            read
        );
        flushed.unwrap();
        assert_eq!(&out[..3], &[0x81, 1, b'a']);
        assert_eq!(&out[total - 3..], &[0x81, 1, b'b']);
        assert_eq!(outbox.queued(), 0);
    }
}
