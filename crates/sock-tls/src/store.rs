//! Certificate stores as UWP's `CertificateStores`: a directory per store
//! name holding PEM and PKCS#12 files, and PKCS#11 tokens; `find_all` with a
//! [`CertificateQuery`], and `add` to provision a store.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sock_core::{io_context, Error, Result};

use crate::certificate::Key;
use crate::sys::{make_private_dir, write_private_file};
use crate::{pem, Certificate, CertificateQuery};

/// A store file larger than this (1 MiB) is skipped, not read: no
/// certificate file is that large.
pub const MAX_STORE_FILE_LENGTH: u64 = 1024 * 1024;

/// The certificate stores (UWP's `CertificateStores`): one directory per
/// store under a root, and PKCS#11 tokens.
///
/// The root is `$XDG_DATA_HOME/sock/certs` (`~/.local/share/sock/certs`
/// when `XDG_DATA_HOME` is unset), or the one given to
/// [`with_root`](Self::with_root). Each store is a directory named as the
/// store (compared ignoring ASCII case), holding:
///
/// * `*.pem`, `*.crt`, `*.cer`: a certificate, then its issuers (PEM, or
///   one DER certificate), with its private key in the same file or in a
///   `.key` file of the same name;
/// * `*.p12`, `*.pfx`: PKCS#12 files, opened with the empty password or one
///   given to [`pkcs12_password`](Self::pkcs12_password).
///
/// The friendly name is the PKCS#12 bag's, else the file's name without
/// its extension. Keep the directories private (`add` makes them `0700` and
/// its files `0600`): the keys in them are not encrypted.
///
/// How UWP's stores map here:
///
/// | UWP | store name | what it holds |
/// |---|---|---|
/// | `CertificateStores.GetStoreByName("MY")` (Personal) | `MY` | your certificates with their keys: client certificates |
/// | `TrustedRootCertificationAuthorities` | `Root` | roots you trust (give them to `add_root_certificates_pem`) |
/// | `IntermediateCertificationAuthorities` | `CA` | intermediate CAs |
/// | other `GetStoreByName` names (`TrustedPeople`, …) | the same name | as you use them |
/// | smartcards (Windows propagates them into MY) | `MY`, from each token given to `pkcs11_token` (feature `pkcs11`) | certificates whose keys stay on the token |
///
/// The machine-wide stores of Windows have no counterpart: the operating
/// system's trust roots are used by
/// [`TlsClientConfigBuilder::with_os_roots`](crate::TlsClientConfigBuilder::with_os_roots).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// use sock_tls::{CertificateQuery, CertificateStores, TlsClientConfig};
///
/// let query = CertificateQuery::new().store_name("MY").has_private_key(true);
/// let found = CertificateStores::new().find_all(&query).await?;
/// let Some(certificate) = found.first() else {
///     panic!("no client certificate in the MY store");
/// };
/// let config = TlsClientConfig::builder()
///     .client_certificate_from(certificate.clone())
///     .build()?;
/// println!("{:?}", config.protection_level());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CertificateStores {
    root: PathBuf,
    passwords: Vec<String>,
    #[cfg(feature = "pkcs11")]
    tokens: Vec<crate::Pkcs11Uri>,
}

impl std::fmt::Debug for CertificateStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("CertificateStores");
        out.field("root", &self.root)
            .field("pkcs12_passwords", &self.passwords.len());
        #[cfg(feature = "pkcs11")]
        out.field("pkcs11_tokens", &self.tokens);
        out.finish()
    }
}

impl Default for CertificateStores {
    fn default() -> Self {
        Self::new()
    }
}

/// One store: a directory of certificate files (UWP's `CertificateStore`).
#[derive(Debug, Clone)]
pub struct CertificateStore {
    name: String,
    path: PathBuf,
}

/// What [`CertificateStores::find_all`] found: the certificates, in store
/// and file-name order, and the store files it could not read.
#[derive(Debug, Default)]
pub struct FoundCertificates {
    certificates: Vec<Certificate>,
    skipped: Vec<Error>,
}

impl FoundCertificates {
    /// The certificates found.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The first certificate found, as the sockets guide takes it.
    pub fn first(&self) -> Option<&Certificate> {
        self.certificates.first()
    }

    /// How many were found.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether none was found.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// The store files that could not be read (a damaged file, a PKCS#12
    /// file none of the passwords opens, one larger than
    /// [`MAX_STORE_FILE_LENGTH`]), each an error naming the file: when the
    /// certificate you expected is missing, the reason is here.
    pub fn skipped(&self) -> &[Error] {
        &self.skipped
    }

    /// The certificates, taken out.
    pub fn into_certificates(self) -> Vec<Certificate> {
        self.certificates
    }
}

impl IntoIterator for FoundCertificates {
    type Item = Certificate;
    type IntoIter = std::vec::IntoIter<Certificate>;

    fn into_iter(self) -> Self::IntoIter {
        self.certificates.into_iter()
    }
}

/// The store UWP propagates smartcard certificates into.
#[cfg(feature = "pkcs11")]
const TOKEN_STORE: &str = "MY";

impl CertificateStores {
    /// The stores under `$XDG_DATA_HOME/sock/certs` (or
    /// `~/.local/share/sock/certs`), with no PKCS#12 password but the empty
    /// one and no token.
    pub fn new() -> Self {
        let root = std::env::var_os("XDG_DATA_HOME")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")))
            .unwrap_or_default()
            .join("sock/certs");
        Self::with_root(root)
    }

    /// The stores under `root` (each store a directory in it).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            passwords: Vec::new(),
            #[cfg(feature = "pkcs11")]
            tokens: Vec::new(),
        }
    }

    /// The directory the stores are in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A password to open the stores' PKCS#12 files with (each file is
    /// tried with the empty password, then each password given).
    pub fn pkcs12_password(mut self, password: impl Into<String>) -> Self {
        self.passwords.push(password.into());
        self
    }

    /// Lists the certificates of the tokens `uri` names (narrowed by its
    /// `object` and `id`) in the `MY` store, logging in with its PIN so that
    /// their private keys are found (feature `pkcs11`).
    #[cfg(feature = "pkcs11")]
    pub fn pkcs11_token(mut self, uri: crate::Pkcs11Uri) -> Self {
        self.tokens.push(uri);
        self
    }

    /// The store named `name` (UWP's `CertificateStores.GetStoreByName`):
    /// an existing directory whose name matches ignoring ASCII case, else
    /// `root/name`, made by [`CertificateStore::add`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`store_name`) for a name that is empty or
    /// is not a single directory name (`/`, `..`).
    pub fn store_by_name(&self, name: &str) -> Result<CertificateStore> {
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
            return Err(Error::InvalidArgument {
                setting: "store_name",
                reason: format!("{name:?} is not a store name (one directory name, like \"MY\")"),
            });
        }
        let existing = self
            .stores()
            .into_iter()
            .find(|store| store.name.eq_ignore_ascii_case(name));
        Ok(existing.unwrap_or_else(|| CertificateStore {
            name: name.to_owned(),
            path: self.root.join(name),
        }))
    }

    /// The store directories present, by name.
    fn stores(&self) -> Vec<CertificateStore> {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut stores: Vec<CertificateStore> = entries
            .filter_map(std::result::Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                Some(CertificateStore {
                    name,
                    path: entry.path(),
                })
            })
            .collect();
        stores.sort_by(|a, b| a.name.cmp(&b.name));
        stores
    }

    /// Finds the certificates `query` asks for (UWP's
    /// `CertificateStores.FindAllAsync`), reading the store files and the
    /// tokens on tokio's blocking pool.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a malformed thumbprint; an error of a
    /// token given to `pkcs11_token` (its module,
    /// PIN, …) when the query includes the `MY` store. Files that cannot be
    /// read are not errors: they are in
    /// [`FoundCertificates::skipped`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is changed by a search. A search dropped while
    /// reading finishes on the blocking pool and its result is discarded.
    pub async fn find_all(&self, query: &CertificateQuery) -> Result<FoundCertificates> {
        let stores = self.clone();
        let query = query.clone();
        tokio::task::spawn_blocking(move || stores.find_all_blocking(&query))
            .await
            .map_err(|e| Error::Io(io_context(std::io::Error::other(e), "certificate search")))?
    }

    /// As [`find_all`](Self::find_all), on the calling thread (it blocks
    /// while reading files and talking to tokens).
    ///
    /// # Errors
    ///
    /// As [`find_all`](Self::find_all).
    pub fn find_all_blocking(&self, query: &CertificateQuery) -> Result<FoundCertificates> {
        query.validate()?;
        let now = SystemTime::now();
        let passwords: Vec<&str> = std::iter::once("")
            .chain(self.passwords.iter().map(String::as_str))
            .collect();
        let mut found = FoundCertificates::default();
        for store in self.stores() {
            if query
                .wanted_store()
                .is_some_and(|name| !name.eq_ignore_ascii_case(&store.name))
            {
                continue;
            }
            store.read(&passwords, &mut found);
        }
        #[cfg(feature = "pkcs11")]
        if query
            .wanted_store()
            .is_none_or(|name| name.eq_ignore_ascii_case(TOKEN_STORE))
        {
            for uri in &self.tokens {
                for certificate in crate::pkcs11::list(uri)? {
                    found
                        .certificates
                        .push(certificate.with_store_name(TOKEN_STORE));
                }
            }
        }
        found.certificates.retain(|certificate| {
            query.matches(
                certificate.store_name().unwrap_or_default(),
                certificate,
                now,
            )
        });
        Ok(found)
    }
}

impl CertificateStore {
    /// The store's name (`MY`, `Root`, …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every certificate file of the store into `found`.
    fn read(&self, passwords: &[&str], found: &mut FoundCertificates) {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(std::result::Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .map(|entry| entry.path())
            .collect();
        files.sort();
        for path in files {
            let extension = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let result = match extension.as_str() {
                "pem" | "crt" | "cer" => self.read_certificate_file(&path).map(|c| vec![c]),
                "p12" | "pfx" => self.read_pkcs12_file(&path, passwords),
                _ => continue,
            };
            match result {
                Ok(certificates) => found.certificates.extend(
                    certificates
                        .into_iter()
                        .map(|c| c.with_store_name(&self.name)),
                ),
                Err(e) => found.skipped.push(e),
            }
        }
    }

    fn read_certificate_file(&self, path: &Path) -> Result<Certificate> {
        let what = pem::file_label("store certificate", path);
        let bytes = read_bounded(path, &what)?;
        let chain = if bytes.first() == Some(&0x30) {
            vec![CertificateDer::from(bytes.clone())]
        } else {
            pem::certificates(&bytes, &what)?
        };
        let key = match PrivateKeyDer::from_pem_slice(&bytes) {
            Ok(key) => Some(key),
            Err(_) => {
                let key_path = path.with_extension("key");
                if key_path.is_file() {
                    let key_what = pem::file_label("store private key", &key_path);
                    let key_bytes = read_bounded(&key_path, &key_what)?;
                    Some(pem::private_key(&key_bytes, &key_what)?)
                } else {
                    None
                }
            }
        };
        let certificate = Certificate::new(chain, key.map_or(Key::None, Key::Memory), what)?;
        Ok(match stem(path) {
            Some(name) => certificate.with_friendly_name(name),
            None => certificate,
        })
    }

    fn read_pkcs12_file(&self, path: &Path, passwords: &[&str]) -> Result<Vec<Certificate>> {
        let what = pem::file_label("store pkcs#12 file", path);
        let bytes = read_bounded(path, &what)?;
        let certificates = crate::pkcs12::read_any(&bytes, passwords, &what)?;
        Ok(certificates
            .into_iter()
            .map(|c| match (c.friendly_name(), stem(path)) {
                (None, Some(name)) => c.with_friendly_name(name),
                _ => c,
            })
            .collect())
    }

    /// Adds `certificate` to the store (UWP's `CertificateStore.Add`): its
    /// chain and private key in a PEM file named after its friendly name (or
    /// thumbprint), readable by its owner only. Makes the store's directory
    /// when it does not exist.
    ///
    /// This blocks while writing; it is meant for provisioning.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`certificate`) for a certificate whose
    /// key is on a token (the token is its store); [`Error::Io`] when the
    /// directory or file cannot be written, or a file of that name exists.
    pub fn add(&self, certificate: &Certificate) -> Result<PathBuf> {
        let mut text = String::new();
        for cert in certificate.chain() {
            text.push_str(&pem::encode("CERTIFICATE", cert));
        }
        match certificate.key() {
            Key::None => {}
            Key::Memory(key) => {
                let label = match key {
                    PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
                    PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
                    _ => "PRIVATE KEY",
                };
                text.push_str(&pem::encode(label, key.secret_der()));
            }
            Key::Token(_) => {
                return Err(Error::InvalidArgument {
                    setting: "certificate",
                    reason: "its private key is on a pkcs#11 token and cannot be copied; \
                             list the token with CertificateStores::pkcs11_token instead"
                        .to_owned(),
                })
            }
        }
        let name: String = certificate
            .friendly_name()
            .map(|name| {
                name.chars()
                    .map(|c| {
                        if c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_') {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect::<String>()
            })
            .filter(|name| !name.trim_matches('.').is_empty())
            .unwrap_or_else(|| certificate.thumbprint_hex());
        let path = self.path.join(format!("{name}.pem"));
        let fail = |e: std::io::Error, doing: &str| {
            Error::Io(io_context(
                e,
                format!("{doing} {:?}", path.display().to_string()),
            ))
        };
        make_private_dir(&self.path).map_err(|e| fail(e, "could not make the store for"))?;
        write_private_file(&path, text.as_bytes()).map_err(|e| fail(e, "could not write"))?;
        Ok(path)
    }
}

fn stem(path: &Path) -> Option<String> {
    path.file_stem().and_then(|s| s.to_str()).map(str::to_owned)
}

/// Reads a store file, refusing one larger than [`MAX_STORE_FILE_LENGTH`].
fn read_bounded(path: &Path, what: &str) -> Result<Vec<u8>> {
    let length = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if length > MAX_STORE_FILE_LENGTH {
        return Err(pem::invalid(
            what,
            format!(
                "{length} bytes is more than the maximum of {MAX_STORE_FILE_LENGTH} \
                 (MAX_STORE_FILE_LENGTH) for a store file"
            ),
            None,
        ));
    }
    pem::read_file(path, what)
}
