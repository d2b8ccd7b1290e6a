//! The integration tests of sock-tcp, linked as one binary: each module is
//! one area, and `support` holds what they share.

mod faults;
mod support;

mod fault_default_timeouts;
mod fault_fd_exhaustion;
mod fault_huge_frame;
mod fault_peers;
mod fault_shutdown_drain;
mod handoff_processes;
mod stress_connections;
mod tcp_accept_backoff;
mod tcp_accept_cancel_io;
mod tcp_batch;
mod tcp_cancel_io;
mod tcp_close;
mod tcp_connect_pair;
mod tcp_control;
mod tcp_dns;
mod tcp_echo;
mod tcp_endpoint_pairs;
mod tcp_errors;
mod tcp_happy_eyeballs;
mod tcp_idle;
mod tcp_logs;
mod tcp_serve;
mod tcp_serve_compose;
mod tcp_serve_overload;
mod tcp_serve_sharded;
mod tls_client_certificate_store;
mod tls_connect;
mod tls_connect_pair;
mod tls_connect_timeouts;
mod tls_listener;
mod tls_openssl_renegotiation;
mod tls_openssl_self_signed;
mod tls_silent_handshakes;
mod tls_streams;
mod tls_upgrade;
