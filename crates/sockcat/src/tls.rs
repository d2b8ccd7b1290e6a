//! The TLS options made into sock-tls configurations: the client's (roots,
//! a client certificate from PEM, PKCS#12 or a PKCS#11 token, ignorable
//! certificate problems, ALPN) and the server's (its certificate, client
//! certificates required with `--ca`); and `-v`'s report of a handshake.

use std::path::Path;
use std::time::Duration;

use sock::tls::{
    Certificate, ClientAuth, IgnorableCertificateError, Pkcs11Uri, TlsClientConfig,
    TlsConnectionInfo, TlsServerConfig,
};
use sock::ProtectionLevel;

use crate::certs;
use crate::cli::{Common, IgnoreArg, TlsVersionArg};
use crate::exit::Failure;

/// The protection level `--tls[=VERSION]` asks for.
pub(crate) fn level(version: TlsVersionArg) -> ProtectionLevel {
    match version {
        TlsVersionArg::Any => ProtectionLevel::Unspecified,
        TlsVersionArg::Tls12 => ProtectionLevel::Tls12,
        TlsVersionArg::Tls13 => ProtectionLevel::Tls13,
    }
}

/// `--ignore` as sock-tls's kinds.
pub(crate) fn ignorable(ignore: &[IgnoreArg]) -> Vec<IgnorableCertificateError> {
    ignore
        .iter()
        .map(|i| match i {
            IgnoreArg::UntrustedRoot => IgnorableCertificateError::UntrustedRoot,
            IgnoreArg::Expired => IgnorableCertificateError::Expired,
            IgnoreArg::InvalidName => IgnorableCertificateError::InvalidName,
        })
        .collect()
}

/// The client certificate from `--pkcs12` or `--pkcs11-uri`, if either is
/// given (`--cert`/`--key` go to the builder as files).
pub(crate) fn client_certificate(common: &Common) -> Result<Option<Certificate>, Failure> {
    if let Some(path) = &common.pkcs12 {
        let password = common.pkcs12_password.as_deref().unwrap_or("");
        return Ok(Some(Certificate::from_pkcs12_file(path, password)?));
    }
    if let Some(uri) = &common.pkcs11_uri {
        let uri = Pkcs11Uri::parse(uri)?;
        return Ok(Some(Certificate::from_pkcs11(&uri)?));
    }
    Ok(None)
}

/// The client configuration the TLS options describe.
pub(crate) fn client_config(
    common: &Common,
    version: TlsVersionArg,
    handshake_timeout: Duration,
) -> Result<TlsClientConfig, Failure> {
    let mut builder = TlsClientConfig::builder()
        .protection_level(level(version))
        .handshake_timeout(handshake_timeout)
        .ignorable_server_certificate_errors(&ignorable(&common.ignore));
    for ca in &common.ca {
        builder = builder.add_root_certificates_pem_file(ca);
    }
    if let (Some(cert), Some(key)) = (&common.cert, &common.key) {
        builder = builder.client_certificate_pem_files(cert, key);
    }
    if let Some(certificate) = client_certificate(common)? {
        builder = builder.client_certificate_from(certificate);
    }
    if !common.alpn.is_empty() {
        builder = builder.alpn_protocols(&common.alpn);
    }
    Ok(builder.build()?)
}

/// The server configuration the TLS options describe: `--cert`/`--key`
/// are required, `--ca` makes client certificates required.
pub(crate) fn server_config(
    common: &Common,
    version: TlsVersionArg,
) -> Result<TlsServerConfig, Failure> {
    if common.pkcs12.is_some() || common.pkcs11_uri.is_some() {
        return Err(Failure::Usage(
            "--pkcs12 and --pkcs11-uri are for client certificates; a TLS listener takes its \
             certificate with --cert and --key"
                .to_owned(),
        ));
    }
    let (Some(cert), Some(key)) = (&common.cert, &common.key) else {
        return Err(Failure::Usage(
            "a TLS listener needs its certificate: --cert FILE --key FILE".to_owned(),
        ));
    };
    let mut builder = TlsServerConfig::builder()
        .protection_level(level(version))
        .certificate_chain_pem_files(cert, key);
    if !common.ca.is_empty() {
        let mut roots = Vec::new();
        for ca in &common.ca {
            roots.extend(read_file(ca)?);
        }
        builder = builder.client_authentication(ClientAuth::required_pem(&roots)?);
    }
    if !common.alpn.is_empty() {
        builder = builder.alpn_protocols(&common.alpn);
    }
    Ok(builder.build()?)
}

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::input(format!("file {}", path.display()), e))
}

/// What `-v` prints after a handshake: the session, and the peer's
/// certificate (the server's for a client, the client's for a server).
pub(crate) fn report(info: &TlsConnectionInfo) -> Vec<String> {
    let mut lines = vec![certs::session_line(info)];
    match info.peer_certificate() {
        Some(cert) => lines.push(format!(
            "peer certificate: {}",
            certs::certificate_line(cert)
        )),
        None => lines.push("the peer presented no certificate".to_owned()),
    }
    for problem in info.waived_certificate_errors() {
        lines.push(format!("waived: {problem} [{}]", problem.status()));
    }
    lines
}
