//! The command table: every family's `COMMANDS`, indexed by lower-case name.
//!
//! Families are listed explicitly in [`FAMILIES`]. Each command and subcommand gets a dense id
//! (its index in [`Registry::entries`]) used for per-command statistics.

use super::family;
use super::spec::CommandSpec;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The families whose tables make up the server's commands.
const FAMILIES: &[&[CommandSpec]] = family::ALL;

/// A command found in the table.
#[derive(Debug, Clone, Copy)]
pub struct CommandRef {
    pub id: usize,
    pub spec: &'static CommandSpec,
    /// For a subcommand, its container (CONFIG for CONFIG GET).
    pub parent: Option<&'static CommandSpec>,
}

impl CommandRef {
    /// `config|get` for subcommands, `get` otherwise (error messages, commandstats).
    pub fn full_name(&self) -> String {
        match self.parent {
            Some(p) => format!("{}|{}", p.name, self.spec.name),
            None => self.spec.name.to_string(),
        }
    }
}

pub struct Registry {
    by_name: HashMap<&'static [u8], usize, foldhash::fast::RandomState>,
    /// (container id, subcommand name) → id.
    subs: HashMap<(usize, &'static [u8]), usize, foldhash::fast::RandomState>,
    entries: Vec<CommandRef>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The process-wide command table.
pub fn get() -> &'static Registry {
    REGISTRY.get_or_init(build)
}

fn build() -> Registry {
    let mut r = Registry {
        by_name: HashMap::default(),
        subs: HashMap::default(),
        entries: Vec::new(),
    };
    for family in FAMILIES {
        for spec in family.iter() {
            let id = r.entries.len();
            r.entries.push(CommandRef {
                id,
                spec,
                parent: None,
            });
            let dup = r.by_name.insert(spec.name.as_bytes(), id);
            debug_assert!(dup.is_none(), "command {} registered twice", spec.name);
            for sub in spec.subcommands {
                let sid = r.entries.len();
                r.entries.push(CommandRef {
                    id: sid,
                    spec: sub,
                    parent: Some(spec),
                });
                r.subs.insert((id, sub.name.as_bytes()), sid);
            }
        }
    }
    r
}

/// Lower-cases `name` into `buf` if it fits (command names are short); None if too long.
#[inline]
fn lower_into<'b>(name: &[u8], buf: &'b mut [u8; 64]) -> Option<&'b [u8]> {
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some(&buf[..name.len()])
}

impl Registry {
    /// Looks up a top-level command by name, case-insensitively, without allocating.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<CommandRef> {
        let mut buf = [0u8; 64];
        let lower = lower_into(name, &mut buf)?;
        self.by_name.get(lower).map(|&id| self.entries[id])
    }

    /// Looks up a subcommand of the container `parent`.
    pub fn lookup_sub(&self, parent: &CommandRef, name: &[u8]) -> Option<CommandRef> {
        let mut buf = [0u8; 64];
        let lower = lower_into(name, &mut buf)?;
        self.subs
            .get(&(parent.id, lower))
            .map(|&id| self.entries[id])
    }

    /// Every top-level command.
    pub fn commands(&self) -> impl Iterator<Item = &CommandRef> {
        self.entries.iter().filter(|c| c.parent.is_none())
    }

    /// Every command and subcommand, in id order.
    pub fn all(&self) -> &[CommandRef] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The subcommands of a container, as registered.
    pub fn subcommands_of(&self, parent: &CommandRef) -> Vec<CommandRef> {
        parent
            .spec
            .subcommands
            .iter()
            .filter_map(|s| self.subs.get(&(parent.id, s.name.as_bytes())))
            .map(|&id| self.entries[id])
            .collect()
    }
}
