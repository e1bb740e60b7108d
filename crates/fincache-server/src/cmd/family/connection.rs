//! Connection commands: PING, ECHO, QUIT.

use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::ExecCtx;

/// `PING [message]` — `+PONG`, or the message as a bulk string.
fn ping(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    match argv.get(1) {
        None => ctx.out.simple("PONG"),
        Some(msg) => ctx.out.bulk(msg),
    }
    Ok(())
}

/// `ECHO message` — the message as a bulk string.
fn echo(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    ctx.out.bulk(argv[1]);
    Ok(())
}

/// `QUIT` — `+OK`, then the connection closes once the reply is written.
fn quit(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

const CONN: AclCats = AclCats::CONNECTION;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, Flags::FAST, CONN, ping).doc(
        "connection",
        "1.0.0",
        "Returns the server's liveliness response.",
        "O(1)",
    ),
    CommandSpec::new("echo", 2, Flags::FAST, CONN, echo).doc(
        "connection",
        "1.0.0",
        "Returns the given string.",
        "O(1)",
    ),
    CommandSpec::new(
        "quit",
        -1,
        Flags(Flags::ALLOW_BUSY.0 | Flags::NOSCRIPT.0 | Flags::LOADING.0 | Flags::STALE.0 | Flags::FAST.0 | Flags::NO_AUTH.0),
        CONN,
        quit,
    )
    .doc("connection", "1.0.0", "Closes the connection.", "O(1)"),
];
