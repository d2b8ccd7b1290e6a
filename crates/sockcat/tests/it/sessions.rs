//! Sessions: the end of stdin half-closes and reading goes on; `--eof
//! close`; `--exec` per connection; `--broker`; `--keep-open` sharing
//! stdin; `--count`, `--idle-timeout`, `--hexdump`, `--stats`.

use crate::peers::COUNT_AT_EOF_SERVER;
use crate::support::{all_bytes, python, run, sockcat, Proc};

#[test]
fn the_end_of_stdin_half_closes_and_the_reply_still_arrives() {
    let server = Proc::spawn(&mut python(COUNT_AT_EOF_SERVER, &[]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&["connect", "127.0.0.1", &port]),
        b"twelve bytes",
    );
    done.assert_code(0);
    assert_eq!(done.text(), "got 12 bytes\n");
}

#[test]
fn a_closed_stdin_half_closes_at_once() {
    let server = Proc::spawn(&mut python(COUNT_AT_EOF_SERVER, &[]));
    let port = server.port().to_string();
    let mut cmd = sockcat(&["connect", "127.0.0.1", &port]);
    let mut proc = Proc::spawn(&mut cmd);
    proc.close_stdin();
    let done = proc.finish();
    done.assert_code(0);
    assert_eq!(done.text(), "got 0 bytes\n");
}

#[test]
fn after_a_half_close_the_peer_can_still_talk_until_it_closes() {
    // The command answers only once its input has ended: after the
    // client's half-close has reached it.
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        "lines",
        "--exec",
        "cat; echo answer one; echo answer two",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "127.0.0.1",
        &port,
    ]));
    client.write(b"question\n");
    client.close_stdin();
    let done = client.finish();
    done.assert_code(0);
    assert_eq!(done.text(), "question\nanswer one\nanswer two\n");
    listener.finish().assert_code(0);
}

#[test]
fn when_the_peer_ends_its_side_the_session_ends() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        "lines",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let done = run(
        &mut sockcat(&["connect", "--frame", "lines", "127.0.0.1", &port]),
        b"last words\n",
    );
    done.assert_code(0);
    assert_eq!(listener.wait_stdout_text("words\n"), "last words\n");
    // Its stdin is still open: the listener ended because the client did.
    listener.finish().assert_code(0);
}

#[test]
fn eof_close_ends_the_session_without_waiting_for_the_peer() {
    let mut listener = Proc::spawn(&mut sockcat(&["listen", "127.0.0.1", "0"]));
    let port = listener.port().to_string();
    let done = run(
        &mut sockcat(&["connect", "--eof", "close", "127.0.0.1", &port]),
        b"bye",
    );
    done.assert_code(0);
    assert_eq!(listener.wait_stdout_len(3), b"bye");
    listener.close_stdin();
    listener.finish().assert_code(0);
}

#[test]
fn exec_cat_echoes_each_connection_with_its_own_process() {
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "-k",
        "--exec",
        "cat",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let data = all_bytes().repeat(100);
    for _ in 0..3 {
        let done = run(&mut sockcat(&["connect", "127.0.0.1", &port]), &data);
        done.assert_code(0);
        assert!(
            done.stdout == data,
            "{} bytes sent, {} back, not the same",
            data.len(),
            done.stdout.len()
        );
    }
    let stderr = listener.kill();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn exec_runs_for_a_client_too() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        "lines",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "--exec",
        "while read l; do echo \"got $l\"; done",
        "127.0.0.1",
        &port,
    ]));
    listener.write(b"this\n");
    assert_eq!(listener.wait_stdout_text("this\n"), "got this\n");
    listener.close_stdin();
    client.close_stdin();
    client.finish().assert_code(0);
    listener.finish().assert_code(0);
}

#[test]
fn a_broker_relays_each_clients_lines_to_the_others() {
    let broker = Proc::spawn(&mut sockcat(&[
        "listen",
        "-v",
        "--broker",
        "--frame",
        "lines",
        "127.0.0.1",
        "0",
    ]));
    let port = broker.port().to_string();
    let mut alice = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "127.0.0.1",
        &port,
    ]));
    broker.wait_stderr("connection from");
    let mut bob = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "127.0.0.1",
        &port,
    ]));
    broker.wait_stderr("connection from");
    alice.write(b"hello from alice\n");
    assert_eq!(bob.wait_stdout_text("alice\n"), "hello from alice\n");
    bob.write(b"hello from bob\n");
    assert_eq!(alice.wait_stdout_text("bob\n"), "hello from bob\n");
    alice.close_stdin();
    bob.close_stdin();
    alice.finish().assert_code(0);
    bob.finish().assert_code(0);
    drop(broker);
}

#[test]
fn keep_open_sends_stdin_to_every_connection() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "-v",
        "-k",
        "--frame",
        "lines",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut one = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "127.0.0.1",
        &port,
    ]));
    listener.wait_stderr("connection from");
    let mut two = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "127.0.0.1",
        &port,
    ]));
    listener.wait_stderr("connection from");
    listener.write(b"to all\n");
    assert_eq!(one.wait_stdout_text("all\n"), "to all\n");
    assert_eq!(two.wait_stdout_text("all\n"), "to all\n");
    one.write(b"from one\n");
    listener.wait_stdout_text("from one\n");
    one.close_stdin();
    two.close_stdin();
    one.finish().assert_code(0);
    two.finish().assert_code(0);
    drop(listener);
}

#[test]
fn count_ends_the_session_after_so_many_messages() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        "lines",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "--count",
        "2",
        "127.0.0.1",
        &port,
    ]));
    listener.write(b"a\nb\nc\n");
    client.wait_stdout_text("b\n");
    let done = client.finish();
    done.assert_code(0);
    assert_eq!(done.text(), "a\nb\n");
    listener.finish().assert_code(0);
}

#[test]
fn idle_timeout_ends_a_quiet_session_with_timed_out() {
    let listener = Proc::spawn(&mut sockcat(&["listen", "127.0.0.1", "0"]));
    let port = listener.port().to_string();
    let client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--idle-timeout",
        "300ms",
        "127.0.0.1",
        &port,
    ]));
    let done = {
        // stdin stays open and nothing is said either way.
        let done = client.wait_stderr("exit code");
        assert!(done.contains("exit code 6"), "{done}");
        client.finish()
    };
    done.assert_code(6).assert_stderr(&[
        "no traffic for 300ms (--idle-timeout)",
        "status ConnectionTimedOut (3)",
    ]);
    drop(listener);
}

#[test]
fn hexdump_and_stats_report_both_directions_on_stderr() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        "lines",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    let mut client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--frame",
        "lines",
        "--hexdump",
        "--stats",
        "--show-sent",
        "127.0.0.1",
        &port,
    ]));
    client.write(b"ping\n");
    listener.wait_stdout_text("ping\n");
    listener.write(b"pong\n");
    client.wait_stdout_text("< pong\n");
    listener.close_stdin();
    client.close_stdin();
    let done = client.finish();
    done.assert_code(0).assert_stderr(&[
        "> 4 bytes to 127.0.0.1:",
        "00000000  70 69 6e 67",
        "|ping|",
        "< 4 bytes from 127.0.0.1:",
        "|pong|",
        "sent 4 B in 1 messages, received 4 B in 1 messages; 1 connection;",
    ]);
    assert_eq!(done.text(), "> ping\n< pong\n");
    listener.finish().assert_code(0);
}
