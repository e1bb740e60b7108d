//! Parsing and printing of setting values, with Redis's rules and Redis's error words
//! (`src/config.c`, `src/util.c` `memtoull`, `src/notify.c`), so a bad value gets the same
//! complaint from `CONFIG SET` as from Redis.
//!
//! Every parser returns the error text Redis puts after `CONFIG SET failed (possibly related to
//! argument '…') - `; the loaders wrap it with where the value came from.

use fincache_types::num::parse_i64;

/// Parses an integer setting as Redis's numeric configs do: `string2ll`, then the bounds.
pub fn int(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = parse_i64(v.as_bytes()).ok_or("argument couldn't be parsed into an integer")?;
    check_bounds(n, min, max)?;
    Ok(n)
}

fn check_bounds(n: i64, min: i64, max: i64) -> Result<(), String> {
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(())
}

/// Redis's `memtoull`: digits with an optional unit `b`, `k` (1000), `kb` (1024), `m`, `mb`,
/// `g`, `gb`, any case. No sign, no spaces, no fraction. `None` when it is not a memory value.
///
/// Like Redis, an empty digit string is 0, digits past `u64::MAX` saturate (its `strtoull`), and
/// the unit multiplication wraps (its unsigned arithmetic).
pub fn memtoull(v: &str) -> Option<u64> {
    let digits_end = v
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(v.len());
    let (digits, unit) = v.split_at(digits_end);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let mut n: u64 = 0;
    for d in digits.bytes() {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX);
    }
    Some(n.wrapping_mul(mul))
}

/// A memory setting of an unsigned 64-bit type (`maxmemory`).
pub fn memory_u64(v: &str) -> Result<u64, String> {
    memtoull(v).ok_or_else(|| "argument must be a memory value".to_string())
}

/// A memory setting of a signed type with bounds (`proto-max-bulk-len`): as in Redis, a value
/// past `i64::MAX` reads as negative and fails the bounds check.
pub fn memory_i64(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = memtoull(v).ok_or("argument must be a memory value")? as i64;
    check_bounds(n, min, max)?;
    Ok(n)
}

/// A memory-or-percent setting (`maxmemory-clients`): a percentage is stored negated.
pub fn memory_or_percent(v: &str, min_percent: i64, max: i64) -> Result<i64, String> {
    let parsed = match memtoull(v) {
        Some(n) => Some(n as i64),
        None => v
            .strip_suffix('%')
            .filter(|p| !p.is_empty())
            .and_then(|p| parse_i64(p.as_bytes()))
            .filter(|&p| p >= 0)
            .map(|p| -p),
    };
    let n = parsed.ok_or("argument must be a memory or percent value")?;
    if n < 0 {
        if n < min_percent {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -min_percent
            ));
        }
    } else if n > max {
        return Err(format!(
            "argument must be between {min_percent} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Prints a memory-or-percent value as Redis's CONFIG GET does.
pub fn format_memory_or_percent(n: i64) -> String {
    if n < 0 {
        format!("{}%", n.unsigned_abs())
    } else {
        n.to_string()
    }
}

/// A yes/no setting (any case). `lenient` (configuration file and environment) also takes
/// `true`/`false`, as the YAML layout and the old environment variables used them.
pub fn yes_no(v: &str, lenient: bool) -> Result<bool, String> {
    if v.eq_ignore_ascii_case("yes") || (lenient && v.eq_ignore_ascii_case("true")) {
        Ok(true)
    } else if v.eq_ignore_ascii_case("no") || (lenient && v.eq_ignore_ascii_case("false")) {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".into())
    }
}

pub fn format_yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// One of a fixed list of names (any case); returns the canonical spelling.
pub fn one_of(v: &str, names: &'static [&'static str]) -> Result<&'static str, String> {
    names
        .iter()
        .copied()
        .find(|n| n.eq_ignore_ascii_case(v))
        .ok_or_else(|| {
            // COMPAT: Redis 7.0 words this "argument(s) must be …" (7.0.15 as tested).
            format!(
                "argument(s) must be one of the following: {}",
                names.join(", ")
            )
        })
}

/// A duration in whole seconds, as the YAML layout writes them: `30`, `30s`, `5m`, `2h`, `1d`
/// (the Go-style values of the old `config.yaml`), at most `max` seconds.
pub fn seconds(v: &str, max: u64) -> Result<u64, String> {
    let bad = || "argument must be a duration in seconds (e.g. 30, 30s, 5m, 1h)".to_string();
    let digits_end = v
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(v.len());
    let (digits, unit) = v.split_at(digits_end);
    if digits.is_empty() {
        return Err(bad());
    }
    let mul: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let secs = n.checked_mul(mul).ok_or_else(bad)?;
    if secs > max {
        return Err(format!("argument must be between 0 and {max} seconds"));
    }
    Ok(secs)
}

/// Whether `name` is a plain file name (Redis's `pathIsBaseName`: no `/` or `\`).
pub fn is_base_name(name: &str) -> bool {
    !name.contains('/') && !name.contains('\\')
}

/// One `save` rule: snapshot after `seconds` if at least `changes` writes happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveRule {
    pub seconds: u64,
    pub changes: u64,
}

/// `save "<seconds> <changes> …"`: pairs, seconds ≥ 1, changes ≥ 0; `""` is no rules.
pub fn save_rules(v: &str) -> Result<Vec<SaveRule>, String> {
    let bad = || "Invalid save parameters".to_string();
    let words: Vec<&str> = v.split_whitespace().collect();
    if !words.len().is_multiple_of(2) {
        return Err(bad());
    }
    words
        .chunks(2)
        .map(|pair| {
            let seconds = pair[0]
                .parse::<i64>()
                .ok()
                .filter(|&s| s >= 1)
                .ok_or_else(bad)?;
            let changes = pair[1]
                .parse::<i64>()
                .ok()
                .filter(|&c| c >= 0)
                .ok_or_else(bad)?;
            Ok(SaveRule {
                seconds: seconds as u64,
                changes: changes as u64,
            })
        })
        .collect()
}

pub fn format_save_rules(rules: &[SaveRule]) -> String {
    let parts: Vec<String> = rules
        .iter()
        .map(|r| format!("{} {}", r.seconds, r.changes))
        .collect();
    parts.join(" ")
}

/// One class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// The classes in Redis's order: normal, replica (printed `slave`), pubsub.
pub const OUTPUT_BUFFER_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Redis's defaults (`clientBufferLimitsDefaults`).
pub const DEFAULT_OUTPUT_BUFFER_LIMITS: [OutputBufferLimit; 3] = [
    OutputBufferLimit {
        hard_bytes: 0,
        soft_bytes: 0,
        soft_seconds: 0,
    },
    OutputBufferLimit {
        hard_bytes: 256 * 1024 * 1024,
        soft_bytes: 64 * 1024 * 1024,
        soft_seconds: 60,
    },
    OutputBufferLimit {
        hard_bytes: 32 * 1024 * 1024,
        soft_bytes: 8 * 1024 * 1024,
        soft_seconds: 60,
    },
];

/// `client-output-buffer-limit "<class> <hard> <soft> <seconds> …"`: updates the named classes
/// of `current` (all or nothing, as Redis).
pub fn output_buffer_limits(
    v: &str,
    current: &[OutputBufferLimit; 3],
) -> Result<[OutputBufferLimit; 3], String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut out = *current;
    for group in words.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || {
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string()
        };
        let hard_bytes = memtoull(group[1]).ok_or_else(bad)?;
        let soft_bytes = memtoull(group[2]).ok_or_else(bad)?;
        let soft_seconds = group[3]
            .parse::<i64>()
            .ok()
            .filter(|&s| s >= 0)
            .ok_or_else(bad)?;
        out[class] = OutputBufferLimit {
            hard_bytes,
            soft_bytes,
            soft_seconds: soft_seconds as u64,
        };
    }
    Ok(out)
}

pub fn format_output_buffer_limits(limits: &[OutputBufferLimit; 3]) -> String {
    let parts: Vec<String> = OUTPUT_BUFFER_CLASSES
        .iter()
        .zip(limits)
        .map(|(class, l)| {
            format!(
                "{class} {} {} {}",
                l.hard_bytes, l.soft_bytes, l.soft_seconds
            )
        })
        .collect();
    parts.join(" ")
}

/// Keyspace-notification classes, Redis's `notify.c` bits.
mod notify {
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 12;
    pub const NEW: u32 = 1 << 13;
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    /// `A`: every class except key-miss and new-key events.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// `notify-keyspace-events`: validates the class characters and returns Redis's canonical
/// spelling (what CONFIG GET prints: `KEA` reads back as `AKE`).
pub fn keyspace_events(v: &str) -> Result<String, String> {
    use notify::*;
    let mut flags = 0u32;
    for c in v.chars() {
        flags |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        };
    }
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    Ok(out)
}

/// Prints a byte count as CONFIG REWRITE writes it: `1gb`, `512mb`, `100kb` or plain bytes.
pub fn format_memory_unit(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    const GB: u64 = 1024 * MB;
    match bytes {
        0 => "0".into(),
        b if b % GB == 0 => format!("{}gb", b / GB),
        b if b % MB == 0 => format!("{}mb", b / MB),
        b if b % KB == 0 => format!("{}kb", b / KB),
        b => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memtoull_follows_redis() {
        assert_eq!(memtoull("1GB"), Some(1 << 30));
        assert_eq!(memtoull("512mb"), Some(512 << 20));
        assert_eq!(memtoull("100kb"), Some(102_400));
        assert_eq!(memtoull("100k"), Some(100_000));
        assert_eq!(memtoull("7b"), Some(7));
        assert_eq!(memtoull("42"), Some(42));
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("gb"), Some(0));
        assert_eq!(memtoull("99999999999999999999"), Some(u64::MAX));
        assert_eq!(
            memtoull("99999999999999999999gb"),
            Some(18446744072635809792)
        );
        for bad in ["-1", " 1", "+1", "1.5gb", "1tb", "1 gb"] {
            assert_eq!(memtoull(bad), None, "{bad}");
        }
    }

    #[test]
    fn integers_and_bounds() {
        assert_eq!(int("10", 0, 20), Ok(10));
        assert_eq!(
            int("-1", 0, 2147483647).unwrap_err(),
            "argument must be between 0 and 2147483647 inclusive"
        );
        assert_eq!(
            int("abc", 0, 1).unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(
            int("01", 0, 10).unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
    }

    #[test]
    fn percent_values() {
        assert_eq!(memory_or_percent("10%", -100, i64::MAX), Ok(-10));
        assert_eq!(format_memory_or_percent(-10), "10%");
        assert_eq!(memory_or_percent("1kb", -100, i64::MAX), Ok(1024));
        assert_eq!(
            memory_or_percent("101%", -100, i64::MAX).unwrap_err(),
            "percentage argument must be less or equal to 100"
        );
        assert!(memory_or_percent("x%", -100, i64::MAX).is_err());
    }

    #[test]
    fn keyspace_events_are_canonical() {
        assert_eq!(keyspace_events("KEA").unwrap(), "AKE");
        assert_eq!(keyspace_events("").unwrap(), "");
        assert_eq!(keyspace_events("Ex").unwrap(), "xE");
        assert_eq!(keyspace_events("g$lshzxetdKE").unwrap(), "AKE");
        assert!(keyspace_events("Z").is_err());
    }

    #[test]
    fn save_and_buffers() {
        assert_eq!(save_rules("").unwrap(), vec![]);
        assert_eq!(
            format_save_rules(&save_rules("3600 1 300 100").unwrap()),
            "3600 1 300 100"
        );
        assert!(save_rules("1 2 3").is_err());
        assert!(save_rules("0 1").is_err());
        assert!(save_rules("1 -1").is_err());
        let l = output_buffer_limits("normal 1mb 2 3", &DEFAULT_OUTPUT_BUFFER_LIMITS).unwrap();
        assert_eq!(
            format_output_buffer_limits(&l),
            "normal 1048576 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        assert!(output_buffer_limits("normal 1 2", &l).is_err());
        assert!(output_buffer_limits("master 1 2 3", &l).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(seconds("30s", u64::MAX), Ok(30));
        assert_eq!(seconds("5m", u64::MAX), Ok(300));
        assert_eq!(seconds("2h", u64::MAX), Ok(7200));
        assert_eq!(seconds("45", u64::MAX), Ok(45));
        assert!(seconds("1.5s", u64::MAX).is_err());
        assert!(seconds("-1", u64::MAX).is_err());
        assert!(seconds("10s", 5).is_err());
    }

    #[test]
    fn memory_units_for_rewrite() {
        assert_eq!(format_memory_unit(1 << 30), "1gb");
        assert_eq!(format_memory_unit(512 << 20), "512mb");
        assert_eq!(format_memory_unit(102_400), "100kb");
        assert_eq!(format_memory_unit(1000), "1000");
        assert_eq!(format_memory_unit(0), "0");
    }
}
