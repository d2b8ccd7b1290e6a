//! `finish` tells the truth: it succeeds only when the peer read every
//! message, and a peer that closed without reading makes it fail at the
//! step `wait for the peer`. Other failures name their step too.

#![cfg(unix)]

use std::os::fd::AsFd;
use std::time::Duration;

use sock_core::Error;
use sock_handoff::{HandoffChannel, SocketActivityKind};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A channel pair whose first end has sent one listener; the listener is
/// returned so that it outlives the message.
async fn one_sent() -> (HandoffChannel, HandoffChannel, std::net::TcpListener) {
    let (mut ours, theirs) = HandoffChannel::pair().unwrap();
    let l = listener();
    ours.send(
        SocketActivityKind::StreamSocketListener,
        "l",
        b"",
        l.as_fd(),
    )
    .await
    .unwrap();
    (ours, theirs, l)
}

#[tokio::test]
async fn finish_succeeds_when_the_peer_read_the_socket() {
    let (ours, mut theirs, _l) = one_sent().await;
    let peer = tokio::spawn(async move {
        let info = theirs.recv().await.unwrap().unwrap();
        assert_eq!(info.id, "l");
        // Read to the end, then close: everything was taken.
        assert!(theirs.recv().await.unwrap().is_none());
    });
    timeout(LIMIT, ours.finish()).await.unwrap().unwrap();
    timeout(LIMIT, peer).await.unwrap().unwrap();
}

#[tokio::test]
async fn finish_fails_when_the_peer_closed_without_reading() {
    let (ours, theirs, _l) = one_sent().await;
    // The peer goes away with the message unread: the socket in it is gone.
    drop(theirs);
    let err = timeout(LIMIT, ours.finish()).await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handoff {
                step: "wait for the peer",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("hand-off wait for the peer failed"),
        "{err}"
    );
}

#[tokio::test]
async fn connect_and_send_failures_name_their_step() {
    let err = HandoffChannel::connect("/nonexistent/sock-handoff-test.sock")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handoff {
                step: "connect",
                ..
            }
        ),
        "{err}"
    );

    let (mut ours, theirs) = HandoffChannel::pair().unwrap();
    drop(theirs);
    let l = listener();
    let err = ours
        .send(
            SocketActivityKind::StreamSocketListener,
            "l",
            b"",
            l.as_fd(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Handoff { step: "send", .. }), "{err}");
}
