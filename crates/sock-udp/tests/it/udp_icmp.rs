//! An ICMP "port unreachable" never ends a receive loop: unconnected sockets
//! skip it, connected ones report it once and keep working.

use crate::support;

use futures::StreamExt;
use sock_core::SocketErrorStatus;
use sock_udp::DatagramSocket;
use support::{bind_v4, v4_loopback, within};

/// A loopback port with nobody on it (bound, then closed).
async fn closed_port() -> u16 {
    let s = bind_v4(DatagramSocket::builder()).await;
    s.local_addr().port()
}

#[tokio::test]
async fn an_unconnected_socket_keeps_receiving_after_sending_to_a_closed_port() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let closed = closed_port().await;
    // The refusal comes back to `server`...
    for _ in 0..3 {
        server
            .send_to(&v4_loopback(), closed, "anyone?")
            .await
            .unwrap();
    }
    // ...and then a real datagram, which is what recv and the stream see.
    let client = bind_v4(DatagramSocket::builder()).await;
    client
        .send_to_addr(server.local_addr(), b"first")
        .await
        .unwrap();
    client
        .send_to_addr(server.local_addr(), b"second")
        .await
        .unwrap();
    let msg = within("recv", server.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"first");
    let mut messages = server.messages();
    let msg = within("stream", messages.next()).await.unwrap().unwrap();
    assert_eq!(&msg.data[..], b"second");
    // Sending still works too.
    server
        .send_to_addr(client.local_addr(), b"reply")
        .await
        .unwrap();
    assert_eq!(
        &within("reply", client.recv()).await.unwrap().data[..],
        b"reply"
    );
}

#[tokio::test]
async fn a_connected_socket_reports_the_refusal_once_and_keeps_working() {
    let closed = closed_port().await;
    let client = DatagramSocket::connect(&v4_loopback(), closed)
        .await
        .unwrap();
    client.send("anyone?").await.unwrap();
    let err = within("the refusal", client.recv()).await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::ConnectionRefused, "{err}");

    // Someone starts listening on the port; the same socket now talks to it.
    let Ok(server) = DatagramSocket::bind_endpoint(Some(&v4_loopback()), closed).await else {
        println!("skipped the second half: port {closed} was taken meanwhile");
        return;
    };
    client.send("hello").await.unwrap();
    let msg = within("server recv", server.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"hello");
    server
        .send_to_addr(msg.remote_addr(), b"welcome")
        .await
        .unwrap();
    let reply = within("client recv", client.recv()).await.unwrap();
    assert_eq!(&reply.data[..], b"welcome");
}

#[tokio::test]
async fn the_messages_stream_goes_on_after_a_refusal() {
    let closed = closed_port().await;
    let client = DatagramSocket::connect(&v4_loopback(), closed)
        .await
        .unwrap();
    let mut messages = client.messages();
    client.send("anyone?").await.unwrap();
    let first = within("the refusal", messages.next())
        .await
        .expect("stream goes on");
    assert_eq!(
        first.unwrap_err().status(),
        SocketErrorStatus::ConnectionRefused
    );
    let Ok(server) = DatagramSocket::bind_endpoint(Some(&v4_loopback()), closed).await else {
        println!("skipped the second half: port {closed} was taken meanwhile");
        return;
    };
    server
        .send_to_addr(support::loopback_addr(&client), b"late hello")
        .await
        .unwrap();
    let second = within("a datagram", messages.next())
        .await
        .expect("stream goes on");
    assert_eq!(&second.unwrap().data[..], b"late hello");
}
