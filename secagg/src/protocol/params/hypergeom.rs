//! The hypergeometric distribution in log space, exact enough for `N = 10^6` and tail
//! probabilities far below `f64::MIN_POSITIVE`.
//!
//! `X ~ HG(total, marked, draws)` counts marked items in a uniformly random
//! `draws`-subset of a population of `total` items of which `marked` are marked:
//! `P[X = x] = C(marked, x) C(total - marked, draws - x) / C(total, draws)`.
//!
//! A tail is summed from its far end inwards in linear space, relative to the log of
//! its first (largest) term, so nothing overflows or underflows: starting on the tail
//! side of the mode, successive terms only shrink, and the sum stops once a term falls
//! below `2^-60` of the running sum. A tail that would contain the mode is computed as
//! the complement of the other tail, `ln(1 - p)`, with `ln_1p` / `expm1`.

/// `ln(x!)`: exact `u128` factorial below 34, Stirling's series with four correction
/// terms from 34 on (truncation error below `1e-16`).
pub(crate) fn ln_factorial(x: u64) -> f64 {
    if x <= 33 {
        // 33! < 2^128.
        let f = (2..=u128::from(x)).product::<u128>();
        (f as f64).ln()
    } else {
        let xf = x as f64;
        let inv = 1.0 / xf;
        let inv2 = inv * inv;
        // 0.5 * ln(2π)
        const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
        (xf + 0.5) * xf.ln() - xf
            + HALF_LN_2PI
            + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)))
    }
}

/// `ln C(a, b)` for `b <= a`.
pub(crate) fn ln_choose(a: u64, b: u64) -> f64 {
    debug_assert!(b <= a);
    ln_factorial(a) - ln_factorial(b) - ln_factorial(a - b)
}

/// `ln(1 - e^y)` for `y <= 0`, accurate at both ends.
pub(crate) fn ln_one_minus_exp(y: f64) -> f64 {
    if y > -core::f64::consts::LN_2 {
        (-y.exp_m1()).ln()
    } else {
        (-y.exp()).ln_1p()
    }
}

/// `ln(e^a + e^b)`.
pub(crate) fn ln_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// Stop summing a tail once a term is below this fraction of the running sum.
const NEGLIGIBLE: f64 = 1.0 / (1u64 << 60) as f64;

/// `HG(total, marked, draws)`; requires `marked <= total` and `draws <= total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hypergeometric {
    total: u64,
    marked: u64,
    draws: u64,
}

impl Hypergeometric {
    pub(crate) fn new(total: u64, marked: u64, draws: u64) -> Self {
        debug_assert!(marked <= total && draws <= total);
        Hypergeometric {
            total,
            marked: marked.min(total),
            draws: draws.min(total),
        }
    }

    /// Smallest value with positive probability.
    pub(crate) fn lo(&self) -> u64 {
        (self.draws + self.marked).saturating_sub(self.total)
    }

    /// Largest value with positive probability.
    pub(crate) fn hi(&self) -> u64 {
        self.draws.min(self.marked)
    }

    /// A most likely value: `floor((draws + 1)(marked + 1) / (total + 2))`.
    fn mode(&self) -> u64 {
        let m = (u128::from(self.draws) + 1) * (u128::from(self.marked) + 1)
            / (u128::from(self.total) + 2);
        (m as u64).clamp(self.lo(), self.hi())
    }

    /// `ln P[X = x]`.
    pub(crate) fn ln_pmf(&self, x: u64) -> f64 {
        if x < self.lo() || x > self.hi() {
            return f64::NEG_INFINITY;
        }
        ln_choose(self.marked, x) + ln_choose(self.total - self.marked, self.draws - x)
            - ln_choose(self.total, self.draws)
    }

    /// `P[X = x + 1] / P[X = x]`, for `lo <= x < hi`.
    fn ratio_up(&self, x: u64) -> f64 {
        let (n, k, d, x) = (
            self.total as f64,
            self.marked as f64,
            self.draws as f64,
            x as f64,
        );
        ((k - x) * (d - x)) / ((x + 1.0) * (n - k - d + x + 1.0))
    }

    /// `P[X = x - 1] / P[X = x]`, for `lo < x <= hi`.
    fn ratio_down(&self, x: u64) -> f64 {
        let (n, k, d, x) = (
            self.total as f64,
            self.marked as f64,
            self.draws as f64,
            x as f64,
        );
        (x * (n - k - d + x)) / ((k - x + 1.0) * (d - x + 1.0))
    }

    /// `ln Σ_{x >= m} P[X = x]` for `mode < m <= hi` (terms shrink as x grows).
    fn ln_sum_up(&self, m: u64) -> f64 {
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        for x in m..self.hi() {
            term *= self.ratio_up(x);
            sum += term;
            if term <= sum * NEGLIGIBLE {
                break;
            }
        }
        self.ln_pmf(m) + sum.ln()
    }

    /// `ln Σ_{x <= m} P[X = x]` for `lo <= m < mode` (terms shrink as x falls).
    fn ln_sum_down(&self, m: u64) -> f64 {
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        let mut x = m;
        while x > self.lo() {
            term *= self.ratio_down(x);
            sum += term;
            if term <= sum * NEGLIGIBLE {
                break;
            }
            x -= 1;
        }
        self.ln_pmf(m) + sum.ln()
    }

    /// `ln P[X >= t]`.
    pub(crate) fn ln_ge(&self, t: u64) -> f64 {
        if t <= self.lo() {
            0.0
        } else if t > self.hi() {
            f64::NEG_INFINITY
        } else if t > self.mode() {
            self.ln_sum_up(t).min(0.0)
        } else {
            // lo < t <= mode: the complement P[X <= t - 1] lies below the mode.
            ln_one_minus_exp(self.ln_sum_down(t - 1).min(0.0))
        }
    }

    /// `ln P[X < t]`.
    pub(crate) fn ln_lt(&self, t: u64) -> f64 {
        if t <= self.lo() {
            f64::NEG_INFINITY
        } else if t > self.hi() {
            0.0
        } else if t <= self.mode() {
            self.ln_sum_down(t - 1).min(0.0)
        } else {
            ln_one_minus_exp(self.ln_sum_up(t).min(0.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binom(a: u64, b: u64) -> u128 {
        if b > a {
            return 0;
        }
        let b = b.min(a - b);
        let mut r: u128 = 1;
        for i in 0..b {
            // Exact at every step: r * (a - i) / (i + 1) is C(a, i + 1).
            r = r * u128::from(a - i) / u128::from(i + 1);
        }
        r
    }

    /// Exact tail probabilities from integer counts: (numerator, denominator).
    fn exact_ge(n: u64, k: u64, d: u64, t: u64) -> (u128, u128) {
        let num = (t..=d).map(|x| binom(k, x) * binom(n - k, d - x)).sum();
        (num, binom(n, d))
    }

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(1e-300)
    }

    #[test]
    fn ln_factorial_matches_sums() {
        let mut acc = 0.0f64;
        for x in 1..=5000u64 {
            acc += (x as f64).ln();
            let got = ln_factorial(x);
            assert!(close(got, acc, 1e-13), "x={x}: {got} vs {acc}");
        }
        assert_eq!(ln_factorial(0), 0.0);
        assert_eq!(ln_factorial(1), 0.0);
        // ln(10^6!) = 12815518.3846582... (sum of ln i, Kahan-summed in f64 here).
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for x in 1..=1_000_000u64 {
            let y = (x as f64).ln() - c;
            let t = s + y;
            c = (t - s) - y;
            s = t;
        }
        assert!(close(ln_factorial(1_000_000), s, 1e-14));
    }

    #[test]
    fn tails_match_exact_integer_arithmetic() {
        // Populations small enough that C(n, d) fits u128.
        for &(n, k, d) in &[
            (60u64, 20u64, 15u64),
            (100, 5, 30),
            (200, 150, 30),
            (120, 60, 40),
            (50, 50, 10),
            (50, 0, 10),
            (40, 39, 39),
        ] {
            let h = Hypergeometric::new(n, k, d);
            for t in 0..=d + 1 {
                let (num, den) = exact_ge(n, k, d, t);
                let want_ge = num as f64 / den as f64;
                let want_lt = (den - num) as f64 / den as f64;
                let got_ge = h.ln_ge(t).exp();
                let got_lt = h.ln_lt(t).exp();
                assert!(
                    close(got_ge, want_ge, 1e-11),
                    "{n} {k} {d} t={t} ge {got_ge} {want_ge}"
                );
                assert!(
                    close(got_lt, want_lt, 1e-11),
                    "{n} {k} {d} t={t} lt {got_lt} {want_lt}"
                );
                // ln values, where the probability is tiny, also to relative precision.
                if num > 0 {
                    let want = (num as f64).ln() - (den as f64).ln();
                    assert!((h.ln_ge(t) - want).abs() < 1e-10, "{n} {k} {d} t={t}");
                }
            }
        }
    }

    #[test]
    fn pmf_at_a_million_matches_direct_log_sums() {
        // ln C(a, b) as a sum of b logarithms, independent of Stirling's series.
        let direct = |a: u64, b: u64| -> f64 {
            (0..b).map(|i| ((a - i) as f64 / (b - i) as f64).ln()).sum()
        };
        let (n, k, d) = (1_000_000u64, 50_000u64, 38u64);
        let h = Hypergeometric::new(n, k, d);
        for x in 0..=d {
            let want = direct(k, x) + direct(n - k, d - x) - direct(n, d);
            let got = h.ln_pmf(x);
            assert!((got - want).abs() < 1e-7, "x={x}: {got} vs {want}");
        }
        // Far tail: no underflow, finite, and equal to the sum of its terms.
        let ln_tail = h.ln_ge(38);
        assert!((ln_tail - h.ln_pmf(38)).abs() < 1e-12);
        assert!(ln_tail < -100.0 && ln_tail.is_finite());
        let sum: f64 = (30..=d).map(|x| h.ln_pmf(x).exp()).sum();
        assert!(close(h.ln_ge(30).exp(), sum, 1e-9));
    }

    #[test]
    fn tails_are_complementary_and_monotone() {
        let h = Hypergeometric::new(999, 949, 40);
        let mut last = 0.0;
        for t in 0..=41 {
            let ge = h.ln_ge(t).exp();
            let lt = h.ln_lt(t).exp();
            assert!(close(ge + lt, 1.0, 1e-12), "t={t}");
            assert!(ge <= last || t == 0);
            last = ge;
        }
    }

    #[test]
    fn log_helpers() {
        assert!(close(
            ln_one_minus_exp((0.25f64).ln()),
            (0.75f64).ln(),
            1e-15
        ));
        assert!(close(ln_one_minus_exp(-1e-20), (1e-20f64).ln(), 1e-12));
        assert!(close(
            ln_add_exp(1.0f64.ln(), 3.0f64.ln()),
            4.0f64.ln(),
            1e-15
        ));
        assert_eq!(
            ln_add_exp(f64::NEG_INFINITY, f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
    }
}
