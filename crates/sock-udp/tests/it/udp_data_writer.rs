//! A `DataWriter` over a datagram output stream: each `store` is one
//! datagram, as in UWP, and a received message reads back through a
//! preloaded `DataReader`.

use crate::support;

use sock_codec::DataWriter;
use sock_core::SocketErrorStatus;
use sock_udp::{DatagramSocket, MAX_DATAGRAM_SIZE_V4};
use support::{bind_v4, within};

#[tokio::test]
async fn each_store_sends_one_datagram() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let client = DatagramSocket::bind_service_name("").await.unwrap();
    let out = client.output_stream_to(server.local_addr()).unwrap();
    let mut writer = DataWriter::new(out);

    let request = "Hello, World!";
    writer.write_u32(writer.measure_string(request));
    writer.write_string(request);
    assert_eq!(writer.store().await.unwrap(), 4 + request.len());
    writer.write_string("second");
    writer.write_u8(b'!');
    writer.store().await.unwrap();
    // Nothing buffered: no datagram.
    assert_eq!(writer.store().await.unwrap(), 0);

    let first = within("first", server.recv()).await.unwrap();
    let mut reader = first.data_reader();
    let len = reader.read_u32().unwrap();
    assert_eq!(reader.read_string(len).unwrap(), request);
    assert_eq!(reader.unconsumed_buffer_length(), 0);
    let second = within("second", server.recv()).await.unwrap();
    assert_eq!(&second.data[..], b"second!");

    // The next datagram is the empty one sent below, not a leftover.
    client.send_to_addr(server.local_addr(), b"").await.unwrap();
    assert!(within("empty", server.recv())
        .await
        .unwrap()
        .data
        .is_empty());
}

#[tokio::test]
async fn a_store_larger_than_a_datagram_fails_and_keeps_the_bytes() {
    let server = bind_v4(DatagramSocket::builder()).await;
    let client = DatagramSocket::bind_service_name("").await.unwrap();
    let mut writer = DataWriter::new(client.output_stream_to(server.local_addr()).unwrap());
    writer.write_bytes(&vec![9u8; MAX_DATAGRAM_SIZE_V4 + 1]);
    let err = writer.store().await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::MessageTooLong);
    assert_eq!(
        writer.unstored_buffer_length() as usize,
        MAX_DATAGRAM_SIZE_V4 + 1
    );
    // Nothing went out: the next datagram the server sees is this one.
    let _ = writer.detach_buffer();
    writer.write_string("after");
    writer.store().await.unwrap();
    assert_eq!(
        &within("after", server.recv()).await.unwrap().data[..],
        b"after"
    );
}
