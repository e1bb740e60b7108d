//! Property tests of the RESP codec: the request parser never panics and never over-consumes,
//! every argv survives a multibulk (and inline) round trip however the bytes are split, and every
//! reply tree survives encoding with `ReplyEncoder` and parsing with `parse_reply`, in RESP3 as is
//! and in RESP2 in its degraded form.

use fincache_resp::encode::format_double;
use fincache_resp::parse::decode_inline_owned;
use fincache_resp::{parse_command, parse_reply, Limits, Parsed, Protocol, Reply, ReplyEncoder};
use proptest::prelude::*;

/// `argv` as a client sends it: `*N\r\n$len\r\narg\r\n...`.
fn encode_multibulk(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Runs the parser once and returns the outcome with owned arguments.
fn parse_owned(buf: &[u8], limits: &Limits) -> Result<(Parsed, Vec<Vec<u8>>), String> {
    let mut argv = Vec::new();
    match parse_command(buf, limits, &mut argv) {
        Ok(Parsed::Owned { consumed, args }) => Ok((
            Parsed::Owned {
                consumed,
                args: args.clone(),
            },
            args,
        )),
        Ok(p) => {
            let args = argv.iter().map(|a| a.to_vec()).collect();
            Ok((p, args))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Writes `reply` with the encoder's calls, the way handlers do.
fn encode_reply(e: &mut ReplyEncoder, reply: &Reply) {
    match reply {
        Reply::Simple(s) => e.simple(s),
        Reply::Error(s) => e.error(s),
        Reply::Int(n) => e.int(*n),
        Reply::Bulk(b) => e.bulk(b),
        Reply::Null => e.null(),
        Reply::Array(items) => {
            e.array_len(items.len());
            items.iter().for_each(|r| encode_reply(e, r));
        }
        Reply::Map(pairs) => {
            e.map_len(pairs.len());
            for (k, v) in pairs {
                encode_reply(e, k);
                encode_reply(e, v);
            }
        }
        Reply::Set(items) => {
            e.set_len(items.len());
            items.iter().for_each(|r| encode_reply(e, r));
        }
        Reply::Push(items) => {
            e.push_len(items.len());
            items.iter().for_each(|r| encode_reply(e, r));
        }
        Reply::Double(v) => e.double(*v),
        Reply::Bool(b) => e.boolean(*b),
        Reply::BigNumber(d) => e.big_number(d),
        Reply::Verbatim(f, t) => e.verbatim(f, t),
    }
}

/// What a RESP2 client reads for `reply`: RESP3-only types degrade as Redis degrades them.
fn degrade_to_resp2(reply: &Reply) -> Reply {
    match reply {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            Reply::Array(items.iter().map(degrade_to_resp2).collect())
        }
        Reply::Map(pairs) => Reply::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [degrade_to_resp2(k), degrade_to_resp2(v)])
                .collect(),
        ),
        Reply::Double(v) => Reply::Bulk(format_double(*v).into_bytes()),
        Reply::Bool(b) => Reply::Int(i64::from(*b)),
        Reply::BigNumber(d) => Reply::Bulk(d.clone().into_bytes()),
        Reply::Verbatim(_, t) => Reply::Bulk(t.clone()),
        other => other.clone(),
    }
}

/// A line of text a status or error reply may carry (no CR or LF).
fn line_text() -> impl Strategy<Value = String> {
    "[^\r\n]{0,24}"
}

fn leaf_reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        line_text().prop_map(Reply::Simple),
        line_text().prop_map(|s| Reply::Error(format!("ERR {s}"))),
        any::<i64>().prop_map(Reply::Int),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Reply::Bulk),
        Just(Reply::Null),
        // NaN is left out: it never equals itself. It has its own test below.
        prop_oneof![
            any::<f64>().prop_filter("not NaN", |v| !v.is_nan()),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(0.0),
            (-1_000_000i64..1_000_000).prop_map(|n| n as f64 / 100.0),
        ]
        .prop_map(Reply::Double),
        any::<bool>().prop_map(Reply::Bool),
        "-?[1-9][0-9]{0,40}".prop_map(Reply::BigNumber),
        ("[a-z]{3}", prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(f, t)| Reply::Verbatim(f, t)),
    ]
}

fn reply_tree() -> impl Strategy<Value = Reply> {
    leaf_reply().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Array),
            prop::collection::vec((inner.clone(), inner.clone()), 0..4).prop_map(Reply::Map),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Set),
            prop::collection::vec(inner, 0..6).prop_map(Reply::Push),
        ]
    })
}

/// Request-shaped bytes: mostly well-formed fragments glued at random, so the fuzzing reaches past
/// the first header, plus raw noise.
fn request_noise() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\\x4".to_vec()),
        Just(b" ".to_vec()),
        Just(vec![0u8]),
        (-3i64..40).prop_map(|n| n.to_string().into_bytes()),
        Just(b"-1".to_vec()),
        Just(b"99999999999999999999".to_vec()),
        "[A-Za-z]{1,6}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop::collection::vec(fragment, 0..24).prop_map(|v| v.concat())
}

fn argv_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..48), 1..8)
}

fn limit_variants() -> [Limits; 3] {
    [
        Limits::default(),
        Limits {
            authenticated: false,
            ..Limits::default()
        },
        Limits {
            max_bulk_len: 8,
            max_multibulk_len: 4,
            max_inline_len: 16,
            authenticated: true,
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        // Failures print their minimal input; no regression files in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic_nor_over_consume(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), request_noise()]
    ) {
        for limits in limit_variants() {
            let mut argv = Vec::new();
            match parse_command(&bytes, &limits, &mut argv) {
                Ok(Parsed::Complete(n)) => {
                    prop_assert!(n > 0 && n <= bytes.len(), "consumed {n} of {}", bytes.len());
                    for a in &argv {
                        prop_assert!(a.len() <= bytes.len());
                    }
                }
                Ok(Parsed::Owned { consumed, .. }) => {
                    prop_assert!(consumed > 0 && consumed <= bytes.len());
                }
                Ok(Parsed::Incomplete { hint }) => {
                    if let Some(h) = hint {
                        prop_assert!(h > bytes.len());
                    }
                }
                Err(e) => prop_assert!(e.to_string().starts_with("ERR Protocol error: ")),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_through_the_reply_parser_never_panic(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), request_noise()]
    ) {
        if let Ok((_, n)) = parse_reply(&bytes) {
            prop_assert!(n > 0 && n <= bytes.len());
        }
    }

    #[test]
    fn multibulk_round_trip_at_every_split(argv in argv_strategy(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let wire = encode_multibulk(&argv);
        let limits = Limits::default();
        for cut in 0..wire.len() {
            let (parsed, _) = parse_owned(&wire[..cut], &limits).map_err(TestCaseError::fail)?;
            prop_assert!(matches!(parsed, Parsed::Incomplete { .. }), "cut {cut}: {parsed:?}");
        }
        // Whatever follows (the next pipelined command) is left alone.
        let mut buf = wire.clone();
        buf.extend_from_slice(&tail);
        let (parsed, got) = parse_owned(&buf, &limits).map_err(TestCaseError::fail)?;
        prop_assert_eq!(parsed, Parsed::Complete(wire.len()));
        prop_assert_eq!(got, argv);
    }

    #[test]
    fn pipelined_commands_parse_one_after_another(cmds in prop::collection::vec(argv_strategy(), 1..6)) {
        let wire: Vec<u8> = cmds.iter().flat_map(|c| encode_multibulk(c)).collect();
        let mut pos = 0;
        for want in &cmds {
            let (parsed, got) = parse_owned(&wire[pos..], &Limits::default()).map_err(TestCaseError::fail)?;
            let Parsed::Complete(n) = parsed else {
                return Err(TestCaseError::fail(format!("expected Complete, got {parsed:?}")));
            };
            prop_assert_eq!(&got, want);
            pos += n;
        }
        prop_assert_eq!(pos, wire.len());
    }

    #[test]
    fn inline_plain_words_round_trip(words in prop::collection::vec("[!#-&(-)+-~][!#-&(-~]{0,11}", 1..8), crlf in any::<bool>()) {
        // Printable words without blanks or quotes are split on single spaces (a first `*`
        // would make it a multibulk request).
        let mut line = words.join(" ").into_bytes();
        line.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        let (parsed, got) = parse_owned(&line, &Limits::default()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(parsed, Parsed::Complete(line.len()));
        let want: Vec<Vec<u8>> = words.into_iter().map(String::into_bytes).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn inline_quoted_arguments_round_trip(argv in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..6)) {
        // Any bytes survive double quotes with `\xHH` escapes, or single quotes for safe bytes.
        let mut line = Vec::new();
        for (i, arg) in argv.iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            line.push(b'"');
            for b in arg {
                line.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
            line.push(b'"');
        }
        prop_assert_eq!(decode_inline_owned(&line).map_err(|e| TestCaseError::fail(e.to_string()))?, argv.clone());
        line.extend_from_slice(b"\r\n");
        let (parsed, got) = parse_owned(&line, &Limits::default()).map_err(TestCaseError::fail)?;
        let consumed_all = matches!(parsed, Parsed::Owned { consumed, .. } if consumed == line.len());
        prop_assert!(consumed_all, "parsed as {:?}", parsed);
        prop_assert_eq!(got, argv);
    }

    #[test]
    fn reply_resp3_round_trip(reply in reply_tree()) {
        let mut e = ReplyEncoder::new(Protocol::Resp3);
        encode_reply(&mut e, &reply);
        let (parsed, n) = parse_reply(&e.buf).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(n, e.buf.len());
        prop_assert_eq!(parsed, reply);
        for cut in 0..e.buf.len() {
            prop_assert!(parse_reply(&e.buf[..cut]).is_err(), "prefix {cut} parsed");
        }
    }

    #[test]
    fn reply_resp2_round_trip_degrades(reply in reply_tree()) {
        let mut e = ReplyEncoder::new(Protocol::Resp2);
        encode_reply(&mut e, &reply);
        let (parsed, n) = parse_reply(&e.buf).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(n, e.buf.len());
        prop_assert_eq!(parsed, degrade_to_resp2(&reply));
    }

    #[test]
    fn doubles_format_to_their_shortest_round_trip(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
        let s = format_double(v);
        let back: f64 = s.parse().map_err(|_| TestCaseError::fail(format!("unparsable {s}")))?;
        prop_assert_eq!(back.to_bits(), v.to_bits(), "{} formatted as {}", v, s);
        // fpconv's longest layouts: `-` + 17 digits + 7 zeros, or `-0.000000` + 17 digits.
        prop_assert!(s.len() <= 26, "{} too long", s);
    }
}

#[test]
fn nan_round_trips_as_nan() {
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        let mut e = ReplyEncoder::new(proto);
        e.double(f64::NAN);
        let (r, _) = parse_reply(&e.buf).unwrap();
        match r {
            Reply::Double(v) => assert!(v.is_nan()),
            Reply::Bulk(b) => assert_eq!(b, b"nan"),
            other => panic!("NaN came back as {other:?}"),
        }
    }
}

#[test]
fn reply_parser_rejects_malformed_input() {
    let malformed: &[&[u8]] = &[
        b"?x\r\n",
        b":12a\r\n",
        b":\r\n",
        b"+OK\n",
        b"$3\r\nabcXY",
        b"#x\r\n",
        b"_x\r\n",
        b"%9223372036854775807\r\n",
        b",notanumber\r\n",
        b"=2\r\nab\r\n",
    ];
    for input in malformed {
        assert!(
            matches!(
                parse_reply(input),
                Err(fincache_resp::ReplyParseError::Malformed(_))
            ),
            "{:?} gave {:?}",
            String::from_utf8_lossy(input),
            parse_reply(input)
        );
    }
    // Declared sizes no buffer can hold are only "not arrived yet".
    for input in [
        &b"$9223372036854775807\r\n"[..],
        b"*9223372036854775807\r\n",
        b"|9223372036854775807\r\n",
    ] {
        assert!(parse_reply(input).is_err());
    }
    // Nested past the depth limit is refused, not a stack overflow.
    let deep = b"*1\r\n".repeat(10_000);
    assert!(parse_reply(&deep).is_err());
}
