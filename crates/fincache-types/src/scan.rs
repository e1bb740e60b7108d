//! Cursors of the collection scans (HSCAN, SSCAN, ZSCAN over a hash-table encoding).
//!
//! A hash-table collection kept in an insertion-ordered map is walked by position, from the
//! highest down, `count` positions per call; the cursor is the number of positions still to
//! visit (0 = start, and 0 again when done). Removal moves the last element into the hole
//! (`swap_remove`), which only ever carries an already-visited element downwards, so an element
//! present for a whole iteration is returned at least once, as Redis guarantees; elements added
//! meanwhile may or may not be returned, as in Redis.

/// Parses a SCAN cursor as Redis's `strtoul`-based `parseScanCursorOrReply`: optional sign (a
/// negative value wraps), decimal digits, nothing else; no leading space; the empty string is
/// 0; an embedded NUL ends the number (Redis reads a C string). `None`: `invalid cursor`.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let arg = match arg.iter().position(|&c| c == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    };
    let Some(&first) = arg.first() else {
        return Some(0);
    };
    if matches!(first, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return None;
    }
    let (negative, digits) = match first {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// For a collection of `len` positions, a cursor and a COUNT: the positions to visit this call
/// (`start..end`, walked downwards) and the next cursor. A cursor beyond the collection (it
/// shrank) starts from its end.
pub fn window(cursor: u64, len: usize, count: usize) -> (usize, usize, u64) {
    let left = match usize::try_from(cursor) {
        Ok(0) | Err(_) => len,
        Ok(c) => c.min(len),
    };
    let start = left.saturating_sub(count.max(1));
    (start, left, start as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+17"), Some(17));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"5\0junk"), Some(5));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"0x10",
            b"+",
            b"-",
            b"abc",
            b"1.5",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_full_walk_visits_every_position_once() {
        for len in [0usize, 1, 9, 10, 11, 1000] {
            let mut seen = vec![0u32; len];
            let mut cursor = 0;
            loop {
                let (start, end, next) = window(cursor, len, 10);
                for s in &mut seen[start..end] {
                    *s += 1;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            assert!(seen.iter().all(|&n| n == 1), "len {len}");
        }
        assert_eq!(window(99, 3, 10), (0, 3, 0));
    }
}
