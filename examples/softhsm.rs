//! Throw-away SoftHSM2 tokens for the examples, the benches and sock-tls's
//! tests (which include this file): a token directory of its own in a
//! temporary directory, keys and certificates imported with `softhsm2-util`
//! and OpenSC's `pkcs11-tool`.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when its module is first loaded, once per
//! process: make one [`SoftHsm`] and all its tokens before anything in the
//! process uses SoftHSM2.

use std::path::{Path, PathBuf};
use std::process::Command;

use sock_tls::Pkcs11Uri;

/// The user PIN of the tokens made here.
pub const PIN: &str = "1234";

const SO_PIN: &str = "123456";

const INSTALL: &str =
    "install SoftHSM2 and OpenSC (apt-get install softhsm2 opensc; cargo xtask test does it as root)";

/// A SoftHSM2 token directory; removed when this is dropped.
#[derive(Debug)]
pub struct SoftHsm {
    dir: PathBuf,
    module: PathBuf,
}

/// What to put on a token: a private key (PKCS#8 PEM) and a certificate
/// (DER), either or both, under one label and id (hexadecimal).
#[derive(Debug, Clone, Copy)]
pub struct TokenObject<'a> {
    /// The label (`CKA_LABEL`) of the key and the certificate.
    pub label: &'a str,
    /// Their id (`CKA_ID`), in hexadecimal (`"01"`).
    pub id: &'a str,
    /// The private key, PKCS#8 PEM.
    pub key_pem: Option<&'a str>,
    /// The certificate, DER.
    pub cert_der: Option<&'a [u8]>,
}

/// Where SoftHSM2's PKCS#11 module is (`SOFTHSM2_MODULE` overrides).
fn find_module() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SOFTHSM2_MODULE") {
        return Some(path.into());
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
    .find(|path| path.is_file())
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program} could not start ({e}): {INSTALL}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

impl SoftHsm {
    /// Makes an empty token directory (its name has `tag` in it) and points
    /// `SOFTHSM2_CONF` at its configuration.
    ///
    /// # Errors
    ///
    /// What went wrong, with what to install when SoftHSM2 is missing.
    pub fn new(tag: &str) -> Result<Self, String> {
        let module =
            find_module().ok_or_else(|| format!("SoftHSM2's module was not found: {INSTALL}"))?;
        let dir = std::env::temp_dir().join(format!("sock-softhsm-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let hsm = Self { dir, module };
        let tokens = hsm.dir.join("tokens");
        std::fs::create_dir_all(&tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
        let conf = hsm.write(
            "softhsm2.conf",
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            )
            .as_bytes(),
        )?;
        std::env::set_var("SOFTHSM2_CONF", &conf);
        Ok(hsm)
    }

    /// The PKCS#11 module to load.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// Makes token `label` (user PIN [`PIN`]) holding `objects`.
    ///
    /// # Errors
    ///
    /// What `softhsm2-util` or `pkcs11-tool` said.
    pub fn add_token(&self, label: &str, objects: &[TokenObject<'_>]) -> Result<(), String> {
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
        )?;
        for object in objects {
            if let Some(key) = object.key_pem {
                let file = self.write(&format!("{label}-{}.key", object.id), key.as_bytes())?;
                let imported = run(
                    "softhsm2-util",
                    &[
                        "--import",
                        &shown(&file),
                        "--token",
                        label,
                        "--label",
                        object.label,
                        "--id",
                        object.id,
                        "--pin",
                        PIN,
                    ],
                );
                // The token has the key now (or failed to); the copy goes.
                let _ = std::fs::remove_file(&file);
                imported?;
            }
            if let Some(cert) = object.cert_der {
                let file = self.write(&format!("{label}-{}.der", object.id), cert)?;
                run(
                    "pkcs11-tool",
                    &[
                        "--module",
                        &shown(&self.module),
                        "--token-label",
                        label,
                        "--login",
                        "--pin",
                        PIN,
                        "--write-object",
                        &shown(&file),
                        "--type",
                        "cert",
                        "--id",
                        object.id,
                        "--label",
                        object.label,
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// The object `object` on token `token`, with the module and the PIN.
    pub fn uri(&self, token: &str, object: &str) -> Pkcs11Uri {
        Pkcs11Uri::new()
            .module_path(&self.module)
            .token_label(token)
            .object_label(object)
            .pin(PIN)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        let file = self.dir.join(name);
        std::fs::write(&file, bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(file)
    }
}

impl Drop for SoftHsm {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
