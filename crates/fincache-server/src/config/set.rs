//! `CONFIG SET name value [name value …]`: all pairs or none, with Redis 7's checks in Redis's
//! order (`configSetCommand`): every name is looked up and checked (unknown, immutable,
//! protected, duplicate) before any value is parsed; then values are parsed into a copy of the
//! configuration; then FinCache's feature gates; then the apply functions, which are undone on
//! failure. The caller swaps the copy in only on success.

use super::table::{self, Access, Mode, Setting};
use super::Config;
use crate::cmd::error::CmdError;

/// Why a CONFIG SET failed; `Display` through [`SetError::into_cmd_error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    /// `Unknown option or number of arguments for CONFIG SET - '<name>'`.
    Unknown(String),
    /// `CONFIG SET failed (possibly related to argument '<name>') - <reason>`.
    Failed { name: String, reason: String },
}

impl SetError {
    pub fn into_cmd_error(self) -> CmdError {
        match self {
            SetError::Unknown(name) => CmdError::err(format!(
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            )),
            SetError::Failed { name, reason } => CmdError::err(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            )),
        }
    }
}

/// Whether the client asking may change protected settings (`enable-protected-configs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Local,
    Remote,
}

/// Applies `pairs` to a copy of `current`; returns the new configuration. Side effects (`apply`
/// functions: log level, working directory) have run when this returns `Ok`, and have been
/// undone when it returns `Err`.
pub fn config_set(
    current: &Config,
    pairs: &[(&[u8], &[u8])],
    caller: Caller,
) -> Result<Config, SetError> {
    // Step 1: names, in order; the first problem wins.
    let mut chosen: Vec<(&'static Setting, bool, &str)> = Vec::with_capacity(pairs.len());
    for &(name, raw_value) in pairs {
        let shown = String::from_utf8_lossy(name).into_owned();
        let Some((setting, is_alias)) = table::find(name) else {
            return Err(SetError::Unknown(shown));
        };
        let refused_access = match setting.access {
            Access::Mutable => None,
            Access::Immutable => Some("can't set immutable config"),
            Access::Protected if protected_allowed(current, caller) => None,
            Access::Protected => Some("can't set protected config"),
        };
        if let Some(reason) = refused_access {
            return Err(SetError::Failed {
                name: shown,
                reason: reason.into(),
            });
        }
        // Redis registers an alias as its own entry, so `lua-time-limit` and
        // `busy-reply-threshold` together are not duplicates.
        if chosen
            .iter()
            .any(|&(s, alias, _)| std::ptr::eq(s, setting) && alias == is_alias)
        {
            return Err(SetError::Failed {
                name: shown,
                reason: "duplicate parameter".into(),
            });
        }
        let Ok(text) = std::str::from_utf8(raw_value) else {
            return Err(SetError::Failed {
                name: reported_name(setting, is_alias),
                reason: "argument must be valid UTF-8".into(),
            });
        };
        chosen.push((setting, is_alias, text));
    }

    // Step 2: parse every value into a copy.
    let mut next = current.clone();
    for &(setting, is_alias, text) in &chosen {
        (setting.set)(&mut next, text, Mode::Strict).map_err(|reason| SetError::Failed {
            name: reported_name(setting, is_alias),
            reason,
        })?;
    }

    // Step 3: FinCache's feature gates on the values being set.
    for &(setting, is_alias, _) in &chosen {
        if let Some(reason) = setting.refuse.and_then(|f| f(&next)) {
            return Err(SetError::Failed {
                name: reported_name(setting, is_alias),
                reason,
            });
        }
    }

    // Step 4: side effects of the settings that changed, each once; undone on failure.
    let mut applied: Vec<&'static Setting> = Vec::new();
    for &(setting, is_alias, _) in &chosen {
        let Some(apply) = setting.apply else { continue };
        if (setting.get)(&next) == (setting.get)(current)
            || applied.iter().any(|s| std::ptr::eq(*s, setting))
        {
            continue;
        }
        if let Err(reason) = apply(&next) {
            for done in applied.iter().chain(std::iter::once(&setting)) {
                if let Some(undo) = done.apply {
                    if let Err(e) = undo(current) {
                        tracing::warn!(setting = done.name, error = %e, "failed restoring a setting after a failed CONFIG SET");
                    }
                }
            }
            return Err(SetError::Failed {
                name: reported_name(setting, is_alias),
                reason,
            });
        }
        applied.push(setting);
    }
    Ok(next)
}

/// The name Redis reports for a value error: the setting's own name, or the alias if that is
/// what the client used.
fn reported_name(setting: &Setting, is_alias: bool) -> String {
    match (is_alias, setting.alias) {
        (true, Some(a)) => a.to_string(),
        _ => setting.name.to_string(),
    }
}

fn protected_allowed(config: &Config, caller: Caller) -> bool {
    match config.enable_protected_configs.as_str() {
        "yes" => true,
        "local" => caller == Caller::Local,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let raw: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        config_set(&Config::default(), &raw, Caller::Remote)
            .map_err(|e| e.into_cmd_error().to_string())
    }

    #[test]
    fn errors_are_redis_words() {
        assert_eq!(
            set(&[("foo", "1")]).unwrap_err(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        assert_eq!(
            set(&[("maxmemory", "x")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
        assert_eq!(
            set(&[("DATABASES", "3")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'DATABASES') - can't set immutable config"
        );
        assert_eq!(
            set(&[("timeout", "1"), ("TIMEOUT", "2")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"
        );
        assert_eq!(
            set(&[("dir", "/")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
        );
        assert_eq!(
            set(&[("hz", "5"), ("maxmemory", "1x")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
        );
    }

    #[test]
    fn pairs_apply_together() {
        let c = set(&[
            ("hz", "1000"),
            ("timeout", "7"),
            ("lua-time-limit", "1"),
            ("busy-reply-threshold", "2"),
        ])
        .unwrap();
        assert_eq!(c.hz, 500);
        assert_eq!(c.timeout, 7);
        assert_eq!(c.busy_reply_threshold, 2);
    }

    #[test]
    fn unavailable_features_are_refused() {
        let e = set(&[("appendonly", "yes")]).unwrap_err();
        assert!(e.starts_with("ERR CONFIG SET failed (possibly related to argument 'appendonly') - appendonly yes is not available yet"), "{e}");
        assert!(set(&[("appendonly", "no")]).is_ok());
        assert!(set(&[("save", "")]).is_ok());
        assert!(set(&[("save", "60 1")]).is_ok());
    }
}
