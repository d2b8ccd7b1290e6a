//! A TLS `StreamSocket` keeps the socket's features: `cancel_io`, `split`,
//! `into_split` and `reunite`, batched writes.
#![cfg(feature = "tls")]

use crate::support;

use bytes::Bytes;
use sock_core::{ProtectionLevel, SocketErrorStatus as S};
use sock_tcp::StreamSocket;
use sock_tls::ClientAuth;
use support::certs::{client_trusting, server_config, tls_listener, Ca};
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn tls_pair() -> (StreamSocket, StreamSocket) {
    let ca = Ca::new("CA");
    let listener = tls_listener(server_config(
        &ca.server(&["127.0.0.1"]),
        ClientAuth::None,
        ProtectionLevel::Ssl,
    ))
    .await;
    let port = listener.information().local_port;
    let control = client_trusting(&ca, ProtectionLevel::Tls13);
    let (client, server) =
        within(async { tokio::join!(control.connect(&v4(), port), listener.accept()) }).await;
    (client.unwrap(), server.unwrap())
}

#[tokio::test]
async fn cancel_io_ends_a_waiting_tls_read_and_the_connection_goes_on() {
    let (mut client, mut server) = tls_pair().await;
    let handle = client.cancel_io_handle();
    let reading = async {
        let mut buf = [0; 4];
        client.read(&mut buf).await
    };
    let cancelling = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            handle.cancel_io();
        }
    };
    let err = within(async {
        tokio::select! {
            r = reading => r.unwrap_err(),
            () = cancelling => unreachable!(),
        }
    })
    .await;
    assert_eq!(S::from(&err), S::OperationAborted);

    server.write_all(b"still").await.unwrap();
    server.flush().await.unwrap();
    let mut buf = [0; 5];
    within(client.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"still");
}

#[tokio::test]
async fn split_halves_and_reunite_work_over_tls() {
    let (mut client, mut server) = tls_pair().await;
    let local = client.local_addr();
    {
        let (mut input, mut output) = client.split();
        assert_eq!(input.local_addr(), local);
        assert_eq!(output.local_addr(), local);
        let echo = async {
            let mut buf = [0; 3];
            server.read_exact(&mut buf).await.unwrap();
            server.write_all(&buf).await.unwrap();
            server.flush().await.unwrap();
        };
        let talk = async {
            output
                .write_batch(&[Bytes::from_static(b"a"), Bytes::from_static(b"bc")])
                .await
                .unwrap();
            let mut buf = [0; 3];
            input.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"abc");
        };
        within(async { tokio::join!(echo, talk) }).await;
    }

    let (mut input, mut output) = client.into_split();
    assert_eq!(input.local_addr(), local);
    let reader = tokio::spawn(async move {
        let mut buf = [0; 2];
        input.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        input
    });
    server.write_all(b"hi").await.unwrap();
    server.flush().await.unwrap();
    let input = within(reader).await.unwrap();
    output.write_all(b"!").await.unwrap();
    output.flush().await.unwrap();
    let mut socket = input.reunite(output).unwrap();
    assert_eq!(socket.protection_level(), ProtectionLevel::Tls13);
    let mut buf = [0; 1];
    within(server.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"!");
    socket.write_all(b"?").await.unwrap();
    socket.flush().await.unwrap();
    within(server.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"?");
}
