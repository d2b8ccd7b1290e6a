//! PKCS#11 tokens (feature `pkcs11`): smartcards, HSMs, TPMs and NSS
//! databases through their PKCS#11 module, SoftHSM2. A client certificate
//! whose private key stays on the token, which signs each handshake.
//!
//! * `uri.rs`: [`Pkcs11Uri`], the RFC 7512 selection of module, token,
//!   object and PIN.
//! * `token.rs`: loading modules, finding tokens and objects, logging in.
//! * `signer.rs`: the rustls signing key over the token.
//! * `identity.rs`: the certificate and key a URI names, and a token's
//!   certificates for a store.

mod identity;
mod signer;
mod token;
mod uri;

pub use uri::Pkcs11Uri;

pub(crate) use identity::list;
