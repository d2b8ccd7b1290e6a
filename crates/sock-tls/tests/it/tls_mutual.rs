//! Client certificates: mutual TLS, the client identity on the server, missing,
//! untrusted and revoked client certificates, optional authentication, and
//! certificate files.

use crate::support;

use std::time::{SystemTime, UNIX_EPOCH};

use sock_core::{Error, ProtectionLevel, SocketErrorStatus as S};
use sock_tls::{ClientAuth, TlsClientConfig, TlsServerConfig};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn mutual_tls_succeeds_and_the_server_sees_the_client() {
    let ca = Ca::new("Mutual CA");
    let server_leaf = ca.server(&["localhost"]);
    let alice = ca.client("alice");
    for level in LEVELS {
        let server = server_builder(&server_leaf)
            .client_authentication(required(&ca))
            .build()
            .unwrap();
        let client = client_with_certificate(&ca, &alice, level);
        let (client, server) = handshake(&client, &server, "localhost").await;
        let (mut client, mut server) = (client.unwrap(), server.unwrap());

        let who = server.info().peer_identity().expect("client identity");
        assert_eq!(who.common_name(), Some("alice"), "{level}");
        assert_eq!(who.dns_names(), ["alice.clients.test"]);
        assert!(who.subject().contains("CN=alice"), "{}", who.subject());
        assert!(who.issuer().contains("CN=Mutual CA"), "{}", who.issuer());
        assert_eq!(server.info().peer_certificates()[0], alice.der);
        assert_eq!(server.info().server_name(), Some("localhost"));
        assert_eq!(
            client.info().peer_identity().unwrap().common_name(),
            Some("localhost")
        );

        // And data flows both ways.
        bounded(async {
            client.write_all(b"ping").await.unwrap();
            client.flush().await.unwrap();
            let mut buf = [0; 4];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
            server.write_all(b"pong").await.unwrap();
            server.flush().await.unwrap();
            client.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"pong");
        })
        .await;
    }
}

#[tokio::test]
async fn a_missing_client_certificate_fails_on_both_sides() {
    let ca = Ca::new("CA");
    let server = server_builder(&ca.server(&["localhost"]))
        .client_authentication(required(&ca))
        .build()
        .unwrap();
    for level in LEVELS {
        let client = client_trusting(&ca)
            .protection_level(level)
            .build()
            .unwrap();
        let (client, server) = handshake(&client, &server, "localhost").await;

        let server_err = server.unwrap_err();
        assert!(
            server_err
                .to_string()
                .contains("the client presented no certificate, and this server requires one"),
            "{level}: {server_err}"
        );

        // With TLS 1.2 the client learns it during the handshake; with TLS 1.3 the
        // client finishes first and the refusal arrives on the first read.
        let client_err: Error = match client {
            Err(e) => e.into(),
            Ok(mut tls) => {
                assert_eq!(level, ProtectionLevel::Tls13);
                let mut buf = [0; 1];
                let io_err = bounded(tls.read(&mut buf)).await.unwrap_err();
                Error::from(io_err)
            }
        };
        let text = client_err.to_string();
        assert!(
            text.contains("requires a client certificate")
                || text.contains("rejected our client certificate"),
            "{level}: {text}"
        );
        assert!(matches!(client_err, Error::Tls { .. }), "{client_err:?}");
    }
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused_with_its_status() {
    let ca = Ca::new("Server-side CA");
    let stranger = Ca::new("Stranger CA").client("mallory");
    let server = server_builder(&ca.server(&["localhost"]))
        .client_authentication(required(&ca))
        .build()
        .unwrap();
    let client = client_with_certificate(&ca, &stranger, ProtectionLevel::Tls12);
    let (client, server) = handshake(&client, &server, "localhost").await;
    let err = server.unwrap_err();
    assert_eq!(err.status(), S::CertificateUntrustedRoot);
    assert!(err.to_string().contains("client certificate"), "{err}");
    assert!(err.to_string().contains("CN=mallory"), "{err}");
    assert_eq!(
        err.info().peer_certificates(),
        std::slice::from_ref(&stranger.der)
    );
    assert_eq!(err.info().certificate_errors().len(), 1);
    let client_err = client.unwrap_err();
    assert!(
        client_err
            .to_string()
            .contains("rejected our client certificate"),
        "{client_err}"
    );
}

#[tokio::test]
async fn a_revoked_client_certificate_is_refused_and_others_pass() {
    let ca = Ca::new("CA");
    let revoked = ca.issue(LeafSpec::client("eve").serial(666));
    let fine = ca.issue(LeafSpec::client("bob").serial(7));
    let auth = required(&ca)
        .with_crls_pem(ca.crl_pem(&[666]).as_bytes())
        .unwrap();
    let server = server_builder(&ca.server(&["localhost"]))
        .client_authentication(auth)
        .build()
        .unwrap();

    let client = client_with_certificate(&ca, &revoked, ProtectionLevel::Tls12);
    let (_, server_side) = handshake(&client, &server, "localhost").await;
    let err = server_side.unwrap_err();
    assert_eq!(err.status(), S::CertificateRevoked);

    let client = client_with_certificate(&ca, &fine, ProtectionLevel::Tls12);
    let (_, server_side) = handshake(&client, &server, "localhost").await;
    let who = server_side.unwrap();
    assert_eq!(
        who.info().peer_identity().unwrap().common_name(),
        Some("bob")
    );
}

#[tokio::test]
async fn a_crl_from_an_unrelated_issuer_leaves_the_status_unknown() {
    let ca = Ca::new("CA");
    let other = Ca::new("Other CA");
    // The server has a list, but none for the client's issuer: refused as
    // "no revocation check" (28), since the server asked for revocation checks.
    let auth = ClientAuth::Required {
        roots: vec![ca.cert.der().clone()],
        crls: vec![],
    }
    .with_crls_pem(other.crl_pem(&[1]).as_bytes())
    .unwrap();
    let server = server_builder(&ca.server(&["localhost"]))
        .client_authentication(auth)
        .build()
        .unwrap();
    let client = client_with_certificate(&ca, &ca.client("carol"), ProtectionLevel::Tls12);
    let (_, server_side) = handshake(&client, &server, "localhost").await;
    assert_eq!(
        server_side.unwrap_err().status(),
        S::CertificateNoRevocationCheck
    );
}

#[tokio::test]
async fn optional_authentication_accepts_both_kinds_of_client() {
    let ca = Ca::new("CA");
    let server = server_builder(&ca.server(&["localhost"]))
        .client_authentication(ClientAuth::optional_pem(ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let anonymous = client_trusting(&ca).build().unwrap();
    let (client, server_side) = handshake(&anonymous, &server, "localhost").await;
    client.unwrap();
    let server_side = server_side.unwrap();
    assert!(server_side.info().peer_identity().is_none());
    assert!(server_side.info().peer_certificates().is_empty());

    let named = client_with_certificate(&ca, &ca.client("dave"), ProtectionLevel::Tls13);
    let (client, server_side) = handshake(&named, &server, "localhost").await;
    client.unwrap();
    assert_eq!(
        server_side
            .unwrap()
            .info()
            .peer_identity()
            .unwrap()
            .common_name(),
        Some("dave")
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("sock-tls-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn certificates_load_from_pem_files() {
    let ca = Ca::new("CA");
    let server_leaf = ca.server(&["localhost"]);
    let alice = ca.client("alice");
    let dir = TempDir::new();
    let write = |name: &str, text: &str| {
        let path = dir.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let server = TlsServerConfig::builder()
        .certificate_chain_pem_files(
            write("server.pem", &server_leaf.chain_pem),
            write("server.key", &server_leaf.key_pem),
        )
        .client_authentication(required(&ca))
        .build()
        .unwrap();
    let client = TlsClientConfig::builder()
        .with_os_roots(false)
        .add_root_certificates_pem_file(write("ca.pem", &ca.pem()))
        .client_certificate_pem_files(
            write("alice.pem", &alice.chain_pem),
            write("alice.key", &alice.key_pem),
        )
        .build()
        .unwrap();
    let (client, server_side) = handshake(&client, &server, "localhost").await;
    client.unwrap();
    assert_eq!(
        server_side
            .unwrap()
            .info()
            .peer_identity()
            .unwrap()
            .common_name(),
        Some("alice")
    );

    // A missing file names itself.
    let missing = dir.0.join("nope.pem");
    let err = TlsClientConfig::builder()
        .client_certificate_pem_files(&missing, &missing)
        .build()
        .unwrap_err();
    assert!(err.is_invalid_input());
    let text = err.to_string();
    assert!(
        text.contains("client certificate chain") && text.contains("nope.pem"),
        "{text}"
    );
}

#[tokio::test]
async fn bad_certificate_input_gives_clear_errors() {
    let ca = Ca::new("CA");
    let alice = ca.client("alice");
    let bob = ca.client("bob");

    // A key that belongs to another certificate.
    let err = TlsClientConfig::builder()
        .client_certificate_pem(alice.chain_pem.as_bytes(), bob.key_pem.as_bytes())
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidCertificateInput { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("does not belong"), "{err}");

    // A key where the chain should be, and the other way round.
    let err = TlsServerConfig::builder()
        .certificate_chain_pem(alice.key_pem.as_bytes(), alice.key_pem.as_bytes())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("no CERTIFICATE block"), "{err}");
    let err = TlsServerConfig::builder()
        .certificate_chain_pem(alice.chain_pem.as_bytes(), alice.chain_pem.as_bytes())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("no PRIVATE KEY block"), "{err}");

    // A server without a certificate, client authentication without roots.
    let err = TlsServerConfig::builder().build().unwrap_err();
    assert!(err.to_string().contains("server certificate"), "{err}");
    let err = server_builder(&alice)
        .client_authentication(ClientAuth::Required {
            roots: vec![],
            crls: vec![],
        })
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("no root certificate"), "{err}");
    let err = ClientAuth::None
        .with_crls_pem(ca.crl_pem(&[]).as_bytes())
        .unwrap_err();
    assert!(
        err.to_string().contains("client authentication is off"),
        "{err}"
    );
}
