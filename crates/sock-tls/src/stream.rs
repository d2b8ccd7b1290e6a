//! `TlsStream`: an established TLS connection over any `AsyncRead + AsyncWrite`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use rustls::Side;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::stream_error;
use crate::TlsConnectionInfo;

/// A TLS connection over `IO`, client or server side.
///
/// Reads and writes go through TLS; [`shutdown`](tokio::io::AsyncWriteExt::shutdown)
/// sends `close_notify` and then shuts the transport down for writing. As with
/// any buffered writer, call `flush` after a batch of writes. Records that
/// rustls queues while reading (alerts such as `no_renegotiation`, replies to
/// `close_notify` and key updates) are sent by the read itself. Vectored writes are
/// passed through, so a batch of small buffers becomes few records.
///
/// Errors keep their classification: a TLS failure after the handshake (an
/// alert, a decryption failure) is a [`sock_core::Error`] inside the
/// `io::Error` (get it back with `sock_core::Error::from`), and a peer that
/// closes without `close_notify` gives `UnexpectedEof`.
#[derive(Debug)]
pub struct TlsStream<IO> {
    inner: tokio_rustls::TlsStream<IO>,
    info: TlsConnectionInfo,
}

impl<IO> TlsStream<IO> {
    pub(crate) fn new(inner: tokio_rustls::TlsStream<IO>, info: TlsConnectionInfo) -> Self {
        Self { inner, info }
    }

    /// What the handshake negotiated: version, cipher suite, ALPN, the peer's
    /// certificates and identity, the certificate problems found and waived.
    pub fn info(&self) -> &TlsConnectionInfo {
        &self.info
    }

    /// The transport.
    pub fn get_ref(&self) -> &IO {
        self.inner.get_ref().0
    }

    /// The transport, mutably. Reading or writing it directly corrupts the TLS
    /// stream.
    pub fn get_mut(&mut self) -> &mut IO {
        self.inner.get_mut().0
    }

    /// The rustls connection state (for what [`info`](Self::info) does not show).
    pub fn rustls_state(&self) -> &rustls::CommonState {
        self.inner.get_ref().1
    }

    /// Gives back the transport, dropping the TLS state without sending
    /// `close_notify` (call `shutdown` first for an orderly close).
    pub fn into_inner(self) -> IO {
        match self.inner {
            tokio_rustls::TlsStream::Client(s) => s.into_inner().0,
            tokio_rustls::TlsStream::Server(s) => s.into_inner().0,
        }
    }

    fn side(&self) -> Side {
        self.info.side
    }
}

fn map<T>(side: Side, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
    match poll {
        Poll::Ready(Err(e)) => Poll::Ready(Err(stream_error(e, side))),
        other => other,
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let side = self.side();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.flush_queued_records(cx);
        map(side, read)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TlsStream<IO> {
    /// Sends what rustls queued while reading (an alert refusing a
    /// renegotiation, the answer to a `close_notify` or a key update), so the
    /// peer hears it without waiting for this side to write. A transport that
    /// cannot take it now gets it at the next read, write or flush; an error
    /// here is left for those to report.
    fn flush_queued_records(&mut self, cx: &mut Context<'_>) {
        if self.inner.get_ref().1.wants_write() {
            let _ = Pin::new(&mut self.inner).poll_flush(cx);
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let side = self.side();
        map(side, Pin::new(&mut self.inner).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let side = self.side();
        map(
            side,
            Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
        )
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let side = self.side();
        map(side, Pin::new(&mut self.inner).poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let side = self.side();
        map(side, Pin::new(&mut self.inner).poll_shutdown(cx))
    }
}
