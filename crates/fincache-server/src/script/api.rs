//! The `redis` table scripts see (`script_lua.c`, `eval.c`), the sandbox's error functions,
//! `pcall`, and Redis's `math.random`.
//!
//! Every function follows the split described in [`super::lua`]: an `impl` part that leaves an
//! error value on the stack, a generated `extern` wrapper that raises it.

use super::engine::{shared_up, Shared};
use super::lua::{
    self, ffi, lua_cfn, push_bytes, push_cfn, push_error_table, push_error_where, push_str,
    raw_set_field, LuaErr, LuaResult, State,
};
use super::run::Run;
use crate::cmd::family::info::REDIS_VERSION;
use std::ffi::{c_int, c_void};

/// Log levels (`LL_DEBUG` … `LL_WARNING`).
const LOG_LEVELS: &[(&std::ffi::CStr, f64)] = &[
    (c"LOG_DEBUG", 0.0),
    (c"LOG_VERBOSE", 1.0),
    (c"LOG_NOTICE", 2.0),
    (c"LOG_WARNING", 3.0),
];

/// `PROPAGATE_AOF` and `PROPAGATE_REPL`.
const REPL_AOF: i64 = 1;
const REPL_REPLICA: i64 = 2;

/// Registers the run-time `redis` API in the table on top of the stack.
///
/// # Safety
/// `l` valid, a table on top, `shared` outliving the state.
pub unsafe fn register_runtime(l: State, shared: *mut c_void, eval: bool) {
    let fns: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[
        (c"call", redis_call),
        (c"pcall", redis_pcall),
        (c"setresp", redis_setresp),
        (c"sha1hex", redis_sha1hex),
        (c"error_reply", redis_error_reply),
        (c"status_reply", redis_status_reply),
        (c"set_repl", redis_set_repl),
        (c"acl_check_cmd", redis_acl_check_cmd),
    ];
    for (name, f) in fns {
        push_cfn(l, *f, shared);
        raw_set_field(l, -2, name);
    }
    register_log(l, shared);
    register_version(l);
    for (name, v) in [
        (c"REPL_NONE", 0),
        (c"REPL_AOF", REPL_AOF),
        (c"REPL_SLAVE", REPL_REPLICA),
        (c"REPL_REPLICA", REPL_REPLICA),
        (c"REPL_ALL", REPL_AOF | REPL_REPLICA),
    ] {
        ffi::lua_pushnumber(l, v as f64);
        raw_set_field(l, -2, name);
    }
    if eval {
        // Outside a debugging session (FinCache has no SCRIPT DEBUG) these do what Redis's do
        // then: breakpoint() answers false, debug() does nothing.
        ffi::lua_pushcfunction(l, redis_breakpoint);
        raw_set_field(l, -2, c"breakpoint");
        ffi::lua_pushcfunction(l, redis_debug);
        raw_set_field(l, -2, c"debug");
        ffi::lua_pushcfunction(l, redis_replicate_commands);
        raw_set_field(l, -2, c"replicate_commands");
    }
}

/// `redis.log` and the `LOG_*` levels, into the table on top.
///
/// # Safety
/// As [`register_runtime`].
pub unsafe fn register_log(l: State, shared: *mut c_void) {
    push_cfn(l, redis_log, shared);
    raw_set_field(l, -2, c"log");
    for (name, v) in LOG_LEVELS {
        ffi::lua_pushnumber(l, *v);
        raw_set_field(l, -2, name);
    }
}

/// `REDIS_VERSION` and `REDIS_VERSION_NUM`, into the table on top.
///
/// # Safety
/// `l` valid, a table on top.
pub unsafe fn register_version(l: State) {
    let mut num = 0u32;
    for part in REDIS_VERSION.split('.') {
        num = (num << 8) | part.parse::<u32>().unwrap_or(0);
    }
    ffi::lua_pushnumber(l, f64::from(num));
    raw_set_field(l, -2, c"REDIS_VERSION_NUM");
    push_str(l, REDIS_VERSION);
    raw_set_field(l, -2, c"REDIS_VERSION");
}

/// The run in progress, if any.
unsafe fn current_run<'a>(l: State) -> Option<&'a mut Run> {
    let shared: &Shared = shared_up(l)?;
    shared.run.get().cast::<Run>().as_mut()
}

/// Raises Redis's error table `{err = "ERR <msg>"}`.
unsafe fn raise(l: State, msg: &str) -> LuaResult {
    push_error_table(l, msg.as_bytes());
    Err(LuaErr::Raised)
}

// ---- redis.call / redis.pcall

lua_cfn!(redis_call, call_raise);
lua_cfn!(redis_pcall, call_trap);

unsafe fn call_raise(l: State) -> LuaResult {
    call_generic(l, true)
}

unsafe fn call_trap(l: State) -> LuaResult {
    call_generic(l, false)
}

/// `redis.call(cmd, ...)` raises command errors; `redis.pcall` returns them as `{err=…}`.
unsafe fn call_generic(l: State, raise_errors: bool) -> LuaResult {
    let fail = |l: State, msg: &str| -> LuaResult {
        push_error_table(l, msg.as_bytes());
        // Already counted when the command replied (or never a command error).
        ffi::lua_pushboolean(l, 1);
        raw_set_field(l, -2, c"ignore_error_stats_update");
        if raise_errors {
            Err(LuaErr::Raised)
        } else {
            Ok(1)
        }
    };
    let Some(run) = current_run(l) else {
        return raise(
            l,
            "redis.call/pcall can only be called inside a script invocation",
        );
    };
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return fail(
            l,
            "Please specify at least one argument for this redis lib call",
        );
    }
    // Numbers are formatted with %.17g into one reused buffer (all of them first, so the
    // buffer no longer moves); strings are borrowed from the stack, where they stay until this
    // function returns. Up to INLINE arguments need no allocation.
    const INLINE: usize = 8;
    run.numbuf.clear();
    let n = argc as usize;
    let mut spans_inline = [(0usize, 0usize); INLINE];
    let mut spans_heap: Vec<(usize, usize)> = Vec::new();
    for i in 1..=argc {
        let span = match ffi::lua_type(l, i) {
            ffi::LUA_TNUMBER => {
                let start = run.numbuf.len();
                lua::format_g17(ffi::lua_tonumber(l, i), &mut run.numbuf);
                (start, run.numbuf.len())
            }
            ffi::LUA_TSTRING => (usize::MAX, 0),
            _ => {
                return fail(
                    l,
                    "Lua redis lib command arguments must be strings or integers",
                )
            }
        };
        if n <= INLINE {
            spans_inline[i as usize - 1] = span;
        } else {
            spans_heap.push(span);
        }
    }
    let spans: &[(usize, usize)] = if n <= INLINE {
        &spans_inline[..n]
    } else {
        &spans_heap
    };
    let numbuf = std::mem::take(&mut run.numbuf);
    let arg = |i: usize| -> &[u8] {
        match spans[i] {
            (usize::MAX, _) => lua::to_bytes(l, i as c_int + 1).unwrap_or_default(),
            (start, end) => &numbuf[start..end],
        }
    };
    let mut argv_inline: [&[u8]; INLINE] = [&[]; INLINE];
    let argv_heap: Vec<&[u8]>;
    let argv: &[&[u8]] = if n <= INLINE {
        for (i, slot) in argv_inline.iter_mut().enumerate().take(n) {
            *slot = arg(i);
        }
        &argv_inline[..n]
    } else {
        argv_heap = (0..n).map(arg).collect();
        &argv_heap
    };
    let outcome = run.call_command(argv);
    run.numbuf = numbuf;
    match outcome {
        Err(msg) => fail(l, msg),
        Ok(()) => {
            let is_error = super::convert::push_reply(l, &run.out.buf);
            if is_error {
                ffi::lua_pushboolean(l, 1);
                raw_set_field(l, -2, c"ignore_error_stats_update");
            }
            if is_error && raise_errors {
                Err(LuaErr::Raised)
            } else {
                Ok(1)
            }
        }
    }
}

// ---- pcall returning error messages

/// `pcall(f, ...)`: as Lua's, but an error table with an `err` string is returned as that
/// string (Redis 7's `luaRedisPcall`, for compatibility with Redis 6 scripts).
///
/// # Safety
/// Called by Lua only, as a C function of a state built by `engine::build`.
pub unsafe extern "C-unwind" fn lua_pcall_compat(l: State) -> c_int {
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        // What Redis's pcall answers when called without a function.
        ffi::lua_pushboolean(l, 0);
        push_str(l, "attempt to call a boolean value");
        return 2;
    }
    ffi::lua_pushboolean(l, 1);
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
        ffi::lua_remove(l, 1);
        if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            ffi::lua_getfield_(l, -1, c"err".as_ptr());
            if ffi::lua_isstring(l, -1) != 0 {
                ffi::lua_replace(l, -2);
            } else {
                ffi::lua_pop(l, 1);
            }
        }
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, 1);
    }
    ffi::lua_gettop(l)
}

// ---- the sandbox's errors

/// `__index` of the protected globals: Redis's `luaProtectedTableError`.
///
/// # Safety
/// Called by Lua only, as a C function of a state built by `engine::build`.
pub unsafe extern "C-unwind" fn nonexistent_global(l: State) -> c_int {
    let name = match ffi::lua_type(l, 2) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
            String::from_utf8_lossy(lua::to_bytes(l, 2).unwrap_or_default()).into_owned()
        }
        _ => String::new(),
    };
    let msg = format!("Script attempted to access nonexistent global variable '{name}'");
    push_error_where(l, &msg);
    drop(msg);
    drop(name);
    ffi::lua_error(l)
}

/// `__newindex` of every protected table.
///
/// # Safety
/// Called by Lua only, as a C function of a state built by `engine::build`.
pub unsafe extern "C-unwind" fn readonly_error(l: State) -> c_int {
    push_error_where(l, "Attempt to modify a readonly table");
    ffi::lua_error(l)
}

// ---- small redis.* functions

lua_cfn!(redis_sha1hex, sha1hex_impl);
unsafe fn sha1hex_impl(l: State) -> LuaResult {
    if ffi::lua_gettop(l) != 1 {
        return raise(l, "wrong number of arguments");
    }
    let data = lua::to_bytes(l, 1).unwrap_or_default();
    let hex = sha1_hex(data);
    push_bytes(l, &hex);
    Ok(1)
}

/// Lower-case hex SHA1 of `data` (script names, `redis.sha1hex`).
pub fn sha1_hex(data: &[u8]) -> [u8; 40] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha1_smol::Sha1::from(data).digest().bytes();
    let mut out = [0u8; 40];
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    out
}

lua_cfn!(redis_error_reply, error_reply_impl);
unsafe fn error_reply_impl(l: State) -> LuaResult {
    if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return Ok(1);
    }
    let msg = lua::to_bytes(l, -1).unwrap_or_default();
    let mut err = Vec::with_capacity(msg.len() + 1);
    if !msg.starts_with(b"-") {
        err.push(b'-');
    }
    err.extend_from_slice(msg);
    push_error_table(l, &err);
    Ok(1)
}

lua_cfn!(redis_status_reply, status_reply_impl);
unsafe fn status_reply_impl(l: State) -> LuaResult {
    if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return Ok(1);
    }
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_pushvalue(l, -2);
    raw_set_field(l, -2, c"ok");
    Ok(1)
}

lua_cfn!(redis_setresp, setresp_impl);
unsafe fn setresp_impl(l: State) -> LuaResult {
    let Some(run) = current_run(l) else {
        return raise(
            l,
            "redis.setresp can only be called inside a script invocation",
        );
    };
    if ffi::lua_gettop(l) != 1 {
        return raise(l, "redis.setresp() requires one argument.");
    }
    let resp = ffi::lua_tonumber(l, -1) as i32;
    if resp != 2 && resp != 3 {
        return raise(l, "RESP version must be 2 or 3.");
    }
    run.set_resp3(resp == 3);
    Ok(0)
}

lua_cfn!(redis_set_repl, set_repl_impl);
unsafe fn set_repl_impl(l: State) -> LuaResult {
    if current_run(l).is_none() {
        return raise(
            l,
            "redis.set_repl can only be called inside a script invocation",
        );
    }
    if ffi::lua_gettop(l) != 1 {
        return raise(l, "redis.set_repl() requires two arguments.");
    }
    let flags = ffi::lua_tonumber(l, -1) as i32 as i64;
    if flags & !(REPL_AOF | REPL_REPLICA) != 0 {
        return raise(
            l,
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        );
    }
    // Effects are replicated command by command (Redis 7); FinCache has no AOF or replicas
    // yet, so the choice is accepted and has nothing to filter.
    Ok(0)
}

lua_cfn!(redis_acl_check_cmd, acl_check_impl);
unsafe fn acl_check_impl(l: State) -> LuaResult {
    if current_run(l).is_none() {
        return raise(
            l,
            "redis.acl_check_cmd can only be called inside a script invocation",
        );
    }
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return raise(
            l,
            "Please specify at least one argument for this redis lib call",
        );
    }
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(argc as usize);
    for i in 1..=argc {
        match ffi::lua_type(l, i) {
            ffi::LUA_TNUMBER => {
                let mut b = Vec::new();
                lua::format_g17(ffi::lua_tonumber(l, i), &mut b);
                argv.push(b);
            }
            ffi::LUA_TSTRING => argv.push(lua::to_bytes(l, i).unwrap_or_default().to_vec()),
            _ => {
                return raise(
                    l,
                    "Lua redis lib command arguments must be strings or integers",
                )
            }
        }
    }
    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let known = matches!(
        crate::cmd::dispatch::resolve(&refs),
        Ok(_) | Err(crate::cmd::CmdError::WrongArity(_))
    );
    if !known {
        return raise(l, "Invalid command passed to redis.acl_check_cmd()");
    }
    // COMPAT: FinCache has only the default user, who may run every command.
    ffi::lua_pushboolean(l, 1);
    Ok(1)
}

lua_cfn!(redis_log, log_impl);
unsafe fn log_impl(l: State) -> LuaResult {
    let argc = ffi::lua_gettop(l);
    if argc < 2 {
        return raise(l, "redis.log() requires two arguments or more.");
    }
    if ffi::lua_isnumber(l, 1) == 0 {
        return raise(l, "First argument must be a number (log level).");
    }
    let level = ffi::lua_tonumber(l, 1) as i32;
    if !(0..=3).contains(&level) {
        return raise(l, "Invalid debug level.");
    }
    let mut text = Vec::new();
    for j in 2..=argc {
        if let Some(s) = lua::to_bytes(l, j) {
            if j != 2 {
                text.push(b' ');
            }
            text.extend_from_slice(s);
        }
    }
    let text = String::from_utf8_lossy(&text);
    match level {
        0 => tracing::debug!(target: "script", "{text}"),
        1 => tracing::debug!(target: "script", "{text}"),
        2 => tracing::info!(target: "script", "{text}"),
        _ => tracing::warn!(target: "script", "{text}"),
    }
    Ok(0)
}

unsafe extern "C-unwind" fn redis_breakpoint(l: State) -> c_int {
    ffi::lua_pushboolean(l, 0);
    1
}

unsafe extern "C-unwind" fn redis_debug(_l: State) -> c_int {
    0
}

unsafe extern "C-unwind" fn redis_replicate_commands(l: State) -> c_int {
    ffi::lua_pushboolean(l, 1);
    1
}

// ---- math.random on redisLrand48

lua_cfn!(math_random, random_impl);
unsafe fn random_impl(l: State) -> LuaResult {
    let Some(shared) = shared_up(l) else {
        push_error_where(
            l,
            "math.random can only be called inside a script invocation",
        );
        return Err(LuaErr::Raised);
    };
    let Some(scripting) = shared.scripting.get().as_ref() else {
        push_error_where(
            l,
            "math.random can only be called inside a script invocation",
        );
        return Err(LuaErr::Raised);
    };
    let r = scripting.rng.unit();
    match ffi::lua_gettop(l) {
        0 => ffi::lua_pushnumber(l, r),
        1 => {
            let u = check_int(l, 1)?;
            if u < 1 {
                return Err(LuaErr::Arg(1, c"interval is empty"));
            }
            ffi::lua_pushnumber(l, (r * f64::from(u)).floor() + 1.0);
        }
        2 => {
            let lo = check_int(l, 1)?;
            let hi = check_int(l, 2)?;
            if lo > hi {
                return Err(LuaErr::Arg(2, c"interval is empty"));
            }
            let span = f64::from(hi) - f64::from(lo) + 1.0;
            ffi::lua_pushnumber(l, (r * span).floor() + f64::from(lo));
        }
        _ => {
            push_error_where(l, "wrong number of arguments");
            return Err(LuaErr::Raised);
        }
    }
    Ok(1)
}

lua_cfn!(math_randomseed, randomseed_impl);
unsafe fn randomseed_impl(l: State) -> LuaResult {
    let Some(scripting) = shared_up(l).and_then(|s| s.scripting.get().as_ref()) else {
        push_error_where(
            l,
            "math.randomseed can only be called inside a script invocation",
        );
        return Err(LuaErr::Raised);
    };
    let seed = check_int(l, 1)?;
    scripting.rng.seed(seed);
    Ok(0)
}

/// `luaL_checkint`: a number (or numeric string), truncated to a C int.
pub(crate) unsafe fn check_int(l: State, narg: c_int) -> Result<i32, LuaErr> {
    if ffi::lua_isnumber(l, narg) == 0 {
        return Err(LuaErr::Type(narg, c"number"));
    }
    Ok(ffi::lua_tonumber(l, narg) as i64 as i32)
}

// ---- functions: redis.register_function

lua_cfn!(register_function, register_function_impl);
unsafe fn register_function_impl(l: State) -> LuaResult {
    super::function::register_function(l)
}
