//! What the client and server configurations share: the crypto provider, TLS
//! versions from a protection level, the OS trust store, the handshake driver.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::TrustAnchor;
use rustls::{RootCertStore, SupportedProtocolVersion};
use sock_core::{Error, ProtectionLevel, Result, TlsVersion};

use crate::verify::{recording, Findings};

/// The handshake timeout used unless one is set: 10 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The crypto provider used unless one is set: rustls's *ring* provider, or
/// its aws-lc-rs one with the feature `aws-lc-rs`.
pub(crate) fn default_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            #[cfg(feature = "aws-lc-rs")]
            let provider = rustls::crypto::aws_lc_rs::default_provider();
            #[cfg(not(feature = "aws-lc-rs"))]
            let provider = rustls::crypto::ring::default_provider();
            Arc::new(provider)
        })
        .clone()
}

/// The rustls versions a protection level allows; refuses the weak levels and
/// `PlainSocket`.
pub(crate) fn versions_for(
    level: ProtectionLevel,
) -> Result<Vec<&'static SupportedProtocolVersion>> {
    let versions = level.tls_versions()?;
    if versions.is_empty() {
        return Err(Error::unsupported(
            format!("protection level {level} for a tls configuration"),
            "it means no encryption; use Tls12, Tls13 or Ssl (best available)",
        ));
    }
    Ok(versions
        .iter()
        .map(|v| match v {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        })
        .collect())
}

/// Turns rustls's refusal of a version list (a provider without suites for it)
/// into our error.
pub(crate) fn versions_error(level: ProtectionLevel, err: rustls::Error) -> Error {
    Error::unsupported(
        format!("protection level {level}"),
        format!("the crypto provider cannot provide it: {err}"),
    )
}

/// The operating system's trust roots, loaded once per process.
///
/// Certificates that cannot be parsed are skipped, and a store that cannot be
/// read gives no roots: custom roots still work.
pub(crate) fn os_roots() -> &'static [TrustAnchor<'static>] {
    static ROOTS: OnceLock<Vec<TrustAnchor<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(loaded.certs);
        store.roots
    })
}

/// Drives a handshake future with `findings` as the verifiers' record.
pub(crate) struct Recorded<'a, F> {
    pub(crate) inner: F,
    pub(crate) findings: &'a mut Findings,
}

impl<F: Future + Unpin> Future for Recorded<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        recording(this.findings, || Pin::new(inner).poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_give_their_versions() {
        assert_eq!(
            versions_for(ProtectionLevel::Tls12).unwrap(),
            vec![&rustls::version::TLS12]
        );
        assert_eq!(
            versions_for(ProtectionLevel::Tls13).unwrap(),
            vec![&rustls::version::TLS13]
        );
        assert_eq!(versions_for(ProtectionLevel::Ssl).unwrap().len(), 2);
        assert_eq!(versions_for(ProtectionLevel::Unspecified).unwrap().len(), 2);
    }

    #[test]
    fn weak_levels_and_plain_are_refused() {
        for level in [
            ProtectionLevel::PlainSocket,
            ProtectionLevel::Tls10,
            ProtectionLevel::Tls11,
            ProtectionLevel::Ssl3AllowWeakEncryption,
            ProtectionLevel::SslAllowNullEncryption,
        ] {
            let err = versions_for(level).unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }), "{level}: {err}");
            assert!(err.to_string().contains(&level.to_string()), "{err}");
        }
    }
}
