//! `listen`: one connection bridged with stdin and stdout (the default), or
//! with `--keep-open` / `--broker` every connection served at once by the
//! library's `serve` (a task each, `--max-connections`), sharing stdin
//! through the hub.

use std::sync::Arc;

use sock::tcp::StreamSocket;

use crate::broker::Hub;
use crate::cli::ListenArgs;
use crate::context::Context;
use crate::exit::Failure;
use crate::local::{InputRx, Local, LocalOut};
use crate::session::{self, Conn, Relay};
use crate::{tcp, tls, udp, ws};

/// Runs `listen`; `stdin` is `None` with `--exec` (stdin is not read).
pub(crate) async fn listen(
    args: Arc<ListenArgs>,
    ctx: Arc<Context>,
    stdin: Option<InputRx>,
) -> Result<(), Failure> {
    if args.common.udp {
        if args.common.exec.is_some() {
            return Err(Failure::Usage(
                "--exec needs connections: it cannot serve UDP".to_owned(),
            ));
        }
        let conn = udp::listen(&args, &ctx).await?;
        let local = ctx.local(stdin.unwrap_or_else(closed_input))?;
        return session::run(conn, local, &ctx.settings, None).await;
    }
    let listener = tcp::bind(&args, &ctx).await?;
    if !(args.keep_open || args.broker) {
        let socket = listener.accept().await?;
        drop(listener);
        let conn = open(socket, &args, &ctx).await?;
        let local = ctx.local(stdin.unwrap_or_else(closed_input))?;
        return session::run(conn, local, &ctx.settings, None).await;
    }

    let hub = Arc::new(Hub::new(args.broker));
    match stdin {
        Some(stdin) => {
            let hub = Arc::clone(&hub);
            tokio::spawn(async move { hub.feed(stdin).await });
        }
        None => hub.end_of_stdin(),
    }
    let max = args.max_connections;
    let server = listener
        .serve(move |socket| {
            let (args, ctx, hub) = (Arc::clone(&args), Arc::clone(&ctx), Arc::clone(&hub));
            async move {
                let peer = socket.peer_addr();
                if let Err(failure) = serve_one(socket, &args, &ctx, &hub).await {
                    eprintln!("sockcat: connection from {peer}: {failure}");
                    for line in failure.details() {
                        eprintln!("sockcat: {line}");
                    }
                    eprintln!("sockcat: status {}", failure.status());
                }
            }
        })
        .max_connections(max)
        .idle_timeout(None);
    server.await;
    Ok(())
}

/// One connection of a listener that keeps open.
async fn serve_one(
    socket: StreamSocket,
    args: &ListenArgs,
    ctx: &Context,
    hub: &Arc<Hub>,
) -> Result<(), Failure> {
    if ctx.exec.is_some() {
        let conn = open(socket, args, ctx).await?;
        let local = ctx.local(closed_input())?;
        return session::run(conn, local, &ctx.settings, None).await;
    }
    // Joined before the connection is announced (`-v`), so that nothing
    // stdin or the other clients send after that misses it.
    let (id, input) = hub.join();
    let result = async {
        let conn = open(socket, args, ctx).await?;
        let (local, relay) = if hub.is_broker() {
            let local = Local {
                input,
                output: LocalOut::Discard,
                child: None,
            };
            let relay = Relay {
                hub: Arc::clone(hub),
                id,
            };
            (local, Some(relay))
        } else {
            (ctx.local(input)?, None)
        };
        session::run(conn, local, &ctx.settings, relay).await
    }
    .await;
    hub.leave(id);
    result
}

/// An accepted socket as a connection: said with `-v`, upgraded to a
/// WebSocket with `--ws-listen`.
async fn open(socket: StreamSocket, args: &ListenArgs, ctx: &Context) -> Result<Conn, Failure> {
    ctx.say(format_args!(
        "connection from {} to {}",
        socket.peer_addr(),
        socket.local_addr()
    ));
    if let Some(info) = socket.tls_info() {
        tls::report(info).into_iter().for_each(|line| ctx.say(line));
    }
    if args.ws_listen {
        ws::accept(socket, &args.common, ctx).await
    } else {
        Ok(tcp::conn(socket, ctx))
    }
}

/// Input that has ended already.
fn closed_input() -> InputRx {
    tokio::sync::mpsc::channel(1).1
}
