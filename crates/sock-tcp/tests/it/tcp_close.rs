//! Ending connections as the peer sees it: half-close, graceful close, abort,
//! and the limits of a graceful close.

use crate::support;

use std::time::Duration;

use sock_core::{Error, SocketErrorStatus as S};
use sock_tcp::StreamSocket;
use support::{listener, pair, v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn half_close_lets_the_peer_see_the_end_while_it_can_still_answer() {
    let (mut client, mut server) = pair().await;
    client.write_all(b"request").await.unwrap();
    client.shutdown().await.unwrap();

    // The server reads the request and then the end of the stream...
    let mut request = Vec::new();
    within(server.read_to_end(&mut request)).await.unwrap();
    assert_eq!(request, b"request");
    // ...and can still answer on its own direction.
    server.write_all(b"response").await.unwrap();
    server.shutdown().await.unwrap();

    let mut response = Vec::new();
    within(client.read_to_end(&mut response)).await.unwrap();
    assert_eq!(response, b"response");
}

#[tokio::test]
async fn half_close_works_on_owned_halves() {
    let (client, mut server) = pair().await;
    let (mut input, mut output) = client.into_split();
    output.write_all(b"bye").await.unwrap();
    drop(output); // an owned output stream shuts down sending when dropped
    let mut got = Vec::new();
    within(server.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"bye");
    server.write_all(b"still here").await.unwrap();
    drop(server);
    let mut back = Vec::new();
    within(input.read_to_end(&mut back)).await.unwrap();
    assert_eq!(back, b"still here");
}

#[tokio::test]
async fn graceful_close_delivers_everything_and_ends_cleanly() {
    let (mut client, mut server) = pair().await;
    let payload = vec![7u8; 1 << 20];
    let sent = payload.clone();
    let closer = tokio::spawn(async move {
        server.write_all(&sent).await.unwrap();
        server.close().await
    });
    // The peer also had something to say that the closing side never read:
    // close drains it instead of resetting.
    client.write_all(b"unread by the server").await.unwrap();
    let mut got = Vec::new();
    within(client.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got.len(), payload.len());
    assert_eq!(got, payload);
    drop(client);
    within(closer).await.unwrap().unwrap();
}

#[tokio::test]
async fn graceful_close_resets_when_the_peer_keeps_sending_past_the_drain_limit() {
    let listener = sock_tcp::StreamSocketListener::builder()
        .close_drain_limit(64 * 1024)
        .bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    let (client, server) =
        within(async { tokio::join!(StreamSocket::connect(&v4(), port), listener.accept()) }).await;
    let (mut client, server) = (client.unwrap(), server.unwrap());
    let flood = tokio::spawn(async move {
        let chunk = vec![1u8; 64 * 1024];
        loop {
            if client.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let err = within(server.close()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: "close_drain_limit",
                ..
            }
        ),
        "{err:?}"
    );
    // The flooding peer is reset and stops.
    within(flood).await.unwrap();
}

#[tokio::test]
async fn graceful_close_gives_up_on_a_peer_that_never_finishes() {
    let listener = sock_tcp::StreamSocketListener::builder()
        .close_timeout(Duration::from_millis(200))
        .bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    let (client, server) =
        within(async { tokio::join!(StreamSocket::connect(&v4(), port), listener.accept()) }).await;
    let (_client, server) = (client.unwrap(), server.unwrap());
    let err = within(server.close()).await.unwrap_err();
    assert_eq!(err.status(), S::ConnectionTimedOut, "{err}");
    assert!(err.to_string().contains("close_timeout"), "{err}");
}

#[tokio::test]
async fn abort_is_seen_by_the_peer_as_a_reset() {
    let (mut client, server) = pair().await;
    server.abort().unwrap();
    let mut buf = [0u8; 16];
    let err = within(client.read(&mut buf)).await.unwrap_err();
    assert_eq!(S::from(&err), S::ConnectionResetByPeer, "{err}");
}

#[tokio::test]
async fn a_graceful_close_is_seen_by_the_peer_as_the_end_of_stream() {
    let (mut client, server) = pair().await;
    let closing = tokio::spawn(server.close());
    let mut buf = [0u8; 16];
    assert_eq!(within(client.read(&mut buf)).await.unwrap(), 0);
    drop(client);
    within(closing).await.unwrap().unwrap();
}

#[tokio::test]
async fn dropping_the_listener_refuses_new_connections_but_keeps_accepted_ones() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (client, server) =
        within(async { tokio::join!(StreamSocket::connect(&v4(), port), listener.accept()) }).await;
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    drop(listener);
    let err = within(StreamSocket::connect(&v4(), port))
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::ConnectionRefused);
    server.write_all(b"ok").await.unwrap();
    let mut buf = [0u8; 2];
    within(client.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"ok");
}
