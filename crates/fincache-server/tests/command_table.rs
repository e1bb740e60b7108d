//! Checks of the command table itself.
//!
//! (a) Every command (and subcommand) FinCache lists in `COMMAND` that redis-server also has must
//!     describe itself as Redis does: arity, flags, first/last/step key positions and ACL
//!     categories. Deliberate differences go in [`ALLOWED_DIFFERENCES`], each with its reason.
//! (b) Every command in the table is exercised somewhere: by a line of a `tests/cases/*.case`
//!     file, or named in a string literal of an integration test file.

mod support;

// Only the line splitter is used here.
#[allow(dead_code)]
#[path = "differential/casefile.rs"]
mod casefile;

use fincache_resp::Reply;
use fincache_server::cmd::registry;
use fincache_server::cmd::{AclCats, Flags};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use support::{RawConn, TestServer};

/// Deliberate differences from Redis's `COMMAND INFO`: (command, field, reason). Fields are
/// `arity`, `flags`, `keys` (first/last/step) and `acl`. Subcommands are named `container|sub`.
const ALLOWED_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "zrank",
        "arity",
        "Redis 7.2 added ZRANK key member [WITHSCORE] (arity -3); the oracle is 7.0 (arity 3)",
    ),
    (
        "zrevrank",
        "arity",
        "Redis 7.2 added ZREVRANK key member [WITHSCORE] (arity -3); the oracle is 7.0 (arity 3)",
    ),
];

/// What `COMMAND INFO` says about one command, reduced to the compared fields.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Info {
    arity: i64,
    flags: BTreeSet<String>,
    keys: (i64, i64, i64),
    acl: BTreeSet<String>,
}

fn text(r: &Reply) -> Option<String> {
    match r {
        Reply::Simple(s) => Some(s.clone()),
        Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn strings(r: &Reply) -> Result<BTreeSet<String>, String> {
    match r {
        Reply::Array(items) | Reply::Set(items) => items
            .iter()
            .map(|i| text(i).ok_or_else(|| format!("not a string: {i:?}")))
            .collect(),
        other => Err(format!("not an array: {other:?}")),
    }
}

fn int(r: &Reply) -> Result<i64, String> {
    match r {
        Reply::Int(n) => Ok(*n),
        other => Err(format!("not an integer: {other:?}")),
    }
}

/// Reads one `COMMAND` entry and its subcommands into `out`, keyed by lower-case name
/// (`config|get` for subcommands).
fn collect_entry(entry: &Reply, out: &mut BTreeMap<String, Info>) -> Result<(), String> {
    let Reply::Array(f) = entry else {
        return Err(format!("a COMMAND entry is not an array: {entry:?}"));
    };
    if f.len() < 7 {
        return Err(format!("a COMMAND entry has {} fields: {entry:?}", f.len()));
    }
    let name = text(&f[0])
        .ok_or("a COMMAND entry has no name")?
        .to_ascii_lowercase();
    let info = Info {
        arity: int(&f[1]).map_err(|e| format!("{name} arity: {e}"))?,
        flags: strings(&f[2]).map_err(|e| format!("{name} flags: {e}"))?,
        keys: (
            int(&f[3]).map_err(|e| format!("{name} first key: {e}"))?,
            int(&f[4]).map_err(|e| format!("{name} last key: {e}"))?,
            int(&f[5]).map_err(|e| format!("{name} key step: {e}"))?,
        ),
        acl: strings(&f[6]).map_err(|e| format!("{name} ACL categories: {e}"))?,
    };
    out.insert(name, info);
    if let Some(Reply::Array(subs)) = f.get(9) {
        for s in subs {
            collect_entry(s, out)?;
        }
    }
    Ok(())
}

/// The whole `COMMAND` reply of a server, or why it could not be had.
fn command_table(port: u16) -> Result<BTreeMap<String, Info>, String> {
    let mut conn = RawConn::connect(port).map_err(|e| e.to_string())?;
    match conn.call(&["COMMAND"]) {
        Ok(Reply::Array(entries)) => {
            let mut out = BTreeMap::new();
            for e in &entries {
                collect_entry(e, &mut out)?;
            }
            Ok(out)
        }
        other => Err(format!("COMMAND gave {other:?}")),
    }
}

/// The same facts from the in-process table, for when FinCache's `COMMAND` is not there yet.
fn table_in_process() -> BTreeMap<String, Info> {
    let mut out = BTreeMap::new();
    for c in registry::get().all() {
        let spec = c.spec;
        let flags = Flags::NAMES
            .iter()
            .filter(|(f, _)| spec.flags.has(*f))
            .map(|(_, n)| n.to_string())
            .collect();
        let cats = spec.acl_categories();
        let acl = AclCats::NAMES
            .iter()
            .filter(|(a, _)| cats.has(*a))
            .map(|(_, n)| format!("@{n}"))
            .collect();
        let info = Info {
            arity: i64::from(spec.arity),
            flags,
            keys: (
                i64::from(spec.keys.first),
                i64::from(spec.keys.last),
                i64::from(spec.keys.step),
            ),
            acl,
        };
        out.insert(c.full_name(), info);
    }
    out
}

fn redis_or_skip(test: &str) -> Option<TestServer> {
    let r = TestServer::redis();
    if r.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("redis-server is not installed, and CI must run {test}");
        }
        eprintln!("!!! SKIPPED {test}: redis-server is not installed !!!");
    }
    r
}

#[test]
fn table_matches_redis_command_info() {
    let Some(redis) = redis_or_skip("table_matches_redis_command_info") else {
        return;
    };
    let fincache = TestServer::fincache();
    let reference = command_table(redis.port).expect("redis-server's COMMAND");
    let (ours, source) = match command_table(fincache.port) {
        Ok(t) => (t, "FinCache's COMMAND reply"),
        Err(e) => {
            println!("NOTE: FinCache's COMMAND is not usable ({e}); checking the in-process table");
            (table_in_process(), "the in-process table")
        }
    };
    println!(
        "checking {} commands from {source} against redis-server's {}",
        ours.len(),
        reference.len()
    );
    let allowed = |cmd: &str, field: &str| {
        ALLOWED_DIFFERENCES
            .iter()
            .any(|(c, f, _)| *c == cmd && *f == field)
    };
    let mut problems = Vec::new();
    let mut used_allowances = BTreeSet::new();
    let mut fincache_only = Vec::new();
    for (name, mine) in &ours {
        let Some(theirs) = reference.get(name) else {
            fincache_only.push(name.as_str());
            continue;
        };
        let fields: [(&str, String, String); 4] = [
            ("arity", mine.arity.to_string(), theirs.arity.to_string()),
            (
                "flags",
                format!("{:?}", mine.flags),
                format!("{:?}", theirs.flags),
            ),
            (
                "keys",
                format!("{:?}", mine.keys),
                format!("{:?}", theirs.keys),
            ),
            (
                "acl",
                format!("{:?}", mine.acl),
                format!("{:?}", theirs.acl),
            ),
        ];
        for (field, a, b) in fields {
            if a == b {
                continue;
            }
            if allowed(name, field) {
                used_allowances.insert((name.clone(), field));
                continue;
            }
            problems.push(format!(
                "{name} {field}:\n      fincache: {a}\n      redis:    {b}"
            ));
        }
    }
    if !fincache_only.is_empty() {
        println!(
            "FinCache-only commands (not compared): {}",
            fincache_only.join(" ")
        );
    }
    for (c, f, reason) in ALLOWED_DIFFERENCES {
        if !used_allowances.contains(&(c.to_string(), *f)) {
            println!("note: allowed difference no longer needed: {c} {f} ({reason})");
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            println!("  {p}");
        }
        panic!(
            "{} differences from redis-server's COMMAND INFO (fix the table, or add them to \
             ALLOWED_DIFFERENCES with a reason)",
            problems.len()
        );
    }
}

/// The string literals of a Rust source file, in order (escapes are kept as written; command
/// names never have any).
fn string_literals(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '/' if src[i..].starts_with("//") => {
                // A comment runs to the end of the line.
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' => {
                // A char literal ('"' among them) or a lifetime: skip a quoted char if it is one.
                let rest = &src[i + 1..];
                if rest.starts_with('\\') {
                    // '\'' or '\x41': the backslash, the escaped char, then up to the quote.
                    chars.next();
                    chars.next();
                    for (_, c) in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                    }
                } else if rest.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                }
            }
            '"' => {
                let mut lit = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                lit.push('\\');
                                lit.push(e);
                            }
                        }
                        '"' => break,
                        c => lit.push(c),
                    }
                }
                out.push(lit);
            }
            _ => {}
        }
    }
    out
}

/// Every (command, subcommand) pair some test sends; the subcommand is None for plain commands.
fn exercised() -> BTreeSet<(String, Option<String>)> {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut seen = BTreeSet::new();
    let mut note = |words: &[String]| {
        if let Some(first) = words.first() {
            let cmd = first.to_ascii_lowercase();
            let sub = words.get(1).map(|s| s.to_ascii_lowercase());
            seen.insert((cmd.clone(), None));
            if let Some(sub) = sub {
                seen.insert((cmd, Some(sub)));
            }
        }
    };
    // Case files: the command of every line.
    if let Ok(dir) = std::fs::read_dir(tests.join("cases")) {
        for entry in dir.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "case") {
                let text = std::fs::read(&path).unwrap_or_default();
                for line in text.split(|&c| c == b'\n') {
                    if let Ok((_, argv)) = casefile::parse_line(line) {
                        let words: Vec<String> = argv
                            .iter()
                            .take(2)
                            .map(|a| String::from_utf8_lossy(a).into_owned())
                            .collect();
                        note(&words);
                    }
                }
            }
        }
    }
    // Integration test files: string literals naming a command ("GET", "CONFIG GET",
    // "config|get") or a command and its subcommand in consecutive literals ("CONFIG", "GET").
    let mut sources = Vec::new();
    let mut dirs = vec![tests.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n != "support" && n != "cases")
                {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "command_table.rs")
            {
                sources.push(path);
            }
        }
    }
    for path in sources {
        let src = std::fs::read_to_string(&path).unwrap_or_default();
        let lits = string_literals(&src);
        for (i, lit) in lits.iter().enumerate() {
            let words: Vec<String> = lit
                .split(|c: char| c.is_whitespace() || c == '|')
                .filter(|w| !w.is_empty())
                .take(2)
                .map(str::to_string)
                .collect();
            note(&words);
            if let Some(next) = lits.get(i + 1) {
                if !lit.contains(' ') && !next.contains(' ') {
                    note(&[lit.clone(), next.clone()]);
                }
            }
        }
    }
    seen
}

#[test]
fn every_command_in_the_table_is_tested() {
    let seen = exercised();
    let mut untested = Vec::new();
    let mut total = 0;
    for c in registry::get().all() {
        total += 1;
        let key = match c.parent {
            Some(p) => (p.name.to_string(), Some(c.spec.name.to_string())),
            None => (c.spec.name.to_string(), None),
        };
        if !seen.contains(&key) {
            untested.push(c.full_name());
        }
    }
    println!(
        "{} of {total} commands and subcommands are exercised by a case file or a test",
        total - untested.len()
    );
    assert!(
        untested.is_empty(),
        "{} commands in the table have no test (add case lines to tests/cases/*.case): {}",
        untested.len(),
        untested.join(" ")
    );
}

#[test]
fn literal_scanner_finds_commands() {
    let src = r#"let a = c.cmd(&["CONFIG", "GET", "x"]); // "IGNORED" in a comment
        let ch = '"'; let q = '\''; let s = "SET k v"; let t = "a \"quoted\" word";"#;
    assert_eq!(
        string_literals(src),
        vec!["CONFIG", "GET", "x", "SET k v", "a \\\"quoted\\\" word"]
    );
}
