//! A TLS server that requires client certificates never serves application
//! data to a client without a valid one: no certificate, a self-signed one,
//! an expired one, or one from another CA. Checked with the server a user
//! writes: `sock_tcp`'s `serve` on a plain listener, whose handler runs
//! `TlsServerConfig::accept` over each `StreamSocket`, at TLS 1.2 and at
//! TLS 1.3 (where the client's handshake completes before the server has
//! checked its certificate, so the client may well send data first).

use crate::support;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sock_core::{HostName, ProtectionLevel};
use sock_tcp::{StreamSocket, StreamSocketListener};
use sock_tls::{TlsClientConfig, TlsServerConfig};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// What the server's handlers saw: the application data each served
/// connection sent, and how many handshakes were refused.
#[derive(Default)]
struct Seen {
    served: Vec<Vec<u8>>,
    refused: usize,
}

/// A `serve` run whose handler handshakes with `server`, then echoes one
/// request. Returns the port, what the handlers saw, and a stop switch.
async fn tls_server(
    server: TlsServerConfig,
) -> (
    u16,
    Arc<Mutex<Seen>>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<sock_tcp::ServeReport>,
) {
    let listener =
        StreamSocketListener::bind_endpoint(Some(&HostName::new("127.0.0.1").unwrap()), 0)
            .await
            .unwrap();
    let port = listener.information().local_port;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (stop, stopped) = oneshot::channel::<()>();
    let handler_seen = Arc::clone(&seen);
    let task = tokio::spawn(
        listener
            .serve(move |socket: StreamSocket| {
                let server = server.clone();
                let seen = Arc::clone(&handler_seen);
                async move {
                    let mut tls = match server.accept(socket).await {
                        Ok(tls) => tls,
                        Err(e) => {
                            seen.lock().unwrap().refused += 1;
                            return Err(e.into_error());
                        }
                    };
                    let mut request = [0u8; 7];
                    tls.read_exact(&mut request).await?;
                    seen.lock().unwrap().served.push(request.to_vec());
                    tls.write_all(&request).await?;
                    tls.shutdown().await?;
                    Ok::<_, sock_core::Error>(())
                }
            })
            .idle_timeout(Some(Duration::from_secs(5)))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (port, seen, stop, task)
}

/// Connects with `client`, sends a 7-byte request and reads the echo.
/// `Ok(echo)` only if the server served the request.
async fn try_request(
    client: &TlsClientConfig,
    port: u16,
    request: &[u8; 7],
) -> Result<Vec<u8>, String> {
    let host = HostName::new("127.0.0.1").unwrap();
    let socket = bounded(StreamSocket::connect(&host, port)).await.unwrap();
    let mut tls = bounded(client.connect(&HostName::new("localhost").unwrap(), socket))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    // With TLS 1.3 the client gets here before the server has judged its
    // certificate: the request goes out, and must not be served.
    tls.write_all(request)
        .await
        .map_err(|e| format!("write: {e}"))?;
    tls.flush().await.map_err(|e| format!("flush: {e}"))?;
    let mut echo = Vec::new();
    match bounded(tls.read_to_end(&mut echo)).await {
        Ok(_) if echo.is_empty() => Err("closed without a reply".into()),
        Ok(_) => Ok(echo),
        Err(e) => Err(format!("read: {e}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_clients_with_a_valid_certificate_are_served() {
    let ca = Ca::new("Trusted CA");
    let other_ca = Ca::new("Other CA");
    let valid = ca.client("alice");
    let self_signed = LeafSpec::client("mallory").self_signed();
    let expired = ca.issue(LeafSpec::client("eve").expired());
    let foreign = other_ca.client("trudy");

    for level in LEVELS {
        let server = server_builder(&ca.server(&["localhost"]))
            .protection_level(level)
            .client_authentication(required(&ca))
            .build()
            .unwrap();
        let (port, seen, stop, task) = tls_server(server).await;

        let without = client_trusting(&ca)
            .protection_level(level)
            .build()
            .unwrap();
        let bad: [(&str, TlsClientConfig); 4] = [
            ("no certificate", without),
            (
                "self-signed",
                client_with_certificate(&ca, &self_signed, level),
            ),
            ("expired", client_with_certificate(&ca, &expired, level)),
            (
                "from another CA",
                client_with_certificate(&ca, &foreign, level),
            ),
        ];
        for (what, client) in &bad {
            let outcome = try_request(client, port, b"secret!").await;
            assert!(
                outcome.is_err(),
                "{level}: a client with {what} was served: {outcome:?}"
            );
        }
        // The control: a valid certificate is served.
        let good = client_with_certificate(&ca, &valid, level);
        assert_eq!(
            try_request(&good, port, b"hello!!").await.unwrap(),
            b"hello!!"
        );

        stop.send(()).unwrap();
        let report = bounded(task).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.served,
            vec![b"hello!!".to_vec()],
            "{level}: application data reached a handler from an unauthenticated client"
        );
        assert_eq!(seen.refused, bad.len(), "{level}");
        assert_eq!(
            (report.failed, report.completed),
            (4, 1),
            "{level}: {report:?}"
        );
    }
}

#[tokio::test]
async fn no_pair_of_protection_levels_negotiates_below_either_request() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    let levels = [
        ProtectionLevel::Ssl,
        ProtectionLevel::Tls12,
        ProtectionLevel::Unspecified,
        ProtectionLevel::Tls13,
    ];
    let mut negotiated = 0;
    for client_level in levels {
        for server_level in levels {
            let client = client_trusting(&ca)
                .protection_level(client_level)
                .build()
                .unwrap();
            let server = server_builder(&leaf)
                .protection_level(server_level)
                .build()
                .unwrap();
            assert_eq!(client.protection_level(), client_level);
            assert_eq!(server.protection_level(), server_level);
            let (client, server) = handshake(&client, &server, "localhost").await;
            let allowed_c = client_level.tls_versions().unwrap();
            let allowed_s = server_level.tls_versions().unwrap();
            let common = allowed_c.iter().any(|v| allowed_s.contains(v));
            match (client, server) {
                (Ok(c), Ok(s)) => {
                    let version = c.info().protocol_version().unwrap();
                    assert_eq!(s.info().protocol_version(), Some(version));
                    assert!(
                        allowed_c.contains(&version) && allowed_s.contains(&version),
                        "{client_level}/{server_level} negotiated {version:?}"
                    );
                    // The best version both allow, never a lesser one.
                    assert_eq!(
                        Some(&version),
                        allowed_c.iter().find(|v| allowed_s.contains(v)),
                        "{client_level}/{server_level}"
                    );
                    negotiated += 1;
                }
                (c, s) => {
                    assert!(
                        !common,
                        "{client_level}/{server_level} share a version but failed: {:?} {:?}",
                        c.err(),
                        s.err()
                    );
                }
            }
        }
    }
    // Every pair but Tls12/Tls13 and Tls13/Tls12.
    assert_eq!(negotiated, levels.len() * levels.len() - 2);
}
