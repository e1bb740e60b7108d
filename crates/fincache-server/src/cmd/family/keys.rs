//! Generic keyspace commands (DEL, EXISTS, EXPIRE, SCAN, SELECT …).

use crate::cmd::spec::CommandSpec;

pub const COMMANDS: &[CommandSpec] = &[];
