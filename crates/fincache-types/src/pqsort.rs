//! Partial quicksort: sorts enough of a slice that the positions `lo..=hi` hold what a full
//! sort would put there, skipping the partitions that lie entirely outside that range.
//!
//! This is the algorithm Redis's SORT uses when it has a BY pattern and a LIMIT (`pqsort.c`:
//! Bentley and McIlroy's "Engineering a Sort Function" quicksort — median-of-three, or the
//! ninther above 40 elements, three-way partitioning, insertion sort below 7 elements — with
//! partitions outside the wanted range left unsorted). It is reproduced step for step because
//! it is not stable: where the comparison calls elements equal, the order they come out in (and
//! so which of them fall inside a LIMIT) depends on the exact sequence of swaps, and clients see
//! it. As in Redis 7 (checked against redis-server 7.0), a partition pass that swapped nothing
//! does not switch to insertion sort, as BSD's `qsort` does; later Redis versions added that.

use std::cmp::Ordering;

/// Sorts `v` partially so that `v[lo..=hi]` is what a full sort would leave there (for
/// elements the comparison tells apart). Out-of-range bounds are clamped by the caller.
pub fn partial_sort<T>(v: &mut [T], lo: usize, hi: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    sort_window(v, 0, v.len(), lo, hi, cmp);
}

/// Whether the elements `first..=last` overlap the wanted range `lo..=hi`.
fn overlaps(first: usize, last: usize, lo: usize, hi: usize) -> bool {
    !(hi < first || lo > last)
}

/// The median of three positions (Redis's `med3`).
fn median3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let less = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let greater = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if less(a, b) {
        if less(b, c) {
            b
        } else if less(a, c) {
            c
        } else {
            a
        }
    } else if greater(b, c) {
        b
    } else if less(a, c) {
        a
    } else {
        c
    }
}

/// Insertion sort of `v[start..start + n]`.
fn insertion_sort<T>(v: &mut [T], start: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for m in start + 1..start + n {
        let mut l = m;
        while l > start && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
            v.swap(l, l - 1);
            l -= 1;
        }
    }
}

/// Swaps the `n` elements from `a` with the `n` from `b`, pairwise (Redis's `vecswap`).
fn swap_runs<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Sorts the window `v[start..start + n]` (see [`partial_sort`]).
fn sort_window<T>(
    v: &mut [T],
    mut start: usize,
    mut n: usize,
    lo: usize,
    hi: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
) {
    loop {
        if n < 7 {
            insertion_sort(v, start, n, cmp);
            return;
        }
        // Pivot: the middle element, the median of three beyond 7, the ninther beyond 40.
        let mut pm = start + n / 2;
        if n > 7 {
            let mut pl = start;
            let mut pn = start + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = median3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = median3(v, pm - d, pm, pm + d, cmp);
                pn = median3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(v, pl, pm, pn, cmp);
        }
        v.swap(start, pm);
        // Three-way partition: equal keys gather at both ends, then move to the middle.
        let (mut pa, mut pb) = (start + 1, start + 1);
        let (mut pc, mut pd) = (start + n - 1, start + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[start]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[start]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let end = start + n;
        let r = (pa - start).min(pb - pa);
        swap_runs(v, start, pb - r, r);
        let r = (pd - pc).min(end - pd - 1);
        swap_runs(v, pb, end - r, r);
        // Sort the smaller-than-pivot and greater-than-pivot parts that meet the range. They
        // are disjoint, so the order they are sorted in does not change the result: recurse
        // into the shorter one and loop on the longer, which bounds the recursion depth by
        // log2(n) whatever the input (Redis always recurses on the left part).
        let left = pb - pa;
        let right = pd - pc;
        let mut parts = [
            (
                start,
                left,
                left > 1 && overlaps(start, start + left - 1, lo, hi),
            ),
            (
                end - right,
                right,
                right > 1 && overlaps(end - right, end - 1, lo, hi),
            ),
        ];
        parts.sort_by_key(|p| p.1);
        let [(short_start, short_n, short_wanted), (long_start, long_n, long_wanted)] = parts;
        if short_wanted {
            sort_window(v, short_start, short_n, lo, hi, cmp);
        }
        if !long_wanted {
            return;
        }
        start = long_start;
        n = long_n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn adversarial_input_stays_shallow() {
        // Many equal keys between two distinct ones, reversed runs: deep partitions for a
        // naive quicksort. This must finish without exhausting the stack.
        let n = 200_000u32;
        let mut v: Vec<u32> = (0..n).map(|i| if i % 2 == 0 { i } else { n - i }).collect();
        partial_sort(&mut v, 10, 20, &|x: &u32, y: &u32| x.cmp(y));
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(&v[10..=20], &sorted[10..=20]);
    }

    proptest! {
        #[test]
        fn range_matches_full_sort(mut v in proptest::collection::vec(0u8..30, 0..200),
                                   a in 0usize..200, b in 0usize..200) {
            let mut sorted = v.clone();
            sorted.sort();
            if v.is_empty() {
                return Ok(());
            }
            let (lo, hi) = (a.min(b).min(v.len() - 1), a.max(b).min(v.len() - 1));
            partial_sort(&mut v, lo, hi, &|x: &u8, y: &u8| x.cmp(y));
            prop_assert_eq!(&v[lo..=hi], &sorted[lo..=hi]);
        }

        #[test]
        fn full_range_sorts_everything(mut v in proptest::collection::vec(any::<i32>(), 0..300)) {
            let mut sorted = v.clone();
            sorted.sort();
            let hi = v.len().saturating_sub(1);
            partial_sort(&mut v, 0, hi, &|x: &i32, y: &i32| x.cmp(y));
            prop_assert_eq!(v, sorted);
        }
    }

    #[test]
    fn equal_keys_come_out_as_in_redis() {
        // What redis-server 7 replies to `RPUSH l z y x w v u t s r q p`, `MSET k_z 1 k_y 1
        // k_x 0 k_w 1 k_v 1`, `SORT l BY k_* ALPHA LIMIT 0 3` (and `LIMIT 2 3`): the missing
        // weights tie, and the partition steps decide their order.
        let weights = [2u8, 2, 1, 2, 2, 0, 0, 0, 0, 0, 0];
        let items: Vec<(char, u8)> = "zyxwvutsrqp".chars().zip(weights).collect();
        let by_weight = |x: &(char, u8), y: &(char, u8)| x.1.cmp(&y.1);
        let mut v = items.clone();
        partial_sort(&mut v, 0, 2, &by_weight);
        let names: String = v[0..3].iter().map(|i| i.0).collect();
        assert_eq!(names, "put");
        let mut v = items;
        partial_sort(&mut v, 2, 4, &by_weight);
        let names: String = v[2..5].iter().map(|i| i.0).collect();
        assert_eq!(names, "tsr");
    }
}
