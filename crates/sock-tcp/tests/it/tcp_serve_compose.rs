//! `serve` composes like the rest of tokio: it is a `Future` to spawn,
//! handlers see the graceful shutdown and close on it, handler errors and
//! panics are reported with the peer, and served sockets get the idle
//! timeouts asked for.

use crate::support;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sock_codec::LineCodec;
use sock_core::SocketErrorStatus as S;
use sock_tcp::{HandlerFailure, StreamSocket, DEFAULT_SERVE_IDLE_TIMEOUT};
use support::{listener, v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

#[tokio::test]
async fn a_configured_server_is_a_future_that_tokio_spawn_takes() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    // As a user writes it: no `into_future`, no wrapper.
    let server = tokio::spawn(
        listener
            .serve(|mut socket: StreamSocket| async move {
                let n = socket.read_u8().await?;
                socket.write_u8(n + 1).await
            })
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            }),
    );
    let mut client = StreamSocket::connect(&v4(), port).await.unwrap();
    client.write_u8(41).await.unwrap();
    assert_eq!(within(client.read_u8()).await.unwrap(), 42);
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!((report.accepted, report.completed), (1, 1), "{report:?}");
}

#[tokio::test]
async fn handlers_see_the_shutdown_signal_and_close_instead_of_being_aborted() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    let (started_tx, mut started) = mpsc::unbounded_channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(move |socket: StreamSocket| {
                let started = started_tx.clone();
                async move {
                    let shutdown = socket.shutdown_signal();
                    assert!(!shutdown.is_shutting_down());
                    let mut lines = socket.framed(LineCodec::new());
                    let _ = started.send(());
                    loop {
                        tokio::select! {
                            line = lines.next() => match line {
                                Some(line) => lines.send(line?).await?,
                                None => return Ok(()),
                            },
                            () = shutdown.shutting_down() => {
                                assert!(shutdown.is_shutting_down());
                                lines.send("BYE").await?;
                                return Ok::<_, sock_core::Error>(());
                            }
                        }
                    }
                }
            })
            // Long: a handler that ignored the signal would hold the
            // shutdown this long, past the test's bound.
            .shutdown_timeout(Duration::from_secs(60))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            }),
    );
    let mut clients = Vec::new();
    for _ in 0..3 {
        let socket = StreamSocket::connect(&v4(), port).await.unwrap();
        within(started.recv()).await.unwrap();
        clients.push(socket.framed(LineCodec::new()));
    }
    stop.send(()).unwrap();
    for lines in &mut clients {
        let bye = within(lines.next()).await.unwrap().unwrap();
        assert_eq!(bye, "BYE");
    }
    let report = within(server).await.unwrap();
    assert_eq!(report.accepted, 3);
    assert_eq!(report.completed, 3, "{report:?}");
    assert_eq!(report.aborted, 0, "{report:?}");
}

#[tokio::test]
async fn a_socket_no_server_handed_out_has_a_signal_that_never_fires() {
    let (client, _server) = support::pair().await;
    let signal = client.shutdown_signal();
    assert!(!signal.is_shutting_down());
    tokio::select! {
        () = signal.shutting_down() => panic!("fired without a server"),
        () = tokio::task::yield_now() => {}
    }
}

#[tokio::test]
async fn failed_and_panicking_handlers_are_reported_with_peer_status_and_message() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let failures = Arc::new(Mutex::new(Vec::<HandlerFailure>::new()));
    let seen = Arc::clone(&failures);
    let (stop, stopped) = oneshot::channel::<()>();
    let (done_tx, mut done) = mpsc::unbounded_channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(|mut socket: StreamSocket| async move {
                match socket.read_u8().await? {
                    b'e' => Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "the peer said \"e\"\n",
                    )),
                    b'p' => panic!("asked to panic"),
                    _ => Ok(()),
                }
            })
            .on_handler_error(move |failure| {
                seen.lock().unwrap().push(failure.clone());
                let _ = done_tx.send(());
            })
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            }),
    );
    let mut peers = Vec::new();
    for byte in [b'e', b'p'] {
        let mut client = StreamSocket::connect(&v4(), port).await.unwrap();
        peers.push(client.local_addr());
        client.write_u8(byte).await.unwrap();
        within(done.recv()).await.unwrap();
    }
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!((report.failed, report.panicked), (1, 1), "{report:?}");

    let failures = failures.lock().unwrap();
    let [failed, panicked] = &failures[..] else {
        panic!("{failures:?}")
    };
    assert_eq!(failed.peer, peers[0]);
    assert_eq!(failed.status, S::ConnectionResetByPeer);
    assert!(!failed.panicked);
    assert_eq!(failed.message, "the peer said \"e\"\n");
    // Displayed escaped: no raw newline from the peer reaches a log line.
    let shown = failed.to_string();
    assert!(!shown.contains('\n') && shown.contains("\\n"), "{shown}");
    assert_eq!(panicked.peer, peers[1]);
    assert!(panicked.panicked);
    assert_eq!(panicked.message, "asked to panic");
}

type Timeouts = (Option<Duration>, Option<Duration>, Option<Duration>);
type Handler = Box<dyn Fn(StreamSocket) -> futures::future::Ready<()> + Send + Sync>;

/// The (all, read, write) idle timeouts a socket served by a server that
/// `configure` set up gets.
async fn served_idle_timeouts(
    configure: impl FnOnce(sock_tcp::Serve<Handler>) -> sock_tcp::Serve<Handler>,
) -> Timeouts {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (tx, mut rx) = mpsc::unbounded_channel::<Timeouts>();
    let (stop, stopped) = oneshot::channel::<()>();
    let handler: Handler = Box::new(move |socket: StreamSocket| {
        let _ = tx.send((
            socket.idle_timeout(),
            socket.read_idle_timeout(),
            socket.write_idle_timeout(),
        ));
        futures::future::ready(())
    });
    let server = tokio::spawn(
        configure(listener.serve(handler)).with_graceful_shutdown(async {
            let _ = stopped.await;
        }),
    );
    let _client = StreamSocket::connect(&v4(), port).await.unwrap();
    let got = within(rx.recv()).await.unwrap();
    stop.send(()).unwrap();
    within(server).await.unwrap();
    got
}

#[tokio::test]
async fn served_sockets_get_the_idle_timeouts_asked_for_and_all_idle_by_default() {
    let got = served_idle_timeouts(|serve| serve).await;
    assert_eq!(got, (Some(DEFAULT_SERVE_IDLE_TIMEOUT), None, None));

    let got = served_idle_timeouts(|serve| {
        serve
            .read_idle_timeout(Some(Duration::from_secs(5)))
            .write_idle_timeout(Some(Duration::from_secs(7)))
    })
    .await;
    // Asking for one direction leaves the all-idle default in place.
    assert_eq!(
        got,
        (
            Some(DEFAULT_SERVE_IDLE_TIMEOUT),
            Some(Duration::from_secs(5)),
            Some(Duration::from_secs(7))
        )
    );
}

#[tokio::test]
async fn a_served_push_only_connection_outlives_the_idle_timeout_while_it_pushes() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(|socket: StreamSocket| async move {
                let (mut input, mut output) = socket.into_split();
                let mut buf = [0u8; 1];
                // The read waits for the whole push: five ticks over 1.5 s,
                // three times the idle timeout.
                let pushing = async {
                    for _ in 0..5 {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        output.write_all(b"tick\n").await?;
                    }
                    output.write_all(b"done\n").await
                };
                tokio::select! {
                    read = input.read(&mut buf) => read.map(drop),
                    pushed = pushing => pushed,
                }
            })
            .idle_timeout(Some(Duration::from_millis(500)))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            }),
    );
    let socket = StreamSocket::connect(&v4(), port).await.unwrap();
    let mut lines = socket.framed(LineCodec::new());
    for expected in ["tick", "tick", "tick", "tick", "tick", "done"] {
        let line = within(lines.next()).await.unwrap().unwrap();
        assert_eq!(line, expected);
    }
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!((report.completed, report.failed), (1, 0), "{report:?}");
}
