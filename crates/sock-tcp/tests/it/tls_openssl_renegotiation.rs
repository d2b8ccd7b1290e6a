//! Against OpenSSL's own client: a TLS 1.2 renegotiation request is refused
//! at once (rustls queues a `no_renegotiation` alert, and the read that
//! found the request sends it), not left hanging until the application next
//! writes.
#![cfg(all(feature = "tls", unix))]

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sock_core::ProtectionLevel;
use sock_tls::ClientAuth;
use support::certs::{server_config, tls_listener, Ca};
use tokio::io::AsyncReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renegotiation_request_is_answered_without_the_application_writing() {
    let ca = Ca::new("CA");
    let listener = tls_listener(server_config(
        &ca.server(&["localhost"]),
        ClientAuth::None,
        ProtectionLevel::Tls12,
    ))
    .await;
    let port = listener.information().local_port;
    // The server only reads: nothing it does would flush a queued alert.
    let server = tokio::spawn(async move {
        let mut socket = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        while let Ok(n) = socket.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    });

    let mut client = Command::new("openssl")
        .args(["s_client", "-tls1_2", "-msg", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is installed (cargo xtask test installs it)");
    let mut stdin = client.stdin.take().unwrap();
    let stdout = client.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        let mut asked = None;
        let mut answered = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The handshake is done: ask to renegotiate.
            if asked.is_none() && line.contains("Verify return code") {
                writeln!(stdin, "R").unwrap();
                stdin.flush().unwrap();
                asked = Some(Instant::now());
            }
            if asked.is_some() && line.contains("no_renegotiation") {
                answered = asked.map(|t| t.elapsed());
                break;
            }
        }
        drop(stdin);
        answered
    });
    let answered = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !lines.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = client.kill();
        let _ = client.wait();
        lines.join().unwrap()
    })
    .await
    .unwrap();
    let after = answered.expect("the no_renegotiation alert never reached the client");
    // Far under the idle timeout the alert used to wait for.
    assert!(after < Duration::from_secs(2), "answered after {after:?}");
    server.abort();
}
