//! Reading PKCS#12 files (`.pfx`, `.p12`): each private key with its
//! certificate and chain, and the certificates that have no key, with an
//! error that says what is wrong (a wrong password, a damaged file, a scheme
//! not supported).
//!
//! The decoding is `p12-keystore`'s: PBES2 (AES-CBC with PBKDF2, what
//! OpenSSL 3 writes by default) and the legacy PBES1 schemes (3DES, RC2,
//! what Windows and `openssl pkcs12 -legacy` write), with the MAC checked.
//! It bounds the work factors a file can ask for.

use p12_keystore::error::Error as P12Error;
use p12_keystore::Pkcs12Archive;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sock_core::{Error, Result};
use std::path::Path;

use crate::certificate::{chain_for, Key};
use crate::config::default_provider;
use crate::{pem, Certificate};

/// Every certificate of a PKCS#12 file opened with `password`: those with a
/// private key first (each with its chain), then those without, in the
/// file's order. `what` names the file in errors.
pub(crate) fn read(der: &[u8], password: &str, what: &str) -> Result<Vec<Certificate>> {
    let archive = Pkcs12Archive::from_pkcs12(der, password).map_err(|e| error(e, what))?;
    certificates(&archive, what)
}

fn certificates(archive: &Pkcs12Archive, what: &str) -> Result<Vec<Certificate>> {
    let certs: Vec<CertificateDer<'static>> = archive
        .certs
        .iter()
        .map(|bag| CertificateDer::from(bag.cert.as_der().to_vec()))
        .collect();
    let mut used = vec![false; certs.len()];
    let mut found = Vec::new();
    for key_bag in &archive.keys {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_bag.key.as_der().to_vec()));
        // The certificate with the key's local key id, or else the one whose
        // public key is the key's.
        let by_id = key_bag.local_key_id.as_ref().and_then(|id| {
            archive
                .certs
                .iter()
                .position(|bag| bag.local_key_id.as_deref() == Some(id.0.as_slice()))
        });
        let Some(index) = by_id.or_else(|| by_public_key(&key, &certs)) else {
            return Err(pem::invalid(
                what,
                "it holds a private key without its certificate",
                None,
            ));
        };
        used[index] = true;
        let chain = chain_for(certs[index].clone(), &certs);
        let friendly = key_bag
            .friendly_name
            .clone()
            .or_else(|| archive.certs[index].friendly_name.clone());
        let mut certificate = Certificate::new(chain, Key::Memory(key), what.to_owned())?;
        if let Some(name) = friendly {
            certificate = certificate.with_friendly_name(name);
        }
        found.push(certificate);
    }
    for (index, bag) in archive.certs.iter().enumerate() {
        if used[index] {
            continue;
        }
        let mut certificate =
            Certificate::new(vec![certs[index].clone()], Key::None, what.to_owned())?;
        if let Some(name) = &bag.friendly_name {
            certificate = certificate.with_friendly_name(name.clone());
        }
        found.push(certificate);
    }
    Ok(found)
}

/// As [`read`], trying each password in turn (a certificate store does
/// not know which file needs which); only a wrong password moves on to the
/// next.
pub(crate) fn read_any(der: &[u8], passwords: &[&str], what: &str) -> Result<Vec<Certificate>> {
    for password in passwords {
        match Pkcs12Archive::from_pkcs12(der, password) {
            Ok(archive) => return certificates(&archive, what),
            Err(P12Error::MacError(_) | P12Error::UnpadError | P12Error::Pkcs5Error(_)) => {}
            Err(e) => return Err(error(e, what)),
        }
    }
    Err(pem::invalid(
        what,
        format!(
            "none of the {} passwords known to the store opens it (wrong password); \
             give its password to CertificateStores::pkcs12_password",
            passwords.len()
        ),
        None,
    ))
}

/// The certificate whose public key is the key's, for files that do not
/// link keys and certificates by local key id.
fn by_public_key(key: &PrivateKeyDer<'static>, certs: &[CertificateDer<'static>]) -> Option<usize> {
    let signing = default_provider()
        .key_provider
        .load_private_key(key.clone_key())
        .ok()?;
    let public = signing.public_key()?;
    certs.iter().position(|cert| {
        webpki::EndEntityCert::try_from(cert)
            .is_ok_and(|ee| ee.subject_public_key_info().as_ref() == public.as_ref())
    })
}

/// What went wrong, for people.
fn error(err: P12Error, what: &str) -> Error {
    let reason = match &err {
        P12Error::MacError(_) => "wrong password (the file's integrity check failed)",
        P12Error::UnpadError | P12Error::Pkcs5Error(_) => {
            "wrong password, or the file is damaged (its contents do not decrypt)"
        }
        P12Error::DerError(_) | P12Error::InvalidVersion | P12Error::InvalidLength => {
            "not a PKCS#12 file, or a damaged one"
        }
        P12Error::UnsupportedEncryptionScheme | P12Error::UnsupportedMacAlgorithm => {
            "it is protected with an algorithm not supported here \
             (AES with PBKDF2, 3DES and RC2 are)"
        }
        P12Error::InvalidParameters => {
            "its key-derivation parameters are refused (iteration counts too high, \
             or not valid)"
        }
        _ => "its contents cannot be read",
    };
    pem::invalid(what, reason, Some(Box::new(err)))
}

impl Certificate {
    /// The first certificate with a private key in a PKCS#12 file (`.pfx`,
    /// `.p12`, as Windows and `openssl pkcs12 -export` write them, with AES
    /// or the legacy 3DES and RC2), with its chain, opened with `password`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] saying which: a wrong password, a
    /// file that is not PKCS#12 or is damaged, one encrypted in a way not
    /// supported, or one that holds no private key.
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self> {
        Self::first_with_key(read(der, password, "pkcs#12 file")?, "pkcs#12 file")
    }

    /// As [`from_pkcs12`](Self::from_pkcs12), reading the file at `path`.
    ///
    /// # Errors
    ///
    /// As [`from_pkcs12`](Self::from_pkcs12), and for a file that cannot be read.
    pub fn from_pkcs12_file(path: impl AsRef<Path>, password: &str) -> Result<Self> {
        let what = pem::file_label("pkcs#12 file", path.as_ref());
        let der = pem::read_file(path.as_ref(), &what)?;
        let found = read(&der, password, &what)?;
        Ok(Self::first_with_key(found, &what)?.with_source(what))
    }
}
