//! A throw-away CA and a server certificate for `localhost`, written to a
//! temporary directory for the TLS server child to load.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// The files of a server identity, and the CA that clients trust.
pub(crate) struct ServerIdentity {
    pub(crate) ca_pem: String,
    pub(crate) cert_path: PathBuf,
    pub(crate) key_path: PathBuf,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Sock Attack Suite");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Makes the CA and the `localhost` certificate, writing them under `dir`.
pub(crate) fn server_identity(dir: &Path) -> Result<ServerIdentity, String> {
    let fail = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(fail)?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = dn("Attack Suite CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(fail)?;

    let key = KeyPair::generate().map_err(fail)?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).map_err(fail)?;
    leaf.distinguished_name = dn("localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).map_err(fail)?;

    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server.key");
    let write = |p: &Path, text: String| {
        std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write(&cert_path, cert.pem())?;
    write(&key_path, key.serialize_pem())?;
    Ok(ServerIdentity {
        ca_pem: ca_cert.pem(),
        cert_path,
        key_path,
    })
}
