//! Self-signed server certificates as UWP classifies them: an untrusted root
//! (ignorable) whether or not the certificate says it is a CA, and also when a
//! trusted root has the same name with another key; accepted once trusted; and
//! still checked (signature, dates, name, usage) when the root is waived.

use crate::support;

use sock_core::SocketErrorStatus as S;
use sock_tls::{
    CertificateDer, HandshakeError, IgnorableCertificateError as Ignore, PrivateKeyDer,
    ServerCertificateErrorSeverity as Severity, TlsClientConfig, TlsClientConfigBuilder,
    TlsServerConfig,
};
use support::*;

/// What a refused self-signed server certificate tells the user to do.
const ADVICE: &str = "trust it with add_root_certificates_pem or ignore UntrustedRoot";

const ALL: [Ignore; 3] = [Ignore::Expired, Ignore::UntrustedRoot, Ignore::InvalidName];

/// A server certificate for "localhost" that says it is not a CA, and one
/// that says it is (as `openssl req -x509` makes them by default).
fn ca_or_not() -> [LeafSpec; 2] {
    let spec = LeafSpec::server(&["localhost"]);
    [spec.clone(), spec.ca()]
}

/// A client trusting nothing but what the test adds.
fn untrusting() -> TlsClientConfigBuilder {
    TlsClientConfig::builder().with_os_roots(false)
}

/// Checks `err` is an ignorable untrusted root and nothing else, saying
/// `says` and what to do.
fn untrusted_but_ignorable(err: &HandshakeError, says: &str) {
    assert_eq!(err.status(), S::CertificateUntrustedRoot, "{err}");
    assert_eq!(err.server_certificate_error_severity(), Severity::Ignorable);
    let kinds = err.ignorable_server_certificate_errors();
    assert_eq!(kinds, Some(vec![Ignore::UntrustedRoot]), "{err}");
    let text = err.to_string();
    assert!(text.contains(says), "{text}");
    assert!(text.ends_with(ADVICE), "{text}");
}

/// The client's outcome against a server presenting `leaf`, for "localhost".
async fn client_outcome(client: TlsClientConfigBuilder, leaf: &Leaf) -> Outcome {
    let server = server_config(leaf);
    let (client, _server) = handshake(&client.build().unwrap(), &server, "localhost").await;
    client
}

#[tokio::test]
async fn a_self_signed_certificate_is_an_untrusted_root_whether_or_not_it_says_it_is_a_ca() {
    for spec in ca_or_not() {
        let ca = spec.is_ca;
        let leaf = spec.self_signed();
        // With the operating system's roots too: nothing in them changes this.
        for os_roots in [false, true] {
            let client = TlsClientConfig::builder().with_os_roots(os_roots);
            let err = client_outcome(client, &leaf).await.expect_err("untrusted");
            let says = r#"server certificate "O=Sock Tests, CN=localhost" is self-signed; "#;
            untrusted_but_ignorable(&err, says);
        }

        // UWP's retry: the same server with the problem made ignorable.
        let client = untrusting().ignorable_server_certificate_errors(&[Ignore::UntrustedRoot]);
        let tls = client_outcome(client, &leaf).await.expect("waived");
        let waived: Vec<_> = tls.info().waived_certificate_errors().collect();
        assert_eq!(waived.len(), 1, "CA:{ca} {waived:?}");
        assert_eq!(waived[0].status(), S::CertificateUntrustedRoot);
        assert!(tls.info().peer_identity().is_some());

        // Trusted explicitly, it is accepted with no problem at all.
        let client = untrusting().add_root_certificates_pem(leaf.cert_pem.as_bytes());
        let tls = client_outcome(client, &leaf).await.expect("trusted");
        assert!(
            tls.info().certificate_errors().is_empty(),
            "CA:{ca} {:?}",
            tls.info().certificate_errors()
        );
    }
}

#[tokio::test]
async fn a_self_signed_ca_certificate_still_has_its_dates_name_and_usage_checked() {
    // Expired: two ignorable problems untrusted, one once trusted.
    let leaf = LeafSpec::server(&["localhost"])
        .ca()
        .expired()
        .self_signed();
    let err = client_outcome(untrusting(), &leaf).await.unwrap_err();
    assert_eq!(err.status(), S::CertificateExpired, "{err}");
    assert!(err.to_string().contains("expired at 2001-01-01"), "{err}");
    let statuses: Vec<_> = err
        .server_certificate_errors()
        .iter()
        .map(|p| p.status())
        .collect();
    assert_eq!(
        statuses,
        [S::CertificateExpired, S::CertificateUntrustedRoot],
        "{err}"
    );
    let waive = [Ignore::Expired, Ignore::UntrustedRoot];
    let client = untrusting().ignorable_server_certificate_errors(&waive);
    client_outcome(client, &leaf).await.expect("both waived");
    let trusted = || untrusting().add_root_certificates_pem(leaf.cert_pem.as_bytes());
    let err = client_outcome(trusted(), &leaf).await.unwrap_err();
    assert_eq!(err.server_certificate_errors().len(), 1, "{err}");
    assert_eq!(err.status(), S::CertificateExpired);
    let client = trusted().ignorable_server_certificate_errors(&[Ignore::Expired]);
    client_outcome(client, &leaf).await.expect("expiry waived");

    // Another name, trusted: the name is still checked.
    let leaf = LeafSpec::server(&["elsewhere.test"]).ca().self_signed();
    let client = untrusting().add_root_certificates_pem(leaf.cert_pem.as_bytes());
    let err = client_outcome(client, &leaf).await.unwrap_err();
    assert_eq!(err.status(), S::CertificateCommonNameIsIncorrect, "{err}");

    // For clients only, trusted: refused whatever is waived.
    let leaf = LeafSpec::server(&["localhost"])
        .ca()
        .eku(vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth])
        .self_signed();
    let client = untrusting()
        .add_root_certificates_pem(leaf.cert_pem.as_bytes())
        .ignorable_server_certificate_errors(&ALL);
    let err = client_outcome(client, &leaf).await.unwrap_err();
    assert_eq!(err.status(), S::CertificateWrongUsage, "{err}");
    assert_eq!(err.server_certificate_error_severity(), Severity::Fatal);
}

#[tokio::test]
async fn waiving_the_root_still_checks_a_self_signed_certificate_by_its_own_key() {
    for spec in ca_or_not() {
        let ca = spec.is_ca;
        let leaf = spec.self_signed();
        // The last byte of the signature, changed: still well-formed DER.
        let mut der = leaf.der.to_vec();
        *der.last_mut().unwrap() ^= 0x01;
        let key = key_der(&leaf.key_pem);
        let server = TlsServerConfig::builder()
            .certificate_chain_der(vec![CertificateDer::from(der)], key)
            .build()
            .unwrap();
        let client = untrusting()
            .ignorable_server_certificate_errors(&ALL)
            .build()
            .unwrap();
        let (client, _) = handshake(&client, &server, "localhost").await;
        let err = client.expect_err("a forged signature");
        assert_eq!(err.status(), S::CertificateIsInvalid, "CA:{ca} {err}");
        assert!(err.to_string().contains("invalid signature"), "{err}");
        assert_eq!(err.server_certificate_error_severity(), Severity::Fatal);
    }
}

#[tokio::test]
async fn a_trusted_root_with_the_same_name_and_another_key_leaves_a_self_signed_certificate_ignorable(
) {
    // The name of Debian's snakeoil certificate, say, trusted in the OS store.
    let same_name = Ca::new("localhost");
    for spec in ca_or_not() {
        let ca = spec.is_ca;
        let leaf = spec.self_signed();
        let trusting_namesake =
            || untrusting().add_root_certificates_pem(same_name.pem().as_bytes());
        let err = client_outcome(trusting_namesake(), &leaf)
            .await
            .expect_err("untrusted");
        let says = "is self-signed, and the trusted root of that name has another key";
        untrusted_but_ignorable(&err, says);

        let client =
            trusting_namesake().ignorable_server_certificate_errors(&[Ignore::UntrustedRoot]);
        let tls = client_outcome(client, &leaf).await.expect("waived");
        assert_eq!(tls.info().waived_certificate_errors().count(), 1);

        // Both trusted: every root of that name is tried.
        let client = trusting_namesake().add_root_certificates_pem(leaf.cert_pem.as_bytes());
        let tls = client_outcome(client, &leaf).await.expect("trusted");
        assert!(tls.info().certificate_errors().is_empty(), "CA:{ca}");
    }
}

#[tokio::test]
async fn a_chain_whose_root_shares_a_trusted_name_is_untrusted_not_forged() {
    let private = Ca::new("Private CA");
    let namesake = Ca::new("Private CA");
    let mut leaf = private.server(&["localhost"]);
    leaf.chain_pem = format!("{}{}", leaf.cert_pem, private.pem());
    let trusting_namesake = || untrusting().add_root_certificates_pem(namesake.pem().as_bytes());
    let err = client_outcome(trusting_namesake(), &leaf)
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::CertificateUntrustedRoot, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(
            r#"it ends at the self-signed "O=Sock Tests, CN=Private CA", and the trusted root of that name has another key; trust that root"#
        ),
        "{text}"
    );
    let client = trusting_namesake().ignorable_server_certificate_errors(&[Ignore::UntrustedRoot]);
    client_outcome(client, &leaf).await.expect("waived");
}

#[tokio::test]
async fn a_ca_certificate_from_a_ca_serving_as_a_server_certificate_is_refused_in_words() {
    let ca = Ca::new("CA");
    let leaf = ca.issue(LeafSpec::server(&["localhost"]).ca());
    let client = untrusting().add_root_certificates_pem(ca.pem().as_bytes());
    let err = client_outcome(client, &leaf).await.unwrap_err();
    assert_eq!(err.status(), S::CertificateIsInvalid, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("is a CA certificate (basic constraints CA:TRUE)"),
        "{text}"
    );
    assert!(!text.contains("CaUsedAsEndEntity"), "{text}");
}

/// The private key of a PEM key block, for a server built from DER.
fn key_der(pem: &str) -> PrivateKeyDer<'static> {
    let key = rcgen::KeyPair::from_pem(pem).unwrap();
    PrivateKeyDer::Pkcs8(key.serialize_der().into())
}
