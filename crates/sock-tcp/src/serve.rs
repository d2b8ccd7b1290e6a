//! `Serve`: a task per connection, a cap on concurrent connections, idle
//! timeouts, handler errors reported, and graceful shutdown that handlers
//! can see.

use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use sock_core::{Error, SocketErrorStatus};
use std::collections::{HashMap, HashSet};

use tokio::sync::Semaphore;
use tokio::task::{self, AbortHandle, JoinError, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::idle::{IdleKind, IdleTimeouts};
use crate::io::Shared;
use crate::{StreamSocket, StreamSocketListener};

/// At most this many connections are handled at once by default (4096);
/// further ones wait in the listener's backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// How long a served connection may stay idle by default (60 s), with no
/// bytes read or written, before its waiting read or write fails with
/// `ConnectionTimedOut`: a peer that connects and goes quiet (slowloris)
/// cannot hold a task forever, while a connection that only pushes data or
/// only receives it stays up.
pub const DEFAULT_SERVE_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a graceful shutdown waits for running handlers by default (30 s)
/// before aborting them.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// At its connection limit, `serve` by default makes room for a new
/// connection by closing the one idle longest, when that one has been idle
/// (no traffic either way) for at least this long (1 s); see
/// [`Serve::shed_idle_at_limit`].
pub const DEFAULT_SHED_MIN_IDLE: Duration = Duration::from_secs(1);

/// What a connection handler returns: `()`, or a `Result` whose `Err` counts
/// as a failure in the [`ServeReport`] and is reported (to the
/// [`on_handler_error`](Serve::on_handler_error) hook and as a log event).
pub trait HandlerOutcome: Send + 'static {
    /// Whether the handler failed.
    fn is_failure(&self) -> bool;

    /// The failure's status and message, when the handler failed. The
    /// default gives `Unknown` and no message.
    fn failure(&self) -> Option<(SocketErrorStatus, String)> {
        self.is_failure()
            .then(|| (SocketErrorStatus::Unknown, String::new()))
    }
}

impl HandlerOutcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T: Send + 'static, E: fmt::Display + Send + 'static> HandlerOutcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }

    fn failure(&self) -> Option<(SocketErrorStatus, String)> {
        self.as_ref().err().map(|e| (status_of(e), e.to_string()))
    }
}

/// The status of a handler's error: known for sock's and std's error types,
/// also boxed; `Unknown` for any other.
fn status_of(error: &(dyn Any + 'static)) -> SocketErrorStatus {
    type Boxed = Box<dyn std::error::Error + Send + Sync>;
    if let Some(e) = error.downcast_ref::<Error>() {
        return e.status();
    }
    if let Some(e) = error.downcast_ref::<std::io::Error>() {
        return SocketErrorStatus::from(e);
    }
    if let Some(e) = error.downcast_ref::<Boxed>() {
        if let Some(e) = e.downcast_ref::<Error>() {
            return e.status();
        }
        if let Some(e) = e.downcast_ref::<std::io::Error>() {
            return SocketErrorStatus::from(e);
        }
    }
    SocketErrorStatus::Unknown
}

/// A handler that returned an error or panicked, as given to the
/// [`on_handler_error`](Serve::on_handler_error) hook.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerFailure {
    /// The peer of the connection the handler served.
    pub peer: SocketAddr,
    /// The error's status: from sock's [`Error`] or an `io::Error` (also
    /// boxed), `Unknown` for other errors and for panics.
    pub status: SocketErrorStatus,
    /// The error's message (its `Display`), or the panic's message.
    pub message: String,
    /// Whether the handler panicked (rather than returned an error).
    pub panicked: bool,
}

impl fmt::Display for HandlerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.panicked { "panicked" } else { "failed" };
        write!(
            f,
            "handler for {} {what} ({:?}): {}",
            self.peer,
            self.status,
            self.message.escape_debug()
        )
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
    /// Connections closed at the connection limit to make room for a new
    /// one: each was the one idle longest (its handler was aborted).
    pub shed: u64,
    /// New connections closed (reset) at once because the server was at its
    /// connection limit and no connection had been idle long enough to shed.
    pub refused: u64,
}

/// How one handler task ended.
enum Ended {
    Completed,
    Failed(HandlerFailure),
}

impl std::ops::AddAssign for ServeReport {
    /// Adds another run's counts, field by field (the shards of
    /// [`serve_sharded`](crate::StreamSocketListenerControl::serve_sharded)).
    fn add_assign(&mut self, more: Self) {
        let Self {
            accepted,
            completed,
            failed,
            panicked,
            aborted,
            accept_errors,
            failed_tls_handshakes,
            shed,
            refused,
        } = more;
        self.accepted += accepted;
        self.completed += completed;
        self.failed += failed;
        self.panicked += panicked;
        self.aborted += aborted;
        self.accept_errors += accept_errors;
        self.failed_tls_handshakes += failed_tls_handshakes;
        self.shed += shed;
        self.refused += refused;
    }
}

impl ServeReport {
    /// Counts a handler task that ended, and forgets it.
    fn ended(
        &mut self,
        done: Result<(task::Id, Ended), JoinError>,
        live: &mut HashMap<task::Id, Live>,
        shedding: &mut HashSet<task::Id>,
        hook: Option<&ErrorHook>,
    ) {
        let id = match &done {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        live.remove(&id);
        if shedding.remove(&id) {
            // Counted in `shed` when it was chosen, whatever it ended with.
            return;
        }
        self.record(done.map(|(_, ended)| ended), hook);
    }

    fn record(&mut self, done: Result<Ended, JoinError>, hook: Option<&ErrorHook>) {
        match done {
            Ok(Ended::Completed) => self.completed += 1,
            Ok(Ended::Failed(failure)) => {
                if failure.panicked {
                    self.panicked += 1;
                } else {
                    self.failed += 1;
                }
                if let Some(hook) = hook {
                    hook(&failure);
                }
            }
            Err(e) if e.is_panic() => self.panicked += 1,
            Err(_) => self.aborted += 1,
        }
    }
}

impl StreamSocketListener {
    /// Runs `handler` on a task per connection until shut down; see [`Serve`]
    /// for the limits (concurrent connections, idle timeout) and graceful
    /// shutdown.
    ///
    /// ```no_run
    /// use sock_tcp::StreamSocketListener;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let listener = StreamSocketListener::bind_service_name("1337").await?;
    /// let report = listener
    ///     .serve(|mut socket| async move {
    ///         let mut buf = [0; 1024];
    ///         loop {
    ///             let n = socket.read(&mut buf).await?;
    ///             if n == 0 {
    ///                 return socket.close().await;
    ///             }
    ///             socket.write_all(&buf[..n]).await?;
    ///         }
    ///     })
    ///     .max_connections(10_000)
    ///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or(()) })
    ///     .await;
    /// println!("served {} connections", report.accepted);
    /// # Ok(()) }
    /// ```
    pub fn serve<H, F>(self, handler: H) -> Serve<H>
    where
        H: Fn(StreamSocket) -> F + Send + Sync + 'static,
        F: Future + Send + 'static,
        F::Output: HandlerOutcome,
    {
        Serve::new(self, handler)
    }
}

type ErrorHook = Arc<dyn Fn(&HandlerFailure) + Send + Sync>;

/// A running handler, as the server sees it: to shed it, and to tell how
/// long its connection has been idle.
struct Live {
    abort: AbortHandle,
    shared: Arc<Shared>,
}
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A server over a [`StreamSocketListener`]: made by
/// [`StreamSocketListener::serve`], configured with the methods below, and run
/// by `.await`ing it or spawning it: it is a `Future`, so
/// `tokio::spawn(listener.serve(handler))` works as written.
///
/// Each accepted connection is handed to the handler on its own task, with
/// the listener's options applied and an idle timeout
/// ([`DEFAULT_SERVE_IDLE_TIMEOUT`]: no traffic in either direction). At most
/// [`max_connections`](Self::max_connections) handlers run at once; further
/// connections wait in the backlog. The accept loop never stops on a
/// connection's failure, and after resource errors (`TooManyOpenFiles`) it
/// pauses and resumes. A handler that fails or panics affects no other; its
/// error goes to the [`on_handler_error`](Self::on_handler_error) hook and
/// to a `tracing` event.
/// [`cancel_io`](crate::CancelIoHandle::cancel_io) through the listener's
/// [`cancel_io_handle`](StreamSocketListener::cancel_io_handle) ends only the
/// accept waiting at that moment; the server starts a new one at once and
/// goes on serving (nothing is counted in the report).
///
/// # Graceful shutdown
///
/// Without [`with_graceful_shutdown`](Self::with_graceful_shutdown) it serves
/// forever. When the shutdown signal completes, it stops accepting (the
/// listener is closed), fires every served socket's
/// [`shutdown_signal`](StreamSocket::shutdown_signal), waits for the running
/// handlers up to [`shutdown_timeout`](Self::shutdown_timeout), aborts those
/// still running, and returns a [`ServeReport`].
///
/// ```no_run
/// use futures::{SinkExt, StreamExt};
/// use sock_tcp::StreamSocketListener;
/// use tokio_util::codec::LinesCodec;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// let listener = StreamSocketListener::bind_service_name("1337").await?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = tokio::spawn(
///     listener
///         .serve(|socket| async move {
///             let shutdown = socket.shutdown_signal();
///             let mut lines = socket.framed(LinesCodec::new());
///             loop {
///                 tokio::select! {
///                     line = lines.next() => match line {
///                         Some(line) => lines.send(line?).await?,
///                         None => return Ok(()),
///                     },
///                     // The server is stopping: say goodbye and close.
///                     () = shutdown.shutting_down() => {
///                         lines.send("BYE").await?;
///                         return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(());
///                     }
///                 }
///             }
///         })
///         .with_graceful_shutdown(async { stopped.await.unwrap_or(()) }),
/// );
/// // ... later:
/// let _ = stop.send(());
/// let report = server.await.expect("the server task panicked");
/// println!("served {} connections", report.accepted);
/// # Ok(()) }
/// ```
#[must_use = "a server does nothing until awaited or spawned"]
pub struct Serve<H> {
    state: State<H>,
}

enum State<H> {
    Configuring(Box<Config<H>>),
    Running(BoxFuture<ServeReport>),
    Done,
}

struct Config<H> {
    listener: StreamSocketListener,
    handler: H,
    max_connections: usize,
    /// Each kind, in `IdleKind::ALL` order: `None` until set; then the
    /// listener's, or the default.
    idle: [Option<Option<Duration>>; 3],
    shutdown: Option<BoxFuture<()>>,
    shutdown_timeout: Duration,
    on_error: Option<ErrorHook>,
    shed_idle: Option<Duration>,
}

// No field is ever pinned in place: the handler moves into a boxed future on
// the first poll.
impl<H> Unpin for Serve<H> {}

impl<H> fmt::Debug for Serve<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Configuring(c) => f
                .debug_struct("Serve")
                .field("listener", &c.listener)
                .field("max_connections", &c.max_connections)
                .field("idle", &c.idle)
                .field("graceful_shutdown", &c.shutdown.is_some())
                .field("shutdown_timeout", &c.shutdown_timeout)
                .field("on_handler_error", &c.on_error.is_some())
                .field("shed_idle_at_limit", &c.shed_idle)
                .finish_non_exhaustive(),
            State::Running(_) => f.write_str("Serve(running)"),
            State::Done => f.write_str("Serve(done)"),
        }
    }
}

impl<H> Serve<H> {
    pub(crate) fn new(listener: StreamSocketListener, handler: H) -> Self {
        Self {
            state: State::Configuring(Box::new(Config {
                listener,
                handler,
                max_connections: DEFAULT_MAX_CONNECTIONS,
                idle: [None; 3],
                shutdown: None,
                shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
                on_error: None,
                shed_idle: Some(DEFAULT_SHED_MIN_IDLE),
            })),
        }
    }

    /// Changes the configuration; a server already running keeps the one it
    /// started with.
    fn configure(mut self, f: impl FnOnce(&mut Config<H>)) -> Self {
        if let State::Configuring(config) = &mut self.state {
            f(config);
        }
        self
    }

    /// The most connections handled at once ([`DEFAULT_MAX_CONNECTIONS`]; at
    /// least 1).
    pub fn max_connections(self, max: usize) -> Self {
        self.configure(|c| c.max_connections = max.max(1))
    }

    /// The idle timeout of every served socket: a waiting read or write
    /// fails once no bytes moved in either direction for `timeout`; `None`
    /// turns it off (for long-lived quiet connections that have their own
    /// heartbeat). Unless set here, served sockets keep the listener
    /// control's idle timeouts, or get [`DEFAULT_SERVE_IDLE_TIMEOUT`] when
    /// the control has none. See
    /// [`StreamSocket::set_idle_timeout`] for how idle time is counted.
    ///
    /// A peer that keeps sending a byte now and then is not idle. Handlers
    /// that read frames bound a whole frame with
    /// sock-codec's `FrameReader::set_frame_timeout`; every frame and line
    /// of sock-codec's codecs must also arrive within their
    /// `frame_timeout` (5 minutes by default).
    pub fn idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure(|c| c.idle[0] = Some(timeout))
    }

    /// The read-idle timeout of every served socket: a waiting read or write
    /// fails once no bytes were read for `timeout` (off unless set here or
    /// on the listener's control); see [`StreamSocket::set_read_idle_timeout`].
    pub fn read_idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure(|c| c.idle[1] = Some(timeout))
    }

    /// The write-idle timeout of every served socket: a waiting read or
    /// write fails once no bytes were written for `timeout` (off unless set
    /// here or on the listener's control); see
    /// [`StreamSocket::set_write_idle_timeout`].
    pub fn write_idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure(|c| c.idle[2] = Some(timeout))
    }

    /// Shuts down gracefully when `signal` completes.
    pub fn with_graceful_shutdown(self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.configure(|c| c.shutdown = Some(Box::pin(signal)))
    }

    /// How long a graceful shutdown waits for running handlers
    /// ([`DEFAULT_SHUTDOWN_TIMEOUT`]).
    pub fn shutdown_timeout(self, timeout: Duration) -> Self {
        self.configure(|c| c.shutdown_timeout = timeout)
    }

    /// What happens to a new connection when
    /// [`max_connections`](Self::max_connections) are being handled.
    ///
    /// `Some(min_idle)` (the default, [`DEFAULT_SHED_MIN_IDLE`]): the server
    /// keeps accepting. The connection idle longest (no bytes read or
    /// written), if it has been idle for at least `min_idle`, is shed: its
    /// handler is aborted and its connection closed, and the new one takes
    /// its place. When none has been idle that long, the new connection is
    /// reset at once, so the client learns it was refused instead of waiting
    /// in the backlog. So connections that hold a slot and send nothing (an
    /// idle flood, slow-drip peers) cannot lock other clients out.
    ///
    /// `None`: new connections wait in the listener's backlog until a
    /// handler finishes (they are accepted in order).
    ///
    /// [`ServeReport::shed`] and [`ServeReport::refused`] count both.
    pub fn shed_idle_at_limit(self, min_idle: Option<Duration>) -> Self {
        self.configure(|c| c.shed_idle = min_idle)
    }

    /// Calls `hook` for every handler that returns an error or panics, with
    /// the peer's address, the error's status and its message. It runs on
    /// the server's task: keep it short (count, log, send on a channel).
    pub fn on_handler_error(self, hook: impl Fn(&HandlerFailure) + Send + Sync + 'static) -> Self {
        self.configure(|c| c.on_error = Some(Arc::new(hook)))
    }
}

impl<H, F> Future for Serve<H>
where
    H: Fn(StreamSocket) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutcome,
{
    type Output = ServeReport;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ServeReport> {
        let this = self.get_mut();
        if matches!(this.state, State::Configuring(_)) {
            let State::Configuring(config) = std::mem::replace(&mut this.state, State::Done) else {
                unreachable!("matched above")
            };
            this.state = State::Running(Box::pin(config.run()));
        }
        match &mut this.state {
            State::Running(run) => {
                let report = std::task::ready!(run.as_mut().poll(cx));
                this.state = State::Done;
                Poll::Ready(report)
            }
            _ => panic!("`Serve` polled after it completed"),
        }
    }
}

/// Runs a handler's future, turning a panic into a failure so that the
/// server learns which peer it was serving.
struct CatchPanic<F> {
    future: Pin<Box<F>>,
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.future.as_mut();
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    }
}

impl<H> Config<H> {
    /// The idle timeouts served sockets get: each kind as set on the server,
    /// else as on the listener's control; the all-idle one defaults to
    /// [`DEFAULT_SERVE_IDLE_TIMEOUT`] when neither set it.
    fn idle_timeouts(&self) -> IdleTimeouts {
        let mut timeouts = self.listener.options().idle;
        for (kind, set) in IdleKind::ALL.into_iter().zip(self.idle) {
            if let Some(timeout) = set {
                timeouts.set(kind, timeout);
            }
        }
        if self.idle[0].is_none() && timeouts.all.is_none() {
            timeouts.all = Some(DEFAULT_SERVE_IDLE_TIMEOUT);
        }
        timeouts
    }

    async fn run<F>(self) -> ServeReport
    where
        H: Fn(StreamSocket) -> F + Send + Sync + 'static,
        F: Future + Send + 'static,
        F::Output: HandlerOutcome,
    {
        let idle = self.idle_timeouts();
        let Self {
            listener,
            handler,
            max_connections,
            shutdown,
            shutdown_timeout,
            on_error,
            shed_idle,
            ..
        } = self;
        let hook = on_error.as_ref();
        let handler = Arc::new(handler);
        let mut shutdown = shutdown.unwrap_or_else(|| Box::pin(std::future::pending()));
        let stopping = CancellationToken::new();
        let permits = Arc::new(Semaphore::new(max_connections));
        let mut tasks: JoinSet<Ended> = JoinSet::new();
        let mut live: HashMap<task::Id, Live> = HashMap::new();
        let mut shedding: HashSet<task::Id> = HashSet::new();
        let mut report = ServeReport::default();
        #[cfg(feature = "tls")]
        let failed_before = listener.failed_tls_handshakes();
        let mut incoming = listener.incoming();
        crate::log::serving(listener.local_addr(), max_connections);

        'serve: loop {
            // Without shedding, a connection is accepted only when a slot is
            // free; with it, always, and room is made below.
            let waited = match shed_idle {
                Some(_) => None,
                None => Some(tokio::select! {
                    biased;
                    () = &mut shutdown => break 'serve,
                    Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                        report.ended(done, &mut live, &mut shedding, hook);
                        continue 'serve;
                    }
                    permit = Arc::clone(&permits).acquire_owned() => permit.expect("never closed"),
                }),
            };
            let mut socket = loop {
                tokio::select! {
                    biased;
                    () = &mut shutdown => break 'serve,
                    Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                        report.ended(done, &mut live, &mut shedding, hook);
                    }
                    next = poll_fn(|cx| incoming.poll_next_socket(cx)) => match next {
                        Ok(socket) => break socket,
                        // cancel_io through a handle: only that accept ends.
                        Err(Error::Cancelled { .. }) => {}
                        Err(e) => {
                            crate::log::accept_failed(&e);
                            report.accept_errors += 1;
                        }
                    },
                }
            };
            let free = match waited {
                Some(permit) => Ok(permit),
                None => Arc::clone(&permits).try_acquire_owned(),
            };
            let permit = match free {
                Ok(permit) => permit,
                Err(_) => {
                    let min_idle = shed_idle.unwrap_or(Duration::MAX);
                    let Some(victim) = idlest(&live, &shedding, min_idle) else {
                        crate::log::refused_at_limit(socket.peer_addr(), max_connections);
                        report.refused += 1;
                        let _ = socket.abort();
                        continue 'serve;
                    };
                    if let Some(entry) = live.get(&victim) {
                        crate::log::shed(entry.shared.meta.remote, max_connections);
                        entry.abort.abort();
                    }
                    shedding.insert(victim);
                    report.shed += 1;
                    // The aborted handler's slot comes free when its task ends.
                    loop {
                        tokio::select! {
                            biased;
                            () = &mut shutdown => break 'serve,
                            permit = Arc::clone(&permits).acquire_owned() => {
                                break permit.expect("never closed");
                            }
                            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                                report.ended(done, &mut live, &mut shedding, hook);
                            }
                        }
                    }
                }
            };
            report.accepted += 1;
            socket.set_idle_timeouts(idle);
            // The idle time decides which connection is shed.
            socket.shared.activity.track();
            socket.set_shutdown_signal(&stopping);
            let shared = Arc::clone(&socket.shared);
            let peer = socket.peer_addr();
            let span = crate::log::connection_span(
                socket.peer_addr(),
                socket.local_addr(),
                socket.protection_level(),
            );
            let handler = Arc::clone(&handler);
            let abort = tasks.spawn(crate::log::instrument(
                async move {
                    let _permit = permit;
                    let future = CatchPanic {
                        future: Box::pin(handler(socket)),
                    };
                    let failure = match future.await {
                        Ok(outcome) => match outcome.failure() {
                            None => return Ended::Completed,
                            Some((status, message)) => HandlerFailure {
                                peer,
                                status,
                                message,
                                panicked: false,
                            },
                        },
                        Err(message) => HandlerFailure {
                            peer,
                            status: SocketErrorStatus::Unknown,
                            message,
                            panicked: true,
                        },
                    };
                    // Logged here, inside the connection's span.
                    crate::log::handler_failed(
                        failure.peer,
                        failure.status,
                        failure.panicked,
                        &failure.message,
                    );
                    Ended::Failed(failure)
                },
                span,
            ));
            live.insert(abort.id(), Live { abort, shared });
        }

        // Stop accepting: the listener closes, new connections are refused.
        drop(incoming);
        #[cfg(feature = "tls")]
        {
            report.failed_tls_handshakes = listener.failed_tls_handshakes() - failed_before;
        }
        drop(listener);
        stopping.cancel();
        crate::log::shutting_down(tasks.len(), shutdown_timeout);
        let deadline = crate::deadline::later(Instant::now(), shutdown_timeout);
        loop {
            match tokio::time::timeout_at(deadline, tasks.join_next_with_id()).await {
                Ok(Some(done)) => report.ended(done, &mut live, &mut shedding, hook),
                Ok(None) => break,
                Err(_) => {
                    crate::log::aborting(tasks.len());
                    tasks.abort_all();
                    while let Some(done) = tasks.join_next_with_id().await {
                        report.ended(done, &mut live, &mut shedding, hook);
                    }
                    break;
                }
            }
        }
        report
    }
}

/// The running handler whose connection has been idle longest, if that is
/// at least `min_idle` (and it is not being shed already).
fn idlest(
    live: &HashMap<task::Id, Live>,
    shedding: &HashSet<task::Id>,
    min_idle: Duration,
) -> Option<task::Id> {
    let (id, last) = live
        .iter()
        .filter(|(id, _)| !shedding.contains(id))
        .map(|(id, l)| (*id, l.shared.activity.last(IdleKind::All)))
        .min_by_key(|&(_, last)| last)?;
    (last.elapsed() >= min_idle).then_some(id)
}
