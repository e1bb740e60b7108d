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

/// Key-spec flags (Redis 7 `COMMAND INFO` key specs, `COMMAND GETKEYSANDFLAGS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyFlags(pub u16);

impl KeyFlags {
    pub const NONE: KeyFlags = KeyFlags(0);
    /// Read-only: the command reads the key.
    pub const RO: KeyFlags = KeyFlags(1 << 0);
    /// Read-write: reads and modifies the key.
    pub const RW: KeyFlags = KeyFlags(1 << 1);
    /// Overwrite: replaces the key's value without reading it.
    pub const OW: KeyFlags = KeyFlags(1 << 2);
    /// Remove: deletes the key.
    pub const RM: KeyFlags = KeyFlags(1 << 3);
    pub const ACCESS: KeyFlags = KeyFlags(1 << 4);
    pub const UPDATE: KeyFlags = KeyFlags(1 << 5);
    pub const INSERT: KeyFlags = KeyFlags(1 << 6);
    pub const DELETE: KeyFlags = KeyFlags(1 << 7);
    pub const NOT_KEY: KeyFlags = KeyFlags(1 << 8);
    pub const INCOMPLETE: KeyFlags = KeyFlags(1 << 9);
    pub const VARIABLE_FLAGS: KeyFlags = KeyFlags(1 << 10);

    /// Names in the order Redis prints them.
    pub const NAMES: &'static [(KeyFlags, &'static str)] = &[
        (KeyFlags::RO, "RO"),
        (KeyFlags::RW, "RW"),
        (KeyFlags::OW, "OW"),
        (KeyFlags::RM, "RM"),
        (KeyFlags::ACCESS, "access"),
        (KeyFlags::UPDATE, "update"),
        (KeyFlags::INSERT, "insert"),
        (KeyFlags::DELETE, "delete"),
        (KeyFlags::NOT_KEY, "not_key"),
        (KeyFlags::INCOMPLETE, "incomplete"),
        (KeyFlags::VARIABLE_FLAGS, "variable_flags"),
    ];

    #[inline]
    pub const fn has(self, f: KeyFlags) -> bool {
        self.0 & f.0 != 0
    }

    pub const fn or(self, f: KeyFlags) -> KeyFlags {
        KeyFlags(self.0 | f.0)
    }
}

impl std::ops::BitOr for KeyFlags {
    type Output = KeyFlags;
    fn bitor(self, rhs: KeyFlags) -> KeyFlags {
        KeyFlags(self.0 | rhs.0)
    }
}

/// Where the search for a key spec's keys begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index (1 = first argument after the name).
    Index(i32),
    /// After the first (or, with a negative `startfrom`, last) occurrence of `keyword`,
    /// searching from argument `startfrom`.
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
}

/// How a key spec's keys are found once the search began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative to the begin index; negative counts from the end), every
    /// `keystep` arguments; `limit` > 1 keeps only 1/limit of the remaining arguments.
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// The argument at `keynumidx` (relative) holds the key count; keys start at `firstkey`
    /// (relative), every `keystep`.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
}

/// One Redis 7 key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub flags: KeyFlags,
    pub begin: BeginSearch,
    pub find: FindKeys,
}

impl KeySpec {
    /// Appends to `out` the positions (indexes into `argv`, name at 0) of the keys this spec
    /// finds. Returns false when the arguments contradict the spec (a key count or range
    /// pointing past the end), as Redis's `getKeysUsingKeySpecs` reports `invalid_spec`.
    /// A keyword that does not occur yields no keys and is not an error.
    pub fn positions(&self, argv: &[&[u8]], out: &mut Vec<usize>) -> bool {
        let argc = argv.len() as i64;
        let first = match self.begin {
            BeginSearch::Index(i) => i64::from(i),
            BeginSearch::Keyword { keyword, startfrom } => {
                let startfrom = i64::from(startfrom);
                let (start, end) = if startfrom > 0 {
                    (startfrom, argc - 1)
                } else {
                    (argc + startfrom, 0)
                };
                let mut i = start;
                let mut found = None;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = Some(i + 1);
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                match found {
                    Some(f) => f,
                    None => return true,
                }
            }
        };
        let (first, last, step) = match self.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let lastkey = i64::from(lastkey);
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit <= 1 {
                    argc + lastkey
                } else {
                    first + (argc - first) / i64::from(limit) + lastkey
                };
                (first, last, i64::from(keystep.max(1)))
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let idx = first + i64::from(keynumidx);
                if idx < 1 || idx >= argc {
                    return false;
                }
                let n = match fincache_types::num::parse_i64(argv[idx as usize]) {
                    Some(n) if n >= 0 => n,
                    _ => return false,
                };
                let start = first + i64::from(firstkey);
                (
                    start,
                    start.saturating_add(n) - 1,
                    i64::from(keystep.max(1)),
                )
            }
        };
        if last >= argc || last < first || first >= argc || first < 1 {
            return false;
        }
        let mut i = first;
        while i <= last {
            out.push(i as usize);
            i += step;
        }
        true
    }
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
    /// Redis 7 key specs. Empty: derived from `keys` and the flags ([`CommandSpec::effective_key_specs`]).
    pub key_specs: &'static [KeySpec],
    /// Key-spec flags of the spec derived from `keys` (None: derived from the command flags).
    pub key_flags: Option<KeyFlags>,
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards` …).
    pub tips: &'static [&'static str],
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
            key_specs: &[],
            key_flags: None,
            tips: &[],
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

    /// Sets the key-spec flags of the spec derived from [`keys`](Self::keys)
    /// (e.g. `KeyFlags::RM.or(KeyFlags::DELETE)` for DEL).
    pub const fn key_flags(mut self, flags: KeyFlags) -> Self {
        self.key_flags = Some(flags);
        self
    }

    /// Declares the Redis 7 key specs explicitly (keyword searches, key counts, several specs).
    /// `COMMAND INFO`'s legacy first/last/step still come from [`keys`](Self::keys): set both,
    /// as Redis's tables do (e.g. ZUNIONSTORE: `.keys(1, 1, 1)` plus an index spec for the
    /// destination and a keynum spec for the sources).
    pub const fn key_specs(mut self, specs: &'static [KeySpec]) -> Self {
        self.key_specs = specs;
        self
    }

    /// Command tips, as `COMMAND INFO` lists them.
    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    /// Gives a container a handler of its own for when it is called without a subcommand
    /// (`COMMAND` alone lists every command).
    pub const fn with_handler(mut self, handler: Handler) -> Self {
        self.handler = Some(handler);
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

    /// The key specs `COMMAND INFO` shows: the declared ones, or one derived from the legacy
    /// first/last/step triple (flags from [`key_flags`](Self::key_flags) or from the command
    /// flags: write → `RW access update`, read → `RO access`).
    pub fn effective_key_specs(&self) -> KeySpecs {
        if !self.key_specs.is_empty() {
            return KeySpecs::Declared(self.key_specs);
        }
        let KeyPos { first, last, step } = self.keys;
        if first <= 0 {
            return KeySpecs::None;
        }
        let flags = self.key_flags.unwrap_or(if self.flags.has(Flags::WRITE) {
            KeyFlags(KeyFlags::RW.0 | KeyFlags::ACCESS.0 | KeyFlags::UPDATE.0)
        } else {
            KeyFlags(KeyFlags::RO.0 | KeyFlags::ACCESS.0)
        });
        KeySpecs::Derived(KeySpec {
            flags,
            begin: BeginSearch::Index(first),
            find: FindKeys::Range {
                lastkey: if last < 0 { last } else { last - first },
                keystep: step,
                limit: 0,
            },
        })
    }

    /// Positions of the keys in `argv` (from the key spec or the key finder).
    pub fn key_positions(&self, argv: &[&[u8]]) -> Vec<usize> {
        if let Some(f) = self.key_finder {
            return f(argv);
        }
        if !self.key_specs.is_empty() {
            let mut out = Vec::new();
            for spec in self.key_specs {
                spec.positions(argv, &mut out);
            }
            return out;
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

/// A command's key specs, declared or derived; see [`CommandSpec::effective_key_specs`].
#[derive(Debug, Clone, Copy)]
pub enum KeySpecs {
    None,
    Declared(&'static [KeySpec]),
    Derived(KeySpec),
}

impl KeySpecs {
    pub fn as_slice(&self) -> &[KeySpec] {
        match self {
            KeySpecs::None => &[],
            KeySpecs::Declared(s) => s,
            KeySpecs::Derived(k) => std::slice::from_ref(k),
        }
    }
}

fn no_handler(_: &mut ExecCtx<'_>, _: &[&[u8]]) -> CmdResult {
    Err(CmdError::Syntax)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(spec: &KeySpec, line: &[&str]) -> (bool, Vec<usize>) {
        let argv: Vec<&[u8]> = line.iter().map(|a| a.as_bytes()).collect();
        let mut out = Vec::new();
        let ok = spec.positions(&argv, &mut out);
        (ok, out)
    }

    const RO: KeyFlags = KeyFlags(KeyFlags::RO.0 | KeyFlags::ACCESS.0);

    #[test]
    fn index_range() {
        let mset = KeySpec {
            flags: KeyFlags::OW,
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 2,
                limit: 0,
            },
        };
        assert_eq!(
            find(&mset, &["mset", "a", "1", "b", "2"]),
            (true, vec![1, 3])
        );
        let get = KeySpec {
            flags: RO,
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
        };
        assert_eq!(find(&get, &["get", "k"]), (true, vec![1]));
        assert!(!find(&get, &["get"]).0);
    }

    #[test]
    fn keynum_and_keyword() {
        // ZUNIONSTORE dest numkeys key [key …]: the source keys.
        let sources = KeySpec {
            flags: RO,
            begin: BeginSearch::Index(2),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
        };
        let line = ["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"];
        assert_eq!(find(&sources, &line), (true, vec![3, 4]));
        assert!(!find(&sources, &["zunionstore", "d", "0", "a"]).0);
        assert!(!find(&sources, &["zunionstore", "d", "5", "a"]).0);
        assert!(!find(&sources, &["zunionstore", "d", "x", "a"]).0);
        // XREAD … STREAMS k1 k2 id1 id2: half the remaining arguments.
        let streams = KeySpec {
            flags: RO,
            begin: BeginSearch::Keyword {
                keyword: "STREAMS",
                startfrom: 1,
            },
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 2,
            },
        };
        let line = ["xread", "COUNT", "2", "streams", "k1", "k2", "0", "0"];
        assert_eq!(find(&streams, &line), (true, vec![4, 5]));
        assert_eq!(find(&streams, &["xread", "COUNT", "2"]), (true, vec![]));
    }

    #[test]
    fn derived_specs() {
        fn h(_: &mut ExecCtx<'_>, _: &[&[u8]]) -> CmdResult {
            Ok(())
        }
        let get = CommandSpec::new("get", 2, Flags::READONLY, AclCats::STRING, h).keys(1, 1, 1);
        let specs = get.effective_key_specs();
        assert_eq!(specs.as_slice().len(), 1);
        assert_eq!(specs.as_slice()[0].flags, RO);
        let del = CommandSpec::new("del", -2, Flags::WRITE, AclCats::KEYSPACE, h)
            .keys(1, -1, 1)
            .key_flags(KeyFlags(KeyFlags::RM.0 | KeyFlags::DELETE.0));
        let s = del.effective_key_specs().as_slice()[0];
        assert_eq!(s.flags, KeyFlags(KeyFlags::RM.0 | KeyFlags::DELETE.0));
        assert_eq!(
            s.find,
            FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 0
            }
        );
        let ping = CommandSpec::new("ping", -1, Flags::FAST, AclCats::CONNECTION, h);
        assert!(ping.effective_key_specs().as_slice().is_empty());
    }
}
