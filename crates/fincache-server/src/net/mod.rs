//! Networking: the TCP listener ([`listener`]) and the per-client task ([`connection`]).

pub mod connection;
pub mod listener;
