//! Port sharing and multicast, inside a network namespace each test makes
//! (multicast never leaves it). Skipped, saying why, where namespaces cannot
//! be made.

use crate::support;

use std::future::Future;

use sock_core::{HostName, SocketErrorStatus};
use sock_udp::DatagramSocket;
use support::{in_netns, within};

fn block_on(fut: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut);
}

async fn shared(port: u16) -> DatagramSocket {
    DatagramSocket::builder()
        .multicast_only(true)
        .bind_service_name(port)
        .await
        .expect("multicast_only bind")
}

async fn recv_text(socket: &DatagramSocket) -> (String, HostName) {
    let msg = within("a multicast datagram", socket.recv()).await.unwrap();
    (
        String::from_utf8(msg.data.to_vec()).unwrap(),
        msg.local_address,
    )
}

#[test]
fn shared_port_sockets_each_receive_an_ipv4_multicast_datagram() {
    in_netns(
        &support::test_path(
            module_path!(),
            "shared_port_sockets_each_receive_an_ipv4_multicast_datagram",
        ),
        || {
            block_on(async {
                let group = HostName::new("239.255.0.1").unwrap();
                let other = HostName::new("239.255.0.2").unwrap();
                let first = shared(0).await;
                let port = first.information().local_port;
                let second = shared(port).await;
                // Without port sharing the port stays exclusive.
                let err = DatagramSocket::bind_service_name(port).await.unwrap_err();
                assert_eq!(err.status(), SocketErrorStatus::AddressAlreadyInUse);

                for s in [&first, &second] {
                    s.join_multicast_group(&group).unwrap();
                    s.join_multicast_group(&other).unwrap();
                }
                let sender = DatagramSocket::bind_service_name("").await.unwrap();
                sender.set_multicast_hop_limit(1).unwrap();
                sender.send_to(&group, port, "hello group").await.unwrap();
                for s in [&first, &second] {
                    let (text, local) = recv_text(s).await;
                    assert_eq!(text, "hello group");
                    if cfg!(target_os = "linux") {
                        assert_eq!(local, group, "local address is the group");
                    }
                }

                // After leaving, the group's datagrams stop; the other group's
                // still come (and, sent after, prove the first was not queued).
                second.leave_multicast_group(&group).unwrap();
                sender.send_to(&group, port, "only first").await.unwrap();
                sender.send_to(&other, port, "marker").await.unwrap();
                assert_eq!(recv_text(&first).await.0, "only first");
                assert_eq!(recv_text(&first).await.0, "marker");
                assert_eq!(recv_text(&second).await.0, "marker");

                // Loopback and hop limit are settable (on `lo` the datagram
                // comes back whatever the loopback setting, so only the calls
                // are checked here).
                sender.set_multicast_loopback(false).unwrap();
                sender.set_multicast_loopback(true).unwrap();
                sender.set_multicast_hop_limit(4).unwrap();
            });
        },
    );
}

#[test]
fn ipv4_only_sockets_join_on_their_bound_address() {
    in_netns(
        &support::test_path(
            module_path!(),
            "ipv4_only_sockets_join_on_their_bound_address",
        ),
        || {
            block_on(async {
                let group = HostName::new("239.255.0.3").unwrap();
                let any4 = HostName::new("0.0.0.0").unwrap();
                let lo = HostName::new("127.0.0.1").unwrap();
                let first = DatagramSocket::builder()
                    .multicast_only(true)
                    .bind_endpoint(Some(&any4), "")
                    .await
                    .unwrap();
                let port = first.information().local_port;
                let second = DatagramSocket::builder()
                    .multicast_only(true)
                    .bind_endpoint(Some(&any4), port)
                    .await
                    .unwrap();
                first.join_multicast_group(&group).unwrap();
                second.join_multicast_group(&group).unwrap();
                // A socket bound to 127.0.0.1 joins on the loopback interface.
                let on_lo = DatagramSocket::builder()
                    .bind_endpoint(Some(&lo), "")
                    .await
                    .unwrap();
                on_lo.join_multicast_group(&group).unwrap();
                // An IPv4 socket cannot join an IPv6 group, and a unicast address
                // is no group.
                assert!(first
                    .join_multicast_group(&HostName::new("ff15::1").unwrap())
                    .is_err());
                let err = first.join_multicast_group(&lo).unwrap_err();
                assert!(err.to_string().contains("not a multicast group"), "{err}");

                let sender = DatagramSocket::bind_endpoint(Some(&any4), "")
                    .await
                    .unwrap();
                sender.send_to(&group, port, "v4 only").await.unwrap();
                assert_eq!(recv_text(&first).await.0, "v4 only");
                assert_eq!(recv_text(&second).await.0, "v4 only");
            });
        },
    );
}

#[test]
fn shared_port_sockets_each_receive_an_ipv6_multicast_datagram() {
    in_netns(
        &support::test_path(
            module_path!(),
            "shared_port_sockets_each_receive_an_ipv6_multicast_datagram",
        ),
        || {
            block_on(async {
                let group = HostName::new("ff15::5eed").unwrap();
                let first = shared(0).await;
                let port = first.information().local_port;
                let second = shared(port).await;
                first.join_multicast_group(&group).unwrap();
                second.join_multicast_group(&group).unwrap();

                let sender = DatagramSocket::bind_service_name("").await.unwrap();
                sender
                    .send_to(&group, port, "hello v6 group")
                    .await
                    .unwrap();
                for s in [&first, &second] {
                    let (text, local) = recv_text(s).await;
                    assert_eq!(text, "hello v6 group");
                    if cfg!(target_os = "linux") {
                        assert_eq!(local, group);
                    }
                }
                first.leave_multicast_group(&group).unwrap();
                assert!(
                    first.leave_multicast_group(&group).is_err(),
                    "not joined any more"
                );
            });
        },
    );
}
