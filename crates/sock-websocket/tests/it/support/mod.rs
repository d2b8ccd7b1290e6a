//! Helpers shared by the integration tests: bounded waits, a loopback
//! WebSocket server that reports how each connection ended, and a raw client
//! that writes frames byte by byte, as no library would.
#![allow(dead_code, unreachable_pub)]

pub mod peers;

use std::future::Future;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sock_core::HostName;
use sock_tcp::StreamSocketListener;
use sock_websocket::{MessageWebSocket, ServerWebSocketControl, WebSocketError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// The longest any single step of a test may take.
pub const STEP: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than [`STEP`].
pub async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, fut)
        .await
        .expect("the step did not finish in time")
}

/// A listener on 127.0.0.1 with a system-chosen port, and its `ws://` URI.
pub async fn listener() -> (StreamSocketListener, String) {
    let lo = HostName::new("127.0.0.1").unwrap();
    let listener = StreamSocketListener::bind_endpoint(Some(&lo), 0)
        .await
        .unwrap();
    let uri = format!("ws://127.0.0.1:{}/", listener.information().local_port);
    (listener, uri)
}

/// How a served connection ended.
pub type Ending = Result<Option<sock_websocket::CloseFrame>, WebSocketError>;

/// An echo server accepting upgrades with `control`; each connection's
/// ending (the peer's close frame, or the error) comes out of the receiver.
pub async fn echo_server(
    control: ServerWebSocketControl,
) -> (String, mpsc::UnboundedReceiver<Ending>) {
    let (listener, uri) = listener().await;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok(socket) = listener.accept().await else {
                return;
            };
            let control = control.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let ending = match control.accept(socket).await {
                    Ok(ws) => echo(ws).await,
                    Err(e) => Err(e),
                };
                let _ = tx.send(ending);
            });
        }
    });
    (uri, rx)
}

/// Echoes every message until the stream ends; gives the peer's close.
pub async fn echo(mut ws: MessageWebSocket) -> Ending {
    while let Some(message) = ws.next().await {
        ws.send(message?).await?;
    }
    Ok(ws.close_frame())
}

/// A TCP client that speaks WebSocket by hand.
pub struct RawClient {
    pub tcp: TcpStream,
}

impl RawClient {
    /// Connects to `uri` (a `ws://127.0.0.1:port/` URI) and sends `request`
    /// as the whole HTTP head.
    pub async fn connect_with(uri: &str, request: &str) -> Self {
        let addr = uri
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .to_owned();
        let mut tcp = within(TcpStream::connect(addr)).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        Self { tcp }
    }

    /// Connects and completes a valid upgrade.
    pub async fn connect(uri: &str) -> Self {
        let mut client = Self::connect_with(uri, &upgrade_request("")).await;
        let head = client.read_head().await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        client
    }

    /// Reads an HTTP head, byte by byte so no frame byte is taken.
    pub async fn read_head(&mut self) -> String {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let byte = within(self.tcp.read_u8())
                .await
                .expect("the head ended early");
            head.push(byte);
        }
        String::from_utf8(head).unwrap()
    }

    /// Writes bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.unwrap();
    }

    /// Writes one masked frame: `first` is the first header byte (FIN, RSV
    /// and opcode as given).
    pub async fn send_frame(&mut self, first: u8, payload: &[u8]) {
        self.send_raw(&masked_frame(first, payload)).await;
    }

    /// Reads one frame from the server: its first header byte and payload.
    /// `None` when the connection ended.
    pub async fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut head = [0u8; 2];
        within(self.tcp.read_exact(&mut head)).await.ok()?;
        assert_eq!(head[1] & 0x80, 0, "the server masked a frame");
        let len = match head[1] & 0x7F {
            126 => u64::from(within(self.tcp.read_u16()).await.ok()?),
            127 => within(self.tcp.read_u64()).await.ok()?,
            n => u64::from(n),
        };
        let mut payload = vec![0u8; len as usize];
        within(self.tcp.read_exact(&mut payload)).await.ok()?;
        Some((head[0], payload))
    }

    /// Reads frames until a close frame; gives its code (`None` for an
    /// empty close) — skipping data and pongs.
    pub async fn read_close(&mut self) -> Option<u16> {
        loop {
            let (first, payload) = self.read_frame().await.expect("no close frame came");
            if first & 0x0F == 0x8 {
                return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            }
        }
    }

    /// Waits until the server closes the TCP connection (end of stream or a
    /// reset).
    pub async fn expect_closed(&mut self) {
        let mut buf = [0u8; 1024];
        loop {
            match within(self.tcp.read(&mut buf)).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

/// A valid upgrade request for `/` with `extra` header lines.
pub fn upgrade_request(extra: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// One frame as a client sends it: `first` header byte, masked payload.
pub fn masked_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// A close payload: code then reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut out = code.to_be_bytes().to_vec();
    out.extend_from_slice(reason);
    out
}

/// Sends through a sink and flushes, bounded.
pub async fn send<S, M>(sink: &mut S, message: M)
where
    S: futures::Sink<M> + Unpin,
    S::Error: std::fmt::Debug,
{
    within(sink.send(message)).await.unwrap();
}
