//! The control's options reach the sockets: on connected sockets, and from a
//! listener's control onto every socket it accepts.

use crate::support;

use std::time::Duration;

use sock_core::QualityOfService;
use sock_tcp::{KeepAlive, StreamSocket, StreamSocketListener, LOW_LATENCY_TRAFFIC_CLASS};
use socket2::SockRef;
use support::{pair, v4, within};

#[tokio::test]
async fn no_delay_is_on_by_default_on_both_ends() {
    let (client, server) = pair().await;
    assert!(client.get_ref().nodelay().unwrap());
    assert!(server.get_ref().nodelay().unwrap());
}

fn assert_options(socket: &StreamSocket, what: &str) {
    let s = SockRef::from(socket);
    assert!(s.tcp_nodelay().unwrap(), "{what}: nodelay");
    assert!(s.keepalive().unwrap(), "{what}: keepalive");
    assert_eq!(
        s.tcp_keepalive_time().unwrap(),
        Duration::from_secs(42),
        "{what}"
    );
    assert_eq!(
        s.tcp_keepalive_interval().unwrap(),
        Duration::from_secs(7),
        "{what}"
    );
    assert_eq!(s.tcp_keepalive_retries().unwrap(), 3, "{what}");
    assert_eq!(s.ttl_v4().unwrap(), 17, "{what}: hop limit");
    assert_eq!(
        s.tos_v4().unwrap(),
        LOW_LATENCY_TRAFFIC_CLASS,
        "{what}: tos"
    );
    // The kernel doubles what it is given and rounds up to its minimum.
    assert!(s.send_buffer_size().unwrap() >= 8192, "{what}: sndbuf");
}

#[tokio::test]
async fn the_listener_control_is_applied_to_every_accepted_socket() {
    let listener = StreamSocketListener::builder()
        .keep_alive(
            KeepAlive::new()
                .idle(Duration::from_secs(42))
                .interval(Duration::from_secs(7))
                .count(3),
        )
        .outbound_unicast_hop_limit(17)
        .quality_of_service(QualityOfService::LowLatency)
        .outbound_buffer_size(8192)
        .bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    for _ in 0..3 {
        let (client, server) =
            within(async { tokio::join!(StreamSocket::connect(&v4(), port), listener.accept()) })
                .await;
        let (client, server) = (client.unwrap(), server.unwrap());
        assert_options(&server, "accepted");
        // The connecting side used the defaults.
        assert!(!SockRef::from(&client).keepalive().unwrap());
    }
}

#[tokio::test]
async fn the_stream_socket_control_is_applied_before_connecting() {
    let listener = StreamSocketListener::bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    let (client, server) = within(async {
        tokio::join!(
            StreamSocket::builder()
                .keep_alive(
                    KeepAlive::new()
                        .idle(Duration::from_secs(42))
                        .interval(Duration::from_secs(7))
                        .count(3),
                )
                .outbound_unicast_hop_limit(17)
                .quality_of_service(QualityOfService::LowLatency)
                .outbound_buffer_size(8192)
                .connect(&v4(), port),
            listener.accept()
        )
    })
    .await;
    assert_options(&client.unwrap(), "connected");
    drop(server);
}

#[tokio::test]
async fn no_delay_false_leaves_nagle_on() {
    let listener = StreamSocketListener::builder()
        .no_delay(false)
        .bind_endpoint(Some(&v4()), 0)
        .await
        .unwrap();
    let port = listener.information().local_port;
    let (client, server) = within(async {
        tokio::join!(
            StreamSocket::builder().no_delay(false).connect(&v4(), port),
            listener.accept()
        )
    })
    .await;
    assert!(!client.unwrap().get_ref().nodelay().unwrap());
    assert!(!server.unwrap().get_ref().nodelay().unwrap());
}

#[tokio::test]
async fn the_dual_stack_listener_takes_ipv4_and_ipv6_and_reports_its_port() {
    let listener = StreamSocketListener::builder()
        .outbound_unicast_hop_limit(17)
        .bind_service_name("")
        .await
        .unwrap();
    let info = listener.information();
    assert_ne!(info.local_port, 0);
    let port = info.local_port;
    let (c4, s4) =
        within(async { tokio::join!(StreamSocket::connect(&v4(), port), listener.accept()) }).await;
    assert_eq!(c4.unwrap().peer_addr().port(), port);
    let s4 = s4.unwrap();
    // An IPv4 peer on a dual-stack listener still gets its IPv4 options, and
    // shows as the IPv4 address it is (not ::ffff:127.0.0.1).
    assert_eq!(SockRef::from(&s4).ttl_v4().unwrap(), 17);
    assert!(s4.peer_addr().is_ipv4(), "{}", s4.peer_addr());
    assert!(s4.local_addr().is_ipv4(), "{}", s4.local_addr());
    assert_eq!(
        s4.information().remote_address.kind(),
        sock_core::HostNameType::Ipv4
    );
    if support::has_ipv6() {
        let v6 = sock_core::HostName::new("::1").unwrap();
        let (c6, s6) =
            within(async { tokio::join!(StreamSocket::connect(&v6, port), listener.accept()) })
                .await;
        assert!(c6.unwrap().peer_addr().is_ipv6());
        assert_eq!(SockRef::from(&s6.unwrap()).unicast_hops_v6().unwrap(), 17);
    }
}
