//! Bench target `tls`: TLS on sock-tcp's `StreamSocket` against tokio-rustls
//! used by hand over tokio's `TcpStream`, the peer people use today.
//!
//! Both sides of both contenders use the same rustls configuration: TLS 1.3
//! only, the *ring* provider restricted to the cipher suite
//! `TLS13_AES_128_GCM_SHA256` and the key exchange group `X25519`, an ECDSA
//! P-256 server certificate for `localhost` and `127.0.0.1` (made with rcgen)
//! issued by a CA that is the only trust root, the server name `127.0.0.1`, no
//! client authentication, rustls's default session caches. Both run on the
//! current-thread runtime of `sock_benches::runtime()`, over loopback TCP with
//! `TCP_NODELAY` on.
//!
//! * `tls_bulk` (bytes/s): over one established connection, each iteration
//!   writes 16 × 64 KiB with `write_all`, flushes, and reads the 1 MiB back on
//!   the far side. `peer` is `tokio_rustls::{TlsConnector, TlsAcceptor}` over a
//!   `TcpStream` pair; `ours` is a `StreamSocket` connected at `Tls13` (a whole
//!   `TlsClientConfig`) to a `StreamSocketListener` with a `TlsServerConfig`.
//! * `tls_handshakes` (connections/s): each iteration opens a TCP connection to
//!   a listener, runs one full TLS handshake on both sides and drops both ends.
//!   The client never reads the server's session tickets, so every handshake is
//!   a full one. `peer`: `TcpStream::connect` + `TcpListener::accept` +
//!   tokio-rustls; `ours`: `StreamSocketControl::connect` at `Tls13` +
//!   `StreamSocketListener::accept`, which includes what the peer does not do:
//!   the connect machinery (timeouts, Happy Eyeballs), the handshake timeout,
//!   the certificate-problem record, the connection information, and the
//!   listener's server handshake on its own task.
//!
//! Run with `cargo bench -p sock-benches --bench tls`; `cargo xtask bench`
//! prints the peer/ours ratios.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sock_core::{HostName, ProtectionLevel};
use sock_tcp::{StreamSocket, StreamSocketListener};
use sock_tls::{TlsClientConfig, TlsServerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_rustls::{TlsAcceptor, TlsConnector};

const WRITE_LEN: usize = 64 * 1024;
const WRITES: usize = 16;

/// The certificate material both contenders use.
struct Pki {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Pki {
    fn new() -> Self {
        let (ca, ca_key) = sock_benches::bench_ca();
        let key = rcgen::KeyPair::generate().expect("server key");
        let leaf =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("leaf params")
                .signed_by(&key, &ca, &ca_key)
                .expect("leaf");
        Self {
            ca: ca.der().clone(),
            chain: vec![leaf.der().clone()],
            key: key.serialize_der(),
        }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::try_from(self.key.clone()).expect("pkcs8 key")
    }
}

/// The crypto provider both contenders of a group use.
type Provider = fn() -> Arc<rustls::crypto::CryptoProvider>;

/// The peer: rustls configurations handed to tokio-rustls.
fn peer_configs(pki: &Pki, provider: Provider) -> (TlsConnector, TlsAcceptor) {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).expect("root");
    let client = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls 1.3")
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key())
        .expect("server cert");
    (
        TlsConnector::from(Arc::new(client)),
        TlsAcceptor::from(Arc::new(server)),
    )
}

/// Ours: the same, through sock-tls's builders.
fn our_configs(pki: &Pki, provider: Provider) -> (TlsClientConfig, TlsServerConfig) {
    let client = TlsClientConfig::builder()
        .protection_level(ProtectionLevel::Tls13)
        .with_os_roots(false)
        .add_root_certificate_der(pki.ca.clone())
        .crypto_provider(provider())
        .build()
        .expect("client config");
    let server = TlsServerConfig::builder()
        .protection_level(ProtectionLevel::Tls13)
        .certificate_chain_der(pki.chain.clone(), pki.key())
        .crypto_provider(provider())
        .build()
        .expect("server config");
    (client, server)
}

/// A connected loopback TCP pair with Nagle off.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client.expect("connect");
    let (server, _) = accepted.expect("accept");
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    (client, server)
}

/// Writes 16 × 64 KiB on `tx` and reads them on `rx`.
async fn bulk_round<W, R>(tx: &mut W, rx: &mut R, payload: &[u8], buf: &mut [u8])
where
    W: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let total = WRITE_LEN * WRITES;
    let write = async {
        for _ in 0..WRITES {
            tx.write_all(payload).await.expect("write");
        }
        tx.flush().await.expect("flush");
    };
    let read = async {
        let mut got = 0;
        while got < total {
            let n = rx.read(buf).await.expect("read");
            assert!(n > 0, "the stream ended early");
            got += n;
        }
        got
    };
    let ((), got) = tokio::join!(write, read);
    assert_eq!(got, total);
    black_box(got);
}

fn time_rounds<W, R>(rt: &Runtime, tx: &mut W, rx: &mut R, iters: u64) -> std::time::Duration
where
    W: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let payload = vec![0xa5; WRITE_LEN];
    let mut buf = vec![0; WRITE_LEN];
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            bulk_round(tx, rx, &payload, &mut buf).await;
        }
        start.elapsed()
    })
}

fn tls_bulk(c: &mut Criterion, rt: &Runtime, pki: &Pki, name: &str, provider: Provider) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes((WRITE_LEN * WRITES) as u64));

    let (connector, acceptor) = peer_configs(pki, provider);
    let (mut tx, mut rx) = rt.block_on(async {
        let (a, b) = tcp_pair().await;
        let (client, server) =
            tokio::join!(connector.connect(server_name(), a), acceptor.accept(b));
        (client.expect("peer connect"), server.expect("peer accept"))
    });
    group.bench_function("peer", |bench| {
        bench.iter_custom(|iters| time_rounds(rt, &mut tx, &mut rx, iters));
    });
    drop((tx, rx));

    let (client, server) = our_configs(pki, provider);
    let (mut tx, mut rx) = rt.block_on(async {
        let listener = our_listener(server).await;
        let port = listener.information().local_port;
        let control = StreamSocket::builder().tls_client_config(client);
        let (tx, rx) = tokio::join!(control.connect(&loopback(), port), listener.accept());
        (tx.expect("our connect"), rx.expect("our accept"))
    });
    group.bench_function("ours", |bench| {
        bench.iter_custom(|iters| time_rounds(rt, &mut tx, &mut rx, iters));
    });
    group.finish();
}

fn tls_handshakes(c: &mut Criterion, rt: &Runtime, pki: &Pki, name: &str, provider: Provider) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));

    let (connector, acceptor) = peer_configs(pki, provider);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("local addr");
    group.bench_function("peer", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let client = async {
                        let tcp = TcpStream::connect(addr).await.expect("connect");
                        tcp.set_nodelay(true).expect("nodelay");
                        connector.connect(server_name(), tcp).await
                    };
                    let server = async {
                        let (tcp, _) = listener.accept().await.expect("accept");
                        tcp.set_nodelay(true).expect("nodelay");
                        acceptor.accept(tcp).await
                    };
                    let (client, server) = tokio::join!(client, server);
                    black_box((client.expect("peer connect"), server.expect("peer accept")));
                }
                start.elapsed()
            })
        });
    });
    drop(listener);

    let (client, server) = our_configs(pki, provider);
    let listener = rt.block_on(our_listener(server));
    let port = listener.information().local_port;
    let control = StreamSocket::builder().tls_client_config(client);
    let host = loopback();
    group.bench_function("ours", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let (tx, rx) = tokio::join!(control.connect(&host, port), listener.accept());
                    black_box((tx.expect("our connect"), rx.expect("our accept")));
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

/// The server name both contenders check the certificate against.
fn server_name() -> ServerName<'static> {
    ServerName::try_from("127.0.0.1").expect("name")
}

fn loopback() -> HostName {
    HostName::new("127.0.0.1").expect("host")
}

/// A TLS listener on 127.0.0.1 (sock-tcp).
async fn our_listener(config: TlsServerConfig) -> StreamSocketListener {
    StreamSocketListener::builder()
        .tls_server_config(config)
        .bind_endpoint(Some(&loopback()), 0)
        .await
        .expect("bind")
}

fn main() {
    let rt = sock_benches::runtime();
    let pki = Pki::new();
    // What criterion_group!/criterion_main! expand to, without their undocumented
    // public function.
    let mut c = sock_benches::criterion().configure_from_args();
    tls_bulk(&mut c, &rt, &pki, "tls_bulk", sock_benches::tls13_provider);
    tls_handshakes(
        &mut c,
        &rt,
        &pki,
        "tls_handshakes",
        sock_benches::tls13_provider,
    );
    // The same with rustls's aws-lc-rs provider on both sides (sock-tls's
    // feature `aws-lc-rs` makes it the default).
    let aws = sock_benches::tls13_provider_aws_lc;
    tls_bulk(&mut c, &rt, &pki, "tls_bulk_aws_lc", aws);
    tls_handshakes(&mut c, &rt, &pki, "tls_handshakes_aws_lc", aws);
    c.final_summary();
}
