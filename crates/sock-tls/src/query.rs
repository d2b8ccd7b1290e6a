//! `CertificateQuery`: what to look for in the certificate stores, as UWP's
//! `CertificateQuery` (store name, issuer, friendly name, thumbprint,
//! hardware only, expired ones or not), plus the subject and whether a
//! private key comes with it.

use std::time::SystemTime;

use sock_core::{Error, Result};

use crate::Certificate;

/// What [`CertificateStores::find_all`](crate::CertificateStores::find_all)
/// looks for (UWP's `CertificateQuery`). Every criterion set must match; an
/// empty query finds every certificate that has not expired.
///
/// | UWP `CertificateQuery` | here | matches |
/// |---|---|---|
/// | `StoreName` | [`store_name`](Self::store_name) | the store, ignoring ASCII case (`"MY"`, `"My"`) |
/// | `IssuerName` | [`issuer_name`](Self::issuer_name) | text within the issuer's name, ignoring case |
/// | `FriendlyName` | [`friendly_name`](Self::friendly_name) | the whole friendly name, ignoring case |
/// | `Thumbprint` | [`thumbprint`](Self::thumbprint), [`thumbprint_hex`](Self::thumbprint_hex) | SHA-1 (20 bytes, Windows' thumbprint) or SHA-256 (32 bytes) of the certificate |
/// | `HardwareOnly` | [`hardware_only`](Self::hardware_only) | certificates from PKCS#11 tokens |
/// | `IncludeExpiredCertificates` | [`include_expired_certificates`](Self::include_expired_certificates) | expired and not yet valid ones too (default: left out) |
/// | — | [`subject`](Self::subject) | text within the subject's name, ignoring case |
/// | — | [`has_private_key`](Self::has_private_key) | whether a private key comes with it |
///
/// ```
/// use sock_tls::CertificateQuery;
///
/// let query = CertificateQuery::new()
///     .store_name("MY")
///     .issuer_name("Example CA")
///     .has_private_key(true);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CertificateQuery {
    store_name: Option<String>,
    issuer_name: Option<String>,
    subject: Option<String>,
    friendly_name: Option<String>,
    thumbprint: Option<std::result::Result<Vec<u8>, String>>,
    hardware_only: bool,
    has_private_key: Option<bool>,
    include_expired: bool,
}

impl CertificateQuery {
    /// A query that finds every certificate still valid, in every store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this store (`"MY"`, `"Root"`, `"CA"`, …; see
    /// [`CertificateStores`](crate::CertificateStores) for the names).
    pub fn store_name(mut self, name: impl Into<String>) -> Self {
        self.store_name = Some(name.into());
        self
    }

    /// Only certificates whose issuer's name contains `name` (ignoring
    /// case): `"Example CA"` finds those issued by `CN=Example CA, O=…`.
    pub fn issuer_name(mut self, name: impl Into<String>) -> Self {
        self.issuer_name = Some(name.into());
        self
    }

    /// Only certificates whose subject's name contains `text` (ignoring case).
    pub fn subject(mut self, text: impl Into<String>) -> Self {
        self.subject = Some(text.into());
        self
    }

    /// Only certificates with this friendly name (ignoring case).
    pub fn friendly_name(mut self, name: impl Into<String>) -> Self {
        self.friendly_name = Some(name.into());
        self
    }

    /// Only the certificate with this thumbprint: its SHA-1 hash (20 bytes,
    /// what Windows shows) or its SHA-256 hash (32 bytes). Another length
    /// makes the search fail with [`Error::InvalidArgument`].
    pub fn thumbprint(mut self, hash: impl AsRef<[u8]>) -> Self {
        self.thumbprint = Some(Ok(hash.as_ref().to_vec()));
        self
    }

    /// As [`thumbprint`](Self::thumbprint), in hexadecimal as Windows shows
    /// it (`"3b7a…"`, either case, spaces and colons allowed). Text that is
    /// not hexadecimal makes the search fail with [`Error::InvalidArgument`].
    pub fn thumbprint_hex(mut self, hex: &str) -> Self {
        self.thumbprint = Some(parse_hex(hex));
        self
    }

    /// Only certificates from hardware tokens (PKCS#11) when `yes`.
    pub fn hardware_only(mut self, yes: bool) -> Self {
        self.hardware_only = yes;
        self
    }

    /// Only certificates with (`true`) or without (`false`) a private key.
    pub fn has_private_key(mut self, yes: bool) -> Self {
        self.has_private_key = Some(yes);
        self
    }

    /// Whether to find expired and not yet valid certificates too (default
    /// false, as UWP).
    pub fn include_expired_certificates(mut self, yes: bool) -> Self {
        self.include_expired = yes;
        self
    }

    /// The store name asked for, if any.
    pub(crate) fn wanted_store(&self) -> Option<&str> {
        self.store_name.as_deref()
    }

    /// Checks what can only be checked once: the thumbprint's form.
    pub(crate) fn validate(&self) -> Result<()> {
        match &self.thumbprint {
            Some(Err(reason)) => Err(Error::InvalidArgument {
                setting: "thumbprint",
                reason: reason.clone(),
            }),
            Some(Ok(hash)) if hash.len() != 20 && hash.len() != 32 => Err(Error::InvalidArgument {
                setting: "thumbprint",
                reason: format!(
                    "{} bytes is neither a SHA-1 (20) nor a SHA-256 (32) hash",
                    hash.len()
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Whether `certificate`, from store `store`, is one asked for.
    pub(crate) fn matches(&self, store: &str, certificate: &Certificate, now: SystemTime) -> bool {
        let contains = |text: &str, part: &str| text.to_lowercase().contains(&part.to_lowercase());
        self.store_name
            .as_ref()
            .is_none_or(|name| name.eq_ignore_ascii_case(store))
            && self
                .issuer_name
                .as_ref()
                .is_none_or(|name| contains(certificate.issuer(), name))
            && self
                .subject
                .as_ref()
                .is_none_or(|text| contains(certificate.subject(), text))
            && self.friendly_name.as_ref().is_none_or(|name| {
                certificate
                    .friendly_name()
                    .is_some_and(|have| have.to_lowercase() == name.to_lowercase())
            })
            && match &self.thumbprint {
                Some(Ok(hash)) => {
                    hash[..] == certificate.thumbprint()[..]
                        || hash[..] == certificate.sha256_hash()[..]
                }
                Some(Err(_)) => false,
                None => true,
            }
            && (!self.hardware_only || certificate.is_hardware_bound())
            && self
                .has_private_key
                .is_none_or(|yes| yes == certificate.has_private_key())
            && (self.include_expired || certificate.is_valid_at(now))
    }
}

fn parse_hex(text: &str) -> std::result::Result<Vec<u8>, String> {
    // Windows' certificate dialog puts a left-to-right mark in front.
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '\u{200e}'))
        .collect();
    let digits = digits.as_bytes();
    if digits.len() % 2 != 0 {
        return Err(format!("{text:?} has an odd number of hex digits"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("{text:?} is not hexadecimal"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(name: &str, expired: bool) -> Certificate {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let cert = params.self_signed(&key).unwrap();
        Certificate::from_pem(cert.pem().as_bytes(), Some(key.serialize_pem().as_bytes()))
            .unwrap()
            .with_friendly_name(name)
    }

    #[test]
    fn every_criterion_narrows() {
        let now = SystemTime::now();
        let alice = certificate("Alice", false);
        let any = CertificateQuery::new();
        assert!(any.matches("MY", &alice, now));
        assert!(any.clone().store_name("my").matches("MY", &alice, now));
        assert!(!any.clone().store_name("Root").matches("MY", &alice, now));
        assert!(any.clone().subject("cn=ali").matches("MY", &alice, now));
        assert!(!any.clone().subject("bob").matches("MY", &alice, now));
        assert!(any.clone().issuer_name("alice").matches("MY", &alice, now));
        assert!(any
            .clone()
            .friendly_name("ALICE")
            .matches("MY", &alice, now));
        assert!(!any.clone().friendly_name("Ali").matches("MY", &alice, now));
        assert!(any.clone().has_private_key(true).matches("MY", &alice, now));
        assert!(!any
            .clone()
            .has_private_key(false)
            .matches("MY", &alice, now));
        assert!(!any.clone().hardware_only(true).matches("MY", &alice, now));
        let sha1 = alice.thumbprint_hex();
        assert!(any
            .clone()
            .thumbprint_hex(&sha1.to_lowercase())
            .matches("MY", &alice, now));
        assert!(any
            .clone()
            .thumbprint(alice.sha256_hash())
            .matches("MY", &alice, now));
        assert!(!any.clone().thumbprint([0; 20]).matches("MY", &alice, now));
    }

    #[test]
    fn expired_certificates_are_left_out_unless_asked_for() {
        let now = SystemTime::now();
        let old = certificate("Old", true);
        assert!(!CertificateQuery::new().matches("MY", &old, now));
        assert!(CertificateQuery::new()
            .include_expired_certificates(true)
            .matches("MY", &old, now));
    }

    #[test]
    fn thumbprints_are_checked_for_form() {
        let spaced = "3b 7a:00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11";
        assert!(CertificateQuery::new()
            .thumbprint_hex(spaced)
            .validate()
            .is_ok());
        for bad in ["xyz", "abc", "00112233"] {
            let err = CertificateQuery::new()
                .thumbprint_hex(bad)
                .validate()
                .unwrap_err();
            assert!(err.to_string().starts_with("invalid thumbprint: "), "{err}");
        }
    }
}
