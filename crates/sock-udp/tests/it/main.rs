//! The integration tests of sock-udp, linked as one binary: each module is
//! one area, and `support` holds what they share.

mod support;

mod handoff_multicast_only;
mod handoff_processes;
mod stress_datagrams;
mod udp_batch;
mod udp_data_writer;
mod udp_echo;
mod udp_endpoint_pairs;
mod udp_icmp;
mod udp_messages;
mod udp_multicast;
mod udp_multicast_only;
mod udp_shards;
mod udp_truncation;
