//! The hub of a listener with several connections (`--keep-open`,
//! `--broker`): stdin's messages go to every connection, and with
//! `--broker` each connection's messages go to all the others.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use sock::Bytes;
use tokio::sync::mpsc;

use crate::local::{InputRx, InputTx, CHANNEL_DEPTH};

/// The connections of one listener, each by the sender of its input.
#[derive(Debug)]
pub(crate) struct Hub {
    clients: Mutex<Vec<(u64, InputTx)>>,
    next_id: AtomicU64,
    stdin_ended: AtomicBool,
    broker: bool,
}

impl Hub {
    /// A hub; `broker` relays between connections (and keeps their input
    /// open after stdin ends, so relaying goes on).
    pub(crate) fn new(broker: bool) -> Self {
        Self {
            clients: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            stdin_ended: AtomicBool::new(false),
            broker,
        }
    }

    /// Whether messages are relayed between connections.
    pub(crate) fn is_broker(&self) -> bool {
        self.broker
    }

    /// Adds a connection: its id, and its input (already ended when stdin
    /// has, unless relaying).
    pub(crate) fn join(&self) -> (u64, InputRx) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        if self.broker || !self.stdin_ended.load(Ordering::Acquire) {
            self.lock().push((id, tx));
        }
        (id, rx)
    }

    /// Removes a connection.
    pub(crate) fn leave(&self, id: u64) {
        self.lock().retain(|(other, _)| *other != id);
    }

    /// Sends `message` to every connection but `except`.
    pub(crate) async fn broadcast(&self, message: &Bytes, except: Option<u64>) {
        let targets: Vec<_> = self
            .lock()
            .iter()
            .filter(|(id, _)| Some(*id) != except)
            .map(|(_, tx)| tx.clone())
            .collect();
        for tx in targets {
            // A connection that ended meanwhile just misses it.
            let _ = tx.send(Ok(message.clone())).await;
        }
    }

    /// Stdin ended: the connections' input ends too, unless relaying.
    pub(crate) fn end_of_stdin(&self) {
        self.stdin_ended.store(true, Ordering::Release);
        if !self.broker {
            self.lock().clear();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, InputTx)>> {
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Feeds stdin's messages to every connection until stdin ends; a
    /// failure reading it is printed and ends stdin.
    pub(crate) async fn feed(&self, mut stdin: InputRx) {
        while let Some(message) = stdin.recv().await {
            match message {
                Ok(message) => self.broadcast(&message, None).await,
                Err(failure) => {
                    failure.print();
                    break;
                }
            }
        }
        self.end_of_stdin();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_broker_relays_to_all_but_the_sender() {
        let hub = Hub::new(true);
        let (a, mut a_rx) = hub.join();
        let (_b, mut b_rx) = hub.join();
        hub.broadcast(&Bytes::from_static(b"hi"), Some(a)).await;
        assert_eq!(&b_rx.recv().await.unwrap().unwrap()[..], b"hi");
        assert!(a_rx.try_recv().is_err());
        hub.end_of_stdin();
        hub.broadcast(&Bytes::from_static(b"still"), None).await;
        assert_eq!(&a_rx.recv().await.unwrap().unwrap()[..], b"still");
    }

    #[tokio::test]
    async fn without_a_broker_the_end_of_stdin_ends_every_input() {
        let hub = Hub::new(false);
        let (_a, mut a_rx) = hub.join();
        hub.end_of_stdin();
        assert!(a_rx.recv().await.is_none());
        let (_b, mut b_rx) = hub.join();
        assert!(b_rx.recv().await.is_none());
    }
}
