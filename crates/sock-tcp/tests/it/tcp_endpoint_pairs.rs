//! `endpoint_pairs` (UWP's `GetEndpointPairsAsync`): the pairs a connect would
//! try, in its order, ready for a connect loop of one's own.

use crate::support;

use std::io;
use std::net::SocketAddr;

use sock_core::{EndpointPair, Error, HostName, SocketErrorStatus as S};
use sock_tcp::StreamSocket;
use support::{fixed_resolver, listener, not_found_resolver, within};

fn host(text: &str) -> HostName {
    HostName::new(text).unwrap()
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn remotes(pairs: &[EndpointPair]) -> Vec<String> {
    pairs
        .iter()
        .map(|p| {
            assert_eq!(p.local_host, None, "no local preference");
            assert!(p.local_service.is_any(), "{:?}", p.local_service);
            format!("{} {}", p.remote_host, p.remote_service)
        })
        .collect()
}

#[tokio::test]
async fn pairs_come_in_the_order_connect_tries_them() {
    // Two IPv4 answers first, then IPv6 ones: a connect alternates families.
    let answers = |_: &HostName, port: u16| -> io::Result<Vec<SocketAddr>> {
        Ok(["127.0.0.1", "127.0.0.2", "[::1]", "[fe80::1%1]"]
            .iter()
            .map(|ip| addr(&format!("{ip}:{port}")))
            .collect())
    };
    let control = StreamSocket::builder().resolver(answers);
    let pairs = within(control.endpoint_pairs(&host("db.test"), "http"))
        .await
        .unwrap();
    assert_eq!(
        remotes(&pairs),
        [
            "127.0.0.1 http",
            "::1 http",
            "127.0.0.2 http",
            "fe80::1%1 http"
        ]
    );
}

#[tokio::test]
async fn an_ip_literal_is_its_one_pair_and_names_need_a_port() {
    let pairs = within(StreamSocket::endpoint_pairs(&host("[::1]"), 443u16))
        .await
        .unwrap();
    assert_eq!(remotes(&pairs), ["::1 443"]);

    let err = within(StreamSocket::endpoint_pairs(&host("127.0.0.1"), ""))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidServiceName { .. }), "{err}");
}

#[tokio::test]
async fn resolver_failures_keep_their_status() {
    let err = within(
        StreamSocket::builder()
            .resolver(not_found_resolver())
            .endpoint_pairs(&host("nowhere.test"), 80u16),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), S::HostNotFound, "{err}");
}

#[tokio::test]
async fn a_connect_loop_over_the_pairs_reaches_the_listening_address() {
    let listener = listener().await;
    let port = listener.information().local_port;
    // The first answer has no listener (the listener is on 127.0.0.1 only).
    let control = StreamSocket::builder().resolver(fixed_resolver(vec![
        addr(&format!("127.0.0.9:{port}")),
        addr(&format!("127.0.0.1:{port}")),
    ]));
    let pairs = within(control.endpoint_pairs(&host("service.test"), port))
        .await
        .unwrap();

    let accept = tokio::spawn(async move { listener.accept().await });
    let mut refused = Vec::new();
    let mut connected = None;
    for mut pair in pairs {
        // Each attempt from a chosen local address.
        pair.local_host = Some(host("127.0.0.3"));
        match within(control.connect_pair(&pair)).await {
            Ok(socket) => {
                connected = Some(socket);
                break;
            }
            Err(e) => refused.push((pair.remote_host.to_string(), e.status())),
        }
    }
    let client = connected.expect("the second pair connects");
    assert_eq!(refused, [("127.0.0.9".to_owned(), S::ConnectionRefused)]);
    let server = within(accept).await.unwrap().unwrap();
    assert_eq!(server.peer_addr(), client.local_addr());
    assert_eq!(client.local_addr().ip().to_string(), "127.0.0.3");
    assert_eq!(client.peer_addr(), addr(&format!("127.0.0.1:{port}")));
}
