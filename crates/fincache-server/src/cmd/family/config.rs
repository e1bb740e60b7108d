//! CONFIG GET/SET/RESETSTAT/REWRITE/HELP.

use crate::cmd::spec::CommandSpec;

pub const COMMANDS: &[CommandSpec] = &[];
