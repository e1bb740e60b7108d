//! LZF compression in the format of liblzf (which Redis uses for RDB strings): literal runs
//! `000LLLLL` + L+1 bytes, back references `LLLooooo oooooooo` (length L+2, offset o+1) with
//! `111ooooo LLLLLLLL oooooooo` for lengths of 9 or more.

/// Compresses `input`; `None` when the result would not be shorter than `max_out` bytes.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    // The hash table is reused across calls (per thread) without clearing: a stale slot is
    // only a candidate, checked to lie before the cursor and to match, as liblzf does
    // without `INIT_HTAB`.
    thread_local! {
        static TABLE: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    TABLE.with(|t| {
        let mut table = t.borrow_mut();
        if table.is_empty() {
            table.resize(1 << HLOG, 0);
        }
        compress_with(input, max_out, &mut table)
    })
}

const HLOG: u32 = 13;

fn compress_with(input: &[u8], max_out: usize, table: &mut [usize]) -> Option<Vec<u8>> {
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    const MAX_LIT: usize = 1 << 5;
    if input.len() < 4 {
        return None;
    }
    let mut out = Vec::with_capacity(max_out);
    let mut lit: Vec<u8> = Vec::with_capacity(MAX_LIT);
    let flush_lit = |out: &mut Vec<u8>, lit: &mut Vec<u8>| {
        if !lit.is_empty() {
            out.push((lit.len() - 1) as u8);
            out.extend_from_slice(lit);
            lit.clear();
        }
    };
    let hash = |p: usize| -> usize {
        let v =
            (u32::from(input[p]) << 16) | (u32::from(input[p + 1]) << 8) | u32::from(input[p + 2]);
        (v.wrapping_mul(2_654_435_761) >> (32 - HLOG)) as usize
    };
    let mut ip = 0;
    while ip < input.len() {
        if ip + 2 < input.len() {
            let h = hash(ip);
            // Slots hold position + 1, so 0 means empty.
            let cand = table[h];
            table[h] = ip + 1;
            if cand > 0 && cand - 1 < ip {
                let r = cand - 1;
                let off = ip - r;
                if off <= MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                    let max_len = (input.len() - ip).min(MAX_REF);
                    let mut len = 3;
                    while len < max_len && input[r + len] == input[ip + len] {
                        len += 1;
                    }
                    flush_lit(&mut out, &mut lit);
                    let l = len - 2;
                    let o = off - 1;
                    if l < 7 {
                        out.push(((l as u8) << 5) | (o >> 8) as u8);
                    } else {
                        out.push((7 << 5) | (o >> 8) as u8);
                        out.push((l - 7) as u8);
                    }
                    out.push((o & 0xff) as u8);
                    if out.len() >= max_out {
                        return None;
                    }
                    ip += len;
                    continue;
                }
            }
        }
        lit.push(input[ip]);
        ip += 1;
        if lit.len() == MAX_LIT {
            flush_lit(&mut out, &mut lit);
        }
        if out.len() + lit.len() + 1 >= max_out {
            return None;
        }
    }
    flush_lit(&mut out, &mut lit);
    (out.len() < max_out).then_some(out)
}

/// Decompresses `input` into exactly `out_len` bytes; `None` on malformed data.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(input.len().saturating_mul(300)));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            let lit = input.get(ip..ip + n)?;
            if out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip)?);
                ip += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip)?) + 1;
            ip += 1;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let data: Vec<u8> = b"abcabcabcabcabcabcabc hello hello hello hello world"
            .iter()
            .cycle()
            .take(5000)
            .copied()
            .collect();
        let c = super::compress(&data, data.len()).unwrap();
        assert!(c.len() < data.len());
        assert_eq!(super::decompress(&c, data.len()).unwrap(), data);
        assert!(super::compress(b"abcdefgh", 8).is_none());
    }
}
