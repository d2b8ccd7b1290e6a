//! Shared set-up for the sock benches.
//!
//! Fairness rules every group follows: peer and ours run on the same runtime
//! flavour (a current-thread runtime, so both ends share one core and no
//! cross-core wake-up skews latency), with the same write sizes, on loopback.

use std::time::Duration;

/// A current-thread tokio runtime with I/O and timers, used by every group.
///
/// # Panics
///
/// When the runtime cannot be built (no file descriptors left).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build the bench runtime")
}

/// Criterion settings shared by all groups: short, bounded runs. With
/// `SOCK_BENCH_QUICK` set (`cargo xtask bench --quick`) they are shorter still.
pub fn criterion() -> criterion::Criterion {
    let quick = std::env::var_os("SOCK_BENCH_QUICK").is_some();
    let (warm_up, measure) = if quick {
        (Duration::from_millis(200), Duration::from_secs(1))
    } else {
        (Duration::from_millis(500), Duration::from_secs(3))
    };
    criterion::Criterion::default()
        .warm_up_time(warm_up)
        .measurement_time(measure)
        .sample_size(20)
}

/// rustls's *ring* provider restricted to one cipher suite
/// (`TLS13_AES_128_GCM_SHA256`) and one key exchange group (`X25519`): what
/// both sides of every TLS group use, peer and ours alike.
pub fn tls13_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::ring;
    std::sync::Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: vec![ring::cipher_suite::TLS13_AES_128_GCM_SHA256],
        kx_groups: vec![ring::kx_group::X25519],
        ..ring::default_provider()
    })
}

/// rustls's aws-lc-rs provider with the same one cipher suite and key
/// exchange group as [`tls13_provider`].
pub fn tls13_provider_aws_lc() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::aws_lc_rs;
    std::sync::Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: vec![aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256],
        kx_groups: vec![aws_lc_rs::kx_group::X25519],
        ..aws_lc_rs::default_provider()
    })
}

/// A throw-away CA (rcgen) and its key, for the TLS groups' certificates.
///
/// # Panics
///
/// When rcgen cannot make a key (it always can).
pub fn bench_ca() -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().expect("ca key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = params.self_signed(&key).expect("ca");
    (ca, key)
}
