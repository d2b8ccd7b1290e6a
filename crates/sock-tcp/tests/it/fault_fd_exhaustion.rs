//! `serve` survives running out of file descriptors: while the process can
//! open no more, clients wait in the backlog and the accept loop pauses
//! (counting `accept_errors`); once descriptors are free it accepts them all
//! and serves them.
//!
//! The work runs in a child process (this test binary, re-executed with
//! `SOCK_FD_EXHAUSTION_CHILD` set) whose descriptor limit is lowered, so the
//! test process's own limit is never touched.

use crate::faults;
use crate::support;

use std::fs::File;
use std::future::IntoFuture;
use std::process::Command;
use std::time::Duration;

use faults::{echo_once, reporting_echo, Outcome};
use sock_tcp::StreamSocket;
use support::{listener, within};
use tokio::sync::{mpsc, oneshot};

const CHILD_ENV: &str = "SOCK_FD_EXHAUSTION_CHILD";
const CLIENTS: usize = 4;

#[cfg(target_os = "linux")]
#[test]
fn serve_survives_descriptor_exhaustion_and_recovers() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &sock_test::child::test_path(module_path!(), "exhausted_child"),
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed") && stdout.contains("served after exhaustion"),
        "the child did not run:\n{stdout}\n{stderr}"
    );
}

/// The child's half: does nothing unless started by the test above.
#[tokio::test(flavor = "current_thread")]
#[ignore = "run in a child process by serve_survives_descriptor_exhaustion_and_recovers"]
async fn exhausted_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    // A small limit, so that using it all up is quick.
    sock_test::limits::set_descriptor_limit(256).unwrap();

    let listener = listener().await;
    let addr = listener.local_addr();
    let (tx, mut outcomes) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(reporting_echo(tx))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );

    // The clients' sockets exist before the descriptors run out; connecting
    // them needs no new descriptor.
    let sockets: Vec<socket2::Socket> = (0..CLIENTS)
        .map(|_| socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap())
        .collect();
    let mut hog = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("{e}"),
        }
    }
    for s in &sockets {
        s.connect(&addr.into()).unwrap();
    }
    // The server cannot accept them: its accept loop fails, pauses and retries.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(outcomes.try_recv().is_err(), "served without a descriptor?");

    drop(hog);
    let mut clients = Vec::new();
    for s in sockets {
        let std: std::net::TcpStream = s.into();
        std.set_nonblocking(true).unwrap();
        let tokio_stream = tokio::net::TcpStream::from_std(std).unwrap();
        clients.push(StreamSocket::from_tcp_stream(tokio_stream).unwrap());
    }
    for (i, client) in clients.iter_mut().enumerate() {
        echo_once(client, format!("client {i}").as_bytes()).await;
    }
    drop(clients);
    for _ in 0..CLIENTS {
        let outcome = within(outcomes.recv()).await.unwrap();
        assert!(matches!(outcome, Outcome::Echoed(1)), "{outcome:?}");
    }
    stop.send(()).unwrap();
    let report = within(server).await.unwrap();
    assert_eq!(report.completed, CLIENTS as u64, "{report:?}");
    assert!(report.accept_errors >= 1, "{report:?}");
    println!(
        "served after exhaustion: {} clients, {} accept errors",
        report.completed, report.accept_errors
    );
}
