//! A tiny seeded PRNG (xorshift64*): the same seed gives the same run, so a
//! failure in the guest is replayed with `--seed`.

/// xorshift64* (Vigna). Not for cryptography; plenty for a fuzzer.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; 0 is remapped, xorshift's state
    /// must not be 0).
    pub fn new(seed: u64) -> Rng {
        // One splitmix64 step spreads small seeds (1, 2, …) over the state.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// A `usize` in `lo..=hi`.
    pub fn size(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as u64, hi as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Log-uniform in `lo..=hi`: every order of magnitude about as likely,
    /// so small and huge rates both turn up.
    pub fn log_range(&mut self, lo: u64, hi: u64) -> u64 {
        let bits = 64 - hi.leading_zeros();
        let width = self.range(0, u64::from(bits)) as u32;
        let v = if width == 0 {
            0
        } else {
            self.next_u64() >> (64 - width)
        };
        v.clamp(lo, hi)
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        let mut c = Rng::new(2);
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..16).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        // Seed 0 is usable too.
        assert_ne!(Rng::new(0).next_u64(), 0);
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let v = r.range(3, 9);
            assert!((3..=9).contains(&v));
            let l = r.log_range(1_000, 12_500_000_000);
            assert!((1_000..=12_500_000_000).contains(&l));
            assert!(r.size(0, 16) <= 16);
        }
        assert_eq!(r.range(5, 5), 5);
        let _ = r.range(0, u64::MAX);
        // Log-uniform reaches both ends' orders of magnitude.
        let v: Vec<u64> = (0..10_000).map(|_| r.log_range(1, u64::MAX)).collect();
        assert!(v.iter().any(|&x| x < 1_000));
        assert!(v.iter().any(|&x| x > 1 << 60));
    }
}
