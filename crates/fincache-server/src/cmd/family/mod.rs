//! One file per command family; each ends with its `COMMANDS` table.

pub mod bitmap;
pub mod client_tracking;
pub mod command;
pub mod config;
pub mod connection;
pub mod function;
pub mod hash;
pub mod info;
pub mod keys;
pub mod keys_expire;
pub mod keys_scan;
pub mod list;
pub mod memory;
pub mod persist;
pub mod pubsub;
pub mod script;
pub mod server;
pub mod set;
pub mod sort;
pub mod string;
pub mod tx;
pub mod zset;
pub mod zset_pop;
pub mod zset_range;
pub mod zset_setops;

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
    persist::COMMANDS,
    memory::COMMANDS,
    command::COMMANDS,
    config::COMMANDS,
    list::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
    zset_pop::COMMANDS,
    zset_range::COMMANDS,
    zset_setops::COMMANDS,
    bitmap::COMMANDS,
    sort::COMMANDS,
    pubsub::COMMANDS,
    tx::COMMANDS,
    script::COMMANDS,
    function::COMMANDS,
];
