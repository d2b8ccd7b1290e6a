//! TLS listeners and controls built from sock-test's certificates.

use sock_core::ProtectionLevel;
use sock_tcp::{StreamSocketControl, StreamSocketListener};
use sock_tls::{ClientAuth, TlsServerConfig};

pub(crate) use sock_test::certs::{Ca, Leaf, LeafSpec};

/// A server certificate for `names` that expired in 2001.
pub(crate) fn expired_server(ca: &Ca, names: &[&str]) -> Leaf {
    ca.issue(LeafSpec::server(names).expired())
}

/// Client authentication required against `ca`.
pub(crate) fn required(ca: &Ca) -> ClientAuth {
    ClientAuth::required_pem(ca.pem().as_bytes()).unwrap()
}

/// A server configuration presenting `leaf`, with `auth` and `level`.
pub(crate) fn server_config(
    leaf: &Leaf,
    auth: ClientAuth,
    level: ProtectionLevel,
) -> TlsServerConfig {
    TlsServerConfig::builder()
        .certificate_chain_pem(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes())
        .client_authentication(auth)
        .protection_level(level)
        .build()
        .unwrap()
}

/// A TLS listener on 127.0.0.1 with `config`.
pub(crate) async fn tls_listener(config: TlsServerConfig) -> StreamSocketListener {
    StreamSocketListener::builder()
        .tls_server_config(config)
        .bind_endpoint(Some(&super::v4()), 0)
        .await
        .unwrap()
}

/// A control connecting at `level` and trusting only `ca`.
pub(crate) fn client_trusting(ca: &Ca, level: ProtectionLevel) -> StreamSocketControl {
    sock_tcp::StreamSocket::builder()
        .protection_level(level)
        .with_os_roots(false)
        .add_root_certificates_pem(ca.pem().as_bytes())
}

/// Keeps `listener`'s accept polled until it has counted `n` failed
/// handshakes (finished handshakes are collected while accept runs), failing
/// the test if a connection is accepted meanwhile or the count never comes.
pub(crate) async fn await_failed_handshakes(listener: &StreamSocketListener, n: u64) {
    super::within(async {
        while listener.failed_tls_handshakes() < n {
            let polled =
                tokio::time::timeout(std::time::Duration::from_millis(50), listener.accept()).await;
            if let Ok(accepted) = polled {
                panic!("a connection was accepted: {:?}", accepted.map(|_| ()));
            }
        }
    })
    .await;
}

/// Runs `f` (a client connect expected to fail its handshake) while keeping
/// `listener`'s accept polled, so the TCP connection is taken and the server
/// side of the handshake runs; fails the test if a connection is accepted or
/// `f` takes longer than the test's wait.
pub(crate) async fn while_accepting<F: std::future::Future>(
    listener: &StreamSocketListener,
    f: F,
) -> F::Output {
    super::within(async {
        tokio::pin!(f);
        tokio::select! {
            out = &mut f => out,
            accepted = listener.accept() => {
                panic!("a connection was accepted: {:?}", accepted.map(|_| ()))
            }
        }
    })
    .await
}
