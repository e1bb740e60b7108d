//! Test support: start a FinCache binary or a reference `redis-server` on a free port, and
//! connect to it with the `redis` crate. Every integration test file does `mod support;`.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server process, killed when dropped.
pub struct TestServer {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Waits until the server `child` accepts on `port`. Returns false if the port turned out to be
/// someone else's (another test's server took it between `free_port` and our bind, so ours
/// exited): the listener that answers must report our process id in `INFO server`.
fn wait_until_ours(port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            return match answers_with_pid(&mut s, child.id()) {
                Some(ours) => ours,
                // An error reply (e.g. NOAUTH with --requirepass): a server that lost the port
                // exits at once, so ours is the one still running a moment later.
                None => {
                    std::thread::sleep(Duration::from_millis(200));
                    matches!(child.try_wait(), Ok(None))
                }
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("server on port {port} did not start accepting in time");
}

/// Some(whether INFO names `pid`), or None when the server answered with an error.
fn answers_with_pid(s: &mut std::net::TcpStream, pid: u32) -> Option<bool> {
    use std::io::{Read, Write};
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .is_err()
    {
        return Some(false);
    }
    let want = format!("process_id:{pid}\r\n");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if text.starts_with('-') && text.contains("\r\n") {
            return None;
        }
        if text.contains(&want) {
            return Some(true);
        }
        if text.contains("# Clients") || got.len() > 1 << 16 {
            break;
        }
    }
    Some(false)
}

/// Starts `build(port)` on a free port, retrying on a new port if another process won the race
/// for it.
fn spawn_on_free_port(
    mut build: impl FnMut(u16, &std::path::Path) -> Command,
) -> (u16, Child, tempfile::TempDir) {
    for _ in 0..5 {
        let port = free_port();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = build(port, dir.path())
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server");
        if wait_until_ours(port, &mut child) {
            return (port, child, dir);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("could not start a server on a free port in 5 tries");
}

impl TestServer {
    /// Starts FinCache with extra command-line flags (e.g. `["--timeout", "1"]`).
    ///
    /// The HTTP API (on by default, port 8080) is switched off unless `extra` names
    /// `--api-enabled` or `--api-port`, so parallel tests never compete for one HTTP port.
    pub fn fincache_with(extra: &[&str]) -> TestServer {
        let wants_http = extra
            .iter()
            .any(|a| *a == "--api-enabled" || *a == "--api-port");
        let no_http: &[&str] = if wants_http {
            &[]
        } else {
            &["--api-enabled", "no"]
        };
        let (port, child, dir) = spawn_on_free_port(|port, _| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_fincache"));
            c.arg("--port")
                .arg(port.to_string())
                .args(no_http)
                .args(extra);
            c
        });
        TestServer {
            port,
            child,
            _dir: dir,
        }
    }

    pub fn fincache() -> TestServer {
        Self::fincache_with(&[])
    }

    /// Starts the reference `redis-server` (Debian's 7.0 package), or returns None when it is
    /// not installed (the differential tests then say so and skip; CI installs it).
    pub fn redis() -> Option<TestServer> {
        let bin = redis_server_path()?;
        let (port, child, dir) = spawn_on_free_port(|port, _| {
            let mut c = Command::new(&bin);
            c.args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "yes",
                "--enable-protected-configs",
                "yes",
            ]);
            c
        });
        Some(TestServer {
            port,
            child,
            _dir: dir,
        })
    }

    /// The reference redis-server for a differential test named `what`. Without it the test
    /// must fail under CI (which installs it) and is skipped loudly elsewhere (returns None).
    pub fn oracle(what: &str) -> Option<TestServer> {
        let server = Self::redis();
        if server.is_none() {
            if std::env::var_os("CI").is_some() {
                panic!("redis-server is not installed, and CI must run the differential tests");
            }
            eprintln!("!!! SKIPPED {what}: redis-server is not installed !!!");
        }
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A new synchronous connection (RESP2).
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's peak resident memory in KiB (`VmHWM`), where /proc tells it.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited in time.
    pub fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.exited() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where `redis-server` is, if installed.
pub fn redis_server_path() -> Option<PathBuf> {
    for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] {
        let p = PathBuf::from(p);
        if p.exists() {
            return Some(p);
        }
    }
    None
}

/// Runs a command given as strings and returns the raw `redis::Value`.
pub fn raw(conn: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(conn)
}

/// A bare RESP client over TCP: sends argument arrays and reads replies with
/// `fincache_resp::parse_reply`, so tests see exact reply types (simple vs bulk, null vs empty
/// array, map vs array, double vs bulk) that client libraries smooth over.
pub struct RawConn {
    pub stream: std::net::TcpStream,
    buf: Vec<u8>,
}

/// Why a raw read produced no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawError {
    /// The server closed the connection (bytes left unparsed, if any, are included).
    Closed(Vec<u8>),
    /// No complete reply within the read timeout.
    Timeout,
    /// The bytes are not RESP.
    Malformed(Vec<u8>),
    Io(String),
}

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawError::Closed(rest) if rest.is_empty() => write!(f, "<connection closed>"),
            RawError::Closed(rest) => write!(
                f,
                "<connection closed after {:?}>",
                String::from_utf8_lossy(rest)
            ),
            RawError::Timeout => write!(f, "<no reply in time>"),
            RawError::Malformed(b) => {
                write!(f, "<malformed reply {:?}>", String::from_utf8_lossy(b))
            }
            RawError::Io(e) => write!(f, "<i/o error: {e}>"),
        }
    }
}

/// Encodes `argv` as a RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(argv: &[A]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + argv.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl RawConn {
    /// Connects to 127.0.0.1:`port` with a 10-second read timeout.
    pub fn connect(port: u16) -> std::io::Result<RawConn> {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(RawConn {
            stream,
            buf: Vec::new(),
        })
    }

    pub fn set_read_timeout(&mut self, t: Duration) {
        let _ = self.stream.set_read_timeout(Some(t));
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.stream.write_all(bytes)
    }

    /// Sends one command as a multibulk array.
    pub fn send<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> std::io::Result<()> {
        self.send_raw(&encode_command(argv))
    }

    /// Reads one complete reply (RESP3 attributes are skipped by the parser).
    pub fn read_reply(&mut self) -> Result<fincache_resp::Reply, RawError> {
        use std::io::Read;
        loop {
            match fincache_resp::parse_reply(&self.buf) {
                Ok((reply, n)) => {
                    self.buf.drain(..n);
                    return Ok(reply);
                }
                Err(fincache_resp::ReplyParseError::Malformed(_)) => {
                    return Err(RawError::Malformed(std::mem::take(&mut self.buf)))
                }
                Err(fincache_resp::ReplyParseError::Incomplete) => {}
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(RawError::Closed(std::mem::take(&mut self.buf))),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(RawError::Timeout)
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RawError::Io(e.to_string())),
            }
        }
    }

    /// Sends a command and reads its reply; I/O failures become a `RawError`.
    pub fn call<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Result<fincache_resp::Reply, RawError> {
        self.send(argv).map_err(|e| RawError::Io(e.to_string()))?;
        self.read_reply()
    }

    /// Like [`call`](Self::call) with string arguments, panicking on I/O failure (test setup).
    pub fn cmd(&mut self, argv: &[&str]) -> fincache_resp::Reply {
        match self.call(argv) {
            Ok(r) => r,
            Err(e) => panic!("{argv:?}: {e}"),
        }
    }

    /// Waits (up to the read timeout) for the server to close the connection; returns whatever
    /// bytes arrived before the close, or None when it stayed open.
    pub fn wait_closed(&mut self) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut got = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Some(got),
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    self.buf = got;
                    return None;
                }
                // A reset after the server closed with unread input still counts as closed.
                Err(_) => return Some(got),
            }
        }
    }
}

/// Formats a reply compactly, like redis-cli, for test output.
pub fn show_reply(r: &fincache_resp::Reply) -> String {
    use fincache_resp::Reply;
    fn bytes(b: &[u8]) -> String {
        let mut s = String::from("\"");
        for &c in b {
            match c {
                b'"' => s.push_str("\\\""),
                b'\\' => s.push_str("\\\\"),
                b'\n' => s.push_str("\\n"),
                b'\r' => s.push_str("\\r"),
                b'\t' => s.push_str("\\t"),
                0x20..=0x7e => s.push(c as char),
                _ => s.push_str(&format!("\\x{c:02x}")),
            }
        }
        s.push('"');
        s
    }
    fn list(items: &[Reply]) -> String {
        items.iter().map(show_reply).collect::<Vec<_>>().join(", ")
    }
    let s = match r {
        Reply::Simple(s) => format!("+{s}"),
        Reply::Error(e) => format!("(error) {e}"),
        Reply::Int(n) => format!("(integer) {n}"),
        Reply::Bulk(b) => bytes(b),
        Reply::Null => "(nil)".into(),
        Reply::Array(items) => format!("[{}]", list(items)),
        Reply::Set(items) => format!("(set) [{}]", list(items)),
        Reply::Push(items) => format!("(push) [{}]", list(items)),
        Reply::Map(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| format!("{} => {}", show_reply(k), show_reply(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Reply::Double(v) => format!("(double) {v}"),
        Reply::Bool(b) => format!("(boolean) {b}"),
        Reply::BigNumber(d) => format!("(big number) {d}"),
        Reply::Verbatim(f, t) => format!("(verbatim {f}) {}", bytes(t)),
    };
    if s.len() > 400 {
        let mut cut = 400;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… ({} chars)", &s[..cut], s.len())
    } else {
        s
    }
}

/// Exact structural equality of two replies, with doubles compared bit for bit (NaN equals NaN).
pub fn same_reply(a: &fincache_resp::Reply, b: &fincache_resp::Reply) -> bool {
    use fincache_resp::Reply;
    fn all(a: &[Reply], b: &[Reply]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_reply(x, y))
    }
    match (a, b) {
        (Reply::Double(x), Reply::Double(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Reply::Array(x), Reply::Array(y))
        | (Reply::Set(x), Reply::Set(y))
        | (Reply::Push(x), Reply::Push(y)) => all(x, y),
        (Reply::Map(x), Reply::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same_reply(k1, k2) && same_reply(v1, v2))
        }
        _ => a == b,
    }
}

/// The text of an error reply (`CODE detail`) as the redis crate reports it; panics on success.
pub fn err_text(r: redis::RedisResult<redis::Value>) -> String {
    match r {
        Err(e) => format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""))
            .trim()
            .to_string(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}
