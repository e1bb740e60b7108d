//! Serialising values in Redis's RDB encoding (version 10, as Redis 7.0 writes it).
//!
//! Every value is written in a form Redis 7.0 loads: strings (with the integer and LZF
//! encodings), lists as `QUICKLIST_2` of listpack nodes, hashes as plain `HASH`, sets as
//! `INTSET` or plain `SET` (never the 7.2-only set listpack), sorted sets as `ZSET_2` with
//! binary doubles. Redis converts small collections back to listpacks as it loads them.

use crate::store::Value;
use fincache_types::hash::HashValue;
use fincache_types::list::List;
use fincache_types::packed::Entry as PackedEntry;
use fincache_types::set::{Member, SetValue};
use fincache_types::zset::ZSet;

pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_MODULE: u8 = 6;
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_SET_LISTPACK: u8 = 20;
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;

pub const OP_FUNCTION2: u8 = 245;
pub const OP_FUNCTION_PRE_GA: u8 = 246;
pub const OP_MODULE_AUX: u8 = 247;
pub const OP_IDLE: u8 = 248;
pub const OP_FREQ: u8 = 249;
pub const OP_AUX: u8 = 250;
pub const OP_RESIZEDB: u8 = 251;
pub const OP_EXPIRETIME_MS: u8 = 252;
pub const OP_EXPIRETIME: u8 = 253;
pub const OP_SELECTDB: u8 = 254;
pub const OP_EOF: u8 = 255;

/// The RDB version FinCache writes (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;

/// Quicklist node containers (`QUICKLIST_NODE_CONTAINER_*`).
const CONTAINER_PACKED: usize = 2;
/// Entries and bytes per written list node (Redis's default `list-max-listpack-size -2`).
const NODE_MAX_ENTRIES: usize = 128;
const NODE_MAX_BYTES: usize = 8 * 1024;

/// An RDB length (`rdbSaveLen`).
pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push((n & 0xff) as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// An RDB string (`rdbSaveRawString`): the integer encodings for short canonical integers,
/// LZF when `compress` and it saves at least 4 bytes, otherwise length + bytes.
pub fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(n) = fincache_types::num::parse_i64(s) {
            if put_int_encoded(out, n) {
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(c) = super::lzf::compress(s, s.len() - 4) {
            out.push(0xC3);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn put_int_encoded(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.push(0xC0);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xC1);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xC2);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// The RDB type byte `value` is written with.
pub fn type_byte(value: &Value) -> u8 {
    match value {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST_QUICKLIST_2,
        Value::Hash(_) => TYPE_HASH,
        Value::Set(s) if type_byte_is_intset(s) => TYPE_SET_INTSET,
        Value::Set(_) => TYPE_SET,
        Value::ZSet(_) => TYPE_ZSET_2,
    }
}

fn is_intset(s: &SetValue) -> bool {
    s.encoding_name() == "intset"
}

/// The type byte followed by the value's body (`rdbSaveObjectType` + `rdbSaveObject`).
pub fn put_value(out: &mut Vec<u8>, value: &Value, compress: bool) {
    out.push(type_byte(value));
    put_body(out, value, compress);
}

/// A key-value pair as a snapshot holds it: type byte, key, body (`rdbSaveKeyValuePair`).
pub fn put_keyed_value(out: &mut Vec<u8>, key: &[u8], value: &Value, compress: bool) {
    out.push(type_byte(value));
    put_string(out, key, compress);
    put_body(out, value, compress);
}

/// The value's body alone (`rdbSaveObject`).
fn put_body(out: &mut Vec<u8>, value: &Value, compress: bool) {
    match value {
        Value::Int(n) => {
            if !put_int_encoded(out, *n) {
                put_string(out, itoa::Buffer::new().format(*n).as_bytes(), compress);
            }
        }
        Value::Str(s) => put_string(out, s.as_slice(), compress),
        Value::Raw(r) => put_string(out, r, compress),
        Value::List(l) => put_list(out, l, compress),
        Value::Hash(h) => put_hash(out, h, compress),
        Value::Set(s) => put_set(out, s, compress),
        Value::ZSet(z) => put_zset(out, z, compress),
    }
}

fn put_list(out: &mut Vec<u8>, list: &List, compress: bool) {
    // Cut the elements into nodes first: the node count comes before the nodes.
    let mut nodes: Vec<(usize, usize)> = Vec::new(); // (first element, count)
    let (mut start, mut count, mut bytes) = (0usize, 0usize, 0usize);
    for (i, v) in list.iter().enumerate() {
        if count > 0 && (count >= NODE_MAX_ENTRIES || bytes + v.len() > NODE_MAX_BYTES) {
            nodes.push((start, count));
            start = i;
            count = 0;
            bytes = 0;
        }
        count += 1;
        bytes += v.len() + 2;
    }
    if count > 0 {
        nodes.push((start, count));
    }
    put_len(out, nodes.len() as u64);
    let mut lp = Vec::new();
    for (start, count) in nodes {
        lp.clear();
        listpack_build(&mut lp, list.iter_from(start).take(count), count);
        put_len(out, CONTAINER_PACKED as u64);
        put_string(out, &lp, compress);
    }
}

fn put_hash(out: &mut Vec<u8>, h: &HashValue, compress: bool) {
    put_len(out, h.len() as u64);
    let mut fb = itoa::Buffer::new();
    let mut vb = itoa::Buffer::new();
    for (f, v) in h.iter() {
        put_string(out, entry_bytes(&f, &mut fb), compress);
        put_string(out, entry_bytes(&v, &mut vb), compress);
    }
}

fn entry_bytes<'e>(e: &PackedEntry<'e>, buf: &'e mut itoa::Buffer) -> &'e [u8] {
    match *e {
        PackedEntry::Int(n) => buf.format(n).as_bytes(),
        PackedEntry::Bytes(b) => b,
    }
}

fn put_set(out: &mut Vec<u8>, s: &SetValue, compress: bool) {
    if type_byte_is_intset(s) {
        // Redis's intset blob: encoding width, count, values ascending (little-endian).
        let (mut lo, mut hi) = (0i64, 0i64);
        for m in s.iter() {
            if let Member::Int(n) = m {
                lo = lo.min(n);
                hi = hi.max(n);
            }
        }
        let width: usize = if i16::try_from(lo).is_ok() && i16::try_from(hi).is_ok() {
            2
        } else if i32::try_from(lo).is_ok() && i32::try_from(hi).is_ok() {
            4
        } else {
            8
        };
        let mut ints: Vec<i64> = s
            .iter()
            .filter_map(|m| {
                if let Member::Int(n) = m {
                    Some(n)
                } else {
                    None
                }
            })
            .collect();
        ints.sort_unstable();
        let mut blob = Vec::with_capacity(8 + ints.len() * width);
        blob.extend_from_slice(&(width as u32).to_le_bytes());
        blob.extend_from_slice(&(ints.len() as u32).to_le_bytes());
        for n in ints {
            blob.extend_from_slice(&n.to_le_bytes()[..width]);
        }
        put_string(out, &blob, compress);
        return;
    }
    put_len(out, s.len() as u64);
    let mut buf = itoa::Buffer::new();
    for m in s.iter() {
        match m {
            Member::Int(n) => put_string(out, buf.format(n).as_bytes(), compress),
            Member::Bytes(b) => put_string(out, b, compress),
        }
    }
}

fn type_byte_is_intset(s: &SetValue) -> bool {
    is_intset(s) && s.iter().all(|m| matches!(m, Member::Int(_)))
}

fn put_zset(out: &mut Vec<u8>, z: &ZSet, compress: bool) {
    put_len(out, z.len() as u64);
    // As Redis: from the highest rank down, so loading appends at the head cheaply.
    let n = z.len();
    for (m, score) in z.range(n.saturating_sub(1), n, true) {
        put_string(out, m, compress);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// Appends a Redis listpack holding `values` (`count` of them).
pub fn listpack_build<'v>(out: &mut Vec<u8>, values: impl Iterator<Item = &'v [u8]>, count: usize) {
    let base = out.len();
    out.extend_from_slice(&[0; 6]);
    let mut entry = Vec::with_capacity(16);
    for v in values {
        entry.clear();
        lp_encode(&mut entry, v);
        out.extend_from_slice(&entry);
        lp_backlen(out, entry.len());
    }
    out.push(0xFF);
    let total = (out.len() - base) as u32;
    out[base..base + 4].copy_from_slice(&total.to_le_bytes());
    let n = u16::try_from(count).unwrap_or(u16::MAX);
    out[base + 4..base + 6].copy_from_slice(&n.to_le_bytes());
}

/// One listpack entry's encoding and data (`lpEncodeString` / the integer forms).
fn lp_encode(out: &mut Vec<u8>, v: &[u8]) {
    if v.len() <= 20 {
        if let Some(n) = fincache_types::num::parse_i64(v) {
            if (0..=127).contains(&n) {
                out.push(n as u8);
            } else if (-4096..=4095).contains(&n) {
                let u = (n as u64) & 0x1fff;
                out.push(0xC0 | (u >> 8) as u8);
                out.push((u & 0xff) as u8);
            } else if let Ok(x) = i16::try_from(n) {
                out.push(0xF1);
                out.extend_from_slice(&x.to_le_bytes());
            } else if (-(1 << 23)..(1 << 23)).contains(&n) {
                out.push(0xF2);
                out.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
            } else if let Ok(x) = i32::try_from(n) {
                out.push(0xF3);
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.push(0xF4);
                out.extend_from_slice(&n.to_le_bytes());
            }
            return;
        }
    }
    let len = v.len();
    if len < 64 {
        out.push(0x80 | len as u8);
    } else if len < 4096 {
        out.push(0xE0 | (len >> 8) as u8);
        out.push((len & 0xff) as u8);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(v);
}

/// The entry's back-length (`lpEncodeBacklen`).
fn lp_backlen(out: &mut Vec<u8>, l: usize) {
    let l = l as u64;
    if l <= 127 {
        out.push(l as u8);
    } else if l < 16383 {
        out.push((l >> 7) as u8);
        out.push(((l & 127) | 128) as u8);
    } else if l < 2_097_151 {
        out.push((l >> 14) as u8);
        out.push((((l >> 7) & 127) | 128) as u8);
        out.push(((l & 127) | 128) as u8);
    } else if l < 268_435_455 {
        out.push((l >> 21) as u8);
        out.push((((l >> 14) & 127) | 128) as u8);
        out.push((((l >> 7) & 127) | 128) as u8);
        out.push(((l & 127) | 128) as u8);
    } else {
        out.push((l >> 28) as u8);
        out.push((((l >> 21) & 127) | 128) as u8);
        out.push((((l >> 14) & 127) | 128) as u8);
        out.push((((l >> 7) & 127) | 128) as u8);
        out.push(((l & 127) | 128) as u8);
    }
}
