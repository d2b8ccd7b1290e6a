//! Key logging to `SSLKEYLOGFILE`, only when asked. The handshakes run in a
//! child process (this binary again) started with the variable set, so no
//! test changes this process's environment.

use crate::support;

use std::time::{SystemTime, UNIX_EPOCH};

use support::*;

#[test]
fn keys_are_logged_to_sslkeylogfile_only_when_asked() {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = std::env::temp_dir().join(format!(
        "sock-tls-keylog-{}-{nanos}.txt",
        std::process::id()
    ));
    let child = sock_test::child::test_path(module_path!(), "key_log_child");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &child, "--ignored", "--nocapture"])
        .env("SSLKEYLOGFILE", &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "the child failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child did not run:\n{stdout}\n{stderr}"
    );
}

/// The child's half: handshakes with and without key logging.
#[tokio::test]
#[ignore = "run in a child process by keys_are_logged_to_sslkeylogfile_only_when_asked"]
async fn key_log_child() {
    let Some(path) = std::env::var_os("SSLKEYLOGFILE").map(std::path::PathBuf::from) else {
        return;
    };

    let ca = Ca::new("CA");
    let server = server_config(&ca.server(&["localhost"]));

    let quiet = client_trusting(&ca).build().unwrap();
    let (client, _) = handshake(&quiet, &server, "localhost").await;
    client.unwrap();
    assert!(!path.exists(), "nothing is logged unless asked");

    let logging = client_trusting(&ca).key_log_from_env(true).build().unwrap();
    let (client, _) = handshake(&logging, &server, "localhost").await;
    client.unwrap();
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(log.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET "), "{log}");
    assert!(log.contains("CLIENT_TRAFFIC_SECRET_0 "), "{log}");
}
