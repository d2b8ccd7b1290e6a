//! Certificate stores as UWP's `CertificateStores.FindAllAsync`: a directory
//! per store with PEM and PKCS#12 files, queried by store name, issuer,
//! subject, friendly name, thumbprint and private key; expired certificates
//! left out unless asked for (and refused as client certificates with their
//! status); unreadable files reported, never silently dropped.

use crate::support;

use sock_core::{Error, SocketErrorStatus};
use sock_tls::{Certificate, CertificateQuery, CertificateStores, TlsClientConfig};
use support::openssl::{export_pkcs12, write};
use support::*;

struct Stores {
    _dir: tempfile::TempDir,
    stores: CertificateStores,
    ca: Ca,
    alice: Leaf,
    bob: Leaf,
    old: Leaf,
}

/// MY: alice (PEM with key), bob (PKCS#12, password "bob"), old (expired,
/// key in a .key file); Root: the CA (no key); and files that cannot be read.
fn stores() -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Store CA");
    let alice = ca.client("alice");
    let bob = ca.client("bob");
    let old = ca.issue(LeafSpec::client("old").expired());
    let stores = CertificateStores::with_root(dir.path()).pkcs12_password("bob");

    let my = stores.store_by_name("MY").unwrap();
    let alice_cert =
        Certificate::from_pem(alice.cert_pem.as_bytes(), Some(alice.key_pem.as_bytes()))
            .unwrap()
            .with_friendly_name("Alice at work");
    my.add(&alice_cert).unwrap();
    export_pkcs12(
        my.path(),
        "bob",
        &bob.cert_pem,
        Some(&bob.key_pem),
        "",
        "bob",
        &[],
    );
    write(my.path(), "old.crt", &old.cert_pem);
    write(my.path(), "old.key", &old.key_pem);
    write(my.path(), "README.txt", "not a certificate");
    std::fs::remove_file(my.path().join("bob.cert.pem")).unwrap();
    std::fs::remove_file(my.path().join("bob.key.pem")).unwrap();

    let root = stores.store_by_name("Root").unwrap();
    root.add(
        &Certificate::from_pem(ca.pem().as_bytes(), None)
            .unwrap()
            .with_friendly_name("ca"),
    )
    .unwrap();
    Stores {
        _dir: dir,
        stores,
        ca,
        alice,
        bob,
        old,
    }
}

fn names(found: &sock_tls::FoundCertificates) -> Vec<String> {
    found
        .certificates()
        .iter()
        .map(|c| c.info().common_name().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn queries_find_what_uwp_finds() {
    let s = stores();
    let find = |query: CertificateQuery| {
        let stores = s.stores.clone();
        async move { bounded(stores.find_all(&query)).await.unwrap() }
    };
    let all = find(CertificateQuery::new()).await;
    assert_eq!(
        names(&all),
        ["alice", "bob", "Store CA"],
        "expired ones are left out"
    );
    assert!(all.skipped().is_empty(), "{:?}", all.skipped());

    let mine = find(
        CertificateQuery::new()
            .store_name("my")
            .has_private_key(true),
    )
    .await;
    assert_eq!(names(&mine), ["alice", "bob"]);
    assert!(mine
        .certificates()
        .iter()
        .all(|c| c.store_name() == Some("MY")));

    let by_friendly = find(CertificateQuery::new().friendly_name("alice at work")).await;
    assert_eq!(names(&by_friendly), ["alice"]);
    let by_file_name = find(CertificateQuery::new().friendly_name("bob")).await;
    assert_eq!(names(&by_file_name), ["bob"]);

    let bob = &by_file_name.certificates()[0];
    assert_eq!(bob.der(), &s.bob.der);
    let thumbprint = bob.thumbprint_hex();
    let by_thumbprint = find(CertificateQuery::new().thumbprint_hex(&thumbprint)).await;
    assert_eq!(names(&by_thumbprint), ["bob"]);
    let by_sha256 = find(CertificateQuery::new().thumbprint(bob.sha256_hash())).await;
    assert_eq!(names(&by_sha256), ["bob"]);

    let by_issuer = find(
        CertificateQuery::new()
            .issuer_name("store ca")
            .store_name("MY"),
    )
    .await;
    assert_eq!(names(&by_issuer), ["alice", "bob"]);
    let by_subject = find(CertificateQuery::new().subject("CN=ali")).await;
    assert_eq!(names(&by_subject), ["alice"]);
    let roots = find(CertificateQuery::new().store_name("Root")).await;
    assert_eq!(names(&roots), ["Store CA"]);
    assert!(!roots.certificates()[0].has_private_key());
    let hardware = find(CertificateQuery::new().hardware_only(true)).await;
    assert!(hardware.is_empty());

    let expired = find(
        CertificateQuery::new()
            .include_expired_certificates(true)
            .subject("old"),
    )
    .await;
    assert_eq!(names(&expired), ["old"]);
    assert!(
        expired.certificates()[0].has_private_key(),
        "the key comes from old.key"
    );
    assert_eq!(expired.certificates()[0].der(), &s.old.der);
}

#[tokio::test]
async fn the_first_certificate_with_a_key_is_a_client_certificate() {
    let s = stores();
    let query = CertificateQuery::new()
        .store_name("MY")
        .has_private_key(true);
    let found = bounded(s.stores.find_all(&query)).await.unwrap();
    let certificate = found.first().unwrap().clone();
    assert_eq!(certificate.der(), &s.alice.der);
    for level in LEVELS {
        assert_eq!(
            presented(&s.ca, &certificate, level).await,
            "alice",
            "{level}"
        );
    }
}

#[tokio::test]
async fn an_expired_store_certificate_is_refused_with_its_status() {
    let s = stores();
    let query = CertificateQuery::new()
        .include_expired_certificates(true)
        .friendly_name("old");
    let found = s.stores.find_all_blocking(&query).unwrap();
    let err = TlsClientConfig::builder()
        .client_certificate_from(found.first().unwrap().clone())
        .build()
        .unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::CertificateExpired, "{err}");
    assert!(err.to_string().contains("expired on 2001-01-01"), "{err}");
}

#[tokio::test]
async fn unreadable_files_are_reported_not_dropped() {
    let s = stores();
    let my = s.stores.store_by_name("MY").unwrap();
    write(
        my.path(),
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    );
    let secret = export_pkcs12(
        my.path(),
        "secret",
        &s.alice.cert_pem,
        Some(&s.alice.key_pem),
        "",
        "unknown password",
        &[],
    );
    std::fs::remove_file(my.path().join("secret.cert.pem")).unwrap();
    std::fs::remove_file(my.path().join("secret.key.pem")).unwrap();
    write(my.path(), "huge.pem", vec![b'x'; 2 << 20]);

    let found = s
        .stores
        .find_all_blocking(&CertificateQuery::new())
        .unwrap();
    assert_eq!(names(&found), ["alice", "bob", "Store CA"]);
    let skipped: Vec<String> = found.skipped().iter().map(Error::to_string).collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped[0].contains("broken.pem") && skipped[0].contains("bad PEM"),
        "{skipped:?}"
    );
    assert!(
        skipped[1].contains("huge.pem") && skipped[1].contains("MAX_STORE_FILE_LENGTH"),
        "{skipped:?}"
    );
    assert!(
        skipped[2].contains(secret.file_name().unwrap().to_str().unwrap())
            && skipped[2].contains("wrong password"),
        "{skipped:?}"
    );

    // With its password given, the file opens.
    let found = s
        .stores
        .clone()
        .pkcs12_password("unknown password")
        .find_all_blocking(&CertificateQuery::new().friendly_name("secret"))
        .unwrap();
    assert_eq!(names(&found), ["alice"]);
}

#[tokio::test]
async fn bad_arguments_are_named() {
    let s = stores();
    for name in ["", "..", "a/b"] {
        let err = s.stores.store_by_name(name).unwrap_err();
        assert!(err.to_string().starts_with("invalid store_name"), "{err}");
    }
    let err = s
        .stores
        .find_all_blocking(&CertificateQuery::new().thumbprint([1, 2, 3]))
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid thumbprint"), "{err}");
    // A second add of the same certificate does not overwrite the first.
    let my = s.stores.store_by_name("MY").unwrap();
    let again = Certificate::from_pem(
        s.alice.cert_pem.as_bytes(),
        Some(s.alice.key_pem.as_bytes()),
    )
    .unwrap()
    .with_friendly_name("Alice at work");
    let err = my.add(&again).unwrap_err();
    assert!(err.to_string().contains("could not write"), "{err}");
    // A root that does not exist holds no stores.
    let none = CertificateStores::with_root(s._dir.path().join("nothing"))
        .find_all_blocking(&CertificateQuery::new())
        .unwrap();
    assert!(none.is_empty() && none.skipped().is_empty());
}

#[cfg(unix)]
#[tokio::test]
async fn added_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = stores();
    let my = s.stores.store_by_name("MY").unwrap();
    let file = my.path().join("Alice at work.pem");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let mode = std::fs::metadata(my.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}
