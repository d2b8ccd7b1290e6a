//! UDP: a datagram per line or per frame, against Python and between
//! sockcats; an ICMP refusal; a multicast group shared by two listeners
//! (inside a network namespace the test makes, skipped where it cannot).

use std::process::Command;

use crate::peers::{UDP_CLIENT, UDP_ECHO_SERVER};
use crate::support::{closed_udp_port, python, run, sockcat, Proc};

#[test]
fn each_line_is_a_datagram_to_a_python_echo_server() {
    let server = Proc::spawn(&mut python(UDP_ECHO_SERVER, &[]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&["connect", "--udp", "--count", "3", "127.0.0.1", &port]),
        b"one\ntwo\nthree\n",
    );
    done.assert_code(0);
    assert_eq!(done.text(), "one\ntwo\nthree\n");
}

#[test]
fn after_stdin_ends_replies_are_awaited_until_it_goes_quiet() {
    let server = Proc::spawn(&mut python(UDP_ECHO_SERVER, &[]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&[
            "connect",
            "--udp",
            "--idle-timeout",
            "2s",
            "127.0.0.1",
            &port,
        ]),
        b"echo me\n",
    );
    done.assert_code(0);
    assert_eq!(done.text(), "echo me\n");
}

#[test]
fn a_python_client_gets_an_answer_from_a_sockcat_listener() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--udp",
        "--format",
        "json",
        "--input-format",
        "json",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut client = Proc::spawn(&mut python(UDP_CLIENT, &[&port, "hi there"]));
    let json = listener.wait_stdout_text("hi there");
    assert!(json.contains(r#""peer":"127.0.0.1:"#), "{json}");
    listener.write(b"\"general kenobi\"\n");
    assert_eq!(client.wait_stdout_text("kenobi\n"), "general kenobi\n");
    client.finish().assert_code(0);
    drop(listener);
}

#[test]
fn length_frames_one_per_datagram_between_sockcats() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--udp",
        "--frame",
        "length:2:le",
        "--format",
        "hex",
        "--input-format",
        "hex",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--udp",
        "--frame",
        "length:2:le",
        "--format",
        "hex",
        "--input-format",
        "hex",
        "--count",
        "1",
        "127.0.0.1",
        &port,
    ]));
    let all = hex::encode((0..=255u8).collect::<Vec<_>>());
    client.write(format!("{all}\n").as_bytes());
    assert_eq!(listener.wait_stdout_text("\n"), format!("{all}\n"));
    listener.write(b"00ff\n");
    assert_eq!(client.wait_stdout_text("\n"), "00ff\n");
    client.finish().assert_code(0);
    drop(listener);
}

#[test]
fn a_datagram_that_is_not_one_frame_is_a_protocol_failure() {
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--udp",
        "--frame",
        "length:2",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    // A plain line: its first two bytes are taken as a length it does not have.
    run(
        &mut sockcat(&["connect", "--udp", "--eof", "close", "127.0.0.1", &port]),
        b"oops\n",
    )
    .assert_code(0);
    listener
        .finish()
        .assert_code(10)
        .assert_stderr(&["not exactly one length-prefixed frame"]);
}

#[test]
fn a_closed_udp_port_is_refused_with_exit_code_5() {
    let port = closed_udp_port().to_string();
    let done = run(
        &mut sockcat(&[
            "connect",
            "--udp",
            "--idle-timeout",
            "20s",
            "127.0.0.1",
            &port,
        ]),
        b"anyone there?\n",
    );
    done.assert_code(5)
        .assert_stderr(&["status ConnectionRefused (12), exit code 5"]);
}

/// The environment variable that tells the re-executed test binary it
/// runs inside the namespace.
const NETNS_ENV: &str = "SOCKCAT_TEST_IN_NETNS";

#[test]
fn two_listeners_share_a_multicast_group_port() {
    const NAME: &str = "udp::two_listeners_share_a_multicast_group_port";
    if std::env::var_os(NETNS_ENV).is_none() {
        match Command::new("unshare").args(["-n", "true"]).output() {
            Ok(out) if out.status.success() => {}
            other => {
                println!("skipped {NAME}: cannot make a network namespace ({other:?})");
                return;
            }
        }
        let out = Command::new("unshare")
            .arg("-n")
            .arg(std::env::current_exe().unwrap())
            .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(NETNS_ENV, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "inside its namespace:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    // Inside the namespace: multicast on its own loopback.
    for args in [
        &["link", "set", "lo", "up"][..],
        &["link", "set", "lo", "multicast", "on"],
        &[
            "route",
            "add",
            "224.0.0.0/4",
            "dev",
            "lo",
            "src",
            "127.0.0.1",
        ],
    ] {
        let status = Command::new("ip").args(args).status().unwrap();
        assert!(status.success(), "ip {args:?}");
    }
    let first = Proc::spawn(&mut sockcat(&[
        "listen",
        "-v",
        "--udp",
        "--multicast",
        "239.255.0.7",
        "0",
    ]));
    let port = first.port().to_string();
    let mut second = Proc::spawn(&mut sockcat(&[
        "listen",
        "-v",
        "--udp",
        "--multicast",
        "239.255.0.7",
        &port,
    ]));
    second.wait_stderr("joined multicast group 239.255.0.7");
    let mut first = first;
    run(
        &mut sockcat(&["connect", "--udp", "--eof", "close", "239.255.0.7", &port]),
        b"to the group\n",
    )
    .assert_code(0);
    assert_eq!(first.wait_stdout_text("group\n"), "to the group\n");
    assert_eq!(second.wait_stdout_text("group\n"), "to the group\n");
}
