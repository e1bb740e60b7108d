//! The financial use cases of sorted sets, run through a real client (the `redis` crate):
//!
//! - **An order book per symbol.** Each side is one sorted set of resting orders, member = order
//!   id (zero-padded sequence numbers, so ids sort by arrival), score = price for asks and
//!   −price for bids. Redis's order (score, then member) is then exactly price-time priority on
//!   both sides: `ZRANGE side 0 0` is the order to fill next. Remaining quantities live in a
//!   hash beside it. All keys of a symbol share the `{SYM}` hash tag (one slot, one shard).
//!   Best bid/ask, spread, depth at N price levels, cancel and partial fills are checked, and a
//!   randomized run holds the book to an in-memory model.
//! - **A trading-volume leaderboard**: ZINCRBY per trade, ZREVRANGE … WITHSCORES for the top N,
//!   ZREVRANK for a trader's place, ZUNIONSTORE to roll daily boards into a weekly one,
//!   ZREMRANGEBYRANK to keep only the top.
//! - **Per-user positions** in a hash (HINCRBYFLOAT), updated by the same fills.
//!
//! `examples/orderbook.redis` and `examples/leaderboard.redis` show the same flows as
//! redis-cli scripts.

mod support;

use redis::Commands;
use std::collections::BTreeMap;
use support::TestServer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Bid,
    Ask,
}

/// One fill: the resting order hit, its price and the quantity traded.
#[derive(Debug, Clone, PartialEq)]
struct Fill {
    order: String,
    price: f64,
    qty: i64,
}

/// A client-side view of one symbol's book; all state lives in the server.
struct Book<'c> {
    con: &'c mut redis::Connection,
    sym: String,
}

impl<'c> Book<'c> {
    fn new(con: &'c mut redis::Connection, sym: &str) -> Self {
        Book {
            con,
            sym: sym.to_string(),
        }
    }

    fn side_key(&self, side: Side) -> String {
        match side {
            Side::Bid => format!("book:{{{}}}:bids", self.sym),
            Side::Ask => format!("book:{{{}}}:asks", self.sym),
        }
    }

    fn qty_key(&self) -> String {
        format!("book:{{{}}}:qty", self.sym)
    }

    fn seq_key(&self) -> String {
        format!("book:{{{}}}:seq", self.sym)
    }

    /// Bids are stored at −price so that ascending order is best-first on both sides.
    fn stored(side: Side, price: f64) -> f64 {
        match side {
            Side::Bid => -price,
            Side::Ask => price,
        }
    }

    /// Places a resting limit order; returns its id.
    fn place(&mut self, side: Side, price: f64, qty: i64) -> String {
        let seq: i64 = self.con.incr(self.seq_key(), 1).unwrap();
        let id = format!("o{seq:012}");
        let added: i64 = self
            .con
            .zadd(self.side_key(side), &id, Self::stored(side, price))
            .unwrap();
        assert_eq!(added, 1);
        let _: i64 = self.con.hset(self.qty_key(), &id, qty).unwrap();
        id
    }

    /// The best order of a side: (id, price).
    fn best(&mut self, side: Side) -> Option<(String, f64)> {
        let top: Vec<(String, f64)> = self
            .con
            .zrange_withscores(self.side_key(side), 0, 0)
            .unwrap();
        top.into_iter()
            .next()
            .map(|(id, s)| (id, Self::stored(side, s)))
    }

    fn best_price(&mut self, side: Side) -> Option<f64> {
        self.best(side).map(|(_, p)| p)
    }

    fn spread(&mut self) -> Option<f64> {
        Some(self.best_price(Side::Ask)? - self.best_price(Side::Bid)?)
    }

    /// The first `levels` price levels of a side, best first: (price, total quantity, orders).
    fn depth(&mut self, side: Side, levels: usize) -> Vec<(f64, i64, usize)> {
        let mut out: Vec<(f64, i64, usize)> = Vec::new();
        let mut from = "-inf".to_string();
        while out.len() < levels {
            // All orders at the next level: the best remaining score, then that exact score.
            let next: Vec<(String, f64)> = redis::cmd("ZRANGE")
                .arg(self.side_key(side))
                .arg(&from)
                .arg("+inf")
                .arg("BYSCORE")
                .arg("LIMIT")
                .arg(0)
                .arg(1)
                .arg("WITHSCORES")
                .query(self.con)
                .unwrap();
            let Some((_, score)) = next.into_iter().next() else {
                break;
            };
            let ids: Vec<String> = self
                .con
                .zrangebyscore(self.side_key(side), score, score)
                .unwrap();
            let qtys: Vec<i64> = redis::cmd("HMGET")
                .arg(self.qty_key())
                .arg(&ids)
                .query(self.con)
                .unwrap();
            out.push((Self::stored(side, score), qtys.iter().sum(), ids.len()));
            from = format!("({score}");
        }
        out
    }

    /// Cancels a resting order; returns whether it was resting.
    fn cancel(&mut self, side: Side, id: &str) -> bool {
        let removed: i64 = self.con.zrem(self.side_key(side), id).unwrap();
        let _: i64 = self.con.hdel(self.qty_key(), id).unwrap();
        removed == 1
    }

    /// A market order taking up to `qty` from the `from` side in price-time priority; partial
    /// fills leave the rest of a resting order in place. Returns the fills.
    fn take(&mut self, from: Side, mut qty: i64) -> Vec<Fill> {
        let mut fills = Vec::new();
        while qty > 0 {
            let Some((id, price)) = self.best(from) else {
                break;
            };
            let resting: i64 = self.con.hget(self.qty_key(), &id).unwrap();
            let traded = resting.min(qty);
            qty -= traded;
            if traded == resting {
                let _: i64 = self.con.zrem(self.side_key(from), &id).unwrap();
                let _: i64 = self.con.hdel(self.qty_key(), &id).unwrap();
            } else {
                let _: i64 = self.con.hincr(self.qty_key(), &id, -traded).unwrap();
            }
            fills.push(Fill {
                order: id,
                price,
                qty: traded,
            });
        }
        fills
    }
}

#[test]
fn order_book_best_prices_spread_depth_cancel_and_fills() {
    let server = TestServer::fincache();
    let mut con = server.conn();
    let mut book = Book::new(&mut con, "AAPL");
    assert_eq!(book.best_price(Side::Bid), None);
    assert_eq!(book.spread(), None);

    let b1 = book.place(Side::Bid, 189.50, 100);
    let b2 = book.place(Side::Bid, 189.75, 50);
    let b3 = book.place(Side::Bid, 189.75, 70);
    let _b4 = book.place(Side::Bid, 189.25, 10);
    let a1 = book.place(Side::Ask, 190.25, 40);
    let a2 = book.place(Side::Ask, 190.00, 30);
    let _a3 = book.place(Side::Ask, 190.00, 25);

    assert_eq!(book.best(Side::Bid), Some((b2.clone(), 189.75)));
    assert_eq!(book.best(Side::Ask), Some((a2.clone(), 190.00)));
    assert_eq!(book.spread(), Some(0.25));
    assert_eq!(
        book.depth(Side::Bid, 2),
        vec![(189.75, 120, 2), (189.50, 100, 1)]
    );
    assert_eq!(
        book.depth(Side::Ask, 5),
        vec![(190.00, 55, 2), (190.25, 40, 1)]
    );

    // Cancel the first order at the best bid: time priority passes to the next one.
    assert!(book.cancel(Side::Bid, &b2));
    assert!(!book.cancel(Side::Bid, &b2));
    assert_eq!(book.best(Side::Bid), Some((b3.clone(), 189.75)));

    // A market sell of 100: fills b3 (70) fully, then 30 of b1 (partial).
    let fills = book.take(Side::Bid, 100);
    assert_eq!(
        fills,
        vec![
            Fill {
                order: b3.clone(),
                price: 189.75,
                qty: 70
            },
            Fill {
                order: b1.clone(),
                price: 189.50,
                qty: 30
            },
        ]
    );
    assert_eq!(book.best(Side::Bid), Some((b1.clone(), 189.50)));
    assert_eq!(book.depth(Side::Bid, 1), vec![(189.50, 70, 1)]);
    assert_eq!(book.spread(), Some(0.5));

    // A market buy larger than the whole ask side empties it; the key goes with it.
    let fills = book.take(Side::Ask, 1000);
    assert_eq!(fills.iter().map(|f| f.qty).sum::<i64>(), 95);
    assert_eq!(fills.last().map(|f| f.order.clone()), Some(a1));
    assert_eq!(book.best(Side::Ask), None);
    let exists: bool = con.exists("book:{AAPL}:asks").unwrap();
    assert!(!exists);
}

#[test]
fn order_book_matches_a_model_under_random_flow() {
    let server = TestServer::fincache();
    let mut con = server.conn();
    // A lot of levels and orders: the sets leave the listpack encoding.
    let mut book = Book::new(&mut con, "BTC-USD");
    // Model: side → (stored score, id) → qty; ids sort by arrival like the server's members.
    let mut model: [BTreeMap<(i64, String), i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let mut seed = 0x5EED_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let idx = |s: Side| if s == Side::Bid { 0 } else { 1 };
    for step in 0..2000 {
        let side = if next() % 2 == 0 {
            Side::Bid
        } else {
            Side::Ask
        };
        // Build a deep book first, then trade against it.
        let action = if step < 600 { 0 } else { next() % 10 };
        match action {
            0..=5 => {
                // Prices in quarter ticks: bids below 100, asks above.
                let ticks = (next() % 40) as i64;
                let price = match side {
                    Side::Bid => 100.0 - 0.25 * (ticks + 1) as f64,
                    Side::Ask => 100.0 + 0.25 * ticks as f64,
                };
                let qty = (next() % 50 + 1) as i64;
                let id = book.place(side, price, qty);
                let key = (Book::stored(side, price).mul_add(4.0, 0.0) as i64, id);
                model[idx(side)].insert(key, qty);
            }
            6 | 7 => {
                let qty = (next() % 120 + 1) as i64;
                let fills = book.take(side, qty);
                let mut left = qty;
                let mut want = Vec::new();
                while left > 0 {
                    let Some((k, q)) = model[idx(side)].iter().next().map(|(k, q)| (k.clone(), *q))
                    else {
                        break;
                    };
                    let t = q.min(left);
                    left -= t;
                    if t == q {
                        model[idx(side)].remove(&k);
                    } else {
                        model[idx(side)].insert(k.clone(), q - t);
                    }
                    want.push((k.1, t));
                }
                let got: Vec<(String, i64)> = fills.into_iter().map(|f| (f.order, f.qty)).collect();
                assert_eq!(got, want);
            }
            _ => {
                let n = model[idx(side)].len();
                if n > 0 {
                    let pick = (next() as usize) % n;
                    let k = model[idx(side)].keys().nth(pick).cloned().unwrap();
                    assert!(book.cancel(side, &k.1));
                    model[idx(side)].remove(&k);
                }
            }
        }
    }
    for side in [Side::Bid, Side::Ask] {
        let stored: Vec<(String, f64)> = book
            .con
            .zrange_withscores(book.side_key(side), 0, -1)
            .unwrap();
        let want: Vec<(String, f64)> = model[idx(side)]
            .keys()
            .map(|(s, id)| (id.clone(), *s as f64 / 4.0))
            .collect();
        assert_eq!(stored, want);
        let top_levels = book.depth(side, 3);
        let mut levels: BTreeMap<i64, (i64, usize)> = BTreeMap::new();
        for ((s, _), q) in &model[idx(side)] {
            let e = levels.entry(*s).or_default();
            e.0 += q;
            e.1 += 1;
        }
        let want: Vec<(f64, i64, usize)> = levels
            .iter()
            .take(3)
            .map(|(s, (q, n))| (Book::stored(side, *s as f64 / 4.0), *q, *n))
            .collect();
        assert_eq!(top_levels, want);
    }
    // The book outgrew the listpack form (more than 128 resting orders).
    assert!(model[0].len() > 128, "only {} bids rest", model[0].len());
    let encoding: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("book:{BTC-USD}:bids")
        .query(&mut con)
        .unwrap();
    assert_eq!(encoding, "skiplist");
}

#[test]
fn trading_volume_leaderboard_and_positions() {
    let server = TestServer::fincache();
    let mut con = server.conn();
    let trades = [
        ("alice", "AAPL", 120.0),
        ("bob", "AAPL", -40.0),
        ("carol", "MSFT", 300.0),
        ("alice", "MSFT", -20.0),
        ("dave", "AAPL", 75.5),
        ("bob", "MSFT", 260.0),
        ("alice", "AAPL", 10.0),
    ];
    for (trader, sym, qty) in trades {
        let volume = f64::abs(qty);
        let _: f64 = con.zincr("volume:2024-06-03", trader, volume).unwrap();
        let _: f64 = redis::cmd("HINCRBYFLOAT")
            .arg(format!("pos:{trader}"))
            .arg(sym)
            .arg(qty)
            .query(&mut con)
            .unwrap();
    }
    // Top 3 by volume, highest first.
    let top: Vec<(String, f64)> = con.zrevrange_withscores("volume:2024-06-03", 0, 2).unwrap();
    assert_eq!(
        top,
        vec![
            // Equal scores: reverse order puts the greater member first.
            ("carol".to_string(), 300.0),
            ("bob".to_string(), 300.0),
            ("alice".to_string(), 150.0),
        ]
    );
    let rank: Option<i64> = con.zrevrank("volume:2024-06-03", "dave").unwrap();
    assert_eq!(rank, Some(3));
    let nobody: Option<i64> = con.zrevrank("volume:2024-06-03", "erin").unwrap();
    assert_eq!(nobody, None);
    let score: Option<f64> = con.zscore("volume:2024-06-03", "dave").unwrap();
    assert_eq!(score, Some(75.5));

    // A second day, then the week: ZUNIONSTORE sums the days.
    let _: i64 = con
        .zadd_multiple("volume:2024-06-04", &[(500.0, "erin"), (10.0, "bob")])
        .unwrap();
    let n: i64 = redis::cmd("ZUNIONSTORE")
        .arg("volume:week23")
        .arg(2)
        .arg("volume:2024-06-03")
        .arg("volume:2024-06-04")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 5);
    let week: Vec<(String, f64)> = con.zrevrange_withscores("volume:week23", 0, -1).unwrap();
    assert_eq!(week[0], ("erin".to_string(), 500.0));
    assert_eq!(week[1], ("bob".to_string(), 310.0));
    // Keep the top 3 only.
    let dropped: i64 = con.zremrangebyrank("volume:week23", 0, -4).unwrap();
    assert_eq!(dropped, 2);
    let card: i64 = con.zcard("volume:week23").unwrap();
    assert_eq!(card, 3);
    // Traders with at least 150 in volume today.
    let heavy: i64 = con.zcount("volume:2024-06-03", 150, "+inf").unwrap();
    assert_eq!(heavy, 3);

    // Positions: net quantity per symbol.
    let alice: BTreeMap<String, f64> = con.hgetall("pos:alice").unwrap();
    assert_eq!(alice.get("AAPL"), Some(&130.0));
    assert_eq!(alice.get("MSFT"), Some(&-20.0));
    let bob_msft: f64 = con.hget("pos:bob", "MSFT").unwrap();
    assert_eq!(bob_msft, 260.0);
}
