//! Start-up configuration: embedded defaults ← `config.yaml` ← `FINCACHE_*` environment ←
//! command-line flags. Every value goes through its setting's parser from [`super::table`]; any
//! bad value stops start-up with a message naming where it came from, the setting and the value.
//!
//! The YAML file is read only when asked for (`--config PATH` or `FINCACHE_CONFIG`), never
//! picked up silently from the working directory. Its layout is the one FinCache users already
//! have (`server:`, `store:`, `api:` sections with `host`, `max_memory` … keys) plus a `log:`
//! section; every setting has exactly one key, and an unknown key is an error.

use super::table::{self, Mode, Setting, SECTIONS};
use super::Config;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What the command line asked for.
#[derive(Debug)]
pub enum Startup {
    /// Serve with this configuration; `warnings` are logged once logging is up.
    Run {
        config: Box<Config>,
        warnings: Vec<String>,
    },
    /// Print this text (help, version) and exit successfully.
    Print(String),
}

/// `--<setting> value` pairs from the command line, in order.
type SettingArgs = Vec<(&'static Setting, String)>;

/// Where each setting's value came from, for messages.
type Sources = HashMap<&'static str, String>;

/// Loads the configuration from the process's arguments (without the program name) and
/// environment.
pub fn from_process(args: Vec<String>, env: Vec<(String, String)>) -> Result<Startup, String> {
    let (fixed, pairs) = split_args(&args)?;
    let matches =
        match cli().try_get_matches_from(std::iter::once("fincache".to_string()).chain(fixed)) {
            Ok(m) => m,
            Err(e) => {
                use clap::error::ErrorKind;
                return match e.kind() {
                    ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                        Ok(Startup::Print(e.render().to_string()))
                    }
                    _ => Err(clap_message(&e)),
                };
            }
        };
    let file = matches
        .get_one::<String>("config")
        .cloned()
        .or_else(|| {
            env.iter()
                .find(|(k, _)| k == "FINCACHE_CONFIG")
                .map(|(_, v)| v.clone())
        })
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);

    let mut config = Config::default();
    let mut sources = Sources::new();
    let mut warnings = Vec::new();
    if let Some(path) = &file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "can't read config file '{}': {}",
                path.display(),
                table::io_reason(&e)
            )
        })?;
        apply_yaml(&mut config, &text, path, &mut sources)?;
    }
    // Absolute, so CONFIG REWRITE finds the file after `dir` changes the working directory.
    let file = file.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    apply_env(&mut config, &env, &mut sources, &mut warnings)?;
    for (setting, value) in &pairs {
        let source = format!("flag --{}", setting.name);
        apply_one(&mut config, setting, value, Mode::Strict, &source)?;
        sources.insert(setting.name, source);
    }
    check_refused(&config, &sources)?;
    config.config_file = file;
    Ok(Startup::Run {
        config: Box::new(config),
        warnings,
    })
}

/// Applies what a loaded configuration needs before serving: `dir` becomes the working
/// directory, and the log file must be writable.
pub fn prepare(config: &mut Config) -> Result<(), String> {
    if !config.dir.is_empty() {
        std::env::set_current_dir(&config.dir)
            .map_err(|e| format!("can't chdir to '{}': {}", config.dir, table::io_reason(&e)))?;
        if let Ok(abs) = std::env::current_dir() {
            config.dir = abs.display().to_string();
        }
    }
    Ok(())
}

/// Fails with the first setting whose value names a feature FinCache does not have yet.
fn check_refused(config: &Config, sources: &Sources) -> Result<(), String> {
    match table::first_refused(config) {
        None => Ok(()),
        Some((setting, message)) => Err(match sources.get(setting.name) {
            Some(src) => format!("{message} (set by {src})"),
            None => message,
        }),
    }
}

fn apply_one(
    config: &mut Config,
    setting: &Setting,
    value: &str,
    mode: Mode,
    source: &str,
) -> Result<(), String> {
    (setting.set)(config, value, mode).map_err(|reason| {
        format!(
            "invalid value '{value}' for {} ({source}): {reason}",
            setting.name
        )
    })
}

// ---- command line

/// The fixed flags, parsed by clap. Settings are not declared here: see [`split_args`].
fn cli() -> clap::Command {
    clap::Command::new("fincache")
        .version(env!("CARGO_PKG_VERSION"))
        .about("FinCache: a Redis-compatible in-memory data store.")
        .arg(
            clap::Arg::new("config")
                .long("config")
                .value_name("PATH")
                .help("Load settings from this YAML file (also FINCACHE_CONFIG); CONFIG REWRITE writes it back"),
        )
        .after_help(settings_help())
}

fn settings_help() -> String {
    let mut s = String::from(
        "Every setting is also a flag, as redis-server takes them: --<name> <value>\n\
         (e.g. fincache --port 7000 --maxmemory-policy allkeys-lru --save \"\").\n\
         Precedence: defaults < config file < FINCACHE_<NAME> environment < flags < CONFIG SET.\n\nSettings:\n",
    );
    for st in table::SETTINGS {
        s.push_str(&format!("  --{:<28} {}\n", st.name, st.meaning));
    }
    s
}

/// Splits the arguments into clap's fixed flags and `--<setting> value…` pairs.
///
/// The settings are parsed by this loop, not declared to clap, because they follow
/// redis-server's rule that clap cannot express: a setting takes every following argument up
/// to the next one starting with `--` (`--save 900 1 300 10`), values may begin with `-`
/// (`--slowlog-log-slower-than -1`, `--bind "127.0.0.1 -::1"`), names are case-insensitive and
/// `--save` alone means `save ""`.
fn split_args(args: &[String]) -> Result<(Vec<String>, SettingArgs), String> {
    let mut fixed = Vec::new();
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let setting = arg
            .strip_prefix("--")
            .and_then(|name| table::find(name.as_bytes()));
        let Some((setting, _)) = setting else {
            fixed.push(arg.clone());
            if arg == "--config" {
                if let Some(path) = args.get(i + 1) {
                    fixed.push(path.clone());
                    i += 1;
                }
            }
            i += 1;
            continue;
        };
        let start = i + 1;
        let mut end = start;
        while end < args.len() && !args[end].starts_with("--") {
            end += 1;
        }
        let values = &args[start..end];
        let value = match values.len() {
            0 if setting.name == "save" => String::new(),
            0 => return Err(format!("flag {arg} needs a value")),
            1 => values[0].clone(),
            _ if setting.multi_word() => values.join(" "),
            n => {
                return Err(format!(
                    "flag {arg} takes one value, got {n}: {}",
                    values.join(" ")
                ))
            }
        };
        pairs.push((setting, value));
        i = end;
    }
    Ok((fixed, pairs))
}

/// clap's error as one line, without its `error: ` prefix and usage block.
fn clap_message(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("{first} (try --help)")
}

// ---- environment

/// Applies `FINCACHE_*` variables: first the old names (`FINCACHE_HOST`, `FINCACHE_MAX_MEMORY`
/// …), then the Redis-style names (`FINCACHE_MAXMEMORY_POLICY`), so the latter win when both
/// are set. Unknown `FINCACHE_*` variables are reported as warnings.
fn apply_env(
    config: &mut Config,
    env: &[(String, String)],
    sources: &mut Sources,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let mut by_name: HashMap<String, (u8, usize, &'static Setting)> = HashMap::new();
    for (index, s) in table::SETTINGS.iter().enumerate() {
        if let Some(old) = s.legacy_env {
            by_name.insert(old.to_string(), (0, index, s));
        }
        by_name.insert(Setting::env_name(s.name), (1, index, s));
        if let Some(alias) = s.alias {
            by_name.insert(Setting::env_name(alias), (1, index, s));
        }
    }
    let mut found: Vec<(u8, usize, &'static Setting, &str, &str)> = Vec::new();
    for (key, value) in env {
        if !key.starts_with("FINCACHE_") || key == "FINCACHE_CONFIG" {
            continue;
        }
        match by_name.get(key) {
            Some(&(rank, index, s)) => found.push((rank, index, s, key, value)),
            None => warnings.push(format!(
                "unknown environment variable {key} ignored (settings are FINCACHE_<NAME>, e.g. FINCACHE_MAXMEMORY)"
            )),
        }
    }
    found.sort_by_key(|&(rank, index, ..)| (rank, index));
    for (_, _, setting, key, value) in found {
        let source = format!("environment {key}");
        apply_one(config, setting, value, Mode::Lenient, &source)?;
        sources.insert(setting.name, source);
    }
    Ok(())
}

// ---- YAML file

/// Applies a YAML configuration: `section: { key: value }` mappings only.
pub fn apply_yaml(
    config: &mut Config,
    text: &str,
    path: &Path,
    sources: &mut Sources,
) -> Result<(), String> {
    let file = format!("config file '{}'", path.display());
    let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    let top = match doc {
        serde_yaml::Value::Null => return Ok(()),
        serde_yaml::Value::Mapping(m) => m,
        _ => {
            return Err(format!(
                "{file}: expected sections (server:, log:, store:, api:)"
            ))
        }
    };
    let mut seen: HashMap<&'static str, String> = HashMap::new();
    for (section_key, body) in top {
        let section = scalar_key(&section_key);
        let Some(section_index) = SECTIONS.iter().position(|s| *s == section) else {
            let hint = if section == "redis" {
                " (the old external-Redis client section is not used by FinCache: remove it)"
            } else {
                ""
            };
            return Err(format!("{file}: unknown key '{section}'{hint}"));
        };
        let entries = match body {
            serde_yaml::Value::Null => continue,
            serde_yaml::Value::Mapping(m) => m,
            _ => return Err(format!("{file}: '{section}' must be a mapping of settings")),
        };
        for (key, value) in entries {
            let key = scalar_key(&key);
            let normal = key.replace('-', "_");
            let path_name = format!("{section}.{key}");
            let setting = table::SETTINGS
                .iter()
                .find(|s| s.section == section_index && s.yaml_key() == normal)
                .ok_or_else(|| format!("{file}: unknown key '{path_name}'"))?;
            if let Some(first) = seen.insert(setting.name, path_name.clone()) {
                return Err(format!(
                    "{file}: '{path_name}' repeats '{first}' (both set {})",
                    setting.name
                ));
            }
            let text = yaml_scalar(setting, &value)
                .map_err(|why| format!("{file}: {path_name}: {why}"))?;
            let source = format!("{file} key {path_name}");
            apply_one(config, setting, &text, Mode::Lenient, &source)?;
            sources.insert(setting.name, source);
        }
    }
    Ok(())
}

fn scalar_key(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// A YAML value as the text a setting parses: booleans as yes/no, numbers as written, lists
/// (for several-word settings such as `save` and `bind`) joined with spaces.
fn yaml_scalar(setting: &Setting, v: &serde_yaml::Value) -> Result<String, String> {
    use serde_yaml::Value;
    Ok(match v {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Sequence(items) if setting.multi_word() => {
            let words: Result<Vec<String>, String> =
                items.iter().map(|i| yaml_scalar(setting, i)).collect();
            words?.join(" ")
        }
        _ => return Err(format!("{} takes a single value", setting.name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let args = args.iter().map(|s| s.to_string()).collect();
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match from_process(args, env)? {
            Startup::Run { config, .. } => Ok(*config),
            Startup::Print(t) => Err(format!("printed {t}")),
        }
    }

    #[test]
    fn defaults_without_arguments() {
        assert_eq!(load(&[], &[]).unwrap(), Config::default());
    }

    #[test]
    fn flags_follow_redis_server() {
        let c = load(
            &[
                "--port",
                "7000",
                "--maxmemory-policy",
                "allkeys-lru",
                "--save",
                "--slowlog-log-slower-than",
                "-1",
                "--bind",
                "127.0.0.1",
                "-::1",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.maxmemory_policy, "allkeys-lru");
        assert_eq!(c.slowlog_log_slower_than, -1);
        assert_eq!(c.bind, "127.0.0.1 -::1");
        assert!(load(&["--port"], &[])
            .unwrap_err()
            .contains("needs a value"));
        assert!(load(&["--port", "1", "2"], &[])
            .unwrap_err()
            .contains("takes one value"));
        let e = load(&["--maxmemory", "1x"], &[]).unwrap_err();
        assert_eq!(
            e,
            "invalid value '1x' for maxmemory (flag --maxmemory): argument must be a memory value"
        );
        assert!(load(&["--nosuch", "1"], &[])
            .unwrap_err()
            .contains("--nosuch"));
    }

    #[test]
    fn environment_old_and_new_names() {
        let c = load(
            &[],
            &[
                ("FINCACHE_HOST", "0.0.0.0"),
                ("FINCACHE_TTL_ENABLED", "true"),
                ("FINCACHE_EVICTION_POLICY", "lru"),
                ("FINCACHE_HZ", "20"),
            ],
        )
        .unwrap();
        assert_eq!(c.bind, "0.0.0.0");
        assert_eq!(c.maxmemory_policy, "allkeys-lru");
        assert_eq!(c.hz, 20);
        let c = load(
            &["--hz", "30"],
            &[
                ("FINCACHE_MAXMEMORY_POLICY", "volatile-lru"),
                ("FINCACHE_EVICTION_POLICY", "lru"),
                ("FINCACHE_HZ", "20"),
            ],
        )
        .unwrap();
        assert_eq!(c.maxmemory_policy, "volatile-lru");
        assert_eq!(c.hz, 30);
    }

    #[test]
    fn refused_features_name_their_source() {
        let e = load(&[], &[("FINCACHE_APPENDONLY", "yes")]).unwrap_err();
        assert!(e.contains("appendonly yes is not available yet"), "{e}");
        assert!(
            e.ends_with("(set by environment FINCACHE_APPENDONLY)"),
            "{e}"
        );
        // A later layer may switch it off again.
        assert!(load(&["--appendonly", "no"], &[("FINCACHE_APPENDONLY", "yes")]).is_ok());
    }

    #[test]
    fn yaml_layout_and_unknown_keys() {
        let mut c = Config::default();
        let mut src = Sources::new();
        let text = "server:\n  host: \"0.0.0.0\"\n  port: 7001\n  read_timeout: 30s\n  max_connections: 50\n\
                    store:\n  max_memory: 0\n  eviction_policy: lru\n  ttl_enabled: true\n  save: []\n\
                    log:\n  level: warning\napi:\n  port: 9000\n  rate_limit: 5\n";
        apply_yaml(&mut c, text, Path::new("c.yaml"), &mut src).unwrap();
        assert_eq!(
            (c.bind.as_str(), c.port, c.timeout, c.maxclients),
            ("0.0.0.0", 7001, 30, 50)
        );
        assert_eq!(c.maxmemory_policy, "allkeys-lru");
        assert_eq!(c.loglevel, "warning");
        assert_eq!((c.api_port, c.api_rate_limit), (9000, 5));
        let e = apply_yaml(
            &mut c,
            "store:\n  max_memroy: 1gb\n",
            Path::new("c.yaml"),
            &mut src,
        )
        .unwrap_err();
        assert_eq!(e, "config file 'c.yaml': unknown key 'store.max_memroy'");
        let e = apply_yaml(
            &mut c,
            "redis:\n  enabled: false\n",
            Path::new("c.yaml"),
            &mut src,
        )
        .unwrap_err();
        assert!(e.contains("unknown key 'redis'"), "{e}");
        let e = apply_yaml(
            &mut c,
            "server:\n  port: nope\n",
            Path::new("c.yaml"),
            &mut src,
        )
        .unwrap_err();
        assert!(
            e.contains("invalid value 'nope' for port") && e.contains("server.port"),
            "{e}"
        );
    }
}
