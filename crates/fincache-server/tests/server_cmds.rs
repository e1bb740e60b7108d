//! Server introspection and control through real clients: INFO, COMMAND, SLOWLOG, LATENCY,
//! DEBUG, TIME, LASTSAVE, SHUTDOWN. Where a reply is deterministic it is compared with the
//! reference `redis-server`.

mod support;

use fincache_resp::Reply;
use redis::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{raw, RawConn, TestServer};

fn info(conn: &mut redis::Connection, section: &str) -> HashMap<String, String> {
    let text: String = redis::cmd("INFO").arg(section).query(conn).expect("INFO");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(map: &HashMap<String, String>, field: &str) -> u64 {
    map.get(field)
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .parse()
        .unwrap_or_else(|_| panic!("{field} is not a number: {:?}", map[field]))
}

fn err_text(r: redis::RedisResult<Value>) -> String {
    match r {
        Err(e) => {
            let code = e.code().unwrap_or("");
            let detail = e.detail().unwrap_or("");
            format!("{code} {detail}").trim().to_string()
        }
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

const INFO_FIELDS: &[(&str, &[&str])] = &[
    (
        "Server",
        &[
            "redis_version",
            "redis_mode",
            "os",
            "arch_bits",
            "process_id",
            "run_id",
            "tcp_port",
            "uptime_in_seconds",
            "uptime_in_days",
            "hz",
            "configured_hz",
            "lru_clock",
            "executable",
            "config_file",
        ],
    ),
    (
        "Clients",
        &["connected_clients", "blocked_clients", "maxclients"],
    ),
    (
        "Memory",
        &[
            "used_memory",
            "used_memory_human",
            "used_memory_rss",
            "used_memory_rss_human",
            "used_memory_peak",
            "used_memory_peak_human",
            "maxmemory",
            "maxmemory_human",
            "maxmemory_policy",
            "mem_fragmentation_ratio",
            "mem_allocator",
        ],
    ),
    (
        "Persistence",
        &[
            "loading",
            "rdb_changes_since_last_save",
            "rdb_bgsave_in_progress",
            "rdb_last_save_time",
            "rdb_last_bgsave_status",
            "aof_enabled",
        ],
    ),
    (
        "Stats",
        &[
            "total_connections_received",
            "total_commands_processed",
            "instantaneous_ops_per_sec",
            "total_net_input_bytes",
            "total_net_output_bytes",
            "rejected_connections",
            "expired_keys",
            "evicted_keys",
            "keyspace_hits",
            "keyspace_misses",
            "total_error_replies",
        ],
    ),
    (
        "Replication",
        &[
            "role",
            "connected_slaves",
            "master_replid",
            "master_repl_offset",
        ],
    ),
    ("CPU", &["used_cpu_sys", "used_cpu_user"]),
];

#[test]
fn info_has_every_field_and_the_keyspace() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let text: String = redis::cmd("INFO").arg("everything").query(&mut c).unwrap();
    for (section, fields) in INFO_FIELDS {
        assert!(
            text.contains(&format!("# {section}\r\n")),
            "no # {section} header"
        );
        for f in *fields {
            assert!(text.contains(&format!("\r\n{f}:")), "INFO has no {f}");
        }
    }
    for header in ["# Commandstats", "# Errorstats", "# Keyspace"] {
        assert!(text.contains(header), "no {header}");
    }
    let i = info(&mut c, "everything");
    assert!(i["redis_version"].starts_with("7."));
    assert_eq!(i["redis_mode"], "standalone");
    assert_eq!(i["role"], "master");
    assert_eq!(num(&i, "tcp_port"), u64::from(s.port));
    assert!(num(&i, "process_id") > 0);
    assert_eq!(i["run_id"].len(), 40);
    assert!(
        num(&i, "used_memory") > 0,
        "jemalloc reports allocated bytes"
    );
    assert!(num(&i, "used_memory_rss") > 0);
    assert!(i["mem_allocator"].starts_with("jemalloc-"));
    assert!(num(&i, "connected_clients") >= 1);
    assert_eq!(i["db0"], "keys=1,expires=0,avg_ttl=0");
    assert!(!i.contains_key("db1"), "empty databases are not listed");
    assert!(num(&i, "rdb_changes_since_last_save") >= 1);
    // Default INFO leaves commandstats out; sections are separated by one blank line.
    let default: String = redis::cmd("INFO").query(&mut c).unwrap();
    assert!(!default.contains("# Commandstats"));
    assert!(default.contains("\r\n\r\n# Clients\r\n"));
    let server_only: String = redis::cmd("INFO").arg("SERVER").query(&mut c).unwrap();
    assert!(server_only.starts_with("# Server\r\n"));
    assert!(!server_only.contains("# Clients"));
    let none: String = redis::cmd("INFO")
        .arg("nosuchsection")
        .query(&mut c)
        .unwrap();
    assert_eq!(none, "");
    let two: String = redis::cmd("INFO")
        .arg("keyspace")
        .arg("cluster")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        two,
        "# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"
    );
}

#[test]
fn keyspace_hits_and_misses_move() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    let before = info(&mut c, "stats");
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("missing").query(&mut c).unwrap();
    let after = info(&mut c, "stats");
    assert_eq!(
        num(&after, "keyspace_hits"),
        num(&before, "keyspace_hits") + 2
    );
    assert_eq!(
        num(&after, "keyspace_misses"),
        num(&before, "keyspace_misses") + 1
    );
    assert!(
        num(&after, "total_commands_processed") >= num(&before, "total_commands_processed") + 4
    );
    assert!(num(&after, "total_net_input_bytes") > num(&before, "total_net_input_bytes"));
}

#[test]
fn instantaneous_ops_per_sec_is_sampled() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut seen = 0;
    while Instant::now() < deadline && seen == 0 {
        for _ in 0..200 {
            let _: String = redis::cmd("PING").query(&mut c).unwrap();
        }
        seen = num(&info(&mut c, "stats"), "instantaneous_ops_per_sec");
    }
    assert!(seen > 0, "ops/sec stayed 0 under load");
}

#[test]
fn commandstats_and_errorstats_count_like_redis() {
    let mut servers = vec![TestServer::fincache()];
    servers.extend(TestServer::redis());
    let mut lines = Vec::new();
    for s in &servers {
        let mut c = s.conn();
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query(&mut c)
            .unwrap_or(());
        let _: Option<String> = redis::cmd("GET").arg("a").query(&mut c).unwrap();
        let _ = raw(&mut c, &["GET"]); // wrong arity: rejected
        let _ = raw(&mut c, &["GET", "a", "b"]); // rejected
        let _ = raw(&mut c, &["NOSUCHCOMMAND"]); // counted nowhere but errorstats
        let _ = raw(&mut c, &["SLOWLOG", "LEN", "x"]); // rejected on the subcommand
        let _ = raw(&mut c, &["SLOWLOG", "GET", "-5"]); // failed
        let text: String = redis::cmd("INFO")
            .arg("commandstats")
            .arg("errorstats")
            .query(&mut c)
            .unwrap();
        let get = text
            .lines()
            .find(|l| l.starts_with("cmdstat_get:"))
            .expect("cmdstat_get")
            .to_string();
        assert!(get.starts_with("cmdstat_get:calls=1,usec="), "{get}");
        assert!(get.ends_with(",rejected_calls=2,failed_calls=0"), "{get}");
        let len = text
            .lines()
            .find(|l| l.starts_with("cmdstat_slowlog|len:"))
            .expect("cmdstat_slowlog|len");
        assert!(
            len.ends_with("calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"),
            "{len}"
        );
        let sget = text
            .lines()
            .find(|l| l.starts_with("cmdstat_slowlog|get:"))
            .expect("cmdstat_slowlog|get");
        assert!(sget.ends_with(",rejected_calls=0,failed_calls=1"), "{sget}");
        assert!(!text.contains("nosuchcommand"));
        lines.push(
            text.lines()
                .filter(|l| l.starts_with("errorstat_"))
                .map(str::to_string)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(lines[0], vec!["errorstat_ERR:count=5".to_string()]);
    if lines.len() == 2 {
        assert_eq!(lines[0], lines[1], "errorstats differ from redis-server");
    }
}

/// Flags, ACL categories and key positions of one `COMMAND INFO` entry.
fn summary(v: &Value) -> (String, i64, Vec<String>, [i64; 3], Vec<String>) {
    let Value::Array(items) = v else {
        panic!("not an entry: {v:?}")
    };
    let text = |v: &Value| match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    };
    let int = |v: &Value| match v {
        Value::Int(n) => *n,
        other => panic!("not int: {other:?}"),
    };
    let list = |v: &Value| match v {
        Value::Array(a) | Value::Set(a) => {
            let mut l: Vec<String> = a.iter().map(text).collect();
            l.sort();
            l
        }
        other => panic!("not a list: {other:?}"),
    };
    (
        text(&items[0]),
        int(&items[1]),
        list(&items[2]),
        [int(&items[3]), int(&items[4]), int(&items[5])],
        list(&items[6]),
    )
}

fn command_info(c: &mut redis::Connection, names: &[&str]) -> Vec<Value> {
    let mut cmd = redis::cmd("COMMAND");
    cmd.arg("INFO");
    for n in names {
        cmd.arg(*n);
    }
    cmd.query(c).expect("COMMAND INFO")
}

/// The commands this family owns (and a few basic ones): their table entries must match
/// redis-server's exactly.
const COMPARED: &[&str] = &[
    "get",
    "set",
    "ping",
    "echo",
    "info",
    "time",
    "lastsave",
    "shutdown",
    "debug",
    "slowlog",
    "slowlog|get",
    "slowlog|len",
    "slowlog|reset",
    "slowlog|help",
    "latency",
    "latency|latest",
    "latency|history",
    "latency|reset",
    "latency|help",
    "command",
    "command|count",
    "command|info",
    "command|docs",
    "command|list",
    "command|getkeys",
    "command|getkeysandflags",
    "command|help",
];

#[test]
fn command_info_matches_redis() {
    let Some(r) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let f = TestServer::fincache();
    let ours = command_info(&mut f.conn(), COMPARED);
    let theirs = command_info(&mut r.conn(), COMPARED);
    for ((name, a), b) in COMPARED.iter().zip(&ours).zip(&theirs) {
        assert_ne!(*a, Value::Nil, "FinCache has no {name}");
        assert_eq!(summary(a), summary(b), "COMMAND INFO {name}");
    }
}

// The whole table is compared with redis-server's in tests/command_table.rs (with its written
// allow-list of deliberate differences); this file checks the COMMAND family itself.

#[test]
fn command_count_and_list_agree() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    let count: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut c).unwrap();
    let all: Vec<Value> = redis::cmd("COMMAND").query(&mut c).unwrap();
    assert_eq!(count as usize, all.len());
    let list: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut c).unwrap();
    assert_eq!(
        list.iter().filter(|n| !n.contains('|')).count(),
        count as usize
    );
    assert!(list.contains(&"slowlog|get".to_string()));
    let info_all: Vec<Value> = redis::cmd("COMMAND").arg("INFO").query(&mut c).unwrap();
    assert_eq!(info_all.len(), all.len());
    let filtered: Vec<String> = redis::cmd("COMMAND")
        .arg("LIST")
        .arg("FILTERBY")
        .arg("PATTERN")
        .arg("SLOWLOG*")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        filtered,
        vec![
            "slowlog",
            "slowlog|get",
            "slowlog|len",
            "slowlog|reset",
            "slowlog|help"
        ]
    );
    let by_cat: Vec<String> = redis::cmd("COMMAND")
        .arg("LIST")
        .arg("FILTERBY")
        .arg("ACLCAT")
        .arg("string")
        .query(&mut c)
        .unwrap();
    assert!(by_cat.contains(&"get".to_string()) && !by_cat.contains(&"ping".to_string()));
    let none: Vec<String> = redis::cmd("COMMAND")
        .arg("LIST")
        .arg("FILTERBY")
        .arg("MODULE")
        .arg("x")
        .query(&mut c)
        .unwrap();
    assert!(none.is_empty());
    // Unknown names: null entries in INFO, left out of DOCS.
    let v = command_info(&mut c, &["get", "nosuch", "config|nosuch"]);
    assert_eq!(v[1], Value::Nil);
    assert_eq!(v[2], Value::Nil);
}

#[test]
fn command_docs_resp3_shape() {
    let s = TestServer::fincache();
    let mut c = RawConn::connect(s.port).unwrap();
    c.cmd(&["HELLO", "3"]);
    let Reply::Map(docs) = c.cmd(&["COMMAND", "DOCS", "get", "nosuch", "slowlog"]) else {
        panic!("DOCS is not a map")
    };
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].0, Reply::Bulk(b"get".to_vec()));
    let Reply::Map(get) = &docs[0].1 else {
        panic!("get's docs are not a map")
    };
    let keys: Vec<String> = get.iter().map(|(k, _)| support::show_reply(k)).collect();
    assert_eq!(
        keys,
        ["\"summary\"", "\"since\"", "\"group\"", "\"complexity\""]
    );
    let Reply::Map(slowlog) = &docs[1].1 else {
        panic!()
    };
    let subs = slowlog
        .iter()
        .find(|(k, _)| *k == Reply::Bulk(b"subcommands".to_vec()))
        .expect("subcommands");
    let Reply::Map(subs) = &subs.1 else { panic!() };
    assert!(subs
        .iter()
        .any(|(k, _)| *k == Reply::Bulk(b"slowlog|get".to_vec())));
    // INFO is verbatim text in RESP3.
    match c.cmd(&["INFO", "server"]) {
        Reply::Verbatim(fmt, text) => {
            assert_eq!(fmt, "txt");
            assert!(text.starts_with(b"# Server\r\n"));
        }
        other => panic!("INFO in RESP3: {other:?}"),
    }
}

#[test]
fn command_getkeys_like_redis() {
    let mut servers = vec![TestServer::fincache()];
    servers.extend(TestServer::redis());
    let mut transcripts = Vec::new();
    for s in &servers {
        let mut c = s.conn();
        let mut t = Vec::new();
        for argv in [
            &["COMMAND", "GETKEYS", "SET", "a", "b"][..],
            &["COMMAND", "GETKEYS", "get", "k"],
            &["COMMAND", "GETKEYS", "get"],
            &["COMMAND", "GETKEYS", "nosuch", "x"],
            &["COMMAND", "GETKEYS", "ping", "x"],
            &["COMMAND", "GETKEYS", "get", "a", "b"],
            &["COMMAND", "GETKEYS", "slowlog", "get"],
            &["COMMAND", "GETKEYSANDFLAGS", "get", "k"],
        ] {
            t.push(match raw(&mut c, argv) {
                Ok(v) => format!("{v:?}"),
                Err(e) => format!("error {}", err_text(Err(e))),
            });
        }
        transcripts.push(t);
    }
    assert_eq!(
        transcripts[0][0],
        format!("{:?}", Value::Array(vec![Value::BulkString(b"a".to_vec())]))
    );
    assert_eq!(transcripts[0][3], "error ERR Invalid command specified");
    assert_eq!(
        transcripts[0][4],
        "error ERR The command has no key arguments"
    );
    assert_eq!(
        transcripts[0][5],
        "error ERR Invalid number of arguments specified for command"
    );
    if transcripts.len() == 2 {
        assert_eq!(transcripts[0], transcripts[1]);
    }
}

#[test]
fn slowlog_records_with_threshold_zero() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    let ok: String = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg("0")
        .query(&mut c)
        .expect("CONFIG SET slowlog-log-slower-than");
    assert_eq!(ok, "OK");
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut c).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("tester")
        .query(&mut c)
        .unwrap_or(());
    let long = "x".repeat(200);
    let _: () = redis::cmd("SET").arg("k").arg(&long).query(&mut c).unwrap();
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert!(len >= 2, "SLOWLOG RESET and SET were logged: {len}");
    // Newest first: SLOWLOG LEN, then SET (a command is logged after it ran).
    let entries: Vec<Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg("2")
        .query(&mut c)
        .unwrap();
    assert_eq!(entries.len(), 2);
    let Value::Array(e) = &entries[1] else {
        panic!()
    };
    assert_eq!(e.len(), 6);
    let Value::Array(args) = &e[3] else { panic!() };
    assert_eq!(args[0], Value::BulkString(b"SET".to_vec()));
    let expected = format!("{}... (72 more bytes)", "x".repeat(128));
    assert_eq!(args[2], Value::BulkString(expected.into_bytes()));
    let Value::BulkString(peer) = &e[4] else {
        panic!()
    };
    assert!(String::from_utf8_lossy(peer).starts_with("127.0.0.1:"));
    let Value::Int(ts) = e[1] else { panic!() };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((ts - now).abs() < 10);
    // A negative threshold disables the log; max-len 0 empties it.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg("-1")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert_eq!(len, 0);
    assert_eq!(
        err_text(raw(&mut c, &["SLOWLOG", "GET", "-2"])),
        "ERR count should be greater than or equal to -1"
    );
    assert_eq!(
        err_text(raw(&mut c, &["SLOWLOG", "GET", "1", "2"])),
        "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
    );
}

#[test]
fn debug_sleep_blocks_and_feeds_latency_monitor() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    let _: String = redis::cmd("CONFIG")
        .arg("SET")
        .arg("latency-monitor-threshold")
        .arg("50")
        .query(&mut c)
        .expect("CONFIG SET latency-monitor-threshold");
    let started = Instant::now();
    let ok: String = redis::cmd("DEBUG")
        .arg("SLEEP")
        .arg("0.1")
        .query(&mut c)
        .unwrap();
    assert_eq!(ok, "OK");
    assert!(started.elapsed() >= Duration::from_millis(100));

    // Another client waits while DEBUG SLEEP runs.
    let port = s.port;
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let _: String = redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg("0.5")
            .query(&mut c)
            .unwrap();
    });
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "GET did not wait for DEBUG SLEEP: {:?}",
        started.elapsed()
    );
    sleeper.join().unwrap();

    let latest: Vec<Vec<Value>> = redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    let command = latest
        .iter()
        .find(|e| e[0] == Value::BulkString(b"command".to_vec()))
        .expect("a `command` latency event");
    let (Value::Int(last), Value::Int(max)) = (&command[2], &command[3]) else {
        panic!("{command:?}")
    };
    assert!(*last >= 100 && *max >= 500, "{command:?}");
    let history: Vec<(i64, i64)> = redis::cmd("LATENCY")
        .arg("HISTORY")
        .arg("command")
        .query(&mut c)
        .unwrap();
    assert!(!history.is_empty());
    let unknown: Vec<Value> = redis::cmd("LATENCY")
        .arg("HISTORY")
        .arg("nosuch")
        .query(&mut c)
        .unwrap();
    assert!(unknown.is_empty());
    let n: i64 = redis::cmd("LATENCY").arg("RESET").query(&mut c).unwrap();
    assert_eq!(n, 1);
    let latest: Vec<Value> = redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    assert!(latest.is_empty());
}

#[test]
fn debug_object_like_redis() {
    let mut servers = vec![TestServer::fincache()];
    servers.extend(TestServer::redis());
    let mut seen = Vec::new();
    for s in &servers {
        let mut c = s.conn();
        let _: () = redis::cmd("SET")
            .arg("s")
            .arg("hello")
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("SET").arg("n").arg("123").query(&mut c).unwrap();
        let _: () = redis::cmd("SET")
            .arg("big")
            .arg("99999999999")
            .query(&mut c)
            .unwrap();
        let mut t = Vec::new();
        for key in ["s", "n", "big"] {
            let line: String = redis::cmd("DEBUG")
                .arg("OBJECT")
                .arg(key)
                .query(&mut c)
                .unwrap();
            assert!(line.starts_with("Value at:0x"), "{line}");
            // Drop the address and the clock fields, which differ by nature.
            let fields: Vec<&str> = line
                .split(' ')
                .filter(|f| {
                    f.starts_with("refcount:")
                        || f.starts_with("encoding:")
                        || f.starts_with("serializedlength:")
                })
                .collect();
            t.push(fields.join(" "));
            assert!(line.contains(" lru_seconds_idle:"), "{line}");
        }
        t.push(err_text(raw(&mut c, &["DEBUG", "OBJECT", "missing"])));
        t.push(err_text(raw(&mut c, &["DEBUG", "nosuch"])));
        t.push(err_text(raw(&mut c, &["DEBUG", "sleep"])));
        seen.push(t);
    }
    assert_eq!(
        seen[0][..3],
        [
            "refcount:1 encoding:embstr serializedlength:6",
            "refcount:2147483647 encoding:int serializedlength:2",
            "refcount:1 encoding:int serializedlength:12",
        ]
    );
    assert_eq!(seen[0][3], "ERR no such key");
    if seen.len() == 2 {
        assert_eq!(seen[0], seen[1]);
    }
}

#[test]
fn debug_set_active_expire_switch() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    for arg in ["0", "1"] {
        let ok: String = redis::cmd("DEBUG")
            .arg("SET-ACTIVE-EXPIRE")
            .arg(arg)
            .query(&mut c)
            .unwrap();
        assert_eq!(ok, "OK");
    }
    assert_eq!(
        err_text(raw(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE"])),
        "ERR unknown subcommand or wrong number of arguments for 'SET-ACTIVE-EXPIRE'. Try DEBUG HELP."
    );
}

#[test]
fn time_and_lastsave_are_sane() {
    let s = TestServer::fincache();
    let mut c = s.conn();
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query(&mut c).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2, "TIME {secs} vs {now}");
    assert!(micros < 1_000_000);
    let last: u64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(last <= now && now - last < 120);
    // Both reply types are bulk strings for TIME, as Redis's.
    let v = raw(&mut c, &["TIME"]).unwrap();
    let Value::Array(parts) = v else { panic!() };
    assert!(parts.iter().all(|p| matches!(p, Value::BulkString(_))));
    assert_eq!(
        err_text(raw(&mut c, &["TIME", "x"])),
        "ERR wrong number of arguments for 'time' command"
    );
}

#[test]
fn shutdown_stops_the_process() {
    let mut s = TestServer::fincache();
    let mut c = s.conn();
    assert_eq!(
        err_text(raw(&mut c, &["SHUTDOWN", "ABORT"])),
        "ERR No shutdown in progress."
    );
    assert_eq!(
        err_text(raw(&mut c, &["SHUTDOWN", "FOO"])),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(raw(&mut c, &["SHUTDOWN", "NOSAVE", "SAVE"])),
        "ERR syntax error"
    );
    // (SHUTDOWN SAVE writes a snapshot now: tests/rdb.rs.)
    assert!(!s.exited());
    // No reply: the connection just closes.
    let mut r = RawConn::connect(s.port).unwrap();
    r.send_raw(&support::encode_command(&["SHUTDOWN", "NOSAVE"]))
        .unwrap();
    assert!(r.wait_closed().is_some());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.exited() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(s.exited(), "the server still runs after SHUTDOWN");
}
