//! Fuzzes the reply parser: any bytes must parse without a panic (deep nesting and huge declared
//! sizes included) and never consume more than given; a parsed reply, encoded again in RESP3,
//! must parse back to the same reply.
#![no_main]

use fincache_resp::{parse_reply, Protocol, Reply, ReplyEncoder};
use libfuzzer_sys::fuzz_target;

/// Writes `reply` back with the encoder; false for replies the encoder cannot reproduce exactly
/// (texts with CR/LF, verbatim formats that are not three bytes, NaN).
fn encode(e: &mut ReplyEncoder, reply: &Reply) -> bool {
    match reply {
        Reply::Simple(s) if !s.contains(['\r', '\n']) => e.simple(s),
        Reply::Error(s) if !s.contains(['\r', '\n']) => e.error(s),
        Reply::Int(n) => e.int(*n),
        Reply::Bulk(b) => e.bulk(b),
        Reply::Null => e.null(),
        Reply::Double(v) if !v.is_nan() => e.double(*v),
        Reply::Bool(b) => e.boolean(*b),
        Reply::BigNumber(d) if !d.contains(['\r', '\n']) => e.big_number(d),
        Reply::Verbatim(f, t) if f.len() == 3 => e.verbatim(f, t),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            match reply {
                Reply::Array(_) => e.array_len(items.len()),
                Reply::Set(_) => e.set_len(items.len()),
                _ => e.push_len(items.len()),
            }
            return items.iter().all(|r| encode(e, r));
        }
        Reply::Map(pairs) => {
            e.map_len(pairs.len());
            return pairs.iter().all(|(k, v)| encode(e, k) && encode(e, v));
        }
        _ => return false,
    }
    true
}

fuzz_target!(|data: &[u8]| {
    let Ok((reply, n)) = parse_reply(data) else {
        return;
    };
    assert!(n > 0 && n <= data.len());
    let mut e = ReplyEncoder::new(Protocol::Resp3);
    if encode(&mut e, &reply) {
        let (again, m) = parse_reply(&e.buf).expect("our own encoding parses");
        assert_eq!(m, e.buf.len());
        // Doubles may print differently (1e0 vs 1) but must keep their value.
        assert_eq!(format!("{again:?}"), format!("{reply:?}"));
    }
});
