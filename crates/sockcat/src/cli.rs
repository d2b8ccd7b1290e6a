//! The command line: clap's derive types for `connect`, `listen` and
//! `completions`, the values their options take, and the long help (examples
//! per mode, the exit-code table).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::frame::FrameSpec;

/// The examples and the exit codes, shown by `--help`.
pub(crate) const AFTER_LONG_HELP: &str = "\
Examples:
  sockcat connect localhost 8080
      plain TCP: stdin to the socket, the socket to stdout
  sockcat connect --frame length:2:le --format hex --input-format hex 127.0.0.1 7000
      one stdin line of hex = one frame with a 2-byte little-endian length
  sockcat connect --tls --ca ca.pem --cert me.pem --key me.key db.internal 5433
      mutual TLS with a client certificate
  sockcat listen -k --exec cat 7000
      an echo server, one `cat` per connection
  sockcat listen --udp --multicast 239.1.2.3 5000
      watch a multicast group (the port is shared with others)
  sockcat connect --ws wss://echo.example/chat
      a WebSocket client: one stdin line = one message
  sockcat listen --hexdump --format json 0
      any free port (printed); both directions dumped on stderr

Exit codes (the class of the error's SocketErrorStatus):
    0  the session ended normally
    1  another failure (status Unknown: local I/O, a command
       that could not start, ...)
    2  the command line is wrong
    3  invalid input: host name, service, certificate or key
       file, setting, a line of stdin in the wrong format
    4  the name did not resolve: HostNotFound, NoAddressesFound,
       ClassTypeNotFound, ...
    5  refused or unreachable: ConnectionRefused,
       NetworkIsUnreachable, UnreachableHost, HostIsDown, ...
    6  timed out: ConnectionTimedOut (connect, TLS handshake,
       --idle-timeout)
    7  the connection was lost: ConnectionResetByPeer,
       SoftwareCausedConnectionAbort, OperationAborted, ...
    8  the local address: AddressAlreadyInUse,
       CannotAssignRequestedAddress, TooManyOpenFiles
    9  the peer's certificate: CertificateExpired,
       CertificateUntrustedRoot, ... (statuses 23-30)
   10  the peer broke the protocol: a malformed frame, a frame
       over --max-frame (MessageTooLong), a refused WebSocket
       upgrade, HttpInvalidServerResponse
  141  stdout was closed (as a process killed by SIGPIPE);
       nothing is printed

The manual: docs/sockcat.md in the sock repository.";

/// A netcat for framed protocols: TCP, UDP, TLS with client certificates and
/// WebSockets, with every failure shown with its SocketErrorStatus.
#[derive(Debug, Parser)]
#[command(
    name = "sockcat",
    version,
    after_long_help = AFTER_LONG_HELP,
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What sockcat does.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Connect to HOST PORT (or to a WebSocket URI with --ws) and bridge it
    /// with stdin and stdout.
    #[command(after_long_help = AFTER_LONG_HELP)]
    Connect(ConnectArgs),
    /// Listen on [HOST] PORT (PORT 0: any free port, printed on stderr) and
    /// bridge connections with stdin and stdout, or with --exec.
    #[command(
        after_long_help = AFTER_LONG_HELP,
        override_usage = "sockcat listen [OPTIONS] [HOST] <PORT>"
    )]
    Listen(ListenArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// `sockcat connect`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// The host to connect to: a name, an IPv4 address or an IPv6 address.
    #[arg(required_unless_present = "ws")]
    pub(crate) host: Option<String>,
    /// The port or service name (`443`, `https`).
    #[arg(required_unless_present = "ws")]
    pub(crate) port: Option<String>,
    /// Connect to this WebSocket URI (`ws://` or `wss://`) instead of HOST PORT.
    #[arg(long, value_name = "URI", conflicts_with_all = ["host", "udp"])]
    pub(crate) ws: Option<String>,
    /// Connect from this local address and port (`ADDR:PORT`, `[V6]:PORT`;
    /// port 0: any).
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) local: Option<String>,
    /// How long connecting may take, name resolution and the TLS handshake
    /// included (`500ms`, `10s`; a bare number is seconds).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    pub(crate) connect_timeout: Duration,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `sockcat listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// `[HOST] PORT`: the address to listen on (default: every address, IPv4
    /// and IPv6) and the port (0: any free port; the one chosen is printed).
    #[arg(value_name = "ADDRESS", num_args = 1..=2, required = true)]
    pub(crate) address: Vec<String>,
    /// Keep listening after the first connection ends, and serve several
    /// connections at once (stdin goes to every one of them).
    #[arg(short = 'k', long)]
    pub(crate) keep_open: bool,
    /// At most this many connections at once with --keep-open or --broker;
    /// past it the connection idle longest is shed, or a newcomer refused.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub(crate) max_connections: usize,
    /// Relay every message from one client to all the others (a chat hub);
    /// implies --keep-open. Messages are not printed; stdin still goes to all.
    #[arg(long, conflicts_with = "exec")]
    pub(crate) broker: bool,
    /// Serve WebSockets: each connection's upgrade request is accepted (any
    /// path), then one message is one frame of stdin and stdout.
    #[arg(long, conflicts_with = "udp")]
    pub(crate) ws_listen: bool,
    /// Join this multicast group (UDP): the port is shared with other
    /// programs listening on it, and only the group's datagrams are received.
    #[arg(long, value_name = "GROUP", requires = "udp")]
    pub(crate) multicast: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// The options `connect` and `listen` share.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// UDP instead of TCP: one message (stdin line, or frame) per datagram.
    #[arg(short = 'u', long)]
    pub(crate) udp: bool,
    /// Use only IPv4 addresses.
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    pub(crate) ipv4: bool,
    /// Use only IPv6 addresses.
    #[arg(short = '6', long)]
    pub(crate) ipv6: bool,

    /// Protect the connection with TLS: `--tls` for the best version both
    /// sides have, `--tls=1.2` or `--tls=1.3` for exactly that one.
    #[arg(
        long,
        value_name = "VERSION",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "any",
        conflicts_with = "udp",
        help_heading = "TLS"
    )]
    pub(crate) tls: Option<TlsVersionArg>,
    /// Trust these PEM root certificates (repeatable). With `listen`: require
    /// a client certificate issued by one of them (mutual TLS).
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub(crate) ca: Vec<PathBuf>,
    /// The certificate chain to present (PEM): the server's with `listen`,
    /// a client certificate with `connect`.
    #[arg(long, value_name = "FILE", requires = "key", help_heading = "TLS")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert", help_heading = "TLS")]
    pub(crate) key: Option<PathBuf>,
    /// The certificate and key to present, from a PKCS#12 file (.p12, .pfx).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "pkcs11_uri"], help_heading = "TLS")]
    pub(crate) pkcs12: Option<PathBuf>,
    /// The password of the PKCS#12 file (default: empty).
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "SOCKCAT_PKCS12_PASSWORD",
        hide_env_values = true,
        help_heading = "TLS"
    )]
    pub(crate) pkcs12_password: Option<String>,
    /// A client certificate whose key stays on a PKCS#11 token (RFC 7512 URI:
    /// `pkcs11:token=...;object=...?module-path=...&pin-value=...`).
    #[arg(
        long,
        value_name = "URI",
        conflicts_with = "cert",
        help_heading = "TLS"
    )]
    pub(crate) pkcs11_uri: Option<String>,
    /// Server certificate problems to tolerate (comma-separated). Each one
    /// removes a protection; the signature is still checked.
    #[arg(
        long,
        value_name = "PROBLEMS",
        value_delimiter = ',',
        help_heading = "TLS"
    )]
    pub(crate) ignore: Vec<IgnoreArg>,
    /// Application protocols to offer or accept (ALPN), comma-separated,
    /// most preferred first.
    #[arg(
        long,
        value_name = "PROTOCOLS",
        value_delimiter = ',',
        help_heading = "TLS"
    )]
    pub(crate) alpn: Vec<String>,
    /// The server name to send (SNI) and to check the certificate against,
    /// instead of HOST.
    #[arg(long, value_name = "NAME", help_heading = "TLS")]
    pub(crate) sni: Option<String>,

    /// How messages are delimited on the socket: `raw` (a byte stream),
    /// `lines`, or `length[:1|2|4|8][:be|le]` (a length prefix, default
    /// 4 bytes big-endian). Default: raw for TCP; lines for UDP and
    /// WebSockets, whose messages have their own boundaries (there it only
    /// says how stdin is split, and `length` puts one frame in each
    /// datagram).
    #[arg(long, value_name = "FRAMING", help_heading = "Messages")]
    pub(crate) frame: Option<FrameSpec>,
    /// The longest frame or line accepted from the peer or sent to it
    /// (bytes; default 8 MiB for frames, 64 KiB for lines).
    #[arg(long, value_name = "BYTES", help_heading = "Messages")]
    pub(crate) max_frame: Option<usize>,
    /// How messages are written to stdout: `text` (the payload, a newline
    /// after each message unless --frame raw), `hex` (a line of hex per
    /// message), `json` (a JSON object per line: timestamp, direction, peer,
    /// length, payload as text or base64).
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = "Messages")]
    pub(crate) format: Format,
    /// How stdin is read into messages (default `text`, whatever --format
    /// says, so what is typed is sent): `text` (a
    /// line per message, or the bytes as they come with --frame raw), `hex`
    /// (a line of hex digits per message), `json` (a JSON object with
    /// `payload` and `encoding`, or a JSON string, per line).
    #[arg(long, value_enum, help_heading = "Messages")]
    pub(crate) input_format: Option<Format>,
    /// WebSocket messages to send: `auto` (text when the payload is UTF-8),
    /// `text` or `binary`.
    #[arg(long, value_enum, default_value_t = WsType::Auto, help_heading = "Messages")]
    pub(crate) ws_type: WsType,
    /// Dump every message, both directions, in hex on stderr.
    #[arg(long, help_heading = "Messages")]
    pub(crate) hexdump: bool,
    /// Write the messages sent to stdout too, after those received
    /// (`direction: out` in JSON, `> ` before them in text and hex).
    #[arg(long, help_heading = "Messages")]
    pub(crate) show_sent: bool,

    /// Run this command (with `sh -c`) for each connection, its stdin and
    /// stdout bridged to the socket instead of sockcat's own.
    #[arg(short = 'e', long, value_name = "COMMAND", help_heading = "Sessions")]
    pub(crate) exec: Option<String>,
    /// At the end of stdin: `half-close` (send FIN and keep reading until the
    /// peer closes), `close` (end the session), `keep` (send nothing more,
    /// keep the write side open and keep reading).
    #[arg(long, value_enum, default_value_t = EofAction::HalfClose, help_heading = "Sessions")]
    pub(crate) eof: EofAction,
    /// End a session after this long with no traffic either way (exit code
    /// 6). For UDP, how long to wait for replies after the end of stdin
    /// (default 1 s, exit code 0).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Sessions")]
    pub(crate) idle_timeout: Option<Duration>,
    /// End the session after receiving this many messages.
    #[arg(short = 'n', long, value_name = "N", help_heading = "Sessions")]
    pub(crate) count: Option<u64>,

    /// Say more on stderr: addresses, connect attempts, the TLS version,
    /// cipher, ALPN and peer certificate (-vv: the library's debug events).
    #[arg(short = 'v', long, action = clap::ArgAction::Count, help_heading = "Diagnostics")]
    pub(crate) verbose: u8,
    /// At the end, print bytes and messages each way, the duration and the
    /// throughput on stderr (and a live progress line when stderr is a
    /// terminal).
    #[arg(long, help_heading = "Diagnostics")]
    pub(crate) stats: bool,
}

/// `--tls[=VERSION]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TlsVersionArg {
    /// The best version both sides have.
    Any,
    /// TLS 1.2 only.
    #[value(name = "1.2")]
    Tls12,
    /// TLS 1.3 only.
    #[value(name = "1.3")]
    Tls13,
}

/// `--ignore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IgnoreArg {
    /// A chain that does not end in a trusted root (self-signed, private CA).
    UntrustedRoot,
    /// A certificate outside its validity period.
    Expired,
    /// A certificate not valid for the host name.
    InvalidName,
}

/// `--format` and `--input-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// The payload itself.
    Text,
    /// Hex digits, a line per message.
    Hex,
    /// A JSON object per line.
    Json,
}

/// `--ws-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WsType {
    /// Text when the payload is UTF-8, else binary.
    Auto,
    /// Always text (a payload that is not UTF-8 is an error).
    Text,
    /// Always binary.
    Binary,
}

/// `--eof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EofAction {
    /// Shut the write side down and keep reading.
    HalfClose,
    /// End the session.
    Close,
    /// Keep the connection as it is and keep reading.
    Keep,
}

/// Durations as `500ms`, `10s`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|e| e.to_string());
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 500ms, 10s, 2m)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_take_units_or_seconds() {
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn tls_takes_an_optional_version() {
        let cli = Cli::try_parse_from(["sockcat", "connect", "--tls", "h", "1"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!("not connect")
        };
        assert_eq!(args.common.tls, Some(TlsVersionArg::Any));
        let cli = Cli::try_parse_from(["sockcat", "connect", "--tls=1.3", "h", "1"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!("not connect")
        };
        assert_eq!(args.common.tls, Some(TlsVersionArg::Tls13));
    }

    #[test]
    fn ws_replaces_host_and_port() {
        assert!(Cli::try_parse_from(["sockcat", "connect", "--ws", "ws://h/"]).is_ok());
        assert!(Cli::try_parse_from(["sockcat", "connect"]).is_err());
    }
}
