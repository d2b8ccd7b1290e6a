//! Every failure carries its UWP `SocketErrorStatus`: the statuses the sockets guide's
//! "handling exceptions" section branches on, produced by real loopback sockets
//! (and, for name resolution, by a resolver that fails the way the system's does).

use crate::support;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use sock_core::{Error, HostName, SocketErrorStatus as S};
use sock_tcp::{StreamSocket, StreamSocketListener};
use support::{not_found_resolver, refused_addr, silent_listener, v4, within};
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn a_refused_connection_is_connection_refused() {
    let addr = refused_addr().await;
    let err = within(StreamSocket::connect(&v4(), addr.port()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::ConnectionRefused);
    assert_eq!(
        io::Error::from(err).kind(),
        io::ErrorKind::ConnectionRefused
    );
}

#[tokio::test]
async fn an_unknown_host_is_host_not_found() {
    let err = within(
        StreamSocket::builder()
            .resolver(not_found_resolver())
            .connect(&HostName::new("no-such-host.example").unwrap(), 80),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), S::HostNotFound);
    assert!(matches!(err, Error::Resolve { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-host.example"), "{err}");
}

#[tokio::test]
async fn a_name_with_no_addresses_is_no_addresses_found() {
    let empty = |_: &HostName, _: u16| -> io::Result<Vec<SocketAddr>> { Ok(Vec::new()) };
    let err = within(
        StreamSocket::builder()
            .resolver(empty)
            .connect(&HostName::new("empty.example").unwrap(), 80),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), S::NoAddressesFound);
}

#[tokio::test]
async fn a_port_already_in_use_is_address_already_in_use() {
    let first = StreamSocketListener::bind_service_name(0).await.unwrap();
    let port = first.information().local_port;
    for second in [
        StreamSocketListener::bind_service_name(port).await,
        StreamSocketListener::bind_endpoint(Some(&v4()), port).await,
    ] {
        let err = second.unwrap_err();
        assert_eq!(err.status(), S::AddressAlreadyInUse, "{err}");
        assert!(err.to_string().contains(&port.to_string()), "{err}");
    }
}

#[tokio::test]
async fn a_peer_that_never_answers_is_connection_timed_out() {
    let (listener, _queued) = silent_listener();
    let port = listener.local_addr().unwrap().port();
    let started = std::time::Instant::now();
    let err = within(
        StreamSocket::builder()
            .connect_timeout(Duration::from_millis(300))
            .connect(&v4(), port),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), S::ConnectionTimedOut, "{err}");
    assert!(err.to_string().contains("connect_timeout"), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn bad_input_is_refused_before_any_traffic() {
    let err = HostName::new("my server").unwrap_err();
    assert!(err.is_invalid_input());
    assert_eq!(err.status(), S::Unknown);

    let err = StreamSocket::connect(&v4(), "").await.unwrap_err();
    assert!(matches!(err, Error::InvalidServiceName { .. }), "{err:?}");

    let err = StreamSocket::connect(&v4(), "no-such-service")
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::ClassTypeNotFound);

    let err = StreamSocket::builder()
        .outbound_unicast_hop_limit(0)
        .connect(&v4(), 1)
        .await
        .unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("outbound_unicast_hop_limit"),
        "{err}"
    );
}

#[tokio::test]
async fn a_reset_connection_is_connection_reset_by_peer() {
    let (mut client, server) = support::pair().await;
    server.abort().unwrap();
    let mut buf = [0u8; 8];
    let err = within(client.read(&mut buf)).await.unwrap_err();
    assert_eq!(S::from(&err), S::ConnectionResetByPeer, "{err}");
}

#[tokio::test]
async fn a_quiet_peer_past_the_idle_timeout_is_connection_timed_out() {
    let (mut client, _server) = support::pair().await;
    client.set_idle_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 8];
    let err = within(client.read(&mut buf)).await.unwrap_err();
    assert_eq!(S::from(&err), S::ConnectionTimedOut, "{err}");
    assert!(err.to_string().contains("idle_timeout"), "{err}");
}
