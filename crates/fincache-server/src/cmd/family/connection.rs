//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, MONITOR, and CLIENT with its
//! subcommands (ID, INFO, LIST, KILL, SETNAME, GETNAME, SETINFO, PAUSE, UNPAUSE, REPLY,
//! UNBLOCK, NO-EVICT, HELP, and TRACKING, CACHING, GETREDIR, TRACKINGINFO, whose handlers are
//! in [`super::client_tracking`]).
//!
//! Replies and error texts are Redis 7.2's (`networking.c`, `server.c`, `acl.c`). The per-client
//! state these commands change lives in [`crate::client`]; the pause itself is waited out by the
//! connection task (`net::connection`), never inside a handler.

use super::client_tracking as tracking;
use crate::client::{flag, ClientType, PauseMode, SelfView};
use crate::cmd::args::is;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::{CmdError, ExecCtx};
use crate::server::Server;
use fincache_resp::Protocol;
use fincache_types::num;
use std::sync::atomic::Ordering;

/// The Redis version FinCache reports (HELLO `version`, and INFO's `redis_version` should use
/// the same). Client libraries gate features on this number (RESP3, CLIENT SETINFO, newer
/// command options), so it names the Redis release whose behaviour FinCache follows, not
/// FinCache's own version.
pub const REDIS_VERSION: &str = "7.2.4";

/// The error for a wrong user name or password (`addAuthErrReply`).
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// Whether clients must AUTH before running commands (the default user has a password).
pub fn auth_required(server: &Server) -> bool {
    !server.config.read().requirepass.is_empty()
}

/// Checks a user name and password. Only the `default` user exists; without `requirepass` it
/// takes any password (Redis's `nopass`).
fn credentials_ok(server: &Server, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    let config = server.config.read();
    config.requirepass.is_empty() || constant_time_eq(config.requirepass.as_bytes(), pass)
}

/// Compares without an early exit, so response time does not reveal a matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// Redis's `validateClientName`/`validateClientAttr`: printable ASCII without spaces.
fn valid_client_attr(v: &[u8]) -> bool {
    v.iter().all(|c| (b'!'..=b'~').contains(c))
}

fn name_error() -> CmdError {
    CmdError::err("Client names cannot contain spaces, newlines or special characters.")
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Sets (or, with an empty name, clears) the connection name; the name is already validated.
fn set_name(ctx: &ExecCtx<'_>, name: &[u8]) {
    ctx.client.handle.info.lock().name = (!name.is_empty()).then(|| name.to_vec());
}

/// Switches the reply protocol of this connection.
fn set_protocol(ctx: &mut ExecCtx<'_>, proto: Protocol) {
    ctx.out.proto = proto;
    let n = if proto == Protocol::Resp3 { 3 } else { 2 };
    ctx.client.handle.resp.store(n, Ordering::Relaxed);
}

/// Leaves MONITOR mode.
fn stop_monitoring(ctx: &mut ExecCtx<'_>) {
    if ctx.client.monitor {
        ctx.client.monitor = false;
        ctx.client.handle.set_flag(flag::MONITOR, false);
        ctx.server.monitors.remove(ctx.client.id);
    }
}

/// `PING [message]` — `+PONG`, or the message as a bulk string; a RESP2 connection in
/// subscribed mode gets `["pong", message or ""]`.
fn ping(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 2 {
        return Err(CmdError::WrongArity("ping".into()));
    }
    if ctx.client.subs.any() && !ctx.out.is_resp3() {
        ctx.out.array_len(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(argv.get(1).copied().unwrap_or_default());
        return Ok(());
    }
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
    ctx.client.handle.set_flag(flag::CLOSE_AFTER_REPLY, true);
    Ok(())
}

/// `RESET` — `+RESET`, after returning the connection to its initial state: out of MONITOR,
/// tracking off, no subscriptions, RESP2, database 0, no name, CLIENT REPLY ON, NO-EVICT OFF,
/// and authenticated only if no password is required. The library name and version stay (they
/// describe the connection).
fn reset(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    stop_monitoring(ctx);
    crate::tracking::disable(ctx.server, ctx.client);
    crate::pubsub::release_client(&ctx.server.pubsub, ctx.client);
    ctx.client.db = 0;
    set_protocol(ctx, Protocol::Resp2);
    ctx.client.authenticated = !auth_required(ctx.server);
    set_name(ctx, b"");
    ctx.client.reply_off = false;
    ctx.client.reply_skip = false;
    ctx.client.reply_skip_next = false;
    ctx.client.handle.set_flag(flag::NO_EVICT, false);
    ctx.out.simple("RESET");
    Ok(())
}

/// `AUTH [username] password` — `+OK` and the connection is authenticated; `WRONGPASS` on a
/// wrong pair (an already authenticated connection stays so). The one-argument form errors when
/// no password is configured.
fn auth(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (user, pass): (&[u8], &[u8]) = if argv.len() == 2 {
        if !auth_required(ctx.server) {
            return Err(CmdError::err(
                "AUTH <password> called without any password configured for the default user. \
                 Are you sure your configuration is correct?",
            ));
        }
        (b"default", argv[1])
    } else {
        (argv[1], argv[2])
    };
    if !credentials_ok(ctx.server, user, pass) {
        return Err(CmdError::Other(WRONGPASS.into()));
    }
    ctx.client.authenticated = true;
    ctx.out.ok();
    Ok(())
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]` — switches to RESP2 or
/// RESP3, optionally authenticating and naming the connection, and replies (in the new
/// protocol) with a map: server, version, proto, id, mode, role, modules.
fn hello(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut proto = None;
    let mut next = 1;
    if let Some(v) = argv.get(1) {
        let v = num::parse_i64(v)
            .ok_or_else(|| CmdError::err("Protocol version is not an integer or out of range"))?;
        proto = match v {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => {
                return Err(CmdError::Other(
                    "NOPROTO unsupported protocol version".into(),
                ))
            }
        };
        next = 2;
    }
    let mut credentials = None;
    let mut name = None;
    let mut j = next;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if is(argv[j], "AUTH") && more >= 2 {
            credentials = Some((argv[j + 1], argv[j + 2]));
            j += 3;
        } else if is(argv[j], "SETNAME") && more >= 1 {
            if !valid_client_attr(argv[j + 1]) {
                return Err(name_error());
            }
            name = Some(argv[j + 1]);
            j += 2;
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                lossy(argv[j])
            )));
        }
    }
    if let Some((user, pass)) = credentials {
        if !credentials_ok(ctx.server, user, pass) {
            return Err(CmdError::Other(WRONGPASS.into()));
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Other(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time"
                .into(),
        ));
    }
    if let Some(name) = name {
        set_name(ctx, name);
    }
    if let Some(proto) = proto {
        set_protocol(ctx, proto);
    }
    let out = &mut *ctx.out;
    out.map_len(7);
    out.bulk(b"server");
    // COMPAT: reported as "redis", like other Redis-compatible servers, because client libraries
    // may check it; the version is REDIS_VERSION for the same reason.
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if out.is_resp3() { 3 } else { 2 });
    out.bulk(b"id");
    out.int(ctx.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array_len(0);
    Ok(())
}

/// `MONITOR` — `+OK`, then every command other clients (and this one) run is streamed as a
/// status line. A second MONITOR on the same connection is ignored without a reply, as in Redis.
fn monitor(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if ctx.client.monitor {
        return Ok(());
    }
    ctx.client.monitor = true;
    ctx.client.handle.set_flag(flag::MONITOR, true);
    ctx.server.monitors.add(ctx.client.handle.clone());
    ctx.out.ok();
    Ok(())
}

/// `CLIENT ID` — this connection's id.
fn client_id(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.int(ctx.client.id as i64);
    Ok(())
}

/// What a client shows about itself in CLIENT INFO / LIST while this command runs.
fn self_view(ctx: &ExecCtx<'_>, argv: &[&[u8]]) -> SelfView {
    SelfView {
        db: ctx.client.db,
        argv_mem: argv.iter().map(|a| a.len()).sum(),
        pending_reply: ctx.out.len(),
        reply_capacity: ctx.out.buf.capacity(),
    }
}

/// `CLIENT INFO` — this connection's CLIENT LIST line, as verbatim text.
fn client_info(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let me = self_view(ctx, argv);
    let mut s = String::with_capacity(400);
    ctx.client
        .handle
        .write_info_line(&mut s, ctx.now_ms, Some(me));
    s.push('\n');
    ctx.out.verbatim("txt", s.as_bytes());
    Ok(())
}

/// `CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id …]` — one line per connection
/// (Redis 7.2 fields), as verbatim text.
fn client_list(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut want_type = None;
    let mut want_ids = None;
    if argv.len() == 4 && is(argv[2], "TYPE") {
        want_type =
            Some(ClientType::parse(argv[3]).ok_or_else(|| {
                CmdError::err(format!("Unknown client type '{}'", lossy(argv[3])))
            })?);
    } else if argv.len() > 3 && is(argv[2], "ID") {
        let mut ids = Vec::with_capacity(argv.len() - 3);
        for a in &argv[3..] {
            ids.push(num::parse_i64(a).ok_or_else(|| CmdError::err("Invalid client ID"))?);
        }
        want_ids = Some(ids);
    } else if argv.len() != 2 {
        return Err(CmdError::Syntax);
    }
    let me = self_view(ctx, argv);
    let handles = match &want_ids {
        // Listed in the order asked, once per id given, as Redis does.
        Some(ids) => ids
            .iter()
            .filter_map(|&id| {
                u64::try_from(id)
                    .ok()
                    .and_then(|id| ctx.server.clients.get(id))
            })
            .collect(),
        None => ctx.server.clients.snapshot(),
    };
    let mut s = String::with_capacity(handles.len() * 400);
    for h in handles {
        if want_type.is_some_and(|t| h.client_type() != t) {
            continue;
        }
        let view = (h.id == ctx.client.id).then_some(me);
        h.write_info_line(&mut s, ctx.now_ms, view);
        s.push('\n');
    }
    ctx.out.verbatim("txt", s.as_bytes());
    Ok(())
}

/// `CLIENT KILL ip:port` (`+OK`, or `ERR No such client`) or
/// `CLIENT KILL [ID id] [TYPE type] [USER name] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]`
/// (the number of clients killed). Filters combine with AND; SKIPME defaults to yes in the
/// new form, and the old form may kill the caller itself.
fn client_kill(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut want_type = None;
    let mut id = None;
    let mut skipme = true;
    let old_form = argv.len() == 3;
    if old_form {
        addr = Some(argv[2]);
        skipme = false;
    } else {
        let mut i = 2;
        while i < argv.len() {
            let Some(&value) = argv.get(i + 1) else {
                return Err(CmdError::Syntax);
            };
            let opt = argv[i];
            if is(opt, "ID") {
                let n = num::parse_i64(value)
                    .filter(|&n| n > 0)
                    .ok_or_else(|| CmdError::err("client-id should be greater than 0"))?;
                id = Some(n as u64);
            } else if is(opt, "TYPE") {
                want_type = Some(ClientType::parse(value).ok_or_else(|| {
                    CmdError::err(format!("Unknown client type '{}'", lossy(value)))
                })?);
            } else if is(opt, "ADDR") {
                addr = Some(value);
            } else if is(opt, "LADDR") {
                laddr = Some(value);
            } else if is(opt, "USER") {
                // Only the default user exists until ACLs arrive; every client is it.
                if value != b"default" {
                    return Err(CmdError::err(format!("No such user '{}'", lossy(value))));
                }
            } else if is(opt, "SKIPME") {
                skipme = if is(value, "YES") {
                    true
                } else if is(value, "NO") {
                    false
                } else {
                    return Err(CmdError::Syntax);
                };
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
    }
    let mut killed = 0i64;
    for h in ctx.server.clients.snapshot() {
        if addr.is_some_and(|a| a != h.peer_id().as_bytes())
            || laddr.is_some_and(|a| a != h.sock_name().as_bytes())
            || want_type.is_some_and(|t| h.client_type() != t)
            || id.is_some_and(|id| h.id != id)
        {
            continue;
        }
        if h.id == ctx.client.id {
            if skipme {
                continue;
            }
            // ORDER: the caller closes only after its reply is written.
            ctx.client.close_after_reply = true;
            h.set_flag(flag::CLOSE_AFTER_REPLY, true);
        } else if !ctx.server.clients.kill(h.id) {
            // It left on its own meanwhile.
            continue;
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err(CmdError::err("No such client"));
        }
        ctx.out.ok();
    } else {
        ctx.out.int(killed);
    }
    Ok(())
}

/// `CLIENT SETNAME name` — `+OK`; an empty name removes the name.
fn client_setname(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if !valid_client_attr(argv[2]) {
        return Err(name_error());
    }
    set_name(ctx, argv[2]);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT GETNAME` — the name, or null when none is set.
fn client_getname(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let name = ctx.client.handle.info.lock().name.clone();
    match name {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value` — `+OK`; shown by CLIENT LIST as `lib-name`/`lib-ver`.
/// An empty value clears the attribute.
fn client_setinfo(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (attr, value) = (argv[2], argv[3]);
    let lib_name = if is(attr, "LIB-NAME") {
        true
    } else if is(attr, "LIB-VER") {
        false
    } else {
        return Err(CmdError::err(format!(
            "Unrecognized option '{}'",
            lossy(attr)
        )));
    };
    if !valid_client_attr(value) {
        return Err(CmdError::err(format!(
            "{} cannot contain spaces, newlines or special characters.",
            lossy(attr)
        )));
    }
    let value = (!value.is_empty()).then(|| value.to_vec());
    let mut info = ctx.client.handle.info.lock();
    if lib_name {
        info.lib_name = value;
    } else {
        info.lib_ver = value;
    }
    drop(info);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT PAUSE timeout [WRITE | ALL]` — `+OK` at once; then, for `timeout` milliseconds, the
/// commands of every client (ALL, the default) or only writes (WRITE) wait. A pause already in
/// effect keeps the more restrictive mode and the later end.
fn client_pause(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 4 {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            lossy(&argv[1][..argv[1].len().min(128)])
        )));
    }
    let mode = match argv.get(3) {
        None => PauseMode::All,
        Some(m) if is(m, "WRITE") => PauseMode::Write,
        Some(m) if is(m, "ALL") => PauseMode::All,
        Some(_) => return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = num::parse_i64(argv[2])
        .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let end = (ms as u64)
        .checked_add(ctx.now_ms)
        .filter(|&e| e <= i64::MAX as u64)
        .ok_or_else(|| CmdError::err("timeout is out of range"))?;
    ctx.server.client_pause.pause(end, mode, ctx.now_ms);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT UNPAUSE` — `+OK`; paused clients resume.
fn client_unpause(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.server.client_pause.unpause();
    ctx.out.ok();
    Ok(())
}

/// `CLIENT REPLY ON | OFF | SKIP` — ON replies `+OK`; OFF and SKIP reply nothing: OFF drops
/// every later reply until ON, SKIP drops the reply of the next command only.
fn client_reply(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mode = argv[2];
    if is(mode, "ON") {
        ctx.client.reply_off = false;
        ctx.client.reply_skip = false;
        ctx.out.ok();
    } else if is(mode, "OFF") {
        ctx.client.reply_off = true;
    } else if is(mode, "SKIP") {
        if !ctx.client.reply_off {
            ctx.client.reply_skip_next = true;
        }
    } else {
        return Err(CmdError::Syntax);
    }
    Ok(())
}

/// `CLIENT NO-EVICT ON | OFF` — `+OK`; marks the connection as exempt from client eviction
/// (flag `e` in CLIENT LIST).
fn client_no_evict(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let on = if is(argv[2], "ON") {
        true
    } else if is(argv[2], "OFF") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    ctx.client.handle.set_flag(flag::NO_EVICT, on);
    ctx.out.ok();
    Ok(())
}

// COMPAT: Redis's text for the subcommands FinCache has; NO-TOUCH is not listed because it is
// not implemented.
const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

/// `CLIENT UNBLOCK client-id [TIMEOUT | ERROR]` — `:1` if the client was blocked by a
/// blocking command (BLPOP …) and is now answered as on timeout (TIMEOUT, the default) or with
/// `-UNBLOCKED client unblocked via CLIENT UNBLOCK` (ERROR); `:0` otherwise (not blocked, or
/// only held by CLIENT PAUSE).
fn client_unblock(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 4 {
        return Err(CmdError::err(
            "unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.",
        ));
    }
    let error = match argv.get(3) {
        None => false,
        Some(m) if is(m, "TIMEOUT") => false,
        Some(m) if is(m, "ERROR") => true,
        Some(_) => {
            return Err(CmdError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let id = crate::cmd::args::int(argv[2])?;
    let unblocked = u64::try_from(id).is_ok_and(|id| {
        ctx.server
            .blocking
            .unblock(id, error, &ctx.server.stats.blocked_clients)
    });
    ctx.out.int(i64::from(unblocked));
    Ok(())
}

/// `CLIENT HELP` — the subcommands, one status line each.
fn client_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.array_len(CLIENT_HELP.len());
    for line in CLIENT_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

const CONN: AclCats = AclCats::CONNECTION;
/// `noscript loading stale`: most CLIENT subcommands.
const NLS: Flags = Flags::NOSCRIPT.or(Flags::LOADING).or(Flags::STALE);
/// `admin noscript loading stale`.
const ADMIN_NLS: Flags = Flags::ADMIN.or(NLS);
/// `noscript loading stale fast no_auth allow_busy`: what may run before AUTH.
const PRE_AUTH: Flags = NLS.or(Flags::FAST).or(Flags::NO_AUTH).or(Flags::ALLOW_BUSY);
const N_CLIENTS: &str = "O(N) where N is the number of client connections";

const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("kill", -3, ADMIN_NLS, CONN, client_kill).doc(
        "connection",
        "2.4.0",
        "Terminates open connections.",
        N_CLIENTS,
    ),
    CommandSpec::new("id", 2, NLS, CONN, client_id).doc(
        "connection",
        "5.0.0",
        "Returns the unique client ID of the connection.",
        "O(1)",
    ),
    CommandSpec::new("list", -2, ADMIN_NLS, CONN, client_list)
        .tips(&["nondeterministic_output"])
        .doc("connection", "2.4.0", "Lists open connections.", N_CLIENTS),
    CommandSpec::new("setname", 3, NLS, CONN, client_setname).doc(
        "connection",
        "2.6.9",
        "Sets the connection name.",
        "O(1)",
    ),
    CommandSpec::new("getname", 2, NLS, CONN, client_getname).doc(
        "connection",
        "2.6.9",
        "Returns the name of the connection.",
        "O(1)",
    ),
    CommandSpec::new("setinfo", 4, NLS, CONN, client_setinfo).doc(
        "connection",
        "7.2.0",
        "Sets information specific to the client or connection.",
        "O(1)",
    ),
    CommandSpec::new("reply", 3, NLS, CONN, client_reply).doc(
        "connection",
        "3.2.0",
        "Instructs the server whether to reply to commands.",
        "O(1)",
    ),
    CommandSpec::new("info", 2, NLS, CONN, client_info)
        .tips(&["nondeterministic_output"])
        .doc(
            "connection",
            "6.2.0",
            "Returns information about the connection.",
            "O(1)",
        ),
    CommandSpec::new("pause", -3, ADMIN_NLS, CONN, client_pause).doc(
        "connection",
        "3.0.0",
        "Suspends commands processing.",
        "O(1)",
    ),
    CommandSpec::new("unpause", 2, ADMIN_NLS, CONN, client_unpause).doc(
        "connection",
        "6.2.0",
        "Resumes processing commands from paused clients.",
        "O(N) Where N is the number of paused clients",
    ),
    CommandSpec::new("unblock", -3, ADMIN_NLS, CONN, client_unblock).doc(
        "connection",
        "5.0.0",
        "Unblocks a client blocked by a blocking command from a different connection.",
        "O(log N) where N is the number of client connections",
    ),
    CommandSpec::new("no-evict", 3, ADMIN_NLS, CONN, client_no_evict).doc(
        "connection",
        "7.0.0",
        "Sets the client eviction mode of the connection.",
        "O(1)",
    ),
    CommandSpec::new("tracking", -3, NLS, CONN, tracking::client_tracking).doc(
        "connection",
        "6.0.0",
        "Controls server-assisted client-side caching for the connection.",
        "O(1). Some options may introduce additional complexity.",
    ),
    CommandSpec::new("caching", 3, NLS, CONN, tracking::client_caching).doc(
        "connection",
        "6.0.0",
        "Instructs the server whether to track the keys in the next request.",
        "O(1)",
    ),
    CommandSpec::new("getredir", 2, NLS, CONN, tracking::client_getredir).doc(
        "connection",
        "6.0.0",
        "Returns the client ID to which the connection's tracking notifications are redirected.",
        "O(1)",
    ),
    CommandSpec::new("trackinginfo", 2, NLS, CONN, tracking::client_trackinginfo).doc(
        "connection",
        "6.2.0",
        "Returns information about server-assisted client-side caching for the connection.",
        "O(1)",
    ),
    CommandSpec::new(
        "help",
        2,
        Flags::LOADING.or(Flags::STALE),
        CONN,
        client_help,
    )
    .doc(
        "connection",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, Flags::FAST, CONN, ping)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            "connection",
            "1.0.0",
            "Returns the server's liveliness response.",
            "O(1)",
        ),
    CommandSpec::new(
        "echo",
        2,
        Flags::LOADING.or(Flags::STALE).or(Flags::FAST),
        CONN,
        echo,
    )
    .doc("connection", "1.0.0", "Returns the given string.", "O(1)"),
    CommandSpec::new("quit", -1, PRE_AUTH, CONN, quit).doc(
        "connection",
        "1.0.0",
        "Closes the connection.",
        "O(1)",
    ),
    CommandSpec::new("reset", 1, PRE_AUTH, CONN, reset).doc(
        "connection",
        "6.2.0",
        "Resets the connection.",
        "O(1)",
    ),
    CommandSpec::new("auth", -2, PRE_AUTH, CONN, auth).doc(
        "connection",
        "1.0.0",
        "Authenticates the connection.",
        "O(N) where N is the number of passwords defined for the user",
    ),
    CommandSpec::new("hello", -1, PRE_AUTH, CONN, hello).doc(
        "connection",
        "6.0.0",
        "Handshakes with the Redis server.",
        "O(1)",
    ),
    CommandSpec::new("monitor", 1, ADMIN_NLS, AclCats::NONE, monitor).doc(
        "server",
        "1.0.0",
        "Listens for all requests received by the server in real-time.",
        "",
    ),
    CommandSpec::container("client", -2, Flags::NONE, AclCats::NONE, CLIENT_SUBCOMMANDS).doc(
        "connection",
        "2.4.0",
        "A container for client connection commands.",
        "Depends on subcommand.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_compare() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn client_attrs() {
        assert!(valid_client_attr(b"redis-py"));
        assert!(valid_client_attr(b""));
        assert!(!valid_client_attr(b"a b"));
        assert!(!valid_client_attr(b"a\nb"));
        assert!(!valid_client_attr("é".as_bytes()));
    }
}
