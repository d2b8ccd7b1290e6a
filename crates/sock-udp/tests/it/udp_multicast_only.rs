//! A `multicast_only` socket (UWP's `MulticastOnly`) shares its port for
//! multicast only: it refuses to send unicast and does not deliver unicast
//! datagrams sent to its port, while a socket without the option is
//! unaffected. Multicast delivery runs inside a network namespace each test
//! makes (skipped, saying why, where namespaces cannot be made).

use crate::support;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use sock_core::{Error, HostName, SocketErrorStatus};
use sock_udp::DatagramSocket;
use support::{bind_v4, in_netns, loopback_addr, v4_loopback, within};
use tokio::io::AsyncWriteExt;

fn block_on(fut: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut);
}

fn assert_refused(err: &Error) {
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert_eq!(err.status(), SocketErrorStatus::Unknown);
    assert!(err.to_string().contains("multicast_only"), "{err}");
}

async fn multicast_only_on(host: &HostName, port: u16) -> DatagramSocket {
    DatagramSocket::builder()
        .multicast_only(true)
        .bind_endpoint(Some(host), port)
        .await
        .expect("multicast_only bind")
}

/// Receives on `socket` until it has dropped `count` datagrams, failing the
/// test if one is delivered instead (or nothing happens within the wait).
async fn expect_dropped(socket: &DatagramSocket, count: u64) {
    within("unicast datagrams dropped", async {
        tokio::select! {
            msg = socket.recv() => panic!("a unicast datagram was delivered: {msg:?}"),
            () = async {
                while socket.dropped_unicast_datagrams() < count {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            } => {}
        }
    })
    .await;
    assert_eq!(socket.dropped_unicast_datagrams(), count);
}

#[tokio::test]
async fn unicast_sends_from_a_multicast_only_socket_fail_and_send_nothing() {
    let lo = v4_loopback();
    let socket = multicast_only_on(&lo, 0).await;
    let receiver = bind_v4(DatagramSocket::builder()).await;
    let dest = receiver.local_addr();
    let port = dest.port();

    assert_refused(&socket.send_to_addr(dest, b"no").await.unwrap_err());
    assert_refused(&socket.send_to(&lo, port, b"no").await.unwrap_err());
    assert_refused(&socket.send_batch(dest, &[&b"no"[..]]).await.unwrap_err());
    assert_refused(&socket.output_stream_to(dest).unwrap_err());
    assert_refused(&socket.output_stream(&lo, port).await.unwrap_err());
    let broadcast: SocketAddr = "255.255.255.255:9".parse().unwrap();
    assert_refused(&socket.send_to_addr(broadcast, b"no").await.unwrap_err());
    let err = DatagramSocket::builder()
        .multicast_only(true)
        .connect(&lo, port)
        .await
        .unwrap_err();
    assert_refused(&err);

    // Nothing went out: the first datagram the receiver gets is the marker.
    let plain = DatagramSocket::bind_service_name("").await.unwrap();
    plain.send_to_addr(dest, b"marker").await.unwrap();
    let msg = within("the marker", receiver.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"marker");
}

#[tokio::test]
async fn a_multicast_only_socket_drops_unicast_datagrams_sent_to_its_port() {
    // Bound to one address (not all), so the destination check must have
    // turned packet information on by itself.
    let socket = multicast_only_on(&v4_loopback(), 0).await;
    let sender = DatagramSocket::bind_service_name("").await.unwrap();
    sender
        .send_to_addr(socket.local_addr(), b"unicast")
        .await
        .unwrap();
    expect_dropped(&socket, 1).await;

    // Batch receives drop them too.
    let datagrams = vec![&b"unicast"[..]; 3];
    sender
        .send_batch(socket.local_addr(), &datagrams)
        .await
        .unwrap();
    let mut slots = vec![sock_udp::DatagramMessage::default(); 8];
    within("unicast datagrams dropped by batch receive", async {
        tokio::select! {
            n = socket.recv_batch(&mut slots) => panic!("delivered: {n:?}"),
            () = async {
                while socket.dropped_unicast_datagrams() < 4 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            } => {}
        }
    })
    .await;
    assert_eq!(socket.dropped_unicast_datagrams(), 4);
}

#[tokio::test]
async fn sockets_without_multicast_only_send_and_receive_unicast_as_before() {
    let a = bind_v4(DatagramSocket::builder()).await;
    let b = DatagramSocket::bind_service_name("").await.unwrap();
    b.send_to_addr(a.local_addr(), b"ping").await.unwrap();
    let msg = within("ping", a.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"ping");
    a.send_to_addr(msg.remote_addr(), b"pong").await.unwrap();
    let msg = within("pong", b.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"pong");
    assert_eq!(a.dropped_unicast_datagrams(), 0);
    assert_eq!(b.dropped_unicast_datagrams(), 0);
}

#[test]
fn a_multicast_only_socket_sends_and_receives_ipv4_multicast_but_not_unicast() {
    in_netns(
        &support::test_path(
            module_path!(),
            "a_multicast_only_socket_sends_and_receives_ipv4_multicast_but_not_unicast",
        ),
        || {
            block_on(async {
                let group = HostName::new("239.255.0.9").unwrap();
                let first = DatagramSocket::builder()
                    .multicast_only(true)
                    .bind_service_name("")
                    .await
                    .unwrap();
                let port = first.information().local_port;
                let second = DatagramSocket::builder()
                    .multicast_only(true)
                    .bind_service_name(port)
                    .await
                    .unwrap();
                first.join_multicast_group(&group).unwrap();
                second.join_multicast_group(&group).unwrap();

                // Unicast to the shared port first, then multicast: each
                // socket's first delivered datagram is the multicast one.
                let plain = DatagramSocket::bind_service_name("").await.unwrap();
                plain
                    .send_to_addr(loopback_addr(&first), b"unicast")
                    .await
                    .unwrap();
                // A multicast_only socket may send to a group.
                first.send_to(&group, port, b"to the group").await.unwrap();
                for s in [&first, &second] {
                    let msg = within("a multicast datagram", s.recv()).await.unwrap();
                    assert_eq!(&msg.data[..], b"to the group");
                    assert_eq!(msg.local_address, group);
                }
                // The kernel gave the unicast datagram to one of the two.
                assert_eq!(
                    first.dropped_unicast_datagrams() + second.dropped_unicast_datagrams(),
                    1
                );
                // A multicast_only socket may also connect to a group.
                let connected = DatagramSocket::builder()
                    .multicast_only(true)
                    .connect(&group, port)
                    .await
                    .unwrap();
                connected.send(b"connected").await.unwrap();
                let msg = within("a multicast datagram", second.recv()).await.unwrap();
                assert_eq!(&msg.data[..], b"connected");
            });
        },
    );
}

#[test]
fn a_multicast_only_socket_receives_ipv6_multicast_but_not_unicast() {
    in_netns(
        &support::test_path(
            module_path!(),
            "a_multicast_only_socket_receives_ipv6_multicast_but_not_unicast",
        ),
        || {
            block_on(async {
                let group = HostName::new("ff15::5eee").unwrap();
                let socket = DatagramSocket::builder()
                    .multicast_only(true)
                    .bind_service_name("")
                    .await
                    .unwrap();
                let port = socket.information().local_port;
                socket.join_multicast_group(&group).unwrap();
                let sender = DatagramSocket::bind_service_name("").await.unwrap();
                let v6_lo = HostName::new("::1").unwrap();
                sender.send_to(&v6_lo, port, b"unicast").await.unwrap();
                sender.send_to(&group, port, b"multicast").await.unwrap();
                let msg = within("a multicast datagram", socket.recv()).await.unwrap();
                assert_eq!(&msg.data[..], b"multicast");
                // Sent first, but over another interface: it may come later.
                expect_dropped(&socket, 1).await;

                let mut out = socket.output_stream(&group, port).await.unwrap();
                out.write_all(b"streamed").await.unwrap();
                out.flush().await.unwrap();
                let msg = within("a streamed multicast datagram", socket.recv())
                    .await
                    .unwrap();
                assert_eq!(&msg.data[..], b"streamed");
            });
        },
    );
}
