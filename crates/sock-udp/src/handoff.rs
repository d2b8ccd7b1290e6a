//! Handing datagram sockets to another process and adopting them back: UWP's
//! `TransferOwnership` and `SocketActivityInformation`, with sock-handoff.
//!
//! Unix only (Linux passes sockets; other Unix systems return `Unsupported`).

#[cfg(unix)]
mod unix {
    use std::os::fd::AsFd;

    use sock_core::{Error, Result};
    use sock_handoff::{
        Activation, HandoffChannel, SocketActivityInformation, SocketActivityKind, SocketSettings,
        TransferError,
    };
    use socket2::{SockRef, Socket};

    use crate::resolve::{unmap, Family};
    use crate::sys;
    use crate::{DatagramSocket, DatagramSocketControl};

    impl DatagramSocket {
        /// Hands the socket, with its `id` and `context`, to the process at
        /// the other end of `to` (UWP's `TransferOwnership(id, context)`).
        ///
        /// Datagrams that arrive while it travels wait in the kernel's
        /// receive queue for the new owner. UWP's rule that pending I/O must
        /// be cancelled first is kept by taking the socket by value: nothing
        /// can be waiting on it. Datagrams this socket already took from the
        /// kernel in a batch but has not handed out yet (only after
        /// `recv`/`messages` read several at once) could not travel, so the
        /// hand-off is refused while there are any: receive them first.
        /// Options set on the socket (port sharing, buffer sizes, multicast
        /// memberships) travel with it. So does
        /// [`multicast_only`](DatagramSocketControl::multicast_only), which
        /// lives in this process rather than in the kernel: it is sent as a
        /// [`SocketSettings`] flag, and
        /// [`from_socket_activity`](Self::from_socket_activity) applies it, as
        /// UWP keeps a socket's control settings across `TransferOwnership`.
        /// Other control options that live in this process (offloads,
        /// `max_message_size`) do not travel: the adopting side starts from
        /// the default control.
        ///
        /// # Errors
        ///
        /// A [`TransferError`] with the socket, still usable, when it holds
        /// datagrams already received from the kernel, when the id or
        /// context is too long (`max_id_len`, `max_context_len`) or the peer
        /// has gone.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropping the future closes this copy of the
        /// socket, and the peer may or may not have received it.
        pub async fn transfer_ownership(
            self,
            id: &str,
            context: &[u8],
            to: &mut HandoffChannel,
        ) -> std::result::Result<(), TransferError<Self>> {
            let queued = self.queued_datagrams();
            if queued > 0 {
                let error = Error::unsupported(
                    format!("transfer_ownership of a datagram socket holding {queued} received datagrams"),
                    "receive the datagrams already taken from the kernel before handing the socket over",
                );
                return Err(TransferError::new(error, self));
            }
            let settings = SocketSettings::new().multicast_only(self.control().is_multicast_only());
            let sent = to
                .send_with(
                    SocketActivityKind::DatagramSocket,
                    settings,
                    id,
                    context,
                    self.get_ref().as_fd(),
                )
                .await;
            match sent {
                Ok(()) => Ok(()),
                Err(error) => Err(TransferError::new(error, self)),
            }
        }

        /// Adopts a datagram socket handed over by another process,
        /// non-blocking and close-on-exec, with the default control but for
        /// the settings that came with it (`info.settings`): a socket handed
        /// over `multicast_only` stays
        /// [`multicast_only`](DatagramSocketControl::multicast_only), refusing
        /// unicast sends and dropping (and counting) unicast datagrams. A
        /// connected socket stays connected to its peer. Read `info.id` and
        /// `info.context` first if you need them.
        ///
        /// Must be called inside a tokio runtime.
        ///
        /// # Errors
        ///
        /// [`Error::Handoff`] at step `adopt` when `info` is not a
        /// [`SocketActivityKind::DatagramSocket`] or its descriptor is not a
        /// UDP socket (the error names what it is).
        pub fn from_socket_activity(info: SocketActivityInformation) -> Result<Self> {
            let settings = info.settings;
            let adopt = || -> Result<Self> { Self::adopt(info.into_udp_socket()?, settings) };
            adopt().map_err(|e| Error::handoff("adopt", e))
        }

        /// Adopts the UDP socket named `name` that a service manager passed
        /// (`LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`; without names, each
        /// is called `"unknown"`). The variables are left in the
        /// environment; use [`Activation::from_env`] with `unset_env` to
        /// remove them.
        ///
        /// A service manager passes only the descriptor, so settings that
        /// live in the process rather than the kernel (`multicast_only`)
        /// cannot come with it: the socket gets the default control. Use
        /// [`from_activation_with`](Self::from_activation_with) to make it
        /// `multicast_only`.
        ///
        /// Must be called inside a tokio runtime.
        ///
        /// # Errors
        ///
        /// When the variables are absent or name another process, no
        /// descriptor has that name, it was adopted already, or it is not a
        /// UDP socket (a TCP listener, say: the error names the descriptor and
        /// what it is). `Unsupported` off Linux.
        pub fn from_activation(name: &str) -> Result<Self> {
            Self::from_activation_with(name, SocketSettings::new())
        }

        /// Adopts the UDP socket named `name` that a service manager passed,
        /// as [`from_activation`](Self::from_activation) does, with
        /// `settings` applied: with
        /// [`SocketSettings::multicast_only`] the socket is
        /// [`multicast_only`](DatagramSocketControl::multicast_only) (port
        /// sharing is whatever the service manager set on it; only the
        /// unicast checks are this side's).
        ///
        /// Must be called inside a tokio runtime.
        ///
        /// # Errors
        ///
        /// As [`from_activation`](Self::from_activation).
        pub fn from_activation_with(name: &str, settings: SocketSettings) -> Result<Self> {
            Self::adopt(
                Activation::from_env(false)?.take_udp_socket(name)?,
                settings,
            )
        }

        /// Wraps a non-blocking std socket, finding its family and peer, with
        /// the default control and `settings` applied.
        fn adopt(socket: std::net::UdpSocket, settings: SocketSettings) -> Result<Self> {
            let local = socket.local_addr()?;
            let family = if local.is_ipv4() {
                Family::V4
            } else if SockRef::from(&socket).only_v6()? {
                Family::V6
            } else {
                Family::Dual
            };
            let peer = socket.peer_addr().ok().map(unmap);
            let socket = Socket::from(socket);
            let multicast_only = settings.is_multicast_only();
            if multicast_only {
                // Unicast datagrams are told apart by their destination
                // address: make sure the kernel reports it, whoever made the
                // socket.
                sys::enable_packet_info(&socket, family != Family::V4)?;
            }
            let control = DatagramSocketControl::new().multicast_only(multicast_only);
            Self::from_parts(socket, family, control, peer)
        }
    }
}
