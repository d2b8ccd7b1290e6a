//! Every framing both ways, binary data through every format, and frames
//! from the peer that are malformed or over the limit.

use crate::peers::{
    LENGTH_REVERSE_SERVER, LENGTH_ROUND_TRIP_CLIENT, LINE_ECHO_SERVER, SEND_BYTES_SERVER,
};
use crate::support::{all_bytes, python, run, sockcat, Proc};

const WIDTHS_AND_ORDERS: [(&str, &str); 8] = [
    ("1", "be"),
    ("1", "le"),
    ("2", "be"),
    ("2", "le"),
    ("4", "be"),
    ("4", "le"),
    ("8", "be"),
    ("8", "le"),
];

#[test]
fn length_frames_of_every_width_and_order_reach_a_python_server_and_come_back() {
    let payload = &all_bytes()[1..]; // 255 bytes: even a one-byte prefix carries it
    for (width, order) in WIDTHS_AND_ORDERS {
        let server = Proc::spawn(&mut python(LENGTH_REVERSE_SERVER, &[width, order]));
        let port = server.port().to_string();
        let frame = format!("length:{width}:{order}");
        let input = format!("{}\n{}\n", hex::encode(payload), hex::encode(b"abc"));
        let done = run(
            &mut sockcat(&[
                "connect",
                "--frame",
                &frame,
                "--format",
                "hex",
                "--input-format",
                "hex",
                "127.0.0.1",
                &port,
            ]),
            input.as_bytes(),
        );
        done.assert_code(0);
        let reversed: Vec<u8> = payload.iter().rev().copied().collect();
        assert_eq!(
            done.text(),
            format!("{}\n{}\n", hex::encode(reversed), hex::encode(b"cba")),
            "{frame}"
        );
    }
}

#[test]
fn a_python_client_gets_its_length_frames_back_through_a_sockcat_listener() {
    for (width, order) in WIDTHS_AND_ORDERS {
        let frame = format!("length:{width}:{order}");
        let listener = Proc::spawn(&mut sockcat(&[
            "listen",
            "--frame",
            &frame,
            "--format",
            "hex",
            "--input-format",
            "hex",
            "--exec",
            "cat",
            "127.0.0.1",
            "0",
        ]));
        let port = listener.port().to_string();
        let client = run(
            &mut python(LENGTH_ROUND_TRIP_CLIENT, &[&port, width, order]),
            b"",
        );
        client.assert_code(0);
        assert_eq!(client.text(), "same\n", "{frame}: {}", client.stderr);
        listener.finish().assert_code(0);
    }
}

#[test]
fn lines_go_out_and_come_back_from_a_python_server() {
    let server = Proc::spawn(&mut python(LINE_ECHO_SERVER, &[]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&["connect", "--frame", "lines", "127.0.0.1", &port]),
        b"one\r\ntwo\nthree",
    );
    done.assert_code(0);
    assert_eq!(done.text(), "echo: one\necho: two\necho: three\n");
}

#[test]
fn lines_from_a_sockcat_listener_reach_a_sockcat_client_both_ways() {
    let mut listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        "lines",
        "--format",
        "json",
        "--input-format",
        "json",
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
    client.write(b"from the client\n");
    let json = listener.wait_stdout_text("from the client");
    assert!(json.contains(r#""direction":"in""#), "{json}");
    assert!(json.contains(r#""payload":"from the client""#), "{json}");
    listener.write(b"{\"payload\":\"from the listener\"}\n");
    assert_eq!(client.wait_stdout_text("listener\n"), "from the listener\n");
    client.close_stdin();
    listener.finish().assert_code(0);
    client.finish().assert_code(0);
}

/// Sends `input` (in `format`) through a sockcat client to a sockcat
/// listener that writes what it receives in `format`; gives its stdout.
fn through(frame: &str, format: &str, input: &[u8]) -> Vec<u8> {
    let listener = Proc::spawn(&mut sockcat(&[
        "listen",
        "--frame",
        frame,
        "--format",
        format,
        "127.0.0.1",
        "0",
    ]));
    let port = listener.port().to_string();
    run(
        &mut sockcat(&[
            "connect",
            "--frame",
            frame,
            "--format",
            format,
            "--input-format",
            format,
            "127.0.0.1",
            &port,
        ]),
        input,
    )
    .assert_code(0);
    let done = listener.finish();
    done.assert_code(0);
    done.stdout
}

#[test]
fn every_byte_value_passes_raw_text_unchanged() {
    let data: Vec<u8> = all_bytes().repeat(64);
    let out = through("raw", "text", &data);
    assert!(
        out == data,
        "{} bytes sent, {} received, not the same",
        data.len(),
        out.len()
    );
}

#[test]
fn every_byte_value_passes_length_frames_in_hex() {
    let input = format!("{}\n{}\n", hex::encode(all_bytes()), hex::encode(b"\n\r\n"));
    let out = through("length", "hex", input.as_bytes());
    assert_eq!(String::from_utf8(out).unwrap(), input);
}

#[test]
fn every_byte_value_passes_length_frames_in_json_as_base64() {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(all_bytes());
    let input = format!("{{\"payload\":\"{encoded}\",\"encoding\":\"base64\"}}\n\"caf\u{e9}\"\n");
    let out = String::from_utf8(through("length:2:le", "json", input.as_bytes())).unwrap();
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{out}");
    assert_eq!(records[0]["encoding"], "base64");
    assert_eq!(records[0]["payload"], encoded.as_str());
    assert_eq!(records[0]["length"], 256);
    assert_eq!(records[1]["encoding"], "text");
    assert_eq!(records[1]["payload"], "caf\u{e9}");
    assert_eq!(records[1]["direction"], "in");
    assert!(records[1]["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn every_byte_value_but_newline_passes_lines_in_text() {
    let line: Vec<u8> = all_bytes()
        .into_iter()
        .filter(|&b| b != b'\n' && b != b'\r')
        .collect();
    let mut input = line.clone();
    input.push(b'\n');
    assert_eq!(through("lines", "text", &input), input);
}

#[test]
fn a_frame_cut_short_by_the_peer_is_a_protocol_failure() {
    // Announces 10 bytes, sends 3, then closes.
    let server = Proc::spawn(&mut python(SEND_BYTES_SERVER, &["0000000a616263"]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&["connect", "--frame", "length", "127.0.0.1", &port]),
        b"",
    );
    done.assert_code(10).assert_stderr(&[
        "unexpected end of stream",
        "status Unknown (0), exit code 10",
    ]);
}

#[test]
fn a_frame_over_the_limit_is_refused_with_message_too_long() {
    // Announces 1000 bytes against a limit of 100.
    let server = Proc::spawn(&mut python(SEND_BYTES_SERVER, &["000003e8"]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&[
            "connect",
            "--frame",
            "length",
            "--max-frame",
            "100",
            "127.0.0.1",
            &port,
        ]),
        b"",
    );
    done.assert_code(10).assert_stderr(&[
        "max_frame_length exceeded",
        "status MessageTooLong (22), exit code 10",
    ]);
}

#[test]
fn a_line_over_the_limit_is_refused_with_message_too_long() {
    let server = Proc::spawn(&mut python(SEND_BYTES_SERVER, &[&hex::encode([b'x'; 64])]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&[
            "connect",
            "--frame",
            "lines",
            "--max-frame",
            "16",
            "127.0.0.1",
            &port,
        ]),
        b"",
    );
    done.assert_code(10)
        .assert_stderr(&["max_line_length", "MessageTooLong"]);
}

#[test]
fn bad_hex_on_stdin_names_its_line_and_is_invalid_input() {
    let server = Proc::spawn(&mut python(LINE_ECHO_SERVER, &[]));
    let port = server.port().to_string();
    let done = run(
        &mut sockcat(&[
            "connect",
            "--frame",
            "length",
            "--format",
            "hex",
            "--input-format",
            "hex",
            "127.0.0.1",
            &port,
        ]),
        b"6869\nzz\n",
    );
    done.assert_code(3).assert_stderr(&["hex on input line 2"]);
}
