//! One file per command family; each ends with its `COMMANDS` table.

pub mod command;
pub mod config;
pub mod connection;
pub mod info;
pub mod keys;
pub mod keys_expire;
pub mod keys_scan;
pub mod server;
pub mod string;

use super::spec::CommandSpec;

/// Every family's table, in the order `COMMAND` lists them.
pub const ALL: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    string::COMMANDS,
    keys::COMMANDS,
    keys_expire::COMMANDS,
    keys_scan::COMMANDS,
    server::COMMANDS,
    info::COMMANDS,
    command::COMMANDS,
    config::COMMANDS,
];
