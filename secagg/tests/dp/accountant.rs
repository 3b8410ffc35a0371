//! The privacy accountant against published numbers, independent formulas and limits.

use secagg::dp::accountant::{
    gaussian_subsampled_rdp, l1_from_l2, noisy_clients, rdp_to_dp, rdp_to_dp_classic,
    rounded_l2_bound, subsampled_rdp, variance_for, Accountant, Budget, Privacy, RoundMechanism,
    ORDERS,
};
use secagg::dp::{DpError, Mechanism};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn mechanism_names_round_trip() {
    for m in Mechanism::ALL {
        assert_eq!(m.name().parse::<Mechanism>(), Ok(m));
    }
    assert!("gauss".parse::<Mechanism>().is_err());
}

/// TensorFlow Privacy's published values for the sampled Gaussian mechanism
/// (`rdp_accountant_test.py`: `test_compute_rdp_scalar`, `test_compute_rdp_sequence`;
/// Mironov, Talwar, Zhang 2019, integer orders).
#[test]
fn sampled_gaussian_rdp_matches_tensorflow_privacy() {
    // compute_rdp(q = 0.1, sigma = 2, steps = 10, order 5) = 0.07737
    assert!(close(
        10.0 * gaussian_subsampled_rdp(2.0, 0.1, 5),
        0.07737,
        5e-6
    ));
    // compute_rdp(q = 0.01, sigma = 2.5, steps = 50, orders 5, 50, 100)
    let r = |a| 50.0 * gaussian_subsampled_rdp(2.5, 0.01, a);
    assert!(close(r(5), 0.00218075, 1e-7));
    assert!(close(r(50), 0.023846, 1e-6));
    assert!(close(r(100), 167.416307, 1e-4));
    // q = 1: alpha / (2 sigma^2) (compute_rdp(1, 10, 1, 20) = 0.1).
    assert!(close(gaussian_subsampled_rdp(10.0, 1.0, 20), 0.1, 1e-15));
}

/// Abadi et al. (CCS 2016) / TensorFlow Privacy `test_get_privacy_spent_check_target_delta`:
/// q = 0.01, sigma = 4, 10^4 steps, delta = 10^-5 gives epsilon = 1.258575 at order 20
/// with Mironov's conversion; the tighter conversion gives less.
#[test]
fn privacy_spent_matches_the_moments_accountant() {
    let rdp: Vec<f64> = ORDERS
        .iter()
        .map(|&a| 1e4 * gaussian_subsampled_rdp(4.0, 0.01, a))
        .collect();
    let (eps, order) = rdp_to_dp_classic(&rdp, 1e-5).expect("valid delta");
    assert!(close(eps, 1.258575, 5e-6), "{eps}");
    assert_eq!(order, 20);
    // The tighter conversion at its best order, recomputed by hand.
    let (tight, order) = rdp_to_dp(&rdp, 1e-5).expect("valid delta");
    let i = ORDERS.iter().position(|&o| o == order).expect("an order");
    let a = f64::from(order);
    let by_hand = rdp[i] + ((a - 1.0) / a).ln() - ((1e-5f64).ln() + a.ln()) / (a - 1.0);
    assert!(close(tight, by_hand, 1e-12));
    assert!(tight < eps && tight > 0.8 * eps, "{tight}");
}

/// Zhu–Wang's general bound is an upper bound: applied to the Gaussian's RDP it is never
/// below the exact sampled-Gaussian RDP, and equals the unsampled RDP at q = 1.
#[test]
fn general_subsampling_bound_dominates_the_gaussian_one() {
    for &(sigma, q) in &[(0.8, 0.05), (1.1, 0.01), (4.0, 0.01), (2.0, 0.3)] {
        let base = |a: u32| f64::from(a) / (2.0 * sigma * sigma);
        for &a in &[2u32, 3, 8, 32, 128] {
            let general = subsampled_rdp(base, q, a);
            let exact = gaussian_subsampled_rdp(sigma, q, a);
            assert!(general >= exact - 1e-12, "sigma {sigma} q {q} a {a}");
            assert!(general <= base(a) + 1e-15);
        }
        assert_eq!(subsampled_rdp(base, 1.0, 7), base(7));
    }
}

/// The bounds' formulas, evaluated independently at one point each.
#[test]
fn per_round_bounds_at_a_point() {
    // DDG: n = 2, sigma^2 = 1, d = 4, Delta2 = 3, Delta1 = 6.
    let r = RoundMechanism {
        mechanism: Mechanism::DiscreteGaussian,
        clients: 2,
        local_variance: 1.0,
        l2: 3.0,
        l1: 6.0,
        dim: 4,
    };
    let tau = 10.0 * (-core::f64::consts::PI.powi(2)).exp(); // k = 1: exp(-2 pi^2 / 2)
    assert!(close(r.tau(), tau, 1e-18));
    let a = 3.0;
    let l2s = 9.0 / 2.0;
    let expect = (a / 2.0 * l2s + tau * 4.0)
        .min(a / 2.0 * (l2s + 2.0 * (6.0 / 2f64.sqrt()) * tau + tau * tau * 4.0))
        .min(a / 2.0 * (l2s.sqrt() + 2.0 * tau).powi(2));
    assert!(close(r.rdp(3), expect, 1e-12));
    // Skellam: n = 10 clients of variance 5 (mu = 25 summed), Delta2 = 2, Delta1 = 4.
    let s = RoundMechanism {
        mechanism: Mechanism::Skellam,
        clients: 10,
        local_variance: 5.0,
        l2: 2.0,
        l1: 4.0,
        dim: 16,
    };
    let (mu, a): (f64, f64) = (25.0, 7.0);
    let expect = a * 4.0 / (4.0 * mu)
        + (((2.0 * a - 1.0) * 4.0 + 24.0) / (16.0 * mu * mu)).min(12.0 / (4.0 * mu));
    assert!(close(s.rdp(7), expect, 1e-15));
    assert_eq!(s.tau(), 0.0);
}

/// Conditional rounding's norm bound (KLS21 Theorem 1) and the L1 bound.
#[test]
fn rounding_bounds() {
    let b = rounded_l2_bound(100.0, 64, 0.606_530_659_712_633_4).expect("valid");
    let expect: f64 = (1e4 + 16.0 + (2.0f64 * 0.5).sqrt() * (100.0 + 4.0)).sqrt();
    assert!(close(b, expect.min(108.0), 1e-9));
    assert_eq!(rounded_l2_bound(100.0, 64, 0.0), Ok(108.0));
    assert!(rounded_l2_bound(1.0, 0, 0.5).is_err());
    assert!(rounded_l2_bound(1.0, 4, 1.0).is_err());
    assert_eq!(l1_from_l2(3.0, 100), 9.0);
    assert_eq!(l1_from_l2(30.0, 100), 300.0);
}

/// A fine grid (scale s) and large noise: the DDG's and Skellam's epsilon decrease
/// towards the continuous Gaussian mechanism's epsilon for the same noise multiplier
/// (same sampling bound), from above.
#[test]
fn approaches_the_continuous_gaussian_from_above() {
    let (z, clip, n, dim, q, rounds, delta) = (1.0, 1.0, 100usize, 1024usize, 0.01, 100, 1e-6);
    let gauss_rdp: Vec<f64> = ORDERS
        .iter()
        .map(|&a| rounds as f64 * subsampled_rdp(|l| f64::from(l) / (2.0 * z * z), q, a))
        .collect();
    let (gauss, _) = rdp_to_dp(&gauss_rdp, delta).expect("valid delta");
    for mechanism in Mechanism::ALL {
        let mut last = f64::INFINITY;
        for scale in [1e1, 1e2, 1e3, 1e4, 1e6] {
            let l2 = rounded_l2_bound(clip * scale, dim, 0.606_530_659_712_633_4).expect("ok");
            let var = (z * clip * scale).powi(2) / n as f64;
            let round = RoundMechanism::new(mechanism, n, var, l2, dim).expect("valid");
            let eps = Accountant::new(round, q)
                .and_then(|a| a.privacy_after(rounds, delta))
                .expect("valid")
                .epsilon;
            assert!(eps >= gauss, "{mechanism} scale {scale}: {eps} < {gauss}");
            assert!(eps <= last, "{mechanism}: not decreasing at scale {scale}");
            last = eps;
        }
        assert!(last <= gauss * 1.001, "{mechanism}: {last} vs {gauss}");
    }
}

/// The inverse gives the least variance within the target.
#[test]
fn variance_for_meets_the_target_tightly() {
    let round =
        RoundMechanism::new(Mechanism::DiscreteGaussian, 100, 1.0, 1000.0, 4096).expect("valid");
    for mechanism in Mechanism::ALL {
        let round = RoundMechanism { mechanism, ..round };
        let target = Privacy::new(2.0, 1e-6).expect("valid");
        let v = variance_for(target, round, 0.01, 100).expect("reachable");
        let eps = |v: f64| {
            Accountant::new(round.with_variance(v), 0.01)
                .and_then(|a| a.privacy_after(100, 1e-6))
                .expect("valid")
                .epsilon
        };
        assert!(eps(v) <= 2.0, "{mechanism}");
        assert!(eps(v * 0.999) > 2.0, "{mechanism}");
    }
}

#[test]
fn budget_is_enforced() {
    let round =
        RoundMechanism::new(Mechanism::Skellam, 50, 1e6, 1000.0, 1024).expect("valid round");
    let acct = Accountant::new(round, 0.1).expect("valid");
    let budget = Privacy::new(1.0, 1e-5).expect("valid");
    let max = acct.max_rounds(budget).expect("valid");
    assert!(max >= 1);
    let mut run = Budget::new(acct.clone(), budget).expect("valid");
    for _ in 0..max {
        let p = run.spend().expect("within budget");
        assert!(p.epsilon <= 1.0);
    }
    let err = run.spend().expect_err("exhausted");
    assert_eq!(err.name(), "BudgetExhausted");
    assert!(matches!(err, DpError::BudgetExhausted { .. }));
    assert_eq!(run.rounds(), max);
    assert!(acct.privacy_after(max + 1, 1e-5).expect("valid").epsilon > 1.0);
}

#[test]
fn bad_input_is_typed() {
    for e in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Privacy::new(e, 1e-5),
            Err(DpError::InvalidEpsilon { .. })
        ));
    }
    for d in [0.0, 1.0, -0.1, 2.0, f64::NAN] {
        assert!(matches!(
            Privacy::new(1.0, d),
            Err(DpError::InvalidDelta { .. })
        ));
    }
    let round = RoundMechanism::new(Mechanism::DiscreteGaussian, 10, 1.0, 10.0, 16).expect("ok");
    for q in [0.0, 1.5, f64::NAN] {
        assert!(matches!(
            Accountant::new(round, q),
            Err(DpError::InvalidParameter { .. })
        ));
    }
    assert!(RoundMechanism::new(Mechanism::Skellam, 0, 1.0, 1.0, 1).is_err());
    assert!(RoundMechanism::new(Mechanism::Skellam, 1, -1.0, 1.0, 1).is_err());
    assert!(noisy_clients(10, 10).is_err());
    assert_eq!(noisy_clients(90, 5), Ok(85));
    let tiny = Privacy {
        epsilon: 1e-12,
        delta: 1e-9,
    };
    assert!(matches!(
        variance_for(tiny, round, 1.0, 1000),
        Err(DpError::Unreachable { .. })
    ));
    assert!(variance_for(
        Privacy {
            epsilon: 1.0,
            delta: 1e-5
        },
        round,
        1.0,
        0
    )
    .is_err());
}
