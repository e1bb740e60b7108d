//! `CommandSpec`: everything the server knows about one command, as data.
//!
//! One table (the family files' `COMMANDS` slices, gathered by [`super::registry`]) is the single
//! source of truth: the dispatcher's arity and flag checks, `COMMAND` and its subcommands, ACL
//! categories, cluster slot checks and INFO commandstats all read it. Entries are built with
//! `const fn` builders so each family declares its commands beside its handlers.

use super::ctx::ExecCtx;
use super::error::CmdError;

/// What every handler returns: the reply is already written to `ctx.out` on `Ok`.
pub type CmdResult = Result<(), CmdError>;

/// A command handler. `argv[0]` is the command name as the client sent it.
pub type Handler = fn(&mut ExecCtx<'_>, &[&[u8]]) -> CmdResult;

/// Finds the key positions of a command whose keys are not at fixed positions (movable keys).
pub type KeyFinder = fn(&[&[u8]]) -> Vec<usize>;

/// Command flags, with Redis's names (`COMMAND INFO` prints them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u32);

impl Flags {
    pub const NONE: Flags = Flags(0);
    pub const WRITE: Flags = Flags(1 << 0);
    pub const READONLY: Flags = Flags(1 << 1);
    pub const DENYOOM: Flags = Flags(1 << 2);
    pub const ADMIN: Flags = Flags(1 << 3);
    pub const PUBSUB: Flags = Flags(1 << 4);
    pub const NOSCRIPT: Flags = Flags(1 << 5);
    pub const BLOCKING: Flags = Flags(1 << 6);
    pub const LOADING: Flags = Flags(1 << 7);
    pub const STALE: Flags = Flags(1 << 8);
    pub const SKIP_MONITOR: Flags = Flags(1 << 9);
    pub const SKIP_SLOWLOG: Flags = Flags(1 << 10);
    pub const FAST: Flags = Flags(1 << 11);
    pub const NO_AUTH: Flags = Flags(1 << 12);
    pub const MAY_REPLICATE: Flags = Flags(1 << 13);
    pub const NO_MANDATORY_KEYS: Flags = Flags(1 << 14);
    pub const NO_ASYNC_LOADING: Flags = Flags(1 << 15);
    pub const NO_MULTI: Flags = Flags(1 << 16);
    pub const MOVABLE_KEYS: Flags = Flags(1 << 17);
    pub const ALLOW_BUSY: Flags = Flags(1 << 18);
    /// FinCache-only: runs with the keyspace gate held for writing (atomic across all shards).
    pub const EXCLUSIVE: Flags = Flags(1 << 19);

    /// Flag names in the order Redis prints them in `COMMAND INFO`.
    pub const NAMES: &'static [(Flags, &'static str)] = &[
        (Flags::WRITE, "write"),
        (Flags::READONLY, "readonly"),
        (Flags::DENYOOM, "denyoom"),
        (Flags::ADMIN, "admin"),
        (Flags::PUBSUB, "pubsub"),
        (Flags::NOSCRIPT, "noscript"),
        (Flags::BLOCKING, "blocking"),
        (Flags::LOADING, "loading"),
        (Flags::STALE, "stale"),
        (Flags::SKIP_MONITOR, "skip_monitor"),
        (Flags::SKIP_SLOWLOG, "skip_slowlog"),
        (Flags::FAST, "fast"),
        (Flags::NO_AUTH, "no_auth"),
        (Flags::MAY_REPLICATE, "may_replicate"),
        (Flags::NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (Flags::NO_ASYNC_LOADING, "no_async_loading"),
        (Flags::NO_MULTI, "no_multi"),
        (Flags::MOVABLE_KEYS, "movablekeys"),
        (Flags::ALLOW_BUSY, "allow_busy"),
    ];

    #[inline]
    pub const fn has(self, f: Flags) -> bool {
        self.0 & f.0 != 0
    }

    pub const fn or(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// ACL categories (`@read`, `@string`, …). The flag-derived ones (@write, @read, @admin,
/// @dangerous, @fast, @slow, @blocking, @pubsub) are added from [`Flags`] by
/// [`CommandSpec::acl_categories`], as Redis does; tables list only the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AclCats(pub u64);

impl AclCats {
    pub const NONE: AclCats = AclCats(0);
    pub const KEYSPACE: AclCats = AclCats(1 << 0);
    pub const READ: AclCats = AclCats(1 << 1);
    pub const WRITE: AclCats = AclCats(1 << 2);
    pub const SET: AclCats = AclCats(1 << 3);
    pub const SORTEDSET: AclCats = AclCats(1 << 4);
    pub const LIST: AclCats = AclCats(1 << 5);
    pub const HASH: AclCats = AclCats(1 << 6);
    pub const STRING: AclCats = AclCats(1 << 7);
    pub const BITMAP: AclCats = AclCats(1 << 8);
    pub const HYPERLOGLOG: AclCats = AclCats(1 << 9);
    pub const GEO: AclCats = AclCats(1 << 10);
    pub const STREAM: AclCats = AclCats(1 << 11);
    pub const PUBSUB: AclCats = AclCats(1 << 12);
    pub const ADMIN: AclCats = AclCats(1 << 13);
    pub const FAST: AclCats = AclCats(1 << 14);
    pub const SLOW: AclCats = AclCats(1 << 15);
    pub const BLOCKING: AclCats = AclCats(1 << 16);
    pub const DANGEROUS: AclCats = AclCats(1 << 17);
    pub const CONNECTION: AclCats = AclCats(1 << 18);
    pub const TRANSACTION: AclCats = AclCats(1 << 19);
    pub const SCRIPTING: AclCats = AclCats(1 << 20);

    /// Category names in Redis's order.
    pub const NAMES: &'static [(AclCats, &'static str)] = &[
        (AclCats::KEYSPACE, "keyspace"),
        (AclCats::READ, "read"),
        (AclCats::WRITE, "write"),
        (AclCats::SET, "set"),
        (AclCats::SORTEDSET, "sortedset"),
        (AclCats::LIST, "list"),
        (AclCats::HASH, "hash"),
        (AclCats::STRING, "string"),
        (AclCats::BITMAP, "bitmap"),
        (AclCats::HYPERLOGLOG, "hyperloglog"),
        (AclCats::GEO, "geo"),
        (AclCats::STREAM, "stream"),
        (AclCats::PUBSUB, "pubsub"),
        (AclCats::ADMIN, "admin"),
        (AclCats::FAST, "fast"),
        (AclCats::SLOW, "slow"),
        (AclCats::BLOCKING, "blocking"),
        (AclCats::DANGEROUS, "dangerous"),
        (AclCats::CONNECTION, "connection"),
        (AclCats::TRANSACTION, "transaction"),
        (AclCats::SCRIPTING, "scripting"),
    ];

    #[inline]
    pub const fn has(self, c: AclCats) -> bool {
        self.0 & c.0 != 0
    }
}

impl std::ops::BitOr for AclCats {
    type Output = AclCats;
    fn bitor(self, rhs: AclCats) -> AclCats {
        AclCats(self.0 | rhs.0)
    }
}

/// Where a command's keys are (Redis's legacy first/last/step triple; `last` negative counts
/// from the end: -1 is the last argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyPos {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

/// Documentation fields of `COMMAND DOCS`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Docs {
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: &'static str,
}

/// One command (or subcommand) of the table.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name; subcommands hold only their own part (`get` for `CONFIG GET`).
    pub name: &'static str,
    /// Redis arity: positive = exactly, negative = at least, counting the name.
    pub arity: i32,
    pub flags: Flags,
    pub acl: AclCats,
    pub keys: KeyPos,
    /// For commands whose keys move (e.g. `numkeys` arguments): finds them in argv.
    pub key_finder: Option<KeyFinder>,
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    pub docs: Docs,
}

impl CommandSpec {
    /// A command with no keys. Chain [`keys`](Self::keys), [`doc`](Self::doc) and friends.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: Flags,
        acl: AclCats,
        handler: Handler,
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            acl,
            keys: KeyPos {
                first: 0,
                last: 0,
                step: 0,
            },
            key_finder: None,
            handler: Some(handler),
            subcommands: &[],
            docs: Docs {
                summary: "",
                since: "",
                group: "",
                complexity: "",
            },
        }
    }

    /// A container command (CONFIG, CLIENT, OBJECT …) dispatched by its subcommand.
    pub const fn container(
        name: &'static str,
        arity: i32,
        flags: Flags,
        acl: AclCats,
        subcommands: &'static [CommandSpec],
    ) -> Self {
        let mut c = Self::new(name, arity, flags, acl, no_handler);
        c.handler = None;
        c.subcommands = subcommands;
        c
    }

    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.keys = KeyPos { first, last, step };
        self
    }

    pub const fn movable(mut self, finder: KeyFinder) -> Self {
        self.key_finder = Some(finder);
        self.flags = self.flags.or(Flags::MOVABLE_KEYS);
        self
    }

    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Self {
        self.docs = Docs {
            summary,
            since,
            group,
            complexity,
        };
        self
    }

    /// Whether `argc` (including the name) satisfies the arity.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }

    /// ACL categories including those Redis derives from flags.
    pub fn acl_categories(&self) -> AclCats {
        let mut c = self.acl;
        if self.flags.has(Flags::WRITE) {
            c = c | AclCats::WRITE;
        }
        if self.flags.has(Flags::READONLY) && !self.acl.has(AclCats::SCRIPTING) {
            c = c | AclCats::READ;
        }
        if self.flags.has(Flags::ADMIN) {
            c = c | AclCats::ADMIN | AclCats::DANGEROUS;
        }
        if self.flags.has(Flags::PUBSUB) {
            c = c | AclCats::PUBSUB;
        }
        if self.flags.has(Flags::FAST) {
            c = c | AclCats::FAST;
        }
        if self.flags.has(Flags::BLOCKING) {
            c = c | AclCats::BLOCKING;
        }
        if !c.has(AclCats::FAST) {
            c = c | AclCats::SLOW;
        }
        c
    }

    /// Positions of the keys in `argv` (from the key spec or the key finder).
    pub fn key_positions(&self, argv: &[&[u8]]) -> Vec<usize> {
        if let Some(f) = self.key_finder {
            return f(argv);
        }
        let KeyPos { first, last, step } = self.keys;
        if first <= 0 || step <= 0 {
            return Vec::new();
        }
        let argc = argv.len() as i32;
        let last = if last < 0 { argc + last } else { last };
        let mut out = Vec::new();
        let mut i = first;
        while i <= last && i < argc {
            out.push(i as usize);
            i += step;
        }
        out
    }
}

fn no_handler(_: &mut ExecCtx<'_>, _: &[&[u8]]) -> CmdResult {
    Err(CmdError::Syntax)
}
