//! Documentation generated from the settings table, so the docs cannot drift from the code:
//! the table in `docs/CONFIGURATION.md` and the example `config.yaml` at the repository root.
//! A test (`tests/config.rs`) checks both files hold exactly this text; run it with
//! `FINCACHE_BLESS=1` to rewrite them after changing the table.

use super::rewrite::yaml_value;
use super::table::{Access, Setting, SECTIONS, SETTINGS};
use super::Config;

/// The Markdown table of every setting.
pub fn markdown_table() -> String {
    let defaults = Config::default();
    let mut out = String::from(
        "| Redis name | config.yaml | Environment | Flag | Default | CONFIG SET | Meaning |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        let mut name = format!("`{}`", s.name);
        if let Some(a) = s.alias {
            name.push_str(&format!(" (alias `{a}`)"));
        }
        if s.fincache_only {
            name.push_str(" *FinCache*");
        }
        let mut env = format!("`{}`", Setting::env_name(s.name));
        if let Some(old) = s.legacy_env {
            env.push_str(&format!(", `{old}`"));
        }
        let default = match s.doc_default {
            Some(d) => d.to_string(),
            None => match (s.get)(&defaults) {
                v if v.is_empty() => "`\"\"`".to_string(),
                v => format!("`{v}`"),
            },
        };
        let runtime = match s.access {
            Access::Mutable => "yes",
            Access::Immutable => "no",
            Access::Protected => "protected",
        };
        let mut meaning = s.meaning.replace('|', "\\|");
        if s.refuse.is_some() {
            meaning.push_str(" ⚠ Values needing a missing feature are refused.");
        }
        out.push_str(&format!(
            "| {name} | `{}` | {env} | `--{}` | {default} | {runtime} | {meaning} |\n",
            s.yaml_path(),
            s.name
        ));
    }
    out
}

/// The example `config.yaml`: every key with its default and a comment.
pub fn example_yaml() -> String {
    let defaults = Config::default();
    let mut out = String::from(
        "# FinCache configuration: every key with its default value.\n\
         # Generated from the settings table (crates/fincache-server/src/config/table.rs);\n\
         # docs/CONFIGURATION.md has the full table with environment variables and flags.\n\
         #\n\
         # Load it with `fincache --config config.yaml` (or FINCACHE_CONFIG=config.yaml);\n\
         # FinCache never reads a config file it was not given. Later layers win:\n\
         # defaults < this file < FINCACHE_* environment < --flags < CONFIG SET.\n\
         # Unknown keys are errors. CONFIG REWRITE updates this file in place.\n",
    );
    for (index, section) in SECTIONS.iter().enumerate() {
        out.push_str(&format!("\n{section}:\n"));
        for s in SETTINGS.iter().filter(|s| s.section == index) {
            let tag = if s.fincache_only { " (FinCache)" } else { "" };
            out.push_str(&format!(
                "  # {}{tag}: {}\n",
                s.name,
                s.meaning.replace('`', "")
            ));
            let value = if s.doc_default.is_some() {
                "\"\"".to_string()
            } else {
                yaml_value(s, &defaults)
            };
            out.push_str(&format!("  {}: {value}\n", s.yaml_key()));
        }
    }
    out
}
