//! `StreamWebSocket`: a WebSocket as a byte stream (`AsyncRead` +
//! `AsyncWrite`), each write one binary message.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use sock_tcp::{StreamSocket, StreamSocketInformation};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::engine::Engine;
use crate::{CloseCode, CloseFrame, Message, MessageWebSocketInformation, Result};

/// The most bytes one write sends as one message; a longer write sends its
/// first this many bytes (as `AsyncWrite` allows).
pub const MAX_STREAM_WRITE: usize = 1 << 20;

/// A WebSocket as a byte stream (UWP's `StreamWebSocket`, and on a server
/// its `ServerStreamWebSocket`), for protocols that want bytes rather than
/// messages.
///
/// Reads give the bytes of the messages received, one after the other, as
/// they arrive (text messages too); the end of the stream is the closing
/// handshake. Each write sends one binary message (of at most
/// [`MAX_STREAM_WRITE`] bytes; an empty write sends nothing); `shutdown`
/// sends the close frame.
/// [`close`](Self::close) runs the whole closing handshake.
#[derive(Debug)]
pub struct StreamWebSocket {
    engine: Engine,
    info: MessageWebSocketInformation,
    /// What is left of the message being read.
    reading: Bytes,
}

impl StreamWebSocket {
    pub(crate) fn new(engine: Engine, info: MessageWebSocketInformation) -> Self {
        Self {
            engine,
            info,
            reading: Bytes::new(),
        }
    }

    /// What the handshake settled, and the addresses.
    pub fn information(&self) -> &MessageWebSocketInformation {
        &self.info
    }

    /// The connection's own information (round-trip times, TLS).
    pub fn socket_information(&self) -> StreamSocketInformation {
        self.engine.socket().information()
    }

    /// The connection under the WebSocket.
    pub fn get_ref(&self) -> &StreamSocket {
        self.engine.socket()
    }

    /// Runs the closing handshake with `code` and `reason`, as
    /// [`MessageWebSocket::close`](crate::MessageWebSocket::close) does;
    /// bytes still arriving are dropped.
    ///
    /// # Errors
    ///
    /// As [`MessageWebSocket::close`](crate::MessageWebSocket::close).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection at once.
    pub async fn close(self, code: impl Into<CloseCode>, reason: &str) -> Result<CloseFrame> {
        self.engine.close(CloseFrame::new(code, reason)).await
    }

    /// How the WebSocket closed, once it has.
    pub fn close_frame(&self) -> Option<CloseFrame> {
        self.engine.close_frame()
    }
}

impl AsyncRead for StreamWebSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.reading.is_empty() {
            match ready!(this.engine.poll_next(cx)) {
                Some(Ok(message)) => this.reading = message.into_data(),
                Some(Err(e)) => return Poll::Ready(Err(e.into())),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = this.reading.len().min(buf.remaining());
        buf.put_slice(&this.reading[..n]);
        this.reading.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for StreamWebSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this = self.get_mut();
        ready!(this.engine.poll_ready(cx))?;
        let n = buf.len().min(MAX_STREAM_WRITE);
        this.engine
            .start_send(Message::binary(Bytes::copy_from_slice(&buf[..n])))?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().engine.poll_flush(cx).map_err(Into::into)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().engine.poll_shutdown(cx).map_err(Into::into)
    }
}
