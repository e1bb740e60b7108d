//! RESP2/RESP3 codec for FinCache.
//!
//! Owns the wire format only: [`parse`] turns client bytes into argument slices (multibulk and
//! inline, with Redis's limits and error words), [`encode`] writes replies for either protocol,
//! and [`reply`] reads replies back into a [`Reply`] tree (used by tests, scripts and the HTTP
//! bridge). No I/O, no tokio: everything works on byte slices so it can be fuzzed in isolation.

pub mod encode;
pub mod parse;
pub mod reply;

pub use encode::ReplyEncoder;
pub use parse::{parse_command, Limits, Parsed, ProtocolError};
pub use reply::{parse_reply, Reply, ReplyParseError};

/// The protocol a connection speaks, chosen by `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}
