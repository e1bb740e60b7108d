//! Fuzzes the request parser: any bytes, under several limit settings, must parse without a panic,
//! never consume more than given, and — when the input is a whole pipeline — consume it command
//! by command until it is exhausted, incomplete or refused.
#![no_main]

use fincache_resp::{parse_command, Limits, Parsed};
use libfuzzer_sys::fuzz_target;

fn limits(selector: u8) -> Limits {
    match selector % 3 {
        0 => Limits::default(),
        1 => Limits {
            authenticated: false,
            ..Limits::default()
        },
        _ => Limits {
            max_bulk_len: 16,
            max_multibulk_len: 8,
            max_inline_len: 32,
            authenticated: true,
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let limits = limits(selector);
    let mut argv = Vec::new();
    let mut pos = 0;
    // Walk the pipeline the way the connection loop does.
    while pos < input.len() {
        let rest = &input[pos..];
        match parse_command(rest, &limits, &mut argv) {
            Ok(Parsed::Complete(n)) => {
                assert!(n > 0 && n <= rest.len(), "consumed {n} of {}", rest.len());
                for a in &argv {
                    assert!(a.len() <= limits.max_bulk_len.max(rest.len()));
                }
                pos += n;
            }
            Ok(Parsed::Owned { consumed, args }) => {
                assert!(consumed > 0 && consumed <= rest.len());
                assert!(args.iter().map(Vec::len).sum::<usize>() <= consumed);
                pos += consumed;
            }
            Ok(Parsed::Incomplete { hint }) => {
                if let Some(h) = hint {
                    assert!(
                        h > rest.len(),
                        "hint {h} but {} bytes are there",
                        rest.len()
                    );
                }
                break;
            }
            Err(e) => {
                assert!(e.to_string().starts_with("ERR Protocol error: "));
                break;
            }
        }
    }
});
