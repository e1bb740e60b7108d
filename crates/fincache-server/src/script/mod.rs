//! Lua scripting (EVAL, EVALSHA, SCRIPT …) and functions (FUNCTION …, FCALL), on Lua 5.1 as
//! Redis 7 embeds it.
//!
//! Owns two Lua states: one for EVAL scripts ([`eval`]) and one for function libraries
//! ([`function`]), each behind its own mutex, plus the state of the run in progress
//! ([`RunState`]) that other clients read without locks (BUSY, SCRIPT KILL, FUNCTION STATS).
//!
//! Invariants:
//! - a script or function runs with the keyspace gate held for writing (EVAL and FCALL are
//!   `EXCLUSIVE`), so it is atomic with respect to every other client, across all shards and
//!   databases; its `redis.call`s run through [`crate::cmd::dispatch::call`] without taking
//!   the gate again;
//! - ORDER: gate → engine mutex. SCRIPT KILL, FUNCTION KILL and FUNCTION STATS touch only
//!   [`RunState`], so they can run (gate bypassed, see `dispatch::acquire_gate`) while a
//!   script past `busy-reply-threshold` holds both;
//! - the C functions reach the run in progress through a pointer set for the duration of the
//!   Lua call only ([`engine::Shared`]).
//!
//! Module map: [`lua`] (C API layer), [`engine`] (building a sandboxed state), [`api`]
//! (`redis.*`), [`convert`] (RESP ⇄ Lua), [`run`] (running a script or function), [`eval`],
//! [`function`], [`dump`] (FUNCTION DUMP/RESTORE payloads), and the libraries Redis bundles:
//! [`lib_bit`], [`lib_struct`], [`lib_cjson`], [`lib_cmsgpack`].

pub mod api;
pub mod convert;
pub mod dump;
pub mod engine;
pub mod eval;
pub mod function;
pub mod lib_bit;
pub mod lib_cjson;
pub mod lib_cmsgpack;
pub mod lib_struct;
pub mod lua;
pub mod rand48;
pub mod run;

use crate::cmd::registry::CommandRef;
use crate::cmd::spec::Flags;
use crate::cmd::CmdError;
use crate::server::Server;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// `BUSY` while an EVAL script runs past the threshold.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// `BUSY` while a function runs past the threshold.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// Script flags (`#!lua flags=…` and `redis.register_function{flags=…}`), as Redis's
/// `scripts_flags_def`, in the order FUNCTION LIST prints them.
pub mod flags {
    pub const NO_WRITES: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const ALLOW_STALE: u32 = 1 << 2;
    pub const NO_CLUSTER: u32 = 1 << 3;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
    /// An EVAL script without a shebang: Redis 6 compatible rules.
    pub const EVAL_COMPAT: u32 = 1 << 5;

    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];

    /// Parses one flag name (exact, as Redis's shebang parser; function flags compare
    /// case-insensitively, see [`parse_nocase`]).
    pub fn parse(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .find(|(_, n)| n.as_bytes() == name)
            .map(|(f, _)| *f)
    }

    pub fn parse_nocase(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(f, _)| *f)
    }
}

/// The run in progress, as other clients see it.
#[derive(Default)]
pub struct RunState {
    running: AtomicBool,
    /// Start of the run, in ms of [`Scripting::clock_ms`].
    started_ms: AtomicU64,
    /// `busy-reply-threshold` when the run started (0: never busy).
    threshold_ms: AtomicU64,
    /// SCRIPT KILL / FUNCTION KILL asked the run to stop.
    kill: AtomicBool,
    /// The run wrote to the dataset (it can no longer be killed).
    wrote: AtomicBool,
    /// The run is an EVAL script (else a function).
    is_eval: AtomicBool,
    /// FUNCTION STATS: the running function's name and the command that called it.
    info: Mutex<Option<(String, Vec<Vec<u8>>)>>,
}

/// The server's scripting state.
pub struct Scripting {
    pub eval: Mutex<eval::EvalEngine>,
    pub functions: Mutex<function::FunctionEngine>,
    pub run: RunState,
    /// Redis's `redisLrand48` state, shared by every script (math.random).
    pub rng: rand48::Rand48,
    clock: Instant,
    /// FUNCTION STATS counts, readable while a function holds the engine.
    libraries: AtomicU64,
    functions_count: AtomicU64,
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    pub fn new() -> Scripting {
        Scripting {
            eval: Mutex::new(eval::EvalEngine::new()),
            functions: Mutex::new(function::FunctionEngine::new()),
            run: RunState::default(),
            rng: rand48::Rand48::default(),
            clock: Instant::now(),
            libraries: AtomicU64::new(0),
            functions_count: AtomicU64::new(0),
        }
    }

    /// Publishes the number of function libraries and functions (after every change).
    pub fn set_function_counts(&self, libraries: usize, functions: usize) {
        self.libraries.store(libraries as u64, Ordering::Relaxed);
        self.functions_count
            .store(functions as u64, Ordering::Relaxed);
    }

    /// (libraries, functions) loaded.
    pub fn function_counts(&self) -> (u64, u64) {
        (
            self.libraries.load(Ordering::Relaxed),
            self.functions_count.load(Ordering::Relaxed),
        )
    }

    /// Monotonic milliseconds since the server started (never 0).
    pub fn clock_ms(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64 + 1
    }

    /// Whether a script or function is running (one relaxed load).
    #[inline]
    pub fn is_running(&self) -> bool {
        self.run.running.load(Ordering::Relaxed)
    }

    /// Whether the running script passed `busy-reply-threshold` (others then get BUSY).
    pub fn is_busy(&self) -> bool {
        if !self.is_running() {
            return false;
        }
        let threshold = self.run.threshold_ms.load(Ordering::Relaxed);
        threshold > 0
            && self
                .clock_ms()
                .saturating_sub(self.run.started_ms.load(Ordering::Relaxed))
                >= threshold
    }

    /// The BUSY error for the kind of run in progress.
    pub fn busy_text(&self) -> &'static str {
        if self.run.is_eval.load(Ordering::Relaxed) {
            BUSY_EVAL
        } else {
            BUSY_FUNCTION
        }
    }

    /// Marks the start of a run (called by [`run`] with the gate held).
    pub(crate) fn begin_run(
        &self,
        is_eval: bool,
        threshold_ms: u64,
        info: Option<(String, Vec<Vec<u8>>)>,
    ) {
        *self.run.info.lock() = info;
        self.run.kill.store(false, Ordering::Relaxed);
        self.run.wrote.store(false, Ordering::Relaxed);
        self.run.is_eval.store(is_eval, Ordering::Relaxed);
        self.run.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        self.run
            .started_ms
            .store(self.clock_ms(), Ordering::Relaxed);
        self.run.running.store(true, Ordering::Release);
    }

    pub(crate) fn end_run(&self) {
        self.run.running.store(false, Ordering::Release);
        self.run.kill.store(false, Ordering::Relaxed);
        *self.run.info.lock() = None;
    }

    pub(crate) fn note_write(&self) {
        self.run.wrote.store(true, Ordering::Relaxed);
    }

    pub(crate) fn kill_requested(&self) -> bool {
        self.run.kill.load(Ordering::Relaxed)
    }

    /// SCRIPT KILL (`is_eval`) / FUNCTION KILL: Redis's `scriptKill`.
    pub fn kill(&self, is_eval: bool) -> Result<(), CmdError> {
        if !self.is_running() {
            return Err(CmdError::Other(
                "NOTBUSY No scripts in execution right now.".into(),
            ));
        }
        if self.run.wrote.load(Ordering::Relaxed) {
            return Err(CmdError::Other(
                "UNKILLABLE Sorry the script already executed write commands against the \
                 dataset. You can either wait the script termination or kill the server in a \
                 hard way using the SHUTDOWN NOSAVE command."
                    .into(),
            ));
        }
        let running_eval = self.run.is_eval.load(Ordering::Relaxed);
        if is_eval && !running_eval {
            return Err(CmdError::Other(BUSY_FUNCTION.into()));
        }
        if !is_eval && running_eval {
            return Err(CmdError::Other(BUSY_EVAL.into()));
        }
        self.run.kill.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// FUNCTION STATS' `running_script`: (name, calling command, duration in ms), or None.
    pub fn running_function(&self) -> Option<(String, Vec<Vec<u8>>, u64)> {
        if !self.is_running() {
            return None;
        }
        let info = self.run.info.lock().clone()?;
        let ms = self
            .clock_ms()
            .saturating_sub(self.run.started_ms.load(Ordering::Relaxed));
        Some((info.0, info.1, ms))
    }

    /// Whether an EVAL script (not a function) is running.
    pub fn eval_running(&self) -> bool {
        self.is_running() && self.run.is_eval.load(Ordering::Relaxed)
    }
}

/// The BUSY check of the dispatcher (Redis's `processCommand`): while a script runs past
/// `busy-reply-threshold`, only `allow_busy` commands run; SHUTDOWN only with NOSAVE.
pub fn busy_error(server: &Server, cmd: CommandRef, argv: &[&[u8]]) -> Option<CmdError> {
    let scripting = &server.scripting;
    if !scripting.is_busy() {
        return None;
    }
    if !cmd.spec.flags.has(Flags::ALLOW_BUSY) {
        return Some(CmdError::Other(scripting.busy_text().into()));
    }
    if cmd.parent.is_none()
        && cmd.spec.name == "shutdown"
        && !argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave"))
    {
        return Some(CmdError::Other(scripting.busy_text().into()));
    }
    None
}

/// Whether an EVAL/EVALSHA/FCALL (and their `_RO` forms) may write: false only for scripts
/// that declare `no-writes` (CLIENT PAUSE WRITE lets those run), as Redis's
/// `evalGetCommandFlags` / `fcallGetCommandFlags`.
pub fn command_may_write(server: &Server, cmd: CommandRef, argv: &[&[u8]]) -> bool {
    let Some(target) = argv.get(1) else {
        return true;
    };
    let script_flags = match cmd.spec.name {
        "eval" | "eval_ro" => eval::flags_of_body(&server.scripting, target),
        "evalsha" | "evalsha_ro" => eval::flags_of_sha(&server.scripting, target),
        "fcall" | "fcall_ro" => function::flags_of(&server.scripting, target),
        _ => return true,
    };
    match script_flags {
        Some(f) if f & flags::EVAL_COMPAT == 0 => f & flags::NO_WRITES == 0,
        _ => true,
    }
}
