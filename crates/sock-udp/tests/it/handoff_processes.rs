//! Handing a datagram socket to another process (this test binary,
//! re-executed in a child role) which keeps serving it, datagrams queued
//! during the hand-off included.

#![cfg(all(target_os = "linux", feature = "handoff"))]

use crate::support;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sock_handoff::HandoffChannel;
use sock_udp::DatagramSocket;
use tokio::net::{UdpSocket, UnixListener};
use tokio::time::timeout;

const ROLE: &str = "SOCK_HANDOFF_TEST_ROLE";
const PATH: &str = "SOCK_HANDOFF_TEST_PATH";
const LIMIT: Duration = Duration::from_secs(20);

fn context() -> Vec<u8> {
    (0..=255u8).rev().cycle().take(777).collect()
}

/// The other process: adopts the socket and answers "B:" + two datagrams.
#[test]
#[ignore = "runs only as the child process of the hand-off tests"]
fn child_process() {
    let Ok(path) = std::env::var(PATH) else {
        return;
    };
    assert_eq!(std::env::var(ROLE).as_deref(), Ok("datagram"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut channel = HandoffChannel::connect(path).await.unwrap();
        let info = channel.recv().await.unwrap().expect("a socket");
        assert_eq!((info.id.as_str(), info.context.clone()), ("dns", context()));
        let socket = DatagramSocket::from_socket_activity(info).unwrap();
        for _ in 0..2 {
            let m = socket.recv().await.unwrap();
            let reply = [b"B:".as_slice(), &m.data].concat();
            socket.send_to_addr(m.remote_addr(), &reply).await.unwrap();
        }
    });
}

#[tokio::test]
async fn a_datagram_socket_handed_to_another_process_keeps_its_queue_and_serves() {
    let path: PathBuf =
        std::env::temp_dir().join(format!("sock-udp-handoff-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let unix = UnixListener::bind(&path).unwrap();
    let socket = DatagramSocket::bind_endpoint(Some(&"127.0.0.1".parse().unwrap()), "")
        .await
        .unwrap();
    let addr = socket.local_addr();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Queued in the kernel across the hand-off.
    client.send_to(b"early", addr).await.unwrap();

    let mut cmd = tokio::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        &support::test_path(module_path!(), "child_process"),
        "--include-ignored",
        "--nocapture",
    ])
    .env(ROLE, "datagram")
    .env(PATH, &path)
    .stdin(Stdio::null())
    .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let (conn, _) = timeout(LIMIT, unix.accept()).await.unwrap().unwrap();
    let mut channel = HandoffChannel::from_unix_stream(conn);
    socket
        .transfer_ownership("dns", &context(), &mut channel)
        .await
        .unwrap();
    let _ = std::fs::remove_file(&path);

    let mut buf = [0u8; 64];
    let (n, _) = timeout(LIMIT, client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"B:early");
    client.send_to(b"late", addr).await.unwrap();
    let (n, _) = timeout(LIMIT, client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"B:late");
    let status = timeout(LIMIT, child.wait()).await.unwrap().unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_tcp_listener_is_not_adopted_as_a_datagram_socket() {
    use std::os::fd::AsFd;
    let (mut a, mut b) = HandoffChannel::pair().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // The sender checks too: a listener cannot be sent as a datagram socket.
    let err = a
        .send(
            sock_handoff::SocketActivityKind::DatagramSocket,
            "x",
            b"",
            listener.as_fd(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is a listening tcp socket (ipv4), not a udp socket"),
        "{err}"
    );
    a.send(
        sock_handoff::SocketActivityKind::StreamSocketListener,
        "x",
        b"",
        listener.as_fd(),
    )
    .await
    .unwrap();
    let info = b.recv().await.unwrap().unwrap();
    let err = DatagramSocket::from_socket_activity(info).unwrap_err();
    assert!(
        matches!(err, sock_core::Error::Handoff { step: "adopt", .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("is a StreamSocketListener, not a udp socket"),
        "{err}"
    );
}
