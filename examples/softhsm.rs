//! A throw-away SoftHSM2 token for the examples and benches: a token
//! directory of its own in a temporary directory, one private key and its
//! certificate imported with `softhsm2-util` and OpenSC's `pkcs11-tool`.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when its module is first loaded, once per
//! process: make the token before anything in the process uses SoftHSM2.

use std::path::{Path, PathBuf};
use std::process::Command;

use sock_tls::Pkcs11Uri;

/// The user PIN of the tokens made here.
pub const PIN: &str = "1234";

/// A token holding one key and certificate (object id 01); the directory
/// goes away when this is dropped.
#[derive(Debug)]
pub struct SoftHsmToken {
    dir: PathBuf,
    /// Names the key on the token, with the module and the PIN.
    pub uri: Pkcs11Uri,
}

/// Where SoftHSM2's PKCS#11 module is (`SOFTHSM2_MODULE` overrides).
pub fn module() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SOFTHSM2_MODULE") {
        return Some(path.into());
    }
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib64/pkcs11/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|path| path.is_file())
}

const INSTALL: &str =
    "install SoftHSM2 and OpenSC (apt-get install softhsm2 opensc; cargo xtask test does it as root)";

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program} could not start ({e}): {INSTALL}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl SoftHsmToken {
    /// Makes token `label` holding `key_pem` (PKCS#8 PEM) and `cert_der` as
    /// object `object`, and points `SOFTHSM2_CONF` at its configuration.
    ///
    /// # Errors
    ///
    /// What went wrong, with what to install when the tools are missing.
    pub fn new(label: &str, object: &str, key_pem: &str, cert_der: &[u8]) -> Result<Self, String> {
        let module =
            module().ok_or_else(|| format!("SoftHSM2's module was not found: {INSTALL}"))?;
        let dir = std::env::temp_dir().join(format!("sock-softhsm-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let token = Self {
            uri: Pkcs11Uri::new()
                .module_path(&module)
                .token_label(label)
                .object_label(object)
                .pin(PIN),
            dir,
        };
        let tokens = token.dir.join("tokens");
        std::fs::create_dir_all(&tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
        let conf = token.write(
            "softhsm2.conf",
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            )
            .as_bytes(),
        )?;
        std::env::set_var("SOFTHSM2_CONF", &conf);
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
                "123456",
            ],
        )?;
        let key = token.write("key.pem", key_pem.as_bytes())?;
        run(
            "softhsm2-util",
            &[
                "--import",
                &path(&key),
                "--token",
                label,
                "--label",
                object,
                "--id",
                "01",
                "--pin",
                PIN,
            ],
        )?;
        let cert = token.write("cert.der", cert_der)?;
        run(
            "pkcs11-tool",
            &[
                "--module",
                &path(&module),
                "--token-label",
                label,
                "--login",
                "--pin",
                PIN,
                "--write-object",
                &path(&cert),
                "--type",
                "cert",
                "--id",
                "01",
                "--label",
                object,
            ],
        )?;
        // The token has the key now; the copy on disk goes.
        let _ = std::fs::remove_file(&key);
        Ok(token)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        let file = self.dir.join(name);
        std::fs::write(&file, bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(file)
    }
}

fn path(path: &Path) -> String {
    path.display().to_string()
}

impl Drop for SoftHsmToken {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
