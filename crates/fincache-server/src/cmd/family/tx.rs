//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and the per-client transaction state
//! ([`TxState`]) the dispatcher consults.
//!
//! Mirrors Redis 7's `multi.c`:
//! - inside MULTI every command but EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is queued and
//!   answered `+QUEUED`; a command refused while queueing (unknown, wrong arity, `no-multi`,
//!   BUSY …, see [`crate::cmd::dispatch::reject`]) aborts the transaction: EXEC then answers
//!   `EXECABORT`;
//! - EXEC runs the queued commands in order, each reply (errors included) one element of the
//!   array, with no rollback; it runs with the keyspace gate held for writing (the command is
//!   `EXCLUSIVE`), so no other client sees the transaction half done, on any shard;
//! - a WATCHed key changed by anyone (a write, FLUSHDB/FLUSHALL/SWAPDB, an eviction) or expired
//!   since WATCH makes EXEC answer a null array ([`crate::store::watch`]).
//!
//! Blocking commands inside EXEC answer at once as on timeout (`deny_blocking`), as Redis's
//! `CLIENT_DENY_BLOCKING`. The clock is frozen for the whole transaction (one `now_ms`).

use crate::client::{flag, ClientState};
use crate::cmd::dispatch;
use crate::cmd::registry::CommandRef;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::{CmdError, ExecCtx};
use crate::server::Server;
use crate::stats::Stats;
use fincache_types::CompactBytes;

/// A command queued by MULTI, with its own copy of the arguments.
#[derive(Debug)]
pub struct Queued {
    pub cmd: CommandRef,
    pub argv: Vec<Vec<u8>>,
}

/// An open MULTI block.
#[derive(Debug, Default)]
pub struct Multi {
    pub queue: Vec<Queued>,
    /// A command was refused while queueing (Redis's `CLIENT_DIRTY_EXEC`).
    pub aborted: bool,
    /// The union of the queued commands' flags (CLIENT PAUSE WRITE holds an EXEC with writes).
    pub flags: Flags,
}

/// A key this client WATCHes.
#[derive(Debug)]
pub struct WatchedKey {
    pub db: usize,
    pub key: CompactBytes,
    /// The key's deadline when WATCH saw it live: once passed, the key expired, which counts
    /// as a change.
    pub expires_at: Option<u64>,
}

/// A client's transaction state: its MULTI block and its watched keys.
#[derive(Debug, Default)]
pub struct TxState {
    pub multi: Option<Multi>,
    pub watched: Vec<WatchedKey>,
}

impl TxState {
    #[inline]
    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }

    /// Whether the dispatcher must consult this state (inside MULTI, or watching keys).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.multi.is_some() || !self.watched.is_empty()
    }
}

/// Commands that run at once inside MULTI instead of being queued.
const RUN_IN_MULTI: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// The dispatcher's MULTI step, after authentication (Redis's `processCommand` order: MULTI
/// rules → … → busy script → queue). Returns true when the command was dealt with here
/// (refused or queued); false to run it now.
pub fn intercept(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) -> bool {
    let in_multi = ctx.client.tx.in_multi();
    if in_multi && cmd.spec.flags.has(Flags::NO_MULTI) {
        let e = CmdError::err("Command not allowed inside a transaction");
        dispatch::reject(ctx, Some(cmd), &e);
        return true;
    }
    if let Some(e) = crate::script::busy_error(ctx.server, cmd, argv) {
        dispatch::reject(ctx, Some(cmd), &e);
        return true;
    }
    let name = cmd.parent.map_or(cmd.spec.name, |p| p.name);
    if !in_multi {
        if name == "reset" {
            // RESET leaves MULTI and forgets the watched keys (Redis's
            // `clearClientConnectionState`); its own handler resets the rest.
            discard_transaction(ctx.server, ctx.client);
        }
        return false;
    }
    if RUN_IN_MULTI.contains(&name) {
        if name == "reset" {
            discard_transaction(ctx.server, ctx.client);
        }
        return false;
    }
    if let Some(multi) = ctx.client.tx.multi.as_mut() {
        // No point keeping the commands of a transaction already doomed (Redis does the same).
        if !multi.aborted {
            multi.flags = multi.flags | cmd.spec.flags;
            multi.queue.push(Queued {
                cmd,
                argv: argv.iter().map(|a| a.to_vec()).collect(),
            });
        }
    }
    ctx.out.simple("QUEUED");
    true
}

/// Marks the open transaction aborted (a command was refused while queueing).
pub fn flag_aborted(client: &mut ClientState) {
    if let Some(m) = client.tx.multi.as_mut() {
        m.aborted = true;
    }
}

/// Whether EXEC would run a command that writes (CLIENT PAUSE WRITE holds it then).
pub fn queued_writes(client: &ClientState) -> bool {
    client
        .tx
        .multi
        .as_ref()
        .is_some_and(|m| m.flags.has(Flags::WRITE) || m.flags.has(Flags::MAY_REPLICATE))
}

/// Leaves MULTI (if in it) and unwatches every key (DISCARD, RESET, an aborted EXEC).
pub fn discard_transaction(server: &Server, client: &mut ClientState) {
    client.tx.multi = None;
    client.handle.set_flag(flag::MULTI, false);
    unwatch_all(server, client);
}

/// Unwatches every key of the client and clears its dirty flag.
pub fn unwatch_all(server: &Server, client: &mut ClientState) {
    if !client.tx.watched.is_empty() {
        let watched = std::mem::take(&mut client.tx.watched);
        server
            .keyspace
            .watches
            .unwatch(client.id, watched.iter().map(|w| (w.db, w.key.as_slice())));
    }
    client.handle.set_flag(flag::DIRTY_CAS, false);
}

/// Called when a connection ends: its watches go away.
pub fn release_client(server: &Server, client: &mut ClientState) {
    discard_transaction(server, client);
}

/// Whether a watched key changed or expired since WATCH.
fn watched_key_changed(client: &ClientState, now_ms: u64) -> bool {
    client.handle.flags() & flag::DIRTY_CAS != 0
        || client
            .tx
            .watched
            .iter()
            .any(|w| w.expires_at.is_some_and(|at| at <= now_ms))
}

/// `MULTI` — `+OK`; the following commands are queued until EXEC or DISCARD.
fn multi(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if ctx.client.tx.in_multi() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.tx.multi = Some(Multi::default());
    ctx.client.handle.set_flag(flag::MULTI, true);
    ctx.out.ok();
    Ok(())
}

/// `DISCARD` — `+OK` after dropping the queued commands and unwatching every key.
fn discard(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if !ctx.client.tx.in_multi() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    discard_transaction(ctx.server, ctx.client);
    ctx.out.ok();
    Ok(())
}

/// `EXEC` — an array with the reply of each queued command (errors included, nothing rolled
/// back); a null array (RESP3 null) when a watched key changed or expired; `EXECABORT` when a
/// command was refused while queueing. Runs with the keyspace gate held for writing.
fn exec(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let Some(multi) = ctx.client.tx.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    let changed = watched_key_changed(ctx.client, ctx.now_ms);
    discard_transaction(ctx.server, ctx.client);
    if multi.aborted {
        return Err(CmdError::Other(
            "EXECABORT Transaction discarded because of previous errors.".into(),
        ));
    }
    if changed {
        ctx.out.null_array();
        return Ok(());
    }
    let deny_blocking = std::mem::replace(&mut ctx.client.deny_blocking, true);
    ctx.out.array_len(multi.queue.len());
    for q in &multi.queue {
        let argv: Vec<&[u8]> = q.argv.iter().map(Vec::as_slice).collect();
        dispatch::call(ctx, q.cmd, &argv);
    }
    ctx.client.deny_blocking = deny_blocking;
    // EXEC always counts as a change (Redis propagates MULTI … EXEC as a whole).
    Stats::add(&ctx.server.stats.dirty, 1);
    Ok(())
}

/// `WATCH key [key ...]` — `+OK`; a later EXEC fails if any of the keys changes or expires
/// meanwhile.
fn watch(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if ctx.client.tx.in_multi() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    // No point in watching if the client is already dirty (as Redis).
    if ctx.client.handle.flags() & flag::DIRTY_CAS == 0 {
        let db_index = ctx.client.db;
        for key in &argv[1..] {
            let tx = &ctx.client.tx;
            if tx
                .watched
                .iter()
                .any(|w| w.db == db_index && w.key.as_slice() == *key)
            {
                continue;
            }
            let expires_at = {
                let db = ctx.db();
                let shard = db.lock(key);
                match shard.peek(key, ctx.now_ms) {
                    Some(e) if e.has_expire => shard.expire_at(key),
                    _ => None,
                }
            };
            ctx.server
                .keyspace
                .watches
                .watch(db_index, key, &ctx.client.handle);
            ctx.client.tx.watched.push(WatchedKey {
                db: db_index,
                key: CompactBytes::new(key),
                expires_at,
            });
        }
    }
    ctx.out.ok();
    Ok(())
}

/// `UNWATCH` — `+OK` after forgetting every watched key.
fn unwatch(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    unwatch_all(ctx.server, ctx.client);
    ctx.out.ok();
    Ok(())
}

const TX_FLAGS: Flags = Flags(
    Flags::NOSCRIPT.0 | Flags::LOADING.0 | Flags::STALE.0 | Flags::FAST.0 | Flags::ALLOW_BUSY.0,
);

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("multi", 1, TX_FLAGS, AclCats::TRANSACTION, multi).doc(
        "transactions",
        "1.2.0",
        "Mark the start of a transaction block",
        "O(1)",
    ),
    CommandSpec::new(
        "exec",
        1,
        Flags(
            Flags::NOSCRIPT.0
                | Flags::LOADING.0
                | Flags::STALE.0
                | Flags::SKIP_SLOWLOG.0
                | Flags::EXCLUSIVE.0,
        ),
        AclCats::TRANSACTION,
        exec,
    )
    .doc(
        "transactions",
        "1.2.0",
        "Execute all commands issued after MULTI",
        "Depends on commands in the transaction",
    ),
    CommandSpec::new("discard", 1, TX_FLAGS, AclCats::TRANSACTION, discard).doc(
        "transactions",
        "2.0.0",
        "Discard all commands issued after MULTI",
        "O(N), when N is the number of queued commands",
    ),
    CommandSpec::new("watch", -2, TX_FLAGS, AclCats::TRANSACTION, watch)
        .keys(1, -1, 1)
        .key_flags(KeyFlags::RO)
        .doc(
            "transactions",
            "2.2.0",
            "Watch the given keys to determine execution of the MULTI/EXEC block",
            "O(1) for every key.",
        ),
    CommandSpec::new("unwatch", 1, TX_FLAGS, AclCats::TRANSACTION, unwatch).doc(
        "transactions",
        "2.2.0",
        "Forget about all watched keys",
        "O(1)",
    ),
];
