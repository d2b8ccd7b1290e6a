//! The UWP sockets guide's client-certificate section, made runnable: a TLS
//! echo server that requires client certificates, and a client that presents one.
//!
//! ```text
//! cargo run --example tls-client-certificate
//! cargo run --example tls-client-certificate -- --pkcs11
//! cargo run --example tls-client-certificate -- --serve 127.0.0.1:8443 --cert server.pem --key server.key --client-ca ca.pem
//! cargo run --example tls-client-certificate -- --connect 127.0.0.1:8443 --server-name localhost --ca ca.pem --cert client.pem --key client.key --message "Hello, World!"
//! ```
//!
//! With no arguments, it tells the guide's story: it makes a throw-away CA
//! and a server certificate (rcgen), starts a TLS line-echo server on
//! loopback that requires client certificates, then, as the client, queries
//! the "MY" certificate store for a certificate with a private key
//! (`CertificateQuery`, `CertificateStores::find_all`), provisions the store
//! with a certificate for alice when it is empty (the stores live in a
//! temporary directory, so nothing is left behind; `CertificateStores::new()`
//! would use `$XDG_DATA_HOME/sock/certs`), connects at `Tls12` presenting the
//! first one found, and tells who presented what and which version was
//! negotiated. With `--pkcs11` the certificate's key lives on a SoftHSM2
//! token made for the run (needs `softhsm2` and `opensc`), which signs the
//! handshake; the query then asks for hardware certificates. Then it shows UWP's certificate-error flow: a connect to a
//! server whose certificate comes from an unknown root fails with its status
//! and the problems found, and a new socket that makes those problems
//! ignorable gets through.
//!
//! `--serve ADDR:PORT --cert F --key F [--client-ca F]` runs a TLS line-echo
//! server from PEM files until Ctrl-C (client certificates are required when
//! `--client-ca` is given). `--connect ADDR:PORT --server-name NAME --ca F
//! [--cert F --key F] --message TEXT` connects to ADDR:PORT, checks the
//! server's certificate against NAME and the CA, sends one line and prints the
//! reply; failures print the error with its status and exit 1.

use std::future::IntoFuture;
use std::process::ExitCode;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use sock_codec::LineCodec;
use sock_core::{Error, HostName, ProtectionLevel, Report};
use sock_examples::softhsm::{SoftHsm, TokenObject};
use sock_examples::Args;
use sock_tcp::{
    ServerCertificateErrorSeverity, StreamSocket, StreamSocketControl, StreamSocketListener,
};
use sock_tls::{
    Certificate, CertificateQuery, CertificateStores, ClientAuth, Pkcs11Uri, TlsServerConfig,
};

/// The longest the story waits for any one step.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse(&["pkcs11"]) {
        Ok(args) => args,
        Err(problem) => return usage(&problem),
    };
    let result = if let Some(addr) = args.get("serve") {
        match (args.get("cert"), args.get("key")) {
            (Some(cert), Some(key)) => serve(addr, cert, key, args.get("client-ca")).await,
            _ => return usage("--serve needs --cert and --key"),
        }
    } else if let Some(addr) = args.get("connect") {
        match (args.get("server-name"), args.get("ca"), args.get("message")) {
            (Some(name), Some(ca), Some(message)) => {
                let identity = match (args.get("cert"), args.get("key")) {
                    (Some(cert), Some(key)) => Some((cert, key)),
                    (None, None) => None,
                    _ => return usage("--cert and --key go together"),
                };
                connect(addr, name, ca, identity, message).await
            }
            _ => return usage("--connect needs --server-name, --ca and --message"),
        }
    } else {
        story(args.flag("pkcs11")).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("failed ({}): {}", err.status(), Report(&err));
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}");
    eprintln!("usage: tls-client-certificate [--pkcs11]");
    eprintln!("       tls-client-certificate --serve ADDR:PORT --cert F --key F [--client-ca F]");
    eprintln!(
        "       tls-client-certificate --connect ADDR:PORT --server-name NAME --ca F \
         [--cert F --key F] --message TEXT"
    );
    ExitCode::from(2)
}

// ===== The story =====

async fn story(pkcs11: bool) -> Result<(), Error> {
    let ca = Ca::new("Example CA");
    let server = ca.issue("localhost", false);
    println!("made a CA \"Example CA\" and a server certificate for localhost");

    let config = TlsServerConfig::builder()
        .certificate_chain_pem(server.0.as_bytes(), server.1.as_bytes())
        .client_authentication(ClientAuth::required_pem(ca.pem().as_bytes())?)
        .build()?;
    let listener = StreamSocketListener::builder()
        .tls_server_config(config)
        .bind_endpoint(Some(&HostName::new("127.0.0.1")?), 0)
        .await?;
    let port = listener.information().local_port;
    println!("server: listening on 127.0.0.1:{port}, client certificates required");
    tokio::spawn(listener.serve(echo_lines).into_future());

    // The guide's client: the first certificate with a private key in MY.
    let stores_dir = tempfile::tempdir()?;
    let mut stores = CertificateStores::with_root(stores_dir.path());
    let mut query = CertificateQuery::new()
        .store_name("MY")
        .has_private_key(true);
    let _token;
    if pkcs11 {
        let (hsm, uri) = provision_token(&ca).map_err(|problem| Error::Unsupported {
            what: "--pkcs11".to_owned(),
            reason: problem,
        })?;
        println!("client: made a SoftHSM2 token holding alice's key ({uri})");
        stores = stores.pkcs11_token(uri);
        query = query.hardware_only(true);
        _token = hsm;
    }
    let mut found = step(stores.find_all(&query)).await?;
    if found.is_empty() {
        let my = stores.store_by_name("MY")?;
        let (cert, key) = ca.issue("alice", true);
        let alice = Certificate::from_pem(cert.as_bytes(), Some(key.as_bytes()))?
            .with_friendly_name("alice");
        let file = my.add(&alice)?;
        println!(
            "client: the MY store in {} was empty; added alice's certificate as {:?}",
            stores.root().display(),
            file.file_name().unwrap_or_default()
        );
        found = step(stores.find_all(&query)).await?;
    }
    for skipped in found.skipped() {
        println!("client: skipped {}", Report(skipped));
    }
    let Some(certificate) = found.first().cloned() else {
        return Err(Error::invalid_data(
            "no certificate with a private key in MY",
        ));
    };
    println!(
        "client: using \"{}\" from the {} store ({}, thumbprint {}, {})",
        certificate.info().common_name().unwrap_or_default(),
        certificate.store_name().unwrap_or_default(),
        certificate.friendly_name().unwrap_or_default(),
        certificate.thumbprint_hex(),
        if certificate.is_hardware_bound() {
            "key on a token"
        } else {
            "key in a file"
        },
    );
    let socket = step(
        StreamSocket::builder()
            .protection_level(ProtectionLevel::Tls12)
            .with_os_roots(false)
            .add_root_certificates_pem(ca.pem().as_bytes())
            .client_certificate_from(certificate)
            .connect(&HostName::new("localhost")?, port),
    )
    .await?;
    let info = socket.information();
    let server_cert = info.server_certificate().map(|c| c.subject().to_owned());
    println!(
        "client: connected at {:?}, the server presented \"{}\"",
        info.tls.as_ref().and_then(|t| t.protocol_version()),
        server_cert.unwrap_or_default()
    );
    let reply = exchange(socket, "Hello, World!").await?;
    println!("client: the server replied {reply:?}");

    certificate_error_flow().await
}

/// A SoftHSM2 token holding a key and a certificate for alice from `ca`,
/// and the URI that names them.
fn provision_token(ca: &Ca) -> Result<(SoftHsm, Pkcs11Uri), String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let (cert, _) = ca.issue_for("alice", true, &key);
    let cert = Certificate::from_pem(cert.as_bytes(), None).map_err(|e| e.to_string())?;
    let hsm = SoftHsm::new("example")?;
    let alice = TokenObject {
        label: "alice",
        id: "01",
        key_pem: Some(&key.serialize_pem()),
        cert_der: Some(cert.der()),
    };
    hsm.add_token("sock-example", &[alice])?;
    let uri = hsm.uri("sock-example", "alice");
    Ok((hsm, uri))
}

/// UWP's Scenario5: a certificate error seen on a failed connect, then made
/// ignorable on a new socket.
async fn certificate_error_flow() -> Result<(), Error> {
    let unknown = Ca::new("Unknown CA");
    let (cert, key) = unknown.issue("localhost", false);
    // The server sends its root too, so the only problem is that nobody trusts it.
    let chain = format!("{cert}{}", unknown.pem());
    let config = TlsServerConfig::builder()
        .certificate_chain_pem(chain.as_bytes(), key.as_bytes())
        .build()?;
    let listener = StreamSocketListener::builder()
        .tls_server_config(config)
        .bind_endpoint(Some(&HostName::new("127.0.0.1")?), 0)
        .await?;
    let port = listener.information().local_port;
    tokio::spawn(listener.serve(echo_lines).into_future());
    println!("\nserver 2: a certificate from \"Unknown CA\", on port {port}");

    let host = HostName::new("localhost")?;
    let control = StreamSocket::builder()
        .protection_level(ProtectionLevel::Tls12)
        .with_os_roots(false);
    let failed = tokio::time::timeout(WAIT, control.connect_with_tls_info(&host, port))
        .await
        .map_err(|_| timed_out())?;
    let Err(err) = failed else {
        return Err(Error::invalid_data(
            "the connect to an untrusted server succeeded",
        ));
    };
    println!("client: connect failed with status {}", err.status());
    if let Some(info) = err.tls_info() {
        if let Some(cert) = info.peer_certificate() {
            println!(
                "client: the server presented \"{}\" issued by \"{}\"",
                sock_examples::shown(cert.subject().as_bytes()),
                sock_examples::shown(cert.issuer().as_bytes())
            );
        }
    }
    for problem in err.server_certificate_errors() {
        println!("client:   {} ({})", problem, problem.status());
    }
    if err.server_certificate_error_severity() != ServerCertificateErrorSeverity::Ignorable {
        return Err(err.into());
    }
    let ignorable = err
        .ignorable_server_certificate_errors()
        .unwrap_or_default();
    println!(
        "client: the errors are ignorable; the user accepts them: retrying with {ignorable:?}"
    );
    let socket = step(
        control
            .ignorable_server_certificate_errors(&ignorable)
            .connect(&host, port),
    )
    .await?;
    let waived = socket.information().server_certificate_errors().len();
    let reply = exchange(socket, "hello again").await?;
    println!(
        "client: connected on a new socket ({waived} waived error), the server replied {reply:?}"
    );
    Ok(())
}

/// The server's handler: echoes each line until the client closes.
async fn echo_lines(socket: StreamSocket) -> Result<(), Error> {
    let info = socket.information();
    let who = info
        .client_identity()
        .map_or_else(|| "no certificate".to_owned(), |c| c.subject().to_owned());
    let version = info.tls.as_ref().and_then(|t| t.protocol_version());
    println!(
        "server: {} connected with {who} ({version:?})",
        info.remote_address
    );
    let mut lines = socket.framed(LineCodec::new());
    while let Some(line) = lines.next().await {
        lines.send(line?).await?;
    }
    StreamSocket::from_framed(lines).await?.close().await
}

/// Sends one line, reads the reply, closes (with close_notify).
async fn exchange(socket: StreamSocket, message: &str) -> Result<String, Error> {
    let mut lines = socket.framed(LineCodec::new());
    step(lines.send(message.to_owned())).await?;
    let reply = tokio::time::timeout(WAIT, lines.next())
        .await
        .map_err(|_| timed_out())?
        .ok_or_else(|| Error::UnexpectedEof {
            context: "before the reply".to_owned(),
        })??;
    step(StreamSocket::from_framed(lines).await?.close()).await?;
    Ok(reply)
}

async fn step<T>(fut: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::time::timeout(WAIT, fut)
        .await
        .map_err(|_| timed_out())?
}

fn timed_out() -> Error {
    Error::TimedOut {
        operation: "example step",
        after: WAIT,
    }
}

// ===== From files =====

async fn serve(addr: &str, cert: &str, key: &str, client_ca: Option<&str>) -> Result<(), Error> {
    let (host, port) = split_endpoint(addr)?;
    let mut config = TlsServerConfig::builder().certificate_chain_pem_files(cert, key);
    if let Some(ca) = client_ca {
        let pem = std::fs::read(ca).map_err(|e| Error::InvalidCertificateInput {
            what: format!("client ca {ca:?}"),
            reason: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        config = config.client_authentication(ClientAuth::required_pem(&pem)?);
    }
    let listener = StreamSocketListener::builder()
        .tls_server_config(config.build()?)
        .bind_endpoint(Some(&host), port.as_str())
        .await?;
    println!("serving tls line echo on {}", listener.local_addr());
    let report = listener
        .serve(echo_lines)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    println!(
        "served {} connections ({} failed handshakes)",
        report.accepted, report.failed_tls_handshakes
    );
    Ok(())
}

async fn connect(
    addr: &str,
    server_name: &str,
    ca: &str,
    identity: Option<(&str, &str)>,
    message: &str,
) -> Result<(), Error> {
    let (host, port) = split_endpoint(addr)?;
    let name = HostName::new(server_name)?;
    let ca_pem = std::fs::read(ca).map_err(|e| Error::InvalidCertificateInput {
        what: format!("ca {ca:?}"),
        reason: e.to_string(),
        source: Some(Box::new(e)),
    })?;
    let mut control: StreamSocketControl =
        StreamSocket::builder().add_root_certificates_pem(&ca_pem);
    if let Some((cert, key)) = identity {
        control = control.client_certificate_pem_files(cert, key);
    }
    // TCP to ADDR, TLS checked against NAME: connect, then upgrade.
    let socket = step(control.connect(&host, port.as_str())).await?;
    let socket = step(async {
        socket
            .upgrade_to_tls(ProtectionLevel::Tls12, &name)
            .await
            .map_err(|e| {
                for problem in e.server_certificate_errors() {
                    eprintln!("  {} ({})", problem, problem.status());
                }
                Error::from(e)
            })
    })
    .await?;
    let reply = exchange(socket, message).await?;
    println!("{}", sock_examples::shown(reply.as_bytes()));
    Ok(())
}

/// Splits `host:port` (`[v6]:port` for IPv6).
fn split_endpoint(endpoint: &str) -> Result<(HostName, String), Error> {
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(|| {
        Error::invalid_host_name(endpoint, "needs a port after ':' (ADDR:PORT, [IPv6]:PORT)")
    })?;
    Ok((HostName::new(host)?, port.to_owned()))
}

// ===== Throw-away certificates =====

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("key generation");
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("self-signed ca");
        Self { cert, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A certificate and key (PEM) for `name`: a server's for a DNS name, or
    /// a client's.
    fn issue(&self, name: &str, client: bool) -> (String, String) {
        let key = KeyPair::generate().expect("key generation");
        self.issue_for(name, client, &key)
    }

    /// As `issue`, for a key made elsewhere.
    fn issue_for(&self, name: &str, client: bool, key: &KeyPair) -> (String, String) {
        let mut params = CertificateParams::new(vec![name.to_owned()]).expect("a valid name");
        params.distinguished_name = dn(name);
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let cert = params
            .signed_by(key, &self.cert, &self.key)
            .expect("signed certificate");
        (cert.pem(), key.serialize_pem())
    }
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Sock Examples");
    dn.push(DnType::CommonName, common_name);
    dn
}
