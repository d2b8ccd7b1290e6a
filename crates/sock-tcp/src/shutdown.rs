//! `ShutdownSignal`: a served connection's view of its server's graceful
//! shutdown.

use tokio_util::sync::CancellationToken;

use crate::StreamSocket;

/// A served connection's view of its server's graceful shutdown; from
/// [`StreamSocket::shutdown_signal`].
///
/// When the server's shutdown signal completes, the server stops accepting
/// and this signal fires; a handler that `select!`s on
/// [`shutting_down`](Self::shutting_down) can finish its exchange and close
/// the connection cleanly instead of being aborted at the shutdown timeout.
/// On a socket that no [`Serve`](crate::Serve) handed out it never fires.
#[derive(Debug, Clone, Default)]
pub struct ShutdownSignal {
    token: Option<CancellationToken>,
}

impl ShutdownSignal {
    pub(crate) fn new(token: CancellationToken) -> Self {
        Self { token: Some(token) }
    }

    /// Completes when the server starts shutting down (at once if it has).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only watches.
    pub async fn shutting_down(&self) {
        match &self.token {
            Some(token) => token.cancelled().await,
            None => std::future::pending().await,
        }
    }

    /// Whether the server has started shutting down.
    pub fn is_shutting_down(&self) -> bool {
        self.token
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
    }
}

impl StreamSocket {
    /// The graceful shutdown of the server that handed this socket out: a
    /// handler `select!`s on its
    /// [`shutting_down`](crate::ShutdownSignal::shutting_down) to finish and
    /// close promptly when the server stops; see [`Serve`](crate::Serve).
    /// On a socket that no server handed out, it never fires.
    pub fn shutdown_signal(&self) -> ShutdownSignal {
        self.shared
            .server_shutdown
            .get()
            .map_or_else(ShutdownSignal::default, |token| {
                ShutdownSignal::new(token.clone())
            })
    }

    pub(crate) fn set_shutdown_signal(&self, token: &CancellationToken) {
        let _ = self.shared.server_shutdown.set(token.clone());
    }
}
