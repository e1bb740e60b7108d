//! String commands. Values live in `store::Value::{Int, Str}`: canonical integers are stored as
//! i64 (OBJECT ENCODING `int`), everything else as compact bytes.

use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::{CmdError, ExecCtx};
use crate::store::Value;

/// Writes a string value as a bulk reply.
#[inline]
pub fn reply_string(ctx: &mut ExecCtx<'_>, v: &Value) -> CmdResult {
    match v {
        Value::Int(n) => ctx.out.bulk_int(*n),
        Value::Str(s) => ctx.out.bulk(s),
    }
    Ok(())
}

/// `GET key` — the value as a bulk string, or null; WRONGTYPE for non-strings.
fn get(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    match shard.get(argv[1], ctx.now_ms, ctx.lru) {
        None => {
            ctx.server.keyspace.miss();
            ctx.out.null();
            Ok(())
        }
        Some(e) if !e.value.is_string() => Err(CmdError::WrongType),
        Some(e) => {
            ctx.server.keyspace.hit();
            reply_string(ctx, &e.value)
        }
    }
}

/// `SET key value` — `+OK`. (Options come with the full string family.)
fn set(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() != 3 {
        return Err(CmdError::Syntax);
    }
    let db = ctx.db();
    db.lock(argv[1])
        .set(argv[1], Value::from_bytes(argv[2]), ctx.lru);
    ctx.out.ok();
    Ok(())
}

const STR: AclCats = AclCats::STRING;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, Flags(Flags::READONLY.0 | Flags::FAST.0), STR, get)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Returns the string value of a key.", "O(1)"),
    CommandSpec::new("set", -3, Flags(Flags::WRITE.0 | Flags::DENYOOM.0), STR, set)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            "O(1)",
        ),
];
