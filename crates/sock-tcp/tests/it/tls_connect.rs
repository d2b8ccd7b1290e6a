//! TLS at connect: protection levels, client certificates, certificate errors
//! that can be read from the failure and made ignorable for a retry.
#![cfg(feature = "tls")]

use crate::support;
use crate::support::certs;

use sock_core::{Error, HostName, ProtectionLevel, SocketErrorStatus as S, TlsVersion};
use sock_tcp::{IgnorableCertificateError, ServerCertificateErrorSeverity, StreamSocket};
use sock_tls::ClientAuth;
use support::certs::{
    await_failed_handshakes, client_trusting, server_config, tls_listener, while_accepting, Ca,
};
use support::{v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn localhost() -> HostName {
    HostName::new("localhost").unwrap()
}

#[tokio::test]
async fn mutual_tls_at_each_level_and_both_sides_see_who_is_who() {
    let ca = Ca::new("Mutual CA");
    let server_leaf = ca.server(&["localhost", "127.0.0.1"]);
    let alice = ca.client("alice");
    for (level, version) in [
        (ProtectionLevel::Tls12, TlsVersion::Tls12),
        (ProtectionLevel::Tls13, TlsVersion::Tls13),
    ] {
        let listener = tls_listener(server_config(
            &server_leaf,
            certs::required(&ca),
            ProtectionLevel::Ssl,
        ))
        .await;
        let port = listener.information().local_port;
        let control = client_trusting(&ca, level)
            .client_certificate_pem(alice.cert_pem.as_bytes(), alice.key_pem.as_bytes());
        let (client, server) =
            within(async { tokio::join!(control.connect(&v4(), port), listener.accept()) }).await;
        let (mut client, mut server) = (client.unwrap(), server.unwrap());

        let info = client.information();
        assert_eq!(info.protection_level, level);
        assert_eq!(client.protection_level(), level);
        let tls = info.tls.as_ref().expect("tls information");
        assert_eq!(tls.protocol_version(), Some(version));
        assert_eq!(tls.server_name(), Some("127.0.0.1"));
        assert_eq!(
            info.server_certificate().unwrap().common_name(),
            Some("localhost")
        );
        assert_eq!(info.server_certificate_chain().len(), 1);
        assert!(info.server_certificate_errors().is_empty());
        assert_eq!(
            info.server_certificate_error_severity(),
            ServerCertificateErrorSeverity::None
        );
        assert!(info.client_identity().is_none());

        let server_info = server.information();
        assert_eq!(server_info.protection_level, level);
        let who = server_info.client_identity().expect("the verified client");
        assert_eq!(who.common_name(), Some("alice"), "{level}");
        assert_eq!(who.dns_names(), ["alice.clients.test"]);
        assert!(server_info.server_certificate().is_none());

        within(async {
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
    let leaf = ca.server(&["localhost"]);
    for level in [ProtectionLevel::Tls12, ProtectionLevel::Tls13] {
        let listener = tls_listener(server_config(
            &leaf,
            certs::required(&ca),
            ProtectionLevel::Ssl,
        ))
        .await;
        let port = listener.information().local_port;
        let control = client_trusting(&ca, level);
        // The handshake fails on the server: accept skips the connection
        // (while_accepting fails the test if one is accepted).
        let client = while_accepting(&listener, control.connect(&localhost(), port)).await;
        // The server's handshake may still be finishing on a busy machine.
        await_failed_handshakes(&listener, 1).await;
        assert_eq!(listener.failed_tls_handshakes(), 1, "{level}");

        // With TLS 1.2 the client learns it during the handshake; with TLS 1.3
        // the client finishes first and the refusal arrives on the first read.
        let err: Error = match client {
            Err(e) => e,
            Ok(mut socket) => {
                assert_eq!(level, ProtectionLevel::Tls13);
                let mut buf = [0; 1];
                let read = within(socket.read(&mut buf)).await;
                Error::from(read.expect_err("the server refused us"))
            }
        };
        let text = sock_core::Report(&err).to_string();
        assert!(text.contains("certificate"), "{level}: {text}");
    }
}

#[tokio::test]
async fn an_untrusted_server_fails_with_its_status_and_chain_then_a_retry_ignoring_it_succeeds() {
    let trusted = Ca::new("Trusted CA");
    let other = Ca::new("Other CA");
    // The server sends its root too: the root is only untrusted (ignorable),
    // not missing (fatal).
    let leaf = other.server(&["localhost"]).with_root(&other);
    let listener = tls_listener(server_config(&leaf, ClientAuth::None, ProtectionLevel::Ssl)).await;
    let port = listener.information().local_port;
    let control = client_trusting(&trusted, ProtectionLevel::Tls12);

    let failed =
        while_accepting(&listener, control.connect_with_tls_info(&localhost(), port)).await;
    let err = failed.expect_err("an untrusted root must fail");
    assert_eq!(err.status(), S::CertificateUntrustedRoot, "{err}");
    assert!(matches!(err.error(), Error::Certificate { .. }));
    let info = err.tls_info().expect("what the handshake learned");
    assert_eq!(info.peer_certificates().len(), 2);
    assert_eq!(
        info.peer_certificate().unwrap().issuer(),
        "O=Sock Tests, CN=Other CA"
    );
    assert_eq!(
        err.server_certificate_errors().len(),
        1,
        "{:?}",
        err.server_certificate_errors()
    );
    assert_eq!(
        err.server_certificate_errors()[0].status(),
        S::CertificateUntrustedRoot
    );
    assert_eq!(
        err.server_certificate_error_severity(),
        ServerCertificateErrorSeverity::Ignorable
    );
    let ignorable = err.ignorable_server_certificate_errors().unwrap();
    assert_eq!(ignorable, [IgnorableCertificateError::UntrustedRoot]);

    // The plain `connect` gives the same error as a sock_core::Error.
    let plain = while_accepting(&listener, control.connect(&localhost(), port)).await;
    assert_eq!(plain.unwrap_err().status(), S::CertificateUntrustedRoot);

    // Retry on a new socket with the error made ignorable.
    let retry = control.ignorable_server_certificate_errors(&ignorable);
    let (client, server) =
        within(async { tokio::join!(retry.connect(&localhost(), port), listener.accept()) }).await;
    let (client, _server) = (client.unwrap(), server.unwrap());
    let info = client.information();
    assert_eq!(
        info.server_certificate_errors()[0].status(),
        S::CertificateUntrustedRoot
    );
    assert!(info.server_certificate_errors()[0].is_waived());
}

#[tokio::test]
async fn an_expired_certificate_has_its_status() {
    let ca = Ca::new("CA");
    let leaf = certs::expired_server(&ca, &["localhost"]);
    let listener = tls_listener(server_config(&leaf, ClientAuth::None, ProtectionLevel::Ssl)).await;
    let port = listener.information().local_port;
    let control = client_trusting(&ca, ProtectionLevel::Ssl);
    let failed =
        while_accepting(&listener, control.connect_with_tls_info(&localhost(), port)).await;
    let err = failed.unwrap_err();
    assert_eq!(err.status(), S::CertificateExpired, "{err}");
    assert_eq!(
        err.ignorable_server_certificate_errors().unwrap(),
        [IgnorableCertificateError::Expired]
    );
}

#[tokio::test]
async fn weak_levels_are_unsupported_before_anything_is_sent() {
    let listener = support::listener().await;
    let port = listener.information().local_port;
    for level in [
        ProtectionLevel::Tls10,
        ProtectionLevel::Tls11,
        ProtectionLevel::Ssl3AllowWeakEncryption,
        ProtectionLevel::SslAllowNullEncryption,
    ] {
        let err = within(
            StreamSocket::builder()
                .protection_level(level)
                .connect(&v4(), port),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{level}: {err}");
        assert!(err.to_string().contains(&level.to_string()), "{err}");
    }
    // Nothing connected.
    let none = tokio::time::timeout(std::time::Duration::from_millis(100), listener.accept()).await;
    assert!(none.is_err());
}

#[tokio::test]
async fn a_min_protection_level_of_tls13_refuses_a_tls12_only_server() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    let listener = tls_listener(server_config(
        &leaf,
        ClientAuth::None,
        ProtectionLevel::Tls12,
    ))
    .await;
    let port = listener.information().local_port;
    let control =
        client_trusting(&ca, ProtectionLevel::Ssl).min_protection_level(ProtectionLevel::Tls13);
    let client = while_accepting(&listener, control.connect(&localhost(), port)).await;
    let err = client.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err}");
}

#[tokio::test]
async fn a_whole_client_config_can_be_given() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    let listener = tls_listener(server_config(&leaf, ClientAuth::None, ProtectionLevel::Ssl)).await;
    let port = listener.information().local_port;
    let config = sock_tls::TlsClientConfig::builder()
        .protection_level(ProtectionLevel::Tls13)
        .with_os_roots(false)
        .add_root_certificates_pem(ca.pem().as_bytes())
        .build()
        .unwrap();
    let control = StreamSocket::builder().tls_client_config(config);
    let (client, server) =
        within(async { tokio::join!(control.connect(&localhost(), port), listener.accept()) })
            .await;
    assert_eq!(client.unwrap().protection_level(), ProtectionLevel::Tls13);
    assert_eq!(server.unwrap().protection_level(), ProtectionLevel::Tls13);
}

#[tokio::test]
async fn an_unreadable_client_certificate_is_reported_by_connect() {
    let listener = support::listener().await;
    let port = listener.information().local_port;
    let err = within(
        StreamSocket::builder()
            .protection_level(ProtectionLevel::Tls12)
            .client_certificate_pem(b"not pem", b"not pem either")
            .connect(&v4(), port),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidCertificateInput { .. }),
        "{err}"
    );
}
