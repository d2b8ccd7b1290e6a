//! `cancel_io`: waiting reads and writes end with `OperationAborted`, the
//! connection stays usable, and dropping a read future harms nothing.

use crate::support;

use std::time::Duration;

use sock_core::SocketErrorStatus as S;
use sock_tcp::{CancelIoHandle, StreamSocket};
use support::{pair, v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// Calls `cancel_io` until `task` ends (a cancel that comes before the
/// operation waits has nothing to cancel, so the next one catches it).
async fn cancel_until_done<T>(handle: &CancelIoHandle, mut task: JoinHandle<T>) -> T {
    within(async {
        loop {
            handle.cancel_io();
            if let Ok(done) = tokio::time::timeout(Duration::from_millis(20), &mut task).await {
                return done.unwrap();
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_waiting_read_ends_aborted_and_the_connection_lives_on() {
    let (mut client, mut server) = pair().await;
    let handle = client.cancel_io_handle();
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 16];
        let err = client.read(&mut buf).await.unwrap_err();
        (client, err)
    });
    let (mut client, err) = cancel_until_done(&handle, reader).await;
    assert_eq!(S::from(&err), S::OperationAborted, "{err}");

    // Nothing was lost: data sent afterwards is read normally, both ways.
    server.write_all(b"after").await.unwrap();
    let mut buf = [0u8; 5];
    within(client.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"after");
    client.write_all(b"back").await.unwrap();
    let mut buf = [0u8; 4];
    within(server.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"back");
}

#[tokio::test]
async fn cancel_io_ends_a_read_and_a_write_waiting_on_split_halves_in_other_tasks() {
    let listener = sock_tcp::StreamSocketListener::bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    let (client, server) = within(async {
        tokio::join!(
            StreamSocket::builder()
                .outbound_buffer_size(4096)
                .connect(&v4(), port),
            listener.accept()
        )
    })
    .await;
    let (client, _server) = (client.unwrap(), server.unwrap());
    let handle = client.cancel_io_handle();
    let (mut input, mut output) = client.into_split();
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 16];
        input.read(&mut buf).await.unwrap_err()
    });
    // The server never reads, so the writer soon waits for buffer space.
    let writer = tokio::spawn(async move {
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = output.write_all(&chunk).await {
                return e;
            }
        }
    });
    let read_err = cancel_until_done(&handle, reader).await;
    let write_err = cancel_until_done(&handle, writer).await;
    assert_eq!(S::from(&read_err), S::OperationAborted, "{read_err}");
    assert_eq!(S::from(&write_err), S::OperationAborted, "{write_err}");
}

#[tokio::test]
async fn dropping_a_read_future_keeps_the_connection_and_its_data() {
    let (mut client, mut server) = pair().await;
    let mut buf = [0u8; 8];
    // A read that gives up after a while, as in a select! with a timer.
    let gave_up = tokio::time::timeout(Duration::from_millis(50), client.read(&mut buf)).await;
    assert!(gave_up.is_err());
    server.write_all(b"late").await.unwrap();
    let mut got = [0u8; 4];
    within(client.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got, b"late");
}

#[tokio::test]
async fn cancel_io_with_nothing_waiting_does_not_touch_later_operations() {
    let (mut client, mut server) = pair().await;
    client.cancel_io();
    server.write_all(b"x").await.unwrap();
    let mut got = [0u8; 1];
    within(client.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got, b"x");
}

#[tokio::test]
async fn a_read_in_another_task_is_not_cancelled_by_a_dropped_read_from_before() {
    let (mut client, mut server) = pair().await;
    let handle = client.cancel_io_handle();
    let mut buf = [0u8; 8];
    assert!(
        tokio::time::timeout(Duration::from_millis(20), client.read(&mut buf))
            .await
            .is_err()
    );
    // cancel_io now: the only "waiting" read is the dropped one.
    handle.cancel_io();
    // A read from another task is a new operation and is not cancelled.
    let reader = tokio::spawn(async move {
        let mut got = [0u8; 2];
        client.read_exact(&mut got).await.map(|_| got)
    });
    server.write_all(b"ok").await.unwrap();
    assert_eq!(&within(reader).await.unwrap().unwrap(), b"ok");
}
