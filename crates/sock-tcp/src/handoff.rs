//! Handing TCP sockets to another process and adopting them back: UWP's
//! `TransferOwnership` and `SocketActivityInformation`, with sock-handoff.
//!
//! - [`StreamSocketListener::transfer_ownership`] /
//!   [`StreamSocket::transfer_ownership`] send the socket, with an id and an
//!   opaque context, over a [`HandoffChannel`] (a Unix socket, `SCM_RIGHTS`).
//!   A transferred listener keeps its accept queue: connections waiting to be
//!   accepted are accepted by the new owner.
//! - [`StreamSocketListener::from_socket_activity`] /
//!   [`StreamSocket::from_socket_activity`] adopt what arrives.
//! - [`StreamSocketListener::from_activation`] adopts a listener a service
//!   manager passed (`LISTEN_FDS`).
//!
//! Unix only (Linux passes sockets; other Unix systems return `Unsupported`).

#[cfg(unix)]
mod unix {
    use std::os::fd::AsFd;

    use sock_core::{Error, Result};
    use sock_handoff::{
        Activation, HandoffChannel, SocketActivityInformation, SocketActivityKind, TransferError,
    };
    use tokio::net::{TcpListener, TcpStream};

    use crate::io::Transport;
    use crate::{StreamSocket, StreamSocketListener};

    impl StreamSocketListener {
        /// Hands the listener, with its `id` and `context`, to the process at
        /// the other end of `to` (UWP's `TransferOwnership(id, context)`).
        ///
        /// The listener keeps listening throughout: connections that arrive
        /// while it travels wait in its accept queue and are accepted by the
        /// new owner (unlike a second listener on a shared port, which would
        /// drop its queue when closed). This process's copy is closed when
        /// this returns `Ok`.
        ///
        /// UWP's rule that pending I/O must be cancelled first is kept by
        /// the type system: the listener is taken by value, so nothing is
        /// waiting on it (stop `incoming`/`serve` first: `serve` owns it).
        ///
        /// # Errors
        ///
        /// A [`TransferError`] with the listener, still open and listening,
        /// when the hand-off fails: the id or context is too long
        /// (`max_id_len`, `max_context_len`) or the peer has gone.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: dropping the future closes this copy of the
        /// listener, and the peer may or may not have received it.
        pub async fn transfer_ownership(
            self,
            id: &str,
            context: &[u8],
            to: &mut HandoffChannel,
        ) -> std::result::Result<(), TransferError<Self>> {
            let sent = to
                .send(
                    SocketActivityKind::StreamSocketListener,
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

        /// Adopts a listener handed over by another process, non-blocking
        /// and close-on-exec; accepted sockets get the default options. Read
        /// `info.id` and `info.context` first if you need them.
        ///
        /// Must be called inside a tokio runtime.
        ///
        /// # Errors
        ///
        /// [`Error::Handoff`] at step `adopt` when `info` is not a
        /// [`SocketActivityKind::StreamSocketListener`] or its descriptor is
        /// not a listening TCP socket (the error names what it is).
        pub fn from_socket_activity(info: SocketActivityInformation) -> Result<Self> {
            let adopt = || -> Result<Self> {
                Self::from_tcp_listener(TcpListener::from_std(info.into_tcp_listener()?)?)
            };
            adopt().map_err(|e| Error::handoff("adopt", e))
        }

        /// Adopts the listener named `name` that a service manager passed
        /// (`LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`; without names, each
        /// is called `"unknown"`). The variables are left in the
        /// environment; use [`Activation::from_env`] with `unset_env` to
        /// remove them, and [`Self::from_tcp_listener`] on what
        /// [`Activation::take_tcp_listener`] gives.
        ///
        /// Must be called inside a tokio runtime.
        ///
        /// # Errors
        ///
        /// When the variables are absent or name another process, no
        /// descriptor has that name, it was adopted already, or it is not a
        /// listening TCP socket (a UDP socket, say: the error names the
        /// descriptor and what it is). `Unsupported` off Linux.
        pub fn from_activation(name: &str) -> Result<Self> {
            let listener = Activation::from_env(false)?.take_tcp_listener(name)?;
            Self::from_tcp_listener(TcpListener::from_std(listener)?)
        }
    }

    impl StreamSocket {
        /// Hands the connection, with its `id` and `context`, to the process
        /// at the other end of `to` (UWP's `TransferOwnership(id, context)`).
        /// The connection stays open: the peer sees nothing.
        ///
        /// UWP requires pending I/O to be cancelled first. Here the socket is
        /// taken by value, so no read or write can be pending (a split socket
        /// must be [reunited](crate::InputStream::reunite) first). What can
        /// remain is bytes the socket already read but did not hand out
        /// (given back by [`from_framed`](Self::from_framed)): they cannot
        /// travel, so the hand-off is refused, naming their count; read them
        /// first. Options set on the socket travel with it; the names it was
        /// connected with and its idle timeout do not.
        ///
        /// # Errors
        ///
        /// A [`TransferError`] with the socket, still connected, when bytes
        /// are buffered, the socket is a TLS one (the TLS session cannot
        /// travel: `Unsupported`), the id or context is too long, or the peer
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
            let buffered = self.read.prefix.len();
            if buffered > 0 {
                let error = Error::unsupported(
                    format!(
                        "transfer_ownership of a stream socket holding {buffered} buffered bytes"
                    ),
                    "read the bytes already buffered before handing the socket over",
                );
                return Err(TransferError::new(error, self));
            }
            #[allow(unreachable_patterns)]
            let stream = match &self.transport {
                Transport::Plain(stream) => stream.as_fd(),
                _ => {
                    let error = Error::unsupported(
                        "transfer_ownership of a tls stream socket",
                        "the tls session state cannot travel to another process",
                    );
                    return Err(TransferError::new(error, self));
                }
            };
            match to
                .send(SocketActivityKind::StreamSocket, id, context, stream)
                .await
            {
                Ok(()) => Ok(()),
                Err(error) => Err(TransferError::new(error, self)),
            }
        }

        /// Adopts a connection handed over by another process, non-blocking
        /// and close-on-exec, as [`from_tcp_stream`](Self::from_tcp_stream)
        /// does (no option is changed). Read `info.id` and `info.context`
        /// first if you need them.
        ///
        /// Must be called inside a tokio runtime.
        ///
        /// # Errors
        ///
        /// [`Error::Handoff`] at step `adopt` when `info` is not a
        /// [`SocketActivityKind::StreamSocket`] or its
        /// descriptor is not a connected TCP socket.
        pub fn from_socket_activity(info: SocketActivityInformation) -> Result<Self> {
            let adopt = || -> Result<Self> {
                Self::from_tcp_stream(TcpStream::from_std(info.into_tcp_stream()?)?)
            };
            adopt().map_err(|e| Error::handoff("adopt", e))
        }
    }
}
