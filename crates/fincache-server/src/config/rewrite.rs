//! `CONFIG REWRITE`: writes the running configuration back into the YAML file given with
//! `--config`, keeping its layout as Redis keeps redis.conf's (`rewriteConfig`):
//!
//! - every setting already in the file keeps its line, key spelling, indentation and trailing
//!   comment; only the value changes (a block list under a key becomes one value);
//! - a setting not in the file is added to its section only when it differs from the default;
//! - comments, blank lines and ordering are kept; a missing section is appended at the end.
//!
//! The new text is read back through the loader and must give the running values before it
//! replaces the file (written to a temporary file, fsynced, renamed). Only block-style YAML is
//! edited; a flow-style section (`server: {port: 1}`) is reported instead of reformatted.

use super::load::apply_yaml;
use super::table::{self, Kind, Setting, SECTIONS};
use super::{value, Config};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Rewrites `path` so it holds `config`. The error is the reason Redis would put after
/// `Rewriting config file: `.
pub fn rewrite_file(path: &Path, config: &Config) -> Result<(), String> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(table::io_reason(&e)),
    };
    let new = rewrite_text(&old, config)?;
    verify(&new, path, config)?;
    write_atomically(path, &new).map_err(|e| table::io_reason(&e))
}

/// One key line of a section.
struct KeyLine {
    line: usize,
    /// Lines after it that belong to its value (a block list).
    continuation: usize,
}

/// A top-level `section:` of the file.
struct Section {
    name: String,
    /// Index of the last line that belongs to the section (key or continuation).
    last: usize,
    child_indent: Option<usize>,
    keys: Vec<(String, KeyLine)>,
}

/// The rewritten text of `old` for `config`.
pub fn rewrite_text(old: &str, config: &Config) -> Result<String, String> {
    let mut lines: Vec<String> = old.lines().map(str::to_string).collect();
    let sections = scan(&lines)?;
    let defaults = Config::default();

    // Replacements (line index → new text, lines to drop) and insertions per section.
    let mut replace: HashMap<usize, (String, usize)> = HashMap::new();
    let mut additions: Vec<Vec<String>> = vec![Vec::new(); SECTIONS.len()];
    for setting in table::SETTINGS {
        let section_name = SECTIONS[setting.section];
        let key = setting.yaml_key();
        let found = sections
            .iter()
            .find(|s| s.name == section_name)
            .and_then(|s| {
                s.keys
                    .iter()
                    .find(|(k, _)| k.replace('-', "_") == key)
                    .map(|(_, kl)| kl)
            });
        let value = yaml_value(setting, config);
        match found {
            Some(kl) => {
                let original = &lines[kl.line];
                replace.insert(kl.line, (replace_value(original, &value), kl.continuation));
            }
            None if (setting.get)(config) != (setting.get)(&defaults) => {
                additions[setting.section].push(format!("{key}: {value}"));
            }
            None => {}
        }
    }

    // Apply from the bottom up so earlier indices stay valid.
    let mut edits: Vec<(usize, Edit)> = replace
        .into_iter()
        .map(|(i, (text, drop))| (i, Edit::Replace(text, drop)))
        .collect();
    let mut appended_sections = Vec::new();
    for (index, added) in additions.into_iter().enumerate() {
        if added.is_empty() {
            continue;
        }
        match sections.iter().find(|s| s.name == SECTIONS[index]) {
            Some(s) => {
                let indent = " ".repeat(s.child_indent.unwrap_or(2));
                let text: Vec<String> = added.iter().map(|l| format!("{indent}{l}")).collect();
                edits.push((s.last, Edit::InsertAfter(text)));
            }
            None => appended_sections.push((index, added)),
        }
    }
    // ORDER: bottom-up; at one line, the replacement happens before text is inserted after it.
    edits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.rank().cmp(&b.1.rank())));
    for (at, edit) in edits {
        match edit {
            Edit::Replace(text, drop) => {
                lines.splice(at..=at + drop, std::iter::once(text));
            }
            Edit::InsertAfter(text) => {
                let after = at + 1;
                lines.splice(after..after, text);
            }
        }
    }
    for (index, added) in appended_sections {
        if lines.last().is_some_and(|l| !l.trim().is_empty()) {
            lines.push(String::new());
        }
        lines.push(format!("{}:", SECTIONS[index]));
        lines.extend(added.into_iter().map(|l| format!("  {l}")));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

enum Edit {
    Replace(String, usize),
    InsertAfter(Vec<String>),
}

impl Edit {
    /// Replacements of a line come after insertions following it when sorted bottom-up by
    /// line, so the inserted text lands after the replaced value's new single line.
    fn rank(&self) -> u8 {
        match self {
            Edit::InsertAfter(_) => 0,
            Edit::Replace(..) => 1,
        }
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Finds the sections and their keys (block style only).
fn scan(lines: &[String]) -> Result<Vec<Section>, String> {
    let mut sections: Vec<Section> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if is_blank_or_comment(line) || line.starts_with("---") || line.starts_with("...") {
            continue;
        }
        if line.starts_with('\t') {
            return Err(format!("line {}: tab indentation is not YAML", i + 1));
        }
        let indent = indent_of(line);
        if indent == 0 {
            let (key, rest) =
                split_key(line).ok_or_else(|| format!("line {}: expected 'section:'", i + 1))?;
            let (rest, _) = split_comment(rest);
            if !rest.trim().is_empty() && rest.trim() != "~" && rest.trim() != "null" {
                return Err(format!(
                    "section '{key}' is not written in block style; CONFIG REWRITE only edits block-style YAML"
                ));
            }
            sections.push(Section {
                name: key,
                last: i,
                child_indent: None,
                keys: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(format!("line {}: indented text outside a section", i + 1));
        };
        let child = *section.child_indent.get_or_insert(indent);
        section.last = i;
        if indent > child {
            if let Some((_, kl)) = section.keys.last_mut() {
                kl.continuation = i - kl.line;
            }
            continue;
        }
        if indent < child {
            return Err(format!("line {}: inconsistent indentation", i + 1));
        }
        let (key, _) =
            split_key(line).ok_or_else(|| format!("line {}: expected 'key: value'", i + 1))?;
        section.keys.push((
            key,
            KeyLine {
                line: i,
                continuation: 0,
            },
        ));
    }
    // A continuation may hold blank or comment lines inside a list; it never ends on one.
    Ok(sections)
}

/// `key: rest` → (key without quotes, rest). None when the line has no `key:`.
fn split_key(line: &str) -> Option<(String, &str)> {
    let t = line.trim_start();
    if let Some(q) = t.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = t[1..].find(q)? + 1;
        let key = t[1..end].to_string();
        let rest = t[end + 1..].strip_prefix(':')?;
        return Some((key, rest));
    }
    let bytes = t.as_bytes();
    let colon = (0..bytes.len()).find(|&i| {
        bytes[i] == b':' && !matches!(bytes.get(i + 1), Some(c) if !c.is_ascii_whitespace())
    })?;
    Some((t[..colon].trim_end().to_string(), &t[colon + 1..]))
}

/// Splits `value # comment` at the first `#` outside quotes that follows whitespace.
fn split_comment(rest: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    for (i, c) in rest.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && prev_space => return (&rest[..i], Some(&rest[i..])),
            None => {}
        }
        prev_space = c.is_whitespace();
    }
    (rest, None)
}

/// The key line with a new value, keeping indentation, key spelling and trailing comment.
fn replace_value(line: &str, value: &str) -> String {
    let indent = indent_of(line);
    let t = &line[indent..];
    let key_end = match split_key(line) {
        Some((_, rest)) => t.len() - rest.len(),
        None => t.len(),
    };
    let rest = &t[key_end..];
    let (_, comment) = split_comment(rest);
    let mut out = format!("{}{} {value}", &line[..indent], &t[..key_end]);
    if let Some(c) = comment {
        out.push_str("  ");
        out.push_str(c);
    }
    out
}

/// A setting's running value as YAML text.
pub(super) fn yaml_value(setting: &Setting, config: &Config) -> String {
    let shown = (setting.get)(config);
    match setting.kind {
        Kind::Bool => if shown == "yes" { "true" } else { "false" }.to_string(),
        Kind::Int { .. } | Kind::Seconds => shown,
        Kind::Memory => shown
            .parse::<u64>()
            .map(value::format_memory_unit)
            .unwrap_or(shown),
        Kind::Enum(_) => shown,
        Kind::MemoryOrPercent | Kind::Str | Kind::Words => quote(&shown),
    }
}

/// A double-quoted YAML string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The rewritten text must load back to the running values.
fn verify(text: &str, path: &Path, config: &Config) -> Result<(), String> {
    let mut loaded = Config::default();
    apply_yaml(&mut loaded, text, path, &mut HashMap::new())?;
    for s in table::SETTINGS {
        if (s.get)(&loaded) != (s.get)(config) {
            return Err(format!(
                "the rewritten file would not keep {} ({} instead of {})",
                s.name,
                (s.get)(&loaded),
                (s.get)(config)
            ));
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".rewrite-{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_layout_and_comments() {
        let old = "# FinCache\nserver:\n  host: \"0.0.0.0\"   # all interfaces\n  port: 6379\n\n\
                   store:\n  # memory\n  max_memory: 0\n  save:\n    - 3600 1\n    - 300 100\n  ttl_enabled: true\n";
        let c = Config {
            bind: "0.0.0.0".into(),
            port: 7000,
            hz: 20,
            maxmemory_policy: "allkeys-lru".into(),
            ..Config::default()
        };
        let new = rewrite_text(old, &c).unwrap();
        assert_eq!(
            new,
            "# FinCache\nserver:\n  host: \"0.0.0.0\"  # all interfaces\n  port: 7000\n  hz: 20\n\n\
             store:\n  # memory\n  max_memory: 0\n  save: \"\"\n  ttl_enabled: true\n  eviction_policy: allkeys-lru\n"
        );
        verify(&new, Path::new("x.yaml"), &c).unwrap();
    }

    #[test]
    fn empty_file_gets_sections_for_non_defaults() {
        let c = Config {
            timeout: 5,
            loglevel: "warning".into(),
            ..Config::default()
        };
        let new = rewrite_text("", &c).unwrap();
        assert_eq!(
            new,
            "server:\n  read_timeout: 5\n\nlog:\n  level: warning\n"
        );
        verify(&new, Path::new("x.yaml"), &c).unwrap();
    }

    #[test]
    fn flow_style_is_reported() {
        assert!(rewrite_text("server: {port: 1}\n", &Config::default()).is_err());
    }
}
