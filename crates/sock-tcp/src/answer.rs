//! What resolvers answer with: the future of a name's addresses, the stream
//! of addresses as they arrive, and the future of a service's SRV records.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use futures_core::Stream;

use crate::srv::ServiceRecord;

/// The future a [`Resolve`](crate::Resolve) returns: the addresses for a
/// name, best first.
pub type Resolving = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Addresses of one name as they arrive, best first within each batch. An
/// `Err` item is a query that failed; the stream ends when every query has
/// answered.
pub type AddressBatches = Pin<Box<dyn Stream<Item = io::Result<Vec<SocketAddr>>> + Send>>;

/// The future of a service lookup: the SRV records of a service on a host,
/// or `None` when the resolver does not look services up.
pub type ResolvingService =
    Pin<Box<dyn Future<Output = io::Result<Option<Vec<ServiceRecord>>>> + Send>>;
