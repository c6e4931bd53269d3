"""Range constants d2, d3 and Duncan's d2* computed from their definitions.

The Gage R&R average-and-range method of the AIAG MSA manual divides average ranges by d2* (its
constants K1, K2 and K3 are reciprocals of d2*). Instead of a typed-in table the values here are
computed from the distribution of the range of ``m`` independent standard normal values:

* ``d2(m) = E[W]`` and ``d3(m) = sd[W]`` with ``P(W <= w) = m * int phi(x) (Phi(x + w) - Phi(x))**(m-1) dx``;
* ``d2*(m, g) = sqrt(d2**2 + d3**2 / g)`` (the root mean square of the average of ``g`` ranges, which
  is what Duncan's table holds: ``d2*(2, 1) = sqrt(2)`` exactly);
* the degrees of freedom ``nu(m, g)`` of Patnaik's chi approximation, solved from
  ``d2 / d2* = E[chi_nu] / sqrt(nu)``.

The unit tests compare them with the published table (AIAG MSA 4th ed., Appendix C) to the printed
digits.

References
----------
.. [1] AIAG, *Measurement Systems Analysis*, 4th ed. (2010), Appendix C (d2* table) and
       chapter III-B (K1, K2, K3).
.. [2] A. J. Duncan, *Quality Control and Industrial Statistics*, 5th ed. (1986), Table D3.
.. [3] P. B. Patnaik, "The use of mean range as an estimator of variance in statistical tests",
       Biometrika 37 (1950) 78-87.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, special

from jingce.kernels._validation import as_int

_X = np.linspace(-8.5, 8.5, 1701)  # integration grid for the location of the smallest value
_W = np.linspace(0.0, 14.0, 1401)  # integration grid for the range


def _simpson(y: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    from scipy.integrate import simpson

    return simpson(y, x=x, axis=axis)


@lru_cache(maxsize=1)
def _grid() -> tuple[np.ndarray, np.ndarray]:
    phi = np.exp(-0.5 * _X * _X) / np.sqrt(2.0 * np.pi)
    between = np.clip(special.ndtr(_X[None, :] + _W[:, None]) - special.ndtr(_X)[None, :], 0.0, 1.0)
    return phi, between


@lru_cache(maxsize=256)
def _range_moments(m: int) -> tuple[float, float]:
    phi, between = _grid()
    inner = m * phi[None, :] * between ** (m - 1)
    f_w = np.clip(_simpson(inner, _X, axis=1), 0.0, 1.0)  # P(W <= w)
    surv = 1.0 - f_w
    e1 = float(_simpson(surv, _W))
    e2 = float(_simpson(2.0 * _W * surv, _W))
    return e1, float(np.sqrt(max(e2 - e1 * e1, 0.0)))


def d2(m: int) -> float:
    """Mean range of ``m`` standard normal values (``m >= 2``)."""
    m = as_int(m, "m", lo=2, hi=100)
    return _range_moments(m)[0]


def d3(m: int) -> float:
    """Standard deviation of the range of ``m`` standard normal values (``m >= 2``)."""
    m = as_int(m, "m", lo=2, hi=100)
    return _range_moments(m)[1]


def d2_star(m: int, g: int = 1) -> float:
    """Duncan's d2* for the average of ``g`` ranges of subgroups of size ``m``.

    ``g = numpy.inf`` gives d2. See the module docstring for the definition.
    """
    m = as_int(m, "m", lo=2, hi=100)
    mean, sd = _range_moments(m)
    if np.isinf(g):
        return mean
    g = as_int(g, "g", lo=1)
    return float(np.sqrt(mean * mean + sd * sd / g))


def d2_star_dof(m: int, g: int = 1) -> float:
    """Degrees of freedom of ``(R_bar / d2*)**2`` as an estimate of ``sigma**2`` (Patnaik 1950)."""
    ratio = d2(m) / d2_star(m, g)

    def mean_chi_over_root(nu: float) -> float:
        return float(np.exp(0.5 * np.log(2.0 / nu) + special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2)))

    if ratio >= mean_chi_over_root(1e7):
        return float("inf")
    return float(optimize.brentq(lambda nu: mean_chi_over_root(nu) - ratio, 0.05, 1e7, xtol=1e-10))


def k_factors(trials: int, appraisers: int, parts: int) -> tuple[float, float, float]:
    """AIAG K1, K2, K3: ``1/d2(trials)``, ``1/d2*(appraisers, 1)``, ``1/d2*(parts, 1)``.

    K1 uses d2 (g taken as large: the number of ranges is parts x appraisers), K2 and K3 use a single
    range (g = 1), as in the AIAG MSA manual, 4th ed., chapter III-B.
    """
    return 1.0 / d2(trials), 1.0 / d2_star(appraisers, 1), 1.0 / d2_star(parts, 1)
