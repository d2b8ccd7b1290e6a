//! Fault injection for the sock-tcp fault tests: an in-test TCP proxy on
//! loopback that passes bytes between a client and a server and can delay,
//! cut, reset or trickle them (no kernel help needed), a frame echo handler
//! for `serve` that reports how each connection ended, and the process's
//! resident memory.
//!
//! Use with `mod support; mod faults;` (the proxy's waits use
//! `support::within`).
#![allow(dead_code)]

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use sock_codec::{FrameReader, FrameWriter};
use sock_core::{Error, SocketErrorStatus};
use sock_tcp::{ServeReport, StreamSocket};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What the proxy does to the bytes going one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Passes every byte as it comes.
    Pass,
    /// Passes every byte, each `Duration` later than it came (latency, not a
    /// throughput cap).
    Delay(Duration),
    /// Passes `bytes` bytes at a time, pausing `every` between them.
    Trickle { bytes: usize, every: Duration },
    /// Passes the first `n` bytes, then closes both connections gracefully
    /// (FIN both ways), as a peer that vanishes between two writes.
    CutAfter(usize),
    /// Passes the first `n` bytes, then resets both connections (RST both
    /// ways), as a peer that crashes.
    ResetAfter(usize),
}

/// A proxy listening on `127.0.0.1`: every connection to it is relayed to
/// `upstream`, with `to_server` applied to client→server bytes and
/// `to_client` to server→client bytes. Stops (and drops every relay) when
/// dropped.
#[derive(Debug)]
pub(crate) struct Proxy {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream`.
    pub(crate) async fn start(upstream: SocketAddr, to_server: Fault, to_client: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            let mut relays = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                relays.spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(client, server, to_server, to_client).await;
                    }
                });
            }
        });
        Self { addr, accept }
    }

    /// The port clients connect to.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts the relays.
        self.accept.abort();
    }
}

/// How one direction of a relay ended.
enum Ended {
    /// The sender closed its side; the FIN was passed on.
    Eof,
    /// Reading or writing failed.
    Failed,
    /// The fault closed both connections.
    Cut,
    /// The fault reset both connections.
    Reset,
}

async fn relay(mut client: TcpStream, mut server: TcpStream, to_server: Fault, to_client: Fault) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let ended = {
        // Borrowed halves: dropping them sends nothing, so a reset is an RST
        // with no FIN before it.
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let up = pump(client_read, server_write, to_server);
        let down = pump(server_read, client_write, to_client);
        tokio::pin!(up, down);
        let (mut up_done, mut down_done) = (false, false);
        loop {
            let ended = tokio::select! {
                e = &mut up, if !up_done => { up_done = true; e }
                e = &mut down, if !down_done => { down_done = true; e }
            };
            // A fault ends both directions at once.
            if !matches!(ended, Ended::Eof) || (up_done && down_done) {
                break ended;
            }
        }
    };
    match ended {
        Ended::Reset => {
            // Linger 0: closing sends RST instead of FIN.
            for stream in [&client, &server] {
                let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
            }
        }
        Ended::Cut => {
            let _ = client.shutdown().await;
            let _ = server.shutdown().await;
        }
        Ended::Eof | Ended::Failed => {}
    }
}

/// Passes bytes from `from` to `to` with `fault` applied.
async fn pump<R, W>(mut from: R, mut to: W, fault: Fault) -> Ended
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let limit = match fault {
        Fault::CutAfter(n) | Fault::ResetAfter(n) => n,
        Fault::Delay(by) => return delayed(from, to, by).await,
        Fault::Pass | Fault::Trickle { .. } => usize::MAX,
    };
    let mut passed = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if passed == limit {
            return match fault {
                Fault::ResetAfter(_) => Ended::Reset,
                _ => Ended::Cut,
            };
        }
        let room = buf.len().min(limit - passed);
        let n = match from.read(&mut buf[..room]).await {
            Ok(0) => {
                let _ = to.shutdown().await;
                return Ended::Eof;
            }
            Ok(n) => n,
            Err(_) => return Ended::Failed,
        };
        let written = match fault {
            Fault::Trickle { bytes, every } => {
                let mut ok = true;
                for (i, piece) in buf[..n].chunks(bytes.max(1)).enumerate() {
                    if i > 0 {
                        tokio::time::sleep(every).await;
                    }
                    if to.write_all(piece).await.is_err() {
                        ok = false;
                        break;
                    }
                }
                ok
            }
            _ => to.write_all(&buf[..n]).await.is_ok(),
        };
        if !written {
            return Ended::Failed;
        }
        passed += n;
    }
}

/// Passes every chunk `by` after it was read, reading on meanwhile.
async fn delayed<R, W>(mut from: R, mut to: W, by: Duration) -> Ended
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Bytes)>();
    let read = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx
                        .send((Instant::now(), Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    };
    let write = async move {
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at + by).await;
            if to.write_all(&chunk).await.is_err() {
                return Ended::Failed;
            }
        }
        let _ = to.shutdown().await;
        Ended::Eof
    };
    tokio::join!(read, write).1
}

/// A `serve` handler: echoes length-prefixed frames (default limits) until
/// the peer closes, then closes gracefully. Returns how many frames it echoed.
pub(crate) async fn echo_frames(socket: StreamSocket) -> sock_core::Result<u64> {
    let (input, output) = socket.into_split();
    let mut frames = FrameReader::new(input);
    let mut replies = FrameWriter::new(output);
    let mut echoed = 0;
    while let Some(frame) = frames.next().await {
        replies.send(frame?).await?;
        echoed += 1;
    }
    replies.close().await?;
    Ok(echoed)
}

/// How a served connection ended, as the handler saw it (sock-core's
/// `Error` is not `Clone`, so the parts the tests check are copied out).
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The peer closed between frames after this many were echoed.
    Echoed(u64),
    /// The handler failed.
    Failed {
        status: SocketErrorStatus,
        /// `Some(name)` for `Error::LimitExceeded`.
        limit: Option<&'static str>,
        /// For `Error::LimitExceeded`: the size the peer announced.
        announced: u64,
        message: String,
    },
}

/// `echo_frames`, sending each connection's [`Outcome`] on `outcomes`.
pub(crate) fn reporting_echo(
    outcomes: mpsc::UnboundedSender<Outcome>,
) -> impl Fn(StreamSocket) -> BoxFuture<'static, sock_core::Result<u64>> + Send + Sync + 'static {
    move |socket| {
        let outcomes = outcomes.clone();
        Box::pin(async move {
            let result = echo_frames(socket).await;
            let outcome = match &result {
                Ok(n) => Outcome::Echoed(*n),
                Err(e) => Outcome::Failed {
                    status: e.status(),
                    limit: match e {
                        Error::LimitExceeded { limit, .. } => Some(limit),
                        _ => None,
                    },
                    announced: match e {
                        Error::LimitExceeded { actual, .. } => *actual,
                        _ => 0,
                    },
                    message: e.to_string(),
                },
            };
            let _ = outcomes.send(outcome);
            result
        })
    }
}

/// This process's resident memory in bytes (`VmRSS` in /proc/self/status).
pub(crate) fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

/// A length-prefixed frame (default wire format) holding `payload`.
pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
    let mut wire = (payload.len() as u32).to_be_bytes().to_vec();
    wire.extend_from_slice(payload);
    wire
}

/// A `serve` run of [`reporting_echo`] on `127.0.0.1`, stopped gracefully by
/// [`stop`](Self::stop).
#[derive(Debug)]
pub(crate) struct EchoServer {
    /// The listener's address.
    pub(crate) addr: SocketAddr,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: JoinHandle<ServeReport>,
}

impl EchoServer {
    /// Starts serving; `idle` is `serve`'s idle timeout (`None`: its default).
    pub(crate) async fn start(idle: Option<Duration>) -> Self {
        let listener = crate::support::listener().await;
        let addr = listener.local_addr();
        let (tx, outcomes) = mpsc::unbounded_channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut serve = listener.serve(reporting_echo(tx));
        if let Some(idle) = idle {
            serve = serve.idle_timeout(Some(idle));
        }
        let task = tokio::spawn(
            serve
                .shutdown_timeout(Duration::from_secs(5))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .into_future(),
        );
        Self {
            addr,
            outcomes,
            stop,
            task,
        }
    }

    /// The listener's port.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The outcome of the next connection to end.
    pub(crate) async fn next_outcome(&mut self) -> Outcome {
        crate::support::within(self.outcomes.recv())
            .await
            .expect("the server is running")
    }

    /// Shuts down gracefully and returns the report.
    pub(crate) async fn stop(self) -> ServeReport {
        let _ = self.stop.send(());
        crate::support::within(self.task).await.unwrap()
    }
}

/// Sends `payload` as one frame on `socket` and reads its echo.
pub(crate) async fn echo_once(socket: &mut StreamSocket, payload: &[u8]) {
    socket.write_all(&frame(payload)).await.unwrap();
    let mut reply = vec![0u8; 4 + payload.len()];
    crate::support::within(socket.read_exact(&mut reply))
        .await
        .unwrap();
    assert_eq!(reply, frame(payload));
}
