//! `TokenKey`: a rustls `SigningKey` whose signatures are made on a PKCS#11
//! token, the private key never read out. RSA (PKCS#1 v1.5 and PSS, as the
//! peer asks) and ECDSA on P-256 and P-384.
//!
//! The message is hashed here and the token signs the hash with its raw
//! mechanism (`CKM_RSA_PKCS` with the DigestInfo, `CKM_RSA_PKCS_PSS`,
//! `CKM_ECDSA`), which every token has; a token that lacks a raw mechanism
//! but has the hashing one (`CKM_SHA256_RSA_PKCS`, …) gets the whole
//! message instead. Only the schemes the token can make are offered.
//!
//! Signing is a blocking call into the token's library, made while rustls
//! handles the handshake: fast on a software token or an HSM, a few hundred
//! milliseconds on a smartcard. Handshakes that use the same token take
//! turns (one session, used by one thread at a time).

use std::fmt;
use std::sync::Arc;

use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectHandle};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use ring::digest;
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use sock_core::Result;

use super::token::{login_error, Token};
use crate::pem;

/// DER of `CKA_EC_PARAMS` for the curves supported: the named curve's OID.
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// How one scheme is signed on the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Hash here, the token signs the hash (for RSA PKCS#1, with the
    /// DigestInfo in front).
    Prehashed,
    /// The token hashes and signs.
    Whole,
}

/// A private key on a token.
pub(crate) struct TokenKey {
    inner: Arc<Inner>,
}

struct Inner {
    token: Arc<Token>,
    handle: ObjectHandle,
    label: String,
    algorithm: SignatureAlgorithm,
    /// The schemes the token can make, most preferred first.
    schemes: Vec<(SignatureScheme, Plan)>,
    always_authenticate: bool,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("token", &self.inner.token.label)
            .field("label", &self.inner.label)
            .field("algorithm", &self.inner.algorithm)
            .field("schemes", &self.inner.schemes)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// The key `handle` of `token`, with the schemes the token can sign.
    pub(crate) fn open(token: Arc<Token>, handle: ObjectHandle, label: &str) -> Result<Self> {
        let what = format!("{}, private key {label:?}", token.what());
        let attributes = token
            .session()
            .get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::AlwaysAuthenticate,
                ],
            )
            .map_err(|e| pem::invalid(&what, "could not read its attributes", Some(Box::new(e))))?;
        let mut key_type = None;
        let mut ec_params = Vec::new();
        let mut always_authenticate = false;
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(kind) => key_type = Some(kind),
                Attribute::EcParams(params) => ec_params = params,
                Attribute::AlwaysAuthenticate(yes) => always_authenticate = yes,
                _ => {}
            }
        }
        let mechanisms = token.pkcs11.get_mechanism_list(token.slot).map_err(|e| {
            pem::invalid(
                &what,
                "could not list the token's mechanisms",
                Some(Box::new(e)),
            )
        })?;
        let has = |m: MechanismType| mechanisms.contains(&m);
        let plan = |raw: MechanismType, whole: MechanismType| {
            if has(raw) {
                Some(Plan::Prehashed)
            } else if has(whole) {
                Some(Plan::Whole)
            } else {
                None
            }
        };
        use MechanismType as M;
        use SignatureScheme as S;
        let (algorithm, wanted) = match key_type {
            Some(KeyType::RSA) => (
                SignatureAlgorithm::RSA,
                vec![
                    (
                        S::RSA_PSS_SHA256,
                        plan(M::RSA_PKCS_PSS, M::SHA256_RSA_PKCS_PSS),
                    ),
                    (
                        S::RSA_PSS_SHA384,
                        plan(M::RSA_PKCS_PSS, M::SHA384_RSA_PKCS_PSS),
                    ),
                    (
                        S::RSA_PSS_SHA512,
                        plan(M::RSA_PKCS_PSS, M::SHA512_RSA_PKCS_PSS),
                    ),
                    (S::RSA_PKCS1_SHA256, plan(M::RSA_PKCS, M::SHA256_RSA_PKCS)),
                    (S::RSA_PKCS1_SHA384, plan(M::RSA_PKCS, M::SHA384_RSA_PKCS)),
                    (S::RSA_PKCS1_SHA512, plan(M::RSA_PKCS, M::SHA512_RSA_PKCS)),
                ],
            ),
            Some(KeyType::EC) if ec_params == P256_OID => (
                SignatureAlgorithm::ECDSA,
                vec![(S::ECDSA_NISTP256_SHA256, plan(M::ECDSA, M::ECDSA_SHA256))],
            ),
            Some(KeyType::EC) if ec_params == P384_OID => (
                SignatureAlgorithm::ECDSA,
                vec![(S::ECDSA_NISTP384_SHA384, plan(M::ECDSA, M::ECDSA_SHA384))],
            ),
            Some(KeyType::EC) => {
                return Err(pem::invalid(
                    &what,
                    "its elliptic curve is not supported (P-256 and P-384 are)",
                    None,
                ))
            }
            other => {
                return Err(pem::invalid(
                    &what,
                    format!("its key type ({other:?}) is not supported (RSA and ECDSA are)"),
                    None,
                ))
            }
        };
        let schemes: Vec<(SignatureScheme, Plan)> = wanted
            .into_iter()
            .filter_map(|(scheme, plan)| Some((scheme, plan?)))
            .collect();
        if schemes.is_empty() {
            return Err(pem::invalid(
                &what,
                "the token offers no mechanism to sign with it for TLS",
                None,
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                token,
                handle,
                label: label.to_owned(),
                algorithm,
                schemes,
                always_authenticate,
            }),
        })
    }
}

impl SigningKey for TokenKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.inner
            .schemes
            .iter()
            .find(|(scheme, _)| offered.contains(scheme))
            .map(|&(scheme, plan)| {
                Box::new(TokenSigner {
                    key: self.inner.clone(),
                    scheme,
                    plan,
                }) as Box<dyn Signer>
            })
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm
    }
}

/// One scheme of a token key.
struct TokenSigner {
    key: Arc<Inner>,
    scheme: SignatureScheme,
    plan: Plan,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("token", &self.key.token.label)
            .field("label", &self.key.label)
            .field("scheme", &self.scheme)
            .field("plan", &self.plan)
            .finish()
    }
}

/// The hash of a scheme, and the PKCS#11 names for it.
struct Hash {
    algorithm: &'static digest::Algorithm,
    mechanism: MechanismType,
    mgf: PkcsMgfType,
    /// The DER DigestInfo prefix for PKCS#1 v1.5 (RFC 8017, 9.2).
    digest_info: &'static [u8],
}

const SHA256: Hash = Hash {
    algorithm: &digest::SHA256,
    mechanism: MechanismType::SHA256,
    mgf: PkcsMgfType::MGF1_SHA256,
    digest_info: &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ],
};
const SHA384: Hash = Hash {
    algorithm: &digest::SHA384,
    mechanism: MechanismType::SHA384,
    mgf: PkcsMgfType::MGF1_SHA384,
    digest_info: &[
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
        0x05, 0x00, 0x04, 0x30,
    ],
};
const SHA512: Hash = Hash {
    algorithm: &digest::SHA512,
    mechanism: MechanismType::SHA512,
    mgf: PkcsMgfType::MGF1_SHA512,
    digest_info: &[
        0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        0x05, 0x00, 0x04, 0x40,
    ],
};

impl TokenSigner {
    /// The mechanism and the bytes the token signs.
    fn request(&self, message: &[u8]) -> (Mechanism<'static>, Vec<u8>) {
        use SignatureScheme as S;
        let hash = match self.scheme {
            S::RSA_PSS_SHA384 | S::RSA_PKCS1_SHA384 | S::ECDSA_NISTP384_SHA384 => &SHA384,
            S::RSA_PSS_SHA512 | S::RSA_PKCS1_SHA512 => &SHA512,
            _ => &SHA256,
        };
        let pss = PkcsPssParams {
            hash_alg: hash.mechanism,
            mgf: hash.mgf,
            s_len: (hash.algorithm.output_len() as u64).into(),
        };
        let hashed = || digest::digest(hash.algorithm, message).as_ref().to_vec();
        let whole = message.to_vec();
        match (self.scheme, self.plan) {
            (S::RSA_PSS_SHA256 | S::RSA_PSS_SHA384 | S::RSA_PSS_SHA512, Plan::Prehashed) => {
                (Mechanism::RsaPkcsPss(pss), hashed())
            }
            (S::RSA_PSS_SHA256, Plan::Whole) => (Mechanism::Sha256RsaPkcsPss(pss), whole),
            (S::RSA_PSS_SHA384, Plan::Whole) => (Mechanism::Sha384RsaPkcsPss(pss), whole),
            (S::RSA_PSS_SHA512, Plan::Whole) => (Mechanism::Sha512RsaPkcsPss(pss), whole),
            (S::RSA_PKCS1_SHA384, Plan::Whole) => (Mechanism::Sha384RsaPkcs, whole),
            (S::RSA_PKCS1_SHA512, Plan::Whole) => (Mechanism::Sha512RsaPkcs, whole),
            (S::RSA_PKCS1_SHA256, Plan::Whole) => (Mechanism::Sha256RsaPkcs, whole),
            (S::RSA_PKCS1_SHA256 | S::RSA_PKCS1_SHA384 | S::RSA_PKCS1_SHA512, Plan::Prehashed) => {
                let mut data = hash.digest_info.to_vec();
                data.extend_from_slice(&hashed());
                (Mechanism::RsaPkcs, data)
            }
            (S::ECDSA_NISTP384_SHA384, Plan::Whole) => (Mechanism::EcdsaSha384, whole),
            (_, Plan::Whole) => (Mechanism::EcdsaSha256, whole),
            (_, Plan::Prehashed) => (Mechanism::Ecdsa, hashed()),
        }
    }
}

impl Signer for TokenSigner {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rustls::Error> {
        let key = &self.key;
        let (mechanism, data) = self.request(message);
        let session = key.token.session();
        if key.always_authenticate {
            let pin = key.token.pin.clone().unwrap_or_default();
            session
                .login(UserType::ContextSpecific, Some(&AuthPin::new(pin.into())))
                .map_err(|e| {
                    let err = login_error(e, &key.token.what(), &key.token.pkcs11, key.token.slot);
                    rustls::Error::General(err.to_string())
                })?;
        }
        let signature = session.sign(&mechanism, key.handle, &data).map_err(|e| {
            rustls::Error::General(format!(
                "{}: could not sign with the private key {:?}: {e}",
                key.token.what(),
                key.label
            ))
        })?;
        drop(session);
        if key.algorithm == SignatureAlgorithm::ECDSA {
            Ok(ecdsa_der(&signature))
        } else {
            Ok(signature)
        }
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// PKCS#11 gives an ECDSA signature as `r || s`; TLS wants
/// `SEQUENCE { INTEGER r, INTEGER s }`.
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = Vec::with_capacity(raw.len() + 8);
    for half in [r, s] {
        let start = half.iter().position(|&b| b != 0).unwrap_or(half.len() - 1);
        let digits = &half[start..];
        let pad = digits[0] & 0x80 != 0;
        body.push(0x02);
        push_length(&mut body, digits.len() + usize::from(pad));
        if pad {
            body.push(0);
        }
        body.extend_from_slice(digits);
    }
    let mut out = vec![0x30];
    push_length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_become_der() {
        // r has its high bit set (gets a 0 in front), s has leading zeros.
        let mut raw = vec![0x80; 32];
        raw.extend([0u8; 31]);
        raw.push(0x05);
        let der = ecdsa_der(&raw);
        assert_eq!(&der[..4], &[0x30, 2 + 33 + 3, 0x02, 33]);
        assert_eq!(der[4], 0);
        assert_eq!(&der[der.len() - 3..], &[0x02, 1, 0x05]);
        // P-384 halves, both with the high bit set: still a short length.
        let der = ecdsa_der(&[0xff; 96]);
        assert_eq!(&der[..2], &[0x30, 2 * (2 + 49)]);
        let mut long = Vec::new();
        push_length(&mut long, 300);
        assert_eq!(long, [0x82, 0x01, 0x2c]);
    }
}
