//! Connection statistics read from the operating system:
//! `RoundTripTimeStatistics`.

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

impl RoundTripTimeStatistics {
    pub(crate) fn new(min: Option<Duration>, smoothed: Duration, variance: Duration) -> Self {
        Self {
            min,
            smoothed,
            variance,
        }
    }
}
