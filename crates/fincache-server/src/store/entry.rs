//! What the keyspace stores per key: the value and its bookkeeping.
//!
//! Sizes are asserted in tests: `Value` is 24 bytes and `Entry` 32, so a key with a short string
//! value costs one 64-byte map slot (key 24 + entry 32 + hash 8) plus its index cell.

use fincache_types::hash::HashValue;
use fincache_types::list::List;
use fincache_types::set::SetValue;
use fincache_types::zset::ZSet;
use fincache_types::CompactBytes;

/// Longest string Redis stores as `embstr` (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
pub const EMBSTR_MAX_LEN: usize = 44;

/// A stored value. Collection types are boxed so the enum stays 24 bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is a canonical 64-bit integer (OBJECT ENCODING `int`).
    Int(i64),
    /// Any other string (`embstr` up to 44 bytes, `raw` beyond, as Redis reports them).
    Str(CompactBytes),
    /// A string changed in place (APPEND, SETRANGE, SETBIT): kept in a growable buffer with
    /// spare room, so repeated appends are amortised O(1), and reported `raw` as Redis does for
    /// strings it modified in place.
    Raw(Box<Vec<u8>>),
    /// A hash. `HashValue` is itself a 16-byte handle to one boxed block (listpack) or a boxed
    /// table, so it needs no further `Box` to keep `Value` at 24 bytes, and a small hash costs
    /// one allocation, as in Redis.
    Hash(HashValue),
    /// A set; a 16-byte handle like `HashValue`.
    Set(SetValue),
    /// A sorted set (listpack or table + order index), boxed.
    ZSet(Box<ZSet>),
    /// A list (one packed node, or a deque of them), boxed.
    List(Box<List>),
}

impl Value {
    /// The name `TYPE` replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => "string",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::List(_) => "list",
        }
    }

    /// The name `OBJECT ENCODING` replies with, as Redis would report the same value.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.as_slice().len() <= EMBSTR_MAX_LEN => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::List(l) => l.encoding_name(),
        }
    }

    /// Builds a string value, storing canonical integers compactly as Redis does.
    pub fn from_bytes(b: &[u8]) -> Value {
        if b.len() <= 20 {
            if let Some(n) = fincache_types::num::parse_i64(b) {
                return Value::Int(n);
            }
        }
        Value::Str(CompactBytes::new(b))
    }

    /// Builds a string value from an owned buffer (no copy for long values).
    pub fn from_vec(v: Vec<u8>) -> Value {
        if v.len() <= 20 {
            if let Some(n) = fincache_types::num::parse_i64(&v) {
                return Value::Int(n);
            }
        }
        Value::Str(CompactBytes::from_vec(v))
    }

    /// The bytes of a string value (an integer is formatted into `buf`); `None` for other
    /// types. Every reader of string values goes through this, so all three string
    /// representations read the same.
    #[inline]
    pub fn string_bytes<'v>(&'v self, buf: &'v mut itoa::Buffer) -> Option<&'v [u8]> {
        match self {
            Value::Str(s) => Some(s.as_slice()),
            Value::Raw(r) => Some(r.as_slice()),
            Value::Int(n) => Some(buf.format(*n).as_bytes()),
            _ => None,
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str(_) | Value::Raw(_))
    }

    /// Heap bytes owned by the value beyond the entry itself (for MEMORY USAGE and accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_size(),
            Value::Raw(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => std::mem::size_of::<ZSet>() + z.heap_size(),
            Value::List(l) => std::mem::size_of::<List>() + l.heap_size(),
        }
    }
}

/// A key's value plus the bits the keyspace keeps beside it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Last access, in seconds of the server's LRU clock (OBJECT IDLETIME, LRU eviction); under
    /// an LFU policy a minutes clock and access counter instead (see `store::evict`).
    pub lru: u32,
    /// Whether the shard's expires table holds a deadline for this key; saves a second lookup
    /// for the (common) keys without TTL.
    pub has_expire: bool,
}

impl Entry {
    pub fn new(value: Value, lru: u32) -> Self {
        Entry {
            value,
            // Under an LFU policy the clock carries a flag and the field gets a fresh counter.
            lru: super::evict::initial(lru),
            has_expire: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }
}
