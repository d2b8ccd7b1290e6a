//! Helpers shared by the sock-tcp integration tests: loopback listeners,
//! connected pairs, refusing ports, and bounded waits.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use sock_core::HostName;
use sock_tcp::{StreamSocket, StreamSocketListener};

/// The longest any test waits for one event.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Runs `f`, failing the test if it takes longer than [`WAIT`].
pub(crate) async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(WAIT, f)
        .await
        .expect("the awaited event did not happen in time")
}

/// Reads until the server closes the connection: end of stream or a reset,
/// not data.
pub(crate) async fn closed_by_server<R: tokio::io::AsyncRead + Unpin>(stream: &mut R) {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    match within(stream.read(&mut buf)).await {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("read {n} bytes from a connection the server should have closed"),
    }
}

/// `127.0.0.1`.
pub(crate) fn v4() -> HostName {
    HostName::new("127.0.0.1").unwrap()
}

/// A listener on `127.0.0.1` and an OS-chosen port.
pub(crate) async fn listener() -> StreamSocketListener {
    StreamSocketListener::bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap()
}

/// A connected pair: (client, server), both with default options.
pub(crate) async fn pair() -> (StreamSocket, StreamSocket) {
    let listener = listener().await;
    let port = listener.information().local_port;
    let host = v4();
    let (client, server) =
        within(async { tokio::join!(StreamSocket::connect(&host, port), listener.accept()) }).await;
    (client.unwrap(), server.unwrap())
}

/// A port on 127.0.0.1 where nothing listens (connecting is refused).
pub(crate) async fn refused_addr() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

/// A resolver that answers every name with `addrs`, ports as given.
pub(crate) fn fixed_resolver(
    addrs: Vec<SocketAddr>,
) -> impl Fn(&HostName, u16) -> io::Result<Vec<SocketAddr>> + Send + Sync + 'static {
    move |_, _| Ok(addrs.clone())
}

/// A resolver that answers every name as the system resolver answers an
/// unknown one, without asking DNS.
pub(crate) fn not_found_resolver(
) -> impl Fn(&HostName, u16) -> io::Result<Vec<SocketAddr>> + Send + Sync + 'static {
    |_, _| {
        Err(io::Error::other(
            "failed to lookup address information: Name or service not known",
        ))
    }
}

/// Whether this machine has IPv6 loopback.
pub(crate) fn has_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so
/// connecting to it gets no answer at all (as a firewalled host behaves).
/// Keep both values alive while it should stay silent.
pub(crate) fn silent_listener() -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
    silent_listener_at("127.0.0.1:0".parse().unwrap())
}

/// [`silent_listener`] on `at` (a loopback address, IPv4 or IPv6).
pub(crate) fn silent_listener_at(
    at: SocketAddr,
) -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let domain = Domain::for_address(at);
    let socket = Socket::new(domain, Type::STREAM, None).unwrap();
    socket.bind(&at.into()).unwrap();
    socket.listen(0).unwrap();
    let listener: std::net::TcpListener = socket.into();
    let addr = listener.local_addr().unwrap();
    // Fill the queue: connections that complete the handshake stay queued
    // until one gets no answer.
    let mut queued = Vec::new();
    for _ in 0..8 {
        let s = Socket::new(domain, Type::STREAM, None).unwrap();
        if s.connect_timeout(&addr.into(), Duration::from_millis(200))
            .is_err()
        {
            return (listener, queued);
        }
        queued.push(s.into());
    }
    panic!("the accept queue of a listen(0) socket never filled");
}

#[cfg(feature = "tls")]
pub(crate) mod certs;
