//! The attack suite: `cargo xtask attack` (or `--short` inside `cargo xtask
//! test`) starts servers built with sock, attacks each with hostile clients
//! on loopback while a well-behaved client is timed, and prints a table.
//!
//! `sock-attack serve KIND ...` is the server side, run as a child.

mod attacks;
mod certs;
mod child;
mod limits;
mod probe;
mod report;
mod server;
mod suite;

use std::process::ExitCode;

const USAGE: &str = "usage: sock-attack [--short] [--only NAME-PART] [--report FILE]\n       \
                     sock-attack serve length|line|tls|udp [--as-limit-mib N] [--max-connections N] [--cert F --key F]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = if args.first().map(String::as_str) == Some("serve") {
        parse_server(&args[1..]).and_then(|a| runtime.block_on(server::serve(a)))
    } else {
        runtime.block_on(attack(&args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sock-attack: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs after the positional ones.
fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn parse_server(args: &[String]) -> Result<server::ServerArgs, String> {
    let kind = args.first().ok_or(USAGE)?.clone();
    let number = |name: &str| -> Result<Option<u64>, String> {
        option(args, name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("{name} {v:?} is not a number"))
            })
            .transpose()
    };
    Ok(server::ServerArgs {
        kind,
        as_limit_mib: number("--as-limit-mib")?,
        max_connections: number("--max-connections")?.map(|n| n as usize),
        cert: option(args, "--cert").map(str::to_owned),
        key: option(args, "--key").map(str::to_owned),
    })
}

async fn attack(args: &[String]) -> Result<(), String> {
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--short" => {}
            // Their values are read below.
            "--only" | "--report" => {
                rest.next();
            }
            other => return Err(format!("unexpected argument {other:?}\n{USAGE}")),
        }
    }
    limits::raise_open_files();
    let size = suite::Size {
        short: args.iter().any(|a| a == "--short"),
    };
    let needed = if size.short { 2500 } else { 9000 };
    if limits::open_files_limit() < needed {
        return Err(format!(
            "the suite needs {needed} open files; the limit here is {}",
            limits::open_files_limit()
        ));
    }
    let rows = suite::run(size, option(args, "--only")).await?;
    let table = report::table(&rows);
    println!("{table}");
    if let Some(path) = option(args, "--report") {
        std::fs::write(path, &table).map_err(|e| format!("{path}: {e}"))?;
    }
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.failure().is_some())
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} attack(s) failed: {}",
            failed.len(),
            failed.join("; ")
        ))
    }
}
