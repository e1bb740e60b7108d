//! Configuration end to end: the `fincache` binary started with files, environment variables
//! and flags; CONFIG GET/SET/RESETSTAT/REWRITE/HELP over the wire; logging formats; and the
//! generated docs (`docs/CONFIGURATION.md`, `config.yaml`) kept equal to the settings table.

mod support;

use fincache_resp::Reply;
use fincache_server::config::docs;
use fincache_server::config::load::{from_process, Startup};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{free_port, RawConn};

/// A `fincache` process started by these tests, killed on drop. Its standard error goes to a
/// file so tests can read the log.
struct Fin {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Fin {
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    fn conn(&self) -> RawConn {
        RawConn::connect(self.port).expect("connect")
    }
}

impl Drop for Fin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command for the binary in `dir`, with no inherited `FINCACHE_*` variables.
fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fincache"));
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("FINCACHE_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let stderr = std::fs::File::create(dir.join("stderr.log")).expect("stderr file");
    cmd.stdout(Stdio::null()).stderr(Stdio::from(stderr));
    cmd
}

/// Starts the binary in a fresh directory and waits until it accepts on `port` (which the
/// arguments, environment or file must select).
fn start_in(dir: tempfile::TempDir, port: u16, args: &[&str], env: &[(&str, &str)]) -> Fin {
    let mut child = command(dir.path(), args, env).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Fin { child, port, dir };
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            panic!("fincache exited early ({status}): {log}");
        }
        assert!(
            Instant::now() < deadline,
            "fincache did not start on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(port: u16, args: &[&str], env: &[(&str, &str)]) -> Fin {
    start_in(tempfile::tempdir().expect("tempdir"), port, args, env)
}

/// Runs the binary expecting it to exit; returns its exit code and standard error.
fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = command(dir.path(), args, env).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("fincache {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
    (status.code(), log)
}

/// Asserts a start-up failure: exit status 1 and `fincache: ` + a message with every `needle`.
fn assert_fails(args: &[&str], env: &[(&str, &str)], needles: &[&str]) {
    let (code, log) = run_to_exit(args, env);
    assert_eq!(code, Some(1), "{args:?} {env:?}: {log}");
    assert!(log.starts_with("fincache: "), "{log}");
    for n in needles {
        assert!(log.contains(n), "{args:?} {env:?}: expected {n:?} in {log}");
    }
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

/// CONFIG GET of one exact name, over RESP2.
fn get(c: &mut RawConn, name: &str) -> String {
    match c.cmd(&["CONFIG", "GET", name]) {
        Reply::Array(items) if items.len() == 2 => match &items[1] {
            Reply::Bulk(v) => String::from_utf8_lossy(v).into_owned(),
            other => panic!("CONFIG GET {name}: {other:?}"),
        },
        other => panic!("CONFIG GET {name}: {other:?}"),
    }
}

/// The names a CONFIG GET reply (RESP2 flat array) lists, sorted.
fn names_of(reply: &Reply) -> Vec<String> {
    let Reply::Array(items) = reply else {
        panic!("not an array: {reply:?}")
    };
    let mut names: Vec<String> = items
        .chunks(2)
        .map(|p| match &p[0] {
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    names.sort();
    names
}

#[test]
fn no_arguments_serve_on_localhost_6379() {
    let port_free = std::net::TcpListener::bind("127.0.0.1:6379").is_ok();
    if port_free {
        let fin = start(6379, &[], &[]);
        let mut c = fin.conn();
        assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
        assert_eq!(get(&mut c, "bind"), "127.0.0.1");
        assert_eq!(get(&mut c, "port"), "6379");
    } else {
        // Something else holds 6379 here: the default must still be what FinCache tried.
        assert_fails(&[], &[], &["127.0.0.1:6379"]);
    }
}

#[test]
fn defaults_read_back() {
    let port = free_port();
    let fin = start(port, &[], &[("FINCACHE_PORT", &port.to_string())]);
    let mut c = fin.conn();
    for (name, want) in [
        ("bind", "127.0.0.1"),
        ("databases", "16"),
        ("maxmemory", "0"),
        ("maxmemory-policy", "noeviction"),
        ("save", ""),
        ("appendonly", "no"),
        ("timeout", "0"),
        ("hz", "10"),
        ("loglevel", "notice"),
        ("log-format", "text"),
        (
            "client-output-buffer-limit",
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        ("api-enabled", "yes"),
    ] {
        assert_eq!(get(&mut c, name), want, "{name}");
    }
    let cwd = std::fs::canonicalize(fin.dir.path()).unwrap();
    assert_eq!(
        std::fs::canonicalize(get(&mut c, "dir")).unwrap(),
        cwd,
        "dir is the working directory"
    );
}

const OLD_LAYOUT: &str = "# the layout FinCache users already have\n\
server:\n  host: \"127.0.0.1\"\n  port: PORT\n  read_timeout: 30s\n  write_timeout: 0\n  max_connections: 77\n  enable_metrics: false\n  enable_health: false\n\n\
store:\n  max_memory: \"0GB\"\n  eviction_policy: \"lru\"\n  ttl_enabled: true\n  snapshot_enabled: false\n  snapshot_path: \"./data/snapshot.rdb\"\n  snapshot_interval: 5m\n\n\
log:\n  level: warning\n\n\
api:\n  enabled: false\n  port: 8080\n  read_timeout: 30s\n  write_timeout: 30s\n  cors_enabled: true\n  rate_limit: 1000\n";

#[test]
fn layers_file_then_environment_then_flags_then_config_set() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "fincache.yaml",
        &OLD_LAYOUT.replace("PORT", &port.to_string()),
    );
    let file_arg = file.to_str().unwrap();

    // The file alone.
    let fin = start(port, &["--config", file_arg], &[]);
    let mut c = fin.conn();
    assert_eq!(get(&mut c, "timeout"), "30");
    assert_eq!(get(&mut c, "maxclients"), "77");
    assert_eq!(get(&mut c, "maxmemory-policy"), "allkeys-lru");
    assert_eq!(get(&mut c, "loglevel"), "warning");
    assert_eq!(get(&mut c, "snapshot-interval"), "300");
    assert_eq!(get(&mut c, "hz"), "10");
    drop(c);
    drop(fin);

    // The environment overrides the file (FINCACHE_CONFIG names it this time); the old and the
    // Redis-style variable names both work.
    let env = [
        ("FINCACHE_CONFIG", file_arg),
        ("FINCACHE_MAX_CONNECTIONS", "88"),
        ("FINCACHE_HZ", "20"),
        ("FINCACHE_EVICTION_POLICY", "allkeys_lfu"),
        ("FINCACHE_TIMEOUT", "40"),
    ];
    let fin = start(port, &[], &env);
    let mut c = fin.conn();
    assert_eq!(get(&mut c, "maxclients"), "88");
    assert_eq!(get(&mut c, "hz"), "20");
    assert_eq!(get(&mut c, "maxmemory-policy"), "allkeys-lfu");
    assert_eq!(get(&mut c, "timeout"), "40");
    drop(c);
    drop(fin);

    // Flags override the environment.
    let fin = start(port, &["--maxclients", "99", "--HZ", "30"], &env);
    let mut c = fin.conn();
    assert_eq!(get(&mut c, "maxclients"), "99");
    assert_eq!(get(&mut c, "hz"), "30");
    assert_eq!(get(&mut c, "timeout"), "40");

    // CONFIG SET overrides everything, and CONFIG GET shows it.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "100", "hz", "1000"]),
        ok()
    );
    assert_eq!(get(&mut c, "maxclients"), "100");
    assert_eq!(get(&mut c, "hz"), "500");
}

#[test]
fn bad_configuration_stops_start_up_naming_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str, text: &str| write_file(dir.path(), name, text).display().to_string();
    let syntax = p("syntax.yaml", "server:\n  port: [1\n");
    assert_fails(&["--config", &syntax], &[], &["syntax.yaml"]);
    let typo = p("typo.yaml", "store:\n  max_memroy: 1gb\n");
    assert_fails(
        &["--config", &typo],
        &[],
        &["unknown key 'store.max_memroy'"],
    );
    let section = p("section.yaml", "redis:\n  enabled: false\n");
    assert_fails(&["--config", &section], &[], &["unknown key 'redis'"]);
    let bad = p("bad.yaml", "store:\n  max_memory: 1XB\n");
    assert_fails(
        &["--config", &bad],
        &[],
        &["store.max_memory", "'1XB'", "maxmemory", "memory value"],
    );
    assert_fails(
        &["--config", "/nonexistent/fincache.yaml"],
        &[],
        &["/nonexistent/fincache.yaml"],
    );
    assert_fails(
        &[],
        &[("FINCACHE_PORT", "abc")],
        &["FINCACHE_PORT", "'abc'", "port"],
    );
    assert_fails(
        &[],
        &[("FINCACHE_MAXMEMORY_POLICY", "sometimes")],
        &["FINCACHE_MAXMEMORY_POLICY", "'sometimes'"],
    );
    assert_fails(
        &["--timeout", "-1"],
        &[],
        &["--timeout", "'-1'", "between 0 and 2147483647"],
    );
    assert_fails(
        &["--maxmemory", "1x"],
        &[],
        &["--maxmemory", "'1x'", "memory value"],
    );
    assert_fails(&["--port"], &[], &["--port needs a value"]);
    assert_fails(&["--no-such-setting", "1"], &[], &["--no-such-setting"]);
    assert_fails(&["--loglevel", "loud"], &[], &["loglevel", "'loud'"]);
}

#[test]
fn features_not_available_yet_are_refused() {
    assert_fails(
        &["--appendonly", "yes"],
        &[],
        &["appendonly yes is not available yet", "--appendonly"],
    );
    assert_fails(&["--io-threads", "4"], &[], &["io-threads must be 1"]);
    assert_fails(
        &["--daemonize", "yes"],
        &[],
        &["daemonize yes is not supported"],
    );
    // (`save` rules and `snapshot-enabled` are real since RDB snapshots exist: tests/rdb.rs.)
    // A later layer switching the feature off again is fine.
    let port = free_port();
    let fin = start(
        port,
        &["--port", &port.to_string(), "--appendonly", "no"],
        &[("FINCACHE_APPENDONLY", "yes")],
    );
    let mut c = fin.conn();
    for (name, value, words) in [("appendonly", "yes", "appendonly yes is not available yet")] {
        match c.cmd(&["CONFIG", "SET", name, value]) {
            Reply::Error(e) => assert!(
                e.starts_with(&format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {words}"
                )),
                "{e}"
            ),
            other => panic!("CONFIG SET {name} {value}: {other:?}"),
        }
    }
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "io-threads", "2"]),
        err("ERR CONFIG SET failed (possibly related to argument 'io-threads') - can't set immutable config")
    );
    assert_eq!(get(&mut c, "appendonly"), "no");
    assert_eq!(get(&mut c, "maxmemory"), "0");
    // The off values are accepted.
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "appendonly",
            "no",
            "save",
            "",
            "maxmemory",
            "0"
        ]),
        ok()
    );
}

#[test]
fn config_get_globs_names_and_resp3_map() {
    let port = free_port();
    let fin = start(port, &["--port", &port.to_string()], &[]);
    let mut c = fin.conn();
    assert_eq!(
        names_of(&c.cmd(&["CONFIG", "GET", "maxmemory*"])),
        [
            "maxmemory",
            "maxmemory-clients",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples"
        ]
    );
    assert_eq!(
        names_of(&c.cmd(&["CONFIG", "GET", "SLOWLOG-*", "slowlog-max-len", "hz"])),
        ["hz", "slowlog-log-slower-than", "slowlog-max-len"]
    );
    // An exact name echoes the client's spelling; each setting appears once.
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "MaxMemory", "maxmemory"]),
        Reply::Array(vec![bulk("MaxMemory"), bulk("0")])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "lua-time-limit"]),
        Reply::Array(vec![bulk("lua-time-limit"), bulk("5000")])
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "nosuch"]), Reply::Array(vec![]));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "h[xz]"]),
        Reply::Array(vec![bulk("hz"), bulk("10")])
    );
    assert!(names_of(&c.cmd(&["CONFIG", "GET", "*"])).len() > 50);
    assert_eq!(
        c.cmd(&["CONFIG", "GET"]),
        err("ERR wrong number of arguments for 'config|get' command")
    );

    // RESP3: a map.
    let hello = c.cmd(&["HELLO", "3"]);
    assert!(matches!(hello, Reply::Map(_)), "HELLO 3: {hello:?}");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout", "maxmemory-policy"]),
        Reply::Map(vec![
            (bulk("timeout"), bulk("0")),
            (bulk("maxmemory-policy"), bulk("noeviction"))
        ])
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "nosuch"]), Reply::Map(vec![]));
}

#[test]
fn config_set_is_all_or_nothing_with_redis_errors() {
    let port = free_port();
    let fin = start(port, &["--port", &port.to_string()], &[]);
    let mut c = fin.conn();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "hz",
            "20",
            "timeout",
            "5",
            "maxmemory-policy",
            "ALLKEYS-LRU"
        ]),
        ok()
    );
    assert_eq!(
        (get(&mut c, "hz"), get(&mut c, "timeout")),
        ("20".into(), "5".into())
    );
    assert_eq!(get(&mut c, "maxmemory-policy"), "allkeys-lru");

    // One bad value: nothing changes.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "timeout", "6", "maxmemory", "lots"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")
    );
    assert_eq!(
        (get(&mut c, "hz"), get(&mut c, "timeout")),
        ("20".into(), "5".into())
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "nosuch", "1"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "HZ", "31"]),
        err("ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", "7000"]),
        err("ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "lru"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", "/"]),
        err("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz", "30", "timeout"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz"]),
        err("ERR wrong number of arguments for 'config|set' command")
    );
    assert_eq!(get(&mut c, "hz"), "20");

    // A changed setting takes effect: an idle client is closed after `timeout` seconds.
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "1"]), ok());
    let mut idle = fin.conn();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple("PONG".into()));
    idle.set_read_timeout(Duration::from_secs(5));
    assert!(idle.wait_closed().is_some(), "idle client was not closed");
}

#[test]
fn protected_configs_follow_enable_protected_configs() {
    let port = free_port();
    let target = tempfile::tempdir().unwrap();
    let fin = start(
        port,
        &[
            "--port",
            &port.to_string(),
            "--enable-protected-configs",
            "yes",
        ],
        &[],
    );
    let mut c = fin.conn();
    let t = target.path().to_str().unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", t, "dbfilename", "snap.rdb"]),
        ok()
    );
    assert_eq!(
        std::fs::canonicalize(get(&mut c, "dir")).unwrap(),
        std::fs::canonicalize(t).unwrap()
    );
    assert_eq!(get(&mut c, "dbfilename"), "snap.rdb");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dbfilename", "a/b.rdb"]),
        err("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename")
    );
    match c.cmd(&["CONFIG", "SET", "dir", "/nonexistent/dir"]) {
        Reply::Error(e) => assert_eq!(e, "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_rewrite_keeps_the_layout_and_round_trips() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let original = format!(
        "# My FinCache\nserver:\n  host: \"127.0.0.1\"   # loopback only\n  port: {port}\n  read_timeout: 30s\n\n\
         store:\n  # memory\n  eviction_policy: lru\n"
    );
    let file = write_file(dir.path(), "fincache.yaml", &original);
    let fin = start(
        port,
        &[
            "--config",
            file.to_str().unwrap(),
            "--slowlog-max-len",
            "64",
        ],
        &[],
    );
    let mut c = fin.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "42", "hz", "33", "loglevel", "warning"]),
        ok()
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    let text = std::fs::read_to_string(&file).unwrap();
    let want = format!(
        "# My FinCache\nserver:\n  host: \"127.0.0.1\"  # loopback only\n  port: {port}\n  read_timeout: 42\n  hz: 33\n\n\
         store:\n  # memory\n  eviction_policy: allkeys-lru\n\nlog:\n  level: warning\n  slowlog_max_len: 64\n"
    );
    assert_eq!(text, want);
    drop(c);
    drop(fin);

    // The rewritten file starts a server with the same values.
    let fin = start(port, &["--config", file.to_str().unwrap()], &[]);
    let mut c = fin.conn();
    for (name, want) in [
        ("timeout", "42"),
        ("hz", "33"),
        ("loglevel", "warning"),
        ("slowlog-max-len", "64"),
        ("maxmemory-policy", "allkeys-lru"),
    ] {
        assert_eq!(get(&mut c, name), want, "{name}");
    }

    // Without a config file, Redis's error.
    let other = free_port();
    let plain = start(other, &["--port", &other.to_string()], &[]);
    assert_eq!(
        plain.conn().cmd(&["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
}

#[test]
fn resetstat_and_help() {
    let port = free_port();
    let fin = start(port, &["--port", &port.to_string()], &[]);
    let mut c = fin.conn();
    for _ in 0..5 {
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["GET", "k"]);
        c.cmd(&["GET", "missing"]);
    }
    let stat = |c: &mut RawConn, field: &str| -> u64 {
        let Reply::Bulk(info) = c.cmd(&["INFO", "stats"]) else {
            panic!("INFO")
        };
        let info = String::from_utf8(info).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or_else(|| panic!("{field} not in INFO"))
            .trim()
            .parse()
            .unwrap()
    };
    assert!(stat(&mut c, "keyspace_hits") >= 5);
    assert!(stat(&mut c, "total_commands_processed") >= 15);
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(stat(&mut c, "keyspace_hits"), 0);
    assert_eq!(stat(&mut c, "keyspace_misses"), 0);
    // RESETSTAT and the two INFO calls above.
    assert_eq!(stat(&mut c, "total_commands_processed"), 3);
    assert_eq!(
        c.cmd(&["CONFIG", "RESETSTAT", "x"]),
        err("ERR wrong number of arguments for 'config|resetstat' command")
    );

    let help: Vec<Reply> = [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ]
    .iter()
    .map(|s| Reply::Simple(s.to_string()))
    .collect();
    assert_eq!(c.cmd(&["CONFIG", "HELP"]), Reply::Array(help));
    assert_eq!(
        c.cmd(&["CONFIG", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.")
    );
}

/// Waits until `read()` contains `needle`.
fn wait_for_text(read: impl Fn() -> String, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = read();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} never appeared in: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn json_logs_are_json_lines() {
    let port = free_port();
    let fin = start(
        port,
        &["--port", &port.to_string(), "--log-format", "json"],
        &[],
    );
    let log = wait_for_text(|| fin.stderr(), "accepting");
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not a JSON object: {line}"
        );
        let v: serde_yaml::Value =
            serde_yaml::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let map = v.as_mapping().expect("object");
        assert!(
            map.contains_key("level") && map.contains_key("timestamp"),
            "{line}"
        );
    }
}

#[test]
fn loglevel_changes_at_run_time_and_logfile_is_used() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let yaml = write_file(
        dir.path(),
        "fincache.yaml",
        &format!("server:\n  port: {port}\n"),
    );
    let logfile = dir.path().join("fincache.log");
    let fin = start(
        port,
        &[
            "--config",
            yaml.to_str().unwrap(),
            "--logfile",
            logfile.to_str().unwrap(),
            "--loglevel",
            "nothing",
        ],
        &[],
    );
    let mut c = fin.conn();
    let read_log = || std::fs::read_to_string(&logfile).unwrap_or_default();
    // CONFIG REWRITE logs a warning; at `nothing` it is not written.
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    std::thread::sleep(Duration::from_millis(200));
    assert!(!read_log().contains("CONFIG REWRITE"), "{}", read_log());
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "warning"]), ok());
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    wait_for_text(read_log, "CONFIG REWRITE executed with success.");
    assert!(
        !fin.stderr().contains("CONFIG REWRITE"),
        "logfile output went to stderr"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "logfile", "/tmp/other.log"]),
        err("ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config")
    );
}

// ---- the generated documentation

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const TABLE_START: &str = "<!-- settings-table:start";
const TABLE_END: &str = "<!-- settings-table:end -->";

/// `docs/CONFIGURATION.md` holds exactly the generated table; `FINCACHE_BLESS=1` rewrites it.
#[test]
fn configuration_doc_matches_the_table() {
    let path = repo_root().join("docs/CONFIGURATION.md");
    let doc = std::fs::read_to_string(&path).expect("docs/CONFIGURATION.md");
    let start = doc.find(TABLE_START).expect("start marker");
    let body_start = start + doc[start..].find('\n').expect("marker line") + 1;
    let end = doc.find(TABLE_END).expect("end marker");
    let table = docs::markdown_table();
    if std::env::var_os("FINCACHE_BLESS").is_some() {
        let new = format!("{}{}{}", &doc[..body_start], table, &doc[end..]);
        std::fs::write(&path, new).unwrap();
        return;
    }
    assert_eq!(
        &doc[body_start..end],
        table,
        "run with FINCACHE_BLESS=1 to regenerate"
    );
}

/// `config.yaml` at the repository root is the generated example, and loads to the defaults.
#[test]
fn example_config_yaml_matches_the_table_and_loads_to_defaults() {
    let path = repo_root().join("config.yaml");
    let example = docs::example_yaml();
    if std::env::var_os("FINCACHE_BLESS").is_some() {
        std::fs::write(&path, &example).unwrap();
    }
    let text = std::fs::read_to_string(&path).expect("config.yaml");
    assert_eq!(text, example, "run with FINCACHE_BLESS=1 to regenerate");
    let loaded = match from_process(vec!["--config".into(), path.display().to_string()], vec![])
        .expect("config.yaml loads")
    {
        Startup::Run { config, .. } => *config,
        other => panic!("{other:?}"),
    };
    let defaults = fincache_server::config::Config {
        config_file: loaded.config_file.clone(),
        ..Default::default()
    };
    assert_eq!(loaded, defaults);
}
