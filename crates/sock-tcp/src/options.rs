//! Socket options every connected socket gets (`SocketOptions`, `KeepAlive`,
//! how `close` drains), how they are applied to the operating system's
//! socket, and the setters both control types share.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use sock_core::{Error, QualityOfService, Result};
use socket2::{SockRef, TcpKeepalive};

use crate::idle::{IdleKind, IdleTimeouts};
#[cfg(feature = "tls")]
use crate::tls::ClientTls;

/// The IP TOS byte (IPv4) or traffic class (IPv6) for
/// [`QualityOfService::LowLatency`]: DSCP EF ("expedited forwarding", 46),
/// the mark voice and other latency-sensitive traffic uses.
pub const LOW_LATENCY_TRAFFIC_CLASS: u32 = 46 << 2;

/// How long [`close`](crate::StreamSocket::close) waits for the peer to finish
/// (10 s) before resetting the connection.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many bytes [`close`](crate::StreamSocket::close) reads and discards
/// while waiting for the peer to finish (256 KiB) before resetting.
pub const DEFAULT_CLOSE_DRAIN_LIMIT: usize = 256 * 1024;

/// TCP keep-alive probing: after `idle` without traffic, send a probe every
/// `interval`, and give up after `count` unanswered probes.
///
/// Every unset value keeps the operating system's default (on Linux: 2 hours,
/// 75 s, 9 probes). UWP's `KeepAlive` is this with every value unset.
///
/// ```
/// use std::time::Duration;
/// use sock_tcp::KeepAlive;
///
/// let probe = KeepAlive::new()
///     .idle(Duration::from_secs(30))
///     .interval(Duration::from_secs(5))
///     .count(4);
/// assert_eq!(probe.idle_time(), Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepAlive {
    idle: Option<Duration>,
    interval: Option<Duration>,
    count: Option<u32>,
}

impl KeepAlive {
    /// Keep-alive with the operating system's timings.
    pub const fn new() -> Self {
        Self {
            idle: None,
            interval: None,
            count: None,
        }
    }

    /// How long the connection stays idle before the first probe (`TCP_KEEPIDLE`).
    pub const fn idle(mut self, idle: Duration) -> Self {
        self.idle = Some(idle);
        self
    }

    /// The time between probes (`TCP_KEEPINTVL`).
    pub const fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// How many unanswered probes end the connection (`TCP_KEEPCNT`).
    pub const fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// The idle time set, if any.
    pub const fn idle_time(&self) -> Option<Duration> {
        self.idle
    }

    /// The probe interval set, if any.
    pub const fn interval_time(&self) -> Option<Duration> {
        self.interval
    }

    /// The probe count set, if any.
    pub const fn probe_count(&self) -> Option<u32> {
        self.count
    }

    fn to_socket2(self) -> Option<TcpKeepalive> {
        if self == Self::new() {
            return None;
        }
        let mut ka = TcpKeepalive::new();
        if let Some(idle) = self.idle {
            ka = ka.with_time(idle);
        }
        if let Some(interval) = self.interval {
            ka = ka.with_interval(interval);
        }
        if let Some(count) = self.count {
            ka = ka.with_retries(count);
        }
        Some(ka)
    }
}

/// The options every connected socket gets, whether it connected or was accepted.
#[derive(Debug, Clone)]
pub(crate) struct SocketOptions {
    pub(crate) no_delay: bool,
    pub(crate) keep_alive: Option<KeepAlive>,
    pub(crate) outbound_buffer_size: Option<usize>,
    pub(crate) hop_limit: Option<u8>,
    pub(crate) quality_of_service: QualityOfService,
    pub(crate) idle: IdleTimeouts,
    pub(crate) close: CloseSettings,
    /// The client TLS settings (only a `StreamSocketControl` sets them).
    #[cfg(feature = "tls")]
    pub(crate) client_tls: std::sync::Arc<ClientTls>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            no_delay: true,
            keep_alive: None,
            outbound_buffer_size: None,
            hop_limit: None,
            quality_of_service: QualityOfService::Normal,
            idle: IdleTimeouts::default(),
            close: CloseSettings {
                timeout: DEFAULT_CLOSE_TIMEOUT,
                drain_limit: DEFAULT_CLOSE_DRAIN_LIMIT,
            },
            #[cfg(feature = "tls")]
            client_tls: std::sync::Arc::default(),
        }
    }
}

impl SocketOptions {
    /// Refuses values no socket could take, naming the setting.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.hop_limit == Some(0) {
            return Err(Error::invalid_argument(
                "outbound_unicast_hop_limit",
                "0 is out of range: hop limits go from 1 to 255",
            ));
        }
        if self.outbound_buffer_size == Some(0) {
            return Err(Error::invalid_argument(
                "outbound_buffer_size",
                "0 is out of range: give at least 1 byte",
            ));
        }
        for kind in IdleKind::ALL {
            if self.idle.get(kind) == Some(Duration::ZERO) {
                return Err(Error::invalid_argument(
                    IdleTimeouts::name(kind),
                    "zero would fail every read and write: use None to turn it off",
                ));
            }
        }
        Ok(())
    }

    /// Applies the options to a TCP socket whose peer is (or will be) `peer`.
    ///
    /// On an IPv6 socket talking to an IPv4-mapped peer (an accepted dual-stack
    /// connection) both the IPv6 and the IPv4 option are set.
    pub(crate) fn apply(&self, socket: SockRef<'_>, peer: SocketAddr) -> io::Result<()> {
        let v4_traffic = match peer {
            SocketAddr::V4(_) => true,
            SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
        };
        self.apply_for(socket, peer.is_ipv6(), v4_traffic)
    }

    /// Applies the options to a listening socket bound to `local`, for the
    /// platforms where accepted sockets inherit them: a dual-stack socket gets
    /// both the IPv6 and the IPv4 options.
    pub(crate) fn apply_to_listener(
        &self,
        socket: SockRef<'_>,
        local: SocketAddr,
    ) -> io::Result<()> {
        let v4_traffic = local.is_ipv4() || !socket.only_v6()?;
        self.apply_for(socket, local.is_ipv6(), v4_traffic)
    }

    fn apply_for(&self, socket: SockRef<'_>, v6: bool, v4_traffic: bool) -> io::Result<()> {
        if self.no_delay {
            socket.set_tcp_nodelay(true)?;
        }
        if let Some(ka) = self.keep_alive {
            socket.set_keepalive(true)?;
            if let Some(params) = ka.to_socket2() {
                socket.set_tcp_keepalive(&params)?;
            }
        }
        if let Some(size) = self.outbound_buffer_size {
            socket.set_send_buffer_size(size)?;
        }
        if let Some(hops) = self.hop_limit {
            let hops = u32::from(hops);
            if v6 {
                socket.set_unicast_hops_v6(hops)?;
            }
            if v4_traffic {
                socket.set_ttl_v4(hops)?;
            }
        }
        if self.quality_of_service == QualityOfService::LowLatency {
            if v6 {
                crate::sys::set_traffic_class_v6(&socket, LOW_LATENCY_TRAFFIC_CLASS)?;
            }
            if v4_traffic {
                socket.set_tos_v4(LOW_LATENCY_TRAFFIC_CLASS)?;
            }
        }
        Ok(())
    }
}

/// The setters of [`SocketOptions`], shared by both control types.
macro_rules! socket_option_setters {
    () => {
        /// Turns Nagle's algorithm off (`true`, the default, as UWP's `NoDelay`) or on.
        pub fn no_delay(mut self, no_delay: bool) -> Self {
            self.options.no_delay = no_delay;
            self
        }

        /// Turns TCP keep-alive on with the given timings (off by default).
        /// `KeepAlive::new()` keeps the operating system's timings, as UWP's
        /// `KeepAlive = true` does.
        pub fn keep_alive(mut self, keep_alive: $crate::KeepAlive) -> Self {
            self.options.keep_alive = Some(keep_alive);
            self
        }

        /// Sets the send buffer size (`SO_SNDBUF`, UWP's
        /// `OutboundBufferSizeInBytes`). By default the operating system sizes
        /// it and tunes it as the connection goes; setting it turns that off.
        pub fn outbound_buffer_size(mut self, bytes: usize) -> Self {
            self.options.outbound_buffer_size = Some(bytes);
            self
        }

        /// Sets the IPv4 TTL or IPv6 hop limit of outgoing packets, 1-255 (UWP's
        /// `OutboundUnicastHopLimit`). By default the operating system's
        /// (64 on Linux; UWP used 128).
        pub fn outbound_unicast_hop_limit(mut self, hops: u8) -> Self {
            self.options.hop_limit = Some(hops);
            self
        }

        /// Sets the traffic class. `LowLatency` marks packets with DSCP EF
        /// ([`LOW_LATENCY_TRAFFIC_CLASS`](crate::LOW_LATENCY_TRAFFIC_CLASS)).
        pub fn quality_of_service(mut self, qos: sock_core::QualityOfService) -> Self {
            self.options.quality_of_service = qos;
            self
        }

        /// Ends a waiting read or write with a `ConnectionTimedOut` error once
        /// no bytes moved in either direction for `timeout` (`None`, the
        /// default, waits forever); see
        /// [`StreamSocket::set_idle_timeout`](crate::StreamSocket::set_idle_timeout).
        pub fn idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.options.idle.all = timeout;
            self
        }

        /// Ends a waiting read or write with a `ConnectionTimedOut` error once
        /// no bytes were read for `timeout` (off by default); see
        /// [`StreamSocket::set_read_idle_timeout`](crate::StreamSocket::set_read_idle_timeout).
        pub fn read_idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.options.idle.read = timeout;
            self
        }

        /// Ends a waiting read or write with a `ConnectionTimedOut` error once
        /// no bytes were written for `timeout` (off by default); see
        /// [`StreamSocket::set_write_idle_timeout`](crate::StreamSocket::set_write_idle_timeout).
        pub fn write_idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.options.idle.write = timeout;
            self
        }

        /// How long a graceful [`close`](crate::StreamSocket::close) waits for
        /// the peer to finish before resetting the connection
        /// ([`DEFAULT_CLOSE_TIMEOUT`](crate::DEFAULT_CLOSE_TIMEOUT)).
        pub fn close_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.close.timeout = timeout;
            self
        }

        /// How many bytes a graceful [`close`](crate::StreamSocket::close) reads
        /// and discards while the peer finishes, before resetting the connection
        /// ([`DEFAULT_CLOSE_DRAIN_LIMIT`](crate::DEFAULT_CLOSE_DRAIN_LIMIT)).
        pub fn close_drain_limit(mut self, bytes: usize) -> Self {
            self.options.close.drain_limit = bytes;
            self
        }
    };
}

pub(crate) use socket_option_setters;

/// How `close` drains the peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CloseSettings {
    pub(crate) timeout: Duration,
    pub(crate) drain_limit: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_uwp_defaults() {
        let o = SocketOptions::default();
        assert!(o.no_delay);
        assert!(o.keep_alive.is_none());
        assert_eq!(o.quality_of_service, QualityOfService::Normal);
        assert!(o.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_are_refused_by_name() {
        for (opts, name) in [
            (
                SocketOptions {
                    hop_limit: Some(0),
                    ..SocketOptions::default()
                },
                "outbound_unicast_hop_limit",
            ),
            (
                SocketOptions {
                    outbound_buffer_size: Some(0),
                    ..SocketOptions::default()
                },
                "outbound_buffer_size",
            ),
            (
                SocketOptions {
                    idle: IdleTimeouts {
                        all: Some(Duration::ZERO),
                        ..Default::default()
                    },
                    ..SocketOptions::default()
                },
                "idle_timeout",
            ),
            (
                SocketOptions {
                    idle: IdleTimeouts {
                        read: Some(Duration::ZERO),
                        ..Default::default()
                    },
                    ..SocketOptions::default()
                },
                "read_idle_timeout",
            ),
        ] {
            let err = opts.validate().unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
            assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn keep_alive_without_timings_leaves_them_to_the_os() {
        assert!(KeepAlive::new().to_socket2().is_none());
        assert!(KeepAlive::new().count(3).to_socket2().is_some());
    }

    #[test]
    fn low_latency_is_dscp_ef() {
        assert_eq!(LOW_LATENCY_TRAFFIC_CLASS, 0xB8);
    }
}
