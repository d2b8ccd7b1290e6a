//! The scenarios: which server, which attack, how big, and what the
//! well-behaved client speaks; and the run of each.

use std::time::Duration;

use crate::attacks::{self, Attack};
use crate::child::Server;
use crate::probe::{self, Protocol};
use crate::report::Row;
use crate::server::ServerArgs;

/// The sizes of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    pub(crate) short: bool,
}

impl Size {
    fn pick(self, short: usize, full: usize) -> usize {
        if self.short {
            short
        } else {
            full
        }
    }
}

/// The most p99 latency a well-behaved client may see under attack (in the
/// full run; the short form reports it without judging it).
pub(crate) const P99_TARGET: Duration = Duration::from_millis(250);

/// The address-space limit the length-prefixed servers run under.
const AS_LIMIT_MIB: u64 = 1024;

#[derive(Debug, Clone, Copy)]
enum Kind {
    HeaderOnly,
    StalledFrames,
    IdleFlood,
    SlowDrip,
    SilentTls,
    GarbageTls,
    ResetStorm,
    UdpFlood,
    LineEdges,
    WebSocketStalled,
}

const ALL: [Kind; 10] = [
    Kind::HeaderOnly,
    Kind::StalledFrames,
    Kind::IdleFlood,
    Kind::SlowDrip,
    Kind::SilentTls,
    Kind::GarbageTls,
    Kind::ResetStorm,
    Kind::UdpFlood,
    Kind::LineEdges,
    Kind::WebSocketStalled,
];

/// Runs every scenario (or those whose name contains `filter`).
pub(crate) async fn run(size: Size, filter: Option<&str>) -> Result<Vec<Row>, String> {
    let dir = std::env::temp_dir().join(format!("sock-attack-{}", std::process::id()));
    let identity = crate::certs::server_identity(&dir)?;
    let mut rows = Vec::new();
    for kind in ALL {
        let name = name(kind, size);
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        eprintln!("attack: {name}");
        let mut server = ServerArgs {
            kind: "length".into(),
            ..ServerArgs::default()
        };
        let mut protocol = Protocol::Length;
        match kind {
            Kind::HeaderOnly | Kind::StalledFrames => server.as_limit_mib = Some(AS_LIMIT_MIB),
            Kind::IdleFlood => server.max_connections = Some(size.pick(500, 4096)),
            Kind::SilentTls | Kind::GarbageTls => {
                server.kind = "tls".into();
                server.cert = Some(identity.cert_path.display().to_string());
                server.key = Some(identity.key_path.display().to_string());
                protocol = Protocol::Tls {
                    ca_pem: identity.ca_pem.clone(),
                };
            }
            Kind::UdpFlood => {
                server.kind = "udp".into();
                protocol = Protocol::Udp;
            }
            Kind::LineEdges => {
                server.kind = "line".into();
                protocol = Protocol::Line;
            }
            Kind::WebSocketStalled => {
                server.kind = "websocket".into();
                server.as_limit_mib = Some(AS_LIMIT_MIB);
                protocol = Protocol::WebSocket;
            }
            Kind::SlowDrip | Kind::ResetStorm => {}
        }
        rows.push(scenario(kind, name, size, &server, &protocol).await?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rows)
}

fn name(kind: Kind, size: Size) -> String {
    match kind {
        Kind::HeaderOnly => format!(
            "header-only 8 MiB frames, server under a {AS_LIMIT_MIB} MiB address-space limit"
        ),
        Kind::StalledFrames => {
            format!("8 MiB frames stalled one byte short, {AS_LIMIT_MIB} MiB address-space limit")
        }
        Kind::IdleFlood => format!(
            "idle connections, twice the connection limit ({})",
            size.pick(500, 4096)
        ),
        Kind::SlowDrip => "slow drip: one byte every 500 ms".into(),
        Kind::SilentTls => "TLS connections that never send a ClientHello".into(),
        Kind::GarbageTls => "garbage, truncated and lying TLS records".into(),
        Kind::ResetStorm => "connect then reset, back to back".into(),
        Kind::UdpFlood => "UDP flood, 1,200-byte datagrams".into(),
        Kind::LineEdges => "lines: CR/LF mixes, invalid UTF-8, 70 KiB lines".into(),
        Kind::WebSocketStalled => format!(
            "WebSocket frames announcing 4 MiB, stalled after 1 KiB, {AS_LIMIT_MIB} MiB \
             address-space limit"
        ),
    }
}

async fn start_attack(kind: Kind, size: Size, port: u16) -> Attack {
    match kind {
        Kind::HeaderOnly => attacks::header_only(port, size.pick(1000, 4000)).await,
        Kind::StalledFrames => attacks::stalled_frames(port, size.pick(40, 100)).await,
        Kind::IdleFlood => {
            let attack = attacks::silent(port, size.pick(1000, 8192)).await;
            // Let the flood go idle long enough to be shed.
            tokio::time::sleep(sock::tcp::DEFAULT_SHED_MIN_IDLE + Duration::from_millis(300)).await;
            attack
        }
        Kind::SlowDrip => {
            attacks::slow_drip(port, size.pick(200, 1000), Duration::from_millis(500)).await
        }
        Kind::SilentTls => attacks::silent(port, 500).await,
        Kind::GarbageTls => attacks::garbage_tls(port, size.pick(20, 50), 20).await,
        Kind::ResetStorm => attacks::reset_storm(port, size.pick(2000, 10_000)).await,
        Kind::UdpFlood => attacks::udp_flood(port, 4, size.pick(100_000, 1_000_000)).await,
        Kind::LineEdges => attacks::line_edges(port, size.pick(20, 50), 30).await,
        Kind::WebSocketStalled => attacks::websocket_stalled(port, size.pick(200, 1000)).await,
    }
}

async fn scenario(
    kind: Kind,
    name: String,
    size: Size,
    args: &ServerArgs,
    protocol: &Protocol,
) -> Result<Row, String> {
    let mut server = Server::start(args).await?;
    let attack = start_attack(kind, size, server.port).await;
    let hostile = attack.hostile;
    let stats = probe::run(
        protocol,
        server.port,
        size.pick(40, 200),
        Duration::from_millis(size.pick(25, 20) as u64),
    )
    .await;
    let died_during = server.died();
    attack.stop();
    let outcome = server.stop().await;
    Ok(Row {
        name,
        hostile,
        stats,
        died: died_during.or(outcome.died),
        peak_rss: outcome.peak_rss,
        // UDP has no delivery promise: under a flood the kernel drops
        // datagrams, the probe's among them.
        loss_allowed: matches!(kind, Kind::UdpFlood),
        p99_target: (!size.short).then_some(P99_TARGET),
    })
}
