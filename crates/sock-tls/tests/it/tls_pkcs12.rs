//! Client certificates from PKCS#12 files as OpenSSL makes them: today's
//! default (AES-256 with PBKDF2), the legacy 3DES and RC2 ones, chains with
//! an intermediate, an empty password; and clear errors for a wrong
//! password, a file without a key, and a file that is not PKCS#12.

use crate::support;

use sock_core::SocketErrorStatus;
use sock_tls::{Certificate, TlsClientConfig};
use support::openssl::export_pkcs12;
use support::*;

#[tokio::test]
async fn openssl_files_old_and_new_present_their_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let root = Ca::new("Root CA");
    let intermediate = root.intermediate("Issuing CA");
    let alice = intermediate.client("alice");
    let extra = format!("{}{}", intermediate.pem(), root.pem());
    for (name, flags) in [
        ("default", &[][..]),
        ("legacy-rc2", &["-legacy"][..]),
        (
            "3des",
            &[
                "-keypbe",
                "PBE-SHA1-3DES",
                "-certpbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ][..],
        ),
    ] {
        let file = export_pkcs12(
            dir.path(),
            name,
            &alice.cert_pem,
            Some(&alice.key_pem),
            &extra,
            "s3cret",
            flags,
        );
        let certificate = Certificate::from_pkcs12_file(&file, "s3cret")
            .unwrap_or_else(|e| panic!("{name}: {}", sock_core::Report(&e)));
        assert_eq!(certificate.der(), &alice.der, "{name}");
        // The intermediate comes with it; the root is the server's to have.
        assert_eq!(certificate.chain().len(), 2, "{name}");
        assert!(certificate.has_private_key());
        for level in LEVELS {
            assert_eq!(
                presented(&root, &certificate, level).await,
                "alice",
                "{name} {level}"
            );
        }
    }
}

#[tokio::test]
async fn an_empty_password_opens_a_file_made_with_none() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("CA");
    let bob = ca.client("bob");
    let file = export_pkcs12(
        dir.path(),
        "bob",
        &bob.cert_pem,
        Some(&bob.key_pem),
        "",
        "",
        &[],
    );
    let certificate = Certificate::from_pkcs12(&std::fs::read(file).unwrap(), "").unwrap();
    assert_eq!(certificate.der(), &bob.der);
}

#[tokio::test]
async fn bad_files_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("CA");
    let carol = ca.client("carol");
    let with_key = export_pkcs12(
        dir.path(),
        "carol",
        &carol.cert_pem,
        Some(&carol.key_pem),
        "",
        "right",
        &[],
    );
    let legacy = export_pkcs12(
        dir.path(),
        "carol-legacy",
        &carol.cert_pem,
        Some(&carol.key_pem),
        "",
        "right",
        &["-legacy"],
    );
    let without_key = export_pkcs12(dir.path(), "nokey", &carol.cert_pem, None, "", "right", &[]);
    let cases = [
        (&with_key, "wrong", "wrong password"),
        (&legacy, "wrong", "wrong password"),
        (&without_key, "right", "no private key"),
    ];
    for (file, password, expected) in cases {
        let err = Certificate::from_pkcs12_file(file, password).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("invalid pkcs#12 file \""), "{text}");
        assert!(text.contains(expected), "{file:?}: {text}");
        assert!(err.is_invalid_input());
        assert_eq!(err.status(), SocketErrorStatus::Unknown);
    }
    let err = Certificate::from_pkcs12(carol.cert_pem.as_bytes(), "right").unwrap_err();
    assert!(err.to_string().contains("not a PKCS#12 file"), "{err}");
    let err = Certificate::from_pkcs12(&[0x30, 0x82, 0xff], "right").unwrap_err();
    assert!(err.to_string().contains("not a PKCS#12 file"), "{err}");
    let err = Certificate::from_pkcs12_file(dir.path().join("missing.p12"), "x").unwrap_err();
    assert!(err.to_string().contains("could not read the file"), "{err}");

    // A certificate without its key never turns into a connection without
    // a certificate: the configuration refuses it.
    let err = TlsClientConfig::builder()
        .client_certificate_from(Certificate::from_pem(carol.cert_pem.as_bytes(), None).unwrap())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("has no private key"), "{err}");
}
