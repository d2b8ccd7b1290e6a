//! `StreamSocketControl::client_certificate_from` as the sockets guide uses
//! `ClientCertificate`: the first certificate with a private key in the MY
//! store is presented on connect; one that cannot be presented (expired, no
//! key) fails the connect instead of going out without a certificate.
#![cfg(feature = "tls")]

use crate::support;
use crate::support::certs;

use sock_core::{ProtectionLevel, SocketErrorStatus};
use sock_tls::{Certificate, CertificateQuery, CertificateStores};
use support::certs::{client_trusting, server_config, tls_listener, Ca};
use support::{v4, within};

/// A TLS listener that requires client certificates from `ca`.
async fn requiring(ca: &Ca) -> sock_tcp::StreamSocketListener {
    tls_listener(server_config(
        &ca.server(&["localhost", "127.0.0.1"]),
        certs::required(ca),
        ProtectionLevel::Ssl,
    ))
    .await
}

#[tokio::test]
async fn the_first_my_certificate_with_a_key_is_presented() {
    let ca = Ca::new("CA");
    let alice = ca.client("alice");
    let root = tempfile::tempdir().unwrap();
    let stores = CertificateStores::with_root(root.path());
    let my = stores.store_by_name("MY").unwrap();
    my.add(
        &Certificate::from_pem(alice.cert_pem.as_bytes(), Some(alice.key_pem.as_bytes())).unwrap(),
    )
    .unwrap();

    let query = CertificateQuery::new()
        .store_name("MY")
        .has_private_key(true);
    let found = within(stores.find_all(&query)).await.unwrap();
    let certificate = found.first().expect("a certificate").clone();

    for level in [ProtectionLevel::Tls12, ProtectionLevel::Tls13] {
        let listener = requiring(&ca).await;
        let port = listener.information().local_port;
        let control = client_trusting(&ca, level).client_certificate_from(certificate.clone());
        let (client, server) =
            within(async { tokio::join!(control.connect(&v4(), port), listener.accept()) }).await;
        client.unwrap();
        let server = server.unwrap();
        let info = server.information();
        let who = info.client_identity().expect("a client identity");
        assert_eq!(who.common_name(), Some("alice"), "{level}");
    }
}

#[tokio::test]
async fn a_certificate_that_cannot_be_presented_fails_the_connect() {
    let ca = Ca::new("CA");
    let expired = certs::expired_server(&ca, &["alice"]);
    let listener = requiring(&ca).await;
    let port = listener.information().local_port;

    let old = Certificate::from_pem(
        expired.cert_pem.as_bytes(),
        Some(expired.key_pem.as_bytes()),
    )
    .unwrap();
    let control = client_trusting(&ca, ProtectionLevel::Tls12).client_certificate_from(old);
    let err = within(control.connect(&v4(), port)).await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::CertificateExpired, "{err}");

    let no_key = Certificate::from_pem(expired.cert_pem.as_bytes(), None).unwrap();
    let control = client_trusting(&ca, ProtectionLevel::Tls12).client_certificate_from(no_key);
    let err = within(control.connect(&v4(), port)).await.unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(err.to_string().contains("no private key"), "{err}");
}
