//! Longest common subsequence of two byte strings, as Redis's `LCS` computes it: the classic
//! dynamic-programming table, walked back from the end of both strings with Redis's exact
//! tie-break (step in `a` only when that keeps a strictly longer LCS), so the chosen
//! subsequence and the reported match ranges are the ones Redis replies with.

/// One run of consecutive matching bytes: `a[a_start..=a_end] == b[b_start..=b_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LcsRange {
    pub a_start: u32,
    pub a_end: u32,
    pub b_start: u32,
    pub b_end: u32,
}

impl LcsRange {
    /// The number of bytes in the run.
    pub fn match_len(&self) -> u32 {
        self.a_end - self.a_start + 1
    }
}

/// The length of the LCS of `a` and `b`, in O(len(b)) memory.
pub fn lcs_len(a: &[u8], b: &[u8]) -> u32 {
    let mut prev = vec![0u32; b.len() + 1];
    let mut cur = vec![0u32; b.len() + 1];
    for &ca in a {
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The full table: cell `(i, j)` holds the LCS length of `a[..i]` and `b[..j]`.
pub struct LcsTable {
    cells: Vec<u32>,
    alen: usize,
    blen: usize,
}

impl LcsTable {
    /// Number of `u32` cells the table of `a` and `b` needs (Redis checks it against
    /// `proto-max-bulk-len` before allocating).
    pub fn cells_needed(alen: usize, blen: usize) -> Option<usize> {
        alen.checked_add(1)?.checked_mul(blen.checked_add(1)?)
    }

    /// Builds the table; `None` when its memory cannot be allocated.
    pub fn build(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let n = Self::cells_needed(a.len(), b.len())?;
        let mut cells: Vec<u32> = Vec::new();
        cells.try_reserve_exact(n).ok()?;
        cells.resize(n, 0);
        let w = b.len() + 1;
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * w + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * w + j - 1] + 1
                } else {
                    cells[(i - 1) * w + j].max(cells[i * w + j - 1])
                };
            }
        }
        Some(LcsTable {
            cells,
            alen: a.len(),
            blen: b.len(),
        })
    }

    #[inline]
    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * (self.blen + 1) + j]
    }

    /// The length of the LCS.
    pub fn lcs_length(&self) -> u32 {
        self.at(self.alen, self.blen)
    }

    /// Walks the table back from the ends of `a` and `b` (the strings it was built from):
    /// returns the LCS itself and every run of consecutive matches, in the order Redis
    /// emits them (from the end of the strings towards their start).
    pub fn backtrack(&self, a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<LcsRange>) {
        let mut idx = self.lcs_length() as usize;
        let mut result = vec![0u8; idx];
        let mut ranges = Vec::new();
        let mut current: Option<LcsRange> = None;
        let (mut i, mut j) = (self.alen, self.blen);
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                result[idx - 1] = a[i - 1];
                let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
                match current.as_mut() {
                    None => {
                        current = Some(LcsRange {
                            a_start: ai,
                            a_end: ai,
                            b_start: bj,
                            b_end: bj,
                        })
                    }
                    // Consecutive matches walk the diagonal, so a run always extends.
                    Some(r) => {
                        r.a_start = ai;
                        r.b_start = bj;
                    }
                }
                // A run that reached the start of either string is complete.
                if i == 1 || j == 1 {
                    emit = true;
                }
                idx -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = current.is_some();
            }
            if emit {
                if let Some(r) = current.take() {
                    ranges.push(r);
                }
            }
        }
        (result, ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_documentation_example() {
        let (a, b) = (b"ohmytext", b"mynewtext");
        let t = LcsTable::build(a, b).expect("table");
        assert_eq!(t.lcs_length(), 6);
        assert_eq!(lcs_len(a, b), 6);
        let (s, ranges) = t.backtrack(a, b);
        assert_eq!(s, b"mytext");
        let got: Vec<_> = ranges
            .iter()
            .map(|r| (r.a_start, r.a_end, r.b_start, r.b_end, r.match_len()))
            .collect();
        assert_eq!(got, vec![(4, 7, 5, 8, 4), (2, 3, 0, 1, 2)]);
    }

    #[test]
    fn empty_and_disjoint() {
        let t = LcsTable::build(b"", b"abc").expect("table");
        assert_eq!(t.backtrack(b"", b"abc"), (vec![], vec![]));
        let t = LcsTable::build(b"abc", b"xyz").expect("table");
        assert_eq!(t.backtrack(b"abc", b"xyz"), (vec![], vec![]));
        assert_eq!(lcs_len(b"", b""), 0);
    }
}
