//! TLS and mutual TLS against `openssl s_server` / `s_client` and between
//! sockcats; certificate failures with their problems, the chain, the
//! status and exit code 9.

use std::process::Command;

use sock_test::certs::{Ca, LeafSpec};

use crate::support::{parse_port, run, sockcat, Certs, Proc};

/// `openssl s_server` on a free loopback port, answering each line
/// reversed; gives it and its port.
fn s_server(certs: &Certs, extra: &[&str]) -> (Proc, String) {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-naccept",
        "1",
        "-rev",
    ])
    .args([
        "-cert",
        &certs.arg("server.pem"),
        "-key",
        &certs.arg("server.key"),
    ])
    .args(extra);
    let mut server = Proc::spawn(&mut cmd);
    let out = server.wait_stdout_text("ACCEPT");
    let line = out
        .lines()
        .find(|l| l.contains("ACCEPT"))
        .unwrap()
        .to_owned();
    (server, parse_port(&line).to_string())
}

#[test]
fn mutual_tls_with_openssl_s_server_and_a_client_certificate() {
    let certs = Certs::new();
    let (server, port) = s_server(
        &certs,
        &[
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            &certs.arg("ca.pem"),
        ],
    );
    let done = run(
        &mut sockcat(&[
            "connect",
            "-v",
            "--tls",
            "--ca",
            &certs.arg("ca.pem"),
            "--cert",
            &certs.arg("client.pem"),
            "--key",
            &certs.arg("client.key"),
            "--count",
            "1",
            "--frame",
            "lines",
            "localhost",
            &port,
        ]),
        b"stressed\n",
    );
    done.assert_code(0).assert_stderr(&[
        "TLS 1.3, cipher TLS13_",
        "peer certificate: subject \"O=Sock Tests, CN=localhost\"",
    ]);
    assert_eq!(done.text(), "desserts\n");
    drop(server);
}

#[test]
fn openssl_s_server_refuses_a_client_without_a_certificate() {
    let certs = Certs::new();
    let (server, port) = s_server(
        &certs,
        &[
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            &certs.arg("ca.pem"),
        ],
    );
    let done = run(
        &mut sockcat(&[
            "connect",
            "--tls=1.2",
            "--ca",
            &certs.arg("ca.pem"),
            "--frame",
            "lines",
            "localhost",
            &port,
        ]),
        b"hello\n",
    );
    assert_ne!(done.code(), 0, "stdout {:?}", done.text());
    done.assert_stderr(&["sockcat: status "]);
    drop(server);
}

#[test]
fn openssl_s_client_talks_to_a_sockcat_tls_listener() {
    let certs = Certs::new();
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--tls",
        "--cert",
        &certs.arg("server.pem"),
        "--key",
        &certs.arg("server.key"),
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port();
    let mut client = Command::new("openssl");
    client
        .args([
            "s_client",
            "-quiet",
            "-verify_return_error",
            "-CAfile",
            &certs.arg("ca.pem"),
        ])
        .args([
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
        ]);
    let mut client = Proc::spawn(&mut client);
    client.write(b"over tls\n");
    assert_eq!(listener.wait_stdout_text("tls\n"), "over tls\n");
    listener.write(b"and back\n");
    client.wait_stdout_text("and back\n");
    listener.close_stdin();
    client.close_stdin();
    listener.finish().assert_code(0);
    drop(client);
}

#[test]
fn mutual_tls_between_sockcats_shows_the_client_certificate() {
    let certs = Certs::new();
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "-v",
        "--tls=1.2",
        "--cert",
        &certs.arg("server.pem"),
        "--key",
        &certs.arg("server.key"),
        "--ca",
        &certs.arg("ca.pem"),
        "--alpn",
        "chat",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let done = run(
        &mut sockcat(&[
            "connect",
            "-v",
            "--tls",
            "--ca",
            &certs.arg("ca.pem"),
            "--cert",
            &certs.arg("client.pem"),
            "--key",
            &certs.arg("client.key"),
            "--alpn",
            "chat",
            "--sni",
            "localhost",
            "127.0.0.1",
            &port,
        ]),
        b"signed in",
    );
    done.assert_code(0)
        .assert_stderr(&["TLS 1.2, cipher ", "ALPN chat"]);
    let served = listener.finish();
    served.assert_code(0).assert_stderr(&[
        "ALPN chat",
        "peer certificate: subject \"O=Sock Tests, CN=sockcat test client\"",
    ]);
    assert_eq!(served.stdout, b"signed in");
}

#[test]
fn an_untrusted_server_fails_with_its_problems_chain_and_exit_code_9() {
    // Self-signed, as users make them.
    let certs = Certs::new();
    certs.write_leaf("self", &LeafSpec::server(&["localhost"]).self_signed());
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "-k",
        "--tls",
        "--cert",
        &certs.arg("self.pem"),
        "--key",
        &certs.arg("self.key"),
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let done = run(&mut sockcat(&["connect", "--tls", "localhost", &port]), b"");
    done.assert_code(9).assert_stderr(&[
        "certificate problems:",
        "is self-signed",
        "[CertificateUntrustedRoot; --ignore untrusted-root would accept it]",
        "peer certificate chain:",
        "0: subject \"O=Sock Tests, CN=localhost\", issuer \"O=Sock Tests, CN=localhost\"",
        "status CertificateUntrustedRoot (24), exit code 9",
    ]);
    // Waived, it connects, and -v says what was waived.
    let done = run(
        &mut sockcat(&[
            "connect",
            "-v",
            "--tls",
            "--ignore",
            "untrusted-root",
            "localhost",
            &port,
        ]),
        b"",
    );
    done.assert_code(0).assert_stderr(&["waived: "]);
    drop(listener);
}

#[test]
fn a_wrong_name_and_an_expired_certificate_each_have_their_status() {
    let certs = Certs::new();
    let other = Ca::new("Other CA");
    let expired = certs.ca.issue(LeafSpec::server(&["localhost"]).expired());
    certs.write_leaf("expired", &expired);
    certs.write_leaf("elsewhere", &certs.ca.server(&["elsewhere.example"]));
    std::fs::write(certs.path("other-ca.pem"), other.pem()).unwrap();
    for (leaf, status, ignore) in [
        ("expired", "CertificateExpired (23)", "expired"),
        (
            "elsewhere",
            "CertificateCommonNameIsIncorrect (25)",
            "invalid-name",
        ),
    ] {
        let listener = Proc::spawn(&mut sockcat(&[
            "listen",
            "-k",
            "--tls",
            "--cert",
            &certs.arg(&format!("{leaf}.pem")),
            "--key",
            &certs.arg(&format!("{leaf}.key")),
            "127.0.0.1",
            "0",
        ]));
        let port = listener.port().to_string();
        let ca = certs.arg("ca.pem");
        let done = run(
            &mut sockcat(&["connect", "--tls", "--ca", &ca, "localhost", &port]),
            b"",
        );
        done.assert_code(9)
            .assert_stderr(&[&format!("status {status}, exit code 9")]);
        let done = run(
            &mut sockcat(&[
                "connect",
                "--tls",
                "--ca",
                &ca,
                "--ignore",
                ignore,
                "localhost",
                &port,
            ]),
            b"",
        );
        done.assert_code(0);
        drop(listener);
    }
}

#[test]
fn a_client_certificate_from_pkcs12_with_its_password_from_the_environment() {
    let certs = Certs::new();
    let export = Command::new("openssl")
        .args([
            "pkcs12",
            "-export",
            "-passout",
            "pass:s3cret",
            "-name",
            "client",
        ])
        .args([
            "-in",
            &certs.arg("client.pem"),
            "-inkey",
            &certs.arg("client.key"),
        ])
        .args(["-out", &certs.arg("client.p12")])
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "-v",
        "--tls",
        "--cert",
        &certs.arg("server.pem"),
        "--key",
        &certs.arg("server.key"),
        "--ca",
        &certs.arg("ca.pem"),
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let ca = certs.arg("ca.pem");
    let p12 = certs.arg("client.p12");
    let connect = [
        "connect",
        "--tls",
        "--ca",
        &ca,
        "--pkcs12",
        &p12,
        "localhost",
        &port,
    ];
    // The wrong password is named before any connection is made.
    let done = run(
        sockcat(&connect).env("SOCKCAT_PKCS12_PASSWORD", "wrong"),
        b"",
    );
    done.assert_code(3).assert_stderr(&["client.p12"]);
    let done = run(
        sockcat(&connect).env("SOCKCAT_PKCS12_PASSWORD", "s3cret"),
        b"from p12",
    );
    done.assert_code(0);
    let served = listener.finish();
    served
        .assert_code(0)
        .assert_stderr(&["peer certificate: subject \"O=Sock Tests, CN=sockcat test client\""]);
    assert_eq!(served.stdout, b"from p12");
}
