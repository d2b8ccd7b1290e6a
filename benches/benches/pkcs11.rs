//! Bench target `pkcs11`: what signing a handshake on a PKCS#11 token costs.
//!
//! * `tls_pkcs11_handshakes` (connections/s): each iteration runs one full
//!   mutual TLS 1.3 handshake between a sock-tls client and server over a
//!   loopback TCP pair, the client presenting a certificate whose ECDSA P-256
//!   key signs its CertificateVerify. `peer` holds the key in memory (rustls's
//!   *ring* signer, `Certificate::from_pem`); `ours` holds the same key on a
//!   SoftHSM2 token made for the run (`Certificate::from_pkcs11`: a PKCS#11
//!   `C_Sign` through cryptoki for every handshake). Everything else is the
//!   same: the *ring* provider, `TLS13_AES_128_GCM_SHA256` and `X25519`, the
//!   server's certificate, the client verifier, no session resumption
//!   (rustls's client does not resume with a client certificate it would
//!   have to sign anyway: each handshake is full).
//!
//! The ratio shows the token's cost per handshake; a smartcard costs far more
//! than SoftHSM2. Needs SoftHSM2 and OpenSC (`cargo xtask test` installs
//! them). Run with `cargo bench -p sock-benches --bench pkcs11`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use sock_core::{HostName, ProtectionLevel};
use sock_examples::softhsm::{SoftHsm, TokenObject};
use sock_tls::{Certificate, ClientAuth, TlsClientConfig, TlsServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// A CA, the server's certificate, and the client's certificate and key.
struct Pki {
    ca_pem: String,
    server: (String, String),
    client_cert: rcgen::Certificate,
    client_key: rcgen::KeyPair,
}

impl Pki {
    fn new() -> Self {
        let (ca, ca_key) = sock_benches::bench_ca();
        let issue = |names: Vec<String>, key: &rcgen::KeyPair| {
            rcgen::CertificateParams::new(names)
                .expect("leaf params")
                .signed_by(key, &ca, &ca_key)
                .expect("leaf")
        };
        let server_key = rcgen::KeyPair::generate().expect("server key");
        let server = issue(vec!["localhost".to_owned()], &server_key);
        let client_key = rcgen::KeyPair::generate().expect("client key");
        let client_cert = issue(vec!["client.bench".to_owned()], &client_key);
        Self {
            ca_pem: ca.pem(),
            server: (server.pem(), server_key.serialize_pem()),
            client_cert,
            client_key,
        }
    }
}

fn client_config(pki: &Pki, certificate: Certificate) -> TlsClientConfig {
    TlsClientConfig::builder()
        .protection_level(ProtectionLevel::Tls13)
        .with_os_roots(false)
        .add_root_certificates_pem(pki.ca_pem.as_bytes())
        .crypto_provider(sock_benches::tls13_provider())
        .client_certificate_from(certificate)
        .build()
        .expect("client config")
}

fn server_config(pki: &Pki) -> TlsServerConfig {
    TlsServerConfig::builder()
        .protection_level(ProtectionLevel::Tls13)
        .certificate_chain_pem(pki.server.0.as_bytes(), pki.server.1.as_bytes())
        .client_authentication(ClientAuth::required_pem(pki.ca_pem.as_bytes()).expect("ca"))
        .crypto_provider(sock_benches::tls13_provider())
        .build()
        .expect("server config")
}

/// Times `iters` mutual handshakes of `client` against `server`.
fn handshakes(
    rt: &Runtime,
    listener: &TcpListener,
    client: &TlsClientConfig,
    server: &TlsServerConfig,
    iters: u64,
) -> std::time::Duration {
    let addr = listener.local_addr().expect("local addr");
    let host = HostName::new("localhost").expect("host");
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let connect = async {
                let tcp = TcpStream::connect(addr).await.expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                client.connect(&host, tcp).await
            };
            let accept = async {
                let (tcp, _) = listener.accept().await.expect("accept");
                tcp.set_nodelay(true).expect("nodelay");
                server.accept(tcp).await
            };
            let (client, server) = tokio::join!(connect, accept);
            black_box((
                client.expect("client handshake"),
                server.expect("server handshake"),
            ));
        }
        start.elapsed()
    })
}

fn tls_pkcs11_handshakes(c: &mut Criterion, rt: &Runtime, pki: &Pki) {
    let key_pem = pki.client_key.serialize_pem();
    let client = TokenObject {
        label: "client",
        id: "01",
        key_pem: Some(&key_pem),
        cert_der: Some(pki.client_cert.der()),
    };
    let hsm = SoftHsm::new("bench")
        .and_then(|hsm| hsm.add_token("sock-bench", &[client]).map(|()| hsm))
        .unwrap_or_else(|problem| panic!("the pkcs11 bench needs a SoftHSM2 token: {problem}"));
    let in_memory = Certificate::from_pem(
        pki.client_cert.pem().as_bytes(),
        Some(pki.client_key.serialize_pem().as_bytes()),
    )
    .expect("file certificate");
    let on_token =
        Certificate::from_pkcs11(&hsm.uri("sock-bench", "client")).expect("token certificate");
    let server = server_config(pki);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");

    let mut group = c.benchmark_group("tls_pkcs11_handshakes");
    group.throughput(Throughput::Elements(1));
    let file_client = client_config(pki, in_memory);
    group.bench_function("peer", |bench| {
        bench.iter_custom(|iters| handshakes(rt, &listener, &file_client, &server, iters));
    });
    let token_client = client_config(pki, on_token);
    group.bench_function("ours", |bench| {
        bench.iter_custom(|iters| handshakes(rt, &listener, &token_client, &server, iters));
    });
    group.finish();
}

fn main() {
    let rt = sock_benches::runtime();
    let pki = Pki::new();
    // What criterion_group!/criterion_main! expand to, without their undocumented
    // public function.
    let mut c = sock_benches::criterion().configure_from_args();
    tls_pkcs11_handshakes(&mut c, &rt, &pki);
    c.final_summary();
}
