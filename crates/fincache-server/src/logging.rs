//! Logging: `tracing` events written by `tracing-subscriber`, configured by `loglevel`,
//! `log-format` and `logfile`.
//!
//! Redis's levels map onto tracing's: `debug` → TRACE, `verbose` → DEBUG, `notice` → INFO,
//! `warning` → WARN, `nothing` → off. `CONFIG SET loglevel` changes the level at run time
//! through a reload handle; the format and the destination are fixed at start-up (Redis's
//! `logfile` is immutable too).

use crate::config::Config;
use std::sync::OnceLock;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, Layer, Registry};

/// Changes the level of the installed subscriber (none in unit tests: then a no-op).
static RELOAD: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

/// The tracing level for a Redis `loglevel` name (unknown names: INFO, as `notice`).
pub fn level_filter(loglevel: &str) -> LevelFilter {
    match loglevel {
        "debug" => LevelFilter::TRACE,
        "verbose" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "nothing" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Installs the process's subscriber. Errors name the log file that cannot be opened.
pub fn init(config: &Config) -> Result<(), String> {
    let (filter, handle) = reload::Layer::new(level_filter(&config.loglevel));
    let (writer, ansi) = if config.logfile.is_empty() {
        use std::io::IsTerminal;
        (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        )
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
            .map_err(|e| {
                format!(
                    "Can't open the log file '{}': {}",
                    config.logfile,
                    crate::config::table::io_reason(&e)
                )
            })?;
        (BoxMakeWriter::new(file), false)
    };
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(false)
        .with_ansi(ansi);
    let output = match config.log_format.as_str() {
        "json" => fmt.json().flatten_event(true).boxed(),
        _ => fmt.boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .try_init()
        .map_err(|e| format!("can't start logging: {e}"))?;
    let _ = RELOAD.set(handle);
    Ok(())
}

/// Applies a new `loglevel` (CONFIG SET's apply function).
pub fn set_level(loglevel: &str) -> Result<(), String> {
    match RELOAD.get() {
        Some(handle) => handle
            .modify(|f| *f = level_filter(loglevel))
            .map_err(|e| format!("can't change the log level: {e}")),
        None => Ok(()),
    }
}
