//! The per-client task: read, parse every complete command in the buffer, run them in order,
//! write all replies with one write.
//!
//! A pipeline of N commands costs one read and one write system call. No lock is held across an
//! `.await`: commands run synchronously between the read and the write.

use crate::client::ClientState;
use crate::cmd::dispatch;
use crate::cmd::ExecCtx;
use crate::server::{now_ms, Server, Shutdown};
use crate::stats::Stats;
use bytes::{Buf, BytesMut};
use fincache_resp::{parse_command, Limits, Parsed, Protocol, ReplyEncoder};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_CHUNK: usize = 16 * 1024;
/// Output buffers larger than this are released after a write instead of kept for reuse.
const OUT_KEEP: usize = 64 * 1024;

/// Serves one client until it quits, is killed, misbehaves, or the server stops.
pub async fn run(server: Arc<Server>, mut stream: TcpStream, peer: SocketAddr) {
    let handle = server
        .clients
        .register(Some(peer), stream.local_addr().ok(), now_ms());
    let id = handle.id;
    let mut client = ClientState::new(handle.clone());
    let mut out = ReplyEncoder::new(Protocol::Resp2);
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut shutdown = server.shutdown.subscribe();

    loop {
        let idle = server.config.read().timeout;
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        let read = tokio::select! {
            r = stream.read_buf(&mut rbuf) => r,
            _ = handle.kill_notify.notified() => break,
            _ = shutdown.wait_for(|s| *s != Shutdown::Running) => break,
            _ = idle_timer(idle) => break,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => Stats::add(&server.stats.net_input_bytes, n as u64),
        }
        let keep_open = process_input(&server, &mut client, &mut out, &mut rbuf);
        if !out.buf.is_empty() {
            if stream.write_all(&out.buf).await.is_err() {
                break;
            }
            Stats::add(&server.stats.net_output_bytes, out.buf.len() as u64);
            out.buf.clear();
            if out.buf.capacity() > OUT_KEEP {
                out.buf = Vec::with_capacity(READ_CHUNK);
            }
        }
        if !keep_open || client.close_after_reply || handle.is_killed() {
            break;
        }
    }
    let _ = stream.shutdown().await;
    server.clients.unregister(id);
}

async fn idle_timer(seconds: u64) {
    if seconds == 0 {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
}

/// Runs every complete command in `rbuf`, appending replies to `out`, and consumes them.
/// Returns false when the connection must close (protocol error, QUIT).
fn process_input(
    server: &Arc<Server>,
    client: &mut ClientState,
    out: &mut ReplyEncoder,
    rbuf: &mut BytesMut,
) -> bool {
    let limits = Limits {
        max_bulk_len: server.config.read().proto_max_bulk_len,
        authenticated: client.authenticated,
        ..Limits::default()
    };
    let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
    let mut pos = 0;
    let mut keep_open = true;
    let mut need: Option<usize> = None;
    while pos < rbuf.len() && !client.close_after_reply {
        match parse_command(&rbuf[pos..], &limits, &mut argv) {
            Ok(Parsed::Complete(n)) => {
                pos += n;
                if !argv.is_empty() {
                    run_command(server, client, out, &argv);
                }
            }
            Ok(Parsed::Owned { consumed, args }) => {
                pos += consumed;
                let owned: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                if !owned.is_empty() {
                    run_command(server, client, out, &owned);
                }
            }
            Ok(Parsed::Incomplete { hint }) => {
                need = hint;
                break;
            }
            Err(e) => {
                // Redis answers a protocol error and closes the connection.
                tracing::debug!(client = client.id, error = %e, "protocol error");
                out.error(&e.to_string());
                keep_open = false;
                pos = rbuf.len();
                break;
            }
        }
    }
    drop(argv);
    rbuf.advance(pos);
    if let Some(total) = need {
        // A large bulk is on its way: make room once instead of growing chunk by chunk.
        rbuf.reserve(total.saturating_sub(rbuf.len()));
    }
    keep_open
}

#[inline]
fn run_command(
    server: &Arc<Server>,
    client: &mut ClientState,
    out: &mut ReplyEncoder,
    argv: &[&[u8]],
) {
    let mut ctx = ExecCtx {
        server,
        client,
        out,
        now_ms: now_ms(),
        lru: server.lru_clock(),
    };
    dispatch::execute(&mut ctx, argv);
}
