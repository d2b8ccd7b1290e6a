//! Echo over loopback: recv and send_to, output streams, connected sockets,
//! the information a socket gives, and the statuses its errors carry.

use crate::support;

use std::net::SocketAddr;

use sock_core::{Error, HostName, HostNameType, SocketErrorStatus};
use sock_udp::{DatagramSocket, MAX_DATAGRAM_SIZE_V4};
use support::{bind_v4, loopback_addr, v4_loopback, v6_loopback, within};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn echo_over_ipv4_and_ipv6_loopback() {
    let server = DatagramSocket::bind_service_name("").await.unwrap();
    let port = server.information().local_port;
    assert_ne!(port, 0);

    for host in [
        v4_loopback(),
        v6_loopback(),
        HostName::new("localhost").unwrap(),
    ] {
        let client = DatagramSocket::bind_service_name("").await.unwrap();
        let sent = client.send_to(&host, port, "Hello, World!").await.unwrap();
        assert_eq!(sent, 13);

        let request = within("server recv", server.recv()).await.unwrap();
        assert_eq!(&request.data[..], b"Hello, World!");
        assert!(!request.truncated);
        assert!(request.remote_address.is_loopback(), "{request:?}");
        assert_eq!(request.remote_port, client.information().local_port);
        // A dual-stack socket reports IPv4 peers as IPv4, not as mapped IPv6.
        if host.kind() == HostNameType::Ipv4 {
            assert_eq!(request.remote_address.kind(), HostNameType::Ipv4);
        }
        // The address the datagram was sent to, read from the packet (Linux).
        if cfg!(target_os = "linux") {
            let expected = match host.kind() {
                HostNameType::Ipv6 => "::1",
                _ => "127.0.0.1",
            };
            assert_eq!(request.local_address.canonical_name(), expected);
        }

        server
            .send_to_addr(request.remote_addr(), &request.data)
            .await
            .unwrap();
        let response = within("client recv", client.recv()).await.unwrap();
        assert_eq!(&response.data[..], b"Hello, World!");
        assert_eq!(response.remote_port, port);
    }
}

#[tokio::test]
async fn each_flush_of_an_output_stream_is_one_datagram() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let client = DatagramSocket::bind_service_name("").await.unwrap();
    let mut out = client
        .output_stream(&v4_loopback(), server.local_addr().port())
        .await
        .unwrap();
    assert_eq!(out.remote_addr(), server.local_addr());
    out.write_all(b"Hello, ").await.unwrap();
    out.write_all(b"World!").await.unwrap();
    assert_eq!(out.buffered(), b"Hello, World!");
    out.flush().await.unwrap();
    out.flush().await.unwrap(); // nothing written: nothing sent
    out.write_all(b"second").await.unwrap();
    out.shutdown().await.unwrap();

    let first = within("first datagram", server.recv()).await.unwrap();
    assert_eq!(&first.data[..], b"Hello, World!");
    let second = within("second datagram", server.recv()).await.unwrap();
    assert_eq!(&second.data[..], b"second");

    // The socket's information names the output stream's target.
    let info = client.information();
    assert_eq!(info.remote_address, Some(v4_loopback()));
    assert_eq!(info.remote_port, Some(server.local_addr().port()));
}

#[tokio::test]
async fn an_output_stream_refuses_to_grow_past_a_datagram() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let client = DatagramSocket::bind_service_name("").await.unwrap();
    let mut out = client.output_stream_to(server.local_addr()).unwrap();
    out.write_all(&vec![1u8; MAX_DATAGRAM_SIZE_V4 - 10])
        .await
        .unwrap();
    let err = out.write_all(&[2u8; 11]).await.unwrap_err();
    let err = Error::from(err);
    assert_eq!(err.status(), SocketErrorStatus::MessageTooLong);
    assert!(err.to_string().contains("max_datagram_size"), "{err}");
    // The refused write added nothing: the datagram goes out as it was.
    out.flush().await.unwrap();
    let msg = within("big datagram", server.recv()).await.unwrap();
    assert_eq!(msg.data.len(), MAX_DATAGRAM_SIZE_V4 - 10);
    assert!(msg.data.iter().all(|&b| b == 1));
    assert!(!msg.truncated);
}

#[tokio::test]
async fn a_datagram_larger_than_udp_allows_is_message_too_long() {
    let client = DatagramSocket::bind_service_name("").await.unwrap();
    let big = vec![0u8; MAX_DATAGRAM_SIZE_V4 + 1];
    let err = client.send_to(&v4_loopback(), 9, &big).await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::MessageTooLong);
    let dest: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let err = client
        .send_batch(dest, &[&big[..10], &big])
        .await
        .unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::MessageTooLong);
}

#[tokio::test]
async fn a_taken_port_is_address_already_in_use() {
    let first = DatagramSocket::bind_service_name("").await.unwrap();
    let port = first.information().local_port;
    let err = DatagramSocket::bind_service_name(port).await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::AddressAlreadyInUse);
    assert!(
        sock_core::Report(&err)
            .to_string()
            .contains(&port.to_string()),
        "{}",
        sock_core::Report(&err)
    );
    // An IPv4-only bind of the same port is refused too.
    let err = DatagramSocket::bind_endpoint(Some(&v4_loopback()), port)
        .await
        .unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::AddressAlreadyInUse);
}

#[tokio::test]
async fn bad_service_names_and_foreign_addresses_are_refused() {
    let err = DatagramSocket::bind_service_name("70000")
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    let err = DatagramSocket::bind_service_name("no-such-service-here")
        .await
        .unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::ClassTypeNotFound);
    // 192.0.2.1 (TEST-NET-1) is no address of this host: binding it fails
    // without sending anything.
    let err = DatagramSocket::bind_endpoint(Some(&HostName::new("192.0.2.1").unwrap()), "")
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        SocketErrorStatus::CannotAssignRequestedAddress
    );
    // An IPv4 socket cannot send to an IPv6 address.
    let v4 = bind_v4(DatagramSocket::builder()).await;
    let err = v4.send_to(&v6_loopback(), 9, "x").await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::NoAddressesFound, "{err}");
    let err = v4
        .send_to_addr("[::1]:9".parse().unwrap(), b"x")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ipv4 socket"), "{err}");
}

#[tokio::test]
async fn connected_sockets_hear_only_their_peer() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let client = DatagramSocket::connect(&v4_loopback(), server.local_addr().port())
        .await
        .unwrap();
    assert_eq!(client.peer_addr(), Some(server.local_addr()));
    let info = client.information();
    assert_eq!(info.remote_address, Some(v4_loopback()));
    assert_eq!(info.remote_port, Some(server.local_addr().port()));

    // A stranger writes to the client first; then the peer does.
    let stranger = bind_v4(DatagramSocket::builder()).await;
    stranger
        .send_to_addr(loopback_addr(&client), b"from a stranger")
        .await
        .unwrap();
    client.send("ping").await.unwrap();
    let ping = within("server recv", server.recv()).await.unwrap();
    assert_eq!(&ping.data[..], b"ping");
    server
        .send_to_addr(ping.remote_addr(), b"from the peer")
        .await
        .unwrap();

    let msg = within("client recv", client.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"from the peer");
    assert_eq!(msg.remote_addr(), server.local_addr());
}

#[tokio::test]
async fn send_needs_a_connection() {
    let socket = DatagramSocket::bind_service_name("").await.unwrap();
    let err = socket.send("x").await.unwrap_err();
    assert!(err.to_string().contains("connected"), "{err}");
}

#[tokio::test]
async fn options_apply_before_bind_and_hop_limit_changes_after() {
    let socket = DatagramSocket::builder()
        .outbound_unicast_hop_limit(7)
        .inbound_buffer_size(256 * 1024)
        .dont_fragment(cfg!(target_os = "linux"))
        .quality_of_service(sock_core::QualityOfService::LowLatency)
        .bind_service_name("")
        .await
        .unwrap();
    assert_eq!(socket.outbound_unicast_hop_limit().unwrap(), 7);
    socket.set_outbound_unicast_hop_limit(33).unwrap();
    assert_eq!(socket.outbound_unicast_hop_limit().unwrap(), 33);
    assert_eq!(
        socket.control().outbound_unicast_hop_limit_value(),
        Some(33)
    );
    assert_eq!(
        socket.control().is_dont_fragment(),
        cfg!(target_os = "linux")
    );
    // 0 is no hop limit at all: refused.
    assert!(socket.set_outbound_unicast_hop_limit(0).is_err());

    // Still a working socket.
    let peer = bind_v4(DatagramSocket::builder()).await;
    socket.send_to_addr(peer.local_addr(), b"hi").await.unwrap();
    assert_eq!(&within("recv", peer.recv()).await.unwrap().data[..], b"hi");
}

#[tokio::test]
async fn a_message_reads_through_a_preloaded_data_reader() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let client = DatagramSocket::bind_service_name("").await.unwrap();
    let mut payload = 42u32.to_be_bytes().to_vec();
    payload.extend_from_slice(b"abc");
    client
        .send_to_addr(server.local_addr(), &payload)
        .await
        .unwrap();
    let msg = within("recv", server.recv()).await.unwrap();
    let mut reader = msg.data_reader();
    assert_eq!(reader.unconsumed_buffer_length(), 7);
    assert_eq!(reader.read_u32().unwrap(), 42);
    assert_eq!(reader.read_string(3).unwrap(), "abc");
}
