//! Redis's `redisLrand48` (`rand.c`): the 48-bit linear congruential generator of `lrand48`,
//! independent of the C library, so `math.random` yields the same sequence as a Redis server
//! started at the same time would.

use std::sync::atomic::{AtomicU64, Ordering};

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const INCREMENT: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// `x[] = { X0, X1, X2 }` of `rand.c`.
const INITIAL: u64 = 0x1234_ABCD_330E;

/// The generator state. Scripts run one at a time (the keyspace gate is held for writing),
/// so plain loads and stores suffice.
pub struct Rand48 {
    state: AtomicU64,
}

impl Default for Rand48 {
    fn default() -> Self {
        Rand48 {
            state: AtomicU64::new(INITIAL),
        }
    }
}

/// `REDIS_LRAND48_MAX`.
pub const LRAND48_MAX: i32 = i32::MAX;

impl Rand48 {
    /// `redisLrand48()`: the next value in 0..2^31.
    pub fn next(&self) -> i32 {
        let x = self.state.load(Ordering::Relaxed);
        let x = (x.wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT)) & MASK;
        self.state.store(x, Ordering::Relaxed);
        (x >> 17) as i32
    }

    /// `redisSrand48(seed)`.
    pub fn seed(&self, seed: i32) {
        let s = u64::from(seed as u32);
        self.state
            .store(((s << 16) | 0x330E) & MASK, Ordering::Relaxed);
    }

    /// A number in [0, 1) as Redis's `math.random` draws it.
    pub fn unit(&self) -> f64 {
        f64::from(self.next() % LRAND48_MAX) / f64::from(LRAND48_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_lrand48() {
        // glibc's lrand48 with its default seed produces the same sequence.
        let r = Rand48::default();
        assert_eq!(r.next(), 851_401_618);
        assert_eq!(r.next(), 1_804_928_587);
        r.seed(0);
        let first = r.next();
        r.seed(0);
        assert_eq!(r.next(), first);
    }
}
