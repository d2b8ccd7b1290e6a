//! `sockcat`: a netcat for framed protocols, built on sock's public API.
//!
//! `sockcat connect HOST PORT` and `sockcat listen [HOST] PORT` bridge a
//! TCP, TLS, UDP or WebSocket connection with stdin and stdout (or with a
//! command per connection), messages framed raw, by line or with a length
//! prefix, written as text, hex or JSON lines. Failures are printed with
//! their `SocketErrorStatus` and end with an exit code per status class
//! (`sockcat --help`, and the manual in `docs/sockcat.md`).

#![deny(unsafe_code)]

mod broker;
mod certs;
mod cli;
mod context;
mod exec;
mod exit;
mod format;
mod frame;
mod hexdump;
mod local;
mod serve;
mod session;
mod stats;
mod tcp;
mod tls;
mod udp;
mod ws;

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, Common, ConnectArgs, Format};
use crate::context::Context;
use crate::exit::Failure;
use crate::format::{InputFormat, OutputFormat};
use crate::frame::FrameSpec;
use crate::local::InputRx;
use crate::session::Settings;
use crate::stats::{Progress, Stats};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Command::Completions { shell } = cli.command {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "sockcat", &mut script);
        return match std::io::stdout().write_all(&script) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                ExitCode::from(exit::STDOUT_CLOSED)
            }
            Err(e) => {
                Failure::local("writing stdout", e).print();
                ExitCode::from(exit::OTHER)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            Failure::local("starting the runtime", e).print();
            return ExitCode::from(exit::OTHER);
        }
    };
    let code = runtime.block_on(run(cli.command));
    // A read of stdin may still be blocked in a thread of the runtime:
    // leave without waiting for it.
    runtime.shutdown_background();
    std::process::exit(i32::from(code))
}

/// Runs `connect` or `listen`, and gives the exit code.
async fn run(command: Command) -> u8 {
    let (common, udp, ws) = match &command {
        Command::Connect(args) => (&args.common, args.common.udp, args.ws.is_some()),
        Command::Listen(args) => (&args.common, args.common.udp, args.ws_listen),
        Command::Completions { .. } => return exit::SUCCESS,
    };
    init_logs(common.verbose);
    let stats = Stats::new();
    let ctx = Arc::new(context(common, udp, ws, &stats));
    let progress = common.stats.then(|| Progress::start(&stats)).flatten();
    let show_stats = common.stats;
    let stdin = ctx
        .exec
        .is_none()
        .then(|| local::spawn_reader(tokio::io::stdin(), ctx.input, ctx.max_input_line(), "stdin"));
    let stdout = ctx.stdout.clone();
    let result = match command {
        Command::Connect(args) => connect(&args, &ctx, stdin).await,
        Command::Listen(args) => serve::listen(Arc::new(args), Arc::clone(&ctx), stdin).await,
        Command::Completions { .. } => Ok(()),
    };
    stdout.flush().await;
    if let Some(progress) = progress {
        progress.finish();
    }
    if show_stats {
        eprintln!("sockcat: {}", stats.summary());
    }
    match result {
        Ok(()) => exit::SUCCESS,
        Err(failure) => {
            failure.print();
            failure.exit_code()
        }
    }
}

/// What the options decide for the whole run.
fn context(common: &Common, udp: bool, ws: bool, stats: &Arc<Stats>) -> Context {
    // Datagrams and WebSocket messages have their own boundaries; stdin is
    // then read a line per message unless --frame raw says otherwise.
    let frame = common.frame.unwrap_or(if udp || ws {
        FrameSpec::Lines
    } else {
        FrameSpec::Raw
    });
    let max_frame = common.max_frame.unwrap_or(if udp || ws {
        sock::codec::DEFAULT_MAX_FRAME_LENGTH
    } else {
        frame.default_max()
    });
    let input_format = common.input_format.unwrap_or(Format::Text);
    let stdout = local::start_stdout(tokio::io::stdout());
    let output = OutputFormat {
        format: common.format,
        framed: frame.is_framed() || udp || ws,
        show_sent: common.show_sent,
    };
    Context {
        settings: Settings {
            output,
            eof: common.eof,
            idle: common.idle_timeout,
            count: common.count,
            hexdump: common.hexdump,
            stdout: common.show_sent.then(|| stdout.clone()),
            stats: Arc::clone(stats),
        },
        frame,
        max_frame,
        input: InputFormat {
            format: input_format,
            lines: frame.is_framed() || (input_format != Format::Text),
        },
        exec: common.exec.clone(),
        verbose: common.verbose,
        stdout,
    }
}

/// `sockcat connect`.
async fn connect(args: &ConnectArgs, ctx: &Context, stdin: Option<InputRx>) -> Result<(), Failure> {
    let common = &args.common;
    let conn = match (&args.ws, &args.host, &args.port) {
        (Some(_), _, _) if args.local.is_some() => {
            return Err(Failure::Usage("--local does not go with --ws".to_owned()))
        }
        (Some(uri), _, _) => ws::connect(uri, args.connect_timeout, common, ctx).await?,
        (None, Some(host), Some(port)) if common.udp => {
            udp::connect(host, port, args.local.as_deref(), common, ctx).await?
        }
        (None, Some(host), Some(port)) => {
            tcp::connect(
                host,
                port,
                args.local.as_deref(),
                args.connect_timeout,
                common,
                ctx,
            )
            .await?
        }
        _ => {
            return Err(Failure::Usage(
                "connect needs HOST PORT, or --ws URI".to_owned(),
            ))
        }
    };
    let stdin = stdin.unwrap_or_else(|| tokio::sync::mpsc::channel(1).1);
    let local = ctx.local(stdin)?;
    session::run(conn, local, &ctx.settings, None).await
}

/// `-v`: the library's connect attempts and handshake events on stderr;
/// `-vv`: all its debug events.
fn init_logs(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = match verbose {
        0 => return,
        1 => Targets::new()
            .with_target("sock_tcp", LevelFilter::DEBUG)
            .with_default(LevelFilter::WARN),
        _ => Targets::new().with_default(LevelFilter::DEBUG),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}
