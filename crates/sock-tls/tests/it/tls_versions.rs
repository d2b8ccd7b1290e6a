//! Protection levels negotiate what they say; weak levels are refused; ALPN
//! and the cipher suite are reported.

use crate::support;

use sock_core::{Error, ProtectionLevel, TlsVersion};
use sock_tls::rustls::CipherSuite;
use sock_tls::TlsClientConfig;
use support::*;

#[tokio::test]
async fn each_level_negotiates_its_version() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    let cases = [
        (
            ProtectionLevel::Tls12,
            ProtectionLevel::Unspecified,
            TlsVersion::Tls12,
        ),
        (
            ProtectionLevel::Tls13,
            ProtectionLevel::Unspecified,
            TlsVersion::Tls13,
        ),
        (
            ProtectionLevel::Unspecified,
            ProtectionLevel::Tls12,
            TlsVersion::Tls12,
        ),
        (
            ProtectionLevel::Unspecified,
            ProtectionLevel::Tls13,
            TlsVersion::Tls13,
        ),
        (
            ProtectionLevel::Ssl,
            ProtectionLevel::Ssl,
            TlsVersion::Tls13,
        ),
    ];
    for (client_level, server_level, want) in cases {
        let client = client_trusting(&ca)
            .protection_level(client_level)
            .build()
            .unwrap();
        let server = server_builder(&leaf)
            .protection_level(server_level)
            .build()
            .unwrap();
        let (client, server) = handshake(&client, &server, "localhost").await;
        let (client, server) = (client.unwrap(), server.unwrap());
        for info in [client.info(), server.info()] {
            assert_eq!(
                info.protocol_version(),
                Some(want),
                "{client_level}/{server_level}"
            );
            assert!(info.is_handshake_complete());
            let suite = info.cipher_suite().expect("a cipher suite");
            let name = format!("{suite:?}");
            match want {
                TlsVersion::Tls13 => assert!(name.starts_with("TLS13_"), "{name}"),
                TlsVersion::Tls12 => assert!(name.starts_with("TLS_ECDHE_"), "{name}"),
            }
        }
    }
}

#[tokio::test]
async fn tls12_only_meets_tls13_only_and_both_sides_say_why() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    for (client_level, server_level) in [
        (ProtectionLevel::Tls12, ProtectionLevel::Tls13),
        (ProtectionLevel::Tls13, ProtectionLevel::Tls12),
    ] {
        let client = client_trusting(&ca)
            .protection_level(client_level)
            .build()
            .unwrap();
        let server = server_builder(&leaf)
            .protection_level(server_level)
            .build()
            .unwrap();
        let (client, server) = handshake(&client, &server, "localhost").await;
        for (side, err) in [
            ("client", client.unwrap_err()),
            ("server", server.unwrap_err()),
        ] {
            assert!(
                err.to_string().contains("no tls version in common"),
                "{client_level}/{server_level} {side}: {err}"
            );
            assert!(matches!(err.error(), Error::Tls { .. }), "{err:?}");
        }
    }
}

#[test]
fn weak_levels_are_unsupported_on_both_sides() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    for level in [
        ProtectionLevel::Tls10,
        ProtectionLevel::Tls11,
        ProtectionLevel::Ssl3AllowWeakEncryption,
        ProtectionLevel::SslAllowNullEncryption,
        ProtectionLevel::BluetoothEncryptionWithAuthentication,
        ProtectionLevel::PlainSocket,
    ] {
        let client = TlsClientConfig::builder().protection_level(level).build();
        let server = server_builder(&leaf).protection_level(level).build();
        for err in [client.unwrap_err(), server.unwrap_err()] {
            assert!(matches!(err, Error::Unsupported { .. }), "{level}: {err:?}");
            assert!(err.to_string().contains(&level.to_string()), "{err}");
            assert!(err.is_invalid_input());
        }
    }
}

#[tokio::test]
async fn alpn_is_negotiated_or_refused() {
    let ca = Ca::new("CA");
    let leaf = ca.server(&["localhost"]);
    let server = server_builder(&leaf)
        .alpn_protocols(["h2", "http/1.1"])
        .build()
        .unwrap();

    let client = client_trusting(&ca)
        .alpn_protocols(["http/1.1"])
        .build()
        .unwrap();
    let (client, server_side) = handshake(&client, &server, "localhost").await;
    assert_eq!(
        client.unwrap().info().alpn_protocol(),
        Some(&b"http/1.1"[..])
    );
    assert_eq!(
        server_side.unwrap().info().alpn_protocol(),
        Some(&b"http/1.1"[..])
    );

    let client = client_trusting(&ca)
        .alpn_protocols(["imap"])
        .build()
        .unwrap();
    let (client, server_side) = handshake(&client, &server, "localhost").await;
    assert!(server_side.unwrap_err().to_string().contains("alpn"));
    assert!(client.unwrap_err().to_string().contains("alpn"));

    // A client that offers nothing still connects, with no protocol.
    let client = client_trusting(&ca).build().unwrap();
    let (client, _) = handshake(&client, &server, "localhost").await;
    assert_eq!(client.unwrap().info().alpn_protocol(), None);
}

#[tokio::test]
async fn a_fixed_cipher_suite_is_what_is_negotiated() {
    use sock_tls::rustls::crypto::{ring, CryptoProvider};
    use std::sync::Arc;

    let ca = Ca::new("CA");
    let provider = Arc::new(CryptoProvider {
        cipher_suites: vec![ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256],
        ..ring::default_provider()
    });
    let client = client_trusting(&ca)
        .crypto_provider(provider)
        .build()
        .unwrap();
    let server = server_config(&ca.server(&["localhost"]));
    let (client, _) = handshake(&client, &server, "localhost").await;
    assert_eq!(
        client.unwrap().info().cipher_suite(),
        Some(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256)
    );
}
