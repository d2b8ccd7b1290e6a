//! Connecting through `DnsResolver` against a DNS server the test runs on
//! loopback: SRV targets by priority, NXDOMAIN, a slow AAAA that must not
//! hold IPv4 back, a dead IPv6 path, and servers that fail, answer garbage or
//! never answer.
#![cfg(feature = "hickory-resolver")]

use crate::support;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use sock_core::{Error, HostName, SocketErrorStatus as S};
use sock_tcp::{DnsResolver, StreamSocket, StreamSocketControl};
use sock_test::dns::{DnsServer, Fault, Kind};
use support::{has_ipv6, listener, refused_addr, silent_listener_at, within};

fn host(name: &str) -> HostName {
    HostName::new(name).unwrap()
}

fn client(dns: &DnsServer) -> StreamSocketControl {
    StreamSocket::builder().resolver(DnsResolver::with_name_servers(&[dns.addr()]).unwrap())
}

#[tokio::test]
async fn srv_targets_are_tried_by_priority_and_a_failing_one_falls_through() {
    let dns = DnsServer::start().await;
    let listener = listener().await;
    let good = listener.local_addr();
    let refused = refused_addr().await;
    // Priority 10 refuses, priority 20 listens, priority 30 is never needed.
    dns.add_srv(
        "_sock-echo._tcp.svc.test",
        20,
        0,
        good.port(),
        "up.svc.test.",
    );
    dns.add_srv(
        "_sock-echo._tcp.svc.test",
        10,
        5,
        refused.port(),
        "down.svc.test.",
    );
    dns.add_srv("_sock-echo._tcp.svc.test", 30, 0, 9, "spare.svc.test.");
    dns.add_a("down.svc.test", Ipv4Addr::LOCALHOST);
    dns.add_a("up.svc.test", Ipv4Addr::LOCALHOST);
    let (socket, accepted) = within(async {
        tokio::join!(
            client(&dns).connect(&host("svc.test"), "sock-echo"),
            listener.accept()
        )
    })
    .await;
    let socket = socket.unwrap();
    accepted.unwrap();
    assert_eq!(socket.peer_addr(), good);
    // The names as given stay the socket's: the host, the service.
    let info = socket.information();
    assert_eq!(info.remote_host_name.raw_name(), "svc.test");
    assert_eq!(info.remote_service_name.as_str(), "sock-echo");
    let asked: Vec<String> = dns.queries().into_iter().map(|(name, _)| name).collect();
    let first = |name: &str| asked.iter().position(|n| n == name).unwrap();
    assert_eq!(asked[0], "_sock-echo._tcp.svc.test");
    assert!(first("down.svc.test") < first("up.svc.test"), "{asked:?}");
    assert!(!asked.iter().any(|n| n == "spare.svc.test"), "{asked:?}");
}

#[tokio::test]
async fn a_service_dns_does_not_know_is_unknown_and_one_marked_unavailable_says_so() {
    let dns = DnsServer::start().await;
    dns.add_a("plain.test", Ipv4Addr::LOCALHOST); // the name exists, without SRV records
    let err = within(client(&dns).connect(&host("plain.test"), "sock-none"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownService { .. }), "{err:?}");
    assert_eq!(err.status(), S::ClassTypeNotFound);

    dns.add_srv("_sock-off._tcp.off.test", 0, 0, 0, ".");
    let err = within(client(&dns).connect(&host("off.test"), "sock-off"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::ClassTypeNotFound, "{err}");
    let text = sock_core::Report(&err).to_string();
    assert!(
        text.contains("_sock-off._tcp.off.test") && text.contains("not available"),
        "{text}"
    );
}

#[tokio::test]
async fn a_name_that_does_not_exist_is_host_not_found() {
    let dns = DnsServer::start().await;
    let err = within(client(&dns).connect(&host("nowhere.test"), 80))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Resolve { .. }), "{err:?}");
    assert_eq!(err.status(), S::HostNotFound);
    let text = sock_core::Report(&err).to_string();
    assert!(
        text.contains("nowhere.test") && text.contains("NXDOMAIN"),
        "{text}"
    );
}

#[tokio::test]
async fn a_slow_aaaa_answer_does_not_hold_ipv4_back() {
    let dns = DnsServer::start().await;
    let listener = listener().await;
    let good = listener.local_addr();
    dns.add_a("slow6.test", Ipv4Addr::LOCALHOST);
    dns.add_aaaa("slow6.test", Ipv6Addr::LOCALHOST);
    // Far longer than the test may take: only a connect that starts with
    // the A answer finishes.
    dns.fault(
        "slow6.test",
        Kind::Aaaa,
        Fault::Delay(Duration::from_secs(60)),
    );
    let started = Instant::now();
    let (socket, _) = within(async {
        tokio::join!(
            client(&dns)
                .connect_timeout(Duration::from_secs(120))
                .connect(&host("slow6.test"), good.port()),
            listener.accept()
        )
    })
    .await;
    assert_eq!(socket.unwrap().peer_addr(), good);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn ipv6_is_tried_first_when_both_families_answer() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let dns = DnsServer::start().await;
    let v6 = tokio::net::TcpListener::bind("[::1]:0").await.unwrap();
    let port = v6.local_addr().unwrap().port();
    dns.add_a("both.test", Ipv4Addr::LOCALHOST);
    dns.add_aaaa("both.test", Ipv6Addr::LOCALHOST);
    let (socket, _) = within(async {
        tokio::join!(
            client(&dns)
                .connection_attempt_delay(Duration::from_secs(30))
                .connect(&host("both.test"), port),
            v6.accept()
        )
    })
    .await;
    assert!(socket.unwrap().peer_addr().is_ipv6());
}

#[tokio::test]
async fn a_dead_ipv6_path_loses_the_race_to_ipv4() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let dns = DnsServer::start().await;
    // IPv6 gets no answer at all (a full accept queue drops SYNs); IPv4
    // listens on the same port number.
    let listener = listener().await;
    let good = listener.local_addr();
    let at: SocketAddr = (Ipv6Addr::LOCALHOST, good.port()).into();
    let Ok(silent) = std::panic::catch_unwind(|| silent_listener_at(at)) else {
        eprintln!("skipped: port {} is taken on ::1", good.port());
        return;
    };
    dns.add_a("dead6.test", Ipv4Addr::LOCALHOST);
    dns.add_aaaa("dead6.test", Ipv6Addr::LOCALHOST);
    let started = Instant::now();
    let (socket, _) = within(async {
        tokio::join!(
            client(&dns)
                .connection_attempt_delay(Duration::from_millis(100))
                .connect(&host("dead6.test"), good.port()),
            listener.accept()
        )
    })
    .await;
    drop(silent);
    assert_eq!(socket.unwrap().peer_addr(), good);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_query_timeout() {
    let dns = DnsServer::start().await;
    dns.add_a("mute.test", Ipv4Addr::LOCALHOST);
    dns.fault("mute.test", Kind::A, Fault::Silent);
    dns.fault("mute.test", Kind::Aaaa, Fault::Silent);
    let resolver = DnsResolver::with_name_servers(&[dns.addr()])
        .unwrap()
        .query_timeout(Duration::from_millis(300));
    let err = within(
        StreamSocket::builder()
            .resolver(resolver.clone())
            .connect(&host("mute.test"), 80),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), S::NonAuthoritativeHostNotFound, "{err:?}");
    let text = sock_core::Report(&err).to_string();
    assert!(
        text.contains("mute.test") && text.contains("query_timeout"),
        "{text}"
    );

    // The connect timeout bounds resolution too.
    let err = within(
        StreamSocket::builder()
            .resolver(resolver.query_timeout(Duration::from_secs(60)))
            .connect_timeout(Duration::from_millis(300))
            .connect(&host("mute.test"), 80),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::TimedOut { .. }), "{err:?}");
    assert_eq!(err.status(), S::ConnectionTimedOut);
}

#[tokio::test]
async fn failing_and_malformed_answers_are_clear_errors() {
    let dns = DnsServer::start().await;
    dns.add_a("broken.test", Ipv4Addr::LOCALHOST);
    dns.fault("broken.test", Kind::A, Fault::ServFail);
    dns.fault("broken.test", Kind::Aaaa, Fault::ServFail);
    dns.add_srv("_sock-bad._tcp.bad.test", 0, 0, 80, "target.bad.test.");
    dns.fault("_sock-bad._tcp.bad.test", Kind::Srv, Fault::Malformed);
    let resolver = DnsResolver::with_name_servers(&[dns.addr()])
        .unwrap()
        .query_timeout(Duration::from_millis(500));
    let control = StreamSocket::builder().resolver(resolver);

    let err = within(control.connect(&host("broken.test"), 80))
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::NonAuthoritativeHostNotFound, "{err:?}");
    assert!(sock_core::Report(&err).to_string().contains("broken.test"));

    let err = within(control.connect(&host("bad.test"), "sock-bad"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::NonAuthoritativeHostNotFound, "{err:?}");
    let text = sock_core::Report(&err).to_string();
    assert!(text.contains("_sock-bad._tcp.bad.test"), "{text}");
}

#[tokio::test]
async fn endpoint_pairs_list_srv_targets_in_the_order_tried() {
    let dns = DnsServer::start().await;
    dns.add_srv(
        "_sock-pairs._tcp.pairs.test",
        2,
        0,
        2002,
        "second.pairs.test.",
    );
    dns.add_srv(
        "_sock-pairs._tcp.pairs.test",
        1,
        0,
        1001,
        "first.pairs.test.",
    );
    dns.add_a("first.pairs.test", Ipv4Addr::new(127, 0, 0, 1));
    dns.add_a("second.pairs.test", Ipv4Addr::new(127, 0, 0, 2));
    let pairs = within(client(&dns).endpoint_pairs(&host("pairs.test"), "sock-pairs"))
        .await
        .unwrap();
    let listed: Vec<String> = pairs
        .iter()
        .map(|p| format!("{}:{}", p.remote_host, p.remote_service))
        .collect();
    assert_eq!(listed, ["127.0.0.1:1001", "127.0.0.2:2002"]);
}

/// dnsmasq on a loopback port, answering for `dnsmasq.test` only (NXDOMAIN
/// for the rest of it); killed when dropped.
struct Dnsmasq {
    child: tokio::process::Child,
    addr: SocketAddr,
}

impl Dnsmasq {
    async fn start(records: &[String]) -> Self {
        use tokio::io::{AsyncBufReadExt, BufReader};
        // A port free a moment ago; dnsmasq exits when another took it,
        // and the next try picks another.
        for _ in 0..5 {
            let port = std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut command = tokio::process::Command::new("dnsmasq");
            command
                .args([
                    "--no-daemon",
                    "--bind-interfaces",
                    "--listen-address=127.0.0.1",
                ])
                .args([
                    "--no-resolv",
                    "--no-hosts",
                    "--conf-file=/dev/null",
                    "--pid-file=",
                ])
                .args(["--local=/dnsmasq.test/", "--log-facility=-", "--user=root"])
                .arg(format!("--port={port}"))
                .args(records)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true);
            let mut child = command
                .spawn()
                .expect("dnsmasq runs (cargo xtask test installs dnsmasq-base)");
            let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
            // dnsmasq reports "started" once its sockets are bound.
            let started = within(async {
                while let Ok(Some(line)) = log.next_line().await {
                    if line.contains("started") {
                        return true;
                    }
                }
                false
            })
            .await;
            if started {
                tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
                let addr = (Ipv4Addr::LOCALHOST, port).into();
                return Self { child, addr };
            }
            let _ = child.wait().await;
        }
        panic!("dnsmasq did not start on any of five ports");
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test]
async fn dnsmasq_answers_srv_and_both_families_and_nxdomain() {
    let listener = listener().await;
    let good = listener.local_addr();
    let dnsmasq = Dnsmasq::start(&[
        // IPv6 ::1 has nothing on the port: refused, then IPv4 connects.
        "--host-record=web.dnsmasq.test,127.0.0.1,::1".to_owned(),
        format!(
            "--srv-host=_sock-echo._tcp.dnsmasq.test,web.dnsmasq.test,{},10,5",
            good.port()
        ),
    ])
    .await;
    let control =
        StreamSocket::builder().resolver(DnsResolver::with_name_servers(&[dnsmasq.addr]).unwrap());
    let (socket, accepted) = within(async {
        tokio::join!(
            control.connect(&host("dnsmasq.test"), "sock-echo"),
            listener.accept()
        )
    })
    .await;
    accepted.unwrap();
    assert_eq!(socket.unwrap().peer_addr(), good);

    let err = within(control.connect(&host("missing.dnsmasq.test"), 80))
        .await
        .unwrap_err();
    assert_eq!(err.status(), S::HostNotFound, "{err:?}");
}
