//! Accepts TCP clients, enforces `maxclients`, and spawns one task per connection.

use super::connection;
use crate::server::{Server, Shutdown};
use crate::stats::Stats;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Binds every address of `bind` (space-separated, as Redis's `bind`) on `port`.
pub async fn bind(bind: &str, port: u16) -> std::io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    for host in bind.split_whitespace() {
        // Redis's "-" prefix marks an optional address: skip it if unavailable.
        let (optional, host) = match host.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, host),
        };
        // Redis spells "every IPv4 address" `*` and "every IPv6 address" `::*`.
        let host = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            other => other,
        };
        let addr = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        match TcpListener::bind(&addr).await {
            Ok(l) => listeners.push(l),
            Err(e) if optional => {
                tracing::warn!(%addr, error = %e, "optional bind address skipped")
            }
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("could not bind {addr}: {e}"),
                ))
            }
        }
    }
    Ok(listeners)
}

/// Accepts clients on `listener` until the server shuts down.
pub async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.wait_for(|s| *s != Shutdown::Running) => return,
        };
        match accepted {
            Ok((stream, peer)) => admit(&server, stream, peer),
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

fn admit(server: &Arc<Server>, mut stream: TcpStream, peer: SocketAddr) {
    Stats::add(&server.stats.total_connections_received, 1);
    let (maxclients, keepalive) = {
        let c = server.config.read();
        (c.maxclients, c.tcp_keepalive)
    };
    let _ = stream.set_nodelay(true);
    if keepalive > 0 {
        let sock = socket2::SockRef::from(&stream);
        let ka = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(keepalive))
            .with_interval(Duration::from_secs((keepalive / 3).max(1)));
        let _ = sock.set_tcp_keepalive(&ka);
    }
    if server.clients.len() >= maxclients {
        Stats::add(&server.stats.rejected_connections, 1);
        tokio::spawn(async move {
            let _ = stream
                .write_all(b"-ERR max number of clients reached\r\n")
                .await;
        });
        return;
    }
    let handle = connection::register(server, &stream, peer);
    let server = server.clone();
    tokio::spawn(async move {
        connection::run(server, stream, handle).await;
    });
}
