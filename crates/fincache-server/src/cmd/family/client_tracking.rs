//! The client-side caching subcommands of CLIENT: TRACKING, CACHING, GETREDIR and
//! TRACKINGINFO, with Redis 7's replies and errors (`networking.c` `clientCommand`). Their table
//! entries are in [`super::connection`]; the tracking itself is [`crate::tracking`].

use crate::client::flag;
use crate::cmd::args::{self, is};
use crate::cmd::spec::CmdResult;
use crate::cmd::{CmdError, ExecCtx};
use crate::tracking::{self, Options};
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// Whether two prefixes would both match some key (one starts the other).
fn overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT]
/// [NOLOOP]` — `+OK`. ON enables (or re-configures) tracking for this connection; OFF disables
/// it. Options are parsed first (a REDIRECT target must exist now), then checked against each
/// other and against the current mode, as Redis does.
pub fn client_tracking(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut opts = Options::default();
    let mut j = 3;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = argv[j];
        if is(opt, "REDIRECT") && more > 0 {
            j += 1;
            if opts.redirect != 0 {
                return Err(CmdError::err(
                    "A client can only redirect to a single other client",
                ));
            }
            let id = args::int(argv[j])?;
            opts.redirect = u64::try_from(id)
                .ok()
                .filter(|&id| id != 0 && ctx.server.clients.get(id).is_some())
                .ok_or_else(|| {
                    CmdError::err("The client ID you want redirect to does not exist")
                })?;
        } else if is(opt, "BCAST") {
            opts.bcast = true;
        } else if is(opt, "OPTIN") {
            opts.optin = true;
        } else if is(opt, "OPTOUT") {
            opts.optout = true;
        } else if is(opt, "NOLOOP") {
            opts.noloop = true;
        } else if is(opt, "PREFIX") && more > 0 {
            j += 1;
            opts.prefixes.push(Bytes::copy_from_slice(argv[j]));
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if is(argv[2], "OFF") {
        tracking::disable(ctx.server, ctx.client);
        ctx.out.ok();
        return Ok(());
    }
    if !is(argv[2], "ON") {
        return Err(CmdError::Syntax);
    }
    check_options(ctx, &opts)?;
    tracking::enable(ctx.server, ctx.client, opts);
    ctx.out.ok();
    Ok(())
}

/// The checks of CLIENT TRACKING ON, in Redis's order.
fn check_options(ctx: &ExecCtx<'_>, opts: &Options) -> CmdResult {
    let current = ctx.client.handle.flags();
    if !opts.bcast && !opts.prefixes.is_empty() {
        return Err(CmdError::err(
            "PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if current & flag::TRACKING != 0 && (current & flag::TRACKING_BCAST != 0) != opts.bcast {
        return Err(CmdError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, and \
             then re-enabling it with a different mode.",
        ));
    }
    if opts.bcast && (opts.optin || opts.optout) {
        return Err(CmdError::err(
            "OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if opts.optin && opts.optout {
        return Err(CmdError::err(
            "You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if (opts.optin && current & flag::TRACKING_OPTOUT != 0)
        || (opts.optout && current & flag::TRACKING_OPTIN != 0)
    {
        return Err(CmdError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and \
             then re-enabling it with a different mode.",
        ));
    }
    if opts.bcast {
        // COMPAT: Redis (checkPrefixCollisionsOrReply) answers an overlap between two given
        // prefixes after the first with both an error and +OK; FinCache answers the error.
        for (i, p) in opts.prefixes.iter().enumerate() {
            if let Some(old) = ctx.client.tracking.prefixes.iter().find(|o| overlap(o, p)) {
                return Err(CmdError::err(format!(
                    "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single \
                     client must not overlap.",
                    lossy(p),
                    lossy(old)
                )));
            }
            if let Some(other) = opts.prefixes[i + 1..].iter().find(|o| overlap(p, o)) {
                return Err(CmdError::err(format!(
                    "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a \
                     single client must not overlap.",
                    lossy(p),
                    lossy(other)
                )));
            }
        }
    }
    Ok(())
}

/// `CLIENT CACHING YES|NO` — `+OK`; in OPTIN mode YES tracks the keys of the next command, in
/// OPTOUT mode NO keeps the next command's keys untracked.
pub fn client_caching(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let flags = ctx.client.handle.flags();
    if flags & flag::TRACKING == 0 {
        return Err(CmdError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN \
             or OPTOUT mode enabled",
        ));
    }
    if is(argv[2], "YES") {
        if flags & flag::TRACKING_OPTIN == 0 {
            return Err(CmdError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(argv[2], "NO") {
        if flags & flag::TRACKING_OPTOUT == 0 {
            return Err(CmdError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CmdError::Syntax);
    }
    ctx.client.tracking.caching = true;
    ctx.out.ok();
    Ok(())
}

/// The REDIRECT id of a tracking client (0 without one), -1 when not tracking.
fn redirect_id(ctx: &ExecCtx<'_>) -> i64 {
    let h = &ctx.client.handle;
    if h.flags() & flag::TRACKING != 0 {
        i64::try_from(h.tracking_redirect.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
    } else {
        -1
    }
}

/// `CLIENT GETREDIR` — the id invalidations are redirected to, 0 when tracking without
/// REDIRECT, -1 when not tracking.
pub fn client_getredir(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let id = redirect_id(ctx);
    ctx.out.int(id);
    Ok(())
}

/// `CLIENT TRACKINGINFO` — a map: `flags` (a set: `off` or `on`, then `bcast`, `optin`,
/// `caching-yes`, `optout`, `caching-no`, `noloop`, `broken_redirect` as they apply),
/// `redirect` (as GETREDIR) and `prefixes` (the BCAST prefixes).
pub fn client_trackinginfo(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let f = ctx.client.handle.flags();
    let caching = ctx.client.tracking.caching;
    let mut flags: Vec<&[u8]> = Vec::with_capacity(6);
    flags.push(if f & flag::TRACKING != 0 {
        b"on"
    } else {
        b"off"
    });
    if f & flag::TRACKING_BCAST != 0 {
        flags.push(b"bcast");
    }
    if f & flag::TRACKING_OPTIN != 0 {
        flags.push(b"optin");
        if caching {
            flags.push(b"caching-yes");
        }
    }
    if f & flag::TRACKING_OPTOUT != 0 {
        flags.push(b"optout");
        if caching {
            flags.push(b"caching-no");
        }
    }
    if f & flag::TRACKING_NOLOOP != 0 {
        flags.push(b"noloop");
    }
    if f & flag::TRACKING_BROKEN_REDIR != 0 {
        flags.push(b"broken_redirect");
    }
    let redirect = redirect_id(ctx);
    let out = &mut *ctx.out;
    out.map_len(3);
    out.bulk(b"flags");
    out.set_len(flags.len());
    for name in flags {
        out.bulk(name);
    }
    out.bulk(b"redirect");
    out.int(redirect);
    out.bulk(b"prefixes");
    out.array_len(ctx.client.tracking.prefixes.len());
    for p in &ctx.client.tracking.prefixes {
        out.bulk(p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::overlap;

    #[test]
    fn prefixes_overlap_when_one_starts_the_other() {
        assert!(overlap(b"ab", b"a"));
        assert!(overlap(b"a", b"abc"));
        assert!(overlap(b"", b"x"));
        assert!(!overlap(b"ab", b"ac"));
    }
}
