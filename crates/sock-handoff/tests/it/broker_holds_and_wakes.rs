//! The socket broker holds handed-over sockets, gives them all to the next
//! process that asks (with the settings they came with), and wakes a command when a held listener has a
//! connection waiting; a peer that breaks the format gets a clear error.

#![cfg(target_os = "linux")]

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::Duration;

use sock_handoff::{all_sockets, HandoffChannel, SocketActivityKind, SocketBroker, SocketSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn temp(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sock-handoff-{}-{tag}", std::process::id()))
}

#[tokio::test]
async fn held_sockets_go_to_the_next_process_that_asks_and_only_once() {
    let path = temp("broker-hold.sock");
    let broker = SocketBroker::bind(&path).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(broker.run_until(async {
        let _ = stopped.await;
    }));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut channel = HandoffChannel::connect(&path).await.unwrap();
    channel
        .send(
            SocketActivityKind::StreamSocketListener,
            "web",
            b"gen 1",
            listener.as_fd(),
        )
        .await
        .unwrap();
    // A multicast_only datagram socket: the flag is not in the kernel, so
    // the broker must keep it with the descriptor and give it back.
    channel
        .send_with(
            SocketActivityKind::DatagramSocket,
            SocketSettings::new().multicast_only(true),
            "dns",
            &[0, 255],
            udp.as_fd(),
        )
        .await
        .unwrap();
    timeout(LIMIT, channel.finish()).await.unwrap().unwrap();
    let addr = listener.local_addr().unwrap();
    drop((listener, udp));

    let all = timeout(LIMIT, all_sockets(&path)).await.unwrap().unwrap();
    let got: Vec<(&str, SocketActivityKind, &[u8], bool)> = all
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.kind,
                &i.context[..],
                i.settings.is_multicast_only(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "web",
                SocketActivityKind::StreamSocketListener,
                &b"gen 1"[..],
                false
            ),
            (
                "dns",
                SocketActivityKind::DatagramSocket,
                &[0, 255][..],
                true
            ),
        ]
    );
    assert!(
        all_sockets(&path).await.unwrap().is_empty(),
        "given away once"
    );
    let mut all = all.into_iter();
    let listener =
        tokio::net::TcpListener::from_std(all.next().unwrap().into_tcp_listener().unwrap())
            .unwrap();
    assert_eq!(listener.local_addr().unwrap(), addr);

    stop.send(()).unwrap();
    let report = timeout(LIMIT, run).await.unwrap().unwrap().unwrap();
    assert_eq!(
        (report.received, report.handed_out, report.held_at_stop),
        (2, 2, 0)
    );
    assert!(!path.exists(), "the socket file is removed");
}

#[tokio::test]
async fn a_held_listener_with_a_connection_waiting_wakes_the_command() {
    let path = temp("broker-wake.sock");
    let out = temp("broker-wake.out");
    let _ = std::fs::remove_file(&out);
    let script = format!(
        "echo \"$SOCK_BROKER_REASON $SOCK_BROKER_SOCKET_ID\" > {}.tmp && mv {0}.tmp {0}",
        out.display()
    );
    // The connection stays queued until the test reclaims the listener,
    // however slow the machine: no second wake may come before that.
    let broker = SocketBroker::bind(&path)
        .unwrap()
        .wake_command("sh", ["-c", &script])
        .min_wake_interval(10 * LIMIT);
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(broker.run_until(async {
        let _ = stopped.await;
    }));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut channel = HandoffChannel::connect(&path).await.unwrap();
    channel
        .send(
            SocketActivityKind::StreamSocketListener,
            "web",
            b"",
            listener.as_fd(),
        )
        .await
        .unwrap();
    timeout(LIMIT, channel.finish()).await.unwrap().unwrap();
    drop(listener);

    // Nobody accepts: the connection waits in the held listener's queue.
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    let woke = timeout(LIMIT, async {
        loop {
            if let Ok(text) = std::fs::read_to_string(&out) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the wake command runs");
    assert_eq!(woke, "ConnectionAccepted web\n");

    // The woken app reclaims the listener: the waiting connection is there.
    let info = all_sockets(&path).await.unwrap().pop().unwrap();
    let listener = tokio::net::TcpListener::from_std(info.into_tcp_listener().unwrap()).unwrap();
    let (mut server, _) = timeout(LIMIT, listener.accept()).await.unwrap().unwrap();
    server.write_all(b"hi").await.unwrap();
    let mut buf = [0u8; 2];
    client.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hi");

    stop.send(()).unwrap();
    let report = timeout(LIMIT, run).await.unwrap().unwrap().unwrap();
    assert_eq!(report.wakes, 1);
    let _ = std::fs::remove_file(&out);
}

#[tokio::test]
async fn a_peer_that_breaks_the_format_gets_a_clear_error() {
    let (mut ours, theirs) = HandoffChannel::pair().unwrap();
    let mut raw = theirs.into_inner();
    raw.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
    let err = ours.recv().await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid data: not a socket hand-off message"),
        "{err}"
    );

    // A socket message without its descriptor.
    let (mut ours, theirs) = HandoffChannel::pair().unwrap();
    let mut raw = theirs.into_inner();
    raw.write_all(b"SKHO\x01\x01\x01\x00\x00\x01\x00\x00\x00\x00x")
        .await
        .unwrap();
    let err = ours.recv().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid data: hand-off socket message came with 0 file descriptors (expected exactly one)"
    );

    // Flags a listener cannot have, and flag bits nobody defined.
    for (message, expected) in [
        (
            &b"SKHO\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00"[..],
            "invalid data: hand-off message sets the multicast_only flag on a \
             StreamSocketListener (only a DatagramSocket can be multicast_only)",
        ),
        (
            &b"SKHO\x01\x01\x02\x81\x00\x00\x00\x00\x00\x00"[..],
            "invalid data: flags byte of a hand-off message is 0x81: unknown bits 0x80 \
             (this side knows 0x01)",
        ),
    ] {
        let (mut ours, theirs) = HandoffChannel::pair().unwrap();
        let mut raw = theirs.into_inner();
        raw.write_all(message).await.unwrap();
        let err = ours.recv().await.unwrap_err();
        assert_eq!(err.to_string(), expected);
    }

    // Cut off in the middle of a header.
    let (mut ours, theirs) = HandoffChannel::pair().unwrap();
    let mut raw = theirs.into_inner();
    raw.write_all(b"SKHO\x01").await.unwrap();
    drop(raw);
    let err = ours.recv().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected end of stream in a hand-off message header (5 of 14 bytes)"
    );

    // A clean close between messages is the end.
    let (mut ours, theirs) = HandoffChannel::pair().unwrap();
    drop(theirs);
    assert!(ours.recv().await.unwrap().is_none());
}
