//! The FinCache server library: everything the `fincache` binary runs, usable from tests.
//!
//! Layers (arrows point down only): `net` → `cmd` → `store` → `fincache-types`;
//! `fincache-resp` is the wire format; `config` feeds all of them.

pub mod client;
pub mod cmd;
pub mod config;
pub mod http;
pub mod latency;
pub mod logging;
pub mod monitor;
pub mod net;
pub mod notify;
pub mod persist;
pub mod pubsub;
pub mod script;
pub mod server;
pub mod slowlog;
pub mod stats;
pub mod store;
pub mod tracking;

use server::{Server, Shutdown};
use std::sync::Arc;
use std::time::Duration;

/// Binds the listeners and runs the server until it is asked to stop.
pub async fn run(config: config::Config) -> anyhow::Result<()> {
    let listeners = net::listener::bind(&config.bind, config.port).await?;
    // The HTTP API (`api-enabled`): bound before serving, so a busy port fails the start.
    let http_listeners = if config.api_enabled {
        http::bind(&config).await?
    } else {
        Vec::new()
    };
    let server = Server::new(config);
    let _http_tasks = http::spawn(&server, http_listeners);
    // The snapshot loads before any RESP connection is accepted (connections wait in the
    // backlog meanwhile), so no command can see a half-loaded keyspace.
    {
        let server = server.clone();
        tokio::task::spawn_blocking(move || persist::load_at_startup(&server))
            .await?
            .map_err(|e| anyhow::anyhow!("loading the RDB snapshot failed: {e}"))?;
    }
    for l in &listeners {
        tracing::info!(addr = %l.local_addr()?, "accepting RESP connections");
    }
    let mut tasks = Vec::new();
    for l in listeners {
        tasks.push(tokio::spawn(net::listener::accept_loop(server.clone(), l)));
    }
    tokio::spawn(cron(server.clone()));
    tokio::spawn(stop_on_signals(server.clone()));
    let mut shutdown = server.shutdown.subscribe();
    let _ = shutdown.wait_for(|s| *s != Shutdown::Running).await;
    for t in tasks {
        let _ = t.await;
    }
    // Give connection tasks a moment to flush their last replies.
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A stop by signal saves when save points are configured, as Redis (SHUTDOWN saved
    // already, or was told NOSAVE).
    if !server
        .persist
        .shutdown_handled
        .load(std::sync::atomic::Ordering::Relaxed)
        && persist::has_save_points(&server)
    {
        let s = server.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || persist::save(&s)).await {
            tracing::warn!(error = %e, "saving the final snapshot failed");
        }
    }
    tracing::info!("FinCache is now ready to exit, bye bye...");
    Ok(())
}

/// The server's periodic work, `hz` times per second.
async fn cron(server: Arc<Server>) {
    loop {
        let hz = server.config.read().hz.clamp(1, 500);
        tokio::time::sleep(Duration::from_millis(1000 / u64::from(hz))).await;
        server.tick_clock();
        store::expire::active_expire_cycle(&server, hz);
        store::evict::cron(&server);
        // `expired` events and tracking invalidations of the keys active expiry removed.
        notify::drain_all_expired(&server);
        stats::cron_sample(&server);
        persist::cron_check(&server);
    }
}

/// SIGTERM and SIGINT stop the server gracefully, as SHUTDOWN does.
async fn stop_on_signals(server: Arc<Server>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("received SIGTERM, shutting down"),
            _ = int.recv() => tracing::info!("received SIGINT, shutting down"),
        }
        server.request_shutdown();
    }
}
