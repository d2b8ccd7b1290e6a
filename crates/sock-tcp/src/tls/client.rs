//! The client TLS settings of a `StreamSocketControl` (`ClientTls`), how
//! they become a rustls configuration, and protection levels.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sock_core::{Error, ProtectionLevel, Result, TlsVersion};
use sock_tls::{
    CertificateDer, IgnorableCertificateError, PrivateKeyDer, TlsClientConfig,
    TlsClientConfigBuilder, TlsConnectionInfo,
};

/// A client certificate as the control was given it (read when a
/// configuration is built, so errors come back from `connect`).
enum ClientCertificate {
    Pem { chain: Vec<u8>, key: Vec<u8> },
    PemFiles { chain: PathBuf, key: PathBuf },
    Der(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    Certificate(sock_tls::Certificate),
}

/// The TLS settings of a `StreamSocketControl`.
#[derive(Clone, Default)]
pub(crate) struct ClientTls {
    level: Option<ProtectionLevel>,
    min_level: Option<ProtectionLevel>,
    config: Option<TlsClientConfig>,
    roots_pem: Vec<Arc<[u8]>>,
    os_roots: Option<bool>,
    certificate: Option<Arc<ClientCertificate>>,
    ignorable: Option<Vec<IgnorableCertificateError>>,
    handshake_timeout: Option<Duration>,
    /// The configuration built from these settings, shared by the clones of
    /// one control so sessions resume between its connections.
    built: Arc<OnceLock<TlsClientConfig>>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("protection_level", &self.level)
            .field("min_protection_level", &self.min_level)
            .field("tls_client_config", &self.config)
            .field("root_certificates", &self.roots_pem.len())
            .field("client_certificate", &self.certificate.is_some())
            .field("ignorable", &self.ignorable)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    fn changed(&mut self) {
        self.built = Arc::default();
    }

    pub(crate) fn set_level(&mut self, level: ProtectionLevel) {
        self.level = Some(level);
        self.changed();
    }

    pub(crate) fn set_min_level(&mut self, level: ProtectionLevel) {
        self.min_level = Some(level);
        self.changed();
    }

    pub(crate) fn set_config(&mut self, config: TlsClientConfig) {
        self.config = Some(config);
        self.changed();
    }

    pub(crate) fn add_roots_pem(&mut self, pem: &[u8]) {
        self.roots_pem.push(pem.into());
        self.changed();
    }

    pub(crate) fn set_os_roots(&mut self, yes: bool) {
        self.os_roots = Some(yes);
        self.changed();
    }

    pub(crate) fn set_certificate_pem(&mut self, chain: &[u8], key: &[u8]) {
        self.certificate = Some(Arc::new(ClientCertificate::Pem {
            chain: chain.to_vec(),
            key: key.to_vec(),
        }));
        self.changed();
    }

    pub(crate) fn set_certificate_pem_files(&mut self, chain: PathBuf, key: PathBuf) {
        self.certificate = Some(Arc::new(ClientCertificate::PemFiles { chain, key }));
        self.changed();
    }

    pub(crate) fn set_certificate_der(
        &mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) {
        self.certificate = Some(Arc::new(ClientCertificate::Der(chain, key)));
        self.changed();
    }

    pub(crate) fn set_certificate(&mut self, certificate: sock_tls::Certificate) {
        self.certificate = Some(Arc::new(ClientCertificate::Certificate(certificate)));
        self.changed();
    }

    pub(crate) fn set_ignorable(&mut self, errors: &[IgnorableCertificateError]) {
        self.ignorable = Some(errors.to_vec());
        self.changed();
    }

    pub(crate) fn set_handshake_timeout(&mut self, timeout: Duration) {
        self.handshake_timeout = Some(timeout);
        self.changed();
    }

    /// The configuration `connect` uses: `None` for a plaintext connection.
    ///
    /// # Errors
    ///
    /// `Unsupported` for a weak level or one that contradicts the minimum or
    /// the whole configuration given; errors in the certificates given.
    pub(crate) fn for_connect(&self) -> Result<Option<TlsClientConfig>> {
        let level = match (self.level, &self.config) {
            (None, None) => {
                check_min(ProtectionLevel::PlainSocket, self.min_level)?;
                return Ok(None);
            }
            (None, Some(config)) => config.protection_level(),
            (Some(level), _) => level,
        };
        if level == ProtectionLevel::PlainSocket {
            check_min(level, self.min_level)?;
            if self.config.is_some() {
                return Err(Error::unsupported(
                    "protection level PlainSocket with a tls_client_config",
                    "a plaintext connection cannot use a tls configuration; \
                     drop one of the two (upgrade_to_tls uses the settings later)",
                ));
            }
            return Ok(None);
        }
        if let Some(built) = self.built.get() {
            return Ok(Some(built.clone()));
        }
        let config = self.build(level)?;
        let _ = self.built.set(config.clone());
        Ok(Some(config))
    }

    /// A configuration for `level` from these settings (for `upgrade_to_tls`).
    pub(crate) fn build(&self, level: ProtectionLevel) -> Result<TlsClientConfig> {
        let level = effective_level(level, self.min_level)?;
        if let Some(config) = &self.config {
            let extra = self.roots_pem.len()
                + usize::from(self.os_roots.is_some())
                + usize::from(self.certificate.is_some())
                + usize::from(self.ignorable.is_some())
                + usize::from(self.handshake_timeout.is_some());
            if extra > 0 {
                return Err(Error::unsupported(
                    "tls settings together with a tls_client_config",
                    "give either a whole tls_client_config or the separate settings \
                     (roots, client certificate, ignorable errors, handshake timeout)",
                ));
            }
            if config.protection_level() != level {
                return Err(Error::unsupported(
                    format!(
                        "protection level {level} with a tls_client_config built for {}",
                        config.protection_level()
                    ),
                    "the configuration fixes its own tls versions; build it for this level",
                ));
            }
            return Ok(config.clone());
        }
        let mut builder = TlsClientConfig::builder().protection_level(level);
        for pem in &self.roots_pem {
            builder = builder.add_root_certificates_pem(pem);
        }
        if let Some(yes) = self.os_roots {
            builder = builder.with_os_roots(yes);
        }
        if let Some(certificate) = &self.certificate {
            builder = with_certificate(builder, certificate);
        }
        if let Some(errors) = &self.ignorable {
            builder = builder.ignorable_server_certificate_errors(errors);
        }
        if let Some(timeout) = self.handshake_timeout {
            builder = builder.handshake_timeout(timeout);
        }
        builder.build()
    }
}

fn with_certificate(
    builder: TlsClientConfigBuilder,
    certificate: &ClientCertificate,
) -> TlsClientConfigBuilder {
    match certificate {
        ClientCertificate::Pem { chain, key } => builder.client_certificate_pem(chain, key),
        ClientCertificate::PemFiles { chain, key } => {
            builder.client_certificate_pem_files(chain, key)
        }
        ClientCertificate::Der(chain, key) => {
            builder.client_certificate_der(chain.clone(), key.clone_key())
        }
        ClientCertificate::Certificate(certificate) => {
            builder.client_certificate_from(certificate.clone())
        }
    }
}

/// Checks a minimum level is one that can be asked for at all.
fn check_min(level: ProtectionLevel, min: Option<ProtectionLevel>) -> Result<()> {
    effective_level(level, min).map(drop).or_else(|e| {
        if level == ProtectionLevel::PlainSocket
            && min.is_some_and(|m| m.tls_versions().is_ok_and(|v| !v.is_empty()))
        {
            Err(Error::unsupported(
                format!(
                    "protection level PlainSocket with min_protection_level {}",
                    min.unwrap_or_default()
                ),
                "the minimum asks for tls: set protection_level too",
            ))
        } else if level == ProtectionLevel::PlainSocket {
            Ok(())
        } else {
            Err(e)
        }
    })
}

/// The level to build for, given the minimum: a minimum of `Tls13` narrows the
/// best-available levels to TLS 1.3; a minimum of TLS 1.2 or below changes
/// nothing (no level here allows anything older).
fn effective_level(
    level: ProtectionLevel,
    min: Option<ProtectionLevel>,
) -> Result<ProtectionLevel> {
    let versions = level.tls_versions()?;
    let Some(min) = min else {
        return Ok(level);
    };
    let floor = match min {
        ProtectionLevel::Tls13 => Some(TlsVersion::Tls13),
        ProtectionLevel::SslAllowNullEncryption
        | ProtectionLevel::BluetoothEncryptionAllowNullAuthentication
        | ProtectionLevel::BluetoothEncryptionWithAuthentication => {
            return Err(Error::unsupported(
                format!("min_protection_level {min}"),
                "it is not a tls version floor",
            ))
        }
        _ => None,
    };
    match floor {
        Some(TlsVersion::Tls13) if !versions.contains(&TlsVersion::Tls13) => {
            Err(Error::unsupported(
                format!("protection level {level} with min_protection_level {min}"),
                "the level allows only versions below the minimum",
            ))
        }
        Some(TlsVersion::Tls13) => Ok(ProtectionLevel::Tls13),
        _ => Ok(level),
    }
}

/// The protection level a connection's TLS version amounts to.
pub(crate) fn level_of(info: &TlsConnectionInfo) -> ProtectionLevel {
    match info.protocol_version() {
        Some(TlsVersion::Tls13) => ProtectionLevel::Tls13,
        Some(TlsVersion::Tls12) => ProtectionLevel::Tls12,
        None => ProtectionLevel::Ssl,
    }
}

#[cfg(test)]
mod tests {
    use sock_core::SocketErrorStatus;

    use super::*;

    #[test]
    fn a_minimum_of_tls13_narrows_the_best_available_level() {
        assert_eq!(
            effective_level(ProtectionLevel::Ssl, Some(ProtectionLevel::Tls13)).unwrap(),
            ProtectionLevel::Tls13
        );
        assert_eq!(
            effective_level(ProtectionLevel::Ssl, Some(ProtectionLevel::Tls10)).unwrap(),
            ProtectionLevel::Ssl
        );
        let err =
            effective_level(ProtectionLevel::Tls12, Some(ProtectionLevel::Tls13)).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    }

    #[test]
    fn weak_levels_are_unsupported_and_plain_needs_no_config() {
        for level in [
            ProtectionLevel::Tls10,
            ProtectionLevel::Tls11,
            ProtectionLevel::Ssl3AllowWeakEncryption,
            ProtectionLevel::SslAllowNullEncryption,
        ] {
            let mut tls = ClientTls::default();
            tls.set_level(level);
            let err = tls.for_connect().unwrap_err();
            assert_eq!(err.status(), SocketErrorStatus::Unknown, "{err}");
            assert!(matches!(err, Error::Unsupported { .. }), "{level}: {err}");
        }
        assert!(ClientTls::default().for_connect().unwrap().is_none());
    }

    #[test]
    fn a_whole_config_and_separate_settings_do_not_mix() {
        let config = TlsClientConfig::builder().build().unwrap();
        let mut tls = ClientTls::default();
        tls.set_config(config);
        assert!(tls.for_connect().unwrap().is_some());
        tls.set_handshake_timeout(Duration::from_secs(1));
        let err = tls.for_connect().unwrap_err();
        assert!(err.to_string().contains("tls_client_config"), "{err}");
    }
}
