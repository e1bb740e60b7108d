//! Running a script or a function: the run context the `redis.*` functions see ([`Run`]), the
//! busy/kill hook, and turning the outcome into the caller's reply (`script.c`,
//! `luaCallFunction`).
//!
//! While a run is in progress:
//! - the caller's client executes the `redis.call`s, with its database switched by any SELECT
//!   of the script and restored after (Redis 7), `deny_blocking` set (blocking commands answer
//!   as on timeout) and `in_script` set (MONITOR shows `lua`);
//! - every command sees the caller's clock (`now_ms`): time is frozen for the whole script, as
//!   Redis's script time snapshot;
//! - every 100000 Lua instructions a hook checks SCRIPT KILL / FUNCTION KILL and server
//!   shutdown (SHUTDOWN NOSAVE while busy).

use super::engine::{self, Shared};
use super::lua::{self, ffi, push_bytes, State};
use super::Scripting;
use crate::cmd::dispatch;
use crate::cmd::spec::Flags;
use crate::cmd::{CmdError, ExecCtx};
use crate::server::Shutdown;
use fincache_resp::{Protocol, ReplyEncoder};
use std::ffi::{c_int, c_void};

/// Instructions between two runs of the busy/kill hook (Redis's value).
const HOOK_EVERY: c_int = 100_000;
/// A GC step every this many runs (Redis's `LUA_GC_CYCLE_PERIOD`).
const GC_PERIOD: u32 = 50;

/// The state of the run in progress, reached by `redis.call` and friends.
pub struct Run {
    ctx: *mut ExecCtx<'static>,
    scripting: *const Scripting,
    /// Replies of the script's commands, in the script's protocol (`redis.setresp`).
    pub out: ReplyEncoder,
    /// Scratch for number arguments of `redis.call`.
    pub numbuf: Vec<u8>,
    /// EVAL_RO / FCALL_RO, or a script flagged `no-writes`.
    read_only: bool,
    /// The hook already woke an idle runtime worker for this run.
    woke_worker: bool,
}

impl Run {
    pub fn set_resp3(&mut self, on: bool) {
        self.out.proto = if on { Protocol::Resp3 } else { Protocol::Resp2 };
    }

    pub fn resp3(&self) -> bool {
        self.out.proto == Protocol::Resp3
    }

    /// Runs one `redis.call` command, its reply left in `self.out`. The error is a pre-run
    /// refusal (Redis's `scriptCall` checks), in Redis's words.
    ///
    /// # Safety
    /// Only during the run (the caller's context is alive).
    pub unsafe fn call_command(&mut self, argv: &[&[u8]]) -> Result<(), &'static str> {
        let cmd = match dispatch::resolve(argv) {
            Ok(cmd) => cmd,
            Err(CmdError::WrongArity(_)) => {
                return Err("Wrong number of args calling Redis command from script")
            }
            Err(_) => return Err("Unknown Redis command called from script"),
        };
        if cmd.spec.flags.has(Flags::NOSCRIPT) {
            return Err("This Redis command is not allowed from script");
        }
        if cmd.spec.flags.has(Flags::WRITE) {
            if self.read_only {
                return Err("Write commands are not allowed from read-only scripts.");
            }
            if let Some(s) = self.scripting.as_ref() {
                s.note_write();
            }
        }
        // SAFETY: `ctx` points to the caller's context for the whole run (see `execute`).
        let outer = &mut *self.ctx;
        self.out.buf.clear();
        let mut inner = ExecCtx {
            server: outer.server,
            client: &mut *outer.client,
            out: &mut self.out,
            now_ms: outer.now_ms,
            lru: outer.lru,
        };
        dispatch::call(&mut inner, cmd, argv);
        Ok(())
    }
}

/// What to run.
pub struct Invocation<'a> {
    /// Shown in errors (`script: <name>`): the SHA1 for EVAL, the function name for FCALL.
    pub name: &'a str,
    pub is_eval: bool,
    pub read_only: bool,
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    /// FUNCTION STATS: the function name and the calling command (functions only).
    pub stats_info: Option<(String, Vec<Vec<u8>>)>,
}

/// Runs the function on top of the stack (the error handler right below it) and writes the
/// outcome to `ctx.out`. Leaves the stack as it was before the two were pushed.
///
/// # Safety
/// `l` is the state `shared` belongs to; the stack holds the error handler and the function.
pub unsafe fn execute(
    l: State,
    shared: &Shared,
    scratch: &mut ReplyEncoder,
    ctx: &mut ExecCtx<'_>,
    inv: Invocation<'_>,
) {
    let base = ffi::lua_gettop(l) - 2;
    let server = ctx.server;
    let scripting: &Scripting = &server.scripting;
    let errh = base + 1;
    let nargs = if inv.is_eval {
        // KEYS and ARGV are globals of the real globals table.
        ffi::lua_getfield_(l, ffi::LUA_REGISTRYINDEX, engine::REG_REAL_GLOBALS.as_ptr());
        push_array(l, inv.keys);
        lua::raw_set_field(l, -2, c"KEYS");
        push_array(l, inv.args);
        lua::raw_set_field(l, -2, c"ARGV");
        ffi::lua_pop(l, 1);
        0
    } else {
        push_array(l, inv.keys);
        push_array(l, inv.args);
        2
    };
    let threshold = server.config.read().busy_reply_threshold;
    let saved_db = ctx.client.db;
    let saved_deny = std::mem::replace(&mut ctx.client.deny_blocking, true);
    ctx.client.in_script = true;
    let mut out = std::mem::take(scratch);
    out.proto = Protocol::Resp2;
    out.buf.clear();
    let mut run = Run {
        ctx: (ctx as *mut ExecCtx<'_>).cast::<ExecCtx<'static>>(),
        scripting,
        out,
        numbuf: Vec::new(),
        read_only: inv.read_only,
        woke_worker: false,
    };
    shared.run.set((&mut run as *mut Run).cast::<c_void>());
    shared.scripting.set(scripting);
    if threshold > 0 {
        ffi::lua_sethook(l, Some(busy_hook), ffi::LUA_MASKCOUNT, HOOK_EVERY);
    }
    scripting.begin_run(inv.is_eval, threshold, inv.stats_info);
    let status = ffi::lua_pcall(l, nargs, 1, errh);
    scripting.end_run();
    ffi::lua_sethook(l, None, 0, 0);
    shared.run.set(std::ptr::null_mut());
    let resp3 = run.resp3();
    *scratch = std::mem::take(&mut run.out);
    drop(run);
    ctx.client.in_script = false;
    ctx.client.deny_blocking = saved_deny;
    ctx.client.db = saved_db;
    if status == 0 {
        super::convert::write_reply(l, ctx, resp3);
    } else {
        write_failure(l, ctx, inv.name);
    }
    let calls = shared.calls.get().wrapping_add(1);
    shared.calls.set(calls % GC_PERIOD);
    if calls == GC_PERIOD {
        ffi::lua_gc(l, ffi::LUA_GCSTEP, GC_PERIOD as c_int);
    }
    ffi::lua_settop(l, base);
}

/// Pushes an array of byte strings.
unsafe fn push_array(l: State, items: &[&[u8]]) {
    ffi::lua_createtable(l, items.len().min(c_int::MAX as usize) as c_int, 0);
    for (i, item) in items.iter().enumerate() {
        push_bytes(l, item);
        ffi::lua_rawseti_(l, -2, (i + 1).min(c_int::MAX as usize) as c_int);
    }
}

/// Writes the error a failed run left on the stack (the error handler's table), as
/// `<err> script: <name>, on <source>:<line>.`; pops it.
unsafe fn write_failure(l: State, ctx: &mut ExecCtx<'_>, name: &str) {
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        let msg = lua::to_bytes(l, -1)
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(100)]).into_owned())
            .unwrap_or_else(|| "execution failure".to_string());
        ffi::lua_pop(l, 1);
        let e = CmdError::err(format!("Error running script {name}, {msg}"));
        dispatch::reply_error(ctx, &e);
        return;
    }
    let field = |l: State, key: &std::ffi::CStr| -> Option<String> {
        let t = lua::raw_get_field(l, -1, key);
        let v = if t == ffi::LUA_TSTRING || t == ffi::LUA_TNUMBER {
            lua::to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned())
        } else {
            None
        };
        ffi::lua_pop(l, 1);
        v
    };
    let msg = field(l, c"err").unwrap_or_else(|| "ERR unknown error".to_string());
    let source = field(l, c"source");
    let line = field(l, c"line");
    let ignore = lua::raw_get_field(l, -1, c"ignore_error_stats_update") == ffi::LUA_TBOOLEAN
        && ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_pop(l, 2);
    let text = match (source, line) {
        (Some(source), Some(line)) => format!("{msg} script: {name}, on {source}:{line}."),
        _ => msg,
    };
    super::convert::write_error(ctx, &text, ignore);
}

/// The count hook: stops the script when killed (SCRIPT KILL / FUNCTION KILL, or the server
/// shutting down). Once killed it fires on every line, so `pcall` cannot swallow the kill.
///
/// The first time it fires in a run (the script is not short) it also wakes an idle runtime
/// worker: a script holds its worker thread, and when that worker was the one polling the
/// sockets, the others may all sleep; the woken worker takes over the I/O, so other clients'
/// commands arrive (and get BUSY past the threshold) while the script runs.
unsafe extern "C-unwind" fn busy_hook(l: State, _ar: *mut ffi::lua_Debug) {
    let Some(shared) = engine::shared_of(l) else {
        return;
    };
    let Some(scripting) = shared.scripting.get().as_ref() else {
        return;
    };
    let run = shared.run.get().cast::<Run>();
    if let Some(r) = run.as_mut() {
        if !r.woke_worker {
            r.woke_worker = true;
            wake_idle_worker();
        }
    }
    let shutting_down = run
        .as_ref()
        .and_then(|r| r.ctx.as_ref())
        .is_some_and(|ctx| *ctx.server.shutdown.borrow() != Shutdown::Running);
    if scripting.kill_requested() || shutting_down {
        ffi::lua_sethook(l, Some(busy_hook), ffi::LUA_MASKLINE, 0);
        lua::push_error_table(l, b"Script killed by user with SCRIPT KILL...");
        ffi::lua_error(l);
    }
}

/// Makes an idle runtime worker run: the second task spawned from a worker pushes the first
/// out of the worker's private slot into its stealable queue, which wakes a sleeping worker.
fn wake_idle_worker() {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async {});
        handle.spawn(async {});
    }
}
