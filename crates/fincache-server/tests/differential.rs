//! Differential runner: every `tests/cases/*.case` file is run against FinCache and a real
//! `redis-server`, over RESP2 and again over RESP3, and every reply is compared exactly (the full
//! text of errors included). The format is described in `tests/cases/README.md`; the case-file
//! reader lives in `differential/casefile.rs`.
//!
//! Replies are read with a raw RESP client (`support::RawConn`), not a client library, so the
//! comparison sees the exact reply type: simple vs bulk string, null vs empty array, map vs array,
//! double vs bulk.
//!
//! Every mismatch is collected and printed at the end with `file:line`, the protocol, the command
//! and both replies; then the test fails. Deliberate differences (`@differs=REASON`) are printed
//! with their reason and both replies, and never fail the run.
//!
//! Each file gets its own pair of freshly started servers (so a `CONFIG SET` or `SHUTDOWN` in one
//! file cannot leak into another); each case gets fresh connections and `FLUSHALL` on both.
//!
//! Environment: `FINCACHE_CASES=strings,keys` runs only those files (stems); without
//! `redis-server` the test is skipped with a notice, unless `CI` is set, where it fails.

mod support;

#[path = "differential/casefile.rs"]
mod casefile;

use casefile::{Case, CaseLine};
use fincache_resp::Reply;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{same_reply, show_reply, RawConn, RawError, TestServer};

/// How long one command may take to answer before it counts as "no reply".
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Resp2,
    Resp3,
}

impl Proto {
    fn label(self) -> &'static str {
        match self {
            Proto::Resp2 => "RESP2",
            Proto::Resp3 => "RESP3",
        }
    }
}

/// What one server answered to one line.
type Outcome = Result<Reply, RawError>;

fn show(o: &Outcome) -> String {
    match o {
        Ok(r) => show_reply(r),
        Err(e) => e.to_string(),
    }
}

/// A finding for the final report.
struct Finding {
    file: String,
    line: usize,
    proto: Option<Proto>,
    command: String,
    fincache: String,
    redis: String,
    note: String,
}

impl Finding {
    fn print(&self) {
        let proto = self
            .proto
            .map(|p| format!(" [{}]", p.label()))
            .unwrap_or_default();
        println!("  {}:{}{} {}", self.file, self.line, proto, self.command);
        if !self.note.is_empty() {
            println!("      {}", self.note);
        }
        if !self.fincache.is_empty() || !self.redis.is_empty() {
            println!("      fincache: {}", self.fincache);
            println!("      redis:    {}", self.redis);
        }
    }
}

#[derive(Default)]
struct Report {
    files: usize,
    cases: usize,
    commands: usize,
    mismatches: Vec<Finding>,
    differs: Vec<Finding>,
    notes: Vec<String>,
}

/// One side of the comparison: a server and how to reach it.
struct Side {
    name: &'static str,
    start: fn() -> TestServer,
    server: TestServer,
    /// FLUSHALL did not work here: restart the server before each case instead.
    restart_per_case: bool,
}

impl Side {
    fn new(name: &'static str, start: fn() -> TestServer) -> Side {
        Side {
            name,
            start,
            server: start(),
            restart_per_case: false,
        }
    }

    fn restart(&mut self) {
        self.server = (self.start)();
    }

    /// A connection in the pass's protocol; Err explains why none could be had.
    fn connect(&mut self, proto: Proto) -> Result<RawConn, String> {
        let mut conn = RawConn::connect(self.server.port)
            .map_err(|e| format!("{}: cannot connect: {e}", self.name))?;
        conn.set_read_timeout(REPLY_TIMEOUT);
        if proto == Proto::Resp3 {
            match conn.call(&["HELLO", "3"]) {
                Ok(Reply::Map(_)) => {}
                other => return Err(format!("{}: HELLO 3 gave {}", self.name, show(&other))),
            }
        }
        Ok(conn)
    }

    /// A connection to an empty keyspace for a new case.
    fn fresh(&mut self, proto: Proto, report: &mut Report) -> Result<RawConn, String> {
        if self.server.exited() {
            report
                .notes
                .push(format!("{} had exited; restarted it", self.name));
            self.restart();
        } else if self.restart_per_case {
            self.restart();
        }
        let mut conn = self.connect(proto)?;
        if !self.restart_per_case {
            match conn.call(&["FLUSHALL"]) {
                Ok(Reply::Simple(ok)) if ok == "OK" => {}
                other => {
                    report.notes.push(format!(
                        "{}: FLUSHALL gave {}; restarting it before every case instead",
                        self.name,
                        show(&other)
                    ));
                    self.restart_per_case = true;
                    self.restart();
                    conn = self.connect(proto)?;
                }
            }
        }
        Ok(conn)
    }
}

/// Sorts the elements of a top-level collection (for `@unordered`).
fn sorted(reply: &Reply) -> Reply {
    // Debug output is complete (show_reply shortens long values), so equal sorts equal.
    let key = |r: &Reply| format!("{r:?}");
    match reply {
        Reply::Array(items) | Reply::Set(items) => {
            let mut items = items.clone();
            items.sort_by_key(key);
            match reply {
                Reply::Set(_) => Reply::Set(items),
                _ => Reply::Array(items),
            }
        }
        Reply::Map(pairs) => {
            let mut pairs = pairs.clone();
            pairs.sort_by_key(|(k, v)| (key(k), key(v)));
            Reply::Map(pairs)
        }
        other => other.clone(),
    }
}

/// Whether the two outcomes agree under the line's directives.
fn agree(line: &CaseLine, fin: &Outcome, red: &Outcome) -> bool {
    let (f, r) = match (fin, red) {
        (Ok(f), Ok(r)) => (f, r),
        (Err(a), Err(b)) => return std::mem::discriminant(a) == std::mem::discriminant(b),
        _ => return false,
    };
    let d = &line.directives;
    if d.type_only {
        return std::mem::discriminant(f) == std::mem::discriminant(r);
    }
    if let (Some(n), Reply::Int(a), Reply::Int(b)) = (d.approx, f, r) {
        // -1 and -2 are answers (no TTL, no key), not measurements: they must match exactly.
        if *a < 0 || *b < 0 {
            return a == b;
        }
        return a.abs_diff(*b) <= n;
    }
    if d.unordered {
        return same_reply(&sorted(f), &sorted(r));
    }
    same_reply(f, r)
}

/// Sends one line to a side (reconnecting first if its connection died) and reads the reply.
fn send(side: &mut Side, conn: &mut Option<RawConn>, proto: Proto, argv: &[Vec<u8>]) -> Outcome {
    if conn.is_none() {
        *conn = Some(side.connect(proto).map_err(RawError::Io)?);
    }
    let c = conn.as_mut().expect("connected above");
    let outcome = c.call(argv);
    if outcome.is_err() {
        // Closed, timed out or garbled: the next line gets a new connection.
        *conn = None;
    }
    outcome
}

fn run_case(
    file: &str,
    case: &Case,
    proto: Proto,
    fin: &mut Side,
    red: &mut Side,
    report: &mut Report,
) {
    let mut conns = Vec::with_capacity(2);
    for side in [&mut *fin, &mut *red] {
        match side.fresh(proto, report) {
            Ok(c) => conns.push(Some(c)),
            Err(e) => {
                report.mismatches.push(Finding {
                    file: file.into(),
                    line: case.first_line,
                    proto: Some(proto),
                    command: "(case setup)".into(),
                    fincache: String::new(),
                    redis: String::new(),
                    note: e,
                });
                return;
            }
        }
    }
    let (mut fconn, mut rconn) = (conns.remove(0), conns.remove(0));
    for line in &case.lines {
        if line.directives.sleep_ms > 0 {
            std::thread::sleep(Duration::from_millis(line.directives.sleep_ms));
        }
        report.commands += 1;
        let f = send(fin, &mut fconn, proto, &line.argv);
        let r = send(red, &mut rconn, proto, &line.argv);
        let finding = || Finding {
            file: file.into(),
            line: line.lineno,
            proto: Some(proto),
            command: line.text.clone(),
            fincache: show(&f),
            redis: show(&r),
            note: String::new(),
        };
        if let Some(reason) = &line.directives.differs {
            let mut d = finding();
            d.note = format!("@differs: {reason}");
            if agree(line, &f, &r) {
                d.note
                    .push_str(" (the replies agree now: is the @differs still needed?)");
            }
            if matches!(&r, Ok(Reply::Error(e)) if e.starts_with("ERR unknown command")) {
                d.note.push_str(
                    " (redis does not know this command: if REASON has spaces, quote it: \
                     @differs=\"...\")",
                );
            }
            report.differs.push(d);
        } else if !agree(line, &f, &r) {
            report.mismatches.push(finding());
        }
    }
}

fn run_file(path: &Path, report: &mut Report) {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            report.notes.push(format!("{file}: unreadable: {e}"));
            return;
        }
    };
    let cases = match casefile::parse(&text) {
        Ok(c) => c,
        Err(errors) => {
            for (line, msg) in errors {
                report.mismatches.push(Finding {
                    file: file.clone(),
                    line,
                    proto: None,
                    command: "(case file)".into(),
                    fincache: String::new(),
                    redis: String::new(),
                    note: msg,
                });
            }
            return;
        }
    };
    report.files += 1;
    report.cases += cases.len();
    let started = std::time::Instant::now();
    let mut fin = Side::new("fincache", TestServer::fincache);
    let mut red = Side::new("redis", || {
        TestServer::redis().expect("redis-server was found at start")
    });
    let before = report.mismatches.len();
    for proto in [Proto::Resp2, Proto::Resp3] {
        // A server that cannot speak the pass's protocol at all is one finding, not one per case.
        if let Err(e) = fin.connect(proto) {
            report.mismatches.push(Finding {
                file: file.clone(),
                line: 0,
                proto: Some(proto),
                command: "(whole file)".into(),
                fincache: String::new(),
                redis: String::new(),
                note: format!("{e}: {} pass skipped", proto.label()),
            });
            continue;
        }
        for case in &cases {
            run_case(&file, case, proto, &mut fin, &mut red, report);
        }
    }
    println!(
        "{file}: {} cases, {} lines, {} mismatches ({:.1}s)",
        cases.len(),
        cases.iter().map(|c| c.lines.len()).sum::<usize>(),
        report.mismatches.len() - before,
        started.elapsed().as_secs_f64()
    );
}

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let only: Option<Vec<String>> = std::env::var("FINCACHE_CASES")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.split(',')
                .map(|p| p.trim().trim_end_matches(".case").to_string())
                .collect()
        });
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "case"))
        .filter(|p| {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
            only.as_ref()
                .is_none_or(|o| stem.is_some_and(|s| o.contains(&s)))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn case_files_match_redis() {
    if support::redis_server_path().is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("redis-server is not installed, and CI must run the differential tests");
        }
        eprintln!();
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!("!!! SKIPPED: redis-server is not installed, so the differential cases     !!!");
        eprintln!("!!! were NOT run. Install it (apt-get install redis-server) or use .ci/run !!!");
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        return;
    }
    let files = case_files();
    assert!(!files.is_empty(), "no tests/cases/*.case files selected");
    let mut report = Report::default();
    for f in &files {
        run_file(f, &mut report);
    }
    println!(
        "\ndifferential: {} files, {} cases, {} commands sent to each server (RESP2 + RESP3)",
        report.files, report.cases, report.commands
    );
    for n in &report.notes {
        println!("note: {n}");
    }
    if !report.differs.is_empty() {
        println!(
            "\ndeliberate differences (@differs), {}:",
            report.differs.len()
        );
        for d in &report.differs {
            d.print();
        }
    }
    if report.mismatches.is_empty() {
        println!("\nno mismatches");
        return;
    }
    // Grouped by file, in line order, the RESP2 and RESP3 findings of a line side by side.
    report
        .mismatches
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    println!("\nMISMATCHES, {}:", report.mismatches.len());
    let mut by_file: Vec<&str> = report.mismatches.iter().map(|m| m.file.as_str()).collect();
    by_file.dedup();
    let mut last_file = "";
    for m in &report.mismatches {
        if m.file != last_file {
            let n = report
                .mismatches
                .iter()
                .filter(|x| x.file == m.file)
                .count();
            println!("-- {} ({n})", m.file);
            last_file = &m.file;
        }
        m.print();
    }
    panic!(
        "{} mismatches between FinCache and redis-server (in {}); see the list above",
        report.mismatches.len(),
        by_file.join(", ")
    );
}
