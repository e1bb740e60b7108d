//! The `fincache` binary: load the configuration (defaults ← `--config` YAML ← `FINCACHE_*`
//! environment ← flags), start logging, start the runtime, serve. Any error prints
//! `fincache: <message>` and exits with status 1.

use fincache_server::config::load::{self, Startup};
use fincache_server::logging;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's start-up options (read by jemalloc itself through this symbol).
///
/// `background_thread`: purge freed pages from a background thread, as Redis enables by default
/// (`jemalloc-bg-thread yes`); without it pages are only purged when the allocator is next busy,
/// so an idle server keeps the memory a past burst freed. `dirty_decay_ms:1000` returns freed
/// pages after a second instead of ten, and `muzzy_decay_ms:0` skips the MADV_FREE stage, whose
/// pages still count in RSS until the kernel is under pressure.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    match start() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fincache: {message}");
            ExitCode::from(1)
        }
    }
}

fn start() -> Result<(), String> {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| format!("argument is not UTF-8: {}", a.to_string_lossy()))
        })
        .collect::<Result<_, _>>()?;
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let (mut config, warnings) = match load::from_process(args, env)? {
        Startup::Print(text) => {
            print!("{text}");
            return Ok(());
        }
        Startup::Run { config, warnings } => (*config, warnings),
    };
    load::prepare(&mut config)?;
    logging::init(&config)?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    if let Some(path) = &config.config_file {
        tracing::info!(file = %path.display(), "configuration loaded");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("can't start the runtime: {e}"))?;
    runtime
        .block_on(fincache_server::run(config))
        .map_err(|e| format!("{e:#}"))
}
