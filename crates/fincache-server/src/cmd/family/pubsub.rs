//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE,
//! SUNSUBSCRIBE, SPUBLISH, and PUBSUB with CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS,
//! SHARDNUMSUB and HELP, as Redis 7's `pubsub.c`.
//!
//! The (un)subscribe commands answer with one frame per channel (`[subscribe, channel,
//! count]` …): arrays in RESP2, pushes in RESP3. While subscribed, a RESP2 connection may only
//! run the (un)subscribe commands, PING, QUIT and RESET (checked by the dispatcher); RESP3
//! connections may run anything. The tables and the delivery live in [`crate::pubsub`].

use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::{CmdError, ExecCtx};
use crate::pubsub::{self, Kind};

/// The words of the (un)subscribe confirmations, per kind.
fn words(kind: Kind) -> (&'static [u8], &'static [u8]) {
    match kind {
        Kind::Channel => (b"subscribe", b"unsubscribe"),
        Kind::Pattern => (b"psubscribe", b"punsubscribe"),
        Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
    }
}

/// One confirmation frame: `[word, name or null, subscription count]`.
fn confirm(ctx: &mut ExecCtx<'_>, word: &[u8], name: Option<&[u8]>, kind: Kind) {
    let count = ctx.client.subs.reply_count(kind);
    let out = &mut *ctx.out;
    out.push_len(3);
    out.bulk(word);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(i64::try_from(count).unwrap_or(i64::MAX));
}

/// Redis refuses to subscribe a client that may not block. The subscribe commands are
/// `noscript`, so only EXEC runs them with blocking denied; SUBSCRIBE and PSUBSCRIBE are
/// allowed there (Redis's backward-compatible exception for MULTI), SSUBSCRIBE is not.
fn check_may_subscribe(ctx: &ExecCtx<'_>, kind: Kind) -> CmdResult {
    if ctx.client.deny_blocking && kind == Kind::Shard {
        return Err(CmdError::err(
            "SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        ));
    }
    Ok(())
}

/// The body of SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE: subscribes to each name in turn and
/// confirms each (a name already subscribed is confirmed again with the same count).
fn subscribe_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], kind: Kind) -> CmdResult {
    check_may_subscribe(ctx, kind)?;
    let (word, _) = words(kind);
    for name in &argv[1..] {
        pubsub::subscribe(&ctx.server.pubsub, ctx.client, kind, name);
        confirm(ctx, word, Some(name), kind);
    }
    Ok(())
}

/// The body of UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE: without names, from every name of
/// that kind (or, when there is none, one confirmation with a null name); with names, from
/// each, confirmed whether or not the client was subscribed.
fn unsubscribe_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], kind: Kind) -> CmdResult {
    let (_, word) = words(kind);
    let server = ctx.server;
    if argv.len() == 1 {
        let names = ctx.client.subs.names(kind);
        if names.is_empty() {
            confirm(ctx, word, None, kind);
        }
        for name in names {
            pubsub::unsubscribe(&server.pubsub, ctx.client, kind, &name);
            confirm(ctx, word, Some(&name), kind);
        }
    } else {
        for name in &argv[1..] {
            pubsub::unsubscribe(&server.pubsub, ctx.client, kind, name);
            confirm(ctx, word, Some(name), kind);
        }
    }
    Ok(())
}

/// `SUBSCRIBE channel [channel ...]` — `[subscribe, channel, count]` per channel, then
/// `[message, channel, payload]` for every message published to them.
fn subscribe(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, argv, Kind::Channel)
}

/// `UNSUBSCRIBE [channel ...]` — `[unsubscribe, channel, count]` per channel left (all when
/// none is named; `[unsubscribe, nil, count]` when there was none).
fn unsubscribe(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, argv, Kind::Channel)
}

/// `PSUBSCRIBE pattern [pattern ...]` — `[psubscribe, pattern, count]` per pattern, then
/// `[pmessage, pattern, channel, payload]` for every message to a matching channel.
fn psubscribe(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, argv, Kind::Pattern)
}

/// `PUNSUBSCRIBE [pattern ...]` — as UNSUBSCRIBE, for patterns.
fn punsubscribe(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, argv, Kind::Pattern)
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]` — `[ssubscribe, channel, count]` per shard
/// channel (the count is of shard channels only), then `[smessage, channel, payload]`.
fn ssubscribe(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, argv, Kind::Shard)
}

/// `SUNSUBSCRIBE [shardchannel ...]` — as UNSUBSCRIBE, for shard channels.
fn sunsubscribe(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, argv, Kind::Shard)
}

/// `PUBLISH channel message` — the number of clients that received it (channel subscribers
/// plus one per matching pattern subscription).
fn publish(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = ctx.server.pubsub.publish(argv[1], argv[2]);
    ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

/// `SPUBLISH shardchannel message` — the number of shard channel subscribers that received it.
fn spublish(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let n = ctx.server.pubsub.spublish(argv[1], argv[2]);
    ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

/// PUBSUB CHANNELS / SHARDCHANNELS `[pattern]`: the active names (matching the pattern), in no
/// defined order.
fn list_active(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], kind: Kind) -> CmdResult {
    if argv.len() > 3 {
        return Err(super::server::subcommand_syntax_error(argv, "PUBSUB"));
    }
    let names = ctx.server.pubsub.active(kind, argv.get(2).copied());
    ctx.out.array_len(names.len());
    for n in &names {
        ctx.out.bulk(n);
    }
    Ok(())
}

/// PUBSUB NUMSUB / SHARDNUMSUB `[channel ...]`: a flat array of channel, subscriber count.
fn count_subscribers(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], kind: Kind) -> CmdResult {
    let names = &argv[2..];
    ctx.out.array_len(names.len() * 2);
    for name in names {
        let n = ctx.server.pubsub.subscribers(kind, name);
        ctx.out.bulk(name);
        ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    }
    Ok(())
}

/// `PUBSUB CHANNELS [pattern]` — the channels with at least one subscriber.
fn pubsub_channels(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    list_active(ctx, argv, Kind::Channel)
}

/// `PUBSUB SHARDCHANNELS [pattern]` — the shard channels with at least one subscriber.
fn pubsub_shardchannels(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    list_active(ctx, argv, Kind::Shard)
}

/// `PUBSUB NUMSUB [channel ...]` — each channel and its number of subscribers (pattern
/// subscriptions not counted).
fn pubsub_numsub(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    count_subscribers(ctx, argv, Kind::Channel)
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]` — each shard channel and its number of subscribers.
fn pubsub_shardnumsub(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    count_subscribers(ctx, argv, Kind::Shard)
}

/// `PUBSUB NUMPAT` — the number of distinct patterns subscribed to.
fn pubsub_numpat(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let n = ctx.server.pubsub.count(Kind::Pattern);
    ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
];

/// `PUBSUB HELP` — the subcommands, one status line each.
fn pubsub_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    super::server::reply_help(ctx.out, "PUBSUB", PUBSUB_HELP);
    Ok(())
}

const NONE: AclCats = AclCats::NONE;
/// `pubsub loading stale`.
const PLS: Flags = Flags::PUBSUB.or(Flags::LOADING).or(Flags::STALE);
/// `pubsub noscript loading stale`: the (un)subscribe commands.
const SUB: Flags = PLS.or(Flags::NOSCRIPT);
/// `pubsub loading stale fast`: PUBLISH, SPUBLISH.
const PUB: Flags = PLS.or(Flags::FAST);

const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, PLS, NONE, pubsub_channels).doc(
        "pubsub",
        "2.8.0",
        "Returns the active channels.",
        "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
    ),
    CommandSpec::new("numsub", -2, PLS, NONE, pubsub_numsub).doc(
        "pubsub",
        "2.8.0",
        "Returns a count of subscribers to channels.",
        "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
    ),
    CommandSpec::new("numpat", 2, PLS, NONE, pubsub_numpat).doc(
        "pubsub",
        "2.8.0",
        "Returns a count of unique pattern subscriptions.",
        "O(1)",
    ),
    CommandSpec::new("shardchannels", -2, PLS, NONE, pubsub_shardchannels).doc(
        "pubsub",
        "7.0.0",
        "Returns the active shard channels.",
        "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
    ),
    CommandSpec::new("shardnumsub", -2, PLS, NONE, pubsub_shardnumsub).doc(
        "pubsub",
        "7.0.0",
        "Returns the count of subscribers of shard channels.",
        "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
    ),
    CommandSpec::new(
        "help",
        2,
        Flags::LOADING.or(Flags::STALE),
        NONE,
        pubsub_help,
    )
    .doc(
        "pubsub",
        "6.2.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB, NONE, subscribe).doc(
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels.",
        "O(N) where N is the number of channels to subscribe to.",
    ),
    CommandSpec::new("unsubscribe", -1, SUB, NONE, unsubscribe).doc(
        "pubsub",
        "2.0.0",
        "Stops listening to messages posted to channels.",
        "O(N) where N is the number of channels to unsubscribe.",
    ),
    CommandSpec::new("psubscribe", -2, SUB, NONE, psubscribe).doc(
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels that match one or more patterns.",
        "O(N) where N is the number of patterns to subscribe to.",
    ),
    CommandSpec::new("punsubscribe", -1, SUB, NONE, punsubscribe).doc(
        "pubsub",
        "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns.",
        "O(N) where N is the number of patterns to unsubscribe.",
    ),
    CommandSpec::new("publish", 3, PUB, NONE, publish).doc(
        "pubsub",
        "2.0.0",
        "Posts a message to a channel.",
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
    ),
    CommandSpec::container("pubsub", -2, Flags::NONE, NONE, PUBSUB_SUBCOMMANDS).doc(
        "pubsub",
        "2.8.0",
        "A container for Pub/Sub commands.",
        "Depends on subcommand.",
    ),
    CommandSpec::new("ssubscribe", -2, SUB, NONE, ssubscribe)
        .keys(1, -1, 1)
        .key_flags(KeyFlags::NOT_KEY)
        .doc(
            "pubsub",
            "7.0.0",
            "Listens for messages published to shard channels.",
            "O(N) where N is the number of shard channels to subscribe to.",
        ),
    CommandSpec::new("sunsubscribe", -1, SUB, NONE, sunsubscribe)
        .keys(1, -1, 1)
        .key_flags(KeyFlags::NOT_KEY)
        .doc(
            "pubsub",
            "7.0.0",
            "Stops listening to messages posted to shard channels.",
            "O(N) where N is the number of shard channels to unsubscribe.",
        ),
    CommandSpec::new("spublish", 3, PUB, NONE, spublish)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::NOT_KEY)
        .doc(
            "pubsub",
            "7.0.0",
            "Post a message to a shard channel",
            "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        ),
];
