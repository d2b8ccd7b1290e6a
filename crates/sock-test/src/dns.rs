//! A small authoritative DNS server on loopback UDP, for resolver tests: A,
//! AAAA and SRV records, NXDOMAIN for names it does not know, and the faults
//! a resolver must survive (a slow answer, no answer, a malformed answer).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

/// The record types the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Service locations.
    Srv,
}

impl Kind {
    fn of(record_type: RecordType) -> Option<Self> {
        match record_type {
            RecordType::A => Some(Self::A),
            RecordType::AAAA => Some(Self::Aaaa),
            RecordType::SRV => Some(Self::Srv),
            _ => None,
        }
    }
}

/// How the server treats one (name, kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answers after this long.
    Delay(Duration),
    /// Never answers.
    Silent,
    /// Answers with a message whose last record is cut short.
    Malformed,
    /// Answers SERVFAIL.
    ServFail,
}

#[derive(Default)]
struct Zone {
    records: HashMap<String, Vec<RData>>,
    faults: HashMap<(String, Kind), Fault>,
    queries: Vec<(String, Kind)>,
}

/// The server; it stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    task: tokio::task::JoinHandle<()>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsServer {
    /// Starts a server on `127.0.0.1`, port chosen by the system.
    ///
    /// # Panics
    ///
    /// When the socket cannot be bound.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropped before it returns, nothing is left running.
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind test DNS server");
        let addr = socket.local_addr().expect("local address");
        let zone = Arc::new(Mutex::new(Zone::default()));
        let task = tokio::spawn(serve(Arc::new(socket), Arc::clone(&zone)));
        Self { addr, zone, task }
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn add(&self, name: &str, data: RData) {
        let mut zone = self.zone.lock().expect("zone");
        zone.records.entry(key(name)).or_default().push(data);
    }

    /// Adds an A record.
    pub fn add_a(&self, name: &str, ip: Ipv4Addr) {
        self.add(name, RData::A(A(ip)));
    }

    /// Adds an AAAA record.
    pub fn add_aaaa(&self, name: &str, ip: Ipv6Addr) {
        self.add(name, RData::AAAA(AAAA(ip)));
    }

    /// Adds an SRV record (`name` as `_service._tcp.domain`; `target` `.` for
    /// "not available").
    ///
    /// # Panics
    ///
    /// When `target` is not a DNS name.
    pub fn add_srv(&self, name: &str, priority: u16, weight: u16, port: u16, target: &str) {
        let target = Name::from_ascii(target).expect("SRV target");
        self.add(name, RData::SRV(SRV::new(priority, weight, port, target)));
    }

    /// Makes the answers for (`name`, `kind`) misbehave.
    pub fn fault(&self, name: &str, kind: Kind, fault: Fault) {
        let mut zone = self.zone.lock().expect("zone");
        zone.faults.insert((key(name), kind), fault);
    }

    /// The queries received so far, in order.
    pub fn queries(&self) -> Vec<(String, Kind)> {
        self.zone.lock().expect("zone").queries.clone()
    }
}

impl std::fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(socket: Arc<UdpSocket>, zone: Arc<Mutex<Zone>>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let Ok(query) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        let Some(question) = query.queries.first().cloned() else {
            continue;
        };
        let name = key(&question.name().to_ascii());
        let kind = Kind::of(question.query_type());
        let mut response = Message::response(query.metadata.id, query.metadata.op_code);
        response.metadata.authoritative = true;
        response.metadata.recursion_desired = query.metadata.recursion_desired;
        response.add_query(question.clone());
        let fault = {
            let mut zone = zone.lock().expect("zone");
            if let Some(kind) = kind {
                zone.queries.push((name.clone(), kind));
            }
            match zone.records.get(&name) {
                None => response.metadata.response_code = ResponseCode::NXDomain,
                Some(records) => {
                    for data in records {
                        if data.record_type() == question.query_type() {
                            response.add_answer(Record::from_rdata(
                                question.name().clone(),
                                60,
                                data.clone(),
                            ));
                        }
                    }
                }
            }
            kind.and_then(|kind| zone.faults.get(&(name, kind)).copied())
        };
        let mut delay = Duration::ZERO;
        match fault {
            Some(Fault::Silent) => continue,
            Some(Fault::Delay(d)) => delay = d,
            Some(Fault::ServFail) => {
                response.answers.clear();
                response.metadata.response_code = ResponseCode::ServFail;
            }
            Some(Fault::Malformed) | None => {}
        }
        let Ok(mut bytes) = response.to_vec() else {
            continue;
        };
        if fault == Some(Fault::Malformed) {
            // The header still counts every record; the last one loses its
            // final bytes (an SRV record's target name, an address's octets).
            bytes.truncate(bytes.len().saturating_sub(3));
        }
        let socket = Arc::clone(&socket);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = socket.send_to(&bytes, from).await;
        });
    }
}
