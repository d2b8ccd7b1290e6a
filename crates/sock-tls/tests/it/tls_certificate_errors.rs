//! Server certificate problems: each gives its status (23–30) with details, the
//! failed handshake keeps the chain and the problems, and each ignorable problem
//! can be waived alone while the others still fail.

use crate::support;

use sock_core::{Error, SocketErrorStatus as S};
use sock_tls::{IgnorableCertificateError as Ignore, TlsClientConfig};
use support::*;

/// Connects a client trusting `ca` (tolerating `ignore`) to a server presenting
/// `leaf`, for `name`; returns the client's error.
async fn client_error(
    ca: &Ca,
    ignore: &[Ignore],
    leaf: &Leaf,
    name: &str,
) -> sock_tls::HandshakeError {
    let client = client_tolerating(ca, ignore);
    let (client, _server) = handshake(&client, &server_config(leaf), name).await;
    client.expect_err("the handshake should fail")
}

async fn client_ok(
    ca: &Ca,
    ignore: &[Ignore],
    leaf: &Leaf,
    name: &str,
) -> sock_tls::TlsStream<tokio::io::DuplexStream> {
    let client = client_tolerating(ca, ignore);
    let (client, server) = handshake(&client, &server_config(leaf), name).await;
    server.expect("server side should succeed");
    client.expect("the handshake should succeed")
}

#[tokio::test]
async fn a_good_certificate_has_no_problems() {
    let ca = Ca::new("Good CA");
    let tls = client_ok(&ca, &[], &ca.server(&["localhost"]), "localhost").await;
    assert!(tls.info().certificate_errors().is_empty());
    let server = tls.info().peer_identity().expect("server identity");
    assert_eq!(server.common_name(), Some("localhost"));
    assert_eq!(server.dns_names(), ["localhost"]);
    assert!(
        server.issuer().contains("CN=Good CA"),
        "{}",
        server.issuer()
    );
    assert_eq!(tls.info().peer_certificates().len(), 1);
}

#[tokio::test]
async fn expired_certificate_is_status_23_with_its_date() {
    let ca = Ca::new("CA");
    let leaf = ca.issue(LeafSpec::server(&["localhost"]).expired());
    let err = client_error(&ca, &[], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateExpired);
    let text = err.to_string();
    assert!(
        text.contains("expired at 2001-01-01 00:00:00 UTC"),
        "{text}"
    );
    assert!(text.contains("CN=localhost"), "{text}");
    // The failure keeps what was found, for showing to a user.
    assert_eq!(
        err.info().peer_certificates(),
        std::slice::from_ref(&leaf.der)
    );
    let problems = err.info().certificate_errors();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].status(), S::CertificateExpired);
    assert!(!problems[0].is_waived());
    assert_eq!(problems[0].ignorable_as(), Some(Ignore::Expired));
    let subject = err.info().peer_certificate().expect("parsed leaf");
    assert_eq!(subject.common_name(), Some("localhost"));
    assert!(err.info().peer_identity().is_none(), "not verified");
    // And as a sock_core::Error:
    let core: Error = err.into();
    assert!(
        matches!(
            core,
            Error::Certificate {
                status: S::CertificateExpired,
                ..
            }
        ),
        "{core:?}"
    );
}

#[tokio::test]
async fn not_yet_valid_certificate_is_status_23() {
    let ca = Ca::new("CA");
    let leaf = ca.issue(LeafSpec::server(&["localhost"]).not_yet_valid());
    let err = client_error(&ca, &[], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateExpired);
    assert!(
        err.to_string().contains("not valid before 3000-01-01"),
        "{err}"
    );
}

#[tokio::test]
async fn self_signed_certificate_is_status_24() {
    let ca = Ca::new("CA");
    let leaf = LeafSpec::server(&["localhost"]).self_signed();
    let err = client_error(&ca, &[], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateUntrustedRoot);
    assert!(err.to_string().contains("self-signed"), "{err}");
}

#[tokio::test]
async fn certificate_from_another_ca_is_status_24() {
    let trusted = Ca::new("Trusted CA");
    let other = Ca::new("Other CA");
    let err = client_error(&trusted, &[], &other.server(&["localhost"]), "localhost").await;
    assert_eq!(err.status(), S::CertificateUntrustedRoot);
    assert!(
        err.to_string().contains("does not end in a trusted root"),
        "{err}"
    );
}

#[tokio::test]
async fn no_trust_roots_at_all_is_status_24() {
    let ca = Ca::new("CA");
    let client = TlsClientConfig::builder()
        .with_os_roots(false)
        .build()
        .unwrap();
    let (client, _) = handshake(
        &client,
        &server_config(&ca.server(&["localhost"])),
        "localhost",
    )
    .await;
    assert_eq!(client.unwrap_err().status(), S::CertificateUntrustedRoot);
}

#[tokio::test]
async fn wrong_name_is_status_25_naming_both() {
    let ca = Ca::new("CA");
    let err = client_error(
        &ca,
        &[],
        &ca.server(&["right.test", "127.0.0.2"]),
        "wrong.test",
    )
    .await;
    assert_eq!(err.status(), S::CertificateCommonNameIsIncorrect);
    let text = err.to_string();
    assert!(text.contains("\"wrong.test\""), "{text}");
    assert!(text.contains("right.test, 127.0.0.2"), "{text}");
}

#[tokio::test]
async fn client_only_usage_is_status_26() {
    let ca = Ca::new("CA");
    let leaf = ca.issue(
        LeafSpec::server(&["localhost"]).eku(vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth]),
    );
    let err = client_error(&ca, &[], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateWrongUsage);
    assert!(err.to_string().contains("server authentication"), "{err}");
}

#[tokio::test]
async fn wrong_usage_cannot_be_waived() {
    let ca = Ca::new("CA");
    let leaf = ca.issue(
        LeafSpec::server(&["localhost"]).eku(vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth]),
    );
    let all = [Ignore::Expired, Ignore::UntrustedRoot, Ignore::InvalidName];
    let err = client_error(&ca, &all, &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateWrongUsage);
}

#[tokio::test]
async fn revoked_server_certificate_is_status_27() {
    let ca = Ca::new("CA");
    let leaf = ca.issue(LeafSpec::server(&["localhost"]).serial(4242));
    let client = client_trusting(&ca)
        .add_crls_pem(ca.crl_pem(&[4242]).as_bytes())
        .build()
        .unwrap();
    let (client, _) = handshake(&client, &server_config(&leaf), "localhost").await;
    let err = client.unwrap_err();
    assert_eq!(err.status(), S::CertificateRevoked);
    assert!(err.to_string().contains("revoked"), "{err}");

    // A certificate the list does not name passes.
    let fine = ca.issue(LeafSpec::server(&["localhost"]).serial(7));
    let client = client_trusting(&ca)
        .add_crls_pem(ca.crl_pem(&[4242]).as_bytes())
        .build()
        .unwrap();
    let (client, _) = handshake(&client, &server_config(&fine), "localhost").await;
    client.unwrap();
}

/// A server certificate from an untrusted CA, sent with that CA.
fn other_ca_chain() -> Leaf {
    let other = Ca::new("Other CA");
    let mut leaf = other.server(&["localhost"]);
    leaf.chain_pem = format!("{}{}", leaf.cert_pem, other.pem());
    leaf
}

#[tokio::test]
async fn each_ignorable_error_can_be_waived_alone() {
    let ca = Ca::new("CA");
    let cases = [
        (
            Ignore::Expired,
            ca.issue(LeafSpec::server(&["localhost"]).expired()),
            S::CertificateExpired,
        ),
        (
            Ignore::Expired,
            ca.issue(LeafSpec::server(&["localhost"]).not_yet_valid()),
            S::CertificateExpired,
        ),
        (
            Ignore::UntrustedRoot,
            LeafSpec::server(&["localhost"]).self_signed(),
            S::CertificateUntrustedRoot,
        ),
        (
            Ignore::UntrustedRoot,
            other_ca_chain(),
            S::CertificateUntrustedRoot,
        ),
        (
            Ignore::InvalidName,
            ca.server(&["elsewhere.test"]),
            S::CertificateCommonNameIsIncorrect,
        ),
    ];
    for (ignore, leaf, status) in cases {
        // Refused without the waiver…
        let err = client_error(&ca, &[], &leaf, "localhost").await;
        assert_eq!(err.status(), status, "{ignore}");
        // …and waiving one of the *other* kinds does not help…
        let others: Vec<Ignore> = [Ignore::Expired, Ignore::UntrustedRoot, Ignore::InvalidName]
            .into_iter()
            .filter(|k| *k != ignore)
            .collect();
        let err = client_error(&ca, &others, &leaf, "localhost").await;
        assert_eq!(err.status(), status, "{ignore} with {others:?}");
        // …but waiving its own kind does, and says so.
        let tls = client_ok(&ca, &[ignore], &leaf, "localhost").await;
        let waived: Vec<_> = tls.info().waived_certificate_errors().collect();
        assert_eq!(waived.len(), 1, "{ignore}: {waived:?}");
        assert_eq!(waived[0].status(), status);
        assert_eq!(waived[0].ignorable_as(), Some(ignore));
        assert!(tls.info().peer_identity().is_some());
    }
}

#[tokio::test]
async fn with_two_problems_waiving_one_still_fails_on_the_other() {
    let ca = Ca::new("CA");
    // Expired and for the wrong name.
    let leaf = ca.issue(LeafSpec::server(&["elsewhere.test"]).expired());
    let err = client_error(&ca, &[Ignore::Expired], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateCommonNameIsIncorrect);
    let err = client_error(&ca, &[Ignore::InvalidName], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateExpired);
    // Both problems are listed either way.
    let statuses: Vec<_> = err
        .info()
        .certificate_errors()
        .iter()
        .map(|p| p.status())
        .collect();
    assert!(statuses.contains(&S::CertificateExpired), "{statuses:?}");
    assert!(
        statuses.contains(&S::CertificateCommonNameIsIncorrect),
        "{statuses:?}"
    );
    let tls = client_ok(
        &ca,
        &[Ignore::Expired, Ignore::InvalidName],
        &leaf,
        "localhost",
    )
    .await;
    assert_eq!(tls.info().waived_certificate_errors().count(), 2);

    // Self-signed and expired: waiving the root alone fails on the date.
    let leaf = LeafSpec::server(&["localhost"]).expired().self_signed();
    let err = client_error(&ca, &[Ignore::UntrustedRoot], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateExpired);
    let err = client_error(&ca, &[Ignore::Expired], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateUntrustedRoot);
    client_ok(
        &ca,
        &[Ignore::Expired, Ignore::UntrustedRoot],
        &leaf,
        "localhost",
    )
    .await;
}

#[tokio::test]
async fn waiving_the_root_still_checks_the_chain_signatures() {
    let trusted = Ca::new("Trusted CA");
    let real_issuer = Ca::new("Private CA");
    // Same name as the real issuer, different key: the signature cannot match.
    let impostor = Ca::new("Private CA");
    let mut leaf = real_issuer.server(&["localhost"]);
    leaf.chain_pem = format!("{}{}", leaf.cert_pem, impostor.pem());
    let err = client_error(&trusted, &[Ignore::UntrustedRoot], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateIsInvalid, "{err}");
    assert!(err.to_string().contains("invalid signature"), "{err}");

    // The same chain with the real issuer is accepted when the root is waived.
    let mut leaf = real_issuer.server(&["localhost"]);
    leaf.chain_pem = format!("{}{}", leaf.cert_pem, real_issuer.pem());
    client_ok(&trusted, &[Ignore::UntrustedRoot], &leaf, "localhost").await;
}

#[tokio::test]
async fn waiving_the_root_does_not_accept_a_chain_with_a_missing_link() {
    let trusted = Ca::new("Trusted CA");
    let private = Ca::new("Private CA");
    // Issued by the private CA, which is not sent: nothing can check the signature.
    let leaf = private.server(&["localhost"]);
    let err = client_error(&trusted, &[Ignore::UntrustedRoot], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateUntrustedRoot);
    assert!(err.to_string().contains("incomplete"), "{err}");
    let problems = err.info().certificate_errors();
    assert!(
        problems.iter().any(|p| p.ignorable_as().is_none()),
        "{problems:?}"
    );
}

#[tokio::test]
async fn an_expired_intermediate_is_named_and_can_be_waived() {
    let root = Ca::new("Root CA");
    let inter = root.intermediate("Intermediate CA");
    // rcgen gives the intermediate the default validity; make an expired one.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Old Intermediate");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let old = Ca {
        cert: params.signed_by(&key, &root.cert, &root.key).unwrap(),
        key,
    };
    let mut spec = LeafSpec::server(&["localhost"]);
    spec.not_before = (2000, 6, 1);
    let mut leaf = old.issue(spec);
    leaf.chain_pem = format!("{}{}", leaf.cert_pem, old.pem());
    let err = client_error(&root, &[], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateExpired);
    assert!(err.to_string().contains("CN=Old Intermediate"), "{err}");
    client_ok(&root, &[Ignore::Expired], &leaf, "localhost").await;

    // A valid intermediate chain is fine.
    let mut leaf = inter.issue(LeafSpec::server(&["localhost"]));
    leaf.chain_pem = format!("{}{}", leaf.cert_pem, inter.pem());
    let tls = client_ok(&root, &[], &leaf, "localhost").await;
    assert_eq!(tls.info().peer_certificates().len(), 2);

    // An intermediate whose validity ends before the leaf's begins: no time
    // exists at which the chain is valid, so waiving cannot help.
    let mut leaf = old.issue(LeafSpec::server(&["localhost"]));
    leaf.chain_pem = format!("{}{}", leaf.cert_pem, old.pem());
    let err = client_error(&root, &[Ignore::Expired], &leaf, "localhost").await;
    assert_eq!(err.status(), S::CertificateExpired);
    assert!(err.to_string().contains("no time at which"), "{err}");
}

#[tokio::test]
async fn ip_literals_are_checked_against_ip_addresses() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["127.0.0.1", "::1"]);
    client_ok(&ca, &[], &leaf, "127.0.0.1").await;
    client_ok(&ca, &[], &leaf, "[::1]").await;
    let err = client_error(&ca, &[], &leaf, "127.0.0.9").await;
    assert_eq!(err.status(), S::CertificateCommonNameIsIncorrect);
}

#[tokio::test]
async fn a_resumed_session_still_lists_what_was_waived() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let ca = Ca::new("CA");
    let leaf = LeafSpec::server(&["localhost"]).self_signed();
    let server = server_config(&leaf);
    for level in LEVELS {
        let client = client_trusting(&ca)
            .protection_level(level)
            .ignorable_server_certificate_errors(&[Ignore::UntrustedRoot])
            .build()
            .unwrap();
        let (first, first_server) = handshake(&client, &server, "localhost").await;
        let (mut first, mut first_server) = (first.unwrap(), first_server.unwrap());
        assert!(!first.info().is_resumed());
        // Reading lets the client take in the session tickets (TLS 1.3).
        bounded(async {
            first_server.write_all(b"x").await.unwrap();
            first_server.flush().await.unwrap();
            first.read_exact(&mut [0; 1]).await.unwrap();
        })
        .await;

        let (second, _) = handshake(&client, &server, "localhost").await;
        let second = second.unwrap();
        assert!(second.info().is_resumed(), "{level}");
        assert_eq!(
            second.info().peer_certificates(),
            std::slice::from_ref(&leaf.der)
        );
        let waived: Vec<_> = second.info().waived_certificate_errors().collect();
        assert_eq!(waived.len(), 1, "{level}: {waived:?}");
        assert_eq!(waived[0].status(), S::CertificateUntrustedRoot);
    }
}
