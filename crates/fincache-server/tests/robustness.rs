//! Robustness: a running FinCache is fed malformed and hostile traffic over raw TCP, and must
//! answer as Redis does (a `Protocol error` reply, then close that connection), keep serving every
//! other client, and lose no data.
//!
//! One server goes through every step in order; a canary key written first must be intact at the
//! end, and the server must still answer `PING`. Every wait is bounded.

mod support;

use fincache_resp::Reply;
use std::io::Write;
use std::net::Shutdown;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use support::{encode_command, RawConn, TestServer};

/// The longest another client may wait for a SET+GET while a slow reader is stuck.
const STALL_LIMIT: Duration = Duration::from_secs(3);

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

/// A connected client that is not part of the abuse and must keep working.
fn bystander_works(conn: &mut RawConn, tag: &str) {
    let key = format!("bystander:{tag}");
    assert_eq!(
        conn.cmd(&["SET", &key, tag]),
        ok(),
        "bystander SET after {tag}"
    );
    assert_eq!(
        conn.cmd(&["GET", &key]),
        bulk(tag),
        "bystander GET after {tag}"
    );
}

/// Malformed RESP: the exact Redis error, then the connection is closed; commands before the
/// bad bytes in the same packet still run.
fn malformed_requests(port: u16, bystander: &mut RawConn) {
    let cases: &[(&[u8], &str)] = &[
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n$-2\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
        (
            b"*2\r\n$3\r\nGET\r\nfoo\r\n",
            "ERR Protocol error: expected '$', got 'f'",
        ),
        (
            b"*1\r\n$2000000000\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            b"*3000000000\r\n",
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            b"SET k \"unbalanced\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
        (
            b"ECHO 'a'b\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ];
    for (bytes, want) in cases {
        let mut c = RawConn::connect(port).expect("connect");
        c.set_read_timeout(Duration::from_secs(5));
        // A good command first, in the same write: it is answered before the error.
        let mut wire = encode_command(&["PING"]);
        wire.extend_from_slice(bytes);
        c.send_raw(&wire).expect("send");
        let shown = String::from_utf8_lossy(bytes);
        assert_eq!(
            c.read_reply(),
            Ok(Reply::Simple("PONG".into())),
            "{shown:?}"
        );
        assert_eq!(c.read_reply(), Ok(err(want)), "{shown:?}");
        assert!(
            c.wait_closed().is_some(),
            "connection left open after {shown:?}"
        );
        bystander_works(bystander, "malformed");
    }
}

/// Random bytes on fresh connections: whatever they parse as, the server survives.
fn garbage_bytes(port: u16, bystander: &mut RawConn) {
    let mut state: u64 = 0xBAD_5EED;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..60 {
        let len = (next() % 3000) as usize + 1;
        let mut blob: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half the time, make it start like a request so the parser gets further in.
        if round % 2 == 0 {
            blob[0] = b'*';
        }
        let mut c = RawConn::connect(port).expect("connect");
        c.set_read_timeout(Duration::from_secs(5));
        let _ = c.send_raw(&blob);
        let _ = c.stream.shutdown(Shutdown::Write);
        // The server closes once it has seen the end of input (or a protocol error).
        assert!(
            c.wait_closed().is_some(),
            "round {round}: connection not closed after garbage and EOF"
        );
    }
    // An endless line without a newline: refused past 64 KiB.
    let mut c = RawConn::connect(port).expect("connect");
    c.send_raw(&vec![b'a'; 70 * 1024]).expect("send");
    assert_eq!(
        c.read_reply(),
        Ok(err("ERR Protocol error: too big inline request"))
    );
    assert!(c.wait_closed().is_some());
    bystander_works(bystander, "garbage");
}

/// Commands cut off mid-way, by a client that then disappears: nothing half-done is applied.
fn half_commands_then_vanish(port: u16, bystander: &mut RawConn) {
    let partials: &[&[u8]] = &[
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$5\r\nva",
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n",
        b"*3\r\n$3\r\nSET\r\n$4\r\nha",
        b"*3\r\n$3",
        b"SET half value",
        // A big bulk announced (100 MB, within proto-max-bulk-len), barely started.
        b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100000000\r\nabc",
    ];
    for p in partials {
        let mut c = RawConn::connect(port).expect("connect");
        c.send_raw(p).expect("send");
        c.stream.flush().expect("flush");
        drop(c);
    }
    // One more that stays connected, idle, for the rest of this step.
    let mut idle = RawConn::connect(port).expect("connect");
    idle.send_raw(b"*2\r\n$3\r\nGET\r\n").expect("send");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(bystander.cmd(&["GET", "half"]), Reply::Null);
    bystander_works(bystander, "half-commands");
}

/// Wrong arity and unknown commands are errors on a connection that stays usable.
fn wrong_arity_and_unknown(port: u16) {
    let mut c = RawConn::connect(port).expect("connect");
    assert_eq!(
        c.cmd(&["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        c.cmd(&["SET", "k"]),
        err("ERR wrong number of arguments for 'set' command")
    );
    assert_eq!(
        c.cmd(&["ECHO", "a", "b"]),
        err("ERR wrong number of arguments for 'echo' command")
    );
    assert_eq!(
        c.cmd(&["NOSUCHCMD", "a", "b"]),
        err("ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        c.cmd(&["nosuchcmd"]),
        err("ERR unknown command 'nosuchcmd', with args beginning with: ")
    );
    let long = "x".repeat(300);
    match c.cmd(&[long.as_str()]) {
        Reply::Error(e) => assert!(e.starts_with("ERR unknown command 'xxx"), "{e}"),
        other => panic!("unknown long command gave {other:?}"),
    }
    // Empty requests are skipped without a reply; the next command is answered.
    c.send_raw(b"*0\r\n*-1\r\n\r\n  \r\n").expect("send");
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    // Inline commands work too.
    c.send_raw(b"ECHO inline\r\n").expect("send");
    assert_eq!(c.read_reply(), Ok(bulk("inline")));
}

/// Many clients at once, each writing and reading its own keys and incrementing a shared one.
fn concurrent_clients(port: u16, clients: usize, ops: usize) {
    let barrier = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = RawConn::connect(port).map_err(|e| format!("client {i}: {e}"))?;
                barrier.wait();
                for j in 0..ops {
                    let key = format!("client:{i}:{j}");
                    let val = format!("value-{i}-{j}");
                    let set = c.call(&["SET", &key, &val]).map_err(|e| e.to_string())?;
                    if set != ok() {
                        return Err(format!("client {i}: SET {key} gave {set:?}"));
                    }
                    let got = c.call(&["GET", &key]).map_err(|e| e.to_string())?;
                    if got != bulk(&val) {
                        return Err(format!("client {i}: GET {key} gave {got:?}"));
                    }
                    // One key shared by everyone: no increment may be lost.
                    match c.call(&["INCR", "shared:counter"]) {
                        Ok(Reply::Int(_)) => {}
                        other => return Err(format!("client {i}: INCR gave {other:?}")),
                    }
                }
                Ok(())
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .filter_map(|t| match t.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("a client thread panicked".into()),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "concurrent clients failed: {failures:?}"
    );
    let mut c = RawConn::connect(port).expect("connect");
    assert_eq!(
        c.cmd(&["GET", "shared:counter"]),
        bulk(&(clients * ops).to_string()),
        "increments were lost"
    );
}

/// A client pipelines many large GETs and never reads the replies: the server keeps serving
/// everyone else promptly.
fn slow_reader(port: u16, bystander: &mut RawConn) {
    // 64 KiB values: the socket buffers fill after a few dozen replies, so the server is soon
    // stuck writing to this client, which is the point of the step.
    let big = "x".repeat(64 * 1024);
    assert_eq!(bystander.cmd(&["SET", "big", &big]), ok());
    let mut slow = RawConn::connect(port).expect("connect");
    slow.stream
        .set_write_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let get = encode_command(&["GET", "big"]);
    let batch: Vec<u8> = get.repeat(100);
    let started = Instant::now();
    let mut sent = 0;
    // Up to 4000 GETs (256 MB of replies): stop once the server stops reading (our write blocks).
    while sent < 4000 && started.elapsed() < Duration::from_secs(5) {
        if slow.stream.write_all(&batch).is_err() {
            break;
        }
        sent += 100;
    }
    assert!(sent >= 100, "could not even send the first batch");
    println!("slow reader: sent {sent} GETs of a 64 KiB value without reading");
    // Meanwhile every other client is served. The bound is generous (debug build, 2 cores, the
    // slow client's batch being built on one of the two runtime threads); a server that blocks
    // others on a stuck writer never answers at all.
    let mut worst = Duration::ZERO;
    for i in 0..50 {
        let t = Instant::now();
        let v = format!("during-slow-{i}");
        assert_eq!(bystander.cmd(&["SET", "during", &v]), ok());
        assert_eq!(bystander.cmd(&["GET", "during"]), bulk(&v));
        worst = worst.max(t.elapsed());
    }
    println!("slow reader: worst SET+GET of another client took {worst:?}");
    assert!(
        worst < STALL_LIMIT,
        "another client's SET+GET took {worst:?} while a slow reader was stuck"
    );
    let mut other = RawConn::connect(port).expect("a new client can connect");
    assert_eq!(other.cmd(&["PING"]), Reply::Simple("PONG".into()));
    // The slow reader finally reads a little, then leaves without reading the rest.
    slow.set_read_timeout(Duration::from_secs(10));
    assert_eq!(
        slow.read_reply(),
        Ok(bulk(&big)),
        "the slow reader's first reply"
    );
    drop(slow);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(other.cmd(&["PING"]), Reply::Simple("PONG".into()));
}

#[test]
fn server_survives_hostile_clients() {
    let mut server = TestServer::fincache();
    let port = server.port;
    let mut canary = RawConn::connect(port).expect("connect");
    assert_eq!(canary.cmd(&["SET", "canary", "still here"]), ok());
    let mut bystander = RawConn::connect(port).expect("connect");

    let mut step = |name: &str, f: &dyn Fn(&mut RawConn)| {
        let t = Instant::now();
        f(&mut bystander);
        println!("{name}: ok ({:.2}s)", t.elapsed().as_secs_f64());
        assert!(!server.exited(), "the server exited during {name}");
    };
    step("malformed requests", &|b| malformed_requests(port, b));
    step("garbage bytes", &|b| garbage_bytes(port, b));
    step("half commands", &|b| half_commands_then_vanish(port, b));
    step("wrong arity and unknown commands", &|_| {
        wrong_arity_and_unknown(port)
    });
    step("200 concurrent clients", &|_| {
        concurrent_clients(port, 200, 25)
    });
    step("slow reader", &|b| slow_reader(port, b));

    if let Some(kib) = server.peak_rss_kib() {
        println!("server peak resident memory: {} MiB", kib / 1024);
    }

    // After all of it: alive, and nothing lost.
    assert_eq!(canary.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(canary.cmd(&["GET", "canary"]), bulk("still here"));
    for (i, j) in [(0, 0), (57, 3), (199, 24)] {
        assert_eq!(
            canary.cmd(&["GET", &format!("client:{i}:{j}")]),
            bulk(&format!("value-{i}-{j}"))
        );
    }
    let mut fresh = RawConn::connect(port).expect("connect after everything");
    assert_eq!(fresh.cmd(&["PING"]), Reply::Simple("PONG".into()));
}
