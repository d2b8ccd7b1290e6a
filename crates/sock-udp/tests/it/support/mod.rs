//! Helpers shared by the sock-udp integration tests: bounded waits, loopback
//! sockets, and running a test body inside a network namespace of its own.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use sock_core::HostName;
use sock_udp::{DatagramSocket, DatagramSocketControl};

/// The longest any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than [`WAIT`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {WAIT:?}"),
    }
}

/// `127.0.0.1`.
pub fn v4_loopback() -> HostName {
    HostName::new("127.0.0.1").unwrap()
}

/// `::1`.
pub fn v6_loopback() -> HostName {
    HostName::new("::1").unwrap()
}

/// A socket on `127.0.0.1`, any port.
pub async fn bind_v4(control: DatagramSocketControl) -> DatagramSocket {
    control
        .bind_endpoint(Some(&v4_loopback()), "")
        .await
        .expect("bind 127.0.0.1:0")
}

/// The socket's address as seen from loopback.
pub fn loopback_addr(socket: &DatagramSocket) -> SocketAddr {
    let local = socket.local_addr();
    if local.ip().is_unspecified() {
        SocketAddr::new("127.0.0.1".parse().unwrap(), local.port())
    } else {
        local
    }
}

/// The environment variable that tells a re-executed test binary it runs
/// inside the namespace and should run the body.
const NETNS_ENV: &str = "SOCK_UDP_TEST_IN_NETNS";

/// Runs `body` inside a fresh network namespace that carries multicast
/// (IPv4 224.0.0.0/4 on `lo`, IPv6 on a veth interface of its own).
///
/// The test binary re-executes itself under `unshare -n`, running only the
/// test `name`, and the child runs `body`. Where namespaces cannot be made
/// (not root, no `unshare`), prints why and returns without running `body`.
pub fn in_netns(name: &str, body: impl FnOnce()) {
    if std::env::var_os(NETNS_ENV).is_some() {
        set_up_loopback_multicast();
        body();
        return;
    }
    match Command::new("unshare").args(["-n", "true"]).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            println!(
                "skipped {name}: cannot make a network namespace (unshare -n: {})",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Err(e) => {
            println!("skipped {name}: cannot make a network namespace (unshare: {e})");
            return;
        }
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new("unshare")
        .arg("-n")
        .arg(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(NETNS_ENV, "1")
        .output()
        .expect("run the test inside unshare -n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} failed inside its network namespace:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "{name} did not run inside its network namespace:\n{stdout}\n{stderr}"
    );
}

fn set_up_loopback_multicast() {
    // IPv4 multicast can use `lo` itself. IPv6 cannot (the kernel turns routes
    // through `lo` into reject routes), so it gets a veth pair, `mc0`/`mc1`, of
    // which only `mc0` speaks IPv6: its multicast route is then the only one,
    // and the kernel's local copy of each multicast datagram is delivered.
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
        &["link", "add", "mc0", "type", "veth", "peer", "name", "mc1"],
    ] {
        run("ip", args);
    }
    run("sysctl", &["-q", "-w", "net.ipv6.conf.mc1.disable_ipv6=1"]);
    for args in [
        &["link", "set", "mc1", "up"][..],
        &["link", "set", "mc0", "up"],
        &["-6", "addr", "add", "fd00::1/64", "dev", "mc0", "nodad"],
    ] {
        run("ip", args);
    }
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub use sock_test::child::test_path;
