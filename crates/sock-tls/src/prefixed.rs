//! `PrefixedIo`: a transport whose first bytes were already read, for upgrading
//! a plaintext connection to TLS (STARTTLS) without losing them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Reads `prefix` first, then from `io`; writes go straight to `io`.
///
/// A protocol that switches to TLS after a plaintext exchange (SMTP and IMAP
/// `STARTTLS`, a line-based "upgrade" command) may already have buffered the
/// first bytes of the peer's TLS handshake while reading the last plaintext
/// line. Hand those bytes over with the transport:
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// # let server = sock_tls::TlsServerConfig::builder()
/// #     .certificate_chain_pem_files("server.pem", "server.key")
/// #     .build()?;
/// use tokio::io::{AsyncBufReadExt, BufReader};
/// use sock_tls::PrefixedIo;
///
/// let (tcp, _) = tokio::net::TcpListener::bind("127.0.0.1:0").await?.accept().await?;
/// let mut reader = BufReader::new(tcp);
/// let mut line = String::new();
/// reader.read_line(&mut line).await?; // "STARTTLS\n"
/// let buffered = reader.buffer().to_vec(); // maybe the start of the ClientHello
/// let tls = server.accept(PrefixedIo::new(buffered, reader.into_inner())).await?;
/// println!("{:?}", tls.info().protocol_version());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PrefixedIo<IO> {
    prefix: Vec<u8>,
    pos: usize,
    io: IO,
}

impl<IO> PrefixedIo<IO> {
    /// Wraps `io`, to be read after `prefix`.
    pub fn new(prefix: impl Into<Vec<u8>>, io: IO) -> Self {
        Self {
            prefix: prefix.into(),
            pos: 0,
            io,
        }
    }

    /// The part of the prefix not read yet.
    pub fn remaining_prefix(&self) -> &[u8] {
        &self.prefix[self.pos..]
    }

    /// The transport.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The transport, mutably.
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// The transport, and the unread part of the prefix: the same order as
    /// `FrameReader::into_parts` and `DataReader::into_parts` (the stream,
    /// then the bytes read ahead).
    pub fn into_parts(mut self) -> (IO, Vec<u8>) {
        self.prefix.drain(..self.pos);
        (self.io, self.prefix)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for PrefixedIo<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.prefix.len() {
            let rest = &this.prefix[this.pos..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for PrefixedIo<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn the_prefix_comes_first_then_the_transport() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut io = PrefixedIo::new(b"hello ".to_vec(), a);
        b.write_all(b"world").await.unwrap();
        drop(b);
        let mut all = String::new();
        io.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "hello world");
        assert!(io.remaining_prefix().is_empty());
    }

    #[tokio::test]
    async fn small_reads_take_the_prefix_piecewise() {
        let (a, _b) = tokio::io::duplex(64);
        let mut io = PrefixedIo::new(b"abc".to_vec(), a);
        let mut one = [0u8; 2];
        io.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"ab");
        let (_io, rest) = io.into_parts();
        assert_eq!(rest, b"c");
    }
}
