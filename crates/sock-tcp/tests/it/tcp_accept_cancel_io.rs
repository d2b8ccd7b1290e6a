//! `StreamSocketListener::cancel_io` (UWP's `CancelIOAsync`): pending accepts
//! end with `OperationAborted`, later ones wait normally, no connection is
//! lost, and a server over the listener neither stops nor spins.

use crate::support;

use std::future::IntoFuture;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{poll, StreamExt};
use sock_core::{Error, SocketErrorStatus as S};
use sock_tcp::{StreamSocket, StreamSocketListener};
use support::{listener, v4, within, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

fn assert_cancelled(result: sock_core::Result<StreamSocket>) {
    let err = result.expect_err("the accept was not cancelled");
    assert_eq!(err.status(), S::OperationAborted, "{err}");
    assert!(
        matches!(
            err,
            Error::Cancelled {
                operation: "accept"
            }
        ),
        "{err:?}"
    );
}

/// Connects to `listener` and accepts; checks bytes flow both ways.
async fn connect_and_talk(listener: &StreamSocketListener) {
    let port = listener.information().local_port;
    let (client, server) =
        within(async { tokio::join!(StreamSocket::connect(&v4(), port), listener.accept()) }).await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    client.write_all(b"hi").await.unwrap();
    let mut buf = [0u8; 2];
    within(server.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"hi");
}

#[tokio::test]
async fn a_pending_accept_ends_aborted_and_the_listener_keeps_accepting() {
    let listener = listener().await;
    let mut accept = pin!(listener.accept());
    assert!(poll!(accept.as_mut()).is_pending());
    listener.cancel_io();
    assert_cancelled(within(accept).await);

    connect_and_talk(&listener).await;
}

#[tokio::test]
async fn every_pending_accept_is_cancelled_and_only_those() {
    let listener = listener().await;
    let mut first = pin!(listener.accept());
    let mut second = pin!(listener.accept());
    assert!(poll!(first.as_mut()).is_pending());
    assert!(poll!(second.as_mut()).is_pending());
    listener.cancel_io();
    // An accept made after cancel_io returned is not cancelled.
    let mut later = pin!(listener.accept());
    assert!(poll!(later.as_mut()).is_pending());
    assert_cancelled(within(first).await);
    assert_cancelled(within(second).await);

    let port = listener.information().local_port;
    let client = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    let server = within(later).await.unwrap();
    assert_eq!(server.peer_addr(), client.local_addr());
}

#[tokio::test]
async fn cancel_io_with_nothing_pending_leaves_the_next_accept_alone() {
    let listener = listener().await;
    listener.cancel_io();
    listener.cancel_io();
    connect_and_talk(&listener).await;
}

#[tokio::test]
async fn a_connection_that_arrives_around_the_cancel_is_not_lost() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let mut accept = pin!(listener.accept());
    assert!(poll!(accept.as_mut()).is_pending());
    // The connection completes in the backlog before the accept is polled again.
    let mut client = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    listener.cancel_io();
    assert_cancelled(within(accept).await);
    let mut server = within(listener.accept()).await.unwrap();
    assert_eq!(server.peer_addr(), client.local_addr());
    client.write_all(b"kept").await.unwrap();
    let mut buf = [0u8; 4];
    within(server.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"kept");
}

#[tokio::test]
async fn a_handle_cancels_an_accept_waiting_in_another_task() {
    let listener = Arc::new(listener().await);
    let handle = listener.cancel_io_handle();
    let (started, waiting) = oneshot::channel();
    let task = tokio::spawn({
        let listener = Arc::clone(&listener);
        async move {
            let mut accept = pin!(listener.accept());
            assert!(poll!(accept.as_mut()).is_pending());
            started.send(()).unwrap();
            accept.await
        }
    });
    within(waiting).await.unwrap();
    handle.cancel_io();
    assert_cancelled(within(task).await.unwrap());
    connect_and_talk(&listener).await;
}

#[tokio::test]
async fn incoming_yields_one_cancelled_error_then_waits_normally() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let mut incoming = listener.incoming();
    assert!(poll!(incoming.next()).is_pending());
    listener.cancel_io();
    assert_cancelled(within(incoming.next()).await.unwrap());
    // The next item is a new wait: not cancelled, and it gets the connection.
    assert!(poll!(incoming.next()).is_pending());
    let client = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    let server = within(incoming.next()).await.unwrap().unwrap();
    assert_eq!(server.peer_addr(), client.local_addr());
}

#[tokio::test]
async fn a_cancel_between_incoming_items_touches_neither_item() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let mut incoming = listener.incoming();
    for round in 0..3 {
        // An item that waited, then got its connection...
        assert!(poll!(incoming.next()).is_pending(), "round {round}");
        let client = within(StreamSocket::connect(&v4(), port)).await.unwrap();
        let server = within(incoming.next()).await.unwrap().unwrap();
        assert_eq!(server.peer_addr(), client.local_addr());
        // ...then a cancel while nothing waits: the next item is not
        // cancelled (round 0 and 2), and without one it waits as well.
        if round != 1 {
            listener.cancel_io();
        }
    }
    // A cancel while the stream waits still ends that wait.
    assert!(poll!(incoming.next()).is_pending());
    listener.cancel_io();
    assert_cancelled(within(incoming.next()).await.unwrap());
}

/// `serve` over a listener cancelled again and again keeps serving, counts
/// no accept error, and does not spin: it runs on a current-thread runtime of
/// its own, where a spinning accept loop would starve the client task, so
/// the outcome would never arrive.
#[test]
fn serve_restarts_a_cancelled_accept_without_spinning() {
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = rt.block_on(async {
            let listener = listener().await;
            let port = listener.information().local_port;
            let handle = listener.cancel_io_handle();
            let (stop, stopped) = oneshot::channel::<()>();
            let server = tokio::spawn(
                listener
                    .serve(|mut socket: StreamSocket| async move {
                        let mut buf = [0u8; 4];
                        socket.read_exact(&mut buf).await?;
                        socket.write_all(&buf).await?;
                        Ok::<(), std::io::Error>(())
                    })
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .into_future(),
            );
            for round in 0..3u8 {
                // Let the server reach its accept, then cancel it repeatedly.
                for _ in 0..20 {
                    tokio::task::yield_now().await;
                    handle.cancel_io();
                }
                let mut client = StreamSocket::connect(&v4(), port).await.unwrap();
                let msg = [b'a' + round; 4];
                client.write_all(&msg).await.unwrap();
                let mut echo = [0u8; 4];
                client.read_exact(&mut echo).await.unwrap();
                assert_eq!(echo, msg);
            }
            stop.send(()).unwrap();
            server.await.unwrap()
        });
        let _ = done.send(report);
    });
    let report = outcome
        .recv_timeout(WAIT + Duration::from_secs(5))
        .expect("the server spun or stopped serving after cancel_io");
    assert_eq!(report.accepted, 3, "{report:?}");
    assert_eq!(report.completed, 3, "{report:?}");
    assert_eq!(report.accept_errors, 0, "{report:?}");
}
