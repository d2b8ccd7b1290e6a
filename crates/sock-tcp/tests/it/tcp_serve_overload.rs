//! `serve` at its connection limit: connections that hold a slot and say
//! nothing cannot lock a well-behaved client out. The one idle longest is
//! shed to make room, and when nothing is idle enough, a new connection is
//! refused at once instead of hanging in the backlog.

use crate::support;

use std::time::{Duration, Instant};

use sock_tcp::{ServeReport, StreamSocket, StreamSocketListener};
use support::{closed_by_server, listener, v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Echoes one byte per read until the peer closes; says when it starts.
fn spawn_echo(
    listener: StreamSocketListener,
    max: usize,
    shed_idle: Option<Duration>,
) -> (
    oneshot::Sender<()>,
    mpsc::UnboundedReceiver<()>,
    JoinHandle<ServeReport>,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    let (started_tx, started) = mpsc::unbounded_channel();
    let server = tokio::spawn(
        listener
            .serve(move |mut socket: StreamSocket| {
                let started = started_tx.clone();
                async move {
                    let _ = started.send(());
                    let mut buf = [0u8; 64];
                    loop {
                        let n = socket.read(&mut buf).await?;
                        if n == 0 {
                            return Ok::<_, std::io::Error>(());
                        }
                        socket.write_all(&buf[..n]).await?;
                    }
                }
            })
            .max_connections(max)
            .shed_idle_at_limit(shed_idle)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            }),
    );
    (stop, started, server)
}

#[tokio::test]
async fn the_connection_idle_longest_makes_room_for_a_new_client() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let min_idle = Duration::from_millis(200);
    let (stop, mut started, server) = spawn_echo(listener, 4, Some(min_idle));

    // Four connections take every slot and go quiet.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(StreamSocket::connect(&v4(), port).await.unwrap());
        within(started.recv()).await.unwrap();
    }
    // One of them keeps talking, so it is never the idlest.
    let mut talker = idle.pop().unwrap();
    let quiet_since = Instant::now();
    while quiet_since.elapsed() < 2 * min_idle {
        talker.write_all(b"t").await.unwrap();
        let mut b = [0u8; 1];
        within(talker.read_exact(&mut b)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A new client is served at once: the first (idle longest) was shed.
    let mut client = StreamSocket::connect(&v4(), port).await.unwrap();
    client.write_all(b"hello").await.unwrap();
    let mut reply = [0u8; 5];
    within(client.read_exact(&mut reply)).await.unwrap();
    assert_eq!(&reply, b"hello");
    closed_by_server(&mut idle[0]).await;
    // The others were left alone, the talker included.
    talker.write_all(b"t").await.unwrap();
    let mut b = [0u8; 1];
    within(talker.read_exact(&mut b)).await.unwrap();

    drop((idle, talker, client));
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.shed, 1, "{report:?}");
    assert_eq!(report.refused, 0, "{report:?}");
    assert_eq!(report.accepted, 5, "{report:?}");
}

#[tokio::test]
async fn with_nothing_idle_enough_a_new_client_is_refused_at_once_not_left_hanging() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (stop, mut started, server) = spawn_echo(listener, 2, Some(Duration::from_secs(600)));
    let mut busy = Vec::new();
    for _ in 0..2 {
        busy.push(StreamSocket::connect(&v4(), port).await.unwrap());
        within(started.recv()).await.unwrap();
    }
    // The third completes its TCP handshake, then is reset: it can tell.
    let mut third = StreamSocket::connect(&v4(), port).await.unwrap();
    closed_by_server(&mut third).await;
    // The two served ones are untouched.
    for s in &mut busy {
        s.write_all(b"x").await.unwrap();
        let mut b = [0u8; 1];
        within(s.read_exact(&mut b)).await.unwrap();
    }
    drop(busy);
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!((report.refused, report.shed), (1, 0), "{report:?}");
}
