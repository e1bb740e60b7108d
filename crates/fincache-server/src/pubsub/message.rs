//! The frames Pub/Sub sends: `message`, `pmessage`, `smessage` and the (un)subscribe
//! confirmations, in RESP2 (arrays) or RESP3 (pushes), byte for byte as Redis's
//! `addReplyPubsub*` functions write them.
//!
//! A published message is encoded at most once per protocol ([`PerProtocol`]) and the same
//! bytes are appended to every subscriber's output, so fan-out costs one copy per subscriber and
//! no formatting.

use fincache_resp::{Protocol, ReplyEncoder};

/// The word that opens a delivered message of each kind.
pub const MESSAGE: &[u8] = b"message";
pub const SMESSAGE: &[u8] = b"smessage";
pub const PMESSAGE: &[u8] = b"pmessage";

fn encoder(proto: Protocol, capacity: usize) -> ReplyEncoder {
    ReplyEncoder {
        buf: Vec::with_capacity(capacity),
        proto,
    }
}

/// `[message|smessage, channel, payload]`.
pub fn message(proto: Protocol, word: &[u8], channel: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = encoder(proto, 48 + channel.len() + payload.len());
    out.push_len(3);
    out.bulk(word);
    out.bulk(channel);
    out.bulk(payload);
    out.buf
}

/// `[pmessage, pattern, channel, payload]`.
pub fn pmessage(proto: Protocol, pattern: &[u8], channel: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = encoder(proto, 64 + pattern.len() + channel.len() + payload.len());
    out.push_len(4);
    out.bulk(PMESSAGE);
    out.bulk(pattern);
    out.bulk(channel);
    out.bulk(payload);
    out.buf
}

/// A frame built lazily for each protocol a receiver speaks, then shared by all of them.
#[derive(Debug, Default)]
pub struct PerProtocol {
    resp2: Option<Vec<u8>>,
    resp3: Option<Vec<u8>>,
}

impl PerProtocol {
    /// The frame for `proto`, built by `build` the first time it is asked for.
    pub fn get(&mut self, proto: Protocol, build: impl FnOnce(Protocol) -> Vec<u8>) -> &[u8] {
        let slot = if proto == Protocol::Resp3 {
            &mut self.resp3
        } else {
            &mut self.resp2
        };
        slot.get_or_insert_with(|| build(proto))
    }
}

/// The protocol a client speaks now, from its handle's `resp` (2 or 3).
#[inline]
pub fn protocol_of(resp: u8) -> Protocol {
    if resp == 3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_redis_bytes() {
        assert_eq!(
            message(Protocol::Resp2, MESSAGE, b"ch", b"hi"),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            message(Protocol::Resp3, SMESSAGE, b"ch", b""),
            b">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$0\r\n\r\n"
        );
        assert_eq!(
            pmessage(Protocol::Resp2, b"c*", b"ch", b"x"),
            b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nx\r\n"
        );
    }

    #[test]
    fn per_protocol_builds_once() {
        let mut p = PerProtocol::default();
        let mut builds = 0;
        for _ in 0..3 {
            p.get(Protocol::Resp2, |proto| {
                builds += 1;
                message(proto, MESSAGE, b"a", b"b")
            });
        }
        assert_eq!(builds, 1);
        assert!(p
            .get(Protocol::Resp3, |proto| message(proto, MESSAGE, b"a", b"b"))
            .starts_with(b">3"));
    }
}
