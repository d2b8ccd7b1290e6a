//! Client certificates whose keys stay on a PKCS#11 token (SoftHSM2): RSA,
//! ECDSA P-256 and P-384 keys sign handshakes at TLS 1.2 and 1.3; selection
//! by label, id and URI; and every bad input (wrong PIN, missing module,
//! token or object, a key without its certificate, a certificate that is
//! not the key's) is a clear error, never a handshake without the
//! certificate.
#![cfg(feature = "pkcs11")]

use crate::support;

use sock_core::{Error, SocketErrorStatus};
use sock_tls::{Certificate, CertificateQuery, CertificateStores, Pkcs11Uri, TlsClientConfig};
use support::softhsm::{hsm, PIN};
use support::*;

#[tokio::test]
async fn keys_on_the_token_sign_handshakes_at_both_versions() {
    let hsm = hsm();
    for (token, object, leaf) in [
        ("sock-rsa", "alice", &hsm.alice),
        ("sock-p256", "bob", &hsm.bob),
        ("sock-p384", "carol", &hsm.carol),
    ] {
        let certificate = Certificate::from_pkcs11(&hsm.uri(token, object)).unwrap();
        assert!(certificate.is_hardware_bound());
        assert!(certificate.has_private_key());
        assert_eq!(certificate.friendly_name(), Some(object));
        assert_eq!(certificate.der(), &leaf.der);
        for level in LEVELS {
            assert_eq!(
                presented(&hsm.ca, &certificate, level).await,
                object,
                "{token} {level}"
            );
        }
    }
}

#[tokio::test]
async fn keys_are_found_by_id_and_by_uri_with_the_pin_in_it() {
    let hsm = hsm();
    let by_id = Pkcs11Uri::new()
        .module_path(&hsm.module)
        .token_label("sock-p256")
        .object_id([0x02])
        .pin(PIN);
    let certificate = Certificate::from_pkcs11(&by_id).unwrap();
    assert_eq!(certificate.der(), &hsm.bob.der);

    let text = format!(
        "pkcs11:token=sock-rsa;object=alice;type=private?module-path={}&pin-value={PIN}",
        hsm.module.display()
    );
    let certificate = Certificate::from_pkcs11(&Pkcs11Uri::parse(&text).unwrap()).unwrap();
    assert_eq!(certificate.der(), &hsm.alice.der);
    assert_eq!(
        presented(&hsm.ca, &certificate, sock_core::ProtectionLevel::Tls13).await,
        "alice"
    );
}

fn refused(uri: &Pkcs11Uri) -> Error {
    let err = Certificate::from_pkcs11(uri).unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert_eq!(err.status(), SocketErrorStatus::Unknown, "{err}");
    err
}

#[tokio::test]
async fn a_wrong_pin_is_refused_and_says_so() {
    let hsm = hsm();
    let err = refused(&hsm.uri("sock-pin", "erin").pin("0000"));
    let text = err.to_string();
    assert!(
        text.starts_with("invalid pkcs#11 token \"sock-pin\": wrong PIN"),
        "{text}"
    );
    // The right PIN still works afterwards (SoftHSM2 counts, but never locks).
    Certificate::from_pkcs11(&hsm.uri("sock-pin", "erin")).unwrap();
}

#[tokio::test]
async fn a_missing_module_is_named() {
    let hsm = hsm();
    let err = refused(
        &hsm.uri("sock-rsa", "alice")
            .module_path("/nonexistent/libnothing.so"),
    );
    assert!(
        err.to_string()
            .contains("\"/nonexistent/libnothing.so\": no such file"),
        "{err}"
    );

    let no_module = Pkcs11Uri::new()
        .token_label("sock-rsa")
        .object_label("alice");
    let err = refused(&no_module);
    assert!(err.to_string().contains("names no module"), "{err}");

    // A file that is not a PKCS#11 library.
    let err = refused(&hsm.uri("sock-rsa", "alice").module_path("/etc/hostname"));
    assert!(err.to_string().contains("could not load it"), "{err}");
}

#[tokio::test]
async fn a_token_or_object_that_is_not_there_is_named() {
    let hsm = hsm();
    let err = refused(&hsm.uri("no-such-token", "alice"));
    let text = err.to_string();
    assert!(text.contains("no token matches"), "{text}");
    assert!(
        text.contains("\"sock-rsa\""),
        "the tokens present are listed: {text}"
    );

    let err = refused(&hsm.uri("sock-empty", "alice"));
    assert!(
        err.to_string()
            .contains("no private key matches object=\"alice\""),
        "{err}"
    );

    // Without the PIN, private keys are hidden: the error says to give it.
    // (On a token no test logs into: a login lasts for the whole process.)
    let no_pin = Pkcs11Uri::new()
        .module_path(&hsm.module)
        .token_label("sock-hidden")
        .object_label("henry");
    let err = refused(&no_pin);
    assert!(err.to_string().contains("give the PIN"), "{err}");
}

#[tokio::test]
async fn a_key_without_its_certificate_is_refused() {
    let err = refused(&hsm().uri("sock-nocert", "frank"));
    assert!(
        err.to_string().contains("no certificate with the same id"),
        "{err}"
    );
}

#[tokio::test]
async fn a_certificate_that_is_not_the_keys_is_refused_before_connecting() {
    let certificate = Certificate::from_pkcs11(&hsm().uri("sock-mismatch", "grace")).unwrap();
    let err = TlsClientConfig::builder()
        .client_certificate_from(certificate)
        .build()
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[tokio::test]
async fn several_keys_on_one_token_must_be_told_apart() {
    let hsm = hsm();
    let token = |object: Option<&str>| {
        let uri = Pkcs11Uri::new()
            .module_path(&hsm.module)
            .token_label("sock-two")
            .pin(PIN);
        match object {
            Some(object) => uri.object_label(object),
            None => uri,
        }
    };
    let err = refused(&token(None));
    assert!(err.to_string().contains("2 private keys match"), "{err}");
    assert!(
        err.to_string().contains("name one with object= or id="),
        "{err}"
    );
    let two = Certificate::from_pkcs11(&token(Some("two"))).unwrap();
    assert_eq!(two.friendly_name(), Some("two"));
    // A token with one key needs no object.
    let any = Pkcs11Uri::new()
        .module_path(&hsm.module)
        .token_label("sock-p384")
        .pin(PIN);
    assert_eq!(
        Certificate::from_pkcs11(&any).unwrap().der(),
        &hsm.carol.der
    );
}

#[tokio::test]
async fn tokens_are_listed_in_the_my_store() {
    let hsm = hsm();
    let dir = tempfile::tempdir().unwrap();
    let token = |label: &str| {
        Pkcs11Uri::new()
            .module_path(&hsm.module)
            .token_label(label)
            .pin(PIN)
    };
    let stores = CertificateStores::with_root(dir.path())
        .pkcs11_token(token("sock-p256"))
        .pkcs11_token(token("sock-two"));
    let query = CertificateQuery::new()
        .store_name("MY")
        .hardware_only(true)
        .has_private_key(true);
    let found = bounded(stores.find_all(&query)).await.unwrap();
    let labels: Vec<_> = found
        .certificates()
        .iter()
        .map(|c| c.friendly_name().unwrap().to_owned())
        .collect();
    assert_eq!(labels, ["bob", "one", "two"]);
    assert!(found
        .certificates()
        .iter()
        .all(|c| c.store_name() == Some("MY") && c.is_hardware_bound()));
    let bob = found.first().unwrap().clone();
    assert_eq!(
        presented(&hsm.ca, &bob, sock_core::ProtectionLevel::Tls12).await,
        "bob"
    );
    // Another store name leaves the tokens out; a wrong PIN is an error,
    // not an empty list.
    let roots = stores
        .find_all_blocking(&CertificateQuery::new().store_name("Root"))
        .unwrap();
    assert!(roots.is_empty());
    let wrong =
        CertificateStores::with_root(dir.path()).pkcs11_token(token("sock-pin").pin("0000"));
    let err = wrong
        .find_all_blocking(&CertificateQuery::new())
        .unwrap_err();
    assert!(err.to_string().contains("wrong PIN"), "{err}");
    // A key without a certificate is nothing a store lists.
    let nokey = CertificateStores::with_root(dir.path())
        .pkcs11_token(token("sock-nocert"))
        .find_all_blocking(&CertificateQuery::new())
        .unwrap();
    assert!(nokey.is_empty());
}
