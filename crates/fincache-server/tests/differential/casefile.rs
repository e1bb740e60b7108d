//! Reader of `tests/cases/*.case` files (format: `tests/cases/README.md`).
//!
//! A case is a block of non-blank lines; `#` lines are comments. Each line is split by Redis's
//! `sdssplitargs` rules (the same code that splits inline requests), then leading `@directive`
//! words are taken off; the rest is the command. A directive value with spaces is quoted:
//! `@differs="Redis 7.2 replies with X"`.

use fincache_resp::parse::decode_inline_owned;

/// The `@` directives of one line.
#[derive(Debug, Default, Clone)]
pub struct Directives {
    /// `@unordered`: compare the elements of the reply sorted.
    pub unordered: bool,
    /// `@approx=N`: integers may differ by N (negative answers must match exactly).
    pub approx: Option<u64>,
    /// `@type`: compare only the kind of reply.
    pub type_only: bool,
    /// `@differs=REASON`: not compared; printed with its reason.
    pub differs: Option<String>,
    /// `@sleep=MS`: pause before sending.
    pub sleep_ms: u64,
}

#[derive(Debug, Clone)]
pub struct CaseLine {
    pub lineno: usize,
    /// The line as written, for reports.
    pub text: String,
    pub directives: Directives,
    pub argv: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub first_line: usize,
    pub lines: Vec<CaseLine>,
}

/// Parses a whole file; on failure, every bad line as (line number, problem).
pub fn parse(text: &[u8]) -> Result<Vec<Case>, Vec<(usize, String)>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut current: Vec<CaseLine> = Vec::new();
    for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
        let lineno = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let trimmed = trim(raw);
        if trimmed.is_empty() {
            if !current.is_empty() {
                cases.push(Case {
                    first_line: current[0].lineno,
                    lines: std::mem::take(&mut current),
                });
            }
            continue;
        }
        if trimmed.starts_with(b"#") {
            continue;
        }
        match parse_line(raw) {
            Ok((directives, argv)) => current.push(CaseLine {
                lineno,
                text: String::from_utf8_lossy(trimmed).into_owned(),
                directives,
                argv,
            }),
            Err(e) => errors.push((lineno, e)),
        }
    }
    if !current.is_empty() {
        cases.push(Case {
            first_line: current[0].lineno,
            lines: current,
        });
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// Splits one line into its directives and the command's arguments.
pub fn parse_line(line: &[u8]) -> Result<(Directives, Vec<Vec<u8>>), String> {
    let words = decode_inline_owned(line).map_err(|e| format!("cannot split the line: {e}"))?;
    let mut d = Directives::default();
    let mut words = words.into_iter().peekable();
    while let Some(w) = words.next_if(|w| w.starts_with(b"@")) {
        let w = String::from_utf8(w).map_err(|_| "a directive is not UTF-8".to_string())?;
        let (name, value) = match w.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (w.as_str(), None),
        };
        match (name, value) {
            ("@unordered", None) => d.unordered = true,
            ("@type", None) => d.type_only = true,
            ("@approx", Some(v)) => {
                d.approx = Some(v.parse().map_err(|_| format!("bad @approx value {v:?}"))?)
            }
            ("@sleep", Some(v)) => {
                d.sleep_ms = v.parse().map_err(|_| format!("bad @sleep value {v:?}"))?
            }
            ("@differs", Some(v)) if !v.trim().is_empty() => d.differs = Some(v.to_string()),
            ("@differs", _) => return Err("@differs needs a reason: @differs=REASON".into()),
            _ => return Err(format!("unknown directive {w:?}")),
        }
    }
    let argv: Vec<Vec<u8>> = words.collect();
    if argv.is_empty() {
        return Err("directives but no command".into());
    }
    Ok((d, argv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_comments_and_directives() {
        let text = b"# strings\nSET k v\n@approx=2 TTL k\n\n\n@differs=\"a reason\" @sleep=5 GET \"a b\"\n";
        let cases = parse(text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].first_line, 2);
        assert_eq!(cases[0].lines[1].directives.approx, Some(2));
        assert_eq!(cases[0].lines[1].argv, vec![b"TTL".to_vec(), b"k".to_vec()]);
        let l = &cases[1].lines[0];
        assert_eq!(l.lineno, 6);
        assert_eq!(l.directives.differs.as_deref(), Some("a reason"));
        assert_eq!(l.directives.sleep_ms, 5);
        assert_eq!(l.argv, vec![b"GET".to_vec(), b"a b".to_vec()]);
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers() {
        let errors = parse(b"GET k\n@bogus GET k\nSET k \"open\n@unordered\n").unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.0).collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }
}
