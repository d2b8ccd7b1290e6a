//! [`SocketBroker`]: holds handed-over sockets while no app process runs,
//! gives them to the next one that asks, and can wake a command when one of
//! them sees activity (UWP's socket broker and `SocketActivityTrigger`).

use std::ffi::{OsStr, OsString};
use std::future::{pending, Future};
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sock_core::{io_context, Error};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::{UnixListener, UnixStream};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use crate::channel::{HandoffChannel, Message};
use crate::wire::Op;
use crate::{SocketActivityInformation, SocketActivityKind, SocketActivityTriggerReason};

/// The most sockets a broker holds unless told otherwise.
pub const DEFAULT_MAX_HELD: usize = 256;

/// How long a broker waits for the next message on a connection before
/// closing it.
pub const DEFAULT_BROKER_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The shortest time between two wakes (so a woken command that exits at once
/// without taking its sockets cannot make the broker spawn in a tight loop).
pub const DEFAULT_MIN_WAKE_INTERVAL: Duration = Duration::from_secs(1);

/// The most connections a broker serves at once; more are closed at once.
const MAX_CONNECTIONS: usize = 64;

/// What a broker did, returned when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerReport {
    /// Sockets handed to the broker and held.
    pub received: u64,
    /// Sockets given back to processes that asked.
    pub handed_out: u64,
    /// Sockets refused (closed) because `max_held` sockets were held.
    pub refused: u64,
    /// Times the wake command was spawned.
    pub wakes: u64,
    /// Times spawning the wake command failed.
    pub wake_failures: u64,
    /// Sockets still held when the broker stopped (closed then).
    pub held_at_stop: usize,
}

/// A socket the broker holds, and the task watching it for activity.
#[derive(Debug)]
struct Held {
    info: SocketActivityInformation,
    watcher: Option<AbortHandle>,
}

#[derive(Debug, Default)]
struct State {
    held: Vec<Held>,
    report: BrokerReport,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    max_held: usize,
    idle_timeout: Duration,
    wake_tx: Option<mpsc::UnboundedSender<(String, SocketActivityTriggerReason)>>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Holds handed-over sockets while no app process runs and gives them back to
/// the next process that asks: UWP's socket broker.
///
/// Processes hand sockets to it with `transfer_ownership` over a
/// [`HandoffChannel`] connected to its path, and take them all back with
/// [`all_sockets`] (UWP's `SocketActivityInformation.AllSockets`), each as
/// it came: id, kind, context and [`SocketSettings`](crate::SocketSettings)
/// (so a `multicast_only` datagram socket comes back `multicast_only`). With a
/// [`wake_command`](Self::wake_command) it spawns that command when a held
/// listener has a connection waiting or a held datagram socket has a
/// datagram (UWP's `SocketActivityTrigger`); the connection or datagram
/// stays queued in the kernel for the woken process.
///
/// Limits: at most [`max_held`](Self::max_held) sockets (more are closed and
/// counted as refused), 64 connections at once (more are closed), an
/// idle timeout per connection, and at most one woken command running at a
/// time, no more often than [`min_wake_interval`](Self::min_wake_interval).
///
/// ```no_run
/// use sock_handoff::SocketBroker;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// let broker = SocketBroker::bind("/run/myapp/broker.sock")?
///     .wake_command("/usr/bin/myapp", ["--reclaim"]);
/// let report = broker.run_until(async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// println!("held {} sockets, woke the app {} times", report.received, report.wakes);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SocketBroker {
    listener: UnixListener,
    path: PathBuf,
    max_held: usize,
    idle_timeout: Duration,
    wake: Option<(OsString, Vec<OsString>)>,
    min_wake_interval: Duration,
}

impl SocketBroker {
    /// Listens on a Unix socket at `path`. A stale socket file there (nobody
    /// listening) is replaced. Must be called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// When another process listens at `path`, or it cannot be bound.
    pub fn bind(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        if std::os::unix::net::UnixStream::connect(&path).is_err()
            && std::fs::symlink_metadata(&path)
                .map(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                .unwrap_or(false)
        {
            let _ = std::fs::remove_file(&path);
        }
        let listener = UnixListener::bind(&path).map_err(|e| {
            Error::Io(io_context(
                e,
                format!("socket broker cannot listen at {}", path.display()),
            ))
        })?;
        Ok(Self {
            listener,
            path,
            max_held: DEFAULT_MAX_HELD,
            idle_timeout: DEFAULT_BROKER_IDLE_TIMEOUT,
            wake: None,
            min_wake_interval: DEFAULT_MIN_WAKE_INTERVAL,
        })
    }

    /// The most sockets held at once (default [`DEFAULT_MAX_HELD`]); a socket
    /// handed over beyond it is closed and counted in
    /// [`BrokerReport::refused`].
    pub fn max_held(mut self, max: usize) -> Self {
        self.max_held = max;
        self
    }

    /// How long a connection may stay silent (default
    /// [`DEFAULT_BROKER_IDLE_TIMEOUT`]).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The command to spawn when a held listener has a connection waiting
    /// or a held datagram socket has a datagram. It runs with
    /// `SOCK_BROKER_PATH` (where to ask for the sockets),
    /// `SOCK_BROKER_REASON` (a [`SocketActivityTriggerReason`] name:
    /// `ConnectionAccepted` or `SocketActivity`) and `SOCK_BROKER_SOCKET_ID`
    /// (the id of the socket that saw activity) in its environment.
    pub fn wake_command<I, S>(mut self, program: impl AsRef<OsStr>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.wake = Some((
            program.as_ref().to_owned(),
            args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        ));
        self
    }

    /// The shortest time between two wakes (default
    /// [`DEFAULT_MIN_WAKE_INTERVAL`]).
    pub fn min_wake_interval(mut self, interval: Duration) -> Self {
        self.min_wake_interval = interval;
        self
    }

    /// Where the broker listens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves until `shutdown` completes, then closes every socket still held
    /// and removes the socket file.
    ///
    /// # Errors
    ///
    /// None today but accept errors that are not transient; the report says
    /// what happened.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the broker and closes the sockets it held.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<BrokerReport, Error> {
        let (tx, mut wake_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            max_held: self.max_held,
            idle_timeout: self.idle_timeout,
            wake_tx: self.wake.is_some().then(|| tx.clone()),
        });
        let mut conns = JoinSet::new();
        let mut child: Option<Child> = None;
        let mut last_wake: Option<Instant> = None;
        let mut rearm_at: Option<Instant> = None;
        tokio::pin!(shutdown);
        let result = loop {
            tokio::select! {
                () = &mut shutdown => break Ok(()),
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) if conns.len() < MAX_CONNECTIONS => {
                        conns.spawn(serve_connection(Arc::clone(&inner), stream));
                    }
                    Ok(_) => {}
                    Err(e) if is_transient_accept_error(&e) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(e) => break Err(Error::Io(e)),
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                Some((id, reason)) = wake_rx.recv() => {
                    let waiting = child.is_some() || rearm_at.is_some();
                    if let (false, Some((program, args))) = (waiting, &self.wake) {
                        let spawned = Command::new(program)
                            .args(args)
                            .env("SOCK_BROKER_PATH", &self.path)
                            .env("SOCK_BROKER_REASON", reason.name())
                            .env("SOCK_BROKER_SOCKET_ID", &id)
                            .spawn();
                        let mut state = inner.lock();
                        match spawned {
                            Ok(c) => {
                                crate::log::woke(&id, reason.name());
                                state.report.wakes += 1;
                                child = Some(c);
                            }
                            Err(e) => {
                                crate::log::wake_failed(&e);
                                state.report.wake_failures += 1;
                                rearm_at = Some(Instant::now() + self.min_wake_interval);
                            }
                        }
                        last_wake = Some(Instant::now());
                    }
                }
                () = wait_child(&mut child) => {
                    child = None;
                    let earliest = last_wake.map_or_else(Instant::now, |t| t + self.min_wake_interval);
                    rearm_at = Some(earliest.max(Instant::now()));
                }
                () = sleep_until(rearm_at) => {
                    rearm_at = None;
                    let mut state = inner.lock();
                    for held in &mut state.held {
                        arm(&inner, held);
                    }
                }
            }
        };
        drop(tx);
        conns.shutdown().await;
        let _ = std::fs::remove_file(&self.path);
        let mut state = inner.lock();
        state.report.held_at_stop = state.held.len();
        for held in state.held.drain(..) {
            if let Some(w) = held.watcher {
                w.abort();
            }
        }
        let report = state.report.clone();
        drop(state);
        result.map(|()| report)
    }
}

fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EMFILE
                | libc::ENFILE
                | libc::ENOBUFS
                | libc::ENOMEM
                | libc::ECONNABORTED
                | libc::EINTR
        )
    )
}

async fn wait_child(child: &mut Option<Child>) {
    match child {
        Some(c) => {
            let _ = c.wait().await;
        }
        None => pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => pending().await,
    }
}

/// Starts watching a held listener or datagram socket for activity, unless
/// a watcher already runs or nobody is to be woken.
fn arm(inner: &Inner, held: &mut Held) {
    let Some(tx) = &inner.wake_tx else { return };
    let reason = match held.info.kind {
        SocketActivityKind::StreamSocketListener => SocketActivityTriggerReason::ConnectionAccepted,
        SocketActivityKind::DatagramSocket => SocketActivityTriggerReason::SocketActivity,
        _ => return,
    };
    if held.watcher.as_ref().is_some_and(|w| !w.is_finished()) {
        return;
    }
    // Watch a duplicate, so the held descriptor itself is never registered.
    let Ok(dup) = held.info.socket.as_fd().try_clone_to_owned() else {
        return;
    };
    let tx = tx.clone();
    let id = held.info.id.clone();
    let task = tokio::spawn(async move {
        // An `OwnedFd` stays open and the same for the AsyncFd's whole life,
        // which is what made `with_interest` deprecated for other types; its
        // replacement needs a newer tokio than the workspace asks for.
        #[allow(deprecated)]
        let Ok(fd) = AsyncFd::with_interest(dup, Interest::READABLE) else {
            return;
        };
        if fd.readable().await.is_ok() {
            let _ = tx.send((id, reason));
        }
    });
    held.watcher = Some(task.abort_handle());
}

/// Serves one connection: holds the sockets it hands over, answers its
/// requests, until it closes, breaks the format or stays silent too long.
async fn serve_connection(inner: Arc<Inner>, stream: UnixStream) {
    let mut channel = HandoffChannel::from_unix_stream(stream);
    loop {
        let next = tokio::time::timeout(inner.idle_timeout, channel.recv_message()).await;
        let message = match next {
            Ok(Ok(Some(message))) => message,
            Ok(Err(e)) => {
                crate::log::refused(&e);
                return;
            }
            Ok(Ok(None)) | Err(_) => return,
        };
        match message {
            Message::Socket(info) => {
                let mut state = inner.lock();
                if state.held.len() >= inner.max_held {
                    state.report.refused += 1;
                    continue;
                }
                state.report.received += 1;
                crate::log::held(info.kind, &info.id, state.held.len() + 1);
                let mut held = Held {
                    info,
                    watcher: None,
                };
                arm(&inner, &mut held);
                state.held.push(held);
            }
            Message::Request => {
                let all = std::mem::take(&mut inner.lock().held);
                let mut rest = all.into_iter();
                let mut sent = 0;
                for held in rest.by_ref() {
                    if let Some(w) = &held.watcher {
                        w.abort();
                    }
                    if channel.send_info(&held.info).await.is_err() {
                        // Keep it (and the rest) for the next process.
                        let mut state = inner.lock();
                        state.held.push(Held {
                            watcher: None,
                            ..held
                        });
                        state.held.extend(rest.map(|h| Held { watcher: None, ..h }));
                        state.report.handed_out += sent;
                        let state = &mut *state;
                        for held in &mut state.held {
                            arm(&inner, held);
                        }
                        return;
                    }
                    sent += 1;
                }
                inner.lock().report.handed_out += sent;
                if channel.send_plain(Op::End).await.is_err() {
                    return;
                }
            }
            Message::End => return,
        }
    }
}

/// Asks the broker (or any peer speaking the hand-off protocol) at `path`
/// for every socket it holds: UWP's `SocketActivityInformation.AllSockets`.
///
/// # Errors
///
/// When nobody listens at `path`, or as [`HandoffChannel::all_sockets`].
///
/// # Cancel safety
///
/// Not cancel safe: sockets received so far are closed.
pub async fn all_sockets(path: impl AsRef<Path>) -> Result<Vec<SocketActivityInformation>, Error> {
    HandoffChannel::connect(path).await?.all_sockets().await
}
