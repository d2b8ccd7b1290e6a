//! The UWP sockets guide's socket broker, the Linux way: a server hands its
//! listening socket to a new copy of itself, and no client notices.
//!
//! ```text
//! cargo run --example socket-handoff
//! ```
//!
//! In UWP an app that is about to be suspended calls
//! `StreamSocketListener.TransferOwnership(id, context)`: the system's socket
//! broker keeps the listener, and whoever runs next adopts it through
//! `SocketActivityInformation` with its id and context. On Linux the same
//! hand-off goes straight from one process to the next: the listener's file
//! descriptor travels over a Unix socket (`SCM_RIGHTS`), with its id and
//! context, via `StreamSocketListener::transfer_ownership` and
//! `StreamSocketListener::from_socket_activity`. It is the same kernel
//! socket, so it never stops listening: connections that arrive during the
//! switch wait in its accept queue and the new process accepts them. (Two
//! processes sharing a port with `SO_REUSEPORT` cannot promise that: each has
//! its own queue, and connections queued on the old one are refused when it
//! closes.)
//!
//! Run with no arguments, it tells the story on loopback. It starts process
//! A (a copy of this program, `--role a --handoff PATH`), which serves
//! tcp-echo (one message per line) on 127.0.0.1. Four client loops connect
//! again and again, each connection sending three messages and checking
//! their echoes. After 60 connections A stops accepting, starts process B
//! (`--role b --handoff PATH`), transfers the listener to it over the Unix
//! socket at PATH, finishes the connections it still has, and exits. B adopts
//! the listener and serves until the clients are done (its stdin closes).
//! Then the totals: no connection refused, no message lost, and how many of
//! each A and B served. It exits 1 if anything was refused or lost.

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    unix::main()
}

#[cfg(not(unix))]
fn main() {
    println!("socket-handoff: handing a socket to another process needs Unix (SCM_RIGHTS)");
}

#[cfg(unix)]
mod unix {
    use std::path::{Path, PathBuf};
    use std::process::{ExitCode, Stdio};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use futures::{SinkExt, StreamExt};
    use sock_codec::LineCodec;
    use sock_core::{Error, HostName, SocketErrorStatus};
    use sock_examples::{describe, fail, Args, Failure};
    use sock_tcp::{HandoffChannel, StreamSocket, StreamSocketListener};
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::task::JoinSet;
    use tokio::time::{timeout, Instant};
    use tokio_util::sync::CancellationToken;

    /// Client loops running at once.
    const CLIENTS: usize = 4;
    /// Connections each client loop makes, one after another.
    const CONNECTIONS_PER_CLIENT: usize = 50;
    /// Messages sent (and echoed) on each connection.
    const MESSAGES_PER_CONNECTION: usize = 3;
    /// Process A hands the listener over after accepting this many.
    const SWITCH_AFTER: u64 = 60;
    /// The pause between a client's connections.
    const PAUSE: Duration = Duration::from_millis(10);
    /// The longest any single step may wait (connect, read, hand-off, drain).
    const WAIT: Duration = Duration::from_secs(5);
    /// The longest the whole story, or a server process, may run.
    const DEADLINE: Duration = Duration::from_secs(20);
    /// The id the listener travels with.
    const LISTENER_ID: &str = "echo-listener";

    fn fail_io(who: &'static str) -> impl FnOnce(std::io::Error) -> Failure {
        move |err| (who, Error::Io(err))
    }

    async fn within<T>(
        who: &'static str,
        operation: &'static str,
        fut: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Failure> {
        match timeout(WAIT, fut).await {
            Ok(result) => result.map_err(fail(who)),
            Err(_) => Err((
                who,
                Error::TimedOut {
                    operation,
                    after: WAIT,
                },
            )),
        }
    }

    #[tokio::main(flavor = "current_thread")]
    pub(super) async fn main() -> ExitCode {
        let args = match Args::parse(&[]) {
            Ok(args) => args,
            Err(e) => return usage(&e),
        };
        let result = match (args.get("role"), args.get("handoff")) {
            (None, None) => match story().await {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::FAILURE,
                Err(failure) => Err(failure),
            },
            (Some("a"), Some(path)) => process_a(Path::new(path)).await,
            (Some("b"), Some(path)) => process_b(Path::new(path)).await,
            _ => return usage("give no arguments, or --role a|b --handoff PATH"),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err((who, err)) => {
                println!("[{who}] {}", describe(&err));
                ExitCode::FAILURE
            }
        }
    }

    fn usage(problem: &str) -> ExitCode {
        eprintln!("socket-handoff: {problem}");
        eprintln!("usage: socket-handoff [--role a|b --handoff PATH]");
        ExitCode::from(2)
    }

    /// Cancelled when stdin reaches its end: the parent closes it to say
    /// the clients are done (and it closes by itself if the parent dies).
    fn stdin_closed() -> CancellationToken {
        let token = CancellationToken::new();
        let closed = token.clone();
        // A plain thread: a blocked read on it never holds the process up.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            closed.cancel();
        });
        token
    }

    /// Echoes every line until the peer closes, counting the echoes.
    async fn echo(socket: StreamSocket, echoed: Arc<AtomicU64>) -> Result<(), Error> {
        let mut lines = socket.framed(LineCodec::new());
        loop {
            let next = timeout(WAIT, lines.next())
                .await
                .map_err(|_| Error::TimedOut {
                    operation: "read",
                    after: WAIT,
                })?;
            let Some(line) = next.transpose()? else { break };
            lines.send(line.as_str()).await?;
            echoed.fetch_add(1, Ordering::Relaxed);
        }
        StreamSocket::from_framed(lines).await?.close().await
    }

    /// The summary line each server process prints last, and its parser.
    fn summary(who: &str, accepted: u64, echoed: u64) -> String {
        format!("[{who}] done: accepted {accepted} connections, echoed {echoed} messages")
    }

    fn parse_summary(line: &str) -> Option<(String, u64, u64)> {
        let (who, rest) = line.strip_prefix('[')?.split_once("] done: accepted ")?;
        let (accepted, rest) = rest.split_once(" connections, echoed ")?;
        let echoed = rest.strip_suffix(" messages")?;
        Some((who.to_owned(), accepted.parse().ok()?, echoed.parse().ok()?))
    }

    fn parse_port(line: &str) -> Option<u16> {
        let (_, port) = line.rsplit_once("serving tcp-echo on 127.0.0.1:")?;
        port.parse().ok()
    }

    /// Process A: serves, then hands the listener to process B and drains.
    async fn process_a(path: &Path) -> Result<(), Failure> {
        const WHO: &str = "process A";
        let stop = stdin_closed();
        let host = HostName::new("127.0.0.1").map_err(fail(WHO))?;
        let listener = StreamSocketListener::bind_endpoint(Some(&host), "")
            .await
            .map_err(fail(WHO))?;
        // The hand-off socket exists before process B does.
        let handoff = tokio::net::UnixListener::bind(path).map_err(fail_io(WHO))?;
        println!(
            "[{WHO}] pid {}: serving tcp-echo on 127.0.0.1:{}",
            std::process::id(),
            listener.information().local_port
        );

        let echoed = Arc::new(AtomicU64::new(0));
        let mut connections = JoinSet::new();
        let mut accepted = 0;
        let deadline = tokio::time::sleep(DEADLINE);
        tokio::pin!(deadline);
        {
            // `incoming` borrows the listener; it must be gone (nothing
            // waiting on the listener) before the listener can travel.
            let mut incoming = listener.incoming();
            while accepted < SWITCH_AFTER {
                tokio::select! {
                    Some(next) = incoming.next() => match next {
                        Ok(socket) => {
                            accepted += 1;
                            connections.spawn(echo(socket, echoed.clone()));
                        }
                        // It pauses before accepting again.
                        Err(e) => println!("[{WHO}] accept failed: {}", describe(&e)),
                    },
                    () = stop.cancelled() => break,
                    () = &mut deadline => break,
                }
                while connections.try_join_next().is_some() {}
            }
        }
        if accepted < SWITCH_AFTER {
            return Err((
                WHO,
                Error::invalid_data(format!(
                    "stopped after {accepted} connections, before the hand-off"
                )),
            ));
        }
        println!(
            "[{WHO}] accepted {accepted} connections; stops accepting ({} still open) \
             while the listener keeps queueing new ones",
            connections.len()
        );

        let exe = std::env::current_exe().map_err(fail_io(WHO))?;
        // Process B shares our stdin (its stop signal) and stdout (the story).
        let mut b = std::process::Command::new(exe)
            .args(["--role", "b", "--handoff"])
            .arg(path)
            .spawn()
            .map_err(fail_io(WHO))?;
        println!("[{WHO}] started process B (pid {})", b.id());

        let context = format!(
            "from pid {} after {accepted} connections, {} still draining there",
            std::process::id(),
            connections.len()
        );
        let (listener, err) = match timeout(WAIT, handoff.accept()).await {
            Ok(Ok((stream, _))) => {
                let mut channel = HandoffChannel::from_unix_stream(stream);
                match listener
                    .transfer_ownership(LISTENER_ID, context.as_bytes(), &mut channel)
                    .await
                {
                    Ok(()) => {
                        // Process B outlives us: it is not ours to wait for.
                        drop(b);
                        return drain_a(path, handoff, channel, connections, accepted, &echoed)
                            .await;
                    }
                    // The listener comes back, still listening.
                    Err(e) => {
                        let (err, listener) = e.into_parts();
                        (listener, err)
                    }
                }
            }
            Ok(Err(e)) => (listener, Error::Io(e)),
            Err(_) => (
                listener,
                Error::TimedOut {
                    operation: "hand-off accept",
                    after: WAIT,
                },
            ),
        };
        println!(
            "[{WHO}] hand-off failed ({}); keeps its listener, which never stopped listening, \
             and serves on",
            describe(&err)
        );
        let _ = b.kill();
        let _ = b.wait();
        let served = echoed.clone();
        let report = listener
            .serve(move |socket| echo(socket, served.clone()))
            .with_graceful_shutdown(async move {
                let _ = timeout(DEADLINE, stop.cancelled()).await;
            })
            .shutdown_timeout(WAIT)
            .await;
        while connections.join_next().await.is_some() {}
        println!(
            "{}",
            summary(
                WHO,
                accepted + report.accepted,
                echoed.load(Ordering::Relaxed)
            )
        );
        Err((WHO, err))
    }

    /// Process A after the hand-off: finishes the connections it has.
    async fn drain_a(
        path: &Path,
        handoff: tokio::net::UnixListener,
        channel: HandoffChannel,
        mut connections: JoinSet<Result<(), Error>>,
        accepted: u64,
        echoed: &AtomicU64,
    ) -> Result<(), Failure> {
        const WHO: &str = "process A";
        println!(
            "[{WHO}] transferred {LISTENER_ID:?} to process B over {} (SCM_RIGHTS); \
             this copy is closed",
            path.display()
        );
        // Returns once process B has read the listener and closed its end.
        within(WHO, "hand-off finish", channel.finish()).await?;
        drop(handoff);
        let _ = std::fs::remove_file(path);

        let open = connections.len();
        let drained = timeout(WAIT, async {
            let mut failed = 0;
            while let Some(done) = connections.join_next().await {
                if !matches!(done, Ok(Ok(()))) {
                    failed += 1;
                }
            }
            failed
        })
        .await;
        match drained {
            Ok(0) => println!("[{WHO}] drained its {open} open connections"),
            Ok(failed) => println!("[{WHO}] drained {open} connections, {failed} ended badly"),
            Err(_) => println!("[{WHO}] gave up draining after {WAIT:?}"),
        }
        println!("{}", summary(WHO, accepted, echoed.load(Ordering::Relaxed)));
        Ok(())
    }

    /// Process B: adopts the listener and serves until stdin closes.
    async fn process_b(path: &Path) -> Result<(), Failure> {
        const WHO: &str = "process B";
        let stop = stdin_closed();
        println!(
            "[{WHO}] pid {}: asks for the listener at {}",
            std::process::id(),
            path.display()
        );
        let mut channel = within(WHO, "hand-off connect", HandoffChannel::connect(path)).await?;
        let info = within(WHO, "hand-off receive", channel.recv())
            .await?
            .ok_or_else(|| {
                (
                    WHO,
                    Error::UnexpectedEof {
                        context: "before the listener arrived".into(),
                    },
                )
            })?;
        // Closing our end tells process A the listener has arrived.
        drop(channel);
        println!(
            "[{WHO}] received {:?} ({}) with context \"{}\"",
            info.id,
            info.kind,
            sock_examples::shown(&info.context)
        );
        let listener = StreamSocketListener::from_socket_activity(info).map_err(fail(WHO))?;
        println!(
            "[{WHO}] adopted the listener on {}; accepts what queued meanwhile, then serves",
            listener.local_addr()
        );
        let echoed = Arc::new(AtomicU64::new(0));
        let served = echoed.clone();
        let report = listener
            .serve(move |socket| echo(socket, served.clone()))
            .with_graceful_shutdown(async move {
                let _ = timeout(DEADLINE, stop.cancelled()).await;
            })
            .shutdown_timeout(WAIT)
            .await;
        if report.failed + report.panicked + report.aborted > 0 {
            println!(
                "[{WHO}] {} connections failed, {} panicked, {} were aborted",
                report.failed, report.panicked, report.aborted
            );
        }
        println!(
            "{}",
            summary(WHO, report.accepted, echoed.load(Ordering::Relaxed))
        );
        Ok(())
    }

    /// What one client loop saw.
    #[derive(Debug, Default)]
    struct ClientCounts {
        connections: u64,
        refused: u64,
        failed: u64,
        sent: u64,
        echoed: u64,
        slowest: Duration,
    }

    impl ClientCounts {
        fn add(&mut self, other: &Self) {
            self.connections += other.connections;
            self.refused += other.refused;
            self.failed += other.failed;
            self.sent += other.sent;
            self.echoed += other.echoed;
            self.slowest = self.slowest.max(other.slowest);
        }

        fn lost(&self) -> u64 {
            self.sent - self.echoed
        }
    }

    /// One client loop: connection after connection, each sending its
    /// messages and checking every echo.
    async fn client(id: usize, port: u16, until: Instant) -> ClientCounts {
        let mut counts = ClientCounts::default();
        let host = HostName::new("127.0.0.1").expect("a literal address");
        for n in 0..CONNECTIONS_PER_CLIENT {
            if Instant::now() >= until {
                println!("[client {id}] out of time after {n} connections");
                break;
            }
            let started = Instant::now();
            let connected = StreamSocket::builder()
                .connect_timeout(WAIT)
                .idle_timeout(Some(WAIT))
                .connect(&host, port)
                .await;
            let socket = match connected {
                Ok(socket) => socket,
                Err(e) => {
                    if e.status() == SocketErrorStatus::ConnectionRefused {
                        counts.refused += 1;
                    } else {
                        counts.failed += 1;
                    }
                    println!("[client {id}] connection {n}: {}", describe(&e));
                    continue;
                }
            };
            counts.connections += 1;
            let mut lines = socket.framed(LineCodec::new());
            for m in 0..MESSAGES_PER_CONNECTION {
                let message = format!("client {id} connection {n} message {m}");
                if let Err(e) = lines.send(message.as_str()).await {
                    println!("[client {id}] connection {n}: send: {}", describe(&e));
                    break;
                }
                counts.sent += 1;
                match lines.next().await {
                    Some(Ok(echo)) if echo == message => counts.echoed += 1,
                    Some(Ok(echo)) => println!("[client {id}] sent {message:?}, got {echo:?}"),
                    Some(Err(e)) => {
                        println!("[client {id}] connection {n}: read: {}", describe(&e));
                        break;
                    }
                    None => {
                        println!("[client {id}] connection {n}: closed before the echo");
                        break;
                    }
                }
                if m == 0 {
                    counts.slowest = counts.slowest.max(started.elapsed());
                }
            }
            if let Ok(socket) = StreamSocket::from_framed(lines).await {
                let _ = socket.close().await;
            }
            tokio::time::sleep(PAUSE).await;
        }
        counts
    }

    /// Removes the story's temporary directory.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The whole story: process A, the clients, the switch, the totals;
    /// `false` when something was refused, lost or miscounted.
    async fn story() -> Result<bool, Failure> {
        const WHO: &str = "parent";
        let begun = Instant::now();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("sock-handoff-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).map_err(fail_io(WHO))?;
        let dir = TempDir(dir);
        let path = dir.0.join("handoff.sock");

        let exe = std::env::current_exe().map_err(fail_io(WHO))?;
        let mut a = tokio::process::Command::new(exe)
            .args(["--role", "a", "--handoff"])
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // If the story fails, process A goes with it (and process B,
            // whose stdin then closes, follows).
            .kill_on_drop(true)
            .spawn()
            .map_err(fail_io(WHO))?;
        let stdin = a.stdin.take();
        let stdout = a.stdout.take().expect("stdout is piped");
        println!(
            "[{WHO}] started process A (pid {}); processes A and B share its output",
            a.id().unwrap_or(0)
        );

        // The children's story lines come through their stdout; the first
        // tells the port.
        let mut lines = BufReader::new(stdout).lines();
        let port = within(WHO, "process A's port", async {
            while let Some(line) = lines.next_line().await? {
                println!("{line}");
                if let Some(port) = parse_port(&line) {
                    return Ok(port);
                }
            }
            Err(Error::UnexpectedEof {
                context: "process A ended before telling its port".into(),
            })
        })
        .await?;
        let output = tokio::spawn(async move {
            let mut summaries = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                println!("{line}");
                summaries.extend(parse_summary(&line));
            }
            summaries
        });

        println!(
            "[client] {CLIENTS} client loops, {CONNECTIONS_PER_CLIENT} connections each, \
             {MESSAGES_PER_CONNECTION} messages a connection"
        );
        let until = begun + DEADLINE / 2;
        let loops: Vec<_> = (1..=CLIENTS)
            .map(|id| tokio::spawn(client(id, port, until)))
            .collect();
        let mut clients = ClientCounts::default();
        for done in futures::future::join_all(loops).await {
            let counts = done.map_err(|e| (WHO, Error::Io(std::io::Error::other(e))))?;
            clients.add(&counts);
        }
        println!(
            "[client] done: {} connections, {} messages sent, {} echoed; \
             the slowest first echo took {} ms",
            clients.connections,
            clients.sent,
            clients.echoed,
            clients.slowest.as_millis()
        );

        // Closing stdin tells process B to stop.
        drop(stdin);
        let status = within(WHO, "process A's exit", async { Ok(a.wait().await?) }).await?;
        // The output ends when processes A and B have both exited.
        let Ok(Ok(summaries)) = timeout(WAIT, output).await else {
            return Err((
                WHO,
                Error::TimedOut {
                    operation: "the servers' exit",
                    after: WAIT,
                },
            ));
        };
        let served = |who: &str| {
            summaries
                .iter()
                .find(|(name, ..)| name == who)
                .map(|&(_, accepted, echoed)| (accepted, echoed))
        };
        let by_a = served("process A");
        let by_b = served("process B");
        let (a_accepted, a_echoed) = by_a.unwrap_or_default();
        let (b_accepted, b_echoed) = by_b.unwrap_or_default();

        println!("[{WHO}] totals:");
        println!("[{WHO}]   messages sent          {}", clients.sent);
        println!("[{WHO}]   messages echoed        {}", clients.echoed);
        println!("[{WHO}]   connections refused    {}", clients.refused);
        println!("[{WHO}]   messages lost          {}", clients.lost());
        println!("[{WHO}]   served by process A    {a_accepted} connections, {a_echoed} messages");
        println!("[{WHO}]   served by process B    {b_accepted} connections, {b_echoed} messages");
        println!(
            "[{WHO}]   took                   {} ms",
            begun.elapsed().as_millis()
        );

        let mut problems = Vec::new();
        if clients.refused > 0 {
            problems.push(format!("{} connections refused", clients.refused));
        }
        if clients.failed > 0 {
            problems.push(format!("{} connections failed", clients.failed));
        }
        if clients.lost() > 0 {
            problems.push(format!("{} messages lost", clients.lost()));
        }
        let planned = (CLIENTS * CONNECTIONS_PER_CLIENT * MESSAGES_PER_CONNECTION) as u64;
        if clients.sent < planned {
            problems.push(format!("{} of {planned} messages sent", clients.sent));
        }
        if !status.success() {
            problems.push(format!("process A exited with {status}"));
        }
        if by_a.is_none() || by_b.is_none() {
            problems.push("a server did not report its counts".to_owned());
        } else if a_echoed + b_echoed != clients.echoed
            || a_accepted + b_accepted != clients.connections
        {
            problems.push("the servers' counts do not add up to the clients'".to_owned());
        }
        if problems.is_empty() {
            println!("[{WHO}] the switch went unnoticed: nothing refused, nothing lost");
        } else {
            println!("[{WHO}] the switch was noticed: {}", problems.join(", "));
        }
        Ok(problems.is_empty())
    }
}
