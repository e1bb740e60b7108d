//! List commands through real clients: every command and option of the list family with
//! Redis's exact replies and error texts, reply types in RESP2 and RESP3 (null vs empty array),
//! WRONGTYPE, keys deleted when emptied, keyspace hit/miss accounting, the listpack/quicklist
//! encoding switches under `list-max-listpack-size`, and a large list (many nodes) checked
//! against a model. Blocking behaviour has its own file (`tests/blocking.rs`).

mod support;
use support::err_text;

use fincache_resp::Reply;
use redis::{Connection, Value};
use std::collections::VecDeque;
use support::{raw, RawConn, TestServer};

fn err(conn: &mut Connection, args: &[&str]) -> String {
    err_text(raw(conn, args))
}

fn int(conn: &mut Connection, args: &[&str]) -> i64 {
    match raw(conn, args) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

fn ok(conn: &mut Connection, args: &[&str]) {
    match raw(conn, args) {
        Ok(Value::Okay) => {}
        Ok(Value::SimpleString(s)) if s == "OK" => {}
        other => panic!("{args:?}: expected OK, got {other:?}"),
    }
}

fn nil(conn: &mut Connection, args: &[&str]) {
    match raw(conn, args) {
        Ok(Value::Nil) => {}
        other => panic!("{args:?}: expected nil, got {other:?}"),
    }
}

fn simple(conn: &mut Connection, args: &[&str]) -> String {
    match raw(conn, args) {
        Ok(Value::SimpleString(s)) => s,
        other => panic!("{args:?}: expected a status reply, got {other:?}"),
    }
}

fn bulk(conn: &mut Connection, args: &[&str]) -> String {
    match raw(conn, args) {
        Ok(Value::BulkString(b)) => String::from_utf8(b).expect("utf-8 reply"),
        other => panic!("{args:?}: expected a bulk string, got {other:?}"),
    }
}

/// An array of bulk strings as text.
fn strs(conn: &mut Connection, args: &[&str]) -> Vec<String> {
    match raw(conn, args) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::BulkString(b) => String::from_utf8(b).expect("utf-8"),
                other => panic!("{args:?}: expected bulk items, got {other:?}"),
            })
            .collect(),
        other => panic!("{args:?}: expected an array, got {other:?}"),
    }
}

fn ints(conn: &mut Connection, args: &[&str]) -> Vec<i64> {
    match raw(conn, args) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Int(n) => n,
                other => panic!("{args:?}: expected integers, got {other:?}"),
            })
            .collect(),
        other => panic!("{args:?}: expected an array, got {other:?}"),
    }
}

fn all(conn: &mut Connection, key: &str) -> Vec<String> {
    strs(conn, &["LRANGE", key, "0", "-1"])
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn push_pop_and_lengths() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    assert_eq!(int(&mut c, &["RPUSH", "l", "a", "b", "c"]), 3);
    assert_eq!(int(&mut c, &["LPUSH", "l", "x", "y"]), 5);
    assert_eq!(all(&mut c, "l"), v(&["y", "x", "a", "b", "c"]));
    assert_eq!(int(&mut c, &["LLEN", "l"]), 5);
    assert_eq!(int(&mut c, &["LLEN", "missing"]), 0);
    assert_eq!(bulk(&mut c, &["LPOP", "l"]), "y");
    assert_eq!(bulk(&mut c, &["RPOP", "l"]), "c");
    assert_eq!(strs(&mut c, &["LPOP", "l", "2"]), v(&["x", "a"]));
    assert_eq!(strs(&mut c, &["RPOP", "l", "10"]), v(&["b"]));
    // Emptied: the key is gone.
    assert_eq!(int(&mut c, &["EXISTS", "l"]), 0);
    nil(&mut c, &["LPOP", "l"]);
    nil(&mut c, &["RPOP", "l"]);
    // PUSHX only onto existing lists.
    assert_eq!(int(&mut c, &["LPUSHX", "l", "a"]), 0);
    assert_eq!(int(&mut c, &["RPUSHX", "l", "a"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "l"]), 0);
    int(&mut c, &["RPUSH", "l", "m"]);
    assert_eq!(int(&mut c, &["LPUSHX", "l", "h1", "h2"]), 3);
    assert_eq!(int(&mut c, &["RPUSHX", "l", "t"]), 4);
    assert_eq!(all(&mut c, "l"), v(&["h2", "h1", "m", "t"]));
    assert_eq!(simple(&mut c, &["TYPE", "l"]), "list");
    // Binary-safe values, empty values.
    int(&mut c, &["RPUSH", "b", "", "a b\r\n\x00c"]);
    assert_eq!(all(&mut c, "b"), v(&["", "a b\r\n\x00c"]));
    // Errors.
    assert_eq!(
        err(&mut c, &["LPOP", "l", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        err(&mut c, &["LPOP", "l", "x"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "COUNT", "x"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        err(&mut c, &["LPOP", "l", "1", "2"]),
        "ERR wrong number of arguments for 'lpop' command"
    );
    assert_eq!(
        err(&mut c, &["RPUSH", "l"]),
        "ERR wrong number of arguments for 'rpush' command"
    );
}

#[test]
fn pop_with_count_reply_types() {
    let server = TestServer::fincache();
    for proto in ["2", "3"] {
        let mut r = RawConn::connect(server.port).expect("connect");
        r.cmd(&["HELLO", proto]);
        r.cmd(&["DEL", "l"]);
        // Missing key: null (bulk) without count, null array with a count (even 0).
        assert_eq!(r.cmd(&["LPOP", "l"]), Reply::Null);
        assert_eq!(r.cmd(&["LPOP", "l", "0"]), Reply::Null);
        assert_eq!(r.cmd(&["RPOP", "l", "3"]), Reply::Null);
        r.cmd(&["RPUSH", "l", "a", "b"]);
        // Existing key, count 0: an empty array.
        assert_eq!(r.cmd(&["LPOP", "l", "0"]), Reply::Array(vec![]));
        assert_eq!(
            r.cmd(&["RPOP", "l", "1"]),
            Reply::Array(vec![Reply::Bulk(b"b".to_vec())])
        );
        assert_eq!(r.cmd(&["LMPOP", "1", "missing", "LEFT"]), Reply::Null);
        assert_eq!(r.cmd(&["BLPOP", "missing", "0.01"]), Reply::Null);
        assert_eq!(
            r.cmd(&["BLMOVE", "missing", "d", "LEFT", "LEFT", "0.01"]),
            Reply::Null
        );
        assert_eq!(r.cmd(&["LPOS", "missing", "a"]), Reply::Null);
        assert_eq!(
            r.cmd(&["LPOS", "missing", "a", "COUNT", "0"]),
            Reply::Array(vec![])
        );
        assert_eq!(
            r.cmd(&["LRANGE", "missing", "0", "-1"]),
            Reply::Array(vec![])
        );
    }
    // The wire form of the nulls differs by protocol.
    let mut r = RawConn::connect(server.port).expect("connect");
    use std::io::Read;
    r.send(&["LPOP", "nothing", "2"]).unwrap();
    let mut buf = [0u8; 5];
    r.stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"*-1\r\n");
}

#[test]
fn ranges_indexes_and_sets() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    int(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(strs(&mut c, &["LRANGE", "l", "1", "2"]), v(&["b", "c"]));
    assert_eq!(strs(&mut c, &["LRANGE", "l", "-2", "-1"]), v(&["d", "e"]));
    assert_eq!(strs(&mut c, &["LRANGE", "l", "-100", "100"]).len(), 5);
    assert!(strs(&mut c, &["LRANGE", "l", "3", "1"]).is_empty());
    assert!(strs(&mut c, &["LRANGE", "l", "5", "10"]).is_empty());
    assert!(strs(&mut c, &["LRANGE", "missing", "0", "-1"]).is_empty());
    assert_eq!(
        err(&mut c, &["LRANGE", "missing", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(bulk(&mut c, &["LINDEX", "l", "0"]), "a");
    assert_eq!(bulk(&mut c, &["LINDEX", "l", "-1"]), "e");
    nil(&mut c, &["LINDEX", "l", "5"]);
    nil(&mut c, &["LINDEX", "l", "-6"]);
    // A missing key answers null before the index is parsed, as Redis.
    nil(&mut c, &["LINDEX", "missing", "x"]);
    assert_eq!(
        err(&mut c, &["LINDEX", "l", "x"]),
        "ERR value is not an integer or out of range"
    );
    ok(&mut c, &["LSET", "l", "0", "A"]);
    ok(&mut c, &["LSET", "l", "-1", "E"]);
    assert_eq!(all(&mut c, "l"), v(&["A", "b", "c", "d", "E"]));
    assert_eq!(
        err(&mut c, &["LSET", "l", "5", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        err(&mut c, &["LSET", "l", "-6", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        err(&mut c, &["LSET", "missing", "0", "x"]),
        "ERR no such key"
    );
    assert_eq!(
        err(&mut c, &["LSET", "missing", "x", "x"]),
        "ERR no such key"
    );
    assert_eq!(
        err(&mut c, &["LSET", "l", "x", "y"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn insert_remove_trim() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    int(&mut c, &["RPUSH", "l", "a", "b", "a", "c", "a"]);
    assert_eq!(int(&mut c, &["LINSERT", "l", "BEFORE", "b", "x"]), 6);
    assert_eq!(int(&mut c, &["LINSERT", "l", "after", "c", "y"]), 7);
    assert_eq!(all(&mut c, "l"), v(&["a", "x", "b", "a", "c", "y", "a"]));
    assert_eq!(int(&mut c, &["LINSERT", "l", "BEFORE", "nope", "z"]), -1);
    assert_eq!(int(&mut c, &["LINSERT", "missing", "BEFORE", "a", "z"]), 0);
    assert_eq!(
        err(&mut c, &["LINSERT", "l", "MIDDLE", "a", "z"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["LINSERT", "missing", "MIDDLE", "a", "z"]),
        "ERR syntax error"
    );
    // LREM: first n, last n, all.
    assert_eq!(int(&mut c, &["LREM", "l", "1", "a"]), 1);
    assert_eq!(all(&mut c, "l"), v(&["x", "b", "a", "c", "y", "a"]));
    assert_eq!(int(&mut c, &["LREM", "l", "-1", "a"]), 1);
    assert_eq!(all(&mut c, "l"), v(&["x", "b", "a", "c", "y"]));
    int(&mut c, &["RPUSH", "l", "a", "a"]);
    assert_eq!(int(&mut c, &["LREM", "l", "0", "a"]), 3);
    assert_eq!(int(&mut c, &["LREM", "l", "0", "zzz"]), 0);
    assert_eq!(int(&mut c, &["LREM", "missing", "0", "a"]), 0);
    assert_eq!(
        err(&mut c, &["LREM", "l", "x", "a"]),
        "ERR value is not an integer or out of range"
    );
    // LTRIM.
    ok(&mut c, &["LTRIM", "l", "1", "-2"]);
    assert_eq!(all(&mut c, "l"), v(&["b", "c"]));
    ok(&mut c, &["LTRIM", "l", "0", "100"]);
    assert_eq!(all(&mut c, "l"), v(&["b", "c"]));
    ok(&mut c, &["LTRIM", "missing", "0", "1"]);
    ok(&mut c, &["LTRIM", "l", "5", "10"]);
    assert_eq!(int(&mut c, &["EXISTS", "l"]), 0);
    int(&mut c, &["RPUSH", "l", "only"]);
    assert_eq!(int(&mut c, &["LREM", "l", "0", "only"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "l"]), 0);
}

#[test]
fn lpos_options() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    int(
        &mut c,
        &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
    );
    assert_eq!(int(&mut c, &["LPOS", "l", "c"]), 2);
    assert_eq!(int(&mut c, &["LPOS", "l", "c", "RANK", "2"]), 6);
    assert_eq!(int(&mut c, &["LPOS", "l", "c", "RANK", "-1"]), 7);
    assert_eq!(int(&mut c, &["LPOS", "l", "c", "RANK", "-3"]), 2);
    nil(&mut c, &["LPOS", "l", "c", "RANK", "4"]);
    assert_eq!(ints(&mut c, &["LPOS", "l", "c", "COUNT", "2"]), vec![2, 6]);
    assert_eq!(
        ints(&mut c, &["LPOS", "l", "c", "COUNT", "0"]),
        vec![2, 6, 7]
    );
    assert_eq!(
        ints(&mut c, &["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"]),
        vec![7, 6]
    );
    assert_eq!(
        ints(&mut c, &["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
        vec![2, 6]
    );
    nil(&mut c, &["LPOS", "l", "c", "MAXLEN", "2"]);
    assert!(ints(&mut c, &["LPOS", "l", "zz", "COUNT", "0"]).is_empty());
    assert_eq!(
        err(&mut c, &["LPOS", "l", "c", "RANK", "0"]),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "c", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "c", "MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(err(&mut c, &["LPOS", "l", "c", "RANK"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["LPOS", "l", "c", "FOO", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "c", "RANK", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
}

#[test]
fn moves_and_mpop() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    int(&mut c, &["RPUSH", "src", "1", "2", "3"]);
    assert_eq!(bulk(&mut c, &["LMOVE", "src", "dst", "LEFT", "RIGHT"]), "1");
    assert_eq!(bulk(&mut c, &["LMOVE", "src", "dst", "RIGHT", "LEFT"]), "3");
    assert_eq!(all(&mut c, "dst"), v(&["3", "1"]));
    assert_eq!(bulk(&mut c, &["RPOPLPUSH", "src", "dst"]), "2");
    assert_eq!(int(&mut c, &["EXISTS", "src"]), 0);
    assert_eq!(all(&mut c, "dst"), v(&["2", "3", "1"]));
    nil(&mut c, &["RPOPLPUSH", "src", "dst"]);
    nil(&mut c, &["LMOVE", "src", "dst", "LEFT", "LEFT"]);
    // Rotation on one key.
    assert_eq!(bulk(&mut c, &["RPOPLPUSH", "dst", "dst"]), "1");
    assert_eq!(all(&mut c, "dst"), v(&["1", "2", "3"]));
    assert_eq!(bulk(&mut c, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"]), "1");
    assert_eq!(all(&mut c, "dst"), v(&["2", "3", "1"]));
    int(&mut c, &["RPUSH", "one", "x"]);
    assert_eq!(bulk(&mut c, &["LMOVE", "one", "one", "LEFT", "LEFT"]), "x");
    assert_eq!(all(&mut c, "one"), v(&["x"]));
    assert_eq!(
        err(&mut c, &["LMOVE", "dst", "x", "UP", "LEFT"]),
        "ERR syntax error"
    );
    // Wrong type of the destination: nothing moves.
    ok(&mut c, &["SET", "str", "v"]);
    assert_eq!(
        err(&mut c, &["LMOVE", "dst", "str", "LEFT", "LEFT"]),
        WRONGTYPE
    );
    assert_eq!(all(&mut c, "dst"), v(&["2", "3", "1"]));
    // A missing source wins over a wrong destination.
    nil(&mut c, &["LMOVE", "nosrc", "str", "LEFT", "LEFT"]);
    // LMPOP.
    int(&mut c, &["RPUSH", "b", "1", "2", "3"]);
    match raw(
        &mut c,
        &["LMPOP", "3", "nokey", "b", "dst", "RIGHT", "COUNT", "2"],
    ) {
        Ok(Value::Array(items)) => {
            assert_eq!(items[0], Value::BulkString(b"b".to_vec()));
            assert_eq!(
                items[1],
                Value::Array(vec![
                    Value::BulkString(b"3".to_vec()),
                    Value::BulkString(b"2".to_vec())
                ])
            );
        }
        other => panic!("LMPOP: {other:?}"),
    }
    match raw(&mut c, &["LMPOP", "1", "b", "LEFT"]) {
        Ok(Value::Array(items)) => {
            assert_eq!(
                items[1],
                Value::Array(vec![Value::BulkString(b"1".to_vec())])
            )
        }
        other => panic!("LMPOP: {other:?}"),
    }
    nil(&mut c, &["LMPOP", "2", "b", "nokey", "LEFT"]);
    assert_eq!(
        err(&mut c, &["LMPOP", "0", "b", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "x", "b", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "3", "b", "LEFT"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "1", "b", "LEFT", "COUNT", "0"]),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        err(
            &mut c,
            &["LMPOP", "1", "b", "LEFT", "COUNT", "1", "COUNT", "1"]
        ),
        "ERR syntax error"
    );
    // The first non-empty list is served before a wrong-typed key is looked at.
    assert!(matches!(
        raw(&mut c, &["LMPOP", "2", "dst", "str", "LEFT"]),
        Ok(Value::Array(_))
    ));
    assert_eq!(
        err(&mut c, &["LMPOP", "2", "nokey", "str", "LEFT"]),
        WRONGTYPE
    );
}

#[test]
fn wrongtype_everywhere() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    ok(&mut c, &["SET", "s", "v"]);
    let cmds: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "d", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "d"],
        &["LMPOP", "1", "s", "LEFT"],
        &["BLPOP", "s", "0"],
        &["BRPOP", "nokey", "s", "0"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "s", "d", "0"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
    ];
    for cmd in cmds {
        assert_eq!(err(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    // Lists are the wrong type for string commands.
    int(&mut c, &["RPUSH", "l", "a"]);
    assert_eq!(err(&mut c, &["GET", "l"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["INCR", "l"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["APPEND", "l", "x"]), WRONGTYPE);
    // SET replaces a list.
    ok(&mut c, &["SET", "l", "now-a-string"]);
    assert_eq!(simple(&mut c, &["TYPE", "l"]), "string");
}

#[test]
fn keyspace_hits_and_misses() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    int(&mut c, &["RPUSH", "l", "a"]);
    ok(&mut c, &["CONFIG", "RESETSTAT"]);
    int(&mut c, &["LLEN", "l"]);
    strs(&mut c, &["LRANGE", "l", "0", "-1"]);
    bulk(&mut c, &["LINDEX", "l", "0"]);
    int(&mut c, &["LPOS", "l", "a"]);
    int(&mut c, &["LLEN", "nokey"]);
    // Writes do not count.
    int(&mut c, &["RPUSH", "l", "b"]);
    bulk(&mut c, &["LPOP", "l"]);
    let info = bulk(&mut c, &["INFO", "stats"]);
    assert!(info.contains("keyspace_hits:4\r\n"), "{info}");
    assert!(info.contains("keyspace_misses:1\r\n"), "{info}");
}

fn encoding(c: &mut Connection, key: &str) -> String {
    bulk(c, &["OBJECT", "ENCODING", key])
}

#[test]
fn encoding_follows_redis_7_2() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    assert_eq!(
        strs(&mut c, &["CONFIG", "GET", "list-max-listpack-size"]),
        v(&["list-max-listpack-size", "-2"])
    );
    assert_eq!(
        strs(&mut c, &["CONFIG", "GET", "list-max-ziplist-size"]),
        v(&["list-max-ziplist-size", "-2"])
    );
    // 128-byte values: 62 fit the 8 KB listpack, the 63rd converts.
    let value = "x".repeat(128);
    for _ in 0..62 {
        int(&mut c, &["RPUSH", "l", &value]);
    }
    assert_eq!(encoding(&mut c, "l"), "listpack");
    int(&mut c, &["RPUSH", "l", &value]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    // Shrinking converts back only below half the limit, on one node: 31 values take
    // 7 + 31·132 = 4099 bytes > 4096, 30 fit.
    for _ in 0..32 {
        bulk(&mut c, &["RPOP", "l"]);
    }
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    bulk(&mut c, &["RPOP", "l"]);
    assert_eq!(encoding(&mut c, "l"), "listpack");
    // A count limit.
    ok(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "4"]);
    int(&mut c, &["RPUSH", "n", "1", "2", "3", "4"]);
    assert_eq!(encoding(&mut c, "n"), "listpack");
    int(&mut c, &["RPUSH", "n", "5"]);
    assert_eq!(encoding(&mut c, "n"), "quicklist");
    // Two nodes now ([1 2 3 4] [5]): popping 3 leaves two nodes, still a quicklist; the
    // fourth pop leaves one node of one entry, within half the limit.
    strs(&mut c, &["LPOP", "n", "3"]);
    assert_eq!(encoding(&mut c, "n"), "quicklist");
    bulk(&mut c, &["LPOP", "n"]);
    assert_eq!(encoding(&mut c, "n"), "listpack");
    // LINSERT converts even when the pivot is absent, as Redis does.
    ok(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "-2"]);
    int(&mut c, &["RPUSH", "p", "a"]);
    let big = "y".repeat(9000);
    assert_eq!(int(&mut c, &["LINSERT", "p", "BEFORE", "zz", &big]), -1);
    assert_eq!(encoding(&mut c, "p"), "quicklist");
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "list-compress-depth", "-1"]),
        "ERR CONFIG SET failed (possibly related to argument 'list-compress-depth') - argument must be between 0 and 2147483647 inclusive"
    );
    ok(&mut c, &["CONFIG", "SET", "list-compress-depth", "1"]);
}

#[test]
fn large_list_against_a_model() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let mut model: VecDeque<String> = VecDeque::new();
    // 20,000 values in batches: many nodes.
    for batch in 0..40 {
        let vals: Vec<String> = (0..500).map(|i| format!("v{}-{}", batch, i)).collect();
        let mut cmd = redis::cmd(if batch % 2 == 0 { "RPUSH" } else { "LPUSH" });
        cmd.arg("big");
        for x in &vals {
            cmd.arg(x);
        }
        let n: i64 = cmd.query(&mut c).expect("push");
        for x in vals {
            if batch % 2 == 0 {
                model.push_back(x);
            } else {
                model.push_front(x);
            }
        }
        assert_eq!(n as usize, model.len());
    }
    assert_eq!(encoding(&mut c, "big"), "quicklist");
    for idx in [0i64, 1, 4999, 10000, 19999, -1, -7777] {
        let want = if idx < 0 {
            &model[(model.len() as i64 + idx) as usize]
        } else {
            &model[idx as usize]
        };
        assert_eq!(&bulk(&mut c, &["LINDEX", "big", &idx.to_string()]), want);
    }
    let got = strs(&mut c, &["LRANGE", "big", "9990", "10010"]);
    let want: Vec<String> = model.range(9990..=10010).cloned().collect();
    assert_eq!(got, want);
    ok(&mut c, &["LSET", "big", "12345", "changed"]);
    model[12345] = "changed".into();
    assert_eq!(int(&mut c, &["LPOS", "big", "changed"]), 12345);
    assert_eq!(
        int(&mut c, &["LINSERT", "big", "AFTER", "changed", "ins"]),
        20001
    );
    model.insert(12346, "ins".into());
    ok(&mut c, &["LTRIM", "big", "100", "-100"]);
    model.drain(..100);
    model.truncate(model.len() - 99);
    assert_eq!(int(&mut c, &["LLEN", "big"]), model.len() as i64);
    let got = strs(&mut c, &["LPOP", "big", "700"]);
    let want: Vec<String> = model.drain(..700).collect();
    assert_eq!(got, want);
    let got = strs(&mut c, &["RPOP", "big", "300"]);
    let want: Vec<String> = (0..300).filter_map(|_| model.pop_back()).collect();
    assert_eq!(got, want);
    assert_eq!(all(&mut c, "big"), Vec::from(model));
}

/// The keyspace events of every list command, in Redis's order, compared with `redis-server`
/// (classes `Egl`: key events, generic and list; 7.2's `new` events are left out because the
/// 7.0 oracle lacks them).
#[test]
fn keyspace_events_match_redis() {
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c", "d", "e"],
        &["LPUSH", "l", "z"],
        &["LPUSHX", "l", "y"],
        &["RPUSHX", "missing", "y"],
        &["LINSERT", "l", "AFTER", "a", "a2"],
        &["LINSERT", "l", "AFTER", "nope", "x"],
        &["LSET", "l", "0", "Y"],
        &["LREM", "l", "0", "nope"],
        &["LREM", "l", "1", "a2"],
        &["LTRIM", "l", "0", "-1"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["LMOVE", "l", "m", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "m", "m"],
        &["LMPOP", "2", "missing", "l", "RIGHT", "COUNT", "1"],
        &["BLPOP", "l", "0"],
        &["BRPOP", "m", "0"],
        &["RPUSH", "t", "1", "2"],
        &["LTRIM", "t", "5", "6"],
        &["RPUSH", "t", "1"],
        &["LREM", "t", "0", "1"],
        &["RPUSH", "t", "1"],
        &["BLMOVE", "t", "u", "RIGHT", "LEFT", "0"],
        &["BLMPOP", "0", "1", "u", "LEFT"],
        &["PING"],
    ];
    let run = |port: u16| -> Vec<String> {
        let mut sub = RawConn::connect(port).expect("connect");
        let mut c = RawConn::connect(port).expect("connect");
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Egl"]);
        sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        for cmd in script {
            c.cmd(cmd);
        }
        // A marker event ends the stream.
        c.cmd(&["RPUSH", "end", "x"]);
        let mut events = Vec::new();
        loop {
            let Reply::Array(parts) = sub.read_reply().expect("event") else {
                panic!("not a pmessage");
            };
            let text = |r: &Reply| match r {
                Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            };
            let event = format!("{} {}", text(&parts[2]), text(&parts[3]));
            if event.ends_with(" end") {
                return events;
            }
            events.push(event);
        }
    };
    let server = TestServer::fincache();
    let ours = run(server.port);
    assert!(
        ours.contains(&"__keyevent@0__:lpop l".to_string()),
        "{ours:?}"
    );
    if let Some(redis) = TestServer::redis() {
        let theirs = run(redis.port);
        assert_eq!(ours, theirs);
    }
}
