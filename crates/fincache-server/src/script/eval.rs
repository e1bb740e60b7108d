//! EVAL scripts: the script cache (SHA1 → compiled function, kept in the Lua registry) and
//! running a script (`eval.c`).
//!
//! A script is compiled once per body (`@user_script` as its chunk name, the shebang line cut
//! but its newline kept so line numbers match) and cached by SHA1 until SCRIPT FLUSH, which
//! replaces the whole Lua state. EVALSHA of a cached script costs one map lookup.

use super::engine::{self, Kind, Shared};
use super::lua::{self, ffi, Lua};
use super::run::{self, Invocation};
use super::{flags, Scripting};
use crate::cmd::{CmdError, ExecCtx};
use fincache_resp::ReplyEncoder;
use std::collections::HashMap;
use std::ffi::c_int;

/// A cached script.
pub struct Script {
    /// Its source, for replication and AOF later (EVALSHA is propagated as EVAL).
    pub body: Vec<u8>,
    /// [`flags`] from its shebang, or `EVAL_COMPAT` without one.
    pub flags: u32,
    /// Registry reference of the compiled function.
    func_ref: c_int,
}

/// The EVAL Lua state and its script cache.
pub struct EvalEngine {
    // ORDER: the state is closed before `shared`, which its C functions point to.
    lua: Lua,
    shared: Box<Shared>,
    scripts: HashMap<[u8; 40], Script, foldhash::fast::RandomState>,
    /// Reply buffer of `redis.call`, kept between runs.
    scratch: ReplyEncoder,
}

// SAFETY: the Lua state and the `Shared` it points to move together and are only used by the
// thread holding the engine's mutex.
unsafe impl Send for EvalEngine {}

impl Default for EvalEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl EvalEngine {
    pub fn new() -> EvalEngine {
        let mut shared = Shared::new(Kind::Eval);
        let ptr: *mut Shared = &mut *shared;
        // SAFETY: `shared` is boxed (stable address) and dropped after the state.
        let lua = unsafe { engine::build(Kind::Eval, ptr) };
        EvalEngine {
            lua,
            shared,
            scripts: HashMap::default(),
            scratch: ReplyEncoder::new(fincache_resp::Protocol::Resp2),
        }
    }

    /// Number of cached scripts (INFO `number_of_cached_scripts`).
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    pub fn exists(&self, sha: &[u8]) -> bool {
        sha_key(sha).is_some_and(|k| self.scripts.contains_key(&k))
    }

    pub fn flags_of(&self, sha: &[u8]) -> Option<u32> {
        self.scripts.get(&sha_key(sha)?).map(|s| s.flags)
    }

    /// Compiles and caches `body` (SCRIPT LOAD, EVAL of a new script); returns its SHA1.
    pub fn create(&mut self, body: &[u8]) -> Result<[u8; 40], CmdError> {
        let sha = super::api::sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (script_flags, shebang_len) = parse_shebang(body)?;
        let l = self.lua.raw();
        let code = &body[shebang_len..];
        // SAFETY: the state is owned; loading pushes one value (function or message).
        unsafe {
            let status = ffi::luaL_loadbuffer(
                l,
                code.as_ptr().cast(),
                code.len(),
                c"@user_script".as_ptr(),
            );
            if status != 0 {
                let msg = lua::to_bytes(l, -1)
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                ffi::lua_pop(l, 1);
                return Err(CmdError::err(format!(
                    "Error compiling script (new function): {}",
                    msg.trim_end_matches(['\r', '\n'])
                )));
            }
            let func_ref = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX);
            self.scripts.insert(
                sha,
                Script {
                    body: body.to_vec(),
                    flags: script_flags,
                    func_ref,
                },
            );
        }
        Ok(sha)
    }

    /// Runs the cached script `sha` for `ctx` and writes its reply.
    pub fn run(
        &mut self,
        scripting: &Scripting,
        ctx: &mut ExecCtx<'_>,
        sha: &[u8; 40],
        read_only_cmd: bool,
        keys: &[&[u8]],
        args: &[&[u8]],
    ) -> Result<(), CmdError> {
        let Some(script) = self.scripts.get(sha) else {
            return Err(noscript());
        };
        let script_flags = script.flags;
        let compat = script_flags & flags::EVAL_COMPAT != 0;
        if !compat && script_flags & flags::NO_WRITES == 0 && read_only_cmd {
            return Err(CmdError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
        let read_only = read_only_cmd || (!compat && script_flags & flags::NO_WRITES != 0);
        let name = std::str::from_utf8(sha).unwrap_or_default();
        let l = self.lua.raw();
        let _ = scripting;
        // SAFETY: the state is owned; `execute` leaves the stack as it found it.
        unsafe {
            ffi::lua_getfield_(
                l,
                ffi::LUA_REGISTRYINDEX,
                engine::REG_ERROR_HANDLER.as_ptr(),
            );
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, script.func_ref);
            run::execute(
                l,
                &self.shared,
                &mut self.scratch,
                ctx,
                Invocation {
                    name,
                    is_eval: true,
                    read_only,
                    keys,
                    args,
                    stats_info: None,
                },
            );
        }
        Ok(())
    }
}

/// `NOSCRIPT`.
pub fn noscript() -> CmdError {
    CmdError::Other("NOSCRIPT No matching script. Please use EVAL.".into())
}

/// A SHA1 argument as the cache key: 40 characters, lower-cased (EVALSHA accepts upper case).
pub fn sha_key(sha: &[u8]) -> Option<[u8; 40]> {
    let mut key: [u8; 40] = sha.try_into().ok()?;
    key.make_ascii_lowercase();
    Some(key)
}

/// Flags of the script EVAL would run with `body` (for CLIENT PAUSE), without compiling it.
pub fn flags_of_body(scripting: &Scripting, body: &[u8]) -> Option<u32> {
    let sha = super::api::sha1_hex(body);
    if let Some(f) = scripting.eval.try_lock().and_then(|e| e.flags_of(&sha)) {
        return Some(f);
    }
    parse_shebang(body).ok().map(|(f, _)| f)
}

/// Flags of a cached script (for CLIENT PAUSE); None when unknown or the engine is busy.
pub fn flags_of_sha(scripting: &Scripting, sha: &[u8]) -> Option<u32> {
    scripting.eval.try_lock()?.flags_of(sha)
}

/// Parses an EVAL script's `#!lua [flags=a,b]` line (Redis's `evalExtractShebangFlags`):
/// returns the flags (`EVAL_COMPAT` without a shebang) and the shebang's length (its newline
/// stays with the code, so line numbers match the source).
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), CmdError> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err(CmdError::err("Invalid script shebang"));
    };
    let parts = match split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err(CmdError::err("Invalid engine in script shebang")),
    };
    if parts[0] != b"#!lua" {
        return Err(CmdError::err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        )));
    }
    let mut out = 0;
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(CmdError::err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            )));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&c| c == b',') {
            match flags::parse(name) {
                Some(f) => out |= f,
                None => {
                    return Err(CmdError::err(format!(
                        "Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    )))
                }
            }
        }
    }
    Ok((out, end))
}

/// Redis's `sdssplitargs`: words separated by white space, `"…"` with `\n \r \t \b \a \xHH`
/// escapes, `'…'` with `\'`; None on unbalanced quotes or a quote not followed by a space.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        match line[i] {
            b'"' => {
                i += 1;
                loop {
                    if i >= n {
                        return None;
                    }
                    let c = line[i];
                    if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                        let hex = |d: u8| (d as char).to_digit(16);
                        if let (Some(h), Some(l)) = (hex(line[i + 2]), hex(line[i + 3])) {
                            cur.push((h * 16 + l) as u8);
                            i += 4;
                            continue;
                        }
                    }
                    if c == b'\\' && i + 1 < n {
                        cur.push(match line[i + 1] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                        i += 2;
                        continue;
                    }
                    if c == b'"' {
                        if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    cur.push(c);
                    i += 1;
                }
            }
            b'\'' => {
                i += 1;
                loop {
                    if i >= n {
                        return None;
                    }
                    let c = line[i];
                    if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                        cur.push(b'\'');
                        i += 2;
                        continue;
                    }
                    if c == b'\'' {
                        if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    cur.push(c);
                    i += 1;
                }
            }
            _ => {
                while i < n && !line[i].is_ascii_whitespace() {
                    cur.push(line[i]);
                    i += 1;
                }
            }
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang() {
        assert_eq!(parse_shebang(b"return 1").unwrap(), (flags::EVAL_COMPAT, 0));
        assert_eq!(parse_shebang(b"#!lua\nreturn 1").unwrap(), (0, 5));
        assert_eq!(
            parse_shebang(b"#!lua  flags=no-writes,allow-oom\nx")
                .unwrap()
                .0,
            flags::NO_WRITES | flags::ALLOW_OOM
        );
        assert_eq!(parse_shebang(b"#!lua flags=\nx").unwrap().0, 0);
        assert!(parse_shebang(b"#!lua").is_err());
        assert!(parse_shebang(b"#!lua flags=bad\nx").is_err());
        assert!(parse_shebang(b"#!lua name=x\nx").is_err());
        assert!(parse_shebang(b"#!python\nx").is_err());
    }

    #[test]
    fn splitting() {
        assert_eq!(
            split_args(b" a \"b c\" 'd\\'e' \"\\x41\\n\"").unwrap(),
            vec![
                b"a".to_vec(),
                b"b c".to_vec(),
                b"d'e".to_vec(),
                b"A\n".to_vec()
            ]
        );
        assert!(split_args(b"\"open").is_none());
        assert!(split_args(b"\"a\"b").is_none());
    }
}
