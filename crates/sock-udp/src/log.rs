//! What sock-udp tells `tracing` (feature `tracing`, on by default): ICMP
//! reports that an unconnected socket skips, at `debug`. Nothing is logged
//! per datagram.

#![cfg_attr(not(feature = "tracing"), allow(unused_variables))]

/// An ICMP report about an earlier send reached an unconnected socket's
/// receive, which skipped it (it belongs to no datagram).
pub(crate) fn icmp_report_skipped(error: &std::io::Error) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        status = ?sock_core::SocketErrorStatus::from(error),
        %error,
        "ICMP report about an earlier send skipped"
    );
}
