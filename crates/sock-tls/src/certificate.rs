//! `Certificate`: a certificate chain and where its private key is (in memory,
//! read from PEM or PKCS#12, or on a PKCS#11 token), as UWP's `Certificate`
//! that `StreamSocketControl.ClientCertificate` takes; and turning one into
//! what rustls presents, with the checks that come first (a key, a key that
//! matches, dates).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::SignatureScheme;
use sock_core::{Error, Result, SocketErrorStatus};

use crate::pem;
use crate::x509::{format_time, hex};
use crate::CertificateInfo;

/// A certificate with its chain, and its private key when there is one: what
/// UWP calls a `Certificate`, and what
/// [`client_certificate_from`](crate::TlsClientConfigBuilder::client_certificate_from)
/// presents to servers (UWP's `StreamSocketControl.ClientCertificate`).
///
/// Made from PEM or DER ([`from_pem`](Self::from_pem), [`from_der`](Self::from_der)),
/// from a PKCS#12 file as Windows exports them ([`from_pkcs12`](Self::from_pkcs12)),
/// from a PKCS#11 token (`from_pkcs11`, feature `pkcs11`: the key never leaves
/// the token), or found in a certificate store
/// ([`CertificateStores::find_all`](crate::CertificateStores::find_all)).
/// Cheap to clone: the state is shared.
///
/// ```no_run
/// # fn main() -> sock_core::Result<()> {
/// use sock_tls::{Certificate, TlsClientConfig};
///
/// let certificate = Certificate::from_pkcs12_file("alice.pfx", "password")?;
/// println!("{} (thumbprint {})", certificate.subject(), certificate.thumbprint_hex());
/// let config = TlsClientConfig::builder()
///     .client_certificate_from(certificate)
///     .build()?;
/// println!("{:?}", config.protection_level());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Inner>,
}

struct Inner {
    chain: Vec<CertificateDer<'static>>,
    info: CertificateInfo,
    key: Key,
    thumbprint: [u8; 20],
    sha256: [u8; 32],
    friendly_name: Option<String>,
    store_name: Option<String>,
    /// Where it came from, for messages: `file "/…/MY/alice.pem"`.
    source: String,
}

/// Where the private key is.
pub(crate) enum Key {
    /// No private key: the certificate alone (a CA's, a peer's).
    None,
    /// In memory, from PEM, DER or PKCS#12.
    Memory(PrivateKeyDer<'static>),
    /// On a token (PKCS#11): signs there, never read out.
    #[cfg_attr(not(feature = "pkcs11"), allow(dead_code))]
    Token(Arc<dyn SigningKey>),
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("issuer", &self.issuer())
            .field("friendly_name", &self.inner.friendly_name)
            .field("store_name", &self.inner.store_name)
            .field("thumbprint", &self.thumbprint_hex())
            .field("has_private_key", &self.has_private_key())
            .field("hardware_bound", &self.is_hardware_bound())
            .field("source", &self.inner.source)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Certificate {
    /// `subject (issued by issuer, valid from … to …)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.info, f)
    }
}

impl Certificate {
    /// A certificate from PEM: `chain_pem` holds the certificate first, then
    /// its issuers; `key_pem`, when given, its private key (PKCS#8, PKCS#1 or
    /// SEC1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] for PEM without a certificate or key,
    /// or a certificate that cannot be read.
    pub fn from_pem(chain_pem: &[u8], key_pem: Option<&[u8]>) -> Result<Self> {
        let chain = pem::certificates(chain_pem, "certificate chain")?;
        let key = match key_pem {
            Some(pem) => Some(pem::private_key(pem, "private key")?),
            None => None,
        };
        Self::from_der(chain, key)
    }

    /// A certificate from DER: the chain (the certificate first) and its
    /// private key, if any.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] for an empty chain or a certificate
    /// that cannot be read.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: Option<PrivateKeyDer<'static>>,
    ) -> Result<Self> {
        let key = key.map_or(Key::None, Key::Memory);
        Self::new(chain, key, "certificate".to_owned())
    }

    pub(crate) fn first_with_key(found: Vec<Self>, what: &str) -> Result<Self> {
        let any = !found.is_empty();
        found
            .into_iter()
            .find(Self::has_private_key)
            .ok_or_else(|| {
                let reason = if any {
                    "it holds certificates but no private key; export it again with the private key"
                } else {
                    "it holds no certificate"
                };
                pem::invalid(what, reason, None)
            })
    }

    /// Made by the readers of this crate (PKCS#12, stores, tokens).
    pub(crate) fn new(
        chain: Vec<CertificateDer<'static>>,
        key: Key,
        source: String,
    ) -> Result<Self> {
        let Some(first) = chain.first() else {
            return Err(pem::invalid(&source, "the chain is empty", None));
        };
        let info = CertificateInfo::parse(first)
            .map_err(|e| pem::invalid(&source, e.to_string(), Some(Box::new(e))))?;
        let thumbprint = digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, first);
        let sha256 = digest(&ring::digest::SHA256, first);
        Ok(Self {
            inner: Arc::new(Inner {
                chain,
                info,
                key,
                thumbprint,
                sha256,
                friendly_name: None,
                store_name: None,
                source,
            }),
        })
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => f(inner),
            None => {
                let old = &self.inner;
                let mut inner = Inner {
                    chain: old.chain.clone(),
                    info: old.info.clone(),
                    key: old.key.clone(),
                    thumbprint: old.thumbprint,
                    sha256: old.sha256,
                    friendly_name: old.friendly_name.clone(),
                    store_name: old.store_name.clone(),
                    source: old.source.clone(),
                };
                f(&mut inner);
                self.inner = Arc::new(inner);
            }
        }
        self
    }

    /// This certificate with a friendly name (UWP's `FriendlyName`), which
    /// [`CertificateQuery::friendly_name`](crate::CertificateQuery::friendly_name)
    /// finds it by.
    pub fn with_friendly_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.edit(|inner| inner.friendly_name = Some(name))
    }

    pub(crate) fn with_store_name(self, name: &str) -> Self {
        self.edit(|inner| inner.store_name = Some(name.to_owned()))
    }

    pub(crate) fn with_source(self, source: String) -> Self {
        self.edit(|inner| inner.source = source)
    }

    /// The chain: this certificate first, then the issuers that came with it.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.inner.chain
    }

    /// The certificate itself (the first of the chain).
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.inner.chain[0]
    }

    /// Its names and dates.
    pub fn info(&self) -> &CertificateInfo {
        &self.inner.info
    }

    /// The subject's distinguished name (UWP's `Subject` is its common name:
    /// see [`CertificateInfo::common_name`]).
    pub fn subject(&self) -> &str {
        self.inner.info.subject()
    }

    /// The issuer's distinguished name (UWP's `Issuer`).
    pub fn issuer(&self) -> &str {
        self.inner.info.issuer()
    }

    /// The friendly name (UWP's `FriendlyName`): a PKCS#12 bag's, a token
    /// object's label, a store file's name without its extension, or the one
    /// given to [`with_friendly_name`](Self::with_friendly_name).
    pub fn friendly_name(&self) -> Option<&str> {
        self.inner.friendly_name.as_deref()
    }

    /// The name of the store it was found in (`MY`, `Root`, …), if it came
    /// from one.
    pub fn store_name(&self) -> Option<&str> {
        self.inner.store_name.as_deref()
    }

    /// The SHA-1 hash of the certificate's DER encoding: Windows' thumbprint
    /// (UWP's `Thumbprint`).
    pub fn thumbprint(&self) -> [u8; 20] {
        self.inner.thumbprint
    }

    /// The thumbprint in uppercase hexadecimal, as Windows shows it
    /// (`"3B7A…"`, 40 digits).
    pub fn thumbprint_hex(&self) -> String {
        hex(&self.inner.thumbprint, "").to_uppercase()
    }

    /// The SHA-256 hash of the certificate's DER encoding (UWP's
    /// `GetHashValue("SHA256")`).
    pub fn sha256_hash(&self) -> [u8; 32] {
        self.inner.sha256
    }

    /// Whether a private key comes with it (UWP's `HasPrivateKey`): only
    /// such a certificate can be a client certificate.
    pub fn has_private_key(&self) -> bool {
        !matches!(self.inner.key, Key::None)
    }

    /// Whether it came from a hardware token (PKCS#11), where its private
    /// key, if any, stays (what UWP's `CertificateQuery.HardwareOnly` asks for).
    pub fn is_hardware_bound(&self) -> bool {
        matches!(self.inner.key, Key::Token(_)) || self.inner.source.starts_with("pkcs#11")
    }

    /// Whether `time` falls within the validity period.
    pub fn is_valid_at(&self, time: SystemTime) -> bool {
        self.inner.info.is_valid_at(time)
    }

    pub(crate) fn source(&self) -> &str {
        &self.inner.source
    }

    pub(crate) fn key(&self) -> &Key {
        &self.inner.key
    }

    /// What rustls presents: the chain with a signing key, after checking
    /// that there is a key, that it belongs to the certificate (by a test
    /// signature checked against the certificate), and that the certificate
    /// is valid now.
    pub(crate) fn certified_key(&self, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>> {
        let what = format!(
            "client certificate {:?} ({})",
            self.subject(),
            self.source()
        );
        let key = match &self.inner.key {
            Key::None => {
                return Err(pem::invalid(
                    &what,
                    "it has no private key; a client certificate needs one \
                     (ask the query for has_private_key(true))",
                    None,
                ))
            }
            Key::Memory(der) => provider
                .key_provider
                .load_private_key(der.clone_key())
                .map_err(|e| pem::certified_key_error(e, &what))?,
            Key::Token(key) => key.clone(),
        };
        self.check_dates(SystemTime::now())?;
        check_key_matches(self.der(), key.as_ref(), provider)
            .map_err(|reason| pem::invalid(&what, reason, None))?;
        Ok(Arc::new(CertifiedKey::new(self.inner.chain.clone(), key)))
    }

    /// An expired (or not yet valid) certificate is refused before a server
    /// refuses it, with the status UWP gives it.
    fn check_dates(&self, now: SystemTime) -> Result<()> {
        let info = &self.inner.info;
        if info.is_valid_at(now) {
            return Ok(());
        }
        let when = if now < info.not_before() {
            format!("is not valid before {}", format_time(info.not_before()))
        } else {
            format!("expired on {}", format_time(info.not_after()))
        };
        Err(Error::Certificate {
            status: SocketErrorStatus::CertificateExpired,
            detail: format!(
                "the client certificate {:?} ({}) {when}; renew it or choose another",
                self.subject(),
                self.source()
            ),
            source: None,
        })
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        match self {
            Self::None => Self::None,
            Self::Memory(der) => Self::Memory(der.clone_key()),
            Self::Token(key) => Self::Token(key.clone()),
        }
    }
}

fn digest<const N: usize>(algorithm: &'static ring::digest::Algorithm, data: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(ring::digest::digest(algorithm, data).as_ref());
    out
}

/// `leaf`, then its issuers from `pool`, nearest first, by name; roots
/// (self-issued) are left out, since the peer must have them anyway.
pub(crate) fn chain_for(
    leaf: CertificateDer<'static>,
    pool: &[CertificateDer<'static>],
) -> Vec<CertificateDer<'static>> {
    let infos: Vec<Option<CertificateInfo>> = pool
        .iter()
        .map(|c| CertificateInfo::parse(c).ok())
        .collect();
    let mut issuer = CertificateInfo::parse(&leaf)
        .ok()
        .filter(|info| !info.is_self_issued())
        .map(|info| info.issuer().to_owned());
    let mut chain = vec![leaf];
    while let Some(name) = issuer.take() {
        let next = pool.iter().zip(&infos).find(|(cert, info)| {
            info.as_ref().is_some_and(|info| info.subject() == name) && !chain.contains(cert)
        });
        let Some((cert, Some(info))) = next else {
            break;
        };
        if info.is_self_issued() {
            break;
        }
        chain.push(cert.clone());
        issuer = Some(info.issuer().to_owned());
    }
    chain
}

/// Signs a test message with `key` and checks the signature against the
/// certificate's public key: the one check that works for every kind of
/// key, token keys included (whose public half may not be readable).
pub(crate) fn check_key_matches(
    cert: &CertificateDer<'_>,
    key: &dyn SigningKey,
    provider: &CryptoProvider,
) -> std::result::Result<(), String> {
    let end_entity = webpki::EndEntityCert::try_from(cert)
        .map_err(|e| format!("the certificate cannot be read: {e}"))?;
    let mapping = provider.signature_verification_algorithms.mapping;
    let offered: Vec<SignatureScheme> = mapping.iter().map(|(scheme, _)| *scheme).collect();
    let signer = key.choose_scheme(&offered).ok_or_else(|| {
        format!(
            "the private key ({:?}) offers no signature scheme the crypto provider can check",
            key.algorithm()
        )
    })?;
    let message = b"sock-tls: does this key belong to this certificate?";
    let signature = signer
        .sign(message)
        .map_err(|e| format!("the private key could not sign: {e}"))?;
    let algorithms = mapping
        .iter()
        .find(|(scheme, _)| *scheme == signer.scheme())
        .map_or(&[][..], |(_, algorithms)| *algorithms);
    if algorithms.iter().any(|alg| {
        end_entity
            .verify_signature(*alg, message, &signature)
            .is_ok()
    }) {
        Ok(())
    } else {
        Err("the private key does not belong to the certificate".to_owned())
    }
}

/// Presents one certificate to every server that asks.
#[derive(Debug)]
pub(crate) struct AlwaysPresent(pub(crate) Arc<CertifiedKey>);

impl ResolvesClientCert for AlwaysPresent {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(not_after: (i32, u8, u8)) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["alice.test".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn provider() -> Arc<CryptoProvider> {
        crate::config::default_provider()
    }

    #[test]
    fn thumbprints_are_the_hashes_of_the_der() {
        let (cert, key) = leaf((4000, 1, 1));
        let c = Certificate::from_pem(cert.as_bytes(), Some(key.as_bytes())).unwrap();
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, c.der());
        assert_eq!(c.thumbprint(), sha1.as_ref());
        assert_eq!(c.thumbprint_hex().len(), 40);
        assert!(c
            .thumbprint_hex()
            .chars()
            .all(|ch| !ch.is_ascii_lowercase()));
        assert!(c.has_private_key());
        assert!(!c.is_hardware_bound());
        c.certified_key(&provider()).unwrap();
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let (cert, _) = leaf((4000, 1, 1));
        let (_, other_key) = leaf((4000, 1, 1));
        let c = Certificate::from_pem(cert.as_bytes(), Some(other_key.as_bytes())).unwrap();
        let err = c.certified_key(&provider()).unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("does not belong"), "{err}");
    }

    #[test]
    fn an_expired_certificate_is_refused_with_its_status() {
        let (cert, key) = leaf((2001, 1, 1));
        let c = Certificate::from_pem(cert.as_bytes(), Some(key.as_bytes())).unwrap();
        let err = c.certified_key(&provider()).unwrap_err();
        assert_eq!(err.status(), SocketErrorStatus::CertificateExpired, "{err}");
        assert!(err.to_string().contains("expired on 2001-01-01"), "{err}");
    }

    #[test]
    fn a_certificate_without_key_cannot_be_presented() {
        let (cert, _) = leaf((4000, 1, 1));
        let c = Certificate::from_pem(cert.as_bytes(), None).unwrap();
        assert!(!c.has_private_key());
        let err = c.certified_key(&provider()).unwrap_err();
        assert!(err.to_string().contains("no private key"), "{err}");
    }

    #[test]
    fn friendly_names_do_not_disturb_clones() {
        let (cert, _) = leaf((4000, 1, 1));
        let a = Certificate::from_pem(cert.as_bytes(), None).unwrap();
        let b = a.clone().with_friendly_name("alice");
        assert_eq!(a.friendly_name(), None);
        assert_eq!(b.friendly_name(), Some("alice"));
    }
}
