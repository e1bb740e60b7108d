//! The slow log: the most recent commands that ran longer than `slowlog-log-slower-than`
//! microseconds (SLOWLOG GET/LEN/RESET).
//!
//! Mirrors Redis's `slowlog.c`: newest entry first, at most `slowlog-max-len` entries, ids that
//! keep growing across RESET, at most 32 arguments per entry (the last one replaced by
//! `... (N more arguments)`), and arguments longer than 128 bytes cut to 128 bytes plus
//! `... (N more bytes)`. Passwords are shown as `(redacted)`.
//!
//! The thresholds are mirrored from the config into atomics ([`SlowLog::refresh`]) so the
//! dispatcher's per-command check is one relaxed load, not a config lock.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// At most this many arguments are kept per entry (Redis's `SLOWLOG_ENTRY_MAX_ARGC`).
pub const MAX_ARGC: usize = 32;
/// Arguments are cut to this many bytes (Redis's `SLOWLOG_ENTRY_MAX_STRING`).
pub const MAX_STRING: usize = 128;

/// One logged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowlogEntry {
    pub id: u64,
    /// Unix seconds when the command finished.
    pub time: u64,
    pub duration_us: u64,
    pub argv: Vec<Vec<u8>>,
    /// `ip:port` of the client.
    pub peer: String,
    /// The client's name at the time, or empty.
    pub name: Vec<u8>,
}

#[derive(Debug)]
pub struct SlowLog {
    entries: Mutex<VecDeque<SlowlogEntry>>,
    next_id: AtomicU64,
    /// Mirror of `slowlog-log-slower-than` (negative: disabled).
    slower_than_us: AtomicI64,
    /// Mirror of `slowlog-max-len`.
    max_len: AtomicUsize,
}

impl SlowLog {
    pub fn new(slower_than_us: i64, max_len: usize) -> Self {
        SlowLog {
            entries: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(0),
            slower_than_us: AtomicI64::new(slower_than_us),
            max_len: AtomicUsize::new(max_len),
        }
    }

    /// Takes new thresholds (after CONFIG SET); trims the log if it is now too long.
    pub fn refresh(&self, slower_than_us: i64, max_len: usize) {
        self.slower_than_us.store(slower_than_us, Ordering::Relaxed);
        if self.max_len.swap(max_len, Ordering::Relaxed) != max_len {
            self.entries.lock().truncate(max_len);
        }
    }

    /// Whether a command that ran `duration_us` must be logged. Cheap: the dispatcher asks
    /// after every command.
    #[inline]
    pub fn wants(&self, duration_us: u64) -> bool {
        let threshold = self.slower_than_us.load(Ordering::Relaxed);
        threshold >= 0
            && self.max_len.load(Ordering::Relaxed) > 0
            && duration_us >= threshold as u64
    }

    /// Logs a command (the caller checked [`wants`](Self::wants)); its secrets (see
    /// [`secret_positions`]) are shown as `(redacted)`.
    pub fn push(&self, argv: &[&[u8]], duration_us: u64, time: u64, peer: String, name: Vec<u8>) {
        let max_len = self.max_len.load(Ordering::Relaxed);
        if max_len == 0 {
            return;
        }
        let entry = SlowlogEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time,
            duration_us,
            argv: entry_argv(argv, &secret_positions(argv)),
            peer,
            name,
        };
        let mut entries = self.entries.lock();
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry (ids keep counting, as in Redis).
    pub fn reset(&self) {
        self.entries.lock().clear();
    }

    /// The newest `count` entries (all of them for None), newest first.
    pub fn latest(&self, count: Option<usize>) -> Vec<SlowlogEntry> {
        let entries = self.entries.lock();
        let n = count.map_or(entries.len(), |c| c.min(entries.len()));
        entries.iter().take(n).cloned().collect()
    }
}

/// The arguments as the log keeps them: capped in number and length, secrets redacted.
fn entry_argv(argv: &[&[u8]], secrets: &[usize]) -> Vec<Vec<u8>> {
    let kept = argv.len().min(MAX_ARGC);
    let mut out = Vec::with_capacity(kept);
    for (i, arg) in argv.iter().take(kept).enumerate() {
        if kept != argv.len() && i == kept - 1 {
            let more = argv.len() - kept + 1;
            out.push(format!("... ({more} more arguments)").into_bytes());
        } else if secrets.contains(&i) {
            out.push(b"(redacted)".to_vec());
        } else if arg.len() > MAX_STRING {
            let mut a = arg[..MAX_STRING].to_vec();
            a.extend_from_slice(format!("... ({} more bytes)", arg.len() - MAX_STRING).as_bytes());
            out.push(a);
        } else {
            out.push(arg.to_vec());
        }
    }
    out
}

/// Which arguments of a command are secrets that the slow log must not show, as Redis's
/// `redactClientCommandArgument` calls mark them: every argument of AUTH; the two after each
/// `AUTH` option of HELLO (walking its options as `helloCommand` does); the one after MIGRATE's
/// `AUTH` and the two after its `AUTH2`. (MONITOR applies the same rule in `crate::monitor`.)
pub fn secret_positions(argv: &[&[u8]]) -> Vec<usize> {
    let Some(name) = argv.first() else {
        return Vec::new();
    };
    if name.eq_ignore_ascii_case(b"auth") {
        return (1..argv.len()).collect();
    }
    let mut out = Vec::new();
    if name.eq_ignore_ascii_case(b"hello") {
        let mut j = 2;
        while j < argv.len() {
            let more = argv.len() - 1 - j;
            if argv[j].eq_ignore_ascii_case(b"auth") && more >= 2 {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else if argv[j].eq_ignore_ascii_case(b"setname") && more >= 1 {
                j += 2;
            } else {
                break;
            }
        }
    } else if name.eq_ignore_ascii_case(b"migrate") {
        // MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS …]
        let mut j = 6;
        while j < argv.len() {
            let more = argv.len() - 1 - j;
            if argv[j].eq_ignore_ascii_case(b"auth") && more >= 1 {
                out.push(j + 1);
                j += 2;
            } else if argv[j].eq_ignore_ascii_case(b"auth2") && more >= 2 {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else if argv[j].eq_ignore_ascii_case(b"keys") {
                break;
            } else {
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(log: &SlowLog, argv: &[&[u8]], us: u64) {
        if log.wants(us) {
            log.push(argv, us, 1, "1.2.3.4:5".into(), Vec::new());
        }
    }

    #[test]
    fn threshold_and_order() {
        let log = SlowLog::new(100, 3);
        push(&log, &[b"get", b"a"], 99);
        assert_eq!(log.len(), 0);
        push(&log, &[b"get", b"a"], 100);
        push(&log, &[b"get", b"b"], 500);
        let l = log.latest(None);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].argv[1], b"b");
        assert_eq!(l[0].id, 1);
        assert_eq!(l[1].id, 0);
        for _ in 0..5 {
            push(&log, &[b"x"], 1000);
        }
        assert_eq!(log.len(), 3);
        assert_eq!(log.latest(Some(1))[0].id, 6);
        log.reset();
        assert!(log.is_empty());
        push(&log, &[b"x"], 1000);
        assert_eq!(log.latest(None)[0].id, 7);
    }

    #[test]
    fn disabled_and_zero() {
        let log = SlowLog::new(-1, 10);
        push(&log, &[b"x"], 1_000_000);
        assert!(log.is_empty());
        log.refresh(0, 10);
        push(&log, &[b"x"], 0);
        assert_eq!(log.len(), 1);
        log.refresh(0, 0);
        assert!(log.is_empty());
        push(&log, &[b"x"], 10);
        assert!(log.is_empty());
    }

    #[test]
    fn truncation_like_redis() {
        let log = SlowLog::new(0, 10);
        let long = vec![b'x'; 200];
        let mut argv: Vec<&[u8]> = vec![b"rpush", b"k", &long];
        push(&log, &argv, 1);
        let e = &log.latest(None)[0];
        assert_eq!(e.argv[2].len(), 128 + "... (72 more bytes)".len());
        assert!(e.argv[2].ends_with(b"... (72 more bytes)"));
        argv.truncate(2);
        argv.resize(42, b"v");
        push(&log, &argv, 1);
        let e = &log.latest(None)[0];
        assert_eq!(e.argv.len(), 32);
        assert_eq!(e.argv[31], b"... (11 more arguments)");
        assert_eq!(e.argv[30], b"v");
    }

    #[test]
    fn secrets_redacted() {
        let argv: [&[u8]; 5] = [b"hello", b"3", b"AUTH", b"user", b"pass"];
        assert_eq!(secret_positions(&argv), [3, 4]);
        let argv: [&[u8]; 2] = [b"AUTH", b"pw"];
        assert_eq!(secret_positions(&argv), [1]);
        let argv: [&[u8]; 9] = [
            b"migrate", b"h", b"1", b"", b"0", b"10", b"AUTH2", b"u", b"p",
        ];
        assert_eq!(secret_positions(&argv), [7, 8]);
        let log = SlowLog::new(0, 10);
        log.push(&[b"auth", b"secret"], 1, 1, String::new(), Vec::new());
        assert_eq!(log.latest(None)[0].argv[1], b"(redacted)");
    }
}
