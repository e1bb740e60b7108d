//! COMMAND and its subcommands: the command table as clients see it.
//!
//! Everything here is read from the registry ([`crate::cmd::registry`]); nothing is typed twice.
//! Reply shapes are Redis 7's: `COMMAND INFO` entries are 10-element arrays (name, arity, flags,
//! first key, last key, step, ACL categories, tips, key specs, subcommands), `COMMAND DOCS` is
//! a map of name → map. Subcommands are named `container|sub` (`config|get`).

use crate::cmd::family::server::reply_help;
use crate::cmd::registry::{self, CommandRef, Registry};
use crate::cmd::spec::{
    AclCats, BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec,
};
use crate::cmd::{args, CmdError, ExecCtx};
use fincache_resp::ReplyEncoder;

/// Flags Redis keeps out of `COMMAND INFO` (`may_replicate` is internal).
const HIDDEN_FLAGS: Flags = Flags(Flags::MAY_REPLICATE.0 | Flags::EXCLUSIVE.0);

/// `COMMAND` — every command's `COMMAND INFO` entry.
fn command(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let reg = registry::get();
    let cmds: Vec<&CommandRef> = reg.commands().collect();
    ctx.out.array_len(cmds.len());
    for c in cmds {
        reply_info(ctx.out, reg, c);
    }
    Ok(())
}

/// `COMMAND COUNT` — the number of top-level commands.
fn count(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.int(registry::get().commands().count() as i64);
    Ok(())
}

/// `COMMAND INFO [name …]` — one entry per name (null for unknown names); all commands without
/// names. `container|sub` names a subcommand.
fn info(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() == 2 {
        return command(ctx, argv);
    }
    let reg = registry::get();
    ctx.out.array_len(argv.len() - 2);
    for name in &argv[2..] {
        match lookup_by_full_name(reg, name) {
            Some(c) => reply_info(ctx.out, reg, &c),
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

/// `COMMAND DOCS [name …]` — a map of name → docs (summary, since, group, complexity,
/// subcommands); unknown names are left out.
fn docs(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let reg = registry::get();
    let found: Vec<CommandRef> = if argv.len() == 2 {
        reg.commands().copied().collect()
    } else {
        argv[2..]
            .iter()
            .filter_map(|n| lookup_by_full_name(reg, n))
            .collect()
    };
    ctx.out.map_len(found.len());
    for c in &found {
        ctx.out.bulk(c.full_name().as_bytes());
        reply_docs(ctx.out, reg, c);
    }
    Ok(())
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]` — command names,
/// each container followed by its subcommands.
fn list(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    enum Filter<'a> {
        All,
        Module,
        AclCat(Option<AclCats>),
        Pattern(&'a [u8]),
    }
    let filter = match argv.len() {
        2 => Filter::All,
        5 if args::is(argv[2], "FILTERBY") => {
            let (kind, arg) = (argv[3], argv[4]);
            if args::is(kind, "MODULE") {
                Filter::Module
            } else if args::is(kind, "ACLCAT") {
                Filter::AclCat(
                    AclCats::NAMES
                        .iter()
                        .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(arg))
                        .map(|(c, _)| *c),
                )
            } else if args::is(kind, "PATTERN") {
                Filter::Pattern(arg)
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let names: Vec<String> = registry::get()
        .all()
        .iter()
        .filter(|c| match &filter {
            Filter::All => true,
            // No modules can be loaded, so no command belongs to one.
            Filter::Module => false,
            Filter::AclCat(cat) => cat.is_some_and(|cat| c.spec.acl_categories().has(cat)),
            Filter::Pattern(p) => fincache_types::glob_match(p, c.full_name().as_bytes(), true),
        })
        .map(|c| c.full_name())
        .collect();
    ctx.out.array_len(names.len());
    for n in &names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// `COMMAND GETKEYS command [arg …]` — the key arguments of a full command line.
fn getkeys(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (cmd, keys) = keys_of(&argv[2..])?;
    ctx.out.array_len(keys.len());
    for (pos, _) in &keys {
        ctx.out.bulk(argv[2 + pos]);
    }
    let _ = cmd;
    Ok(())
}

/// `COMMAND GETKEYSANDFLAGS command [arg …]` — `[key, [flags…]]` for each key argument.
fn getkeysandflags(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (_, keys) = keys_of(&argv[2..])?;
    ctx.out.array_len(keys.len());
    for (pos, flags) in &keys {
        ctx.out.array_len(2);
        ctx.out.bulk(argv[2 + pos]);
        reply_key_flags(ctx.out, *flags);
    }
    Ok(())
}

/// The key positions (relative to `line`) of a full command line, with their key-spec flags,
/// or Redis's GETKEYS errors.
fn keys_of(line: &[&[u8]]) -> Result<(CommandRef, Vec<(usize, KeyFlags)>), CmdError> {
    let reg = registry::get();
    let cmd = lookup_line(reg, line).ok_or_else(|| CmdError::err("Invalid command specified"))?;
    let specs = cmd.spec.effective_key_specs();
    let specs = specs.as_slice();
    if cmd.spec.key_finder.is_none() && specs.is_empty() {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !cmd.spec.arity_ok(line.len()) {
        return Err(CmdError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    // Each spec's keys with its flags; the key finder (when there is one) has the last word
    // on which arguments are keys.
    let mut by_spec: Vec<(usize, KeyFlags)> = Vec::new();
    let mut valid = true;
    for spec in specs {
        let mut pos = Vec::new();
        valid &= spec.positions(line, &mut pos);
        by_spec.extend(pos.into_iter().map(|p| (p, spec.flags)));
    }
    let keys: Vec<(usize, KeyFlags)> = match cmd.spec.key_finder {
        Some(find) => find(line)
            .into_iter()
            .filter(|&p| p < line.len())
            .map(|p| {
                let flags = by_spec
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map(|(_, f)| *f)
                    .or_else(|| specs.first().map(|s| s.flags))
                    .unwrap_or_default();
                (p, flags)
            })
            .collect(),
        None if valid => by_spec,
        None => Vec::new(),
    };
    if keys.is_empty() && !cmd.spec.flags.has(Flags::NO_MANDATORY_KEYS) {
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    Ok((cmd, keys))
}

/// `COMMAND HELP`
fn help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    reply_help(
        ctx.out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

/// A command or subcommand by `name` or `container|sub` (Redis's `lookupCommandBySds`).
fn lookup_by_full_name(reg: &Registry, name: &[u8]) -> Option<CommandRef> {
    let mut parts = name.split(|&c| c == b'|');
    let base = reg.lookup(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) if !base.spec.subcommands.is_empty() => reg.lookup_sub(&base, sub),
        _ => None,
    }
}

/// The command a full command line runs (Redis's `lookupCommand` on argv): a container
/// followed by a subcommand name resolves to the subcommand.
fn lookup_line(reg: &Registry, line: &[&[u8]]) -> Option<CommandRef> {
    let base = reg.lookup(line.first()?)?;
    if base.spec.subcommands.is_empty() || line.len() < 2 {
        return Some(base);
    }
    reg.lookup_sub(&base, line[1])
}

/// One `COMMAND INFO` entry.
fn reply_info(out: &mut ReplyEncoder, reg: &Registry, c: &CommandRef) {
    let spec = c.spec;
    out.array_len(10);
    out.bulk(c.full_name().as_bytes());
    out.int(i64::from(spec.arity));
    let flags: Vec<&str> = Flags::NAMES
        .iter()
        .filter(|(f, _)| spec.flags.has(*f) && !HIDDEN_FLAGS.has(*f))
        .map(|(_, n)| *n)
        .collect();
    out.set_len(flags.len());
    for f in flags {
        out.simple(f);
    }
    out.int(i64::from(spec.keys.first));
    out.int(i64::from(spec.keys.last));
    out.int(i64::from(spec.keys.step));
    let cats = spec.acl_categories();
    let names: Vec<&str> = AclCats::NAMES
        .iter()
        .filter(|(c, _)| cats.has(*c))
        .map(|(_, n)| *n)
        .collect();
    out.set_len(names.len());
    for n in names {
        out.simple(&format!("@{n}"));
    }
    out.set_len(spec.tips.len());
    for t in spec.tips {
        out.bulk(t.as_bytes());
    }
    let specs = spec.effective_key_specs();
    out.set_len(specs.as_slice().len());
    for k in specs.as_slice() {
        reply_key_spec(out, k);
    }
    if spec.subcommands.is_empty() {
        out.set_len(0);
    } else {
        let subs = reg.subcommands_of(c);
        out.array_len(subs.len());
        for s in &subs {
            reply_info(out, reg, s);
        }
    }
}

fn reply_key_flags(out: &mut ReplyEncoder, flags: KeyFlags) {
    let names: Vec<&str> = KeyFlags::NAMES
        .iter()
        .filter(|(f, _)| flags.has(*f))
        .map(|(_, n)| *n)
        .collect();
    out.set_len(names.len());
    for n in names {
        out.simple(n);
    }
}

/// `{flags, begin_search: {type, spec}, find_keys: {type, spec}}`.
fn reply_key_spec(out: &mut ReplyEncoder, k: &KeySpec) {
    out.map_len(3);
    out.bulk(b"flags");
    reply_key_flags(out, k.flags);
    out.bulk(b"begin_search");
    out.map_len(2);
    out.bulk(b"type");
    match k.begin {
        BeginSearch::Index(pos) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map_len(1);
            out.bulk(b"index");
            out.int(i64::from(pos));
        }
        BeginSearch::Keyword { keyword, startfrom } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map_len(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(i64::from(startfrom));
        }
    }
    out.bulk(b"find_keys");
    out.map_len(2);
    out.bulk(b"type");
    match k.find {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map_len(3);
            for (name, v) in [("lastkey", lastkey), ("keystep", keystep), ("limit", limit)] {
                out.bulk(name.as_bytes());
                out.int(i64::from(v));
            }
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            out.map_len(3);
            for (name, v) in [
                ("keynumidx", keynumidx),
                ("firstkey", firstkey),
                ("keystep", keystep),
            ] {
                out.bulk(name.as_bytes());
                out.int(i64::from(v));
            }
        }
    }
}

/// One `COMMAND DOCS` value: summary, since, group, complexity (if any), subcommands (if any).
fn reply_docs(out: &mut ReplyEncoder, reg: &Registry, c: &CommandRef) {
    let d = &c.spec.docs;
    let has_complexity = !d.complexity.is_empty();
    let has_subs = !c.spec.subcommands.is_empty();
    out.map_len(3 + usize::from(has_complexity) + usize::from(has_subs));
    for (k, v) in [
        ("summary", d.summary),
        ("since", d.since),
        ("group", d.group),
    ] {
        out.bulk(k.as_bytes());
        out.bulk(v.as_bytes());
    }
    if has_complexity {
        out.bulk(b"complexity");
        out.bulk(d.complexity.as_bytes());
    }
    if has_subs {
        out.bulk(b"subcommands");
        let subs = reg.subcommands_of(c);
        out.map_len(subs.len());
        for s in &subs {
            out.bulk(s.full_name().as_bytes());
            reply_docs(out, reg, s);
        }
    }
}

const STALE: Flags = Flags(Flags::LOADING.0 | Flags::STALE.0);
const CONN: AclCats = AclCats::CONNECTION;
const ORDER_TIP: &[&str] = &["nondeterministic_output_order"];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, STALE, CONN, count).doc(
        "server",
        "2.8.13",
        "Returns a count of commands.",
        "O(1)",
    ),
    CommandSpec::new("info", -2, STALE, CONN, info)
        .tips(ORDER_TIP)
        .doc(
            "server",
            "2.8.13",
            "Returns information about one, multiple or all commands.",
            "O(N) where N is the number of commands to look up",
        ),
    CommandSpec::new("docs", -2, STALE, CONN, docs)
        .tips(ORDER_TIP)
        .doc(
            "server",
            "7.0.0",
            "Returns documentary information about one, multiple or all commands.",
            "O(N) where N is the number of commands to look up",
        ),
    CommandSpec::new("list", -2, STALE, CONN, list)
        .tips(ORDER_TIP)
        .doc(
            "server",
            "7.0.0",
            "Returns a list of command names.",
            "O(N) where N is the total number of Redis commands",
        ),
    CommandSpec::new("getkeys", -4, STALE, CONN, getkeys).doc(
        "server",
        "2.8.13",
        "Extracts the key names from an arbitrary command.",
        "O(N) where N is the number of arguments to the command",
    ),
    CommandSpec::new("getkeysandflags", -4, STALE, CONN, getkeysandflags).doc(
        "server",
        "7.0.0",
        "Extracts the key names and access flags for an arbitrary command.",
        "O(N) where N is the number of arguments to the command",
    ),
    CommandSpec::new("help", 2, STALE, CONN, help).doc(
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
];

pub const COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::container("command", -1, STALE, CONN, SUBCOMMANDS)
            .with_handler(command)
            .tips(ORDER_TIP)
            .doc(
                "server",
                "2.8.13",
                "Returns detailed information about all commands.",
                "O(N) where N is the total number of Redis commands",
            ),
    ];
