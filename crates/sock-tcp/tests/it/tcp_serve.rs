//! `serve`: a task per connection, many at once, a cap on concurrency, idle
//! timeouts, failures that stay local, and graceful shutdown.

use crate::support;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sock_codec::LineCodec;
use sock_core::SocketErrorStatus as S;
use sock_tcp::{ServeReport, StreamSocket, StreamSocketListener};
use support::{listener, v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// Echoes lines until the peer closes.
async fn echo_lines(socket: StreamSocket) -> sock_core::Result<()> {
    let mut lines = socket.framed(LineCodec::new());
    while let Some(line) = lines.next().await {
        lines.send(line?).await?;
    }
    Ok(())
}

fn spawn_server<F, Fut>(
    listener: StreamSocketListener,
    handler: F,
    max: usize,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<ServeReport>)
where
    F: Fn(StreamSocket) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = sock_core::Result<()>> + Send + 'static,
{
    spawn_server_shedding(
        listener,
        handler,
        max,
        Some(sock_tcp::DEFAULT_SHED_MIN_IDLE),
    )
}

/// As [`spawn_server`], with the given policy at the connection limit.
fn spawn_server_shedding<F, Fut>(
    listener: StreamSocketListener,
    handler: F,
    max: usize,
    shed_idle: Option<Duration>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<ServeReport>)
where
    F: Fn(StreamSocket) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = sock_core::Result<()>> + Send + 'static,
{
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(handler)
            .max_connections(max)
            .shed_idle_at_limit(shed_idle)
            .shutdown_timeout(Duration::from_secs(5))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (stop, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_clients_are_all_served() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, server) = spawn_server(listener, echo_lines, 1000);

    let clients: Vec<_> = (0..200)
        .map(|i| {
            tokio::spawn(async move {
                let socket = StreamSocket::connect(&v4(), port).await?;
                let mut lines = socket.framed(LineCodec::new());
                let request = format!("client {i}");
                lines.send(request.as_str()).await?;
                let reply = lines.next().await.transpose()?;
                assert_eq!(reply.as_deref(), Some(request.as_str()));
                Ok::<_, sock_core::Error>(())
            })
        })
        .collect();
    for c in clients {
        within(c).await.unwrap().unwrap();
    }
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.accepted, 200);
    assert_eq!(report.completed, 200, "{report:?}");
    assert_eq!(report.failed + report.panicked + report.aborted, 0);
}

#[tokio::test]
async fn without_shedding_at_most_max_connections_run_and_the_rest_wait_their_turn() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (Arc::clone(&running), Arc::clone(&peak));
    let (stop, server) = spawn_server_shedding(
        listener,
        move |mut socket| {
            let (running, peak) = (Arc::clone(&r), Arc::clone(&p));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Hold the slot until the client says goodbye.
                let mut buf = [0u8; 1];
                let _ = socket.read(&mut buf).await;
                running.fetch_sub(1, Ordering::SeqCst);
                socket.write_all(b"k").await?;
                Ok(())
            }
        },
        2,
        None,
    );
    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(within(StreamSocket::connect(&v4(), port)).await.unwrap());
    }
    // Release them one by one; each is served in turn.
    for mut s in sockets {
        s.write_all(b"x").await.unwrap();
        let mut ack = [0u8; 1];
        within(s.read_exact(&mut ack)).await.unwrap();
    }
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.completed, 5, "{report:?}");
    assert!(
        peak.load(Ordering::SeqCst) <= 2,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_panicking_or_failing_handler_does_not_stop_the_server() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, server) = spawn_server(
        listener,
        |mut socket| async move {
            let mut first = [0u8; 1];
            socket.read_exact(&mut first).await?;
            match first[0] {
                b'p' => panic!("handler panics on purpose"),
                b'f' => Err(sock_core::Error::invalid_data("handler fails on purpose")),
                _ => {
                    socket.write_all(b"fine").await?;
                    Ok(())
                }
            }
        },
        10,
    );
    for byte in [b'p', b'f'] {
        let mut s = within(StreamSocket::connect(&v4(), port)).await.unwrap();
        s.write_all(&[byte]).await.unwrap();
        let mut rest = Vec::new();
        let _ = within(s.read_to_end(&mut rest)).await;
    }
    let mut s = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    s.write_all(b"o").await.unwrap();
    let mut reply = [0u8; 4];
    within(s.read_exact(&mut reply)).await.unwrap();
    assert_eq!(&reply, b"fine");
    drop(s);
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(
        (report.panicked, report.failed, report.completed),
        (1, 1, 1),
        "{report:?}"
    );
}

#[tokio::test]
async fn graceful_shutdown_stops_accepting_and_waits_for_running_handlers() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, server) = spawn_server(listener, echo_lines, 10);
    let socket = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    let mut lines = socket.framed(LineCodec::new());
    lines.send("before").await.unwrap();
    assert_eq!(within(lines.next()).await.unwrap().unwrap(), "before");

    stop.send(()).unwrap();
    // New connections are refused once the listener is closed...
    within(async {
        loop {
            match StreamSocket::connect(&v4(), port).await {
                Err(e) if e.status() == S::ConnectionRefused => break,
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await;
    // ...while the running handler still serves its client.
    lines.send("during shutdown").await.unwrap();
    assert_eq!(
        within(lines.next()).await.unwrap().unwrap(),
        "during shutdown"
    );
    assert!(!server.is_finished());
    drop(lines);
    let report = within(server).await.unwrap();
    assert_eq!(report.completed, 1, "{report:?}");
}

#[tokio::test]
async fn handlers_still_running_at_the_shutdown_deadline_are_aborted() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    let (entered, handler_running) = oneshot::channel::<()>();
    let entered = std::sync::Mutex::new(Some(entered));
    let server = tokio::spawn(
        listener
            .serve(move |_socket| {
                if let Some(tx) = entered.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                std::future::pending::<()>()
            })
            .shutdown_timeout(Duration::from_millis(100))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let _client = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    within(handler_running).await.unwrap();
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.aborted, 1, "{report:?}");
}

#[tokio::test]
async fn a_quiet_client_is_cut_off_by_the_idle_timeout() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(|mut socket: StreamSocket| async move {
                let mut buf = [0u8; 1];
                socket.read(&mut buf).await.map(|_| ())
            })
            .idle_timeout(Some(Duration::from_millis(100)))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let mut quiet = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    // The server gives up on us: we see the end of the stream.
    let mut buf = [0u8; 1];
    assert_eq!(within(quiet.read(&mut buf)).await.unwrap(), 0);
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
}

#[tokio::test]
async fn the_listener_idle_timeout_is_kept_unless_serve_sets_one() {
    let listener = StreamSocketListener::builder()
        .idle_timeout(Some(Duration::from_millis(100)))
        .bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(|mut socket: StreamSocket| async move {
                let mut buf = [0u8; 1];
                socket.read(&mut buf).await.map(|_| ())
            })
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    // Far sooner than DEFAULT_SERVE_IDLE_TIMEOUT (60 s): the listener's 100 ms.
    let mut quiet = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(within(quiet.read(&mut buf)).await.unwrap(), 0);
    stop.send(()).unwrap();
    assert_eq!(within(server).await.unwrap().failed, 1);
}
