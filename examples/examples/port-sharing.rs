//! The UWP sockets guide's "port sharing for DatagramSocket": several
//! `multicast_only` sockets bind one port and each receives the multicast
//! datagrams of the groups it joined, as mDNS and SSDP listeners do; without
//! the option, a second bind of the port fails with `AddressAlreadyInUse`.
//!
//! ```text
//! cargo run --example port-sharing
//! cargo run --example port-sharing -- --here
//! ```
//!
//! Multicast is only sent inside a network namespace made for the purpose,
//! never on the host's own network. With no arguments the example re-runs
//! itself inside `unshare -n` (which needs root), gives that namespace's
//! loopback a multicast route, and tells the story there. Where it cannot make
//! a namespace, it shows the binding half (which sends nothing) and says how
//! to run the rest. `--here` tells the story in the current namespace, for
//! when you have set one up by hand:
//!
//! ```text
//! sudo unshare -n sh -c 'ip link set lo up && ip link set lo multicast on &&
//!     ip route add 224.0.0.0/4 dev lo src 127.0.0.1 && target/debug/examples/port-sharing --here'
//! ```

use std::process::{Command, ExitCode};
use std::time::Duration;

use sock_core::{Error, HostName, Report, SocketErrorStatus};
use sock_examples::Args;
use sock_udp::DatagramSocket;

/// Set in the re-run child: it is inside its own namespace.
const IN_NETNS: &str = "SOCK_PORT_SHARING_IN_NETNS";
/// mDNS's group and port: the classic case of listeners sharing a port.
const GROUP: &str = "224.0.0.251";
const PORT: u16 = 5353;
const WAIT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let args = match Args::parse(&["here"]) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("port-sharing: {e}\nusage: port-sharing [--here]");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime");

    if std::env::var_os(IN_NETNS).is_some() {
        if let Err(e) = set_up_namespace() {
            eprintln!("could not set up multicast in the namespace: {e}");
            return ExitCode::FAILURE;
        }
        return finish(runtime.block_on(story(PORT)));
    }
    if args.flag("here") {
        return finish(runtime.block_on(story(PORT)));
    }
    match namespace_probe() {
        Ok(()) => {
            println!("(running inside a new network namespace, so no multicast leaves this host)");
            let exe = std::env::current_exe().expect("path of this example");
            match Command::new("unshare")
                .arg("-n")
                .arg(exe)
                .env(IN_NETNS, "1")
                .status()
            {
                Ok(status) if status.success() => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("could not run unshare: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(reason) => {
            let shown = finish(runtime.block_on(binding_only()));
            println!();
            println!("Multicast is not shown here: this example sends multicast only inside a");
            println!("network namespace of its own, and none can be made ({reason}).");
            println!("Run it as root (it re-runs itself under `unshare -n`), or by hand:");
            println!(
                "  sudo unshare -n sh -c 'ip link set lo up && ip link set lo multicast on &&"
            );
            println!("      ip route add 224.0.0.0/4 dev lo src 127.0.0.1 && target/debug/examples/port-sharing --here'");
            shown
        }
    }
}

fn finish(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {}", e.status(), Report(&e));
            ExitCode::FAILURE
        }
    }
}

/// Whether a network namespace can be made and configured here.
fn namespace_probe() -> Result<(), String> {
    let out = Command::new("unshare")
        .args(["-n", "ip", "link", "set", "lo", "up"])
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "unshare -n: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn set_up_namespace() -> Result<(), String> {
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
    ] {
        let out = Command::new("ip")
            .args(args)
            .output()
            .map_err(|e| format!("ip: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

async fn shared_listener(name: &str, port: u16) -> Result<DatagramSocket, Error> {
    let socket = DatagramSocket::builder()
        .multicast_only(true)
        .bind_service_name(port)
        .await?;
    println!(
        "[{name}] bound to port number {} with multicast_only",
        socket.information().local_port
    );
    Ok(socket)
}

/// Shows that a socket without `multicast_only` cannot take a shared port.
async fn exclusive_bind_fails(port: u16) -> Result<(), Error> {
    match DatagramSocket::bind_service_name(port).await {
        Err(e) if e.status() == SocketErrorStatus::AddressAlreadyInUse => {
            println!(
                "[exclusive socket] binding port number {port} without multicast_only fails: {}",
                e.status()
            );
            Ok(())
        }
        Err(e) => Err(e),
        Ok(_) => Err(Error::invalid_data(format!(
            "a socket without multicast_only was allowed to bind the shared port {port}"
        ))),
    }
}

/// The half that needs no multicast traffic: port sharing and its absence.
async fn binding_only() -> Result<(), Error> {
    let first = shared_listener("first listener", 0).await?;
    let port = first.information().local_port;
    let _second = shared_listener("second listener", port).await?;
    exclusive_bind_fails(port).await?;
    // Without the option, binds stay exclusive between plain sockets too.
    let plain = DatagramSocket::bind_service_name("").await?;
    let plain_port = plain.information().local_port;
    match DatagramSocket::bind_service_name(plain_port).await {
        Err(e) => println!(
            "[exclusive socket] a second plain bind of port number {plain_port} fails: {}",
            e.status()
        ),
        Ok(_) => {
            return Err(Error::invalid_data(format!(
                "two plain sockets were allowed to bind port {plain_port}"
            )))
        }
    }
    Ok(())
}

/// The whole story: two listeners share the port and both hear one datagram.
async fn story(port: u16) -> Result<(), Error> {
    let group = HostName::new(GROUP)?;
    let first = shared_listener("first listener", port).await?;
    let second = shared_listener("second listener", port).await?;
    for (name, socket) in [("first listener", &first), ("second listener", &second)] {
        socket.join_multicast_group(&group)?;
        println!("[{name}] joined multicast group {GROUP}");
    }
    exclusive_bind_fails(port).await?;

    let sender = DatagramSocket::bind_service_name("").await?;
    let text = "Hello, multicast!";
    sender.send_to(&group, port, text).await?;
    println!("[sender] sent \"{text}\" to {GROUP}:{port}");

    for (name, socket) in [("first listener", &first), ("second listener", &second)] {
        let msg = tokio::time::timeout(WAIT, socket.recv())
            .await
            .map_err(|_| Error::TimedOut {
                operation: "multicast receive",
                after: WAIT,
            })??;
        println!(
            "[{name}] received \"{}\" from {} (sent to {})",
            sock_examples::shown(&msg.data),
            msg.remote_addr(),
            msg.local_address
        );
    }
    println!("both listeners on port number {port} received the one multicast datagram");
    Ok(())
}
