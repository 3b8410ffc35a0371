"""Distributed differential privacy: the session configuration and the accountant.

- :class:`DistributedDP`: what ``Config(..., dp=...)`` and
  ``secagg.flower.SecureAggregation(..., dp=...)`` take: every client adds its share of
  integer noise before masking, so the sum the server unmasks is noised.
- :class:`Accountant`: the core's privacy accountant (Rényi DP of the distributed
  discrete Gaussian or Skellam sum, Poisson subsampling, composition, conversion to
  ``(epsilon, delta)``, and the inverse: the noise for a target epsilon), for a planned
  run (the numbers of ``secagg dp ... --json``) or for the sessions a run had
  (:meth:`Accountant.for_session`, :meth:`Accountant.step`).
- :class:`Budget`: a checked ``(epsilon, delta)``.
- :func:`dp_noise`: the noise a DP session's sum of ``included`` clients carries.
- :func:`gaussian_rdp`, :func:`rdp_to_epsilon`, :data:`RDP_ORDERS`: the continuous
  sampled Gaussian's RDP and the RDP-to-(epsilon, delta) conversion, for comparison
  with other accountants.

Errors: :class:`DPError` (a :class:`secagg.MisuseError`) and its subclass
:class:`BudgetExhaustedError`. The bounds and their assumptions:
``docs/differential-privacy.md``.
"""

from ._secagg import (
    RDP_ORDERS,
    Accountant,
    Budget,
    BudgetExhaustedError,
    DistributedDP,
    DPError,
    dp_noise,
    gaussian_rdp,
    rdp_to_epsilon,
)

__all__ = [
    "RDP_ORDERS",
    "Accountant",
    "Budget",
    "BudgetExhaustedError",
    "DPError",
    "DistributedDP",
    "dp_noise",
    "gaussian_rdp",
    "rdp_to_epsilon",
]
