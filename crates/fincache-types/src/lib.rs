//! FinCache's data structures: pure code with no locks, no I/O and no `unsafe`.
//!
//! Each module owns one representation and returns plain results; only the server's command
//! families turn those into replies.

#![forbid(unsafe_code)]

pub mod bitfield;
pub mod bitmap;
pub mod bytes;
pub mod glob;
pub mod hash;
pub mod intset;
pub mod keymap;
pub mod lcs;
pub mod list;
pub mod listpack;
pub mod longdouble;
pub mod num;
pub mod packed;
pub mod pqsort;
pub mod scan;
pub mod set;
pub mod set_ops;
pub mod strargs;
pub mod zset;
pub mod zset_range;
pub mod zset_tree;

pub use bytes::CompactBytes;
pub use glob::glob_match;
