//! Key logging to `SSLKEYLOGFILE`, only when asked. (Its own test binary: it
//! sets an environment variable.)

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use support::*;

#[tokio::test]
async fn keys_are_logged_to_sslkeylogfile_only_when_asked() {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = std::env::temp_dir().join(format!(
        "sock-tls-keylog-{}-{nanos}.txt",
        std::process::id()
    ));
    std::env::set_var("SSLKEYLOGFILE", &path);

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
    let _ = std::fs::remove_file(&path);
    assert!(log.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET "), "{log}");
    assert!(log.contains("CLIENT_TRAFFIC_SECRET_0 "), "{log}");
}
