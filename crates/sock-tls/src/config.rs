//! What the client and server configurations share: the crypto provider, TLS
//! versions from a protection level, the OS trust store, the handshake driver.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
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

/// Drives `handshake` with `findings` as the verifiers' record, until it
/// finishes or, first, `until` does: then `until`'s error.
pub(crate) async fn drive<F, B>(
    mut handshake: F,
    findings: &mut Findings,
    until: B,
) -> Result<F::Output>
where
    F: Future + Unpin,
    B: Future<Output = Error>,
{
    let mut until = pin!(until);
    poll_fn(|cx| {
        if let Poll::Ready(done) = recording(findings, || Pin::new(&mut handshake).poll(cx)) {
            return Poll::Ready(Ok(done));
        }
        until.as_mut().poll(cx).map(Err)
    })
    .await
}

/// The bound of a handshake with its own timeout: `TimedOut` after `timeout`.
pub(crate) async fn handshake_timeout(timeout: Duration) -> Error {
    tokio::time::sleep(timeout).await;
    Error::TimedOut {
        operation: "tls handshake",
        after: timeout,
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
