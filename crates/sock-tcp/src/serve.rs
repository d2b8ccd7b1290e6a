//! `Serve`: a task per connection, a cap on concurrent connections, an idle
//! timeout, and graceful shutdown.

use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sock_core::Error;
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use crate::{StreamSocket, StreamSocketListener};

/// At most this many connections are handled at once by default (4096);
/// further ones wait in the listener's backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// How long a served connection's read or write may wait for the peer by
/// default (60 s) before it fails with `ConnectionTimedOut`: a peer that
/// connects and goes quiet (slowloris) cannot hold a task forever.
pub const DEFAULT_SERVE_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a graceful shutdown waits for running handlers by default (30 s)
/// before aborting them.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// What a connection handler returns: `()`, or a `Result` whose `Err` counts
/// as a failure in the [`ServeReport`].
pub trait HandlerOutcome: Send + 'static {
    /// Whether the handler failed.
    fn is_failure(&self) -> bool;
}

impl HandlerOutcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T: Send + 'static, E: Send + 'static> HandlerOutcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// How a [`serve`](StreamSocketListener::serve) run went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeReport {
    /// Connections accepted (each got a handler task).
    pub accepted: u64,
    /// Handlers that finished successfully.
    pub completed: u64,
    /// Handlers that returned an error.
    pub failed: u64,
    /// Handlers that panicked (the server went on).
    pub panicked: u64,
    /// Handlers still running at the shutdown deadline, which were aborted.
    pub aborted: u64,
    /// Accept failures that were not about one connection (out of file
    /// descriptors, …); each was followed by a pause, then accepting resumed.
    pub accept_errors: u64,
    /// On a TLS listener, connections whose handshake failed or timed out
    /// (each was closed; no handler ran for it).
    pub failed_tls_handshakes: u64,
}

impl ServeReport {
    fn record(&mut self, done: Result<bool, JoinError>) {
        match done {
            Ok(false) => self.completed += 1,
            Ok(true) => self.failed += 1,
            Err(e) if e.is_panic() => self.panicked += 1,
            Err(_) => self.aborted += 1,
        }
    }
}

/// A server over a [`StreamSocketListener`]: made by
/// [`StreamSocketListener::serve`], configured with the methods below, and run
/// by `.await`ing it.
///
/// Each accepted connection is handed to the handler on its own task, with
/// the listener's options applied and an idle timeout
/// ([`DEFAULT_SERVE_IDLE_TIMEOUT`]). At most
/// [`max_connections`](Self::max_connections) handlers run at once; further
/// connections wait in the backlog. The accept loop never stops on a
/// connection's failure, and after resource errors (`TooManyOpenFiles`) it
/// pauses and resumes. A handler that fails or panics affects no other.
/// [`cancel_io`](crate::CancelIoHandle::cancel_io) through the listener's
/// [`cancel_io_handle`](StreamSocketListener::cancel_io_handle) ends only the
/// accept waiting at that moment; the server starts a new one at once and
/// goes on serving (nothing is counted in the report).
///
/// Without [`with_graceful_shutdown`](Self::with_graceful_shutdown) it serves
/// forever. When the shutdown signal completes, it stops accepting (the
/// listener is closed), waits for the running handlers up to
/// [`shutdown_timeout`](Self::shutdown_timeout), aborts those still running,
/// and returns a [`ServeReport`].
#[must_use = "a server does nothing until awaited"]
pub struct Serve<H> {
    listener: StreamSocketListener,
    handler: H,
    max_connections: usize,
    /// `None` until set: then the listener's idle timeout, or the default.
    idle_timeout: Option<Option<Duration>>,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    shutdown_timeout: Duration,
}

impl<H> fmt::Debug for Serve<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("graceful_shutdown", &self.shutdown.is_some())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

impl<H> Serve<H> {
    pub(crate) fn new(listener: StreamSocketListener, handler: H) -> Self {
        Self {
            listener,
            handler,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: None,
            shutdown: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }

    /// The most connections handled at once ([`DEFAULT_MAX_CONNECTIONS`]; at
    /// least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// The idle timeout of every served socket; `None` lets reads and
    /// writes wait forever (for long-lived quiet connections that have their
    /// own heartbeat). Unless set here, served sockets keep the idle timeout
    /// of the listener's control, or get [`DEFAULT_SERVE_IDLE_TIMEOUT`] when
    /// the control has none.
    ///
    /// The timeout bounds each read and write, so a peer that keeps sending
    /// a byte now and then stays within it. Handlers that read frames bound
    /// a whole frame with
    /// [`FrameReader::set_frame_timeout`](sock_codec::FrameReader::set_frame_timeout).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Shuts down gracefully when `signal` completes.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// How long a graceful shutdown waits for running handlers
    /// ([`DEFAULT_SHUTDOWN_TIMEOUT`]).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }
}

impl<H, F> IntoFuture for Serve<H>
where
    H: Fn(StreamSocket) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutcome,
{
    type Output = ServeReport;
    type IntoFuture = Pin<Box<dyn Future<Output = ServeReport> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<H> Serve<H> {
    async fn run<F>(self) -> ServeReport
    where
        H: Fn(StreamSocket) -> F + Send + Sync + 'static,
        F: Future + Send + 'static,
        F::Output: HandlerOutcome,
    {
        let Self {
            listener,
            handler,
            max_connections,
            idle_timeout,
            shutdown,
            shutdown_timeout,
        } = self;
        let idle_timeout = idle_timeout.unwrap_or_else(|| {
            listener
                .options()
                .idle_timeout
                .or(Some(DEFAULT_SERVE_IDLE_TIMEOUT))
        });
        let handler = Arc::new(handler);
        let mut shutdown = shutdown.unwrap_or_else(|| Box::pin(std::future::pending()));
        let permits = Arc::new(Semaphore::new(max_connections));
        let mut tasks: JoinSet<bool> = JoinSet::new();
        let mut report = ServeReport::default();
        #[cfg(feature = "tls")]
        let failed_before = listener.failed_tls_handshakes();
        let mut incoming = listener.incoming();

        'serve: loop {
            let permit = tokio::select! {
                biased;
                () = &mut shutdown => break 'serve,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    report.record(done);
                    continue 'serve;
                }
                permit = Arc::clone(&permits).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => unreachable!("the semaphore is never closed"),
                },
            };
            let mut socket = loop {
                tokio::select! {
                    biased;
                    () = &mut shutdown => break 'serve,
                    Some(done) = tasks.join_next(), if !tasks.is_empty() => report.record(done),
                    next = poll_fn(|cx| incoming.poll_next_socket(cx)) => match next {
                        Ok(socket) => break socket,
                        // cancel_io through a handle: only that accept ends.
                        Err(Error::Cancelled { .. }) => {}
                        Err(_) => report.accept_errors += 1,
                    },
                }
            };
            report.accepted += 1;
            socket.set_idle_timeout(idle_timeout);
            let handler = Arc::clone(&handler);
            tasks.spawn(async move {
                let _permit = permit;
                handler(socket).await.is_failure()
            });
        }

        // Stop accepting: the listener closes, new connections are refused.
        drop(incoming);
        #[cfg(feature = "tls")]
        {
            report.failed_tls_handshakes = listener.failed_tls_handshakes() - failed_before;
        }
        drop(listener);
        let deadline = Instant::now() + shutdown_timeout;
        loop {
            match tokio::time::timeout_at(deadline, tasks.join_next()).await {
                Ok(Some(done)) => report.record(done),
                Ok(None) => break,
                Err(_) => {
                    tasks.abort_all();
                    while let Some(done) = tasks.join_next().await {
                        report.record(done);
                    }
                    break;
                }
            }
        }
        report
    }
}
