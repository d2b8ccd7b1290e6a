//! A `multicast_only` datagram socket handed over (UWP's `TransferOwnership`)
//! stays `multicast_only` where it is adopted, directly or by way of the
//! socket broker: it still refuses unicast sends and drops unicast datagrams.
//! A socket handed over without the option still sends and receives unicast.
//! A socket a service manager passes carries no such setting; the adopting
//! process sets it with `from_activation_with`.

#![cfg(all(target_os = "linux", feature = "handoff"))]

use crate::support;

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use sock_core::Error;
use sock_handoff::{all_sockets, HandoffChannel, SocketActivityKind, SocketBroker, SocketSettings};
use sock_udp::DatagramSocket;
use support::{bind_v4, within};
use tokio::sync::oneshot;

fn assert_refused(err: &Error) {
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("multicast_only"), "{err}");
}

/// Hands `socket` over a channel pair and adopts it on the other end,
/// checking the settings that came with it.
async fn hand_over(socket: DatagramSocket, multicast_only: bool) -> DatagramSocket {
    let (mut old, mut new) = HandoffChannel::pair().unwrap();
    within(
        "the hand-off",
        socket.transfer_ownership("mdns", b"ctx", &mut old),
    )
    .await
    .unwrap();
    let info = within("the socket", new.recv())
        .await
        .unwrap()
        .expect("a socket");
    assert_eq!(info.settings.is_multicast_only(), multicast_only);
    DatagramSocket::from_socket_activity(info).unwrap()
}

/// Sends a unicast datagram from `sender` to `socket` and waits (bounded)
/// until it was dropped and counted, failing if it is delivered instead.
async fn expect_unicast_dropped(socket: &DatagramSocket, sender: &DatagramSocket) {
    sender
        .send_to_addr(socket.local_addr(), b"unicast")
        .await
        .unwrap();
    within("the unicast datagram dropped", async {
        tokio::select! {
            msg = socket.recv() => panic!("a unicast datagram was delivered: {msg:?}"),
            () = async {
                while socket.dropped_unicast_datagrams() < 1 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            } => {}
        }
    })
    .await;
    assert_eq!(socket.dropped_unicast_datagrams(), 1);
}

/// Checks that `socket` refuses to send unicast and sent nothing.
async fn expect_unicast_send_refused(socket: &DatagramSocket) {
    let receiver = bind_v4(DatagramSocket::builder()).await;
    let dest = receiver.local_addr();
    assert_refused(&socket.send_to_addr(dest, b"no").await.unwrap_err());
    assert_refused(&socket.send_batch(dest, &[&b"no"[..]]).await.unwrap_err());
    assert_refused(&socket.output_stream_to(dest).unwrap_err());
    // Nothing went out: the first datagram the receiver gets is the marker.
    let plain = bind_v4(DatagramSocket::builder()).await;
    plain.send_to_addr(dest, b"marker").await.unwrap();
    let msg = within("the marker", receiver.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"marker");
}

#[tokio::test]
async fn a_multicast_only_socket_handed_over_still_refuses_unicast() {
    let socket = bind_v4(DatagramSocket::builder().multicast_only(true)).await;
    let addr = socket.local_addr();
    let adopted = hand_over(socket, true).await;
    assert_eq!(adopted.local_addr(), addr);
    assert!(adopted.control().is_multicast_only());
    expect_unicast_send_refused(&adopted).await;
    let sender = bind_v4(DatagramSocket::builder()).await;
    expect_unicast_dropped(&adopted, &sender).await;
}

#[tokio::test]
async fn a_plain_socket_handed_over_still_sends_and_receives_unicast() {
    let socket = bind_v4(DatagramSocket::builder()).await;
    let adopted = hand_over(socket, false).await;
    assert!(!adopted.control().is_multicast_only());
    let peer = bind_v4(DatagramSocket::builder()).await;
    adopted
        .send_to_addr(peer.local_addr(), b"ping")
        .await
        .unwrap();
    let msg = within("ping", peer.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"ping");
    peer.send_to_addr(msg.remote_addr(), b"pong").await.unwrap();
    let msg = within("pong", adopted.recv()).await.unwrap();
    assert_eq!(&msg.data[..], b"pong");
    assert_eq!(adopted.dropped_unicast_datagrams(), 0);
}

#[tokio::test]
async fn a_bare_socket_sent_multicast_only_is_adopted_multicast_only() {
    // A std socket never asked the kernel for destination addresses; the
    // adopting side must, to tell unicast datagrams apart.
    let bare = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let (mut old, mut new) = HandoffChannel::pair().unwrap();
    old.send_with(
        SocketActivityKind::DatagramSocket,
        SocketSettings::new().multicast_only(true),
        "bare",
        b"",
        bare.as_fd(),
    )
    .await
    .unwrap();
    drop(bare);
    let info = within("the socket", new.recv()).await.unwrap().unwrap();
    let adopted = DatagramSocket::from_socket_activity(info).unwrap();
    expect_unicast_send_refused(&adopted).await;
    let sender = bind_v4(DatagramSocket::builder()).await;
    expect_unicast_dropped(&adopted, &sender).await;
}

#[tokio::test]
async fn a_multicast_only_socket_comes_back_from_the_broker_multicast_only() {
    let path: PathBuf =
        std::env::temp_dir().join(format!("sock-udp-handoff-mo-{}.sock", std::process::id()));
    let broker = SocketBroker::bind(&path).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(broker.run_until(async {
        let _ = stopped.await;
    }));

    let socket = bind_v4(DatagramSocket::builder().multicast_only(true)).await;
    let plain = bind_v4(DatagramSocket::builder()).await;
    let mut channel = HandoffChannel::connect(&path).await.unwrap();
    for (id, s) in [("mdns", socket), ("plain", plain)] {
        within("the hand-off", s.transfer_ownership(id, b"", &mut channel))
            .await
            .unwrap();
    }
    within("the broker holding them", channel.finish())
        .await
        .unwrap();

    let all = within("the sockets back", all_sockets(&path))
        .await
        .unwrap();
    let flags: Vec<(&str, bool)> = all
        .iter()
        .map(|i| (i.id.as_str(), i.settings.is_multicast_only()))
        .collect();
    assert_eq!(flags, [("mdns", true), ("plain", false)]);
    let mut all = all.into_iter();
    let adopted = DatagramSocket::from_socket_activity(all.next().unwrap()).unwrap();
    let plain = DatagramSocket::from_socket_activity(all.next().unwrap()).unwrap();
    expect_unicast_send_refused(&adopted).await;
    // The plain one may send unicast; the multicast_only one drops it.
    assert!(!plain.control().is_multicast_only());
    expect_unicast_dropped(&adopted, &plain).await;

    stop.send(()).unwrap();
    let report = within("the broker stopping", run).await.unwrap().unwrap();
    assert_eq!((report.received, report.handed_out), (2, 2));
}

const ROLE: &str = "SOCK_UDP_HANDOFF_MO_ROLE";

/// The activated process: adopts fd 3 as `multicast_only` and checks it
/// refuses unicast both ways (a failed check fails the process).
#[test]
#[ignore = "runs only as the child process of the activation test"]
fn activation_child() {
    if std::env::var(ROLE).as_deref() != Ok("activation") {
        return;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let settings = SocketSettings::new().multicast_only(true);
            let adopted = DatagramSocket::from_activation_with("mdns", settings).unwrap();
            assert!(adopted.control().is_multicast_only());
            expect_unicast_send_refused(&adopted).await;
            let sender = bind_v4(DatagramSocket::builder()).await;
            expect_unicast_dropped(&adopted, &sender).await;
        });
}

#[tokio::test]
async fn a_socket_passed_by_a_service_manager_is_made_multicast_only_by_the_adopter() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor that we own.
    let high = unsafe { libc::fcntl(udp.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 100) };
    assert!(high >= 100);
    // SAFETY: `high` is a fresh descriptor owned by nobody else.
    let high = unsafe { OwnedFd::from_raw_fd(high) };
    let fd = high.as_raw_fd();
    // As a service manager does: the socket at 3, LISTEN_PID = the child's
    // own pid (the shell's `$$`, kept by `exec`).
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("LISTEN_PID=$$ exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &support::test_path(module_path!(), "activation_child"),
            "--include-ignored",
            "--nocapture",
        ])
        .env(ROLE, "activation")
        .env("LISTEN_FDS", "1")
        .env("LISTEN_FDNAMES", "mdns")
        .stdin(Stdio::null());
    // SAFETY: only dup2, which is async-signal-safe, runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let status = within("the activated process", child.wait()).await.unwrap();
    assert!(status.success(), "the activated process failed: {status}");
    drop(high);
}
