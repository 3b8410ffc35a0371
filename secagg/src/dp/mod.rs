//! Distributed differential privacy: exact integer noise samplers and the privacy
//! accountant of the two mechanisms the client pipeline implements.
//!
//! Secure aggregation hides each client's vector from the server but gives it the exact
//! sum. With distributed DP every client adds a small amount of integer noise to its
//! quantized vector before masking, so the sum the server unmasks carries the noise of
//! all the (honest, surviving) clients together, enough for a target (ε, δ).
//!
//! - [`Mechanism`]: the distributed discrete Gaussian (Kairouz, Liu, Steinke, ICML 2021)
//!   or the distributed Skellam mechanism (Agarwal, Kairouz, Liu, NeurIPS 2021).
//! - [`sample`]: exact samplers, integer arithmetic only in every decision, driven by
//!   any [`CryptoRng`](crate::crypto::rng::CryptoRng): Bernoulli(exp(−γ)), the discrete
//!   Laplace and discrete Gaussian of Canonne, Kamath, Steinke (NeurIPS 2020), Poisson
//!   and Skellam.
//! - [`accountant`]: the Rényi-DP bound of each mechanism for one round, composition
//!   over rounds, amplification by Poisson sampling of clients, conversion to (ε, δ),
//!   and the inverse (the noise a target ε needs).
//!
//! The derivations, the bounds' assumptions and the parameter choice are in
//! `docs/differential-privacy.md`.

use core::fmt;
use core::str::FromStr;

pub use crate::error::{DpError, Number};
pub use accountant::{Accountant, Budget, Privacy, RoundMechanism};
pub use sample::Rational;

pub mod accountant;
pub mod sample;

// The client/server pipeline (clip, scale, rotate, round, noise, ring) and its rotation.
pub mod pipeline;
pub mod rotation;

/// The distributed noise mechanism: which integer noise each client adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// Each client adds discrete Gaussian noise N_Z(0, σ²) per coordinate; the sum of
    /// n such is close to (not exactly) a discrete Gaussian of variance nσ²
    /// (Kairouz, Liu, Steinke 2021). Name `ddg`.
    DiscreteGaussian,
    /// Each client adds Skellam noise Sk(μ) = Poisson(μ) − Poisson(μ) (variance 2μ)
    /// per coordinate; the sum of n such is exactly Sk(nμ) (Agarwal, Kairouz, Liu
    /// 2021). Name `skellam`.
    Skellam,
}

impl Mechanism {
    /// Both mechanisms, in a fixed order.
    pub const ALL: [Mechanism; 2] = [Mechanism::DiscreteGaussian, Mechanism::Skellam];

    /// The stable short name: `ddg` or `skellam` (command lines, JSON, Python).
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::DiscreteGaussian => "ddg",
            Mechanism::Skellam => "skellam",
        }
    }

    /// The mechanism with this short name.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mechanism {
    type Err = DpError;

    /// # Errors
    /// [`DpError::InvalidParameter`] for a name other than `ddg` or `skellam`.
    fn from_str(s: &str) -> Result<Self, DpError> {
        Mechanism::from_name(s).ok_or(DpError::InvalidParameter {
            what: "mechanism",
            allowed: "ddg or skellam",
        })
    }
}
