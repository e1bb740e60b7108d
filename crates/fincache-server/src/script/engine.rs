//! Building a sandboxed Lua state as Redis 7 does (`script_lua.c`, `eval.c`,
//! `function_lua.c`).
//!
//! Libraries: base (without `dofile`, `loadfile`, `print`), table, string, math, and Redis's
//! bundled `cjson`, `struct`, `cmsgpack`, `bit`; `debug` only for the error handler, then
//! removed; no `os`, `io`, `package`/`require`.
//!
//! Protection. Redis 7 patches Lua with read-only tables; stock Lua 5.1 has none, so the same
//! effect is built from metatables:
//! - the globals a script sees are an empty proxy `P` (installed as `LUA_GLOBALSINDEX`, so
//!   `getfenv(0)`, `loadstring` and every function defined later use it); reading a name goes
//!   to the real globals `G` (`__index` is the table itself: no C call on the hot path), a
//!   missing one raises `Script attempted to access nonexistent global variable 'x'`; any
//!   assignment raises `Attempt to modify a readonly table`;
//! - each library table (`redis`, `string`, `math`, `table`, `coroutine`, `cjson`, `bit`,
//!   `struct`, `cmsgpack`) is reached through such a proxy too, and the string metatable's
//!   `__index` is the `string` proxy;
//! - `rawset`, `setmetatable`, `rawget`, `getmetatable`, `pairs` and `next` are replaced by
//!   C functions that refuse to modify a protected table and see through proxies (the real
//!   tables are never handed out); `getfenv`, `setfenv` and `newproxy` are removed, as in
//!   Redis 7.0's sandbox.
//!
//! COMPAT: `getmetatable` of a protected table returns nil (Redis returns its read-only
//! metatable for the globals table); `getmetatable("")` returns a read-only proxy of the
//! string metatable (Redis: the read-only metatable itself).

use super::api;
use super::lua::{self, ffi, push_cfn, raw_set_field, State};
use std::cell::Cell;
use std::ffi::{c_int, c_void, CStr};

/// Which Lua state is being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// EVAL scripts: `redis.breakpoint`, `redis.debug`, `redis.replicate_commands` too.
    Eval,
    /// Function libraries: a load-time API (`redis.register_function`, `redis.log`) swapped
    /// in while FUNCTION LOAD runs the library code.
    Functions,
}

/// What the C functions of one state reach through their upvalue.
pub struct Shared {
    pub kind: Kind,
    /// The run in progress ([`super::run::Run`]), null between runs.
    pub run: Cell<*mut c_void>,
    /// The FUNCTION LOAD in progress ([`super::function::LoadCtx`]), null otherwise.
    pub load: Cell<*mut c_void>,
    /// The server's scripting state (RNG, kill flag), set before each run.
    pub scripting: Cell<*const super::Scripting>,
    /// Runs since the last GC step.
    pub calls: Cell<u32>,
}

impl Shared {
    pub fn new(kind: Kind) -> Box<Shared> {
        Box::new(Shared {
            kind,
            run: Cell::new(std::ptr::null_mut()),
            load: Cell::new(std::ptr::null_mut()),
            scripting: Cell::new(std::ptr::null()),
            calls: Cell::new(0),
        })
    }
}

/// Registry keys (fields of the registry table).
pub const REG_SHARED: &CStr = c"__fincache_shared";
pub const REG_ERROR_HANDLER: &CStr = c"__ERROR_HANDLER__";
/// Functions engine: the proxy globals' metatable (its `__index` is swapped on load).
pub const REG_GLOBALS_META: &CStr = c"__GLOBALS_META__";
pub const REG_GLOBALS_API: &CStr = c"__GLOBALS_API__";
pub const REG_LIBRARY_API: &CStr = c"__LIBRARY_API__";
/// The real globals table (EVAL sets KEYS and ARGV in it).
pub const REG_REAL_GLOBALS: &CStr = c"__REAL_GLOBALS__";
/// The read-only proxy of the string metatable (what `getmetatable("")` answers).
pub const REG_STRING_META: &CStr = c"__STRING_META_PROXY__";

/// The error handler every run uses (Redis 7's, returning an error table with the position).
const ERROR_HANDLER: &str = "local dbg = debug
local error_handler = function (err)
  local i = dbg.getinfo(2,'nSl')
  if i and i.what == 'C' then
    i = dbg.getinfo(3,'nSl')
  end
  if type(err) ~= 'table' then
    err = {err='ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
return error_handler";

/// Final touches to the globals once the proxies exist. `...` = P, G.
const FINISH: &str = "local P, G = ...
-- Removed for sandboxing, as in Redis 7.0 after its security fixes.
G.getfenv = nil
G.setfenv = nil
G.newproxy = nil
G._G = P";

/// Names of the library tables that get a read-only proxy.
const LIBRARIES: &[&CStr] = &[
    c"string",
    c"math",
    c"table",
    c"coroutine",
    c"cjson",
    c"bit",
    c"struct",
    c"cmsgpack",
    c"redis",
];

/// Builds a sandboxed state of `kind` whose C functions see `shared`.
///
/// # Safety
/// `shared` must outlive the state.
pub unsafe fn build(kind: Kind, shared: *mut Shared) -> lua::Lua {
    let lua = lua::Lua::new();
    let l = lua.raw();
    open(l, c"", ffi::luaopen_base);
    open(l, c"table", ffi::luaopen_table);
    open(l, c"string", ffi::luaopen_string);
    open(l, c"math", ffi::luaopen_math);
    open(l, c"debug", ffi::luaopen_debug);
    open(l, c"cjson", super::lib_cjson::luaopen_cjson);
    open(l, c"struct", super::lib_struct::luaopen_struct);
    open(l, c"cmsgpack", super::lib_cmsgpack::luaopen_cmsgpack);
    open(l, c"bit", super::lib_bit::luaopen_bit);
    for name in [c"dofile", c"loadfile", c"print"] {
        ffi::lua_pushnil(l);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, name.as_ptr());
    }
    ffi::lua_pushlightuserdata(l, shared.cast());
    ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_SHARED.as_ptr());

    // pcall returning the message of Redis error tables (Redis 7's `luaRedisPcall`).
    ffi::lua_pushcfunction(l, api::lua_pcall_compat);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"pcall".as_ptr());

    // The redis table.
    ffi::lua_createtable(l, 0, 32);
    api::register_runtime(l, shared.cast(), kind == Kind::Eval);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"redis".as_ptr());

    // math.random / math.randomseed on Redis's own generator.
    ffi::lua_getfield_(l, ffi::LUA_GLOBALSINDEX, c"math".as_ptr());
    push_cfn(l, api::math_random, shared.cast());
    raw_set_field(l, -2, c"random");
    push_cfn(l, api::math_randomseed, shared.cast());
    raw_set_field(l, -2, c"randomseed");
    ffi::lua_pop(l, 1);

    // The error handler keeps `debug` in an upvalue; scripts never see `debug`.
    load_and_call(l, ERROR_HANDLER, c"@err_handler_def", 0, 1);
    if kind == Kind::Eval {
        // Redis keeps EVAL's handler as a global too.
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"__redis__err__handler".as_ptr());
    }
    ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_ERROR_HANDLER.as_ptr());
    ffi::lua_pushnil(l);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"debug".as_ptr());

    if kind == Kind::Functions {
        push_library_api(l, shared.cast());
    }
    protect(l, kind);
    lua
}

/// Opens a standard or bundled library (`luaLoadLib`).
unsafe fn open(l: State, name: &CStr, f: ffi::lua_CFunction) {
    ffi::lua_pushcfunction(l, f);
    ffi::lua_pushstring_(l, name.as_ptr());
    ffi::lua_call(l, 1, 0);
}

/// Loads a trusted chunk and calls it with `nargs` arguments already pushed.
unsafe fn load_and_call(l: State, code: &str, name: &CStr, nargs: c_int, nresults: c_int) {
    let status = ffi::luaL_loadbuffer(l, code.as_ptr().cast(), code.len(), name.as_ptr());
    assert_eq!(status, 0, "built-in Lua chunk failed to compile");
    if nargs > 0 {
        ffi::lua_insert(l, -(nargs + 1));
    }
    ffi::lua_call(l, nargs, nresults);
}

/// The load-time API of function libraries: a globals table holding only a `redis` table with
/// `register_function`, `log` and its levels, and the version fields. Stored in the registry.
unsafe fn push_library_api(l: State, shared: *mut c_void) {
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_createtable(l, 0, 8);
    push_cfn(l, api::register_function, shared);
    raw_set_field(l, -2, c"register_function");
    api::register_log(l, shared);
    api::register_version(l);
    set_error_metatable(l);
    raw_set_field(l, -2, c"redis");
    set_error_metatable(l);
    ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_LIBRARY_API.as_ptr());
}

/// Gives the table on top a metatable whose `__index` raises Redis's nonexistent-global
/// error, and whose `__newindex` raises the read-only error.
unsafe fn set_error_metatable(l: State) {
    ffi::lua_createtable(l, 0, 2);
    ffi::lua_pushcfunction(l, api::nonexistent_global);
    raw_set_field(l, -2, c"__index");
    ffi::lua_pushcfunction(l, api::readonly_error);
    raw_set_field(l, -2, c"__newindex");
    ffi::lua_setmetatable(l, -2);
}

/// Pushes a proxy of the table at `idx`: empty, reads go to the table, writes raise.
unsafe fn push_proxy(l: State, idx: c_int) {
    let idx = ffi::lua_absindex(l, idx);
    ffi::lua_createtable(l, 0, 0);
    ffi::lua_createtable(l, 0, 3);
    ffi::lua_pushvalue(l, idx);
    raw_set_field(l, -2, c"__index");
    ffi::lua_pushcfunction(l, api::readonly_error);
    raw_set_field(l, -2, c"__newindex");
    ffi::lua_pushboolean(l, 0);
    raw_set_field(l, -2, c"__metatable");
    ffi::lua_setmetatable(l, -2);
}

/// Installs the protection described in the module header.
unsafe fn protect(l: State, kind: Kind) {
    // Stack: G, real (proxy → table), protected (set).
    ffi::lua_pushvalue(l, ffi::LUA_GLOBALSINDEX);
    let g = ffi::lua_gettop(l);
    ffi::lua_createtable(l, 0, 16);
    let real = ffi::lua_gettop(l);
    ffi::lua_createtable(l, 0, 32);
    let protected = ffi::lua_gettop(l);
    let mark = |t: c_int| {
        ffi::lua_pushvalue(l, t);
        ffi::lua_pushboolean(l, 1);
        ffi::lua_rawset(l, protected);
    };
    mark(g);
    for name in LIBRARIES {
        ffi::lua_getfield_(l, g, name.as_ptr());
        if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
            ffi::lua_pop(l, 1);
            continue;
        }
        let table = ffi::lua_gettop(l);
        mark(table);
        push_proxy(l, table);
        let proxy = ffi::lua_gettop(l);
        mark(proxy);
        ffi::lua_pushvalue(l, proxy);
        ffi::lua_pushvalue(l, table);
        ffi::lua_rawset(l, real);
        // G[name] = proxy
        ffi::lua_pushstring_(l, name.as_ptr());
        ffi::lua_pushvalue(l, proxy);
        ffi::lua_rawset(l, g);
        if *name == c"string" {
            // ("x"):upper() goes through the proxy, so the real string table is never reached;
            // getmetatable("") answers a read-only proxy of the string metatable.
            ffi::lua_pushstring_(l, c"".as_ptr());
            if ffi::lua_getmetatable(l, -1) != 0 {
                let meta = ffi::lua_gettop(l);
                ffi::lua_pushvalue(l, proxy);
                raw_set_field(l, meta, c"__index");
                mark(meta);
                push_proxy(l, meta);
                mark(ffi::lua_gettop(l));
                ffi::lua_pushvalue(l, -1);
                ffi::lua_pushvalue(l, meta);
                ffi::lua_rawset(l, real);
                ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_STRING_META.as_ptr());
                ffi::lua_pop(l, 1);
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 2);
    }
    if kind == Kind::Functions {
        ffi::lua_getfield_(l, ffi::LUA_REGISTRYINDEX, REG_LIBRARY_API.as_ptr());
        let api_globals = ffi::lua_gettop(l);
        mark(api_globals);
        ffi::lua_getfield_(l, api_globals, c"redis".as_ptr());
        mark(ffi::lua_gettop(l));
        ffi::lua_pop(l, 2);
    }
    // The proxy globals P and its metatable.
    ffi::lua_createtable(l, 0, 0);
    let p = ffi::lua_gettop(l);
    mark(p);
    ffi::lua_pushvalue(l, p);
    ffi::lua_pushvalue(l, g);
    ffi::lua_rawset(l, real);
    ffi::lua_createtable(l, 0, 3);
    ffi::lua_pushvalue(l, g);
    raw_set_field(l, -2, c"__index");
    ffi::lua_pushcfunction(l, api::readonly_error);
    raw_set_field(l, -2, c"__newindex");
    ffi::lua_pushboolean(l, 0);
    raw_set_field(l, -2, c"__metatable");
    let meta = ffi::lua_gettop(l);
    mark(meta);
    ffi::lua_pushvalue(l, meta);
    ffi::lua_setmetatable(l, p);
    if kind == Kind::Functions {
        ffi::lua_pushvalue(l, meta);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_GLOBALS_META.as_ptr());
        ffi::lua_pushvalue(l, g);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_GLOBALS_API.as_ptr());
    }
    ffi::lua_pop(l, 1); // meta
                        // Wrap the builtins that could reach around a proxy (C functions, so errors and
                        // positions read as Redis's), then G gets its own error metatable.
    let wrappers: &[(&CStr, ffi::lua_CFunction)] = &[
        (c"rawset", sandbox_rawset),
        (c"rawget", sandbox_rawget),
        (c"setmetatable", sandbox_setmetatable),
        (c"getmetatable", sandbox_getmetatable),
        (c"next", sandbox_next),
    ];
    for (name, f) in wrappers {
        ffi::lua_pushvalue(l, real);
        ffi::lua_pushvalue(l, protected);
        ffi::lua_pushcclosure(l, *f, 2);
        raw_set_field(l, g, name);
    }
    // pairs returns the wrapped next.
    ffi::lua_getfield_(l, g, c"next".as_ptr());
    ffi::lua_pushcclosure(l, sandbox_pairs, 1);
    raw_set_field(l, g, c"pairs");
    ffi::lua_pushvalue(l, p);
    ffi::lua_pushvalue(l, g);
    load_and_call(l, FINISH, c"@sandbox", 2, 0);
    ffi::lua_pushvalue(l, g);
    ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_REAL_GLOBALS.as_ptr());
    ffi::lua_pushvalue(l, g);
    set_error_metatable(l);
    ffi::lua_pop(l, 1);
    // P becomes the globals of everything compiled from now on.
    ffi::lua_pushvalue(l, p);
    ffi::lua_replace(l, ffi::LUA_GLOBALSINDEX);
    ffi::lua_settop(l, g - 1);
}

/// The [`Shared`] of the state (for hooks, which have no upvalues).
///
/// # Safety
/// `l` must be a state built by [`build`].
pub unsafe fn shared_of<'a>(l: State) -> Option<&'a Shared> {
    ffi::lua_getfield_(l, ffi::LUA_REGISTRYINDEX, REG_SHARED.as_ptr());
    let p = ffi::lua_touserdata(l, -1);
    ffi::lua_pop(l, 1);
    p.cast::<Shared>().as_ref()
}

/// The [`Shared`] of a C function registered with [`push_cfn`].
///
/// # Safety
/// Must be called from such a C function.
#[inline]
pub unsafe fn shared_up<'a>(l: State) -> Option<&'a Shared> {
    let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1));
    p.cast::<Shared>().as_ref()
}

// ---- the wrapped builtins (upvalue 1: proxy → real table, upvalue 2: protected set)

/// Whether the value at `idx` is in the protected set.
unsafe fn is_protected(l: State, idx: c_int) -> bool {
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget_(l, ffi::lua_upvalueindex(2));
    let yes = ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_pop(l, 1);
    yes
}

/// Replaces the table at `idx` by the real table behind it when it is a proxy.
unsafe fn unwrap_proxy(l: State, idx: c_int) {
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget_(l, ffi::lua_upvalueindex(1));
    if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
        ffi::lua_replace(l, idx);
    } else {
        ffi::lua_pop(l, 1);
    }
}

/// Raises Redis's read-only error (from C: no position, as Redis's VM error there).
unsafe fn readonly(l: State) -> ! {
    lua::push_str(l, "Attempt to modify a readonly table");
    ffi::lua_error(l)
}

unsafe extern "C-unwind" fn sandbox_rawset(l: State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(l, 2);
    ffi::luaL_checkany(l, 3);
    if is_protected(l, 1) {
        readonly(l);
    }
    ffi::lua_settop(l, 3);
    ffi::lua_rawset(l, 1);
    1
}

unsafe extern "C-unwind" fn sandbox_rawget(l: State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(l, 2);
    ffi::lua_settop(l, 2);
    unwrap_proxy(l, 1);
    ffi::lua_rawget_(l, 1);
    1
}

unsafe extern "C-unwind" fn sandbox_setmetatable(l: State) -> c_int {
    let t = ffi::lua_type(l, 2);
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    if t != ffi::LUA_TNIL && t != ffi::LUA_TTABLE {
        return ffi::luaL_argerror(l, 2, c"nil or table expected".as_ptr());
    }
    if is_protected(l, 1) {
        readonly(l);
    }
    if ffi::luaL_getmetafield_(l, 1, c"__metatable".as_ptr()) != 0 {
        return ffi::luaL_error(l, c"cannot change a protected metatable".as_ptr());
    }
    ffi::lua_settop(l, 2);
    ffi::lua_setmetatable(l, 1);
    1
}

unsafe extern "C-unwind" fn sandbox_getmetatable(l: State) -> c_int {
    ffi::luaL_checkany(l, 1);
    if ffi::lua_type(l, 1) == ffi::LUA_TSTRING {
        ffi::lua_getfield_(l, ffi::LUA_REGISTRYINDEX, REG_STRING_META.as_ptr());
        return 1;
    }
    if is_protected(l, 1) || ffi::lua_getmetatable(l, 1) == 0 {
        ffi::lua_pushnil(l);
        return 1;
    }
    ffi::luaL_getmetafield_(l, 1, c"__metatable".as_ptr());
    1
}

unsafe extern "C-unwind" fn sandbox_next(l: State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::lua_settop(l, 2);
    unwrap_proxy(l, 1);
    if ffi::lua_next(l, 1) != 0 {
        2
    } else {
        ffi::lua_pushnil(l);
        1
    }
}

/// `pairs(t)`: the wrapped `next` (upvalue 1), `t`, nil.
unsafe extern "C-unwind" fn sandbox_pairs(l: State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_pushvalue(l, 1);
    ffi::lua_pushnil(l);
    3
}
