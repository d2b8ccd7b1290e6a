//! `DatagramSocketControl`: the options of a `DatagramSocket`, set before it
//! binds or connects, as UWP's `DatagramSocketControl`.

use sock_core::QualityOfService;

/// The default [`max_message_size`](DatagramSocketControl::max_message_size):
/// 64 KiB, more than any UDP datagram (without IPv6 jumbograms).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// The options of a [`DatagramSocket`](crate::DatagramSocket), and the builder that applies them
/// before the socket binds or connects (UWP's `DatagramSocketControl`).
///
/// Each setting has a setter named as the setting (taking and returning the
/// builder) and a getter: `is_<setting>` for switches, `<setting>_value` for
/// the others.
///
/// ```
/// use sock_udp::DatagramSocket;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// // Two listeners sharing one port, as mDNS and SSDP listeners do.
/// let first = DatagramSocket::builder()
///     .multicast_only(true)
///     .inbound_buffer_size(1 << 20)
///     .bind_service_name("")
///     .await?;
/// let port = first.information().local_port;
/// let second = DatagramSocket::builder().multicast_only(true).bind_service_name(port).await?;
/// assert_eq!(second.information().local_port, port);
///
/// // Without port sharing, the port is taken.
/// let err = DatagramSocket::bind_service_name(port).await.unwrap_err();
/// assert_eq!(err.status(), sock_core::SocketErrorStatus::AddressAlreadyInUse);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatagramSocketControl {
    pub(crate) multicast_only: bool,
    pub(crate) reuse_port: bool,
    pub(crate) dont_fragment: bool,
    pub(crate) inbound_buffer_size: Option<usize>,
    pub(crate) outbound_unicast_hop_limit: Option<u8>,
    pub(crate) quality_of_service: QualityOfService,
    pub(crate) max_message_size: usize,
    pub(crate) receive_offload: bool,
    pub(crate) segmentation_offload: bool,
}

impl Default for DatagramSocketControl {
    fn default() -> Self {
        Self {
            multicast_only: false,
            reuse_port: false,
            dont_fragment: false,
            inbound_buffer_size: None,
            outbound_unicast_hop_limit: None,
            quality_of_service: QualityOfService::Normal,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            receive_offload: false,
            segmentation_offload: true,
        }
    }
}

impl DatagramSocketControl {
    /// The defaults: an exclusive bind, fragmentation allowed, system buffer
    /// sizes and hop limit, normal quality of service, 64 KiB messages,
    /// segmentation offload where the kernel has it, no receive offload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Port sharing for multicast only (UWP's `MulticastOnly`, default
    /// `false`).
    ///
    /// When set, the socket sets address and port reuse (`SO_REUSEADDR` and
    /// `SO_REUSEPORT`) before it binds, so several sockets can bind the same
    /// port, as mDNS and SSDP listeners do; each receives every multicast
    /// datagram sent to a group it joined. Without it a bind is exclusive: a
    /// second socket on the same port fails with `AddressAlreadyInUse`.
    ///
    /// As in UWP, such a socket is for multicast only, so a shared port
    /// cannot be used to send or take over unicast traffic:
    ///
    /// * **Sending** to anything but a multicast group (224.0.0.0/4,
    ///   ff00::/8) fails, before anything is sent, with
    ///   [`Error::Unsupported`](sock_core::Error::Unsupported) (status `Unknown`, as UWP's access-denied
    ///   error; the message names `multicast_only`). This covers
    ///   [`send_to`](crate::DatagramSocket::send_to),
    ///   [`send_to_addr`](crate::DatagramSocket::send_to_addr),
    ///   [`send_batch`](crate::DatagramSocket::send_batch),
    ///   [`output_stream`](crate::DatagramSocket::output_stream) (refused when
    ///   made) and [`connect`](Self::connect) (a unicast peer is refused).
    ///   Broadcast is not multicast and is refused too (a subnet broadcast
    ///   address cannot be told from a unicast one by its address alone).
    /// * **Receiving**: a datagram whose destination address is not a
    ///   multicast group (a unicast or broadcast datagram sent to the shared
    ///   port) is dropped, never delivered, and counted by
    ///   [`DatagramSocket::dropped_unicast_datagrams`](crate::DatagramSocket::dropped_unicast_datagrams). The destination is
    ///   read from the packet information the kernel attaches (Linux);
    ///   where the platform does not give it, datagrams are delivered as
    ///   without this option.
    ///
    /// The tokio socket reached through
    /// [`get_ref`](crate::DatagramSocket::get_ref) or
    /// [`into_inner`](crate::DatagramSocket::into_inner) bypasses both checks.
    /// (Linux also lets only sockets of the same user share a port.)
    pub fn multicast_only(mut self, on: bool) -> Self {
        self.multicast_only = on;
        self
    }

    /// Lets several sockets bind the same address and port (`SO_REUSEPORT`;
    /// off by default) and receive unicast datagrams there: the kernel
    /// spreads senders among them by address and port, each sender's
    /// datagrams going to one socket. For UDP servers that use every core;
    /// see [`bind_sharded`](Self::bind_sharded). Unlike
    /// [`multicast_only`](Self::multicast_only), unicast is not refused.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// Sets the IP "don't fragment" bit (UWP's `DontFragment`, default
    /// `false`): a datagram larger than the path MTU is dropped instead of
    /// fragmented, and a send larger than the known MTU fails with
    /// `MessageTooLong`.
    pub fn dont_fragment(mut self, on: bool) -> Self {
        self.dont_fragment = on;
        self
    }

    /// The kernel receive buffer size in bytes (UWP's
    /// `InboundBufferSizeInBytes`, `SO_RCVBUF`; default: the system's). The
    /// kernel may cap it (Linux: `net.core.rmem_max`).
    pub fn inbound_buffer_size(mut self, bytes: usize) -> Self {
        self.inbound_buffer_size = Some(bytes);
        self
    }

    /// The hop limit (IPv4 TTL) of unicast datagrams, 1 to 255 (UWP's
    /// `OutboundUnicastHopLimit`; default: the system's, usually 64). It can
    /// also be changed after binding with
    /// [`DatagramSocket::set_outbound_unicast_hop_limit`](crate::DatagramSocket::set_outbound_unicast_hop_limit).
    pub fn outbound_unicast_hop_limit(mut self, hops: u8) -> Self {
        self.outbound_unicast_hop_limit = Some(hops);
        self
    }

    /// The traffic class (UWP's `QualityOfService`, default `Normal`).
    /// `LowLatency` marks outgoing datagrams with DSCP "expedited forwarding".
    pub fn quality_of_service(mut self, qos: QualityOfService) -> Self {
        self.quality_of_service = qos;
        self
    }

    /// The longest datagram received whole (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`], 64 KiB). A longer one arrives with
    /// [`DatagramMessage::truncated`](crate::DatagramMessage::truncated) set.
    /// Lower it to use less memory in [`DatagramSocket::recv_batch`](crate::DatagramSocket::recv_batch), which
    /// keeps one buffer of this size per datagram of a batch. At least 1.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes.max(1);
        self
    }

    /// UDP receive offload (GRO, Linux; default `false`): the kernel may hand
    /// over several datagrams of one sender in one go, which the socket splits
    /// again, so each still arrives as its own [`DatagramMessage`](crate::DatagramMessage). Fewer
    /// system calls for bulk receivers; ignored where the kernel lacks it.
    pub fn receive_offload(mut self, on: bool) -> Self {
        self.receive_offload = on;
        self
    }

    /// UDP segmentation offload (GSO, Linux; default `true`) for
    /// [`DatagramSocket::send_batch`](crate::DatagramSocket::send_batch): datagrams of one size go to the kernel
    /// as one message, which it cuts into datagrams. Turned off by itself
    /// where the kernel or the network device lacks it.
    pub fn segmentation_offload(mut self, on: bool) -> Self {
        self.segmentation_offload = on;
        self
    }

    /// Whether port sharing for multicast only is on.
    pub fn is_multicast_only(&self) -> bool {
        self.multicast_only
    }

    /// Whether the port may be shared with [`reuse_port`](Self::reuse_port).
    pub fn is_reuse_port(&self) -> bool {
        self.reuse_port
    }

    /// Whether "don't fragment" is on.
    pub fn is_dont_fragment(&self) -> bool {
        self.dont_fragment
    }

    /// The receive buffer size asked for, if any.
    pub fn inbound_buffer_size_value(&self) -> Option<usize> {
        self.inbound_buffer_size
    }

    /// The receive buffer size asked for, if any.
    #[deprecated(note = "renamed `inbound_buffer_size_value`, as the other getters")]
    pub fn inbound_buffer_size_in_bytes(&self) -> Option<usize> {
        self.inbound_buffer_size
    }

    /// The unicast hop limit asked for, if any.
    pub fn outbound_unicast_hop_limit_value(&self) -> Option<u8> {
        self.outbound_unicast_hop_limit
    }

    /// The quality of service.
    pub fn quality_of_service_value(&self) -> QualityOfService {
        self.quality_of_service
    }

    /// The longest datagram received whole.
    pub fn max_message_size_value(&self) -> usize {
        self.max_message_size
    }

    /// Whether receive offload was asked for.
    pub fn is_receive_offload(&self) -> bool {
        self.receive_offload
    }

    /// Whether segmentation offload may be used.
    pub fn is_segmentation_offload(&self) -> bool {
        self.segmentation_offload
    }

    pub(crate) fn set_hop_limit(&mut self, hops: u8) {
        self.outbound_unicast_hop_limit = Some(hops);
    }
}
