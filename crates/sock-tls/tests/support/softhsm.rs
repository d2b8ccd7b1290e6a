//! A SoftHSM2 token directory made once per test process, in a temporary
//! directory of its own (`SOFTHSM2_CONF` points at its configuration), with
//! the tokens the tests use: keys and certificates made at test time and
//! imported with `softhsm2-util` and `pkcs11-tool`.
//!
//! SoftHSM reads its configuration when the module is first initialized,
//! once per process, so every token is made before that, here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rcgen::KeyPair;
use sock_tls::Pkcs11Uri;

use super::openssl::{rsa_key_pem, write};
use super::{Ca, Leaf, LeafSpec};

/// The user PIN of every token.
pub const PIN: &str = "1234";
const SO_PIN: &str = "123456";

/// The tokens and what they hold.
pub struct Hsm {
    _dir: tempfile::TempDir,
    pub module: PathBuf,
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

/// Where Debian and others put SoftHSM2's module.
fn module() -> PathBuf {
    if let Some(path) = std::env::var_os("SOFTHSM2_MODULE") {
        return path.into();
    }
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib64/pkcs11/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .expect(
        "SoftHSM2 is not installed: `cargo xtask test` installs it (as root), \
         or apt-get install softhsm2 opensc",
    )
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{program} could not start ({e}): `cargo xtask test` installs it (as root), \
             or apt-get install softhsm2 opensc"
            )
        });
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The tokens, made on first use.
pub fn hsm() -> &'static Hsm {
    static HSM: OnceLock<Hsm> = OnceLock::new();
    HSM.get_or_init(make)
}

fn make() -> Hsm {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = write(
        dir.path(),
        "softhsm2.conf",
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    );
    // Before any thread loads the module; every test of this process asks
    // for the tokens first.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let module = module();
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

    let hsm = Hsm {
        module,
        ca,
        alice,
        bob,
        carol,
        erin,
        _dir: dir,
    };
    let work = hsm._dir.path();
    hsm.token(
        "sock-rsa",
        work,
        &[("alice", "01", Some(&hsm.alice), Some(&hsm.alice))],
    );
    hsm.token(
        "sock-p256",
        work,
        &[("bob", "02", Some(&hsm.bob), Some(&hsm.bob))],
    );
    hsm.token(
        "sock-p384",
        work,
        &[("carol", "03", Some(&hsm.carol), Some(&hsm.carol))],
    );
    hsm.token(
        "sock-pin",
        work,
        &[("erin", "05", Some(&hsm.erin), Some(&hsm.erin))],
    );
    hsm.token("sock-empty", work, &[]);
    hsm.token("sock-nocert", work, &[("frank", "06", Some(&frank), None)]);
    hsm.token(
        "sock-two",
        work,
        &[
            ("one", "08", Some(&frank), Some(&frank)),
            ("two", "09", Some(&grace), Some(&grace)),
        ],
    );
    hsm.token(
        "sock-mismatch",
        work,
        &[("grace", "07", Some(&grace), Some(&not_grace))],
    );
    hsm
}

type Object<'a> = (&'a str, &'a str, Option<&'a Leaf>, Option<&'a Leaf>);

impl Hsm {
    /// Makes a token `label` holding, for each `(label, id, key of, certificate of)`,
    /// that leaf's private key and certificate.
    fn token(&self, label: &str, work: &Path, objects: &[Object<'_>]) {
        run(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                PIN,
                "--so-pin",
                SO_PIN,
            ],
        );
        let module = self.module.to_str().unwrap();
        for (object, id, key, cert) in objects {
            if let Some(key) = key {
                let file = write(work, &format!("{label}-{object}.key"), &key.key_pem);
                run(
                    "softhsm2-util",
                    &[
                        "--import",
                        file.to_str().unwrap(),
                        "--token",
                        label,
                        "--label",
                        object,
                        "--id",
                        id,
                        "--pin",
                        PIN,
                    ],
                );
            }
            if let Some(cert) = cert {
                let file = write(work, &format!("{label}-{object}.der"), cert.der.as_ref());
                run(
                    "pkcs11-tool",
                    &[
                        "--module",
                        module,
                        "--token-label",
                        label,
                        "--login",
                        "--pin",
                        PIN,
                        "--write-object",
                        file.to_str().unwrap(),
                        "--type",
                        "cert",
                        "--id",
                        id,
                        "--label",
                        object,
                    ],
                );
            }
        }
    }

    /// The object `object` on token `token`, with the PIN.
    pub fn uri(&self, token: &str, object: &str) -> Pkcs11Uri {
        Pkcs11Uri::new()
            .module_path(&self.module)
            .token_label(token)
            .object_label(object)
            .pin(PIN)
    }
}
