//! `DatagramSocket::endpoint_pairs` (UWP's `GetEndpointPairsAsync`): one pair
//! per address, usable as they are with `connect_pair`.

use crate::support;

use sock_core::{Error, HostName};
use sock_udp::DatagramSocket;
use support::{bind_v4, within};

fn host(text: &str) -> HostName {
    HostName::new(text).unwrap()
}

fn remotes(pairs: &[sock_core::EndpointPair]) -> Vec<String> {
    pairs
        .iter()
        .map(|p| {
            assert_eq!(p.local_host, None, "no local preference");
            assert!(p.local_service.is_any());
            format!("{} {}", p.remote_host, p.remote_service)
        })
        .collect()
}

#[tokio::test]
async fn localhost_and_literals_give_their_pairs() {
    let pairs = within(
        "pairs",
        DatagramSocket::endpoint_pairs(&host("localhost"), 5353u16),
    )
    .await
    .unwrap();
    assert_eq!(remotes(&pairs), ["127.0.0.1 5353", "::1 5353"]);

    let pairs = within(
        "pairs",
        DatagramSocket::endpoint_pairs(&host("fe80::1%1"), "domain"),
    )
    .await
    .unwrap();
    assert_eq!(remotes(&pairs), ["fe80::1%1 domain"]);
}

#[tokio::test]
async fn a_remote_endpoint_needs_a_service() {
    let err = within(
        "pairs",
        DatagramSocket::endpoint_pairs(&host("127.0.0.1"), ""),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidServiceName { .. }), "{err}");
}

#[tokio::test]
async fn a_pair_with_a_chosen_local_address_connects_and_carries_datagrams() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let port = server.local_addr().port();
    let pairs = within(
        "pairs",
        DatagramSocket::endpoint_pairs(&host("127.0.0.1"), port),
    )
    .await
    .unwrap();
    let mut pair = pairs.into_iter().next().unwrap();
    pair.local_host = Some(host("127.0.0.5"));
    let client = within("connect", DatagramSocket::builder().connect_pair(&pair))
        .await
        .unwrap();
    within("send", client.send(b"over the pair")).await.unwrap();
    let msg = within("recv", server.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"over the pair");
    assert_eq!(msg.remote_address.to_string(), "127.0.0.5");
    assert_eq!(msg.remote_port, client.local_addr().port());
}
