//! Test certificates made with rcgen (CAs, leaves that are expired, for the
//! wrong name or usage, self-signed, from another CA, revoked) and helpers that
//! run a client and a server handshake against each other.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevokedCertParams, SanType, SerialNumber,
};
use sock_core::{HostName, ProtectionLevel};
use sock_tls::{
    CertificateDer, ClientAuth, HandshakeError, IgnorableCertificateError, TlsClientConfig,
    TlsServerConfig, TlsStream,
};
use tokio::io::DuplexStream;

pub mod openssl;
#[cfg(feature = "pkcs11")]
pub mod softhsm;

/// Every wait in these tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Awaits `f`, failing the test if it takes longer than [`LIMIT`].
pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test step took longer than its limit")
}

/// A certificate authority.
pub struct Ca {
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
}

/// A certificate with its key, in PEM and DER.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
    /// The chain to present: this certificate, then any intermediates.
    pub chain_pem: String,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Sock Tests");
    dn.push(DnType::CommonName, common_name);
    dn
}

impl Ca {
    /// A self-signed root CA named `common_name`.
    pub fn new(common_name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    /// An intermediate CA issued by this one.
    pub fn intermediate(&self, common_name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Self { cert, key }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// Issues a leaf from `spec`.
    pub fn issue(&self, spec: LeafSpec) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let cert = spec
            .params()
            .signed_by(&key, &self.cert, &self.key)
            .unwrap();
        Leaf {
            cert_pem: cert.pem(),
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }

    /// A server certificate for `names`.
    pub fn server(&self, names: &[&str]) -> Leaf {
        self.issue(LeafSpec::server(names))
    }

    /// A client certificate for `common_name`.
    pub fn client(&self, common_name: &str) -> Leaf {
        self.issue(LeafSpec::client(common_name))
    }

    /// A revocation list revoking the given serial numbers.
    pub fn crl_pem(&self, revoked: &[u64]) -> String {
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(2020, 1, 1),
            next_update: date_time_ymd(4000, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|&serial| RevokedCertParams {
                    serial_number: SerialNumber::from(serial),
                    revocation_time: date_time_ymd(2021, 1, 1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params
            .signed_by(&self.cert, &self.key)
            .unwrap()
            .pem()
            .unwrap()
    }
}

/// What a leaf certificate says.
#[derive(Clone)]
pub struct LeafSpec {
    pub common_name: String,
    pub names: Vec<String>,
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    pub not_before: (i32, u8, u8),
    pub not_after: (i32, u8, u8),
    pub serial: Option<u64>,
    /// Basic constraints `CA:TRUE`, as `openssl req -x509` sets by default.
    pub is_ca: bool,
}

impl LeafSpec {
    pub fn server(names: &[&str]) -> Self {
        Self {
            common_name: names.first().copied().unwrap_or("server").to_owned(),
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
            not_before: (2020, 1, 1),
            not_after: (4000, 1, 1),
            serial: None,
            is_ca: false,
        }
    }

    pub fn client(common_name: &str) -> Self {
        Self {
            common_name: common_name.to_owned(),
            names: vec![format!("{common_name}.clients.test")],
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            ..Self::server(&[])
        }
    }

    pub fn expired(mut self) -> Self {
        self.not_before = (2000, 1, 1);
        self.not_after = (2001, 1, 1);
        self
    }

    pub fn not_yet_valid(mut self) -> Self {
        self.not_before = (3000, 1, 1);
        self.not_after = (3001, 1, 1);
        self
    }

    pub fn eku(mut self, eku: Vec<ExtendedKeyUsagePurpose>) -> Self {
        self.eku = eku;
        self
    }

    pub fn serial(mut self, serial: u64) -> Self {
        self.serial = Some(serial);
        self
    }

    /// Says it is a CA (`CA:TRUE`), as `openssl req -x509` does by default.
    pub fn ca(mut self) -> Self {
        self.is_ca = true;
        self
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(&self.common_name);
        params.subject_alt_names = self
            .names
            .iter()
            .map(|n| match n.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(n.clone().try_into().unwrap()),
            })
            .collect();
        params.extended_key_usages = self.eku.clone();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let (y, m, d) = self.not_before;
        params.not_before = date_time_ymd(y, m, d);
        let (y, m, d) = self.not_after;
        params.not_after = date_time_ymd(y, m, d);
        params.serial_number = self.serial.map(SerialNumber::from);
        if self.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        params
    }

    /// A self-signed certificate from this spec.
    pub fn self_signed(&self) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let cert = self.params().self_signed(&key).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

/// A server configuration presenting `leaf`.
pub fn server_config(leaf: &Leaf) -> TlsServerConfig {
    server_builder(leaf).build().unwrap()
}

pub fn server_builder(leaf: &Leaf) -> sock_tls::TlsServerConfigBuilder {
    TlsServerConfig::builder()
        .certificate_chain_pem(leaf.chain_pem.as_bytes(), leaf.key_pem.as_bytes())
}

/// A client configuration trusting only `ca`.
pub fn client_trusting(ca: &Ca) -> sock_tls::TlsClientConfigBuilder {
    TlsClientConfig::builder()
        .with_os_roots(false)
        .add_root_certificates_pem(ca.pem().as_bytes())
}

/// A client configuration trusting `ca` and tolerating `ignorable`.
pub fn client_tolerating(ca: &Ca, ignorable: &[IgnorableCertificateError]) -> TlsClientConfig {
    client_trusting(ca)
        .ignorable_server_certificate_errors(ignorable)
        .build()
        .unwrap()
}

/// `ProtectionLevel`s that negotiate each TLS version.
pub const LEVELS: [ProtectionLevel; 2] = [ProtectionLevel::Tls12, ProtectionLevel::Tls13];

pub type Outcome = Result<TlsStream<DuplexStream>, HandshakeError>;

/// Runs both sides of a handshake over an in-memory pipe.
pub async fn handshake(
    client: &TlsClientConfig,
    server: &TlsServerConfig,
    name: &str,
) -> (Outcome, Outcome) {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let host = HostName::new(name).unwrap();
    bounded(async { tokio::join!(client.connect(&host, client_io), server.accept(server_io)) })
        .await
}

/// A client configuration presenting `leaf` and trusting `ca`.
pub fn client_with_certificate(ca: &Ca, leaf: &Leaf, level: ProtectionLevel) -> TlsClientConfig {
    client_trusting(ca)
        .protection_level(level)
        .client_certificate_pem(leaf.chain_pem.as_bytes(), leaf.key_pem.as_bytes())
        .build()
        .unwrap()
}

/// Client authentication required against `ca`.
pub fn required(ca: &Ca) -> ClientAuth {
    ClientAuth::required_pem(ca.pem().as_bytes()).unwrap()
}

impl Ca {
    /// Issues a leaf from `spec` for a key made elsewhere (an RSA key from
    /// OpenSSL, say).
    pub fn issue_with_key(&self, spec: LeafSpec, key: &KeyPair) -> Leaf {
        let cert = spec.params().signed_by(key, &self.cert, &self.key).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

/// Presents `certificate` at `level` to a server requiring a client
/// certificate from `ca`; gives the common name the server saw.
pub async fn presented(
    ca: &Ca,
    certificate: &sock_tls::Certificate,
    level: ProtectionLevel,
) -> String {
    let server = server_builder(&ca.server(&["localhost"]))
        .protection_level(level)
        .client_authentication(required(ca))
        .build()
        .unwrap();
    let client = client_trusting(ca)
        .protection_level(level)
        .client_certificate_from(certificate.clone())
        .build()
        .unwrap();
    let (client, server) = handshake(&client, &server, "localhost").await;
    client.unwrap();
    let server = server.unwrap();
    let who = server.info().peer_identity().expect("a client identity");
    who.common_name().unwrap_or_default().to_owned()
}
