//! The accept loop survives running out of file descriptors: `incoming`
//! reports `TooManyOpenFiles`, pauses, and resumes once descriptors are free.
//!
//! It lowers the process's descriptor limit, which would starve the other
//! tests of this binary, so the work runs in a child process (this binary
//! again, running only `backoff_child`).

use crate::support;

use sock_test::limits::{descriptor_limit, set_descriptor_limit};
use std::fs::File;

use futures::StreamExt;
use sock_core::SocketErrorStatus as S;
use sock_tcp::MIN_ACCEPT_BACKOFF;
use support::{listener, within};
use tokio::time::Instant;

/// Set in the child's environment.
const CHILD_ENV: &str = "SOCK_ACCEPT_BACKOFF_CHILD";

#[cfg(unix)]
#[test]
fn incoming_backs_off_on_too_many_open_files_and_resumes() {
    let child = sock_test::child::test_path(module_path!(), "backoff_child");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &child, "--ignored", "--nocapture"])
        .args(["--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child did not run:\n{stdout}\n{stderr}"
    );
}

// The clock is paused: it moves only when every task waits on a timer, so
// the time it shows after the resumed accept is the pause the stream took,
// however long closing two thousand descriptors takes in real time.
#[cfg(unix)]
#[tokio::test(start_paused = true)]
#[ignore = "run in a child process by incoming_backs_off_on_too_many_open_files_and_resumes"]
async fn backoff_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let listener = listener().await;
    let addr = listener.local_addr();
    // Two clients wait in the accept queue.
    let _a = std::net::TcpStream::connect(addr).unwrap();
    let _b = std::net::TcpStream::connect(addr).unwrap();

    // Use up every descriptor the process may open.
    let (saved, _) = descriptor_limit().unwrap();
    // Keep the number to open small, whatever the limit was.
    set_descriptor_limit(saved.min(2048)).unwrap();
    let mut hog = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(hog.len() <= 4096, "the descriptor limit was not lowered");
    }

    let mut incoming = listener.incoming();
    let err = within(incoming.next()).await.unwrap().unwrap_err();
    // The pause starts when the error is returned: no accept may be tried
    // until MIN_ACCEPT_BACKOFF after it.
    let failed_at = Instant::now();
    assert_eq!(err.status(), S::TooManyOpenFiles, "{err}");

    // Free descriptors; the stream carries on after its pause.
    drop(hog);
    let socket = within(incoming.next()).await.unwrap().unwrap();
    assert!(
        failed_at.elapsed() >= MIN_ACCEPT_BACKOFF,
        "accepted {:?} after the failure, before the {MIN_ACCEPT_BACKOFF:?} pause ended",
        failed_at.elapsed()
    );
    assert!(socket.peer_addr().ip().is_loopback());
    within(incoming.next()).await.unwrap().unwrap();

    set_descriptor_limit(saved).unwrap();
}
