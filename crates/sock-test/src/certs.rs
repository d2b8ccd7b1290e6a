//! Test certificates made with rcgen: CAs (and intermediates), leaves that
//! are expired, not yet valid, for the wrong name or usage, self-signed, or
//! revoked (with a revocation list), in PEM and DER.
//!
//! Each call makes fresh keys; nothing touches the disk.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevokedCertParams, SanType, SerialNumber,
};
use sock_tls::CertificateDer;

/// A certificate authority.
pub struct Ca {
    /// The CA's certificate.
    pub cert: rcgen::Certificate,
    /// Its key.
    pub key: KeyPair,
}

/// A certificate with its key, in PEM and DER.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The certificate, DER.
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

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
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

    /// The CA's certificate, PEM.
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
#[derive(Debug, Clone)]
pub struct LeafSpec {
    /// The subject's common name.
    pub common_name: String,
    /// Subject alternative names: DNS names or IP literals.
    pub names: Vec<String>,
    /// Extended key usages.
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    /// Valid from (year, month, day).
    pub not_before: (i32, u8, u8),
    /// Valid until (year, month, day).
    pub not_after: (i32, u8, u8),
    /// The serial number, or rcgen's random one.
    pub serial: Option<u64>,
    /// Basic constraints `CA:TRUE`, as `openssl req -x509` sets by default.
    pub is_ca: bool,
}

impl LeafSpec {
    /// A server certificate for `names`, valid 2020–4000.
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

    /// A client certificate for `common_name`.
    pub fn client(common_name: &str) -> Self {
        Self {
            common_name: common_name.to_owned(),
            names: vec![format!("{common_name}.clients.test")],
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            ..Self::server(&[])
        }
    }

    /// Expired in 2001.
    pub fn expired(mut self) -> Self {
        self.not_before = (2000, 1, 1);
        self.not_after = (2001, 1, 1);
        self
    }

    /// Valid only from the year 3000.
    pub fn not_yet_valid(mut self) -> Self {
        self.not_before = (3000, 1, 1);
        self.not_after = (3001, 1, 1);
        self
    }

    /// With these extended key usages instead.
    pub fn eku(mut self, eku: Vec<ExtendedKeyUsagePurpose>) -> Self {
        self.eku = eku;
        self
    }

    /// With this serial number.
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

impl Leaf {
    /// The leaf with `ca`'s certificate after it in `chain_pem` and
    /// `cert_pem`, as a server presents its whole chain.
    pub fn with_root(self, ca: &Ca) -> Self {
        Self {
            cert_pem: format!("{}{}", self.cert_pem, ca.pem()),
            chain_pem: format!("{}{}", self.chain_pem, ca.pem()),
            ..self
        }
    }
}
