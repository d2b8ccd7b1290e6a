//! The SoftHSM2 tokens the tests use, made once per test process (with the
//! examples' token maker): keys and certificates made at test time.
//!
//! SoftHSM reads its configuration when the module is first initialized,
//! once per process, so every token is made here, before that.

use std::sync::OnceLock;

use rcgen::KeyPair;
use sock_tls::Pkcs11Uri;

use super::openssl::rsa_key_pem;
use super::{Ca, Leaf, LeafSpec};

#[path = "../../../../../examples/softhsm.rs"]
mod maker;

#[allow(unused_imports)] // used by the token tests, not by every test binary
pub use maker::PIN;
use maker::{SoftHsm, TokenObject};

/// The tokens and what they hold.
pub struct Hsm {
    hsm: SoftHsm,
    pub module: std::path::PathBuf,
    /// Issued every certificate on the tokens.
    pub ca: Ca,
    /// On `sock-rsa`: `alice`, RSA 2048, id 01.
    pub alice: Leaf,
    /// On `sock-p256`: `bob`, ECDSA P-256, id 02.
    pub bob: Leaf,
    /// On `sock-p384`: `carol`, ECDSA P-384, id 03.
    pub carol: Leaf,
    /// On `sock-pin` (for wrong PINs): `erin`, P-256, id 05.
    pub erin: Leaf,
}

/// The tokens, made on first use; every test of the process asks for them
/// before anything loads SoftHSM2.
pub fn hsm() -> &'static Hsm {
    static HSM: OnceLock<Hsm> = OnceLock::new();
    HSM.get_or_init(make)
}

/// A key and certificate object: `leaf`'s key and `cert`'s certificate.
fn object<'a>(
    label: &'a str,
    id: &'a str,
    key: Option<&'a Leaf>,
    cert: Option<&'a Leaf>,
) -> TokenObject<'a> {
    TokenObject {
        label,
        id,
        key_pem: key.map(|leaf| leaf.key_pem.as_str()),
        cert_der: cert.map(|leaf| leaf.der.as_ref()),
    }
}

fn make() -> Hsm {
    let hsm = SoftHsm::new("tests").unwrap_or_else(|problem| panic!("{problem}"));
    let ca = Ca::new("Token CA");
    let rsa = KeyPair::from_pem_and_sign_algo(&rsa_key_pem(2048), &rcgen::PKCS_RSA_SHA256).unwrap();
    let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let alice = ca.issue_with_key(LeafSpec::client("alice"), &rsa);
    let bob = ca.client("bob");
    let carol = ca.issue_with_key(LeafSpec::client("carol"), &p384);
    let erin = ca.client("erin");
    let frank = ca.client("frank");
    let grace = ca.client("grace");
    let not_grace = ca.client("not-grace");
    let both = |label, id, leaf| object(label, id, Some(leaf), Some(leaf));
    let tokens: [(&str, Vec<TokenObject<'_>>); 9] = [
        ("sock-rsa", vec![both("alice", "01", &alice)]),
        ("sock-p256", vec![both("bob", "02", &bob)]),
        ("sock-p384", vec![both("carol", "03", &carol)]),
        ("sock-pin", vec![both("erin", "05", &erin)]),
        ("sock-empty", vec![]),
        // Never logged into: login state is per process, so a token some
        // test logs into shows its private keys to every later session.
        ("sock-hidden", vec![both("henry", "0a", &erin)]),
        (
            "sock-nocert",
            vec![object("frank", "06", Some(&frank), None)],
        ),
        (
            "sock-two",
            vec![both("one", "08", &frank), both("two", "09", &grace)],
        ),
        (
            "sock-mismatch",
            vec![object("grace", "07", Some(&grace), Some(&not_grace))],
        ),
    ];
    for (label, objects) in &tokens {
        hsm.add_token(label, objects)
            .unwrap_or_else(|problem| panic!("{problem}"));
    }
    Hsm {
        module: hsm.module().to_owned(),
        hsm,
        ca,
        alice,
        bob,
        carol,
        erin,
    }
}

impl Hsm {
    /// The object `object` on token `token`, with the PIN.
    pub fn uri(&self, token: &str, object: &str) -> Pkcs11Uri {
        self.hsm.uri(token, object)
    }
}
