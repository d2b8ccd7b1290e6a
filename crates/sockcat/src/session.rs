//! One session: a connection's messages bridged with its local end, both
//! ways at once, until the peer is done (or the local end, with `--eof
//! close`), `--count` messages arrived, or nothing moved for
//! `--idle-timeout`. At the end of local input the write side is
//! half-closed and reading goes on, as ncat does.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{Sink, SinkExt, Stream, StreamExt};
use sock::Bytes;
use tokio::time::Instant;

use crate::broker::Hub;
use crate::cli::EofAction;
use crate::exec;
use crate::exit::Failure;
use crate::format::{Direction, OutputFormat};
use crate::hexdump;
use crate::local::{Local, Stdout};
use crate::stats::Stats;

/// How long a UDP client waits for replies after the end of stdin when no
/// idle timeout is set.
pub(crate) const DEFAULT_UDP_LINGER: Duration = Duration::from_secs(1);

/// How long closing a connection at the end of a session may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A received message and, for datagrams, who sent it.
#[derive(Debug)]
pub(crate) struct Received {
    /// The payload.
    pub(crate) data: Bytes,
    /// The sender, when it is not the session's one peer.
    pub(crate) from: Option<String>,
}

impl From<Bytes> for Received {
    fn from(data: Bytes) -> Self {
        Self { data, from: None }
    }
}

/// Messages from the peer.
pub(crate) type Incoming = Pin<Box<dyn Stream<Item = Result<Received, Failure>> + Send>>;
/// Messages to the peer; closing it half-closes the connection.
pub(crate) type Outgoing = Pin<Box<dyn Sink<Bytes, Error = Failure> + Send>>;

/// A connection, whatever its transport.
pub(crate) struct Conn {
    /// The peer, for messages and dumps.
    pub(crate) peer: String,
    /// What the peer sends.
    pub(crate) rx: Incoming,
    /// What goes to the peer.
    pub(crate) tx: Outgoing,
    /// A UDP client: after the end of input it waits for replies until
    /// things go quiet, then ends normally.
    pub(crate) linger: bool,
}

/// What every session of a run shares.
#[derive(Debug)]
pub(crate) struct Settings {
    /// How received messages are written.
    pub(crate) output: OutputFormat,
    /// What the end of local input does.
    pub(crate) eof: EofAction,
    /// `--idle-timeout`.
    pub(crate) idle: Option<Duration>,
    /// `--count`.
    pub(crate) count: Option<u64>,
    /// `--hexdump`.
    pub(crate) hexdump: bool,
    /// Stdout, for `--show-sent`.
    pub(crate) stdout: Option<Stdout>,
    /// The run's counters.
    pub(crate) stats: Arc<Stats>,
}

/// Relaying a session's messages to the other connections (`--broker`).
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    /// The hub of the listener.
    pub(crate) hub: Arc<Hub>,
    /// This connection's id in it.
    pub(crate) id: u64,
}

/// Runs one session to its end.
pub(crate) async fn run(
    conn: Conn,
    local: Local,
    settings: &Settings,
    relay: Option<Relay>,
) -> Result<(), Failure> {
    let Local {
        input,
        output,
        child,
    } = local;
    let exec = child.is_some();
    let result = bridge(conn, input, output, exec, settings, relay).await;
    if let Some(child) = child {
        exec::reap(child).await;
    }
    result
}

async fn bridge(
    conn: Conn,
    mut input: crate::local::InputRx,
    output: crate::local::LocalOut,
    exec: bool,
    settings: &Settings,
    relay: Option<Relay>,
) -> Result<(), Failure> {
    let Conn {
        peer,
        mut rx,
        mut tx,
        linger,
    } = conn;
    settings.stats.connected();
    let start = Instant::now();
    let last = AtomicU64::new(0);
    let touch = || last.store(millis(start.elapsed()), Ordering::Relaxed);
    let peer = peer.as_str();

    let mut closed = false;
    let result = {
        // Local input to the peer. Ends `true` when the session should end.
        let up = async {
            while let Some(message) = input.recv().await {
                let data = message?;
                touch();
                settings.stats.sent(data.len());
                if settings.hexdump {
                    hexdump::print(Direction::Out, peer, &data);
                }
                if let Some(stdout) = &settings.stdout {
                    stdout
                        .write(settings.output.render(Direction::Out, Some(peer), &data))
                        .await?;
                }
                tx.send(data).await?;
            }
            match settings.eof {
                EofAction::HalfClose => {
                    closed = true;
                    tx.close().await.map(|()| false)
                }
                EofAction::Close => Ok(true),
                EofAction::Keep => Ok(false),
            }
        };

        // The peer's messages to the local end. Ends `true` when --count is
        // reached; the local end (an --exec command's stdin) closes with it.
        let down = async {
            let mut output = output;
            let mut received = 0u64;
            while let Some(message) = rx.next().await {
                let Received { data, from } = message?;
                touch();
                settings.stats.received(data.len());
                let from = from.as_deref().unwrap_or(peer);
                if settings.hexdump {
                    hexdump::print(Direction::In, from, &data);
                }
                if let Some(relay) = &relay {
                    relay.hub.broadcast(&data, Some(relay.id)).await;
                }
                output
                    .write(settings.output.render(Direction::In, Some(from), &data))
                    .await?;
                received += 1;
                if settings.count.is_some_and(|count| received >= count) {
                    return Ok(true);
                }
            }
            Ok::<bool, Failure>(false)
        };

        tokio::pin!(up, down);
        let (mut up_done, mut down_done) = (false, false);
        let result: Result<(), Failure> = loop {
            let lingering = linger && up_done;
            let limit = match settings.idle {
                Some(limit) => Some(limit),
                None if lingering => Some(DEFAULT_UDP_LINGER),
                None => None,
            };
            let quiet_until = limit
                .map(|limit| start + Duration::from_millis(last.load(Ordering::Relaxed)) + limit);
            tokio::select! {
                ended = &mut up, if !up_done => {
                    up_done = true;
                    match ended {
                        Ok(true) => break Ok(()),
                        Ok(false) => {}
                        Err(e) => break Err(e),
                    }
                }
                counted = &mut down, if !down_done => {
                    down_done = true;
                    // The peer is done. A command gets the end of its input and
                    // the session goes on until its output ends; stdin is left.
                    match counted {
                        Ok(counted) if counted || !exec => break Ok(()),
                        Ok(_) => {}
                        Err(e) => break Err(e),
                    }
                }
                () = sleep_until(quiet_until) => {
                    let quiet = start.elapsed().saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
                    if let Some(limit) = limit.filter(|limit| quiet >= *limit) {
                        break if lingering { Ok(()) } else { Err(Failure::IdleTimeout(limit)) };
                    }
                }
            }
            if up_done && down_done {
                break Ok(());
            }
        };
        result
    };
    // A session that ended well ends its side properly too: TLS sends its
    // close_notify, a WebSocket its close frame, TCP its FIN.
    if result.is_ok() && !closed {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, tx.close()).await;
    }
    result
}

/// Sleeps until `deadline`, or for ever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
