//! Serving on every core: one listener per worker thread on one port
//! (`SO_REUSEPORT`), each with its own current-thread runtime, the same
//! handler and limits, a combined report, and shards that can be drained
//! and added while the server runs (rolling restarts).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use sock_core::{Error, HostName, Result, ServiceName};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::serve::{HandlerFailure, HandlerOutcome, Serve, ServeReport};
use crate::{StreamSocket, StreamSocketListenerControl};

/// How long [`ShardedServer::drain_shard`] waits by default for a drained
/// shard's accept queue to empty (5 s).
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a drained shard's accept queue must stay empty before its
/// listener closes: a few loopback round trips, for handshakes that began
/// before new connections were steered away.
const QUIET: Duration = Duration::from_millis(30);

type ErrorHook = Arc<dyn Fn(&HandlerFailure) + Send + Sync>;

/// The settings every shard's [`Serve`] gets.
#[derive(Clone, Default)]
struct Settings {
    max_connections: Option<usize>,
    idle: Option<Option<Duration>>,
    read_idle: Option<Option<Duration>>,
    write_idle: Option<Option<Duration>>,
    shutdown_timeout: Option<Duration>,
    shed: Option<Option<Duration>>,
    on_error: Option<ErrorHook>,
}

impl Settings {
    fn apply<H>(&self, mut serve: Serve<H>) -> Serve<H> {
        if let Some(max) = self.max_connections {
            serve = serve.max_connections(max);
        }
        if let Some(t) = self.idle {
            serve = serve.idle_timeout(t);
        }
        if let Some(t) = self.read_idle {
            serve = serve.read_idle_timeout(t);
        }
        if let Some(t) = self.write_idle {
            serve = serve.write_idle_timeout(t);
        }
        if let Some(t) = self.shutdown_timeout {
            serve = serve.shutdown_timeout(t);
        }
        if let Some(s) = self.shed {
            serve = serve.shed_idle_at_limit(s);
        }
        if let Some(hook) = &self.on_error {
            let hook = Arc::clone(hook);
            serve = serve.on_handler_error(move |f| hook(f));
        }
        serve
    }
}

/// A sharded server being configured: made by
/// [`StreamSocketListenerControl::serve_sharded`], started with
/// [`start`](Self::start).
///
/// Each shard is a thread with a current-thread tokio runtime and its own
/// listener on the shared port (`SO_REUSEPORT`); the kernel spreads new
/// connections among them, and a connection stays on the thread that
/// accepted it (the "thread per core" layout: no work stealing, no
/// cross-thread wake-ups). The setters are [`Serve`]'s, applied to every
/// shard; limits such as `max_connections` are per shard.
pub struct ShardedServe<H> {
    control: StreamSocketListenerControl,
    host: Option<HostName>,
    /// The service, or why it is not one (reported by `start`).
    service: Result<ServiceName>,
    workers: usize,
    handler: Arc<H>,
    settings: Settings,
    drain_timeout: Duration,
}

impl<H> fmt::Debug for ShardedServe<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedServe")
            .field("host", &self.host)
            .field("service", &self.service)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl StreamSocketListenerControl {
    /// Serves `handler` on `workers` threads, each with its own listener on
    /// `host` (every interface when `None`) at `service` (`SO_REUSEPORT`,
    /// turned on here), its own current-thread runtime, and a task per
    /// connection; see [`ShardedServe`]. `""` as the service picks a free
    /// port, shared by every shard.
    ///
    /// ```no_run
    /// use sock_tcp::StreamSocketListener;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let mut server = StreamSocketListener::builder()
    ///     .serve_sharded(None, "8080", 2, |mut socket| async move {
    ///         let mut buf = [0u8; 1024];
    ///         let n = socket.read(&mut buf).await?;
    ///         socket.write_all(&buf[..n]).await?;
    ///         Ok::<(), sock_core::Error>(())
    ///     })
    ///     .max_connections(10_000)
    ///     .start()
    ///     .await?;
    /// // A rolling restart: a fresh shard joins, an old one leaves.
    /// server.add_shard().await?;
    /// server.drain_shard(0).await?;
    /// let report = server.shutdown().await;
    /// println!("{} connections served", report.accepted);
    /// # Ok(()) }
    /// ```
    pub fn serve_sharded<H, F, S>(
        self,
        host: Option<&HostName>,
        service: S,
        workers: usize,
        handler: H,
    ) -> ShardedServe<H>
    where
        H: Fn(StreamSocket) -> F + Send + Sync + 'static,
        F: Future + Send + 'static,
        F::Output: HandlerOutcome,
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        ShardedServe {
            control: self.reuse_port(true),
            host: host.cloned(),
            service: service.try_into().map_err(Error::from),
            workers: workers.max(1),
            handler: Arc::new(handler),
            settings: Settings::default(),
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

impl<H, F> ShardedServe<H>
where
    H: Fn(StreamSocket) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutcome,
{
    /// As [`Serve::max_connections`], for each shard.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.settings.max_connections = Some(max);
        self
    }

    /// As [`Serve::idle_timeout`].
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.idle = Some(timeout);
        self
    }

    /// As [`Serve::read_idle_timeout`].
    pub fn read_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.read_idle = Some(timeout);
        self
    }

    /// As [`Serve::write_idle_timeout`].
    pub fn write_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.write_idle = Some(timeout);
        self
    }

    /// As [`Serve::shutdown_timeout`]: how long a shard that shuts down or
    /// is drained waits for its running handlers.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.settings.shutdown_timeout = Some(timeout);
        self
    }

    /// As [`Serve::shed_idle_at_limit`].
    pub fn shed_idle_at_limit(mut self, min_idle: Option<Duration>) -> Self {
        self.settings.shed = Some(min_idle);
        self
    }

    /// As [`Serve::on_handler_error`]; the hook runs on the shard's thread.
    pub fn on_handler_error(
        mut self,
        hook: impl Fn(&HandlerFailure) + Send + Sync + 'static,
    ) -> Self {
        self.settings.on_error = Some(Arc::new(hook));
        self
    }

    /// How long [`ShardedServer::drain_shard`] waits for the drained shard's
    /// accept queue to empty ([`DEFAULT_DRAIN_TIMEOUT`]).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Starts the shards: binds every listener (the first picks the port
    /// when the service is `""`) and starts serving.
    ///
    /// # Errors
    ///
    /// An invalid or unknown service name; a shard that could not start its
    /// runtime or bind (the port taken by a listener without `reuse_port`,
    /// say): the shards already started are shut down.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future while shards start leaves the
    /// started ones running until their command channel closes, which
    /// dropping it does (they then shut down gracefully).
    pub async fn start(self) -> Result<ShardedServer> {
        let service = self.service?;
        let starter: Arc<dyn Starter> = Arc::new(ShardStarter {
            control: self.control,
            host: self.host,
            handler: self.handler,
            settings: self.settings,
            drain_timeout: self.drain_timeout,
        });
        let mut server = ShardedServer {
            starter,
            service,
            local_addr: None,
            shards: Vec::with_capacity(self.workers),
            drained: ServeReport::default(),
        };
        for _ in 0..self.workers {
            if let Err(e) = server.add_shard().await {
                server.shutdown().await;
                return Err(e);
            }
        }
        Ok(server)
    }
}

/// Starts one shard; object-safe, so the server need not carry `H`.
trait Starter: Send + Sync {
    fn start(&self, service: ServiceName) -> (Shard, oneshot::Receiver<Result<SocketAddr>>);
}

struct ShardStarter<H> {
    control: StreamSocketListenerControl,
    host: Option<HostName>,
    handler: Arc<H>,
    settings: Settings,
    drain_timeout: Duration,
}

impl<H, F> Starter for ShardStarter<H>
where
    H: Fn(StreamSocket) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutcome,
{
    fn start(&self, service: ServiceName) -> (Shard, oneshot::Receiver<Result<SocketAddr>>) {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (report_tx, report_rx) = oneshot::channel();
        let control = self.control.clone();
        let host = self.host.clone();
        let handler = Arc::clone(&self.handler);
        let settings = self.settings.clone();
        let drain_timeout = self.drain_timeout;
        let spawned = thread::Builder::new()
            .name("sock-shard".to_owned())
            .spawn(move || {
                let report = run_shard(ShardRun {
                    control,
                    host,
                    service,
                    handler,
                    settings,
                    drain_timeout,
                    ready: ready_tx,
                    commands: commands_rx,
                });
                let _ = report_tx.send(report);
            });
        if let Err(e) = spawned {
            // The closure (and `ready_tx` with it) was dropped: say why here.
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(Err(Error::Io(e)));
            return (
                Shard {
                    commands: commands_tx,
                    report: report_rx,
                },
                rx,
            );
        }
        (
            Shard {
                commands: commands_tx,
                report: report_rx,
            },
            ready_rx,
        )
    }
}

/// What the server keeps of a running shard.
struct Shard {
    commands: mpsc::UnboundedSender<Command>,
    report: oneshot::Receiver<ServeReport>,
}

enum Command {
    /// Steer new connections away (the shard is at `index` of `live`), empty
    /// the accept queue, then shut down.
    Drain { live: usize, index: usize },
    /// Spread new connections over all `live` listeners again.
    Rebalance {
        live: usize,
        done: oneshot::Sender<std::io::Result<()>>,
    },
}

/// A running sharded server: made by [`ShardedServe::start`].
///
/// Shards are numbered in the order the kernel keeps their listeners:
/// `0..shard_count()`. Draining one moves the last into its place, as the
/// kernel does. Dropping the server shuts every shard down gracefully,
/// without waiting.
pub struct ShardedServer {
    starter: Arc<dyn Starter>,
    service: ServiceName,
    local_addr: Option<SocketAddr>,
    shards: Vec<Shard>,
    drained: ServeReport,
}

impl fmt::Debug for ShardedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedServer")
            .field("local_addr", &self.local_addr)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl ShardedServer {
    /// The address every shard listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
            .expect("a started server has at least one shard, which bound")
    }

    /// How many shards are running.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Starts one more shard on the same port; the kernel then spreads new
    /// connections over it too.
    ///
    /// # Errors
    ///
    /// The new shard could not start its runtime or bind.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a shard started before the future is dropped keeps
    /// running, and is counted once the server hears from it.
    pub async fn add_shard(&mut self) -> Result<()> {
        let service = match self.local_addr {
            Some(addr) => ServiceName::from(addr.port()),
            None => self.service.clone(),
        };
        let (shard, ready) = self.starter.start(service);
        let addr = ready.await.map_err(|_| {
            Error::unsupported("starting a shard", "its thread ended before binding")
        })??;
        self.local_addr.get_or_insert(addr);
        self.shards.push(shard);
        self.rebalance().await
    }

    /// Takes shard `index` out of service without losing a connection: new
    /// connections are steered to the other shards, the ones already
    /// queued on its listener are accepted (waiting up to the drain
    /// timeout), then it shuts down gracefully as [`Serve`] does (handlers
    /// see [`StreamSocket::shutdown_signal`]) and its listener closes.
    /// Returns the shard's report (also counted in
    /// [`shutdown`](Self::shutdown)'s). The last shard takes its number.
    ///
    /// Linux only (it attaches a classic BPF program to the port's
    /// listeners); elsewhere it fails with `Unsupported`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an index out of range or the last
    /// shard (add one first, or [`shutdown`](Self::shutdown)); `Unsupported`
    /// off Linux.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: once asked, the shard drains and stops whether or
    /// not the future is polled to the end.
    pub async fn drain_shard(&mut self, index: usize) -> Result<ServeReport> {
        let live = self.shards.len();
        if index >= live {
            return Err(Error::invalid_argument(
                "drain_shard",
                format!("shard {index} does not exist (there are {live})"),
            ));
        }
        if live == 1 {
            return Err(Error::invalid_argument(
                "drain_shard",
                "the last shard cannot be drained: add one first, or shut down",
            ));
        }
        if !cfg!(target_os = "linux") {
            return Err(Error::unsupported(
                "draining a shard",
                "steering connections among listeners needs Linux",
            ));
        }
        let shard = self.shards.swap_remove(index);
        let _ = shard.commands.send(Command::Drain { live, index });
        let report = shard.report.await.unwrap_or_default();
        self.drained += report;
        self.rebalance().await?;
        Ok(report)
    }

    /// Shuts every shard down gracefully (as [`Serve`] does: no new
    /// connections, running handlers get the shutdown timeout) and returns
    /// the combined report, drained shards included.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the shards shut down whether or not the future is
    /// polled to the end.
    pub async fn shutdown(mut self) -> ServeReport {
        let mut total = self.drained;
        let shards = std::mem::take(&mut self.shards);
        let reports: Vec<_> = shards
            .into_iter()
            .map(|shard| {
                drop(shard.commands);
                shard.report
            })
            .collect();
        for report in reports {
            total += report.await.unwrap_or_default();
        }
        total
    }

    /// Tells one shard to spread connections over all shards again.
    async fn rebalance(&self) -> Result<()> {
        let Some(first) = self.shards.first() else {
            return Ok(());
        };
        let (done, answer) = oneshot::channel();
        let live = self.shards.len();
        if first
            .commands
            .send(Command::Rebalance { live, done })
            .is_err()
        {
            return Ok(());
        }
        match answer.await {
            Ok(result) => result.map_err(Error::Io),
            Err(_) => Ok(()),
        }
    }
}

/// What a shard's thread runs with.
struct ShardRun<H> {
    control: StreamSocketListenerControl,
    host: Option<HostName>,
    service: ServiceName,
    handler: Arc<H>,
    settings: Settings,
    drain_timeout: Duration,
    ready: oneshot::Sender<Result<SocketAddr>>,
    commands: mpsc::UnboundedReceiver<Command>,
}

/// A shard's thread: its runtime, its listener, its `Serve`, and the
/// commands from the server.
fn run_shard<H, F>(run: ShardRun<H>) -> ServeReport
where
    H: Fn(StreamSocket) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutcome,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = run.ready.send(Err(Error::Io(e)));
            return ServeReport::default();
        }
    };
    runtime.block_on(serve_shard(run))
}

async fn serve_shard<H, F>(run: ShardRun<H>) -> ServeReport
where
    H: Fn(StreamSocket) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutcome,
{
    let ShardRun {
        control,
        host,
        service,
        handler,
        settings,
        drain_timeout,
        ready,
        mut commands,
    } = run;
    let listener = match control.bind_endpoint(host.as_ref(), service).await {
        Ok(listener) => listener,
        Err(e) => {
            let _ = ready.send(Err(e));
            return ServeReport::default();
        }
    };
    // A second descriptor for the listener, to steer and watch it while
    // `Serve` owns it. Closed last, so the listener leaves the port's group
    // only after it has stopped accepting.
    let watch: OwnedFd = match listener.as_fd().try_clone_to_owned() {
        Ok(fd) => fd,
        Err(e) => {
            let _ = ready.send(Err(Error::Io(e)));
            return ServeReport::default();
        }
    };
    let _ = ready.send(Ok(listener.local_addr()));
    let (stop, stopped) = oneshot::channel::<()>();
    let serve = settings
        .apply(listener.serve(move |socket| handler(socket)))
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
    let serving = tokio::spawn(serve);
    while let Some(command) = commands.recv().await {
        match command {
            Command::Rebalance { live, done } => {
                let _ = done.send(crate::sys::rebalance(watch.as_fd(), live));
            }
            Command::Drain { live, index } => {
                if crate::sys::steer_away(watch.as_fd(), live, index).is_ok() {
                    wait_for_empty_queue(&watch, drain_timeout).await;
                }
                break;
            }
        }
    }
    let _ = stop.send(());
    let report = serving.await.unwrap_or_default();
    drop(watch);
    report
}

/// Waits until the listener's accept queue has stayed empty for [`QUIET`],
/// or `timeout` passed; `Serve` accepts meanwhile.
async fn wait_for_empty_queue(listener: &OwnedFd, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let mut empty_since: Option<Instant> = None;
    while Instant::now() < deadline {
        match crate::sys::accept_queue_len(listener.as_fd()) {
            Some(0) => {
                let since = *empty_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= QUIET {
                    return;
                }
            }
            Some(_) => empty_since = None,
            // Nothing to watch: give handshakes in flight the quiet time.
            None => {
                tokio::time::sleep(QUIET).await;
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
