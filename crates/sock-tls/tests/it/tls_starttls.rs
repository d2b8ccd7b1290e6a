//! STARTTLS: a plaintext exchange, then TLS on the same connection, keeping the
//! bytes already buffered.

use crate::support;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use sock_core::HostName;
use sock_tls::PrefixedIo;
use support::*;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf,
};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn upgrade_after_a_plaintext_exchange() {
    let ca = Ca::new("CA");
    let server = server_config(&ca.server(&["localhost"]));
    let client = client_trusting(&ca).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    let server_side = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut lines = BufReader::new(tcp);
        lines.get_mut().write_all(b"220 ready\n").await.unwrap();
        let mut line = String::new();
        lines.read_line(&mut line).await.unwrap();
        assert_eq!(line, "EHLO client\n");
        lines.get_mut().write_all(b"250 STARTTLS\n").await.unwrap();
        line.clear();
        lines.read_line(&mut line).await.unwrap();
        assert_eq!(line, "STARTTLS\n");
        lines.get_mut().write_all(b"220 go ahead\n").await.unwrap();
        let buffered = lines.buffer().to_vec();
        let mut tls = server
            .accept(PrefixedIo::new(buffered, lines.into_inner()))
            .await
            .unwrap();
        let mut secret = [0; 6];
        tls.read_exact(&mut secret).await.unwrap();
        tls.write_all(b"250 ok ").await.unwrap();
        tls.write_all(&secret).await.unwrap();
        tls.shutdown().await.unwrap();
    });

    bounded(async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut lines = BufReader::new(tcp);
        let mut line = String::new();
        lines.read_line(&mut line).await.unwrap();
        assert_eq!(line, "220 ready\n");
        lines.get_mut().write_all(b"EHLO client\n").await.unwrap();
        line.clear();
        lines.read_line(&mut line).await.unwrap();
        assert_eq!(line, "250 STARTTLS\n");
        lines.get_mut().write_all(b"STARTTLS\n").await.unwrap();
        line.clear();
        lines.read_line(&mut line).await.unwrap();
        assert_eq!(line, "220 go ahead\n");
        assert!(lines.buffer().is_empty());

        let host = HostName::new("localhost").unwrap();
        let mut tls = client.connect(&host, lines.into_inner()).await.unwrap();
        tls.write_all(b"secret").await.unwrap();
        tls.flush().await.unwrap();
        let mut reply = String::new();
        tls.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "250 ok secret");
        server_side.await.unwrap();
    })
    .await;
}

/// A writer whose first write goes out together with `first`: the client's
/// "STARTTLS" line and its ClientHello arrive in one piece.
struct Pipelined<IO> {
    first: Option<Vec<u8>>,
    io: IO,
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Pipelined<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(first) = self.first.take() {
            let joined = [first.as_slice(), buf].concat();
            return match Pin::new(&mut self.io).poll_write(cx, &joined) {
                Poll::Ready(Ok(n)) if n == joined.len() => Poll::Ready(Ok(buf.len())),
                Poll::Ready(Ok(n)) => panic!("short write of {n} bytes in the test pipe"),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.first = Some(first);
                    Poll::Pending
                }
            };
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Pipelined<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

/// The client pipelines its ClientHello right behind "STARTTLS"; the server's
/// line reader buffers part of it. Returns how the server's handshake ended,
/// handing over the buffered bytes or not.
async fn pipelined_upgrade(keep_buffered: bool) -> Result<(), sock_core::Error> {
    let ca = Ca::new("CA");
    // Without the buffered bytes the server waits for a ClientHello that
    // already went by, so that case gets a short server timeout. A handshake
    // that should succeed gets a long one: a debug build on a busy machine
    // can take a few hundred milliseconds for it.
    let server_timeout = if keep_buffered {
        Duration::from_secs(5)
    } else {
        Duration::from_millis(500)
    };
    let server = server_builder(&ca.server(&["localhost"]))
        .handshake_timeout(server_timeout)
        .build()
        .unwrap();
    // The client waits longer than the server, so it is the server's side
    // that decides how the upgrade ended.
    let client = client_trusting(&ca)
        .handshake_timeout(Duration::from_secs(8))
        .build()
        .unwrap();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);

    let server_side = async move {
        let mut lines = BufReader::new(server_io);
        let mut line = String::new();
        lines.read_line(&mut line).await.unwrap();
        assert_eq!(line, "STARTTLS\n");
        let buffered = lines.buffer().to_vec();
        assert!(
            !buffered.is_empty(),
            "the ClientHello was read with the line"
        );
        let io = lines.into_inner();
        let result = if keep_buffered {
            server.accept(PrefixedIo::new(buffered, io)).await
        } else {
            server.accept(PrefixedIo::new(Vec::new(), io)).await
        };
        result.map(drop).map_err(sock_core::Error::from)
    };
    let client_side = async move {
        let io = Pipelined {
            first: Some(b"STARTTLS\n".to_vec()),
            io: client_io,
        };
        let host = HostName::new("localhost").unwrap();
        // Kept (not dropped) until the server is done with its side.
        client.connect(&host, io).await
    };
    let (server_ok, _client_ok) = bounded(async { tokio::join!(server_side, client_side) }).await;
    server_ok
}

#[tokio::test]
async fn pipelined_handshake_bytes_buffered_during_the_plaintext_phase_are_kept() {
    pipelined_upgrade(true).await.unwrap();
    // Dropping them (what a naive upgrade does) stalls the handshake.
    let err = pipelined_upgrade(false).await.unwrap_err();
    assert!(matches!(err, sock_core::Error::TimedOut { .. }), "{err:?}");
}
