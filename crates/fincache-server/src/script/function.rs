//! Function libraries (`functions.c`, `function_lua.c`): FUNCTION LOAD compiles a library's
//! code in the functions Lua state, runs it with the load-time API so it can call
//! `redis.register_function`, and keeps the registered functions (Lua registry references)
//! by name for FCALL.
//!
//! Storage is plain data ([`Libraries`]: name → code and functions) so persistence can save a
//! library as its code (RDB `RDB_OPCODE_FUNCTION2`, [`super::dump`]) and load it back with
//! [`FunctionEngine::load`].
//!
//! Function names are looked up case-insensitively, library names case-sensitively, as Redis.
//! FUNCTION LIST shows libraries in load order and functions in registration order.
// COMPAT: Redis lists libraries and functions in hash-table order.

use super::engine::{self, Kind, Shared};
use super::eval::split_args;
use super::lua::{self, ffi, push_error_table, Lua, LuaErr, LuaResult, State};
use super::run::{self, Invocation};
use super::{flags, Scripting};
use crate::cmd::{CmdError, ExecCtx};
use fincache_resp::ReplyEncoder;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

/// FUNCTION LOAD may run a library's code this long (Redis's `LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// One registered function.
#[derive(Debug)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: u32,
    func_ref: c_int,
}

/// One library.
#[derive(Debug)]
pub struct Library {
    pub name: String,
    pub engine: &'static str,
    /// The whole code given to FUNCTION LOAD, shebang included.
    pub code: Vec<u8>,
    pub functions: Vec<FunctionInfo>,
}

/// A set of libraries and their function index.
#[derive(Debug, Default)]
pub struct Libraries {
    pub libraries: IndexMap<String, Library>,
    /// Lower-case function name → library name.
    functions: HashMap<String, String>,
}

impl Libraries {
    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    fn find(&self, name: &str) -> Option<&FunctionInfo> {
        let lib = self.functions.get(&name.to_ascii_lowercase())?;
        self.libraries
            .get(lib)?
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    fn link(&mut self, lib: Library) {
        for f in &lib.functions {
            self.functions
                .insert(f.name.to_ascii_lowercase(), lib.name.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libraries.shift_remove(name)?;
        for f in &lib.functions {
            self.functions.remove(&f.name.to_ascii_lowercase());
        }
        Some(lib)
    }
}

/// A FUNCTION LOAD in progress, reached by `redis.register_function`.
pub struct LoadCtx {
    functions: Vec<FunctionInfo>,
    started: Instant,
}

/// How RESTORE treats existing libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    Flush,
    Append,
    Replace,
}

/// The functions Lua state and the loaded libraries.
pub struct FunctionEngine {
    // ORDER: the state is closed before `shared`, which its C functions point to.
    lua: Lua,
    shared: Box<Shared>,
    pub libs: Libraries,
    scratch: ReplyEncoder,
}

// SAFETY: as `EvalEngine`: state and `Shared` move together, used under the engine's mutex.
unsafe impl Send for FunctionEngine {}

impl Default for FunctionEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl FunctionEngine {
    pub fn new() -> FunctionEngine {
        let mut shared = Shared::new(Kind::Functions);
        let ptr: *mut Shared = &mut *shared;
        // SAFETY: `shared` is boxed and dropped after the state.
        let lua = unsafe { engine::build(Kind::Functions, ptr) };
        FunctionEngine {
            lua,
            shared,
            libs: Libraries::default(),
            scratch: ReplyEncoder::new(fincache_resp::Protocol::Resp2),
        }
    }

    /// FUNCTION FLUSH: a new state, no libraries.
    pub fn flush(&mut self) {
        *self = FunctionEngine::new();
    }

    /// FUNCTION LOAD [REPLACE]: loads `code` into the current libraries; returns the library
    /// name.
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<String, String> {
        let mut libs = std::mem::take(&mut self.libs);
        let r = self.load_into(&mut libs, code, replace);
        self.libs = libs;
        r
    }

    /// Loads one library into `libs` (the current ones, or a RESTORE's scratch set).
    fn load_into(
        &mut self,
        libs: &mut Libraries,
        code: &[u8],
        replace: bool,
    ) -> Result<String, String> {
        let (engine_name, name, body_at) = parse_metadata(code)?;
        if !valid_name(name.as_bytes()) {
            return Err(INVALID_NAME.to_string());
        }
        if !engine_name.eq_ignore_ascii_case(b"lua") {
            return Err(format!(
                "Engine '{}' not found",
                String::from_utf8_lossy(&engine_name)
            ));
        }
        if libs.libraries.contains_key(&name) && !replace {
            return Err(format!("Library '{name}' already exists"));
        }
        let functions = self.run_library_code(&code[body_at..])?;
        let release = |engine: &mut FunctionEngine, fns: &[FunctionInfo]| engine.unref_all(fns);
        if functions.is_empty() {
            return Err("No functions registered".to_string());
        }
        for f in &functions {
            if let Some(owner) = libs.functions.get(&f.name.to_ascii_lowercase()) {
                if owner != &name {
                    let e = format!("Function {} already exists", f.name);
                    release(self, &functions);
                    return Err(e);
                }
            }
        }
        if let Some(old) = libs.unlink(&name) {
            self.unref_all(&old.functions);
        }
        libs.link(Library {
            name: name.clone(),
            engine: "LUA",
            code: code.to_vec(),
            functions,
        });
        Ok(name)
    }

    /// Compiles and runs a library's code with the load-time API; returns what it registered.
    fn run_library_code(&mut self, body: &[u8]) -> Result<Vec<FunctionInfo>, String> {
        let l = self.lua.raw();
        // SAFETY: the state is owned; every path below restores the globals' `__index`, the
        // hook and `shared.load`, and leaves the stack as it found it.
        unsafe {
            let top = ffi::lua_gettop(l);
            if ffi::luaL_loadbuffer(
                l,
                body.as_ptr().cast(),
                body.len(),
                c"@user_function".as_ptr(),
            ) != 0
            {
                let msg = lua::to_bytes(l, -1)
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                ffi::lua_settop(l, top);
                return Err(format!("Error compiling function: {msg}"));
            }
            set_globals_index(l, engine::REG_LIBRARY_API);
            let mut load = LoadCtx {
                functions: Vec::new(),
                started: Instant::now(),
            };
            self.shared
                .load
                .set((&mut load as *mut LoadCtx).cast::<c_void>());
            ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKCOUNT, 100_000);
            let status = ffi::lua_pcall(l, 0, 0, 0);
            ffi::lua_sethook(l, None, 0, 0);
            self.shared.load.set(std::ptr::null_mut());
            set_globals_index(l, engine::REG_GLOBALS_API);
            if status != 0 {
                let msg = error_message(l);
                ffi::lua_settop(l, top);
                self.unref_all(&load.functions);
                return Err(format!("Error registering functions: {msg}"));
            }
            ffi::lua_settop(l, top);
            Ok(load.functions)
        }
    }

    fn unref_all(&mut self, functions: &[FunctionInfo]) {
        let l = self.lua.raw();
        for f in functions {
            // SAFETY: the references were taken in this state.
            unsafe { ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, f.func_ref) };
        }
    }

    /// FUNCTION DELETE.
    pub fn delete(&mut self, name: &str) -> bool {
        match self.libs.unlink(name) {
            Some(lib) => {
                self.unref_all(&lib.functions);
                true
            }
            None => false,
        }
    }

    /// FUNCTION RESTORE of libraries' codes (already read from the payload).
    pub fn restore(&mut self, codes: &[Vec<u8>], policy: RestorePolicy) -> Result<(), String> {
        let mut incoming = Libraries::default();
        for code in codes {
            if let Err(e) = self.load_into(&mut incoming, code, false) {
                self.drop_set(incoming);
                return Err(e);
            }
        }
        if policy == RestorePolicy::Flush {
            let old = std::mem::replace(&mut self.libs, incoming);
            self.drop_set(old);
            return Ok(());
        }
        let replace = policy == RestorePolicy::Replace;
        for name in incoming.libraries.keys() {
            if self.libs.libraries.contains_key(name) && !replace {
                let e = format!("Library {name} already exists");
                self.drop_set(incoming);
                return Err(e);
            }
        }
        for (lname, lib) in &incoming.libraries {
            for f in &lib.functions {
                let owner = self.libs.functions.get(&f.name.to_ascii_lowercase());
                let replaced = replace && owner.is_some_and(|o| incoming.libraries.contains_key(o));
                if owner.is_some() && !replaced && owner != Some(lname) {
                    let e = format!("Function {} already exists", f.name);
                    self.drop_set(incoming);
                    return Err(e);
                }
            }
        }
        for (_, lib) in incoming.libraries {
            if let Some(old) = self.libs.unlink(&lib.name) {
                self.unref_all(&old.functions);
            }
            self.libs.link(lib);
        }
        Ok(())
    }

    fn drop_set(&mut self, set: Libraries) {
        for lib in set.libraries.values() {
            self.unref_all(&lib.functions);
        }
    }

    /// Flags of a function (CLIENT PAUSE, FCALL_RO checks).
    pub fn flags_of(&self, name: &[u8]) -> Option<u32> {
        let name = std::str::from_utf8(name).ok()?;
        self.libs.find(name).map(|f| f.flags)
    }

    /// FCALL / FCALL_RO: runs function `name` for `ctx` and writes its reply.
    pub fn call(
        &mut self,
        ctx: &mut ExecCtx<'_>,
        name: &[u8],
        read_only_cmd: bool,
        keys: &[&[u8]],
        args: &[&[u8]],
        argv: &[&[u8]],
    ) -> Result<(), CmdError> {
        let not_found = || CmdError::err("Function not found");
        let name = std::str::from_utf8(name).map_err(|_| not_found())?;
        let f = self.libs.find(name).ok_or_else(not_found)?;
        if f.flags & flags::NO_WRITES == 0 && read_only_cmd {
            return Err(CmdError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
        let read_only = read_only_cmd || f.flags & flags::NO_WRITES != 0;
        let (func_ref, fname) = (f.func_ref, f.name.clone());
        let info = (fname.clone(), argv.iter().map(|a| a.to_vec()).collect());
        let l = self.lua.raw();
        // SAFETY: the state is owned; `execute` leaves the stack as it found it.
        unsafe {
            ffi::lua_getfield_(
                l,
                ffi::LUA_REGISTRYINDEX,
                engine::REG_ERROR_HANDLER.as_ptr(),
            );
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, func_ref);
            run::execute(
                l,
                &self.shared,
                &mut self.scratch,
                ctx,
                Invocation {
                    name: &fname,
                    is_eval: false,
                    read_only,
                    keys,
                    args,
                    stats_info: Some(info),
                },
            );
        }
        Ok(())
    }
}

/// Flags of function `name` (for CLIENT PAUSE); None when unknown or the engine is busy.
pub fn flags_of(scripting: &Scripting, name: &[u8]) -> Option<u32> {
    scripting.functions.try_lock()?.flags_of(name)
}

const INVALID_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) \
                            and must be at least one character long";

/// `[a-zA-Z0-9_]+`.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Parses `#!<engine> name=<lib>` (`functionExtractLibMetaData`): (engine, name, offset of the
/// code after the shebang, its newline included).
fn parse_metadata(code: &[u8]) -> Result<(Vec<u8>, String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine_name = parts[0].get(2..).unwrap_or_default().to_vec();
    let mut name: Option<Vec<u8>> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    // Valid names are ASCII; anything else fails the name check that follows.
    let name = String::from_utf8(name).unwrap_or_default();
    Ok((engine_name, name, end))
}

/// Points the globals' `__index` at a registry table (load-time API or the real globals).
unsafe fn set_globals_index(l: State, which: &std::ffi::CStr) {
    ffi::lua_getfield_(l, ffi::LUA_REGISTRYINDEX, engine::REG_GLOBALS_META.as_ptr());
    ffi::lua_getfield_(l, ffi::LUA_REGISTRYINDEX, which.as_ptr());
    lua::raw_set_field(l, -2, c"__index");
    ffi::lua_pop(l, 1);
}

/// The message of a failed load (`luaExtractErrorInformation`): a string gets `ERR `, an error
/// table gives its `err`.
unsafe fn error_message(l: State) -> String {
    if ffi::lua_type(l, -1) == ffi::LUA_TSTRING || ffi::lua_type(l, -1) == ffi::LUA_TNUMBER {
        let s = lua::to_bytes(l, -1).unwrap_or_default();
        return format!("ERR {}", String::from_utf8_lossy(s));
    }
    if ffi::lua_type(l, -1) == ffi::LUA_TTABLE
        && lua::raw_get_field(l, -1, c"err") == ffi::LUA_TSTRING
    {
        let s = String::from_utf8_lossy(lua::to_bytes(l, -1).unwrap_or_default()).into_owned();
        ffi::lua_pop(l, 1);
        return s;
    }
    "ERR unknown error".into()
}

/// FUNCTION LOAD's timeout hook.
unsafe extern "C-unwind" fn load_hook(l: State, _ar: *mut ffi::lua_Debug) {
    let Some(shared) = engine::shared_of(l) else {
        return;
    };
    let Some(load) = shared.load.get().cast::<LoadCtx>().as_ref() else {
        return;
    };
    if load.started.elapsed() > LOAD_TIMEOUT {
        ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKLINE, 0);
        push_error_table(l, b"FUNCTION LOAD timeout");
        ffi::lua_error(l);
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=…,
/// callback=…, flags={…}, description=…}`.
///
/// # Safety
/// Called from the C function registered in the load-time API.
pub(crate) unsafe fn register_function(l: State) -> LuaResult {
    let fail = |l: State, msg: &str| -> LuaResult {
        push_error_table(l, msg.as_bytes());
        Err(LuaErr::Raised)
    };
    let Some(load) = engine::shared_up(l).and_then(|s| s.load.get().cast::<LoadCtx>().as_mut())
    else {
        return fail(
            l,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    };
    let argc = ffi::lua_gettop(l);
    let parsed = match argc {
        1 => read_named_args(l),
        2 => read_positional_args(l),
        _ => Err("wrong number of arguments to redis.register_function"),
    };
    let info = match parsed {
        Ok(info) => info,
        Err(msg) => return fail(l, msg),
    };
    let err = if !valid_name(info.name.as_bytes()) {
        Some(INVALID_NAME)
    } else if load.functions.iter().any(|f| f.name == info.name) {
        Some("Function already exists in the library")
    } else {
        None
    };
    if let Some(msg) = err {
        ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, info.func_ref);
        return fail(l, msg);
    }
    load.functions.push(info);
    Ok(0)
}

unsafe fn read_positional_args(l: State) -> Result<FunctionInfo, &'static str> {
    let name = match ffi::lua_type(l, 1) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
            ffi::lua_pushvalue(l, 1);
            let s = String::from_utf8_lossy(lua::to_bytes(l, -1).unwrap_or_default()).into_owned();
            ffi::lua_pop(l, 1);
            s
        }
        _ => return Err("first argument to redis.register_function must be a string"),
    };
    if ffi::lua_isfunction(l, 2) == 0 {
        return Err("second argument to redis.register_function must be a function");
    }
    ffi::lua_pushvalue(l, 2);
    let func_ref = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX);
    Ok(FunctionInfo {
        name,
        description: None,
        flags: 0,
        func_ref,
    })
}

unsafe fn read_named_args(l: State) -> Result<FunctionInfo, &'static str> {
    if ffi::lua_type(l, 1) != ffi::LUA_TTABLE {
        return Err(
            "calling redis.register_function with a single argument is only applicable \
                    to Lua table (representing named arguments).",
        );
    }
    let mut name: Option<String> = None;
    let mut description: Option<Vec<u8>> = None;
    let mut func_ref: Option<c_int> = None;
    let mut fn_flags = 0;
    let release = |l: State, r: Option<c_int>| {
        if let Some(r) = r {
            ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, r);
        }
    };
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, 1) != 0 {
        // Stack: table, key, value. Number keys are not converted (that would break `next`).
        let key_type = ffi::lua_type(l, -2);
        let Some(key) = lua::string_at(l, -2) else {
            ffi::lua_pop(l, 2);
            release(l, func_ref);
            return Err(if key_type == ffi::LUA_TNUMBER {
                "unknown argument given to redis.register_function"
            } else {
                "named argument key given to redis.register_function is not a string"
            });
        };
        let err = if key.eq_ignore_ascii_case(b"function_name") {
            match lua::string_at(l, -1) {
                Some(v) => {
                    name = Some(String::from_utf8_lossy(v).into_owned());
                    None
                }
                None => {
                    Some("function_name argument given to redis.register_function must be a string")
                }
            }
        } else if key.eq_ignore_ascii_case(b"description") {
            match lua::string_at(l, -1) {
                Some(v) => {
                    description = Some(v.to_vec());
                    None
                }
                None => {
                    Some("description argument given to redis.register_function must be a string")
                }
            }
        } else if key.eq_ignore_ascii_case(b"callback") {
            if ffi::lua_isfunction(l, -1) == 0 {
                Some("callback argument given to redis.register_function must be a function")
            } else {
                release(l, func_ref);
                ffi::lua_pushvalue(l, -1);
                func_ref = Some(ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX));
                None
            }
        } else if key.eq_ignore_ascii_case(b"flags") {
            if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
                Some("flags argument to redis.register_function must be a table representing function flags")
            } else {
                match read_flags(l) {
                    Some(f) => {
                        fn_flags = f;
                        None
                    }
                    None => Some("unknown flag given"),
                }
            }
        } else {
            Some("unknown argument given to redis.register_function")
        };
        if let Some(e) = err {
            ffi::lua_pop(l, 2);
            release(l, func_ref);
            return Err(e);
        }
        ffi::lua_pop(l, 1);
    }
    let Some(name) = name else {
        release(l, func_ref);
        return Err("redis.register_function must get a function name argument");
    };
    let Some(func_ref) = func_ref else {
        return Err("redis.register_function must get a callback argument");
    };
    Ok(FunctionInfo {
        name,
        description,
        flags: fn_flags,
        func_ref,
    })
}

/// Reads the flags array on top of the stack (names compared case-insensitively).
unsafe fn read_flags(l: State) -> Option<u32> {
    let mut out = 0;
    let mut i = 1;
    loop {
        ffi::lua_rawgeti_(l, -1, i);
        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 1);
            return Some(out);
        }
        let flag = lua::string_at(l, -1).and_then(flags::parse_nocase);
        ffi::lua_pop(l, 1);
        out |= flag?;
        i += 1;
    }
}
