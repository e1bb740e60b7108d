//! One file per command family; each ends with its `COMMANDS` table.

pub mod config;
pub mod connection;
pub mod keys;
pub mod server;
pub mod string;

use super::spec::CommandSpec;

/// Every family's table, in the order `COMMAND` lists them.
pub const ALL: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    string::COMMANDS,
    keys::COMMANDS,
    server::COMMANDS,
    config::COMMANDS,
];
