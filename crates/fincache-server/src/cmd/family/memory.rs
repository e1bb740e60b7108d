//! The MEMORY command: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.
//!
//! Mirrors Redis's `memoryCommand` in `object.c`. Figures come from jemalloc's statistics (the
//! same reading INFO memory uses) and from the stored entries' own size accounting
//! (`Value::heap_size`). Fields of MEMORY STATS that FinCache has no counterpart for
//! (replication backlog, cluster links, AOF buffer) are reported as 0, as an instance without
//! those features reports them in Redis.

use crate::cmd::args;
use crate::cmd::error::CmdError;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::ExecCtx;
use crate::stats::{allocator_stats, Stats};
use crate::store::evict::entry_size;
use fincache_types::CompactBytes;

/// Bytes below which MEMORY DOCTOR declines to diagnose (Redis: 5 MB).
const DOCTOR_MIN_BYTES: u64 = 5 << 20;
/// jemalloc's `MALLCTL_ARENAS_ALL`: addresses every arena at once.
const MALLCTL_ARENAS_ALL: u32 = 4096;

/// `MEMORY USAGE key [SAMPLES count]` — bytes the key, its entry and its value take; null when
/// the key does not exist.
// COMPAT: SAMPLES is validated as Redis does but the size is always computed over the whole
// value: the collection types keep their own byte accounting, so no estimate is needed.
fn memory_usage(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut j = 3;
    while j < argv.len() {
        if args::is(argv[j], "SAMPLES") && j + 1 < argv.len() {
            if args::int(argv[j + 1])? < 0 {
                return Err(CmdError::Syntax);
            }
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = argv[2];
    let db = ctx.db();
    let shard = db.lock(key);
    // Like Redis's `dictFind`: the stored key, expired-but-uncollected ones included (a
    // deadline of 0 is never due).
    let size = shard
        .peek(key, 0)
        .map(|e| entry_size(&CompactBytes::new(key), e));
    drop(shard);
    match size {
        Some(n) => ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX)),
        None => ctx.out.null(),
    }
    Ok(())
}

/// What MEMORY STATS and MEMORY DOCTOR report on.
struct Overhead {
    peak: u64,
    total: u64,
    startup: u64,
    /// Per database with keys: (index, main table bytes, expires table bytes).
    dbs: Vec<(usize, u64, u64)>,
    keys: u64,
    allocated: u64,
    active: u64,
    resident: u64,
    rss: u64,
}

impl Overhead {
    fn gather(ctx: &ExecCtx<'_>) -> Overhead {
        let server = ctx.server;
        let a = allocator_stats();
        server.stats.note_memory(a.allocated);
        let slot = (std::mem::size_of::<fincache_types::CompactBytes>()
            + std::mem::size_of::<crate::store::Entry>()
            + 16) as u64;
        let expire_slot = (std::mem::size_of::<fincache_types::CompactBytes>() + 8 + 16) as u64;
        let mut dbs = Vec::new();
        let mut keys = 0u64;
        for (i, db) in server.keyspace.dbs().iter().enumerate() {
            let n = db.len() as u64;
            if n == 0 {
                continue;
            }
            keys += n;
            dbs.push((i, n * slot, db.expires_len() as u64 * expire_slot));
        }
        Overhead {
            peak: Stats::get(&server.stats.used_memory_peak).max(a.allocated),
            total: a.allocated,
            startup: server.evict.startup_allocated(),
            dbs,
            keys,
            allocated: a.allocated,
            active: a.active,
            resident: a.resident,
            rss: process_rss(),
        }
    }

    fn overhead_total(&self) -> u64 {
        self.startup + self.dbs.iter().map(|d| d.1 + d.2).sum::<u64>()
    }
}

/// Resident set size of this process, from `/proc/self/status` (0 where unavailable).
fn process_rss() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// `MEMORY STATS` — a map of memory figures, named as Redis names them.
fn memory_stats(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let o = Overhead::gather(ctx);
    let overhead = o.overhead_total();
    let dataset = o.total.saturating_sub(overhead);
    let net = o.total.saturating_sub(o.startup);
    let out = &mut *ctx.out;
    out.map_len(27 + o.dbs.len());
    let int = |out: &mut fincache_resp::ReplyEncoder, name: &str, v: u64| {
        out.bulk(name.as_bytes());
        out.int(i64::try_from(v).unwrap_or(i64::MAX));
    };
    let float = |out: &mut fincache_resp::ReplyEncoder, name: &str, v: f64| {
        out.bulk(name.as_bytes());
        out.double(v);
    };
    int(out, "peak.allocated", o.peak);
    int(out, "total.allocated", o.total);
    int(out, "startup.allocated", o.startup);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", 0);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", 0);
    int(out, "functions.caches", 0);
    for (i, main, expires) in &o.dbs {
        out.bulk(format!("db.{i}").as_bytes());
        out.map_len(3);
        int(out, "overhead.hashtable.main", *main);
        int(out, "overhead.hashtable.expires", *expires);
        // Cluster mode's slot-to-keys index: FinCache has none.
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", overhead);
    int(out, "keys.count", o.keys);
    int(
        out,
        "keys.bytes-per-key",
        net.checked_div(o.keys).unwrap_or(0),
    );
    int(out, "dataset.bytes", dataset);
    float(out, "dataset.percentage", ratio(dataset, net) * 100.0);
    float(out, "peak.percentage", ratio(o.total, o.peak) * 100.0);
    int(out, "allocator.allocated", o.allocated);
    int(out, "allocator.active", o.active);
    int(out, "allocator.resident", o.resident);
    float(
        out,
        "allocator-fragmentation.ratio",
        ratio(o.active, o.allocated),
    );
    int(
        out,
        "allocator-fragmentation.bytes",
        o.active.saturating_sub(o.allocated),
    );
    float(out, "allocator-rss.ratio", ratio(o.resident, o.active));
    int(
        out,
        "allocator-rss.bytes",
        o.resident.saturating_sub(o.active),
    );
    float(out, "rss-overhead.ratio", ratio(o.rss, o.resident));
    int(out, "rss-overhead.bytes", o.rss.saturating_sub(o.resident));
    float(out, "fragmentation", ratio(o.rss, o.total));
    int(out, "fragmentation.bytes", o.rss.saturating_sub(o.total));
    Ok(())
}

/// `MEMORY DOCTOR` — a text report of memory problems (Redis's `getMemoryDoctorReport`).
fn memory_doctor(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let o = Overhead::gather(ctx);
    let mut issues: Vec<&str> = Vec::new();
    let empty = o.total < DOCTOR_MIN_BYTES;
    if !empty {
        if ratio(o.peak, o.total) > 1.5 {
            issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
        }
        if ratio(o.rss, o.total) > 1.4 && o.rss.saturating_sub(o.total) > 10 << 20 {
            issues.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc\".\n\n");
        }
        if ratio(o.active, o.allocated) > 1.1 && o.active.saturating_sub(o.allocated) > 10 << 20 {
            issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
        }
        if ratio(o.resident, o.active) > 1.1 && o.resident.saturating_sub(o.active) > 10 << 20 {
            issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
        }
        if ratio(o.rss, o.resident) > 1.1 && o.rss.saturating_sub(o.resident) > 10 << 20 {
            issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
        }
    }
    let text = if empty {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string()
    } else if issues.is_empty() {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string()
    } else {
        let mut s = String::from(
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n",
        );
        for i in issues {
            s.push_str(i);
        }
        s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        s
    };
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// Appends one chunk of jemalloc's statistics report to the `Vec<u8>` behind `opaque`.
extern "C" fn collect_stats(opaque: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
    if opaque.is_null() || text.is_null() {
        return;
    }
    // SAFETY: `opaque` is the `&mut Vec<u8>` passed to `malloc_stats_print` below, alive and
    // not otherwise borrowed for the duration of that call; `text` is a NUL-terminated string
    // jemalloc owns for the duration of this callback.
    let (buf, chunk) = unsafe {
        (
            &mut *(opaque as *mut Vec<u8>),
            std::ffi::CStr::from_ptr(text),
        )
    };
    buf.extend_from_slice(chunk.to_bytes());
}

/// `MEMORY MALLOC-STATS` — jemalloc's own statistics report.
fn memory_malloc_stats(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let mut buf: Vec<u8> = Vec::new();
    // SAFETY: the callback only appends to `buf`, which outlives the call; a null options
    // pointer asks for the default report.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(collect_stats),
            &mut buf as *mut Vec<u8> as *mut std::ffi::c_void,
            std::ptr::null(),
        );
    }
    if buf.is_empty() {
        buf.extend_from_slice(b"Stats not supported for the current allocator");
    }
    ctx.out.verbatim("txt", &buf);
    Ok(())
}

/// `MEMORY PURGE` — asks jemalloc to return dirty pages of every arena to the system.
fn memory_purge(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let name = format!("arena.{MALLCTL_ARENAS_ALL}.purge\0");
    // SAFETY: `name` is NUL-terminated; this mallctl reads and writes nothing, so every
    // pointer argument is null with zero lengths.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr() as *const std::ffi::c_char,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return Err(CmdError::err("Error purging dirty pages"));
    }
    ctx.out.ok();
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// `MEMORY HELP` — the subcommand list.
fn memory_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.array_len(MEMORY_HELP.len());
    for line in MEMORY_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

const SLOW: AclCats = AclCats::SLOW;
const ALL_SHARDS_SPECIAL: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];

const MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, Flags::NONE, SLOW, memory_doctor)
        .tips(ALL_SHARDS_SPECIAL)
        .doc(
            "server",
            "4.0.0",
            "Outputs a memory problems report",
            "O(1)",
        ),
    CommandSpec::new(
        "help",
        2,
        Flags::LOADING.or(Flags::STALE),
        SLOW,
        memory_help,
    )
    .doc(
        "server",
        "4.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
    CommandSpec::new("malloc-stats", 2, Flags::NONE, SLOW, memory_malloc_stats)
        .tips(ALL_SHARDS_SPECIAL)
        .doc(
            "server",
            "4.0.0",
            "Show allocator internal stats",
            "Depends on how much memory is allocated, could be slow",
        ),
    CommandSpec::new("purge", 2, Flags::NONE, SLOW, memory_purge)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            "server",
            "4.0.0",
            "Ask the allocator to release memory",
            "Depends on how much memory is allocated, could be slow",
        ),
    CommandSpec::new("stats", 2, Flags::NONE, SLOW, memory_stats)
        .tips(ALL_SHARDS_SPECIAL)
        .doc("server", "4.0.0", "Show memory usage details", "O(1)"),
    CommandSpec::new(
        "usage",
        -3,
        Flags::READONLY,
        AclCats(AclCats::READ.0 | AclCats::SLOW.0),
        memory_usage,
    )
    .keys(2, 2, 1)
    .key_flags(KeyFlags::RO)
    .doc(
        "server",
        "4.0.0",
        "Estimate the memory usage of a key",
        "O(N) where N is the number of samples.",
    ),
];

pub const COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::container("memory", -2, Flags::NONE, AclCats::NONE, MEMORY_SUBCOMMANDS).doc(
            "server",
            "4.0.0",
            "A container for memory diagnostics commands",
            "Depends on subcommand.",
        ),
    ];
