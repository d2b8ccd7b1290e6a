//! Failures: each printed with its status, ending with the documented exit
//! code, never a panic; and the command line's own errors, help and
//! completions.

use std::net::TcpListener;

use crate::peers::ENDLESS_SERVER;
use crate::support::{closed_tcp_port, python, run, sockcat, Proc};

#[test]
fn a_loopback_port_no_one_listens_on_is_refused_with_exit_code_5() {
    let port = closed_tcp_port().to_string();
    let done = run(&mut sockcat(&["connect", "127.0.0.1", &port]), b"");
    done.assert_code(5).assert_stderr(&[
        &format!("could not connect to 127.0.0.1:{port}"),
        "status ConnectionRefused (12), exit code 5",
    ]);
}

#[test]
fn verbose_connects_show_each_attempt() {
    let port = closed_tcp_port().to_string();
    let done = run(&mut sockcat(&["connect", "-v", "localhost", &port]), b"");
    done.assert_code(5).assert_stderr(&[
        &format!("connecting to localhost port {port}"),
        &format!("connect attempt addr=127.0.0.1:{port}"),
    ]);
}

#[test]
fn a_port_in_use_cannot_be_listened_on_with_exit_code_8() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let done = run(&mut sockcat(&["listen", "127.0.0.1", &port]), b"");
    done.assert_code(8)
        .assert_stderr(&["status AddressAlreadyInUse (10), exit code 8"]);
}

#[test]
fn a_bad_host_name_is_invalid_input_with_exit_code_3() {
    let done = run(&mut sockcat(&["connect", "no such host", "80"]), b"");
    done.assert_code(3).assert_stderr(&[
        "invalid host name \"no such host\"",
        "status Unknown (0), exit code 3",
    ]);
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_code_141() {
    let server = Proc::spawn(&mut python(ENDLESS_SERVER, &[]));
    let port = server.port().to_string();
    let mut client = Proc::spawn(&mut sockcat(&["connect", "127.0.0.1", &port]));
    client.wait_stdout_len(1);
    client.close_stdout();
    let done = client.finish();
    done.assert_code(141);
    assert_eq!(done.stderr, "", "nothing is printed");
}

#[test]
fn command_line_mistakes_exit_with_code_2() {
    for args in [
        &["connect", "127.0.0.1"][..],
        &["connect", "--frame", "length:3", "h", "1"],
        &["connect", "--tls=1.1", "h", "1"],
        &["listen", "--multicast", "239.1.1.1", "0"],
        &["bogus"],
    ] {
        let done = run(&mut sockcat(args), b"");
        done.assert_code(2);
        assert!(!done.stderr.is_empty(), "{args:?} says why");
    }
}

#[test]
fn help_shows_examples_and_the_exit_codes() {
    let done = run(&mut sockcat(&["connect", "--help"]), b"");
    done.assert_code(0);
    let help = done.text();
    for needle in [
        "Examples:",
        "--exec cat",
        "Exit codes",
        "141",
        "ConnectionRefused",
        "--frame",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let done = run(&mut sockcat(&["completions", shell]), b"");
        done.assert_code(0);
        let script = done.text();
        assert!(script.contains("sockcat"), "{shell}");
        assert!(script.contains("keep-open"), "{shell}");
    }
}

#[test]
fn a_tls_listener_without_its_certificate_says_what_it_needs() {
    let done = run(&mut sockcat(&["listen", "--tls", "127.0.0.1", "0"]), b"");
    done.assert_code(2)
        .assert_stderr(&["--cert FILE --key FILE"]);
}

#[test]
fn a_missing_certificate_file_is_invalid_input_before_connecting() {
    let port = closed_tcp_port().to_string();
    let done = run(
        &mut sockcat(&[
            "connect",
            "--tls",
            "--ca",
            "/nonexistent/ca.pem",
            "127.0.0.1",
            &port,
        ]),
        b"",
    );
    done.assert_code(3)
        .assert_stderr(&["/nonexistent/ca.pem", "exit code 3"]);
}

#[test]
fn a_connection_reset_by_the_peer_is_lost_with_exit_code_7() {
    let server = Proc::spawn(&mut python(crate::peers::RESET_SERVER, &[]));
    let port = server.port().to_string();
    let client = Proc::spawn(&mut sockcat(&["connect", "127.0.0.1", &port]));
    // stdin stays open: only the reset ends the session.
    client.wait_stderr("exit code");
    client
        .finish()
        .assert_code(7)
        .assert_stderr(&["status ConnectionResetByPeer (18), exit code 7"]);
}

#[test]
fn ipv4_and_ipv6_options_keep_to_their_family() {
    let done = run(&mut sockcat(&["connect", "-4", "::1", "80"]), b"");
    done.assert_code(3)
        .assert_stderr(&["an IPv6 address, but -4 was given"]);
    let listener = Proc::spawn(&mut sockcat(&["listen", "-v", "-4", "0"]));
    let addr = listener.wait_stderr("listening on");
    assert!(addr.contains("listening on 0.0.0.0:"), "{addr}");
    let port = crate::support::parse_port(&addr).to_string();
    let done = run(
        &mut sockcat(&["connect", "-v", "-4", "localhost", &port]),
        b"v4",
    );
    done.assert_code(0)
        .assert_stderr(&["connected to 127.0.0.1:"]);
    assert_eq!(listener.finish().stdout, b"v4");
}

#[test]
fn local_picks_the_address_to_connect_from() {
    let listener = Proc::spawn(&mut sockcat(&["listen", "-v", "127.0.0.1", "0"]));
    let port = listener.port().to_string();
    let done = run(
        &mut sockcat(&["connect", "--local", "127.0.0.2:0", "127.0.0.1", &port]),
        b"from .2",
    );
    done.assert_code(0);
    listener
        .finish()
        .assert_code(0)
        .assert_stderr(&["connection from 127.0.0.2:"]);
}
