//! Test certificates made with rcgen (a CA, server and client leaves, expired
//! and self-signed ones) and TLS listeners and controls built from them.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use sock_core::ProtectionLevel;
use sock_tcp::{StreamSocketControl, StreamSocketListener};
use sock_tls::{ClientAuth, TlsServerConfig};

/// A certificate authority.
pub(crate) struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate and its key, in PEM.
pub(crate) struct Leaf {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

impl Leaf {
    /// The leaf with `ca`'s certificate after it, as a server presents its
    /// whole chain.
    pub(crate) fn with_root(self, ca: &Ca) -> Self {
        Self {
            cert_pem: format!("{}{}", self.cert_pem, ca.pem()),
            key_pem: self.key_pem,
        }
    }
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Sock Tests");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// What a leaf certificate says.
fn params(common_name: &str, names: &[&str], client: bool, expired: bool) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(common_name);
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*n).to_owned().try_into().unwrap()),
        })
        .collect();
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    (params.not_before, params.not_after) = if expired {
        (date_time_ymd(2000, 1, 1), date_time_ymd(2001, 1, 1))
    } else {
        (date_time_ymd(2020, 1, 1), date_time_ymd(4000, 1, 1))
    };
    params
}

impl Ca {
    /// A self-signed root CA named `common_name`.
    pub(crate) fn new(common_name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    pub(crate) fn pem(&self) -> String {
        self.cert.pem()
    }

    fn issue(&self, params: CertificateParams) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A server certificate for `names` (DNS names or IP literals).
    pub(crate) fn server(&self, names: &[&str]) -> Leaf {
        self.issue(params(names[0], names, false, false))
    }

    /// A server certificate for `names` that expired in 2001.
    pub(crate) fn expired_server(&self, names: &[&str]) -> Leaf {
        self.issue(params(names[0], names, false, true))
    }

    /// A client certificate for `common_name`.
    pub(crate) fn client(&self, common_name: &str) -> Leaf {
        let name = format!("{common_name}.clients.test");
        self.issue(params(common_name, &[&name], true, false))
    }

    /// Client authentication required against this CA.
    pub(crate) fn required(&self) -> ClientAuth {
        ClientAuth::required_pem(self.pem().as_bytes()).unwrap()
    }
}

/// A server configuration presenting `leaf`, with `auth` and `level`.
pub(crate) fn server_config(
    leaf: &Leaf,
    auth: ClientAuth,
    level: ProtectionLevel,
) -> TlsServerConfig {
    TlsServerConfig::builder()
        .certificate_chain_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes())
        .client_authentication(auth)
        .protection_level(level)
        .build()
        .unwrap()
}

/// A TLS listener on 127.0.0.1 with `config`.
pub(crate) async fn tls_listener(config: TlsServerConfig) -> StreamSocketListener {
    StreamSocketListener::builder()
        .tls_server_config(config)
        .bind_endpoint(Some(&super::v4()), 0)
        .await
        .unwrap()
}

/// A control connecting at `level` and trusting only `ca`.
pub(crate) fn client_trusting(ca: &Ca, level: ProtectionLevel) -> StreamSocketControl {
    sock_tcp::StreamSocket::builder()
        .protection_level(level)
        .with_os_roots(false)
        .add_root_certificates_pem(ca.pem().as_bytes())
}

/// Keeps `listener`'s accept polled until it has counted `n` failed
/// handshakes (finished handshakes are collected while accept runs), failing
/// the test if a connection is accepted meanwhile or the count never comes.
pub(crate) async fn await_failed_handshakes(listener: &StreamSocketListener, n: u64) {
    super::within(async {
        while listener.failed_tls_handshakes() < n {
            let polled =
                tokio::time::timeout(std::time::Duration::from_millis(50), listener.accept()).await;
            if let Ok(accepted) = polled {
                panic!("a connection was accepted: {:?}", accepted.map(|_| ()));
            }
        }
    })
    .await;
}

/// Runs `f` (a client connect expected to fail its handshake) while keeping
/// `listener`'s accept polled, so the TCP connection is taken and the server
/// side of the handshake runs; fails the test if a connection is accepted or
/// `f` takes longer than the test's wait.
pub(crate) async fn while_accepting<F: std::future::Future>(
    listener: &StreamSocketListener,
    f: F,
) -> F::Output {
    super::within(async {
        tokio::pin!(f);
        tokio::select! {
            out = &mut f => out,
            accepted = listener.accept() => {
                panic!("a connection was accepted: {:?}", accepted.map(|_| ()))
            }
        }
    })
    .await
}
