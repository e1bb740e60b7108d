//! `ZSet` against a model (`BTreeMap` member → score), in both encodings and across the
//! conversion between them.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

type Model = BTreeMap<Vec<u8>, f64>;

fn sorted(m: &Model) -> Vec<(Vec<u8>, f64)> {
    let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
    v.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
    v
}

fn contents(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
    z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
}

#[test]
fn add_flags_follow_zsetadd() {
    let l = Limits::default();
    let mut z = ZSet::new();
    let plain = AddFlags::default();
    assert_eq!(z.add(b"a", 1.0, plain, l), AddOutcome::Added(1.0));
    assert_eq!(z.add(b"a", 1.0, plain, l), AddOutcome::Unchanged(1.0));
    assert_eq!(z.add(b"a", 2.0, plain, l), AddOutcome::Updated(2.0));
    let nx = AddFlags { nx: true, ..plain };
    assert_eq!(z.add(b"a", 5.0, nx, l), AddOutcome::Skipped);
    let xx = AddFlags { xx: true, ..plain };
    assert_eq!(z.add(b"b", 5.0, xx, l), AddOutcome::Skipped);
    let gt = AddFlags { gt: true, ..plain };
    assert_eq!(z.add(b"a", 1.0, gt, l), AddOutcome::Skipped);
    assert_eq!(z.add(b"a", 3.0, gt, l), AddOutcome::Updated(3.0));
    let lt_incr = AddFlags {
        lt: true,
        incr: true,
        ..plain
    };
    assert_eq!(z.add(b"a", 1.0, lt_incr, l), AddOutcome::Skipped);
    assert_eq!(z.add(b"a", -1.0, lt_incr, l), AddOutcome::Updated(2.0));
    let incr = AddFlags {
        incr: true,
        ..plain
    };
    assert_eq!(
        z.add(b"i", f64::INFINITY, incr, l),
        AddOutcome::Added(f64::INFINITY)
    );
    assert_eq!(
        z.add(b"i", f64::NEG_INFINITY, incr, l),
        AddOutcome::NotANumber
    );
    assert_eq!(z.score(b"i"), Some(f64::INFINITY));
    // A listpack keeps -0 as 0 but the reply shows the computed score.
    assert!(matches!(z.add(b"n", -0.0, plain, l), AddOutcome::Added(s) if s.is_sign_negative()));
    assert_eq!(z.score(b"n").map(f64::is_sign_negative), Some(false));
}

#[test]
fn converts_past_the_thresholds_and_back() {
    let l = Limits {
        max_listpack_entries: 4,
        max_listpack_value: 8,
    };
    let mut z = ZSet::new();
    for (i, m) in ["a", "b", "c", "d"].iter().enumerate() {
        z.add(m.as_bytes(), i as f64, AddFlags::default(), l);
    }
    assert_eq!(z.encoding_name(), "listpack");
    z.add(b"e", 9.0, AddFlags::default(), l);
    assert_eq!(z.encoding_name(), "skiplist");
    assert_eq!(z.len(), 5);
    z.remove(b"e");
    assert_eq!(z.encoding_name(), "skiplist");
    z.shrink_to_fit_encoding(l);
    assert_eq!(z.encoding_name(), "listpack");
    z.add(b"a-very-long-member", 1.0, AddFlags::default(), l);
    assert_eq!(z.encoding_name(), "skiplist");
    assert_eq!(z.rank(b"a-very-long-member"), Some((1, 1.0)));
    assert_eq!(ZSet::with_hint(5, 1, l).encoding_name(), "skiplist");
    assert_eq!(ZSet::with_hint(4, 9, l).encoding_name(), "skiplist");
    assert_eq!(ZSet::with_hint(4, 8, l).encoding_name(), "listpack");
}

#[test]
fn scan_visits_every_member_of_a_large_set() {
    let mut z = ZSet::with_hint(1000, 0, Limits::default());
    for i in 0..1000 {
        z.add(
            format!("m{i}").as_bytes(),
            i as f64,
            AddFlags::default(),
            Limits::default(),
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        cursor = z.scan(cursor, 10, |m, s| {
            assert_eq!(z.score(m), Some(s));
            seen.insert(m.to_vec());
        });
        calls += 1;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(calls > 10);
}

#[derive(Debug, Clone)]
enum Op {
    Add(u8, i8, u8),
    Remove(u8),
    RemoveRanks(usize, usize),
    Pop(bool),
    Check(i8, i8, u8, u8),
    Shrink,
}

fn member(i: u8) -> Vec<u8> {
    // A few long members force the large encoding through the value threshold.
    if i.is_multiple_of(13) {
        format!("long-member-{i:03}").into_bytes()
    } else {
        vec![b'a' + i % 26, b'a' + i / 26]
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..60, -20i8..20, 0u8..32).prop_map(|(m, s, f)| Op::Add(m, s, f)),
        3 => (0u8..60).prop_map(Op::Remove),
        1 => (0usize..40, 0usize..6).prop_map(|(a, b)| Op::RemoveRanks(a, b)),
        1 => any::<bool>().prop_map(Op::Pop),
        2 => (-25i8..25, -25i8..25, any::<u8>(), any::<u8>()).prop_map(|(a, b, c, d)| Op::Check(a, b, c, d)),
        1 => Just(Op::Shrink),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]
    #[test]
    fn behaves_like_a_model(ops in proptest::collection::vec(op(), 0..200), entries in 0usize..20) {
        let l = Limits { max_listpack_entries: entries, max_listpack_value: 10 };
        let mut z = ZSet::new();
        let mut m = Model::new();
        for op in ops {
            match op {
                Op::Add(i, s, f) => {
                    let flags = AddFlags {
                        nx: f & 1 != 0 && f & 2 == 0,
                        xx: f & 2 != 0 && f & 1 == 0,
                        gt: f & 4 != 0 && f & 8 == 0 && f & 1 == 0,
                        lt: f & 8 != 0 && f & 4 == 0 && f & 1 == 0,
                        incr: f & 16 != 0,
                    };
                    let k = member(i);
                    let s = f64::from(s) / 2.0;
                    let want = match m.get(&k).copied() {
                        Some(_) if flags.nx => AddOutcome::Skipped,
                        Some(cur) => {
                            let new = if flags.incr { cur + s } else { s };
                            if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                                AddOutcome::Skipped
                            } else if new == cur {
                                AddOutcome::Unchanged(new)
                            } else {
                                m.insert(k.clone(), new);
                                AddOutcome::Updated(new)
                            }
                        }
                        None if flags.xx => AddOutcome::Skipped,
                        None => {
                            m.insert(k.clone(), s);
                            AddOutcome::Added(s)
                        }
                    };
                    prop_assert_eq!(z.add(&k, s, flags, l), want);
                }
                Op::Remove(i) => {
                    let k = member(i);
                    prop_assert_eq!(z.remove(&k), m.remove(&k));
                }
                Op::RemoveRanks(start, n) => {
                    let all = sorted(&m);
                    let removed = z.remove_ranks(start, n);
                    let want: Vec<_> = all.iter().skip(start).take(n).collect();
                    prop_assert_eq!(removed, want.len());
                    for (k, _) in want {
                        m.remove(k);
                    }
                }
                Op::Pop(max) => {
                    let all = sorted(&m);
                    let want = if max { all.last() } else { all.first() }.cloned();
                    let got = z.pop(max).map(|(k, s)| (k.to_vec(), s));
                    prop_assert_eq!(&got, &want);
                    if let Some((k, _)) = want {
                        m.remove(&k);
                    }
                }
                Op::Check(a, b, c, d) => {
                    let all = sorted(&m);
                    let (lo, hi) = (f64::from(a.min(b)) / 2.0, f64::from(a.max(b)) / 2.0);
                    let r = ScoreRange { min: lo, max: hi, minex: c & 1 != 0, maxex: d & 1 != 0 };
                    let want: Vec<_> = all.iter().filter(|(_, s)| r.gte_min(*s) && r.lte_max(*s)).cloned().collect();
                    let (x, y) = z.score_range_ranks(&r);
                    let got: Vec<_> = z.range(x, y - x, false).map(|(k, s)| (k.to_vec(), s)).collect();
                    prop_assert_eq!(&got, &want);
                    if y > x {
                        let back: Vec<_> = z.range(y - 1, y - x, true).map(|(k, s)| (k.to_vec(), s)).collect();
                        let mut w = want.clone();
                        w.reverse();
                        prop_assert_eq!(back, w);
                    }
                    for (rank, (k, s)) in all.iter().enumerate() {
                        prop_assert_eq!(z.rank(k), Some((rank, *s)));
                        prop_assert_eq!(z.get(rank).map(|(k, s)| (k.to_vec(), s)), Some((k.clone(), *s)));
                        prop_assert_eq!(z.sampler().get(rank).map(|(k, _)| k.to_vec()), Some(k.clone()));
                    }
                    // Lex ranges over the members of score 0 only (Redis's precondition):
                    // check on a copy that holds just those.
                    let mut flat = ZSet::new();
                    for (k, _) in &all {
                        flat.add(k, 0.0, AddFlags::default(), l);
                    }
                    let bound = |x: u8| member(x % 60);
                    let lr = LexRange {
                        min: if c % 5 == 0 { crate::zset_range::LexBound::Min } else if c & 2 != 0 { crate::zset_range::LexBound::Exclusive(bound(c)) } else { crate::zset_range::LexBound::Inclusive(bound(c)) },
                        max: if d % 5 == 0 { crate::zset_range::LexBound::Max } else if d & 2 != 0 { crate::zset_range::LexBound::Exclusive(bound(d)) } else { crate::zset_range::LexBound::Inclusive(bound(d)) },
                    };
                    let mut names: Vec<Vec<u8>> = all.iter().map(|(k, _)| k.clone()).collect();
                    names.sort();
                    let want: Vec<_> = names.into_iter().filter(|k| lr.gte_min(k) && lr.lte_max(k)).collect();
                    let (x, y) = flat.lex_range_ranks(&lr);
                    let got: Vec<_> = flat.range(x, y - x, false).map(|(k, _)| k.to_vec()).collect();
                    prop_assert_eq!(got, want);
                }
                Op::Shrink => z.shrink_to_fit_encoding(l),
            }
            prop_assert_eq!(z.len(), m.len());
            if let ZSet::Big(b) = &z {
                b.tree.check().map_err(TestCaseError::fail)?;
                prop_assert_eq!(b.dict.len(), b.tree.len());
            }
        }
        prop_assert_eq!(contents(&z), sorted(&m));
        let mut scanned = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = z.scan(cursor, 3, |k, s| scanned.push((k.to_vec(), s)));
            if cursor == 0 { break; }
        }
        scanned.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
        prop_assert_eq!(scanned, sorted(&m));
    }
}
