//! Set algebra as Redis 7.2's `t_set.c` does it: SINTER (and SINTERCARD, SINTERSTORE),
//! SUNION and SDIFF over sets that may be missing (`None`, an empty set).
//!
//! The results are built through [`SetValue::add`], starting from the set Redis starts from
//! (an intset for union and difference; for an intersection an intset if the smallest set is
//! one, else a listpack), so a stored result has the encoding Redis would give it and a small
//! result lists its members in Redis's order. SINTER iterates the smallest set (a stable sort:
//! equal sizes keep their key order), SDIFF picks between Redis's two algorithms by the same
//! estimate of work, which decides the encoding of a stored difference.

use crate::set::{Encoding, Member, SetLimits, SetValue};

/// What an intersection produces.
pub enum InterOutput<'a> {
    /// The members, in the order of the smallest set.
    Members(Vec<Member<'a>>),
    /// Only how many (SINTERCARD), stopping at `limit` if not 0.
    Count { limit: usize },
    /// A new set built with Redis's rules (SINTERSTORE).
    Store(SetValue),
}

/// Redis's `sinterGenericCommand` core: iterates the smallest set and keeps the members every
/// other set has. Returns the count of members found (for `Count`).
pub fn intersect<'a>(
    sets: &[Option<&'a SetValue>],
    out: &mut InterOutput<'a>,
    limits: &SetLimits,
) -> usize {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&SetValue>>>() else {
        return 0; // A missing key is an empty set.
    };
    sets.sort_by_key(|s| s.len());
    let Some(&first) = sets.first() else {
        return 0;
    };
    if let InterOutput::Store(dst) = out {
        // An intset stays an intset; anything else starts as a listpack (Redis 7.2).
        *dst = if first.encoding() == Encoding::IntSet {
            SetValue::new_intset()
        } else {
            SetValue::new_listpack()
        };
    }
    let mut found = 0;
    for m in first.iter() {
        let everywhere = sets[1..]
            .iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains(m));
        if !everywhere {
            continue;
        }
        found += 1;
        match out {
            InterOutput::Members(v) => v.push(m),
            InterOutput::Count { limit } => {
                if *limit != 0 && found >= *limit {
                    break;
                }
            }
            InterOutput::Store(dst) => {
                dst.add(m, limits);
            }
        }
    }
    if let InterOutput::Store(dst) = out {
        dst.convert_to_intset_if_integers(limits);
    }
    found
}

/// The union of `sets` built as Redis builds it: into an intset that converts as members
/// arrive, so its order is Redis's.
pub fn union_of(sets: &[Option<&SetValue>], limits: &SetLimits) -> SetValue {
    let mut dst = SetValue::new_intset();
    for s in sets.iter().flatten() {
        for m in s.iter() {
            dst.add(m, limits);
        }
    }
    dst
}

/// The difference `sets[0] − sets[1] − …`, with Redis's choice of algorithm (which decides
/// the result's encoding).
pub fn difference_of(sets: &[Option<&SetValue>], limits: &SetLimits) -> SetValue {
    let mut dst = SetValue::new_intset();
    let Some(Some(first)) = sets.first().copied() else {
        return dst;
    };
    let others: Vec<&SetValue> = sets[1..].iter().flatten().copied().collect();
    if others.iter().any(|s| std::ptr::eq(*s, first)) {
        return dst; // The first key is subtracted from itself.
    }
    let algo_one_work = first.len().saturating_mul(others.len() + 1) / 2;
    let algo_two_work = others
        .iter()
        .fold(first.len(), |n, s| n.saturating_add(s.len()));
    if algo_one_work <= algo_two_work {
        // Algorithm 1: keep the members of the first set no other set has.
        for m in first.iter() {
            if !others.iter().any(|s| s.contains(m)) {
                dst.add(m, limits);
            }
        }
    } else {
        // Algorithm 2: add the first set, remove every other set's members.
        for m in first.iter() {
            dst.add(m, limits);
        }
        for s in others {
            if dst.is_empty() {
                break;
            }
            for m in s.iter() {
                dst.remove(m);
            }
        }
    }
    dst
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const LIMITS: SetLimits = SetLimits {
        max_intset_entries: 5,
        max_listpack_entries: 6,
        max_listpack_value: 4,
    };

    fn names(s: &SetValue) -> BTreeSet<String> {
        s.iter()
            .map(|m| String::from_utf8_lossy(m.to_compact().as_slice()).into_owned())
            .collect()
    }

    #[test]
    fn stored_results_take_redis_encodings() {
        let a = SetValue::from_members([&b"1"[..], b"2", b"3"], &LIMITS);
        let b = SetValue::from_members([&b"3"[..], b"2", b"x"], &LIMITS);
        let mut out = InterOutput::Store(SetValue::new_intset());
        assert_eq!(intersect(&[Some(&a), Some(&b)], &mut out, &LIMITS), 2);
        let InterOutput::Store(d) = out else {
            unreachable!()
        };
        // Iterated the intset (smaller or equal and first): the result is an intset.
        assert_eq!(d.encoding_name(), "intset");
        let u = union_of(&[Some(&b), Some(&a)], &LIMITS);
        assert_eq!(u.encoding_name(), "listpack");
        let order: Vec<String> = u
            .iter()
            .map(|m| String::from_utf8_lossy(m.to_compact().as_slice()).into_owned())
            .collect();
        assert_eq!(order, ["2", "3", "x", "1"]);
        let mut count = InterOutput::Count { limit: 1 };
        assert_eq!(intersect(&[Some(&a), Some(&b)], &mut count, &LIMITS), 1);
        assert!(difference_of(&[Some(&a), Some(&a)], &LIMITS).is_empty());
        assert!(difference_of(&[None, Some(&a)], &LIMITS).is_empty());
    }

    proptest! {
        #[test]
        fn agree_with_btreesets(sets in proptest::collection::vec(
            proptest::option::weighted(0.9, proptest::collection::btree_set(
                prop_oneof![(0i64..12).prop_map(|n| n.to_string()), "[a-c]{1,5}"], 0..10)),
            1..4)) {
            let values: Vec<Option<SetValue>> = sets
                .iter()
                .map(|s| s.as_ref().map(|s| SetValue::from_members(s.iter().map(String::as_bytes), &LIMITS)))
                .collect();
            let refs: Vec<Option<&SetValue>> = values.iter().map(Option::as_ref).collect();
            let empty = BTreeSet::new();
            let model: Vec<&BTreeSet<String>> = sets.iter().map(|s| s.as_ref().unwrap_or(&empty)).collect();

            let union: BTreeSet<String> = model.iter().flat_map(|s| s.iter().cloned()).collect();
            prop_assert_eq!(names(&union_of(&refs, &LIMITS)), union);

            let mut diff = model[0].clone();
            for s in &model[1..] {
                diff.retain(|m| !s.contains(m));
            }
            prop_assert_eq!(names(&difference_of(&refs, &LIMITS)), diff);

            let mut inter = model[0].clone();
            for s in &model[1..] {
                inter.retain(|m| s.contains(m));
            }
            let mut members = InterOutput::Members(Vec::new());
            intersect(&refs, &mut members, &LIMITS);
            let InterOutput::Members(found) = members else { unreachable!() };
            let found: BTreeSet<String> = found
                .iter()
                .map(|m| String::from_utf8_lossy(m.to_compact().as_slice()).into_owned())
                .collect();
            prop_assert_eq!(&found, &inter);
            let mut store = InterOutput::Store(SetValue::new_intset());
            prop_assert_eq!(intersect(&refs, &mut store, &LIMITS), inter.len());
            let InterOutput::Store(stored) = store else { unreachable!() };
            prop_assert_eq!(names(&stored), inter);
        }
    }
}
