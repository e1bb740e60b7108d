//! Glob matching with exactly Redis's semantics (`util.c` `stringmatchlen`): `*`, `?`, classes
//! `[abc]`, ranges `[a-z]` (either order), negation `[^...]`, and `\` escapes, over raw bytes.
//! Used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET and ACL key patterns.
//!
//! Redis's quirks are kept on purpose, because clients see them:
//! - a pattern never matches the empty string unless it is empty itself (`*` does not match
//!   `""`; KEYS and SCAN special-case the exact pattern `*` before calling the matcher);
//! - an unterminated class (`[abc`, `[^`) ends at the end of the pattern;
//! - range bounds compare as signed C `char`s, so `[a-\xff]` is the range `\xff..=a`;
//! - recursion is capped (1000 nested stars) and a failed star stops the enclosing ones from
//!   retrying (`skipLongerMatches`), so pathological patterns stay linear-ish.

/// Returns whether `string` matches `pattern`. `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_from(pattern, string, nocase, &mut skip_longer, 0)
}

/// A pattern or string byte as Redis's C code sees it: a signed `char`.
fn signed(b: u8) -> i32 {
    i32::from(b as i8)
}

/// C `tolower` in the "C" locale on a signed `char`: only ASCII letters change.
fn signed_lower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn match_from(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: usize,
) -> bool {
    // Redis caps recursion to protect against pathological patterns.
    if nesting > 1000 {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_from(&p[1..], s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                // No suffix of the string matched the rest of the pattern, so a longer string
                // cannot either: stop the enclosing stars from retrying (Redis's skipLongerMatches).
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = p.first() == Some(&b'^');
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        // Unterminated class: Redis treats the end of pattern as the class end.
                        break;
                    }
                    if p[0] == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if p[0] == s[0] {
                            matched = true;
                        }
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        // Redis compares range bounds as C `char`s, which are signed on the
                        // platforms it ships for: bytes >= 0x80 sort below every ASCII byte.
                        let (mut start, mut end) = (signed(p[0]), signed(p[2]));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let mut c = signed(s[0]);
                        if nocase {
                            start = signed_lower(start);
                            end = signed_lower(end);
                            c = signed_lower(c);
                        }
                        p = &p[2..];
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if fold(p[0], nocase) == fold(s[0], nocase) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
                if p.is_empty() {
                    // Pattern ended inside the class; mirror Redis by stepping back one.
                    return s.is_empty();
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if fold(p[0], nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if fold(c, nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn redis_cases() {
        assert!(m("*", "abc"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hbllo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("user:*:balance", "user:42:balance"));
        assert!(!m("a*b", "acd"));
        assert!(m("a**", "a"));
        assert!(glob_match(b"HELLO", b"hello", true));
    }

    fn mb(p: &[u8], s: &[u8]) -> bool {
        glob_match(p, s, false)
    }

    #[test]
    fn empty_string_matches_only_empty_pattern() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?", ""));
        assert!(!m("", "a"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
    }

    #[test]
    fn unterminated_classes() {
        assert!(m("[abc", "a"));
        assert!(m("[abc", "c"));
        assert!(!m("[abc", "d"));
        assert!(!m("[abc", "ab"));
        assert!(m("[^", "x"));
        assert!(!m("[^", ""));
        assert!(!m("[^", "xy"));
        assert!(!m("[", "a"));
        assert!(m("x[a-", "x-"));
        assert!(m("x[a-", "xa"));
        assert!(!m("x[a-", "xb"));
    }

    #[test]
    fn escapes() {
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\", "\\"));
        assert!(m("[\\", "\\"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        // Unlike glob(7), a `]` right after `[` closes an empty class that matches nothing.
        assert!(!m("[]]", "]"));
        assert!(!m("[]a]", "]"));
        assert!(!m("[]a]", "a"));
    }

    #[test]
    fn ranges_compare_as_signed_chars() {
        // As on x86-64 redis-server: 0xff is -1, so the range is -1..=97.
        assert!(mb(b"[a-\xff]", b"a"));
        assert!(!mb(b"[a-\xff]", b"b"));
        assert!(!mb(b"[a-\xff]", b"\xc8"));
        assert!(mb(b"[a-\xff]", b"\xff"));
        assert!(mb(b"[\x80-\xff]", b"\x90"));
        assert!(!mb(b"[\x80-\xff]", b"a"));
        assert!(mb(b"[\xc8]", b"\xc8"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"[A-C]x", b"bX", true));
        assert!(!glob_match(b"[A-C]x", b"bX", false));
        assert!(glob_match(b"h*O", b"HellO", true));
        // Escapes inside a class compare exactly, even with nocase (as Redis does).
        assert!(!glob_match(b"[\\A]", b"a", true));
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("*a", "bba"));
        assert!(!m("*a", "bbab"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("??", "ab"));
        assert!(!m("??", "a"));
        assert!(m("*?", "a"));
        assert!(!m("*?", ""));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let s = "a".repeat(100);
        let start = std::time::Instant::now();
        assert!(!m("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", &s));
        assert!(start.elapsed().as_secs() < 1);
    }
}
