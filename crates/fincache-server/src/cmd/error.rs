//! `CmdError`: every error a client can see. `Display` is Redis's exact text, prefix included,
//! because clients and tests match on it.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CmdError {
    #[error("ERR unknown command '{name}', with args beginning with: {args}")]
    UnknownCommand { name: String, args: String },
    #[error("ERR unknown subcommand '{sub}'. Try {container} HELP.")]
    UnknownSubcommand { sub: String, container: String },
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(String),
    #[error("ERR {0} is out of range, must be positive")]
    MustBePositive(&'static str),
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    /// Any other error; the text must carry its own prefix (`ERR …`, `NOPERM …`, `BUSY …`).
    #[error("{0}")]
    Other(String),
}

impl CmdError {
    /// An `ERR`-prefixed error with free text.
    pub fn err(msg: impl std::fmt::Display) -> Self {
        CmdError::Other(format!("ERR {msg}"))
    }

    /// Builds Redis's unknown-command error (each argument quoted, at most 128 bytes each,
    /// arguments listed until the message would pass 128 bytes).
    pub fn unknown_command(argv: &[&[u8]]) -> Self {
        let name = String::from_utf8_lossy(&argv[0][..argv[0].len().min(128)]).into_owned();
        let mut args = String::new();
        for a in &argv[1..] {
            if args.len() >= 128 {
                break;
            }
            let shown = &a[..a.len().min(128 - args.len())];
            args.push('\'');
            args.push_str(&String::from_utf8_lossy(shown));
            args.push_str("' ");
        }
        CmdError::UnknownCommand { name, args }
    }
}
