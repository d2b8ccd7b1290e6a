//! `connect_pair` (UWP's `ConnectAsync(EndpointPair)`): the connection comes
//! from the local address and port asked for, and a local endpoint that
//! cannot be used fails at once with UWP's status.

use crate::support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use sock_core::{EndpointPair, Error, HostName, Report, ServiceName, SocketErrorStatus as S};
use sock_tcp::{StreamSocket, StreamSocketListener};
use support::{has_ipv6, listener, v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn host(text: &str) -> HostName {
    HostName::new(text).unwrap()
}

fn pair_to(local: Option<&str>, local_service: ServiceName, port: u16) -> EndpointPair {
    EndpointPair::new(
        local.map(host),
        local_service,
        v4(),
        ServiceName::from(port),
    )
}

/// A port that was free on `ip` a moment ago (bound, then released).
fn free_port(ip: Ipv4Addr) -> u16 {
    let probe = std::net::TcpListener::bind((ip, 0)).unwrap();
    probe.local_addr().unwrap().port()
}

/// Connects with `pair` to `listener` and accepts: (client, accepted).
async fn connect_and_accept(
    pair: &EndpointPair,
    listener: &StreamSocketListener,
) -> (StreamSocket, StreamSocket) {
    let (client, server) =
        within(async { tokio::join!(StreamSocket::connect_pair(pair), listener.accept()) }).await;
    (client.unwrap(), server.unwrap())
}

#[tokio::test]
async fn the_connection_comes_from_the_local_address_asked_for() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let pair = pair_to(Some("127.0.0.2"), ServiceName::any(), port);
    let (mut client, mut server) = connect_and_accept(&pair, &listener).await;

    let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    assert_eq!(server.peer_addr().ip(), from);
    assert_eq!(client.local_addr().ip(), from);
    assert_eq!(server.peer_addr(), client.local_addr());
    assert_ne!(client.local_addr().port(), 0);
    assert_eq!(client.information().local_address, HostName::from(from));
    assert_eq!(client.information().remote_host_name, v4());

    // An ordinary connection otherwise.
    client.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    within(server.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"ping");
}

#[tokio::test]
async fn a_fixed_local_port_is_used_with_and_without_a_local_address() {
    let listener = listener().await;
    let port = listener.information().local_port;
    for local in [Some("127.0.0.2"), None] {
        let wanted = free_port(Ipv4Addr::UNSPECIFIED);
        let pair = pair_to(local, ServiceName::from(wanted), port);
        let (client, server) = connect_and_accept(&pair, &listener).await;
        assert_eq!(client.local_addr().port(), wanted, "local {local:?}");
        assert_eq!(server.peer_addr(), client.local_addr(), "local {local:?}");
        if local.is_some() {
            assert_eq!(
                server.peer_addr().ip(),
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))
            );
        }
    }
}

#[tokio::test]
async fn a_fixed_local_port_is_freed_by_a_failed_attempt_for_the_next_one() {
    // Two addresses for one name: the first refuses. The attempts share the
    // fixed local port, so they must run one after the other.
    let listener = listener().await;
    let good = listener.local_addr();
    let refused = support::refused_addr().await;
    let wanted = free_port(Ipv4Addr::UNSPECIFIED);
    let pair = EndpointPair::new(
        Some(host("127.0.0.2")),
        ServiceName::from(wanted),
        host("server.test"),
        ServiceName::from(good.port()),
    );
    let control =
        StreamSocket::builder().resolver(move |_: &HostName, _: u16| Ok(vec![refused, good]));
    let (client, server) =
        within(async { tokio::join!(control.connect_pair(&pair), listener.accept()) }).await;
    let (client, server) = (client.unwrap(), server.unwrap());
    assert_eq!(client.peer_addr(), good);
    assert_eq!(
        client.local_addr(),
        SocketAddr::from(([127, 0, 0, 2], wanted))
    );
    assert_eq!(server.peer_addr(), client.local_addr());
}

#[tokio::test]
async fn a_local_port_in_use_fails_with_address_already_in_use() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let taken = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    let pair = pair_to(Some("127.0.0.2"), ServiceName::from(taken_port), port);
    let err = within(StreamSocket::connect_pair(&pair)).await.unwrap_err();
    assert_eq!(err.status(), S::AddressAlreadyInUse, "{err}");
    let text = Report(&err).to_string();
    assert!(
        text.contains(&format!(
            "could not bind to local address 127.0.0.2:{taken_port}"
        )),
        "{text}"
    );
    let Error::Connect { attempts, .. } = err else {
        panic!("not a connect error: {err}")
    };
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].addr, SocketAddr::from(([127, 0, 0, 1], port)));
}

#[tokio::test]
async fn a_local_address_not_on_this_machine_fails_with_cannot_assign_requested_address() {
    // 192.0.2.1 (RFC 5737) is only ever bound, which sends nothing; binding
    // it fails unless the system allows non-local binds.
    if std::fs::read_to_string("/proc/sys/net/ipv4/ip_nonlocal_bind").is_ok_and(|v| v.trim() != "0")
    {
        eprintln!("skipped: ip_nonlocal_bind is on, so any address can be bound");
        return;
    }
    let listener = listener().await;
    let port = listener.information().local_port;
    let pair = pair_to(Some("192.0.2.1"), ServiceName::any(), port);
    let err = within(StreamSocket::connect_pair(&pair)).await.unwrap_err();
    assert_eq!(err.status(), S::CannotAssignRequestedAddress, "{err}");
    assert_eq!(err.io_kind(), std::io::ErrorKind::AddrNotAvailable);
    let text = err.to_string();
    assert!(
        text.contains("could not bind to local address 192.0.2.1:0"),
        "{text}"
    );
}

#[tokio::test]
async fn a_local_address_of_the_other_family_fails_at_once_and_says_why() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let pair = pair_to(Some("::1"), ServiceName::any(), port);
    let err = within(StreamSocket::connect_pair(&pair)).await.unwrap_err();
    assert_eq!(err.status(), S::CannotAssignRequestedAddress, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("the local address ::1 is IPv6 and cannot reach an IPv4 address"),
        "{text}"
    );
    let Error::Connect { attempts, .. } = err else {
        panic!("not a connect error")
    };
    assert_eq!(attempts.len(), 1);
}

#[tokio::test]
async fn localhost_as_the_local_host_picks_the_loopback_address_of_the_remote_family() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let pair = pair_to(Some("localhost"), ServiceName::any(), port);
    let (client, server) = connect_and_accept(&pair, &listener).await;
    assert_eq!(client.local_addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(server.peer_addr(), client.local_addr());
}

#[tokio::test]
async fn an_ipv6_pair_connects_from_the_ipv6_loopback() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let listener = StreamSocketListener::bind_endpoint(Some(&host("::1")), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    let pair = EndpointPair::new(
        Some(host("::1")),
        ServiceName::any(),
        host("::1"),
        ServiceName::from(port),
    );
    let (client, server) = connect_and_accept(&pair, &listener).await;
    assert_eq!(server.peer_addr(), client.local_addr());
    assert!(client.local_addr().is_ipv6());
}

#[tokio::test]
async fn an_empty_remote_service_is_refused_by_name() {
    let pair = EndpointPair::new(
        Some(host("127.0.0.2")),
        ServiceName::any(),
        v4(),
        ServiceName::any(),
    );
    let err = StreamSocket::connect_pair(&pair).await.unwrap_err();
    assert!(matches!(err, Error::InvalidServiceName { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_pair_lists_the_attempt_with_connection_refused() {
    let refused = support::refused_addr().await;
    let pair = pair_to(Some("127.0.0.2"), ServiceName::any(), refused.port());
    let err = within(
        StreamSocket::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .connect_pair(&pair),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), S::ConnectionRefused, "{err}");
}
