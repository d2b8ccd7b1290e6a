//! Connection statistics read from the operating system (Linux `TCP_INFO`):
//! UWP's `RoundTripTimeStatistics` and `BandwidthStatistics`, and traffic
//! counters. `sys` reads the raw numbers ([`TcpInfo`]); this file turns them
//! into the public values, so the arithmetic is tested without a socket.

use std::time::Duration;

/// Round-trip-time statistics of a TCP connection, as UWP's
/// `RoundTripTimeStatistics`, read from Linux's `TCP_INFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoundTripTimeStatistics {
    /// The smallest round-trip time seen (`tcpi_min_rtt`); `None` when the
    /// kernel does not report it (before Linux 4.10).
    pub min: Option<Duration>,
    /// The smoothed round-trip time (`tcpi_rtt`).
    pub smoothed: Duration,
    /// The round-trip time's mean deviation (`tcpi_rttvar`).
    pub variance: Duration,
}

/// How fast a connection moves data, as UWP's `BandwidthStatistics`, from
/// Linux's `TCP_INFO`. Rates are in bits per second.
///
/// Linux measures the sending side directly and the receiving side only by
/// estimate, so the inbound figures are rougher than the outbound ones:
///
/// | field | source |
/// |---|---|
/// | `outbound_bits_per_second` | `tcpi_delivery_rate` (bytes/s, Linux 4.9+) × 8 |
/// | `inbound_bits_per_second` | `tcpi_rcv_space` bytes per `tcpi_rcv_rtt` (the receive-side estimate of dynamic right-sizing) × 8 |
/// | `*_instability` | the rate × `tcpi_rttvar` / `tcpi_rtt`: how far the rate may swing with the path's delay |
/// | `outbound_bandwidth_peaked` | the last delivery-rate sample was not application-limited (`tcpi_delivery_rate_app_limited` clear): the sender filled what the path offered |
/// | `inbound_bandwidth_peaked` | always `false`: Linux does not tell |
///
/// All zero (and `false`) until the connection has moved data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BandwidthStatistics {
    /// The rate data is delivered to the peer.
    pub outbound_bits_per_second: u64,
    /// The estimated rate data arrives from the peer.
    pub inbound_bits_per_second: u64,
    /// How much the outbound rate may swing.
    pub outbound_bits_per_second_instability: u64,
    /// How much the inbound rate may swing.
    pub inbound_bits_per_second_instability: u64,
    /// Whether sending was limited by the path rather than by the program.
    pub outbound_bandwidth_peaked: bool,
    /// Whether receiving was limited by the path (not reported by Linux).
    pub inbound_bandwidth_peaked: bool,
}

/// The kernel's numbers for a connection, as `sys` reads them; fields the
/// kernel did not report are zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TcpInfo {
    pub(crate) rtt_us: u32,
    pub(crate) rttvar_us: u32,
    /// `None` when the kernel does not report it.
    pub(crate) min_rtt_us: Option<u32>,
    pub(crate) rcv_rtt_us: u32,
    pub(crate) rcv_space: u32,
    pub(crate) total_retrans: u32,
    pub(crate) bytes_acked: u64,
    pub(crate) bytes_received: u64,
    pub(crate) delivery_rate: u64,
    pub(crate) app_limited: bool,
}

impl TcpInfo {
    /// The round-trip-time statistics.
    pub(crate) fn round_trip_time(&self) -> RoundTripTimeStatistics {
        let micros = |us: u32| Duration::from_micros(u64::from(us));
        RoundTripTimeStatistics {
            min: self.min_rtt_us.map(micros),
            smoothed: micros(self.rtt_us),
            variance: micros(self.rttvar_us),
        }
    }

    /// The bandwidth statistics.
    pub(crate) fn bandwidth(&self) -> BandwidthStatistics {
        let outbound = self.delivery_rate.saturating_mul(8);
        let inbound = if self.rcv_rtt_us == 0 {
            0
        } else {
            u64::from(self.rcv_space) * 8 * 1_000_000 / u64::from(self.rcv_rtt_us)
        };
        let swing = |rate: u64| {
            if self.rtt_us == 0 {
                0
            } else {
                let scaled =
                    u128::from(rate) * u128::from(self.rttvar_us) / u128::from(self.rtt_us);
                u64::try_from(scaled).unwrap_or(u64::MAX)
            }
        };
        BandwidthStatistics {
            outbound_bits_per_second: outbound,
            inbound_bits_per_second: inbound,
            outbound_bits_per_second_instability: swing(outbound),
            inbound_bits_per_second_instability: swing(inbound),
            outbound_bandwidth_peaked: outbound > 0 && !self.app_limited,
            inbound_bandwidth_peaked: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_the_delivery_rate_and_the_receive_estimate() {
        let info = TcpInfo {
            rtt_us: 1_000,
            rttvar_us: 250,
            min_rtt_us: Some(800),
            rcv_rtt_us: 2_000,
            rcv_space: 65_536,
            delivery_rate: 125_000_000,
            app_limited: false,
            ..TcpInfo::default()
        };
        let bw = info.bandwidth();
        assert_eq!(bw.outbound_bits_per_second, 1_000_000_000);
        // 64 KiB per 2 ms.
        assert_eq!(bw.inbound_bits_per_second, 262_144_000);
        assert_eq!(bw.outbound_bits_per_second_instability, 250_000_000);
        assert!(bw.outbound_bandwidth_peaked);
        assert!(!bw.inbound_bandwidth_peaked);
        let rtt = info.round_trip_time();
        assert_eq!(rtt.min, Some(Duration::from_micros(800)));
        assert_eq!(rtt.smoothed, Duration::from_millis(1));
    }

    #[test]
    fn an_idle_or_app_limited_connection_has_not_peaked() {
        assert_eq!(
            TcpInfo::default().bandwidth(),
            BandwidthStatistics::default()
        );
        let limited = TcpInfo {
            delivery_rate: 1_000,
            app_limited: true,
            ..TcpInfo::default()
        };
        assert!(!limited.bandwidth().outbound_bandwidth_peaked);
    }
}
