//! UDP servers on every core: N sockets on one port (`SO_REUSEPORT`), each
//! on its own thread with a current-thread runtime, the kernel spreading
//! senders among them.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

use sock_core::{Error, HostName, Result, ServiceName};
use tokio::sync::oneshot;

use crate::{DatagramSocket, DatagramSocketControl};

/// Sockets sharing one port, each served on its own thread: made by
/// [`DatagramSocketControl::bind_sharded`].
pub struct DatagramShards {
    local_addr: SocketAddr,
    shards: Vec<Shard>,
}

struct Shard {
    stop: oneshot::Sender<()>,
    ended: oneshot::Receiver<()>,
}

impl fmt::Debug for DatagramShards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramShards")
            .field("local_addr", &self.local_addr)
            .field("shards", &self.shards.len())
            .finish()
    }
}

impl DatagramShards {
    /// The address every shard's socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many shards run.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Waits until every shard's handler has returned.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the shards go on running; dropping the future (and so
    /// the shards) stops them, as [`shutdown`](Self::shutdown) does.
    pub async fn join(self) {
        // Dropping a shard's stop sender would stop it: keep them all
        // until every handler has returned.
        let (stops, ended): (Vec<_>, Vec<_>) =
            self.shards.into_iter().map(|s| (s.stop, s.ended)).unzip();
        for end in ended {
            let _ = end.await;
        }
        drop(stops);
    }

    /// Stops every shard: each handler's future is dropped (with its socket)
    /// on its own thread; returns once all have ended.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the shards are stopped either way.
    pub async fn shutdown(self) {
        let ended: Vec<_> = self
            .shards
            .into_iter()
            .map(|shard| {
                let _ = shard.stop.send(());
                shard.ended
            })
            .collect();
        for end in ended {
            let _ = end.await;
        }
    }
}

impl DatagramSocketControl {
    /// Binds `workers` sockets to `host` (every address when `None`) at
    /// `service` with [`reuse_port`](Self::reuse_port), each on its own
    /// thread with a current-thread tokio runtime, and runs `handler` with
    /// each socket there. `""` as the service picks a free port, shared by
    /// every shard. The kernel sends each sender's datagrams to one socket.
    ///
    /// ```no_run
    /// use sock_udp::DatagramSocket;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let shards = DatagramSocket::builder()
    ///     .bind_sharded(None, "5353", 2, |socket: DatagramSocket| async move {
    ///         while let Ok(msg) = socket.recv().await {
    ///             let _ = socket.send_to_addr(msg.remote_addr(), &msg.data).await;
    ///         }
    ///     })
    ///     .await?;
    /// println!("echoing on {}", shards.local_addr());
    /// shards.join().await;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// An invalid service; a shard that could not start its runtime or bind
    /// (the shards already started are stopped).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: shards started before the future is dropped are
    /// stopped, but a shard binding at that moment may run until its handler
    /// returns.
    pub async fn bind_sharded<H, F, S>(
        self,
        host: Option<&HostName>,
        service: S,
        workers: usize,
        handler: H,
    ) -> Result<DatagramShards>
    where
        H: Fn(DatagramSocket) -> F + Send + Sync + 'static,
        F: Future + 'static,
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let control = self.reuse_port(true);
        let mut service: ServiceName = service.try_into()?;
        let handler = Arc::new(handler);
        let mut shards = DatagramShards {
            local_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            shards: Vec::with_capacity(workers.max(1)),
        };
        for _ in 0..workers.max(1) {
            let started = start_shard(
                control.clone(),
                host.cloned(),
                service.clone(),
                Arc::clone(&handler),
            );
            match started.await {
                Ok((addr, shard)) => {
                    if shards.shards.is_empty() {
                        shards.local_addr = addr;
                        service = ServiceName::from(addr.port());
                    }
                    shards.shards.push(shard);
                }
                Err(e) => {
                    shards.shutdown().await;
                    return Err(e);
                }
            }
        }
        Ok(shards)
    }
}

/// Starts one shard's thread; resolves when its socket is bound.
async fn start_shard<H, F>(
    control: DatagramSocketControl,
    host: Option<HostName>,
    service: ServiceName,
    handler: Arc<H>,
) -> Result<(SocketAddr, Shard)>
where
    H: Fn(DatagramSocket) -> F + Send + Sync + 'static,
    F: Future + 'static,
{
    let (ready_tx, ready_rx) = oneshot::channel::<Result<SocketAddr>>();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (ended_tx, ended_rx) = oneshot::channel::<()>();
    thread::Builder::new()
        .name("sock-udp-shard".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(Error::Io(e)));
                    return;
                }
            };
            runtime.block_on(async move {
                let socket = match control.bind_endpoint(host.as_ref(), service).await {
                    Ok(socket) => socket,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(socket.local_addr()));
                tokio::select! {
                    _ = handler(socket) => {}
                    _ = stop_rx => {}
                }
            });
            drop(runtime);
            let _ = ended_tx.send(());
        })
        .map_err(Error::Io)?;
    let addr = ready_rx
        .await
        .map_err(|_| Error::unsupported("starting a shard", "its thread ended before binding"))??;
    Ok((
        addr,
        Shard {
            stop: stop_tx,
            ended: ended_rx,
        },
    ))
}
