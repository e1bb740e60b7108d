//! Commands: the table ([`spec`], [`registry`]), the dispatcher ([`dispatch`]), and one file per
//! family under [`family`].

pub mod args;
pub mod ctx;
pub mod dispatch;
pub mod error;
pub mod family;
pub mod registry;
pub mod spec;

pub use ctx::ExecCtx;
pub use error::CmdError;
pub use spec::{AclCats, CmdResult, CommandSpec, Flags};
