//! Client certificates against OpenSSL, a peer no one here wrote: our client
//! presents a PKCS#12 certificate and PKCS#11-held keys (SoftHSM2) to
//! `openssl s_server -Verify 1 -verify_return_error` at TLS 1.2 and 1.3, and
//! our server verifies `openssl s_client` presenting a certificate taken out
//! of a PKCS#12 file. Loopback only; every wait is bounded.
#![cfg(unix)]

use crate::support;

use sock_core::{HostName, ProtectionLevel};
use sock_tls::{Certificate, TlsClientConfig};
use support::openssl::{export_pkcs12, openssl, s_client, write, SServer};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Presents `certificate` to `openssl s_server` requiring a client
/// certificate from `ca` at `level`, sends a line and checks the server
/// received it (it only does once it has accepted the certificate).
async fn accepted_by_s_server(ca: &Ca, certificate: &Certificate, level: ProtectionLevel) {
    let dir = tempfile::tempdir().unwrap();
    let leaf = ca.server(&["localhost"]);
    let cert = write(dir.path(), "server.pem", &leaf.cert_pem);
    let key = write(dir.path(), "server.key", &leaf.key_pem);
    let ca_file = write(dir.path(), "ca.pem", ca.pem());
    let version = if level == ProtectionLevel::Tls12 {
        "-tls1_2"
    } else {
        "-tls1_3"
    };
    let mut server = SServer::start(&[
        version,
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
        "-CAfile",
        ca_file.to_str().unwrap(),
        "-Verify",
        "1",
        "-verify_return_error",
    ]);
    let config = client_trusting(ca)
        .protection_level(level)
        .client_certificate_from(certificate.clone())
        .build()
        .unwrap();
    let tcp = bounded(TcpStream::connect(("127.0.0.1", server.port)))
        .await
        .unwrap();
    let mut tls = bounded(config.connect(&HostName::new("localhost").unwrap(), tcp))
        .await
        .unwrap();
    // s_server reads application data once it has said the handshake is
    // done; bytes that arrive with the handshake's last flight can sit
    // unread in its buffer.
    assert!(
        server.wait_for("CIPHER is").is_some(),
        "{level}: s_server never finished the handshake: {:#?}",
        server.seen
    );
    let line = format!("hello from {}", certificate.info().common_name().unwrap());
    tls.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    let got = server.wait_for(&line);
    assert!(
        got.is_some(),
        "{level}: s_server never printed {line:?}: {:#?}",
        server.seen
    );
    // It saw our certificate (and with -verify_return_error it reads no
    // data from a client whose certificate it refused).
    let cn = certificate.info().common_name().unwrap();
    assert!(
        server
            .seen
            .iter()
            .any(|l| l.starts_with("subject=") && l.ends_with(&format!("CN = {cn}"))),
        "{:#?}",
        server.seen
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkcs12_certificate_is_accepted_by_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Interop CA");
    let alice = ca.client("alice");
    let file = export_pkcs12(
        dir.path(),
        "alice",
        &alice.cert_pem,
        Some(&alice.key_pem),
        "",
        "pw",
        &[],
    );
    let certificate = Certificate::from_pkcs12_file(file, "pw").unwrap();
    for level in LEVELS {
        accepted_by_s_server(&ca, &certificate, level).await;
    }
}

#[cfg(feature = "pkcs11")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_keys_sign_for_openssl() {
    let hsm = softhsm::hsm();
    for (token, object) in [
        ("sock-rsa", "alice"),
        ("sock-p256", "bob"),
        ("sock-p384", "carol"),
    ] {
        let certificate = Certificate::from_pkcs11(&hsm.uri(token, object)).unwrap();
        for level in LEVELS {
            accepted_by_s_server(&hsm.ca, &certificate, level).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_verifies_openssl_presenting_a_pkcs12_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Interop CA");
    let erin = ca.client("erin");
    let file = export_pkcs12(
        dir.path(),
        "erin",
        &erin.cert_pem,
        Some(&erin.key_pem),
        &ca.pem(),
        "pw",
        &[],
    );
    // Taken out of the PKCS#12 file the way OpenSSL users do.
    let file = file.to_str().unwrap();
    let cert = write(
        dir.path(),
        "erin-out.pem",
        openssl(&[
            "pkcs12", "-in", file, "-passin", "pass:pw", "-clcerts", "-nokeys",
        ]),
    );
    let key = write(
        dir.path(),
        "erin-out.key",
        openssl(&[
            "pkcs12", "-in", file, "-passin", "pass:pw", "-nocerts", "-nodes",
        ]),
    );
    let ca_file = write(dir.path(), "ca.pem", ca.pem());

    for (level, version) in [
        (ProtectionLevel::Tls12, "-tls1_2"),
        (ProtectionLevel::Tls13, "-tls1_3"),
    ] {
        let server = server_builder(&ca.server(&["localhost"]))
            .protection_level(level)
            .client_authentication(required(&ca))
            .build()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let serve = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = server.accept(tcp).await.unwrap();
            let who = tls.info().peer_identity().unwrap().clone();
            let mut line = Vec::new();
            while !line.ends_with(b"\n") {
                let mut byte = [0];
                if tls.read(&mut byte).await.unwrap() == 0 {
                    break;
                }
                line.push(byte[0]);
            }
            tls.write_all(b"welcome, erin\n").await.unwrap();
            tls.shutdown().await.unwrap();
            (who, String::from_utf8(line).unwrap())
        });
        let args: Vec<String> = [
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
            version,
            "-CAfile",
            ca_file.to_str().unwrap(),
            "-cert",
            cert.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec();
        let output = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            s_client(&args, "hello from openssl\n")
        })
        .await
        .unwrap();
        let (who, line) = bounded(serve).await.unwrap();
        assert_eq!(who.common_name(), Some("erin"), "{level}");
        assert_eq!(line, "hello from openssl\n", "{level}");
        assert!(output.contains("welcome, erin"), "{level}: {output}");
    }
}

/// Our client refuses, before connecting, a token certificate OpenSSL would
/// refuse: nothing is ever sent without the certificate meant for it.
#[tokio::test]
async fn a_client_without_its_certificate_is_never_built() {
    let ca = Ca::new("CA");
    let alice = ca.client("alice");
    let err = TlsClientConfig::builder()
        .client_certificate_from(Certificate::from_pem(alice.cert_pem.as_bytes(), None).unwrap())
        .build()
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
}
