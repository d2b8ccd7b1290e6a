//! WebSockets between sockcats: `--ws` against `--ws-listen`, text and
//! binary messages, TLS (`wss://`), and a refused upgrade.

use crate::support::{run, sockcat, Certs, Proc};

#[test]
fn messages_go_both_ways_and_the_close_ends_the_session() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "-v",
        "--ws-listen",
        "--format",
        "json",
        "--input-format",
        "json",
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port();
    let mut client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--ws",
        &format!("ws://127.0.0.1:{port}/chat"),
        "--format",
        "hex",
        "--input-format",
        "hex",
    ]));
    client.write(b"68656c6c6f\n00ff\n");
    let json = listener.wait_stdout_text(r#""encoding":"base64""#);
    assert!(json.contains(r#""payload":"hello""#), "{json}");
    assert!(json.contains(r#""payload":"AP8=""#), "{json}");
    listener.write(b"\"welcome\"\n");
    assert_eq!(
        client.wait_stdout_text("\n"),
        format!("{}\n", hex::encode("welcome"))
    );
    client.close_stdin();
    client.finish().assert_code(0);
    listener
        .finish()
        .assert_code(0)
        .assert_stderr(&["websocket upgrade from 127.0.0.1:", "\"/chat\""]);
}

#[test]
fn wss_with_the_tls_options() {
    let certs = Certs::new();
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--ws-listen",
        "--tls",
        "--cert",
        &certs.arg("server.pem"),
        "--key",
        &certs.arg("server.key"),
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port();
    let done = run(
        &mut sockcat(&[
            "connect",
            "-v",
            "--ws",
            &format!("wss://localhost:{port}/"),
            "--ca",
            &certs.arg("ca.pem"),
        ]),
        b"secret\n",
    );
    done.assert_code(0)
        .assert_stderr(&["websocket open to", "TLS 1.3"]);
    let served = listener.finish();
    served.assert_code(0);
    assert_eq!(served.text(), "secret\n");
}

#[test]
fn a_plain_tcp_server_is_not_a_websocket_server() {
    let mut listener = Proc::spawn(&mut sockcat(&["listen", "127.0.0.1", "0"]));
    let port = listener.port();
    let mut client = Proc::spawn(&mut sockcat(&[
        "connect",
        "--ws",
        &format!("ws://127.0.0.1:{port}/"),
    ]));
    listener.wait_stdout_text("\r\n\r\n");
    listener.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
    client.close_stdin();
    client.finish().assert_code(10).assert_stderr(&["404"]);
    drop(listener);
}
