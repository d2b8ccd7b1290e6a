//! The established stream: close_notify on shutdown, truncation detected,
//! vectored writes, the transport given back.

use crate::support;

use std::io::IoSlice;

use sock_core::{Error, HostName};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) =
        bounded(async { tokio::join!(TcpStream::connect(addr), listener.accept()) }).await;
    (client.unwrap(), server.unwrap().0)
}

async fn tls_pair() -> (
    sock_tls::TlsStream<TcpStream>,
    sock_tls::TlsStream<TcpStream>,
) {
    let ca = Ca::new("CA");
    let server = server_config(&ca.server(&["localhost"]));
    let client = client_trusting(&ca).build().unwrap();
    let (c, s) = tcp_pair().await;
    let host = HostName::new("localhost").unwrap();
    let (c, s) = bounded(async { tokio::join!(client.connect(&host, c), server.accept(s)) }).await;
    (c.unwrap(), s.unwrap())
}

#[tokio::test]
async fn shutdown_sends_close_notify_and_the_peer_sees_a_clean_end() {
    let (mut client, mut server) = tls_pair().await;
    client.write_all(b"last words").await.unwrap();
    bounded(client.shutdown()).await.unwrap();
    let mut got = Vec::new();
    bounded(server.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"last words");
}

#[tokio::test]
async fn a_close_without_close_notify_is_reported_as_possible_truncation() {
    let (mut client, mut server) = tls_pair().await;
    // Let the client read everything the server sent (session tickets
    // included), so closing its socket sends a FIN rather than a reset.
    server.write_all(b"x").await.unwrap();
    server.flush().await.unwrap();
    let mut one = [0; 1];
    bounded(client.read_exact(&mut one)).await.unwrap();
    // Close the TCP connection under TLS, without close_notify.
    drop(client.into_inner());
    let mut got = Vec::new();
    let err = bounded(server.read_to_end(&mut got)).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    let err = Error::from(err);
    assert!(matches!(err, Error::UnexpectedEof { .. }), "{err:?}");
    assert!(err.to_string().contains("close_notify"), "{err}");
}

#[tokio::test]
async fn vectored_writes_go_through() {
    let (mut client, mut server) = tls_pair().await;
    assert!(AsyncWrite::is_write_vectored(&client));
    let parts = [
        IoSlice::new(b"one "),
        IoSlice::new(b"two "),
        IoSlice::new(b"three"),
    ];
    // All of it is taken in one call (into one record), not just the first slice.
    let n = bounded(client.write_vectored(&parts)).await.unwrap();
    assert_eq!(n, 13);
    client.flush().await.unwrap();
    let mut got = [0; 13];
    bounded(server.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got, b"one two three");
}

#[tokio::test]
async fn the_transport_is_reachable_and_given_back() {
    let (client, server) = tls_pair().await;
    let local = client.get_ref().local_addr().unwrap();
    assert_eq!(server.get_ref().peer_addr().unwrap(), local);
    assert!(client.rustls_state().peer_certificates().is_some());
    let tcp = client.into_inner();
    assert_eq!(tcp.local_addr().unwrap(), local);
}

#[tokio::test]
async fn handshakes_and_streams_can_move_between_tasks() {
    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    let ca = Ca::new("CA");
    let server = server_config(&ca.server(&["localhost"]));
    let client = client_trusting(&ca).build().unwrap();
    let (c, s) = tcp_pair().await;
    let host = HostName::new("localhost").unwrap();
    // The futures borrow neither the configuration nor the host name.
    let connect = client.connect(&host, c);
    let accept = server.accept(s);
    drop((client, server, host));
    let connect = tokio::spawn(connect);
    let accept = tokio::spawn(accept);
    let (c, s) = bounded(async { tokio::join!(connect, accept) }).await;
    let (c, s) = (c.unwrap().unwrap(), s.unwrap().unwrap());
    assert_send_sync(&c);
    assert_send_sync(&s);
    assert_send_sync(c.info());
}
