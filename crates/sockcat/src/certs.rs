//! Certificates and TLS sessions described for people: the negotiated
//! version, cipher and ALPN, a certificate's subject and dates, a chain, and
//! the problems found with it (for `-v` and for TLS failures).

use std::time::SystemTime;

use sock::tls::{
    CertificateDer, CertificateInfo, CertificateProblem, IgnorableCertificateError,
    TlsConnectionInfo,
};
use sock::TlsVersion;

/// `TLS 1.3` and the like.
pub(crate) fn version_name(version: Option<TlsVersion>) -> String {
    version.map_or_else(
        || "TLS (version not negotiated)".to_owned(),
        |v| v.to_string(),
    )
}

/// What a handshake negotiated, in one line: version, cipher suite, ALPN.
pub(crate) fn session_line(info: &TlsConnectionInfo) -> String {
    let cipher = info
        .cipher_suite()
        .map_or_else(|| "none".to_owned(), |c| format!("{c:?}"));
    let alpn = info.alpn_protocol().map_or_else(
        || "none".to_owned(),
        |p| String::from_utf8_lossy(p).into_owned(),
    );
    format!(
        "{}, cipher {cipher}, ALPN {alpn}{}",
        version_name(info.protocol_version()),
        if info.is_resumed() { ", resumed" } else { "" }
    )
}

/// One certificate: subject, issuer, validity, names.
pub(crate) fn certificate_line(cert: &CertificateInfo) -> String {
    let names = cert.subject_alternative_names();
    let names = if names.is_empty() {
        String::new()
    } else {
        format!("; names {}", names.join(", "))
    };
    format!(
        "subject {:?}, issuer {:?}, valid {} to {}{names}",
        cert.subject(),
        cert.issuer(),
        date(cert.not_before()),
        date(cert.not_after()),
    )
}

/// A chain as presented, end-entity first, one line per certificate.
pub(crate) fn chain_lines(chain: &[CertificateDer<'static>]) -> Vec<String> {
    chain
        .iter()
        .enumerate()
        .map(|(i, der)| match CertificateInfo::parse(der) {
            Ok(info) => format!("  {i}: {}", certificate_line(&info)),
            Err(e) => format!("  {i}: (unreadable certificate: {e})"),
        })
        .collect()
}

/// The problems found with a chain: what, the status, and how to waive it
/// when it can be.
pub(crate) fn problem_lines(problems: &[CertificateProblem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            let waiver = match p.ignorable_as() {
                Some(kind) if !p.is_waived() => {
                    format!("; --ignore {} would accept it", ignore_name(kind))
                }
                Some(_) => String::new(),
                None => "; cannot be ignored".to_owned(),
            };
            format!("  {p} [{}{waiver}]", p.status())
        })
        .collect()
}

/// The `--ignore` value for an ignorable kind.
pub(crate) fn ignore_name(kind: IgnorableCertificateError) -> &'static str {
    match kind {
        IgnorableCertificateError::Expired => "expired",
        IgnorableCertificateError::UntrustedRoot => "untrusted-root",
        IgnorableCertificateError::InvalidName => "invalid-name",
        _ => "(unknown)",
    }
}

/// Everything a failed or finished handshake learned about the peer, as
/// lines for stderr.
pub(crate) fn handshake_report(info: &TlsConnectionInfo) -> Vec<String> {
    let mut lines = Vec::new();
    if !info.certificate_errors().is_empty() {
        lines.push("certificate problems:".to_owned());
        lines.extend(problem_lines(info.certificate_errors()));
    }
    if !info.peer_certificates().is_empty() {
        lines.push("peer certificate chain:".to_owned());
        lines.extend(chain_lines(info.peer_certificates()));
    }
    lines
}

/// A date as RFC 3339, to the second.
fn date(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}
