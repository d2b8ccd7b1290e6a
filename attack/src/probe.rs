//! The well-behaved client: while an attack runs, it makes one request at a
//! time (a new connection each, as a new client would), times it, and checks
//! the echo byte for byte.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use sock::prelude::*;
use sock::websocket::{Message, MessageWebSocket, WebSocketError};

/// What the probe speaks.
#[derive(Debug, Clone)]
pub(crate) enum Protocol {
    Length,
    Line,
    Tls { ca_pem: String },
    Udp,
    WebSocket,
}

/// What the probe saw.
#[derive(Debug, Default)]
pub(crate) struct ProbeStats {
    pub(crate) latencies: Vec<Duration>,
    /// Requests that got no answer (or an error) within the time allowed.
    pub(crate) lost: u64,
    /// Answers that were not the request.
    pub(crate) corrupted: u64,
    /// The first error seen, for the report.
    pub(crate) first_error: Option<String>,
}

impl ProbeStats {
    /// The `q` quantile (0..=1) of the latencies.
    pub(crate) fn quantile(&self, q: f64) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let last = sorted.len().checked_sub(1)?;
        sorted.get(((last as f64) * q).round() as usize).copied()
    }
}

/// How long one request may take before it counts as lost.
const REQUEST_LIMIT: Duration = Duration::from_secs(5);

/// Makes `count` requests to `port`, one every `every`.
pub(crate) async fn run(
    protocol: &Protocol,
    port: u16,
    count: usize,
    every: Duration,
) -> ProbeStats {
    let mut stats = ProbeStats::default();
    let udp = match protocol {
        Protocol::Udp => DatagramSocket::bind_endpoint(Some(&loopback()), 0)
            .await
            .ok(),
        _ => None,
    };
    for i in 0..count {
        let payload = format!("probe {i:06} {}", "p".repeat(48));
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            REQUEST_LIMIT,
            request(protocol, port, udp.as_ref(), &payload),
        )
        .await;
        match outcome {
            Ok(Ok(echo)) if echo == payload.as_bytes() => stats.latencies.push(started.elapsed()),
            Ok(Ok(_)) => stats.corrupted += 1,
            Ok(Err(e)) => {
                stats.lost += 1;
                stats.first_error.get_or_insert(e);
            }
            Err(_) => {
                stats.lost += 1;
                stats
                    .first_error
                    .get_or_insert_with(|| format!("no answer within {REQUEST_LIMIT:?}"));
            }
        }
        tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
    }
    stats
}

fn loopback() -> HostName {
    HostName::new("127.0.0.1").expect("a valid literal")
}

async fn request(
    protocol: &Protocol,
    port: u16,
    udp: Option<&DatagramSocket>,
    payload: &str,
) -> Result<Vec<u8>, String> {
    let e = |e: Error| sock::Report(&e).to_string();
    match protocol {
        Protocol::Length => {
            let socket = StreamSocket::connect(&loopback(), port).await.map_err(e)?;
            let mut frames = socket.framed(LengthPrefixedCodec::new());
            frames
                .send(Bytes::copy_from_slice(payload.as_bytes()))
                .await
                .map_err(e)?;
            let echo = frames
                .next()
                .await
                .ok_or("closed before the echo")?
                .map_err(e)?;
            Ok(echo.to_vec())
        }
        Protocol::Line => {
            let socket = StreamSocket::connect(&loopback(), port).await.map_err(e)?;
            line_exchange(socket, payload).await
        }
        Protocol::Tls { ca_pem } => {
            let socket = StreamSocket::builder()
                .protection_level(ProtectionLevel::Tls13)
                .with_os_roots(false)
                .add_root_certificates_pem(ca_pem.as_bytes())
                .connect(&HostName::new("localhost").map_err(e)?, port)
                .await
                .map_err(e)?;
            line_exchange(socket, payload).await
        }
        Protocol::WebSocket => {
            let w = |e: WebSocketError| e.to_string();
            let uri = format!("ws://127.0.0.1:{port}/");
            let mut ws = MessageWebSocket::builder().connect(&uri).await.map_err(w)?;
            ws.send(Message::text(payload)).await.map_err(w)?;
            let echo = ws
                .next()
                .await
                .ok_or("closed before the echo")?
                .map_err(w)?;
            Ok(echo.into_data().to_vec())
        }
        Protocol::Udp => {
            let socket = udp.ok_or("no datagram socket")?;
            let to = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            socket
                .send_to_addr(to, payload.as_bytes())
                .await
                .map_err(e)?;
            // Under a flood a datagram may be dropped: that is UDP, and the
            // request counts as lost after a second.
            let wait = tokio::time::timeout(Duration::from_secs(1), async {
                loop {
                    let msg = socket.recv().await.map_err(e)?;
                    if msg.data.as_ref() == payload.as_bytes() || !msg.data.starts_with(b"probe ") {
                        return Ok::<_, String>(msg.data.to_vec());
                    }
                    // An echo of an earlier, late request: keep waiting.
                }
            });
            wait.await.map_err(|_| "datagram lost".to_owned())?
        }
    }
}

async fn line_exchange(socket: StreamSocket, payload: &str) -> Result<Vec<u8>, String> {
    let e = |e: Error| sock::Report(&e).to_string();
    let mut lines = socket.framed(LineCodec::new());
    lines.send(payload).await.map_err(e)?;
    let echo = lines
        .next()
        .await
        .ok_or("closed before the echo")?
        .map_err(e)?;
    Ok(echo.into_bytes())
}
