//! Receive state of a `DatagramSocket`: where datagrams land, the arena
//! longer ones are copied to, datagrams received but not yet handed out, and
//! the host names of recent senders (made once per run from one sender).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use bytes::{Bytes, BytesMut};
use sock_core::HostName;

use crate::DatagramMessage;

/// Receive state: the landing zone the kernel writes datagrams of up to
/// `head` bytes straight into, the buffer it writes the rest of longer ones
/// (or receive-offload batches) into, the arena those are copied to (each of
/// landing and arena is one allocation shared by many datagrams, reclaimed
/// once they are all dropped), datagrams received but not yet handed out, and
/// the last host names made, so a burst from one sender does not format its
/// address for every datagram.
#[derive(Default)]
pub(crate) struct Rx {
    // Where datagrams land; empty between receives (all handed out).
    pub(crate) landing: BytesMut,
    // Room per datagram in the landing zone (0: not learned yet).
    pub(crate) head: usize,
    pub(crate) scratch: Vec<u8>,
    pub(crate) arena: BytesMut,
    pub(crate) pending: VecDeque<Pending>,
    remote: Option<(Source, HostName)>,
    local: Option<(IpAddr, HostName)>,
}

/// Bytes between receive slots in the scratch buffer (17 cache lines).
pub(crate) const SLOT_STAGGER: usize = 17 * 64;

/// The arena's allocation size: many datagrams per allocation.
pub(crate) const ARENA_SIZE: usize = 256 * 1024;

/// The most of one datagram received straight into the landing zone; the
/// room per datagram follows the largest of the previous batch, so longer
/// ones are rare (and then copied, as with receive offload).
pub(crate) const MAX_HEAD: usize = 2048;

/// A sender's address without its port: the IP and, for IPv6, the scope.
type Source = (IpAddr, u32);

/// A received datagram before it becomes a [`DatagramMessage`].
pub(crate) struct Pending {
    pub(crate) data: Bytes,
    pub(crate) source: SocketAddr,
    pub(crate) local: IpAddr,
    pub(crate) truncated: bool,
}

fn source_of(addr: &SocketAddr) -> Source {
    match addr {
        SocketAddr::V4(a) => (IpAddr::V4(*a.ip()), 0),
        SocketAddr::V6(a) => (IpAddr::V6(*a.ip()), a.scope_id()),
    }
}

fn host_source(host: &HostName) -> Option<Source> {
    let ip = host.ip_addr()?;
    let scope = match host.zone() {
        None => 0,
        Some(zone) => zone.parse().ok()?,
    };
    Some((ip, scope))
}

impl Rx {
    /// The host name of a sender (a link-local IPv6 sender keeps its scope
    /// as a numeric zone, so a reply finds the way back), made once per run
    /// of datagrams from one sender.
    fn remote_name(&mut self, addr: &SocketAddr) -> HostName {
        let source = source_of(addr);
        match &self.remote {
            Some((cached, name)) if *cached == source => name.clone(),
            _ => {
                let name = HostName::from(*addr);
                self.remote = Some((source, name.clone()));
                name
            }
        }
    }

    fn local_name(&mut self, ip: IpAddr) -> HostName {
        match &self.local {
            Some((cached, name)) if *cached == ip => name.clone(),
            _ => {
                let name = HostName::from(ip);
                self.local = Some((ip, name.clone()));
                name
            }
        }
    }

    pub(crate) fn message(&mut self, p: Pending) -> DatagramMessage {
        DatagramMessage {
            remote_address: self.remote_name(&p.source),
            remote_port: p.source.port(),
            local_address: self.local_name(p.local),
            data: p.data,
            truncated: p.truncated,
        }
    }

    /// Fills a reused slot, keeping its host names when they are already
    /// right (the common case of a batch from one sender): no allocation.
    pub(crate) fn fill_slot(&mut self, slot: &mut DatagramMessage, p: Pending) {
        let source = source_of(&p.source);
        if host_source(&slot.remote_address) != Some(source) {
            slot.remote_address = self.remote_name(&p.source);
        }
        if slot.local_address.ip_addr() != Some(p.local) || slot.local_address.zone().is_some() {
            slot.local_address = self.local_name(p.local);
        }
        slot.remote_port = p.source.port();
        slot.data = p.data;
        slot.truncated = p.truncated;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_keep_their_ipv6_scope_and_slots_are_reused_when_unchanged() {
        let link_local: SocketAddr = "[fe80::1%3]:5353".parse().unwrap();
        let name = Rx::default().remote_name(&link_local);
        assert_eq!(name.canonical_name(), "fe80::1%3");
        assert_eq!(host_source(&name), Some(source_of(&link_local)));

        let mut rx = Rx::default();
        let mut slot = DatagramMessage::default();
        let pending = |port| Pending {
            data: Bytes::from_static(b"x"),
            source: link_local
                .to_string()
                .replace("5353", port)
                .parse()
                .unwrap(),
            local: "fe80::2".parse().unwrap(),
            truncated: false,
        };
        rx.fill_slot(&mut slot, pending("5353"));
        assert_eq!(slot.remote_addr(), link_local);
        assert_eq!(slot.local_address.canonical_name(), "fe80::2");
        let before = slot.remote_address.raw_name().as_ptr();
        rx.fill_slot(&mut slot, pending("5354"));
        assert_eq!(slot.remote_port, 5354);
        // Same sender: the host name was kept, not made again.
        assert_eq!(slot.remote_address.raw_name().as_ptr(), before);

        let v4: SocketAddr = "198.51.100.3:9".parse().unwrap();
        assert_eq!(
            Rx::default().remote_name(&v4).canonical_name(),
            "198.51.100.3"
        );
    }
}
