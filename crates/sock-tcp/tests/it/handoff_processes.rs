//! Handing a listener and a connected stream to another process (this test
//! binary, re-executed in a child role) which keeps serving them, and
//! adopting listeners a service manager passed (`LISTEN_FDS`).

#![cfg(all(target_os = "linux", feature = "handoff"))]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use futures::StreamExt;
use sock_handoff::HandoffChannel;
use sock_tcp::{StreamSocket, StreamSocketListener};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixListener};
use tokio::time::timeout;
use tokio_util::codec::{Framed, LinesCodec};

const ROLE: &str = "SOCK_HANDOFF_TEST_ROLE";
const PATH: &str = "SOCK_HANDOFF_TEST_PATH";
const LIMIT: Duration = Duration::from_secs(20);

/// The context every hand-off carries: every byte value, several times.
fn context() -> Vec<u8> {
    (0..=255u8).cycle().take(1000).collect()
}

fn socket_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "sock-tcp-handoff-{}-{tag}.sock",
        std::process::id()
    ))
}

fn child_command(role: &str, path: &PathBuf) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        &sock_test::child::test_path(module_path!(), "child_process"),
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, role)
    .env(PATH, path)
    .stdin(Stdio::null());
    cmd
}

async fn wait(mut child: tokio::process::Child) -> ExitStatus {
    timeout(LIMIT, child.wait())
        .await
        .expect("child exits in time")
        .unwrap()
}

async fn line(reader: &mut BufReader<TcpStream>) -> String {
    let mut s = String::new();
    timeout(LIMIT, reader.read_line(&mut s))
        .await
        .unwrap()
        .unwrap();
    s
}

/// The other process: adopts what it is given and answers "B:" + each line.
#[test]
#[ignore = "runs only as the child process of the hand-off tests"]
fn child_process() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        if role == "activation" {
            return activation_child().await;
        }
        let mut channel = HandoffChannel::connect(std::env::var(PATH).unwrap())
            .await
            .unwrap();
        let info = channel.recv().await.unwrap().expect("a socket");
        assert_eq!(info.context, context(), "context bytes arrive intact");
        drop(channel);
        match role.as_str() {
            "listener" => {
                assert_eq!(info.id, "web");
                let listener = StreamSocketListener::from_socket_activity(info).unwrap();
                for _ in 0..2 {
                    let socket = listener.accept().await.unwrap();
                    echo_once(socket).await;
                }
            }
            "stream" => {
                assert_eq!(info.id, "conn-1");
                echo_once(StreamSocket::from_socket_activity(info).unwrap()).await;
            }
            other => panic!("unknown role {other}"),
        }
    });
}

async fn echo_once(socket: StreamSocket) {
    use futures::SinkExt;
    let mut lines = Framed::new(socket, LinesCodec::new());
    let request = lines.next().await.unwrap().unwrap();
    lines.send(format!("B:{request}")).await.unwrap();
}

async fn activation_child() {
    let err = StreamSocketListener::from_activation("dns").unwrap_err();
    assert_eq!(
        err.to_string(),
        "fd 4 (\"dns\") is a udp socket (ipv4), not a listening tcp socket as a StreamSocketListener needs"
    );
    let err = StreamSocketListener::from_activation("nope").unwrap_err();
    assert!(
        err.to_string()
            .contains("no descriptor named \"nope\" (passed: \"web\" (fd 3), \"dns\" (fd 4))"),
        "{err}"
    );
    let listener = StreamSocketListener::from_activation("web").unwrap();
    let err = StreamSocketListener::from_activation("web").unwrap_err();
    assert!(
        err.to_string()
            .contains("fd 3 (\"web\") was already adopted"),
        "{err}"
    );
    let mut socket = listener.accept().await.unwrap();
    socket.write_all(b"activated\n").await.unwrap();
    socket.close().await.unwrap();
}

#[tokio::test]
async fn a_listener_handed_to_another_process_keeps_its_queue_and_serves() {
    let path = socket_path("listener");
    let _ = std::fs::remove_file(&path);
    let unix = UnixListener::bind(&path).unwrap();
    let listener = StreamSocketListener::bind_endpoint(Some(&"127.0.0.1".parse().unwrap()), 0)
        .await
        .unwrap();
    let addr = listener.local_addr();
    // Waits in the accept queue across the hand-off.
    let early = TcpStream::connect(addr).await.unwrap();

    let child = tokio::process::Command::from(child_command("listener", &path))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (conn, _) = timeout(LIMIT, unix.accept()).await.unwrap().unwrap();
    let mut channel = HandoffChannel::from_unix_stream(conn);
    listener
        .transfer_ownership("web", &context(), &mut channel)
        .await
        .unwrap();
    timeout(LIMIT, channel.finish()).await.unwrap().unwrap();
    let _ = std::fs::remove_file(&path);

    let mut early = BufReader::new(early);
    early.get_mut().write_all(b"early\n").await.unwrap();
    assert_eq!(line(&mut early).await, "B:early\n");
    let mut late = BufReader::new(TcpStream::connect(addr).await.unwrap());
    late.get_mut().write_all(b"late\n").await.unwrap();
    assert_eq!(line(&mut late).await, "B:late\n");
    assert!(wait(child).await.success());
}

#[tokio::test]
async fn a_connected_stream_handed_to_another_process_keeps_talking() {
    let path = socket_path("stream");
    let _ = std::fs::remove_file(&path);
    let unix = UnixListener::bind(&path).unwrap();
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = BufReader::new(
        TcpStream::connect(server.local_addr().unwrap())
            .await
            .unwrap(),
    );
    let (accepted, _) = server.accept().await.unwrap();
    let socket = StreamSocket::from_tcp_stream(accepted).unwrap();

    let child = tokio::process::Command::from(child_command("stream", &path))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (conn, _) = timeout(LIMIT, unix.accept()).await.unwrap().unwrap();
    let mut channel = HandoffChannel::from_unix_stream(conn);
    socket
        .transfer_ownership("conn-1", &context(), &mut channel)
        .await
        .unwrap();
    let _ = std::fs::remove_file(&path);

    client.get_mut().write_all(b"hello\n").await.unwrap();
    assert_eq!(line(&mut client).await, "B:hello\n");
    assert!(wait(child).await.success());
}

#[tokio::test]
async fn a_stream_with_buffered_bytes_is_refused_and_given_back() {
    use futures::SinkExt;
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut peer = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    let socket = StreamSocket::from_tcp_stream(server.accept().await.unwrap().0).unwrap();
    peer.write_all(b"a\nbc\n").await.unwrap();
    let mut framed = socket.framed(LinesCodec::new());
    assert_eq!(framed.next().await.unwrap().unwrap(), "a");
    // "bc\n" was read along with "a\n" and is buffered.
    let socket = StreamSocket::from_framed(framed).await.unwrap();
    let (mut channel, _other) = HandoffChannel::pair().unwrap();
    let err = socket
        .transfer_ownership("x", b"", &mut channel)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "transfer_ownership failed: transfer_ownership of a stream socket holding 3 buffered bytes is not supported: read the bytes already buffered before handing the socket over"
    );
    let mut socket = err.into_socket();
    let mut buf = [0u8; 3];
    socket.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"bc\n");
    // Now empty: the hand-off goes through.
    let mut lines = Framed::new(socket, LinesCodec::new());
    lines.send("still here").await.unwrap();
    let socket = lines.into_inner();
    socket
        .transfer_ownership("x", b"", &mut channel)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_too_long_context_is_refused_by_name_and_the_listener_comes_back() {
    let listener = StreamSocketListener::bind_endpoint(Some(&"127.0.0.1".parse().unwrap()), 0)
        .await
        .unwrap();
    let (mut channel, _other) = HandoffChannel::pair().unwrap();
    let err = listener
        .transfer_ownership("web", &vec![0; 64 * 1024 + 1], &mut channel)
        .await
        .unwrap_err();
    assert!(
        err.error()
            .to_string()
            .starts_with("max_context_len exceeded: 65537 bytes"),
        "{err}"
    );
    let listener = err.into_socket();
    let addr = listener.local_addr();
    let (_client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    accepted.unwrap();
}

/// Moves `fd` to a number at or above 100, close-on-exec.
fn high(fd: RawFd) -> OwnedFd {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor that we own.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100) };
    assert!(new >= 100);
    // SAFETY: `new` is a fresh descriptor owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(new) }
}

#[tokio::test]
async fn listeners_passed_by_a_service_manager_are_adopted_by_name_and_kind() {
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = tcp.local_addr().unwrap();
    let (tcp_fd, udp_fd) = (high(tcp.as_raw_fd()), high(udp.as_raw_fd()));
    let (a, b) = (tcp_fd.as_raw_fd(), udp_fd.as_raw_fd());
    // As a service manager does: the sockets at 3 and 4, LISTEN_PID = the
    // child's own pid (the shell's `$$`, kept by `exec`).
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("LISTEN_PID=$$ exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "--exact",
            &sock_test::child::test_path(module_path!(), "child_process"),
            "--include-ignored",
            "--nocapture",
        ])
        .env(ROLE, "activation")
        .env("LISTEN_FDS", "2")
        .env("LISTEN_FDNAMES", "web:dns")
        .stdin(Stdio::null());
    // SAFETY: only dup2, which is async-signal-safe, runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut client = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(line(&mut client).await, "activated\n");
    drop(client);
    assert!(wait(child).await.success());
}
