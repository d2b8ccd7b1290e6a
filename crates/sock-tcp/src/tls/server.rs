//! The listener's server handshakes: a limit on how many run at once, the
//! first-byte timeout, and shedding the oldest silent one.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use sock_core::{Error, Result};
use sock_tls::{HandshakeError, TlsServerConfig};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::{sleep, Instant};

use crate::deadline::later;
use crate::StreamSocket;

/// At most this many server handshakes of one listener run at once by default
/// (256); further connections wait in the backlog until one finishes.
pub const DEFAULT_MAX_PENDING_TLS_HANDSHAKES: usize = 256;

/// How long a TLS listener waits by default for a new connection's first
/// byte (the ClientHello) before closing it (3 s): separate from, and much
/// shorter than, the whole handshake's timeout, so connections that say
/// nothing cannot hold handshake slots for long.
pub const DEFAULT_TLS_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(3);

type Handshake = std::result::Result<StreamSocket, (std::net::SocketAddr, HandshakeFailure)>;

/// Why a listener's server handshake did not finish.
#[derive(Debug)]
enum HandshakeFailure {
    /// No byte arrived within the first-byte timeout.
    Silent(Duration),
    /// The transport failed while waiting for the first byte.
    Io(io::Error),
    /// The TLS handshake failed or timed out.
    Tls(HandshakeError),
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Silent(after) => write!(
                f,
                "no ClientHello within tls_first_byte_timeout ({after:?})"
            ),
            Self::Io(e) => write!(f, "{e}"),
            Self::Tls(e) => write!(f, "{e}"),
        }
    }
}

/// A handshake running on its own task, and whether its client has sent
/// anything yet.
struct Running {
    abort: AbortHandle,
    heard: Arc<AtomicBool>,
}

#[derive(Default)]
struct Pending {
    tasks: JoinSet<Handshake>,
    /// Oldest first; aborted and finished ones are dropped from it.
    order: VecDeque<Running>,
}

/// The server handshakes of a TLS listener: each runs on its own task, so a
/// client that stalls holds only its own connection.
///
/// A connection that sends nothing is closed after the first-byte timeout;
/// and when `max_pending` handshakes run and another connection waits, the
/// oldest handshake that has heard nothing yet is dropped to make room, so
/// real clients are not queued behind silent ones.
pub(crate) struct ServerTls {
    config: TlsServerConfig,
    max_pending: usize,
    first_byte: Duration,
    pending: Mutex<Pending>,
    failed: AtomicU64,
    shed: AtomicU64,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("config", &self.config)
            .field("max_pending", &self.max_pending)
            .field("first_byte", &self.first_byte)
            .field("failed", &self.failed)
            .field("shed", &self.shed)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    pub(crate) fn new(config: TlsServerConfig, max_pending: usize, first_byte: Duration) -> Self {
        Self {
            config,
            max_pending: max_pending.max(1),
            first_byte,
            pending: Mutex::default(),
            failed: AtomicU64::new(0),
            shed: AtomicU64::new(0),
        }
    }

    /// Failed handshakes so far (those shed and those silent included).
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Silent handshakes dropped to make room for a new connection.
    pub(crate) fn shed(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// The next socket whose handshake finished; new connections are taken
    /// from `accept_tcp` while fewer than `max_pending` handshakes run, or
    /// when one that has heard nothing can be dropped for them.
    pub(crate) fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        mut accept_tcp: impl FnMut(&mut Context<'_>) -> Poll<Result<StreamSocket>>,
    ) -> Poll<Result<StreamSocket>> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = &mut *pending;
        loop {
            while let Poll::Ready(Some(done)) = pending.tasks.poll_join_next(cx) {
                match done {
                    Ok(Ok(socket)) => return Poll::Ready(Ok(socket)),
                    Ok(Err((peer, e))) => {
                        crate::log::server_handshake_failed(Some(peer), &e);
                        self.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if !e.is_cancelled() {
                            crate::log::server_handshake_failed(None, &e);
                        }
                        self.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            pending.order.retain(|r| !r.abort.is_finished());
            // At the limit, a new connection may only take the place of a
            // handshake that has heard nothing from its client.
            let silent = if pending.order.len() >= self.max_pending {
                let oldest = pending
                    .order
                    .iter()
                    .position(|r| !r.heard.load(Ordering::Acquire));
                if oldest.is_none() {
                    return Poll::Pending;
                }
                oldest
            } else {
                None
            };
            match accept_tcp(cx) {
                Poll::Ready(Ok(socket)) => {
                    if let Some(r) = silent.and_then(|i| pending.order.remove(i)) {
                        r.abort.abort();
                        self.shed.fetch_add(1, Ordering::Relaxed);
                        crate::log::silent_handshake_shed(self.max_pending);
                    }
                    let heard = Arc::new(AtomicBool::new(false));
                    let abort = pending.tasks.spawn(handshake(
                        socket,
                        self.config.clone(),
                        self.first_byte,
                        Arc::clone(&heard),
                    ));
                    pending.order.push_back(Running { abort, heard });
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

async fn handshake(
    socket: StreamSocket,
    config: TlsServerConfig,
    first_byte: Duration,
    heard: Arc<AtomicBool>,
) -> Handshake {
    let peer = socket.peer_addr();
    // One timer bounds both waits: first the ClientHello's first byte, then
    // the handshake (moved later, which costs the time driver no wake-up).
    let mut timer = pin!(sleep(first_byte));
    // The client speaks first: wait for its ClientHello, briefly.
    // (A peek: readiness alone may be reported before any byte is there.)
    let mut first = [0u8; 1];
    let peeked = {
        let mut peek = pin!(socket.get_ref().peek(&mut first));
        poll_fn(|cx| match peek.as_mut().poll(cx) {
            Poll::Ready(done) => Poll::Ready(Some(done)),
            Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
        })
        .await
    };
    match peeked {
        Some(Ok(_)) => heard.store(true, Ordering::Release),
        Some(Err(e)) => return Err((peer, HandshakeFailure::Io(e))),
        None => return Err((peer, HandshakeFailure::Silent(first_byte))),
    }
    let Ok((io, rest)) = socket.into_prefixed() else {
        unreachable!("accepted sockets are plain")
    };
    let after = config.handshake_timeout();
    timer.as_mut().reset(later(Instant::now(), after));
    let until = async move {
        timer.await;
        Error::TimedOut {
            operation: "tls handshake",
            after,
        }
    };
    let tls = config
        .accept_until(io, until)
        .await
        .map_err(|e| (peer, HandshakeFailure::Tls(e)))?;
    Ok(rest.with_tls(tls))
}
