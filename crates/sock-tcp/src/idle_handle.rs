//! `IdleHandle`: tells a handler its connection went idle, without closing
//! it (for heartbeats).

use std::time::Duration;

use tokio::time::Instant;

use crate::idle::IdleKind;
use crate::io::Shared;
use crate::StreamSocket;

/// Tells when a socket goes idle, without closing it: for heartbeats, as
/// Netty's `IdleStateEvent`. Made by
/// [`StreamSocket::idle_handle`](crate::StreamSocket::idle_handle) and the
/// halves' `idle_handle`.
///
/// Cheap to clone and `Send`: keep one beside a `Framed` or a split half and
/// `select!` on [`idle`](Self::idle) next to the reads.
///
/// ```no_run
/// use std::time::Duration;
/// use futures::{SinkExt, StreamExt};
/// use sock_tcp::{IdleKind, StreamSocket};
/// use tokio_util::codec::LinesCodec;
///
/// # #[allow(dead_code)]
/// async fn handler(socket: StreamSocket) -> Result<(), Box<dyn std::error::Error>> {
///     let idle = socket.idle_handle();
///     let mut lines = socket.framed(LinesCodec::new());
///     loop {
///         tokio::select! {
///             line = lines.next() => match line {
///                 Some(line) => lines.send(line?).await?,
///                 None => return Ok(()),
///             },
///             // Nothing sent for 15 s: tell the peer we are still here.
///             _ = idle.idle(IdleKind::Write, Duration::from_secs(15)) => {
///                 lines.send("PING").await?;
///             }
///         }
///     }
/// }
/// ```
///
/// This is not TCP keep-alive
/// ([`keep_alive`](crate::StreamSocketControl::keep_alive)): keep-alive
/// probes are sent by the kernel, carry no data, are invisible to the
/// application and to idle detection, and only find a peer that vanished
/// (after minutes, by default). Idle detection sees the application's
/// traffic, so it also finds a peer that is connected but silent, and a
/// heartbeat it triggers is traffic that middleboxes and the peer see.
#[derive(Debug, Clone)]
pub struct IdleHandle {
    shared: std::sync::Arc<Shared>,
}

impl IdleHandle {
    pub(crate) fn new(shared: &std::sync::Arc<Shared>) -> Self {
        shared.activity.track();
        Self {
            shared: std::sync::Arc::clone(shared),
        }
    }

    /// Waits until the socket has been idle of `kind` for `after`, counted
    /// from the later of its last such traffic and this call, and returns how
    /// long it had been idle. The connection is not touched.
    ///
    /// Counting from the call means that, in a loop that answers each idle
    /// wait with a heartbeat, the next wait ends `after` later even when the
    /// heartbeat does not count for `kind` (a ping on read-idle).
    ///
    /// Traffic is what the socket's reads and writes moved: bytes the peer
    /// sent that nobody has read yet do not count.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only watches.
    pub async fn idle(&self, kind: IdleKind, after: Duration) -> Duration {
        let activity = &self.shared.activity;
        let since = Instant::now();
        loop {
            let deadline = activity.last(kind).max(since) + after;
            if Instant::now() >= deadline {
                return activity.last(kind).elapsed();
            }
            tokio::time::sleep_until(deadline).await;
        }
    }

    /// How long since the socket last moved bytes of `kind` (since the first
    /// idle timeout or handle, for a socket that has not moved any since).
    pub fn idle_for(&self, kind: IdleKind) -> Duration {
        self.shared.activity.last(kind).elapsed()
    }
}

impl StreamSocket {
    /// A handle that tells when the connection goes idle, without closing
    /// it: for heartbeats. It stays valid after [`framed`](Self::framed) or
    /// [`into_split`](Self::into_split).
    pub fn idle_handle(&self) -> IdleHandle {
        IdleHandle::new(&self.shared)
    }
}
