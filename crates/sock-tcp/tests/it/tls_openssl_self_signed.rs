//! Against OpenSSL's own server, with certificates made as a new user makes
//! them (`openssl req -x509` with its defaults: self-signed, `CA:TRUE`): UWP's
//! certificate-error flow works (fail, see an ignorable `UntrustedRoot`, retry
//! ignoring it), a certificate added as a root is trusted, a trusted root with
//! the same name and another key leaves the problem ignorable, and at TLS 1.2
//! a server that requires a client certificate is reported as requiring one.
#![cfg(all(feature = "tls", unix))]

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use sock_core::{ProtectionLevel, SocketErrorStatus as S};
use sock_tcp::{
    IgnorableCertificateError as Ignore, ServerCertificateErrorSeverity as Severity, StreamSocket,
    StreamSocketControl, TlsConnectError,
};
use support::{v4, within, WAIT};

/// What a refused self-signed server certificate tells the user to do.
const ADVICE: &str = "trust it with add_root_certificates_pem or ignore UntrustedRoot";

/// A directory of its own under the system's temporary directory, removed
/// when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "sock-openssl-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A certificate and key made by `openssl req -x509`.
struct OpensslCert {
    cert: PathBuf,
    key: PathBuf,
    pem: Vec<u8>,
}

fn openssl() -> Command {
    Command::new("openssl")
}

/// `openssl req -x509` with its defaults (RSA, self-signed, `CA:TRUE`), for
/// `subject` and, when given, these subject alternative names.
fn openssl_req(dir: &TempDir, file: &str, subject: &str, names: Option<&str>) -> OpensslCert {
    let cert = dir.0.join(format!("{file}.pem"));
    let key = dir.0.join(format!("{file}.key"));
    let mut req = openssl();
    req.args([
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
    ])
    .args(["-subj", subject, "-keyout"])
    .arg(&key)
    .arg("-out")
    .arg(&cert);
    if let Some(names) = names {
        req.args(["-addext", &format!("subjectAltName={names}")]);
    }
    let status = req
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (cargo xtask test installs it)");
    assert!(status.success(), "openssl req failed");
    // What these tests are about: openssl's defaults make a CA certificate.
    let constraints = openssl()
        .args(["x509", "-noout", "-ext", "basicConstraints", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let constraints = String::from_utf8_lossy(&constraints.stdout);
    assert!(constraints.contains("CA:TRUE"), "{constraints}");
    let pem = std::fs::read(&cert).unwrap();
    OpensslCert { cert, key, pem }
}

/// An `openssl req -x509` certificate for `CN=localhost`, valid for
/// `localhost` and `127.0.0.1`.
fn localhost(dir: &TempDir, file: &str) -> OpensslCert {
    openssl_req(
        dir,
        file,
        "/CN=localhost",
        Some("DNS:localhost,IP:127.0.0.1"),
    )
}

/// Checks `err` is UWP's ignorable untrusted root alone, saying `says` and
/// what to do.
fn assert_untrusted_but_ignorable(err: &TlsConnectError, says: &str) {
    let classified = (
        err.status(),
        err.server_certificate_error_severity(),
        err.ignorable_server_certificate_errors(),
    );
    let expected = (
        S::CertificateUntrustedRoot,
        Severity::Ignorable,
        Some(vec![Ignore::UntrustedRoot]),
    );
    assert_eq!(classified, expected, "{err}");
    let text = err.to_string();
    assert!(text.contains(says) && text.ends_with(ADVICE), "{text}");
}

/// `openssl s_server` on a loopback port of its choosing; killed when dropped.
struct SServer {
    child: Child,
    port: u16,
}

impl SServer {
    fn start(cert: &OpensslCert, extra: &[&str]) -> Self {
        let mut child = openssl()
            .args(["s_server", "-accept", "127.0.0.1:0", "-cert"])
            .arg(&cert.cert)
            .arg("-key")
            .arg(&cert.key)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl is installed (cargo xtask test installs it)");
        let stdout = child.stdout.take().unwrap();
        let (found, port) = mpsc::channel();
        // Reads all it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("ACCEPT ") {
                    let _ = found.send(addr.rsplit(':').next().unwrap_or("").to_owned());
                }
            }
        });
        let port = port
            .recv_timeout(WAIT)
            .expect("openssl s_server did not say where it listens");
        Self {
            child,
            port: port.parse().expect("a port"),
        }
    }

    async fn connect(
        &self,
        control: &StreamSocketControl,
    ) -> Result<StreamSocket, TlsConnectError> {
        within(control.connect_with_tls_info(&v4(), self.port)).await
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A control trusting only what the test adds.
fn client() -> StreamSocketControl {
    StreamSocket::builder()
        .protection_level(ProtectionLevel::Ssl)
        .with_os_roots(false)
}

#[tokio::test]
async fn a_default_openssl_certificate_is_an_ignorable_untrusted_root_and_trusted_once_added() {
    let dir = TempDir::new();
    let cert = localhost(&dir, "server");
    let server = SServer::start(&cert, &[]);

    // With the operating system's roots too: nothing in them makes it fatal.
    // (The system's store may hold a root of that name, such as Debian's
    // snakeoil certificate: the detail then says so.)
    for os_roots in [false, true] {
        let err = server
            .connect(&client().with_os_roots(os_roots))
            .await
            .expect_err("a self-signed certificate is not trusted");
        assert_untrusted_but_ignorable(&err, r#"server certificate "CN=localhost" is self-signed"#);
        let seen = err.tls_info().and_then(|tls| tls.peer_certificate());
        assert_eq!(seen.and_then(|c| c.common_name()), Some("localhost"));
    }

    // UWP's retry: the same server with the problem made ignorable; the
    // waived problem stays visible.
    let socket = server
        .connect(&client().ignorable_server_certificate_errors(&[Ignore::UntrustedRoot]))
        .await
        .expect("the untrusted root is waived");
    let info = socket.information();
    assert_eq!(
        info.server_certificate_error_severity(),
        Severity::Ignorable
    );
    let problems = info.server_certificate_errors();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].is_waived());
    assert_eq!(problems[0].status(), S::CertificateUntrustedRoot);
    drop(socket);

    // Trusted explicitly (as `s_client -CAfile` does), it is accepted.
    let socket = server
        .connect(&client().add_root_certificates_pem(&cert.pem))
        .await
        .expect("a trusted self-signed certificate is accepted");
    assert!(socket.information().server_certificate_errors().is_empty());
}

#[tokio::test]
async fn a_certificate_naming_its_host_only_in_its_common_name_has_two_ignorable_problems() {
    let dir = TempDir::new();
    let cert = openssl_req(&dir, "server", "/CN=127.0.0.1", None);
    let server = SServer::start(&cert, &[]);
    let err = server.connect(&client()).await.unwrap_err();
    assert_eq!(
        err.server_certificate_error_severity(),
        Severity::Ignorable,
        "{err}"
    );
    let name = &err.server_certificate_errors()[0];
    assert_eq!(name.ignorable_as(), Some(Ignore::InvalidName));
    assert!(
        name.detail()
            .contains(r#"its common name "127.0.0.1" is not checked; give it a subjectAltName"#),
        "{name}"
    );
    let mut kinds = err.ignorable_server_certificate_errors().unwrap();
    kinds.sort_by_key(|k| format!("{k}"));
    assert_eq!(kinds, [Ignore::InvalidName, Ignore::UntrustedRoot]);
    server
        .connect(&client().ignorable_server_certificate_errors(&kinds))
        .await
        .expect("both waived");
}

#[tokio::test]
async fn a_trusted_root_with_the_same_name_and_another_key_leaves_the_server_ignorable() {
    let dir = TempDir::new();
    let cert = localhost(&dir, "server");
    // Debian's snakeoil certificate, say, in the system certificate directory.
    let namesake = localhost(&dir, "namesake");
    let server = SServer::start(&cert, &[]);
    let trusting_namesake = || client().add_root_certificates_pem(&namesake.pem);

    let err = server.connect(&trusting_namesake()).await.unwrap_err();
    assert_untrusted_but_ignorable(
        &err,
        "is self-signed, and the trusted root of that name has another key",
    );

    let waiving = trusting_namesake().ignorable_server_certificate_errors(&[Ignore::UntrustedRoot]);
    drop(server.connect(&waiving).await.expect("waived"));
    let both = trusting_namesake().add_root_certificates_pem(&cert.pem);
    let socket = server.connect(&both).await.expect("trusted");
    assert!(socket.information().server_certificate_errors().is_empty());
}

#[tokio::test]
async fn at_tls12_a_server_requiring_a_client_certificate_is_reported_as_requiring_one() {
    let dir = TempDir::new();
    let cert = localhost(&dir, "server");
    let alice = openssl_req(&dir, "alice", "/CN=alice", None);
    let ca_file = alice.cert.to_str().unwrap().to_owned();
    let server = SServer::start(
        &cert,
        &[
            "-Verify",
            "1",
            "-verify_return_error",
            "-tls1_2",
            "-CAfile",
            &ca_file,
        ],
    );
    let control = || {
        client()
            .protection_level(ProtectionLevel::Tls12)
            .add_root_certificates_pem(&cert.pem)
    };

    let err = server.connect(&control()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the server requires a client certificate and none was sent"),
        "{text}"
    );
    assert!(text.contains("this client has none configured"), "{text}");
    assert!(!text.contains("cipher suite"), "{text}");
    assert_eq!(err.status(), S::Unknown);

    // The control: the certificate the server trusts is accepted.
    let alice_key = std::fs::read(&alice.key).unwrap();
    let socket = server
        .connect(&control().client_certificate_pem(&alice.pem, &alice_key))
        .await
        .expect("a client certificate the server trusts");
    assert_eq!(socket.protection_level(), ProtectionLevel::Tls12);
}
