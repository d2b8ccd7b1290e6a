//! Reading certificates, private keys and revocation lists given by the caller,
//! each failure an [`Error::InvalidCertificateInput`] that names what was read.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use sock_core::{BoxError, Error, Result};

/// An [`Error::InvalidCertificateInput`].
pub(crate) fn invalid(what: &str, reason: impl Into<String>, source: Option<BoxError>) -> Error {
    Error::InvalidCertificateInput {
        what: what.to_owned(),
        reason: reason.into(),
        source,
    }
}

/// `what` with the file name: `client certificate chain "client.pem"`.
pub(crate) fn file_label(what: &str, path: &Path) -> String {
    format!("{what} {:?}", path.display().to_string())
}

/// Reads a whole file given by the caller.
pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        // The cause is the source, not repeated in the message.
        invalid(what, "could not read the file", Some(Box::new(e)))
    })
}

fn looks_like_der(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30)
}

fn missing(what: &str, block: &str, bytes: &[u8]) -> Error {
    let hint = if looks_like_der(bytes) {
        "; this looks like DER, not PEM: use the _der method"
    } else {
        ""
    };
    invalid(
        what,
        format!("no {block} block found in the PEM text{hint}"),
        None,
    )
}

/// Every `CERTIFICATE` block of `pem`, in order; at least one.
pub(crate) fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| invalid(what, "bad PEM", Some(Box::new(e))))?;
    if certs.is_empty() {
        return Err(missing(what, "CERTIFICATE", pem));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of `pem`.
pub(crate) fn private_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => missing(what, "PRIVATE KEY", pem),
        e => invalid(what, "bad PEM", Some(Box::new(e))),
    })
}

/// Every `X509 CRL` block of `pem`; at least one.
pub(crate) fn crls(pem: &[u8], what: &str) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    let crls = CertificateRevocationListDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| invalid(what, "bad PEM", Some(Box::new(e))))?;
    if crls.is_empty() {
        return Err(missing(what, "X509 CRL", pem));
    }
    Ok(crls)
}

/// `der` as a PEM block labelled `label` (64 characters a line).
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                text.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Turns rustls's complaint about a certificate and key pair into our error.
pub(crate) fn certified_key_error(err: rustls::Error, what: &str) -> Error {
    let reason = match &err {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            "the private key does not belong to the first certificate of the chain".to_owned()
        }
        rustls::Error::General(text) => format!("the private key cannot be used: {text}"),
        other => other.to_string(),
    };
    invalid(what, reason, Some(Box::new(err)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_told_once_as_the_source_not_repeated_in_the_message() {
        let missing = Path::new("/nonexistent/sock-test.pem");
        let err = read_file(missing, "client certificate").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid client certificate: could not read the file"
        );
        let report = sock_core::Report(&err).to_string();
        let cause = std::fs::read(missing).unwrap_err().to_string();
        assert_eq!(report.matches(&cause).count(), 1, "{report}");
    }

    #[test]
    fn missing_blocks_are_named() {
        let err = certificates(b"hello", "trust roots").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid trust roots: no CERTIFICATE block found in the PEM text"
        );
        assert!(err.is_invalid_input());
        let err = private_key(&[0x30, 0x03, 1, 2, 3], "client private key").unwrap_err();
        assert!(err.to_string().contains("looks like DER"), "{err}");
        let err = crls(b"", "revocation lists").unwrap_err();
        assert!(err.to_string().contains("X509 CRL"), "{err}");
    }

    #[test]
    fn encoded_blocks_read_back() {
        for len in [0, 1, 2, 3, 47, 48, 49, 100] {
            let der: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let text = encode("CERTIFICATE", &der);
            assert!(text.lines().all(|line| line.len() <= 64), "{text}");
            if len > 0 {
                assert_eq!(
                    certificates(text.as_bytes(), "x").unwrap()[0].as_ref(),
                    &der[..]
                );
            }
        }
        assert_eq!(
            encode("X", b"foobar"),
            "-----BEGIN X-----\nZm9vYmFy\n-----END X-----\n"
        );
        assert!(encode("X", b"fo").contains("Zm8=\n"));
    }

    #[test]
    fn broken_pem_is_an_error() {
        let text = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = certificates(text, "trust roots").unwrap_err();
        assert!(
            err.to_string().starts_with("invalid trust roots: bad PEM"),
            "{err}"
        );
    }

    #[test]
    fn unreadable_files_name_the_file() {
        let path = Path::new("/nonexistent/dir/client.pem");
        let what = file_label("client certificate chain", path);
        let err = read_file(path, &what).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid client certificate chain \"/nonexistent/dir/client.pem\": could not read the file"),
            "{err}"
        );
    }
}
