//! Peers from the distribution: ncat and socat, each as client and as
//! server. `cargo xtask test` installs them; run alone, a test whose peer
//! is missing says so and passes.

use std::process::Command;

use crate::support::{closed_tcp_port, installed, run, sockcat, Proc};

fn have(program: &str) -> bool {
    let there = installed(program);
    if !there {
        println!("skipped: {program} is not installed (cargo xtask test installs it)");
    }
    there
}

#[test]
fn ncat_client_and_sockcat_listener_exchange_lines() {
    if !have("ncat") {
        return;
    }
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        "lines",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut client = Proc::spawn(Command::new("ncat").args(["127.0.0.1", &port]));
    client.write(b"from ncat\n");
    assert_eq!(listener.wait_stdout_text("ncat\n"), "from ncat\n");
    listener.write(b"from sockcat\n");
    client.wait_stdout_text("from sockcat\n");
    listener.close_stdin();
    client.close_stdin();
    listener.finish().assert_code(0);
    drop(client);
}

#[test]
fn sockcat_client_to_an_ncat_exec_server() {
    if !have("ncat") {
        return;
    }
    // ncat cannot listen on port 0 and say which it got: take a free one.
    let port = closed_tcp_port().to_string();
    let mut server = Proc::spawn(Command::new("ncat").args([
        "-v",
        "-l",
        "127.0.0.1",
        &port,
        "--exec",
        "/bin/cat",
    ]));
    server.wait_stderr("Listening on");
    // ncat ends the connection as soon as it reads our half-close, with
    // what `cat` has not echoed yet unsent: wait for the echo first.
    let data: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let mut client = Proc::spawn(&mut sockcat(&["connect", "127.0.0.1", &port]));
    client.write(&data);
    let echoed = client.wait_stdout_len(data.len()).to_vec();
    assert!(
        echoed == data,
        "{} bytes sent, {} echoed, not the same",
        data.len(),
        echoed.len()
    );
    client.close_stdin();
    client.finish().assert_code(0);
    server.close_stdin();
    drop(server);
}

#[test]
fn socat_client_through_a_sockcat_exec_listener() {
    if !have("socat") {
        return;
    }
    let listener = Proc::spawn(&mut sockcat(&["listen", "--exec", "cat", "127.0.0.1", "0"]));
    let port = listener.port();
    let done = run(
        Command::new("socat").args(["-t", "30", "-", &format!("TCP:127.0.0.1:{port}")]),
        b"through socat\n",
    );
    done.assert_code(0);
    assert_eq!(done.text(), "through socat\n");
    listener.finish().assert_code(0);
}

#[test]
fn sockcat_udp_client_to_a_socat_udp_echo() {
    if !have("socat") {
        return;
    }
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    drop(socket);
    let server = Proc::spawn(Command::new("socat").args([
        "-T",
        "30",
        &format!("UDP-RECVFROM:{port},bind=127.0.0.1,fork"),
        "EXEC:cat",
    ]));
    // socat binds at once but says nothing: send until the echo comes,
    // each try bounded.
    let mut answered = None;
    for _ in 0..20 {
        let done = run(
            &mut sockcat(&[
                "connect",
                "--udp",
                "--count",
                "1",
                "--idle-timeout",
                "1500ms",
                "127.0.0.1",
                &port.to_string(),
            ]),
            b"over udp\n",
        );
        if done.code() == 0 {
            answered = Some(done);
            break;
        }
    }
    let done = answered.expect("socat answered within 20 tries");
    assert_eq!(done.text(), "over udp\n");
    drop(server);
}
