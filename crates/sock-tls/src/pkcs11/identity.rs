//! A certificate whose key is on a token: finding the private key a URI
//! names and its certificate and chain, and listing a token's certificates
//! for a store.

use std::sync::Arc;

use cryptoki::object::{ObjectClass, ObjectHandle};
use rustls::pki_types::CertificateDer;
use sock_core::Result;

use super::signer::TokenKey;
use super::token::{certificates, find, labels, open, partners, Token};
use super::Pkcs11Uri;
use crate::certificate::{chain_for, Key};
use crate::{pem, Certificate};

impl Certificate {
    /// The private key and certificate a [`Pkcs11Uri`](crate::Pkcs11Uri)
    /// names on a PKCS#11 token (feature `pkcs11`): the module is loaded
    /// (once per process), the token found by its label (or serial, model,
    /// slot), logged in with the PIN, and the key found by its label or id,
    /// its certificate by the same id. Signatures are made on the token: the
    /// key is never read out. RSA (PKCS#1 v1.5 and PSS) and ECDSA P-256 and
    /// P-384 keys.
    ///
    /// This blocks while the token answers (call it from
    /// `tokio::task::spawn_blocking` in async code), and so does each
    /// handshake's signature.
    ///
    /// ```no_run
    /// # fn main() -> sock_core::Result<()> {
    /// use sock_tls::{Certificate, Pkcs11Uri};
    ///
    /// let uri = Pkcs11Uri::parse(
    ///     "pkcs11:token=My%20Card;object=alice?module-path=/usr/lib/softhsm/libsofthsm2.so",
    /// )?;
    /// let certificate = Certificate::from_pkcs11(&uri.pin("1234"))?;
    /// assert!(certificate.is_hardware_bound());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] naming the module or token and
    /// saying what is wrong: no module given, a module that cannot be
    /// loaded, no token matching (with the labels of those present), a wrong
    /// PIN (with the tries left when the token says), a locked PIN, no
    /// private key matching (or several), a key without its certificate, a
    /// key type or curve not supported.
    pub fn from_pkcs11(uri: &Pkcs11Uri) -> Result<Self> {
        identity(uri)
    }
}

/// The private key and certificate `uri` names, as a certificate whose
/// signatures are made on the token.
pub(crate) fn identity(uri: &Pkcs11Uri) -> Result<Certificate> {
    let tokens = open(uri)?;
    let selector = selector(uri);
    let mut searched = Vec::new();
    for token in &tokens {
        let keys = find(token, ObjectClass::PRIVATE_KEY, uri)?;
        match keys.as_slice() {
            [] => searched.push(token.label.clone()),
            [key] => return certificate_for_key(token, *key),
            several => {
                let labels: Vec<String> = several.iter().map(|k| labels(token, *k).1).collect();
                return Err(pem::invalid(
                    &token.what(),
                    format!(
                        "{} private keys match{selector}: {labels:?}; name one with object= or id=",
                        several.len()
                    ),
                    None,
                ));
            }
        }
    }
    let hint = if tokens.iter().any(|t| !t.logged_in) {
        " (private keys are usually visible only after logging in: give the PIN)"
    } else {
        ""
    };
    Err(pem::invalid(
        &format!("pkcs#11 tokens {searched:?}"),
        format!("no private key matches{selector}{hint}"),
        None,
    ))
}

/// ` object="alice" id=%01` for messages (empty when nothing narrows).
fn selector(uri: &Pkcs11Uri) -> String {
    let mut out = String::new();
    if let Some(object) = &uri.object {
        out.push_str(&format!(" object={object:?}"));
    }
    if let Some(id) = &uri.id {
        let hex: String = id.iter().map(|b| format!("%{b:02X}")).collect();
        out.push_str(&format!(" id={hex}"));
    }
    out
}

fn certificate_for_key(token: &Arc<Token>, key: ObjectHandle) -> Result<Certificate> {
    let (id, label) = labels(token, key);
    let all = certificates(token)?;
    let mine = partners(token, ObjectClass::CERTIFICATE, &id, &label)?;
    let Some((_, leaf)) = all.iter().find(|(handle, _)| mine.contains(handle)) else {
        return Err(pem::invalid(
            &token.what(),
            format!(
                "it holds the private key {label:?} but no certificate with the same id; \
                 import the certificate next to it"
            ),
            None,
        ));
    };
    let pool: Vec<CertificateDer<'static>> = all.iter().map(|(_, der)| der.clone()).collect();
    let signer = TokenKey::open(token.clone(), key, &label)?;
    let source = format!("{}, object {label:?}", token.what());
    let chain = chain_for(leaf.clone(), &pool);
    Ok(Certificate::new(chain, Key::Token(Arc::new(signer)), source)?.with_friendly_name(label))
}

/// Every certificate on the tokens `uri` names (narrowed by its object and
/// id), each with its key when the token holds one: what a certificate store
/// lists, in label order (a token's own order changes between runs). Tokens
/// are listed in the "MY" store, where Windows propagates smartcard
/// certificates.
pub(crate) fn list(uri: &Pkcs11Uri) -> Result<Vec<Certificate>> {
    let mut found = Vec::new();
    for token in open(uri)? {
        let start = found.len();
        let all = certificates(&token)?;
        let wanted = find(&token, ObjectClass::CERTIFICATE, uri)?;
        let pool: Vec<CertificateDer<'static>> = all.iter().map(|(_, der)| der.clone()).collect();
        for (handle, der) in &all {
            if !wanted.contains(handle) {
                continue;
            }
            let (id, label) = labels(&token, *handle);
            let keys = partners(&token, ObjectClass::PRIVATE_KEY, &id, &label)?;
            let key = match keys.first() {
                Some(&key) => Key::Token(Arc::new(TokenKey::open(token.clone(), key, &label)?)),
                None => Key::None,
            };
            let source = format!("{}, object {label:?}", token.what());
            let chain = chain_for(der.clone(), &pool);
            let certificate = Certificate::new(chain, key, source)?.with_friendly_name(label);
            found.push(certificate);
        }
        found[start..].sort_by(|a: &Certificate, b| a.friendly_name().cmp(&b.friendly_name()));
    }
    Ok(found)
}
