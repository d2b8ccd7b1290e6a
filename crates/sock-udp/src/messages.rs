//! `Messages`: the datagrams arriving on a socket as a `Stream`, UWP's
//! `MessageReceived` event.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use sock_core::Result;

use crate::{DatagramMessage, DatagramSocket};

impl DatagramSocket {
    /// The incoming datagrams as a `Stream` (UWP's `MessageReceived` event);
    /// each item is what [`recv`](Self::recv) gives.
    pub fn messages(&self) -> Messages<'_> {
        Messages::new(self)
    }
}

type RecvFuture<'a> = Pin<Box<dyn Future<Output = Result<DatagramMessage>> + Send + 'a>>;

/// The datagrams arriving on a socket, as a [`Stream`]: UWP's
/// `MessageReceived` event. Made by [`DatagramSocket::messages`].
///
/// Each item is what [`DatagramSocket::recv`] returns. The stream never ends
/// by itself: an `Err` item (an ICMP report on a connected socket, say) is
/// followed by the next datagram, so a loop decides for itself what is fatal.
/// Dropping the stream loses no datagram.
pub struct Messages<'a> {
    socket: &'a DatagramSocket,
    next: Option<RecvFuture<'a>>,
}

impl<'a> Messages<'a> {
    pub(crate) fn new(socket: &'a DatagramSocket) -> Self {
        Self { socket, next: None }
    }

    /// The socket the messages come from.
    pub fn get_ref(&self) -> &'a DatagramSocket {
        self.socket
    }
}

impl fmt::Debug for Messages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages")
            .field("socket", self.socket)
            .finish_non_exhaustive()
    }
}

impl Stream for Messages<'_> {
    type Item = Result<DatagramMessage>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let socket = self.socket;
        let next = self.next.get_or_insert_with(|| Box::pin(socket.recv()));
        let item = std::task::ready!(next.as_mut().poll(cx));
        self.next = None;
        Poll::Ready(Some(item))
    }
}
