//! Argument parsing with Redis's error words: integers, floats, options.

use super::error::CmdError;
use fincache_types::num;

/// Parses an i64 argument (`ERR value is not an integer or out of range`).
#[inline]
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// Parses a float argument (`ERR value is not a valid float`).
#[inline]
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    num::parse_f64(arg).ok_or(CmdError::NotFloat)
}

/// Parses a non-negative integer that must fit usize; negative values are `NotInteger`
/// unless the caller has a more specific message.
pub fn uint(arg: &[u8]) -> Result<usize, CmdError> {
    let v = int(arg)?;
    usize::try_from(v).map_err(|_| CmdError::NotInteger)
}

/// Case-insensitive comparison of an argument with an ASCII option name.
#[inline]
pub fn is(arg: &[u8], option: &str) -> bool {
    arg.eq_ignore_ascii_case(option.as_bytes())
}

/// The lower-case form of a command or subcommand name, for error messages.
pub fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}
