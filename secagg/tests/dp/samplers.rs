//! The exact samplers against their exact distributions.
//!
//! Every statistical check here is one-sided at false-failure probability 10^-6 for an
//! exact sampler (chi-square goodness of fit: the Wilson–Hilferty quantile at z = 4.753;
//! means, variances and frequencies: |z| <= 5.0, two-sided 5.7·10^-7), with fixed seeds,
//! so a run either passes or fails the same way every time; with about 25 such checks
//! the chance that an exact sampler fails one for an unlucky seed is below 3·10^-5.
//! The pmfs are computed independently here in f64 (normalised over a range whose
//! excluded tail mass is below 10^-30).

use secagg::crypto::rng::seeded_rng;
use secagg::dp::sample::{
    bernoulli_exp, uniform_below, DiscreteGaussian, DiscreteLaplace, Poisson, Rational, Skellam,
};

/// z of a one-sided 10^-6 tail of the standard normal.
const Z_CHI: f64 = 4.753;
/// Two-sided tolerance in standard deviations for means and frequencies.
const Z: f64 = 5.0;

fn rng(tag: u8) -> rand_chacha::ChaCha20Rng {
    let mut seed = [0x5a; 32];
    seed[0] = tag;
    seeded_rng(seed)
}

/// The chi-square quantile at upper tail 10^-6 for `df` degrees of freedom
/// (Wilson–Hilferty).
fn chi_square_critical(df: f64) -> f64 {
    let h = 2.0 / (9.0 * df);
    df * (1.0 - h + Z_CHI * h.sqrt()).powi(3)
}

/// Chi-square goodness of fit of integer `samples` against `pmf` (value, probability),
/// where `pmf` covers all the mass but ~0. Values are grouped into consecutive bins of
/// expected count >= 50 (tails merged), so the asymptotic distribution applies.
fn chi_square(samples: &[i64], pmf: &[(i64, f64)]) -> (f64, f64) {
    let n = samples.len() as f64;
    // Bins: runs of consecutive pmf entries with expected count >= 50.
    let mut bins: Vec<(i64, i64, f64)> = Vec::new(); // (lo, hi, expected)
    let mut cur: Option<(i64, i64, f64)> = None;
    for &(x, p) in pmf {
        let c = cur.get_or_insert((x, x, 0.0));
        c.1 = x;
        c.2 += p * n;
        if c.2 >= 50.0 {
            bins.push(*c);
            cur = None;
        }
    }
    if let Some(c) = cur {
        match bins.last_mut() {
            Some(last) => {
                last.1 = c.1;
                last.2 += c.2;
            }
            None => bins.push(c),
        }
    }
    // The outermost bins take everything beyond them.
    let mut counts = vec![0f64; bins.len()];
    for &s in samples {
        let i = bins.partition_point(|b| b.1 < s).min(bins.len() - 1);
        counts[i] += 1.0;
    }
    let stat = bins
        .iter()
        .zip(&counts)
        .map(|(b, &o)| (o - b.2).powi(2) / b.2)
        .sum::<f64>();
    let df = (bins.len() - 1) as f64;
    (stat, chi_square_critical(df))
}

fn dg_pmf(sigma_sq: f64) -> Vec<(i64, f64)> {
    let k = (12.0 * sigma_sq.sqrt()).ceil() as i64 + 12;
    let w: Vec<(i64, f64)> = (-k..=k)
        .map(|x| (x, (-(x as f64).powi(2) / (2.0 * sigma_sq)).exp()))
        .collect();
    let z: f64 = w.iter().map(|p| p.1).sum();
    w.into_iter().map(|(x, p)| (x, p / z)).collect()
}

fn poisson_pmf(mu: f64) -> Vec<(i64, f64)> {
    let k = (mu + 15.0 * mu.sqrt() + 40.0).ceil() as i64;
    let mut out = Vec::new();
    let mut logp = -mu;
    for x in 0..=k {
        if x > 0 {
            logp += mu.ln() - (x as f64).ln();
        }
        out.push((x, logp.exp()));
    }
    out
}

/// Sk(μ) = Poisson(μ) − Poisson(μ), by convolution of the Poisson pmf.
fn skellam_pmf(mu: f64) -> Vec<(i64, f64)> {
    let p = poisson_pmf(mu);
    let k = p.len() as i64 - 1;
    (-k..=k)
        .map(|d| {
            let s: f64 = p
                .iter()
                .filter_map(|&(j, pj)| {
                    let i = j + d;
                    (0..=k).contains(&i).then(|| p[i as usize].1 * pj)
                })
                .sum();
            (d, s)
        })
        .collect()
}

fn moments(pmf: &[(i64, f64)]) -> (f64, f64) {
    let mean: f64 = pmf.iter().map(|&(x, p)| x as f64 * p).sum();
    let var: f64 = pmf
        .iter()
        .map(|&(x, p)| (x as f64 - mean).powi(2) * p)
        .sum();
    (mean, var)
}

/// Sample mean and variance within Z standard errors of the exact ones (the standard
/// error of the variance from the exact fourth central moment).
fn check_moments(samples: &[i64], pmf: &[(i64, f64)], what: &str) {
    let n = samples.len() as f64;
    let (mean, var) = moments(pmf);
    let m4: f64 = pmf
        .iter()
        .map(|&(x, p)| (x as f64 - mean).powi(4) * p)
        .sum();
    let smean = samples.iter().map(|&x| x as f64).sum::<f64>() / n;
    let svar = samples
        .iter()
        .map(|&x| (x as f64 - smean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    assert!(
        (smean - mean).abs() <= Z * (var / n).sqrt(),
        "{what}: mean {smean} vs {mean}"
    );
    assert!(
        (svar - var).abs() <= Z * ((m4 - var * var) / n).sqrt() + 1e-12,
        "{what}: variance {svar} vs {var}"
    );
}

fn check_fit(samples: &[i64], pmf: &[(i64, f64)], what: &str) {
    let (stat, crit) = chi_square(samples, pmf);
    assert!(stat <= crit, "{what}: chi-square {stat} > {crit}");
    check_moments(samples, pmf, what);
}

const DRAWS: usize = 1_000_000;

#[test]
fn uniform_below_is_uniform() {
    let mut r = rng(1);
    for n in [1u64, 2, 3, 7, 1000, (1 << 63) + 5] {
        let draws = 200_000;
        let bins = n.min(10);
        let mut counts = vec![0f64; bins as usize];
        for _ in 0..draws {
            let x = uniform_below(&mut r, n);
            assert!(x < n);
            // Bin by scaled position (exact bins for n <= 10).
            let i = if n <= 10 {
                x
            } else {
                ((u128::from(x) * u128::from(bins)) / u128::from(n)) as u64
            };
            counts[i as usize] += 1.0;
        }
        if bins > 1 {
            let pmf: Vec<(i64, f64)> = (0..bins as i64)
                .map(|i| {
                    // Exact share of 0..n falling into bin i.
                    let lo = (u128::from(n) * i as u128).div_ceil(u128::from(bins));
                    let hi = (u128::from(n) * (i as u128 + 1)).div_ceil(u128::from(bins));
                    (i, (hi - lo) as f64 / n as f64)
                })
                .collect();
            let stat: f64 = pmf
                .iter()
                .zip(&counts)
                .map(|(&(_, p), &o)| (o - p * draws as f64).powi(2) / (p * draws as f64))
                .sum();
            assert!(stat <= chi_square_critical((bins - 1) as f64), "n = {n}");
        }
    }
}

#[test]
fn bernoulli_exp_frequencies() {
    let mut r = rng(2);
    let draws = 400_000;
    for (num, den) in [
        (0u64, 1u64),
        (1, 3),
        (1, 1),
        (5, 2),
        (7, 1),
        (1_000_003, 999_999),
    ] {
        let gamma = Rational::new(num, den).expect("valid rational");
        let p = (-(num as f64) / den as f64).exp();
        let hits = (0..draws).filter(|_| bernoulli_exp(gamma, &mut r)).count() as f64;
        let sd = (draws as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (hits - draws as f64 * p).abs() <= Z * sd + 1e-9,
            "gamma {gamma}: {hits} of {draws}, expected {}",
            draws as f64 * p
        );
    }
}

#[test]
fn discrete_laplace_fits() {
    let mut r = rng(3);
    for t in [1u64, 4] {
        let lap = DiscreteLaplace::new(t).expect("t >= 1");
        let mut s = vec![0i64; 300_000];
        lap.fill(&mut r, &mut s);
        let k = 40 * t as i64;
        let w: Vec<(i64, f64)> = (-k..=k)
            .map(|x| (x, (-(x.abs() as f64) / t as f64).exp()))
            .collect();
        let z: f64 = w.iter().map(|p| p.1).sum();
        let pmf: Vec<(i64, f64)> = w.into_iter().map(|(x, p)| (x, p / z)).collect();
        check_fit(&s, &pmf, &format!("DLap({t})"));
    }
    assert!(DiscreteLaplace::new(0).is_err());
}

/// σ² = 1/4 (σ < 1), 3.7 (from its f64), 10^6 (σ = 1000); 10^6 draws each.
#[test]
fn discrete_gaussian_fits() {
    let mut r = rng(4);
    let cases = [
        Rational::new(1, 4).expect("valid"),
        Rational::from_f64_exact(3.7).expect("exact"),
        Rational::integer(1_000_000),
    ];
    for (i, sigma_sq) in cases.into_iter().enumerate() {
        let dg = DiscreteGaussian::new(sigma_sq).expect("sigma^2 fits");
        let mut s = vec![0i64; DRAWS];
        dg.fill(&mut r, &mut s);
        let pmf = dg_pmf(sigma_sq.to_f64());
        check_fit(&s, &pmf, &format!("case {i}: N_Z(0, {sigma_sq})"));
    }
}

/// A σ² whose numerator and denominator are near 2^63: every acceptance test runs in
/// the 384-bit path.
#[test]
fn discrete_gaussian_wide_path_fits() {
    let mut r = rng(5);
    let sigma_sq = Rational::new((1u64 << 63) - 25, (1u64 << 62) - 1).expect("valid");
    let dg = DiscreteGaussian::new(sigma_sq).expect("fits");
    let mut s = vec![0i64; 200_000];
    dg.fill(&mut r, &mut s);
    check_fit(&s, &dg_pmf(sigma_sq.to_f64()), "wide N_Z");
    assert_eq!(
        DiscreteGaussian::new(Rational::ZERO).map(|d| d.sample(&mut r)),
        Ok(0)
    );
}

/// μ = 0.3, 7.5, 100 (10^6 draws each) and 2500.25 (3·10^5 draws).
#[test]
fn poisson_fits() {
    let mut r = rng(6);
    let cases = [
        (Rational::new(3, 10).expect("valid"), DRAWS),
        (Rational::new(15, 2).expect("valid"), DRAWS),
        (Rational::integer(100), DRAWS),
        (Rational::new(10_001, 4).expect("valid"), 300_000),
    ];
    for (mu, draws) in cases {
        let p = Poisson::new(mu).expect("mu fits");
        let mut s = vec![0u64; draws];
        p.fill(&mut r, &mut s);
        let s: Vec<i64> = s.into_iter().map(|x| x as i64).collect();
        check_fit(&s, &poisson_pmf(mu.to_f64()), &format!("Poisson({mu})"));
    }
    assert_eq!(
        Poisson::new(Rational::ZERO).map(|p| p.sample(&mut r)),
        Ok(0)
    );
    assert!(Poisson::new(Rational::integer(1 << 61)).is_err());
}

/// Sk(3) directly, and the sum of four independent Sk(3/4): equal in distribution
/// (both against the exact Sk(3) pmf).
#[test]
fn skellam_sums_are_skellam() {
    let mut r = rng(7);
    let pmf = skellam_pmf(3.0);
    let direct = Skellam::new(Rational::integer(3)).expect("fits");
    let mut s = vec![0i64; DRAWS];
    direct.fill(&mut r, &mut s);
    check_fit(&s, &pmf, "Sk(3)");

    let part = Skellam::new(Rational::new(3, 4).expect("valid")).expect("fits");
    let mut parts = vec![0i64; 4 * 500_000];
    part.fill(&mut r, &mut parts);
    let sums: Vec<i64> = parts.chunks(4).map(|c| c.iter().sum()).collect();
    check_fit(&sums, &pmf, "sum of 4 Sk(3/4)");
    assert_eq!(direct.mu(), Rational::integer(3));
}
