//! MONITOR: every command a client runs is shown to the clients in MONITOR mode, as a status
//! line `+<unix seconds>.<micros> [<db> <ip:port>] "cmd" "arg" …` with Redis's `sdscatrepr`
//! quoting.
//!
//! Costs nothing when nobody monitors: the connection checks [`Monitors::active`] (one relaxed
//! atomic load) before building anything. Lines are delivered through each monitor's bounded push
//! buffer ([`ClientHandle::push`]); a monitor that cannot keep up is disconnected.
//!
//! Mirrors `replicationFeedMonitors` (Redis 7): commands flagged `admin` or `skip_monitor` are not
//! shown, nor commands rejected before running (unknown, wrong arity, NOAUTH); passwords given to
//! AUTH and HELLO … AUTH are shown as `(redacted)`; the database is the one selected after the
//! command ran.

use crate::client::ClientHandle;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The most output a monitor may have pending before it is disconnected.
// COMPAT: Redis counts monitors as normal clients, whose default output limit is unlimited; an
// unread MONITOR stream would then grow without bound, so FinCache caps it.
pub const MONITOR_OUTPUT_LIMIT: usize = 64 * 1024 * 1024;

/// The clients in MONITOR mode.
#[derive(Debug, Default)]
pub struct Monitors {
    count: AtomicUsize,
    list: Mutex<Vec<Arc<ClientHandle>>>,
}

impl Monitors {
    /// Whether anybody monitors (the only cost every command pays).
    #[inline]
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    pub fn add(&self, client: Arc<ClientHandle>) {
        let mut list = self.list.lock();
        if list.iter().all(|c| c.id != client.id) {
            list.push(client);
        }
        self.count.store(list.len(), Ordering::Relaxed);
    }

    pub fn remove(&self, id: u64) {
        let mut list = self.list.lock();
        list.retain(|c| c.id != id);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Shows a command to every monitor. `from` ran it on database `db`; `now_us` is the time to
    /// print.
    pub fn feed(&self, from: &ClientHandle, db: usize, argv: &[&[u8]], now_us: u64) {
        self.feed_peer(&from.peer_id(), db, argv, now_us);
    }

    /// Like [`feed`](Self::feed) with the peer shown as given (`lua` for a script's commands).
    pub fn feed_peer(&self, peer: &str, db: usize, argv: &[&[u8]], now_us: u64) {
        let mut line = Vec::with_capacity(64 + argv.iter().map(|a| a.len() + 3).sum::<usize>());
        format_line(&mut line, now_us, db, peer, argv);
        let targets: Vec<Arc<ClientHandle>> = self.list.lock().clone();
        for m in targets {
            // A monitor over its limit is killed by `push`; its task removes it from the list.
            let _ = m.push(&line, MONITOR_OUTPUT_LIMIT);
        }
    }
}

/// Writes one monitor line, `\r\n` included.
pub fn format_line(out: &mut Vec<u8>, now_us: u64, db: usize, peer: &str, argv: &[&[u8]]) {
    let head = format!(
        "+{}.{:06} [{} {}] ",
        now_us / 1_000_000,
        now_us % 1_000_000,
        db,
        peer
    );
    out.extend_from_slice(head.as_bytes());
    let redacted = redacted_from(argv);
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if redacted.contains(&i) {
            out.extend_from_slice(b"\"(redacted)\"");
        } else {
            cat_repr(out, arg);
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Which arguments carry secrets Redis redacts before showing a command: every argument of AUTH;
/// the two after each `AUTH` option of HELLO (parsed as `helloCommand` parses its options).
fn redacted_from(argv: &[&[u8]]) -> Vec<usize> {
    let Some(name) = argv.first() else {
        return Vec::new();
    };
    if name.eq_ignore_ascii_case(b"auth") {
        return (1..argv.len()).collect();
    }
    let mut out = Vec::new();
    if name.eq_ignore_ascii_case(b"hello") {
        // COMPAT: Redis skips the redaction when the protocol version is invalid (it replies
        // NOPROTO first); FinCache redacts regardless, so a password never reaches a monitor.
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
    }
    out
}

/// Appends `arg` quoted as Redis's `sdscatrepr`: `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`,
/// printable ASCII as is, anything else as `\xhh` (lower-case hex).
pub fn cat_repr(out: &mut Vec<u8>, arg: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &c in arg {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => {
                out.extend_from_slice(b"\\x");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xf)]);
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(argv: &[&[u8]]) -> String {
        let mut out = Vec::new();
        format_line(&mut out, 1_700_000_000_000_042, 3, "127.0.0.1:5000", argv);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting_matches_sdscatrepr() {
        assert_eq!(
            line(&[b"set", b"a\"b\\c", b"x\n\r\t\x07\x08\x01\xff \xc3\xa9"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"set\" \"a\\\"b\\\\c\" \
             \"x\\n\\r\\t\\a\\b\\x01\\xff \\xc3\\xa9\"\r\n"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            line(&[b"AUTH", b"user", b"pw"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"
        );
        assert_eq!(
            line(&[b"hello", b"3", b"setname", b"n", b"auth", b"u", b"p"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"hello\" \"3\" \"setname\" \"n\" \"auth\" \
             \"(redacted)\" \"(redacted)\"\r\n"
        );
        assert_eq!(
            line(&[b"hello", b"3"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"hello\" \"3\"\r\n"
        );
    }
}
