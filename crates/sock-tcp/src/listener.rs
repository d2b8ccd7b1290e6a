//! `StreamSocketListener`: a TCP listener whose accepted sockets get the
//! listener's options, with an accept loop that never dies.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use sock_core::{io_context, Error, HostName, IoContext, Result, ServiceName, TransportProtocol};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::TcpListener;
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;

use crate::cancel::AcceptCancel;
use crate::options::{socket_option_setters, SocketOptions};
use crate::resolve::{literal, SystemResolver};
use crate::sys::{self, AcceptError};
use crate::{CancelIoHandle, StreamSocket, StreamSocketListenerInformation};

/// The length of the queue of connections waiting to be accepted (1024).
pub const DEFAULT_BACKLOG: u32 = 1024;

/// The first pause of the accept loop after the process or system ran out of
/// something (file descriptors, memory); it doubles on each failure in a row
/// up to [`MAX_ACCEPT_BACKOFF`].
pub const MIN_ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The longest pause of the accept loop after repeated failures.
pub const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The options of a [`StreamSocketListener`] and of every socket it accepts,
/// as UWP's `StreamSocketListenerControl`; made by [`StreamSocketListener::builder`].
///
/// The socket options (`no_delay` on by default, keep-alive, buffer size, hop
/// limit, quality of service, idle and close timeouts) are applied to each
/// accepted socket.
///
/// ```no_run
/// use std::time::Duration;
/// use sock_tcp::{KeepAlive, StreamSocketListener};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// let listener = StreamSocketListener::builder()
///     .keep_alive(KeepAlive::new().idle(Duration::from_secs(60)))
///     .bind_service_name("1337")
///     .await?;
/// println!("listening on port {}", listener.information().local_port);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StreamSocketListenerControl {
    options: SocketOptions,
    backlog: u32,
    reuse_port: bool,
    #[cfg(feature = "tls")]
    tls: Option<sock_tls::TlsServerConfig>,
    #[cfg(feature = "tls")]
    max_pending_handshakes: usize,
    #[cfg(feature = "tls")]
    first_byte_timeout: Duration,
}

impl Default for StreamSocketListenerControl {
    fn default() -> Self {
        Self {
            options: SocketOptions::default(),
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            max_pending_handshakes: crate::tls::DEFAULT_MAX_PENDING_TLS_HANDSHAKES,
            #[cfg(feature = "tls")]
            first_byte_timeout: crate::tls::DEFAULT_TLS_FIRST_BYTE_TIMEOUT,
        }
    }
}

impl StreamSocketListenerControl {
    /// The default control (the same as [`StreamSocketListener::builder`]).
    pub fn new() -> Self {
        Self::default()
    }

    socket_option_setters!();

    /// The length of the queue of connections waiting to be accepted
    /// ([`DEFAULT_BACKLOG`]; the kernel may cap it).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Lets several listeners bind the same address and port
    /// (`SO_REUSEPORT`; off by default); the kernel spreads new connections
    /// among them. Every listener of the port must set it.
    ///
    /// This is how [`serve_sharded`](Self::serve_sharded) runs one listener
    /// per core. Closing one of several such listeners drops the connections
    /// still waiting in its accept queue (each listener has its own queue):
    /// [`ShardedServer::drain_shard`](crate::ShardedServer::drain_shard)
    /// steers new connections away and empties the queue first. A listener
    /// handed to another process ([`transfer_ownership`]) keeps its queue
    /// instead.
    ///
    /// [`transfer_ownership`]: StreamSocketListener
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// Makes every accepted connection TLS with this server configuration
    /// (certificate, client authentication, versions, handshake timeout).
    ///
    /// Each server handshake runs on its own task, never inside `accept`:
    /// [`accept`](StreamSocketListener::accept),
    /// [`incoming`](StreamSocketListener::incoming) and
    /// [`serve`](StreamSocketListener::serve) hand out only sockets whose
    /// handshake has completed, while up to
    /// [`max_pending_tls_handshakes`](Self::max_pending_tls_handshakes) run at
    /// once, so a client that stalls (until the configuration's handshake
    /// timeout) or sends garbage costs only its own connection. Failed
    /// handshakes are counted
    /// ([`failed_tls_handshakes`](StreamSocketListener::failed_tls_handshakes)).
    #[cfg(feature = "tls")]
    pub fn tls_server_config(mut self, config: sock_tls::TlsServerConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// How many server handshakes may run at once
    /// ([`DEFAULT_MAX_PENDING_TLS_HANDSHAKES`](crate::DEFAULT_MAX_PENDING_TLS_HANDSHAKES);
    /// at least 1). When that many run and another connection waits, the
    /// oldest handshake whose client has sent nothing yet is dropped to make
    /// room; when every one has heard from its client, further connections
    /// wait in the backlog.
    #[cfg(feature = "tls")]
    pub fn max_pending_tls_handshakes(mut self, max: usize) -> Self {
        self.max_pending_handshakes = max;
        self
    }

    /// How long a new connection may take to send its first byte (the
    /// ClientHello) before it is closed
    /// ([`DEFAULT_TLS_FIRST_BYTE_TIMEOUT`](crate::DEFAULT_TLS_FIRST_BYTE_TIMEOUT)).
    /// The configuration's handshake timeout still bounds the whole
    /// handshake.
    #[cfg(feature = "tls")]
    pub fn tls_first_byte_timeout(mut self, timeout: Duration) -> Self {
        self.first_byte_timeout = timeout;
        self
    }

    /// Listens on every interface (UWP's `BindServiceNameAsync`): IPv6 and
    /// IPv4 on one dual-stack socket where the system allows, IPv4 alone
    /// where it has no IPv6. `""` or `0` lets the system choose the port
    /// (read it from [`information`](StreamSocketListener::information)).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidServiceName`] / [`Error::UnknownService`] for the
    /// service; an I/O error naming the address when binding fails (status
    /// `AddressAlreadyInUse` when the port is taken); an `InvalidInput` I/O
    /// error for an out-of-range option.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_service_name<S>(&self, service: S) -> Result<StreamSocketListener>
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        self.bind_endpoint(None, service).await
    }

    /// Listens on one local address (UWP's `BindEndpointAsync`); `None`
    /// means every interface, as [`bind_service_name`](Self::bind_service_name).
    ///
    /// A name (`localhost`) is resolved, and the first address that binds is used.
    ///
    /// # Errors
    ///
    /// As [`bind_service_name`](Self::bind_service_name), plus resolution
    /// errors ([`Error::Resolve`], [`Error::NoAddresses`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_endpoint<S>(
        &self,
        host: Option<&HostName>,
        service: S,
    ) -> Result<StreamSocketListener>
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        let service: ServiceName = service.try_into().map_err(Into::into)?;
        self.options.validate()?;
        let port = match service.as_port() {
            Some(port) => port,
            None => {
                let service = service.clone();
                tokio::task::spawn_blocking(move || service.port(TransportProtocol::Tcp))
                    .await
                    .map_err(|e| Error::Io(io::Error::other(e)))??
            }
        };
        let listener = match host {
            None => self.bind_any(port)?,
            Some(host) => {
                let addrs = match literal(host, port)? {
                    Some(addr) => vec![addr],
                    None => crate::resolve::resolve(&SystemResolver, host, port).await?,
                };
                let mut last = None;
                let mut bound = None;
                for addr in addrs {
                    match self.bind_addr(addr, false) {
                        Ok(l) => {
                            bound = Some(l);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                match (bound, last) {
                    (Some(l), _) => l,
                    (None, Some(e)) => return Err(Error::Io(e)),
                    (None, None) => unreachable!("resolve returns at least one address"),
                }
            }
        };
        let listener = StreamSocketListener::new(listener, self.options.clone())?;
        #[cfg(feature = "tls")]
        let listener = StreamSocketListener {
            tls: self.tls.clone().map(|config| {
                crate::tls::ServerTls::new(
                    config,
                    self.max_pending_handshakes,
                    self.first_byte_timeout,
                )
            }),
            ..listener
        };
        Ok(listener)
    }

    fn bind_any(&self, port: u16) -> Result<TcpListener> {
        let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
        match self.bind_addr(v6, true) {
            Ok(l) => Ok(l),
            Err(e) if is_ipv6_missing(&e) => {
                Ok(self.bind_addr(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), false)?)
            }
            Err(e) => Err(Error::Io(e)),
        }
    }

    fn bind_addr(&self, addr: SocketAddr, dual_stack: bool) -> io::Result<TcpListener> {
        let bind = || -> io::Result<TcpListener> {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
            if addr.is_ipv6() {
                socket.set_only_v6(!dual_stack)?;
            }
            sys::before_listener_bind(&socket)?;
            if self.reuse_port {
                sys::set_reuse_port(&socket)?;
            }
            socket.set_nonblocking(true)?;
            socket.bind(&addr.into())?;
            socket.listen(i32::try_from(self.backlog).unwrap_or(i32::MAX))?;
            TcpListener::from_std(socket.into())
        };
        bind().map_err(|source| io_context(source, format!("could not listen on {addr}")))
    }
}

fn is_ipv6_missing(err: &io::Error) -> bool {
    err.get_ref()
        .and_then(|b| b.downcast_ref::<IoContext>())
        .is_some_and(|b| sys::ipv6_unavailable(b.io_error()))
}

/// A TCP listener, as UWP's `StreamSocketListener`.
///
/// Bind with [`bind_service_name`](Self::bind_service_name) (every interface)
/// or [`bind_endpoint`](Self::bind_endpoint), or with
/// [`builder`](Self::builder) to set the accepted sockets' options first.
/// Then take connections one at a time ([`accept`](Self::accept)), as a
/// `Stream` ([`incoming`](Self::incoming)), or let [`serve`](Self::serve) run
/// a task per connection. Dropping the listener stops listening; sockets
/// already accepted are not affected. [`cancel_io`](Self::cancel_io) ends
/// the accepts waiting right now and leaves the listener listening.
///
/// ```no_run
/// use sock_tcp::StreamSocketListener;
/// use tokio::io::AsyncWriteExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// let listener = StreamSocketListener::bind_service_name("1337").await?;
/// loop {
///     let mut socket = listener.accept().await?;
///     tokio::spawn(async move { socket.write_all(b"hello\n").await });
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct StreamSocketListener {
    listener: TcpListener,
    options: Arc<SocketOptions>,
    local: SocketAddr,
    /// The local address of every accepted connection, when it is known
    /// without asking (the listener is bound to one address).
    connection_local: Option<SocketAddr>,
    /// `cancel_io`, shared with the listener's [`CancelIoHandle`]s.
    cancel: Arc<AcceptCancel>,
    /// The server handshakes, for a TLS listener.
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ServerTls>,
}

impl StreamSocketListener {
    /// The options of the listener and of the sockets it accepts.
    pub fn builder() -> StreamSocketListenerControl {
        StreamSocketListenerControl::default()
    }

    /// Listens on every interface with the default options; see
    /// [`StreamSocketListenerControl::bind_service_name`].
    ///
    /// # Errors
    ///
    /// As [`StreamSocketListenerControl::bind_service_name`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_service_name<S>(service: S) -> Result<Self>
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        StreamSocketListenerControl::default()
            .bind_service_name(service)
            .await
    }

    /// Listens on one local address with the default options; see
    /// [`StreamSocketListenerControl::bind_endpoint`].
    ///
    /// # Errors
    ///
    /// As [`StreamSocketListenerControl::bind_endpoint`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_endpoint<S>(host: Option<&HostName>, service: S) -> Result<Self>
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        StreamSocketListenerControl::default()
            .bind_endpoint(host, service)
            .await
    }

    /// Adopts a bound, listening tokio `TcpListener`; accepted sockets get
    /// the default options (`no_delay` on).
    ///
    /// # Errors
    ///
    /// When the listener's address cannot be read.
    pub fn from_tcp_listener(listener: TcpListener) -> Result<Self> {
        Self::new(listener, SocketOptions::default())
    }

    fn new(listener: TcpListener, options: SocketOptions) -> Result<Self> {
        let local = listener.local_addr()?;
        if sys::ACCEPTED_SOCKETS_INHERIT_OPTIONS {
            options.apply_to_listener(SockRef::from(&listener), local)?;
        }
        Ok(Self {
            listener,
            options: Arc::new(options),
            local,
            connection_local: (!local.ip().is_unspecified()).then_some(local),
            cancel: Arc::default(),
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    pub(crate) fn options(&self) -> &SocketOptions {
        &self.options
    }

    /// Where the listener listens (UWP's `Information`: the port it bound).
    pub fn information(&self) -> StreamSocketListenerInformation {
        StreamSocketListenerInformation::new(self.local)
    }

    /// The local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The tokio listener underneath.
    pub fn get_ref(&self) -> &TcpListener {
        &self.listener
    }

    /// Accepts the next connection, with the listener's options applied.
    ///
    /// Connections that die before they are accepted (reset, aborted) are
    /// skipped. On a TLS listener the socket's handshake has completed;
    /// handshakes run concurrently on their own tasks, and connections whose
    /// handshake fails are skipped (see
    /// [`tls_server_config`](StreamSocketListenerControl::tls_server_config)).
    ///
    /// # Errors
    ///
    /// When the process or system runs out of something (status
    /// `TooManyOpenFiles` for file descriptors) or the listener itself fails.
    /// The listener stays usable: call `accept` again, after a pause for
    /// resource errors ([`incoming`](Self::incoming) does that for you).
    ///
    /// [`Error::Cancelled`] (status `OperationAborted`) when
    /// [`cancel_io`](Self::cancel_io) ran while this accept was in progress.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped, no connection is lost.
    pub async fn accept(&self) -> Result<StreamSocket> {
        let mut op = AcceptOp::default();
        poll_fn(|cx| op.poll(&self.cancel, cx, |cx| self.poll_accept(cx))).await
    }

    /// Ends every [`accept`](Self::accept) in progress and every
    /// [`incoming`](Self::incoming) stream waiting for a connection with
    /// [`Error::Cancelled`] (status `OperationAborted`), as UWP's
    /// `CancelIOAsync`; the same error [`StreamSocket::cancel_io`] gives reads
    /// and writes.
    ///
    /// Only operations pending when it is called are cancelled (as in UWP):
    /// an `accept` started after `cancel_io` returned, or the next item of a
    /// stream that yielded its `Cancelled` error, waits normally. The
    /// listener keeps listening throughout: connections that arrive are
    /// queued and no connection is lost (a cancelled accept leaves a
    /// connection that was ready for the next one). With nothing waiting it
    /// does nothing.
    ///
    /// An accept counts as pending from its first poll until it completes.
    /// The bare [`poll_accept`](Self::poll_accept) keeps no state between
    /// polls, so it is not cancelled. [`serve`](Self::serve) takes the
    /// listener; cancelling through a [`cancel_io_handle`](Self::cancel_io_handle)
    /// there only restarts the accept that was waiting (it is not counted as
    /// an accept error, and the server goes on): stop a server with its
    /// graceful shutdown.
    pub fn cancel_io(&self) {
        self.cancel.cancel();
    }

    /// A handle that cancels this listener's pending accepts from anywhere
    /// (also once [`serve`](Self::serve) owns the listener); see
    /// [`cancel_io`](Self::cancel_io).
    pub fn cancel_io_handle(&self) -> CancelIoHandle {
        CancelIoHandle::for_listener(&self.cancel)
    }

    /// Polls for the next connection; see [`accept`](Self::accept).
    ///
    /// Unlike `accept`, it is not ended by [`cancel_io`](Self::cancel_io).
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept), without `Cancelled`.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<Result<StreamSocket>> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.poll_accept(cx, |cx| self.poll_accept_tcp(cx));
        }
        self.poll_accept_tcp(cx)
    }

    /// How many TLS handshakes with accepted connections have failed (or timed
    /// out) so far; those connections were closed and never handed out.
    #[cfg(feature = "tls")]
    pub fn failed_tls_handshakes(&self) -> u64 {
        self.tls.as_ref().map_or(0, crate::tls::ServerTls::failed)
    }

    /// How many of the failed handshakes were dropped, before their client
    /// sent anything, to make room for a new connection (see
    /// [`max_pending_tls_handshakes`](StreamSocketListenerControl::max_pending_tls_handshakes)).
    #[cfg(feature = "tls")]
    pub fn shed_tls_handshakes(&self) -> u64 {
        self.tls.as_ref().map_or(0, crate::tls::ServerTls::shed)
    }

    /// Whether accepted connections are TLS.
    #[cfg(feature = "tls")]
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    fn poll_accept_tcp(&self, cx: &mut Context<'_>) -> Poll<Result<StreamSocket>> {
        loop {
            let error = match ready!(self.listener.poll_accept(cx)) {
                Ok((stream, peer)) => {
                    match StreamSocket::accepted(stream, self.connection_local, peer, &self.options)
                    {
                        Ok(socket) => return Poll::Ready(Ok(socket)),
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            if sys::accept_error(&error) != AcceptError::PerConnection {
                return Poll::Ready(Err(Error::Io(error)));
            }
        }
    }

    /// The accepted connections as a `Stream` that never ends.
    ///
    /// Connections that die before they are accepted are skipped. When
    /// accepting fails otherwise (out of file descriptors, …) the error is
    /// yielded, and the stream pauses before accepting again, from
    /// [`MIN_ACCEPT_BACKOFF`] doubling to [`MAX_ACCEPT_BACKOFF`] while
    /// failures go on; so a loop over it survives `TooManyOpenFiles` and
    /// resumes once descriptors are free. [`cancel_io`](Self::cancel_io) while
    /// the stream waits makes it yield one [`Error::Cancelled`], with no
    /// pause; the item after that waits normally.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            backoff: Backoff::default(),
            op: AcceptOp::default(),
        }
    }
}

/// The connections of a [`StreamSocketListener`] as a `Stream`; made by
/// [`StreamSocketListener::incoming`]. It never ends.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a StreamSocketListener,
    backoff: Backoff,
    op: AcceptOp,
}

/// The `cancel_io` state of one accept operation (an `accept` future or an
/// [`Incoming`]): while it waits, the cancellation it waits on too.
///
/// The wait on the token is kept after an accept completes and used again by
/// the next one (an [`Incoming`] accepts many) as long as no `cancel_io` ran
/// in between, so a busy accept loop does not allocate per connection.
#[derive(Debug, Default)]
struct AcceptOp {
    /// The wait on a token, and the generation that token belongs to.
    cancelled: Option<(Pin<Box<WaitForCancellationFutureOwned>>, u64)>,
    /// Whether this operation has returned `Pending` since it last completed.
    waiting: bool,
}

impl AcceptOp {
    /// Polls `accept` through `cancel_io`: ends with `Cancelled` when
    /// `cancel_io` ran since this operation first returned `Pending` (or
    /// while it did).
    fn poll(
        &mut self,
        cancel: &AcceptCancel,
        cx: &mut Context<'_>,
        accept: impl FnOnce(&mut Context<'_>) -> Poll<Result<StreamSocket>>,
    ) -> Poll<Result<StreamSocket>> {
        if self.waiting {
            if let Some((cancelled, _)) = &mut self.cancelled {
                if cancelled.as_mut().poll(cx).is_ready() {
                    return self.end_cancelled();
                }
            }
        }
        let generation = cancel.generation.load(Ordering::Acquire);
        match accept(cx) {
            Poll::Ready(result) => {
                self.waiting = false;
                Poll::Ready(result)
            }
            Poll::Pending if self.waiting => Poll::Pending,
            Poll::Pending => {
                // This operation's first wait: wait on the current token too.
                if !matches!(&self.cancelled, Some((_, g)) if *g == generation) {
                    let (token, now) = cancel.current();
                    if now != generation {
                        // cancel_io ran while this accept started to wait.
                        return self.end_cancelled();
                    }
                    self.cancelled = Some((Box::pin(token.cancelled_owned()), now));
                }
                if let Some((cancelled, _)) = &mut self.cancelled {
                    if cancelled.as_mut().poll(cx).is_ready() {
                        return self.end_cancelled();
                    }
                }
                self.waiting = true;
                Poll::Pending
            }
        }
    }

    fn end_cancelled(&mut self) -> Poll<Result<StreamSocket>> {
        self.cancelled = None;
        self.waiting = false;
        Poll::Ready(Err(Error::Cancelled {
            operation: "accept",
        }))
    }
}

/// The accept loop's pause after failures.
#[derive(Debug)]
pub(crate) struct Backoff {
    sleep: Option<Pin<Box<Sleep>>>,
    delay: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            sleep: None,
            delay: MIN_ACCEPT_BACKOFF,
        }
    }
}

impl Backoff {
    /// Waits out the pause, if one is running.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(sleep) = &mut self.sleep {
            ready!(sleep.as_mut().poll(cx));
            self.sleep = None;
        }
        Poll::Ready(())
    }

    /// Starts a pause after a failure; the next one is twice as long.
    pub(crate) fn failed(&mut self) {
        let deadline = tokio::time::Instant::now() + self.delay;
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        self.delay = (self.delay * 2).min(MAX_ACCEPT_BACKOFF);
    }

    /// A success: the next failure pauses briefly again.
    pub(crate) fn succeeded(&mut self) {
        self.delay = MIN_ACCEPT_BACKOFF;
    }

    #[cfg(test)]
    fn delay(&self) -> Duration {
        self.delay
    }
}

impl Incoming<'_> {
    /// Polls for the next connection or error (never `None`).
    pub(crate) fn poll_next_socket(&mut self, cx: &mut Context<'_>) -> Poll<Result<StreamSocket>> {
        ready!(self.backoff.poll_ready(cx));
        let listener = self.listener;
        match ready!(self
            .op
            .poll(&listener.cancel, cx, |cx| listener.poll_accept(cx)))
        {
            Ok(socket) => {
                self.backoff.succeeded();
                Poll::Ready(Ok(socket))
            }
            // Not a failure of the listener: no pause.
            Err(e @ Error::Cancelled { .. }) => Poll::Ready(Err(e)),
            Err(e) => {
                self.backoff.failed();
                Poll::Ready(Err(e))
            }
        }
    }
}

impl Stream for Incoming<'_> {
    type Item = Result<StreamSocket>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_socket(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets_on_success() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut b = Backoff::default();
            assert_eq!(b.delay(), MIN_ACCEPT_BACKOFF);
            for _ in 0..20 {
                b.failed();
            }
            assert_eq!(b.delay(), MAX_ACCEPT_BACKOFF);
            b.succeeded();
            assert_eq!(b.delay(), MIN_ACCEPT_BACKOFF);
        });
    }

    #[tokio::test]
    async fn a_bind_error_names_the_address_and_keeps_its_status() {
        let first =
            StreamSocketListener::bind_endpoint(Some(&HostName::new("127.0.0.1").unwrap()), 0)
                .await
                .unwrap();
        let port = first.information().local_port;
        let err =
            StreamSocketListener::bind_endpoint(Some(&HostName::new("127.0.0.1").unwrap()), port)
                .await
                .unwrap_err();
        assert_eq!(
            err.status(),
            sock_core::SocketErrorStatus::AddressAlreadyInUse
        );
        let text = sock_core::Report(&err).to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    }
}
