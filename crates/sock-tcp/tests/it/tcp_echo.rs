//! Echo over loopback with both of the sockets guide's framings, and what the sockets
//! report about themselves.

use crate::support;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use sock_codec::{LengthPrefixedCodec, LineCodec};
use sock_core::{HostName, ServiceName};
use sock_tcp::StreamSocket;
use support::{listener, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn line_framed_echo_round_trips_the_seed_request() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let server = tokio::spawn(async move {
        let mut lines = listener.accept().await.unwrap().framed(LineCodec::new());
        let request = lines.next().await.unwrap().unwrap();
        lines.send(request.as_str()).await.unwrap();
        request
    });

    let socket = within(StreamSocket::connect(
        &HostName::new("localhost").unwrap(),
        port,
    ))
    .await
    .unwrap();
    let mut lines = socket.framed(LineCodec::new());
    within(lines.send("Hello, World!")).await.unwrap();
    let response = within(lines.next()).await.unwrap().unwrap();
    assert_eq!(response, "Hello, World!");
    assert_eq!(within(server).await.unwrap(), "Hello, World!");
}

#[tokio::test]
async fn length_prefixed_echo_round_trips_many_messages() {
    let listener = listener().await;
    let port = listener.information().local_port;
    tokio::spawn(async move {
        let mut frames = listener
            .accept()
            .await
            .unwrap()
            .framed(LengthPrefixedCodec::new());
        while let Some(Ok(frame)) = frames.next().await {
            frames.send(frame).await.unwrap();
        }
    });

    let socket = within(StreamSocket::connect(&support::v4(), port))
        .await
        .unwrap();
    let mut frames = socket.framed(LengthPrefixedCodec::new());
    let messages: Vec<Bytes> = (0..100)
        .map(|i| Bytes::from(format!("message {i}: {}", "é".repeat(i))))
        .collect();
    for m in &messages {
        frames.feed(m.clone()).await.unwrap();
    }
    within(SinkExt::<Bytes>::flush(&mut frames)).await.unwrap();
    for m in &messages {
        assert_eq!(&within(frames.next()).await.unwrap().unwrap(), m);
    }
}

#[tokio::test]
async fn information_reports_both_ends_and_the_names_as_given() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let host = HostName::new("localhost").unwrap();
    let service = port.to_string();
    let (client, server) = within(async {
        tokio::join!(
            StreamSocket::connect(&host, service.as_str()),
            listener.accept()
        )
    })
    .await;
    let (client, server) = (client.unwrap(), server.unwrap());

    let c = client.information();
    assert_eq!(c.remote_host_name.raw_name(), "localhost");
    assert_eq!(c.remote_service_name, ServiceName::from(port));
    assert_eq!(c.remote_port, port);
    assert_eq!(c.remote_address.canonical_name(), "127.0.0.1");

    let s = server.information();
    assert_eq!(s.local_port, port);
    assert_eq!(s.remote_port, c.local_port);
    assert_eq!(s.remote_address, c.local_address);
    assert_eq!(client.peer_addr(), server.local_addr());

    if cfg!(target_os = "linux") {
        let rtt = c
            .round_trip_time
            .expect("TCP_INFO gives round-trip times on Linux");
        assert!(rtt.smoothed < std::time::Duration::from_secs(1), "{rtt:?}");
    }
}

/// UWP's BandwidthStatistics and the traffic counters follow what moved:
/// after 1 MiB one way, the sender counts it sent (and acknowledged) and the
/// receiver counts it received.
#[tokio::test]
async fn information_counts_the_bytes_moved_and_the_bandwidth() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (mut client, mut server) = support::pair().await;
    let data = vec![7u8; 1 << 20];
    let send = async {
        client.write_all(&data).await.unwrap();
        client.flush().await.unwrap();
    };
    let mut got = vec![0u8; data.len()];
    let recv = server.read_exact(&mut got);
    let ((), read) = within(async { tokio::join!(send, recv) }).await;
    read.unwrap();
    // The last acknowledgement may still be on its way: wait for it, bounded.
    let sent = within(async {
        loop {
            let info = client.information();
            if info.bytes_sent >= data.len() as u64 {
                return info;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(
        sent.bytes_sent,
        data.len() as u64,
        "exactly what was written"
    );
    let bandwidth = sent.bandwidth.expect("TCP_INFO gives bandwidth on Linux");
    assert!(bandwidth.outbound_bits_per_second > 0, "{bandwidth:?}");
    assert!(!bandwidth.inbound_bandwidth_peaked);
    let received = server.information();
    assert_eq!(received.bytes_received, data.len() as u64, "{received:?}");
    assert_eq!(received.bytes_sent, 0, "the server sent nothing");
}

#[tokio::test]
async fn from_framed_keeps_bytes_the_codec_read_ahead() {
    let (client, mut server) = support::pair().await;
    // Two lines arrive together; the codec reads both, but we take one.
    server
        .write_all(b"first\nsecond line, raw\n")
        .await
        .unwrap();
    let mut lines = client.framed(LineCodec::new());
    assert_eq!(within(lines.next()).await.unwrap().unwrap(), "first");
    let mut socket = within(StreamSocket::from_framed(lines)).await.unwrap();
    let mut rest = [0u8; 17];
    within(socket.read_exact(&mut rest)).await.unwrap();
    assert_eq!(&rest, b"second line, raw\n");
}
