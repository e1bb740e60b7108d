//! Server introspection and control (INFO, COMMAND, SLOWLOG, LATENCY, DEBUG, TIME, SHUTDOWN …).

use crate::cmd::spec::CommandSpec;

pub const COMMANDS: &[CommandSpec] = &[];
