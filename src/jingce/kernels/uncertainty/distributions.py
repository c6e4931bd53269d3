"""Input quantities of a measurement model: estimate, standard uncertainty, degrees of freedom and
the probability distribution used for Monte Carlo sampling.

Every constructor validates its parameters once and returns an immutable :class:`InputQuantity`.
Parameters may be scalars or arrays of one common shape; array parameters describe many
independent measurements at once (the bulk form used by :func:`~jingce.kernels.uncertainty.gum`).

References
----------
.. [1] JCGM 100:2008 (GUM), 4.2 (Type A), 4.3 (Type B: 4.3.7 rectangular, 4.3.9 triangular).
.. [2] JCGM 101:2008 (GUM-S1), 6.4: 6.4.2 rectangular, 6.4.3 curvilinear trapezoid,
       6.4.4 trapezoidal, 6.4.5 triangular, 6.4.6 arc sine (U-shaped), 6.4.7 Gaussian,
       6.4.9 scaled and shifted t; Table 1 (the PDF for each kind of information).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jingce.kernels._validation import as_array, fail

__all__ = [
    "InputQuantity",
    "normal",
    "rectangular",
    "triangular",
    "arcsine",
    "student_t",
    "trapezoidal",
    "curvilinear_trapezoid",
    "type_a",
    "KINDS",
]

KINDS = (
    "normal",
    "rectangular",
    "triangular",
    "arcsine",
    "student_t",
    "trapezoidal",
    "curvilinear_trapezoid",
    "type_a",
)


@dataclass(frozen=True, slots=True)
class InputQuantity:
    """One input quantity ``X_i`` of a measurement model.

    Attributes
    ----------
    kind : str
        Distribution name (one of :data:`KINDS`).
    x : float or ndarray
        Best estimate (the expectation of the distribution).
    u : float or ndarray
        Standard uncertainty (the standard deviation of the distribution); ``inf`` for a
        t distribution with ``dof <= 2``.
    dof : float or ndarray
        Degrees of freedom for Welch-Satterthwaite (``inf`` for Type B information).
    params : tuple of (name, value)
        The parameters the quantity was built from, in constructor order.
    """

    kind: str
    x: Any
    u: Any
    dof: Any = math.inf
    params: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.x)

    def param(self, name: str) -> Any:
        for k, v in self.params:
            if k == name:
                return v
        raise KeyError(name)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values from the distribution (JCGM 101 6.4 and Annex C).

        Only scalar parameters can be sampled (array parameters describe many measurements).
        """
        if self.shape != ():
            raise fail("inputs", f"a {self.kind} input with array parameters cannot be sampled by Monte Carlo")
        p = dict(self.params)
        k = self.kind
        if k == "normal":
            return rng.normal(p["mean"], p["sd"], size)
        if k == "rectangular":
            return rng.uniform(p["low"], p["high"], size)
        if k == "triangular":
            return rng.triangular(p["low"], p["mode"], p["high"], size)
        if k == "arcsine":
            # JCGM 101 6.4.6.4: X = (a+b)/2 + (b-a)/2 sin(2 pi r), r ~ R(0, 1)
            a, b = p["low"], p["high"]
            return (a + b) / 2 + (b - a) / 2 * np.sin(2 * np.pi * rng.random(size))
        if k == "student_t":
            return p["loc"] + p["scale"] * rng.standard_t(p["dof"], size)
        if k == "type_a":
            # JCGM 101 6.4.9.7: x_bar + s/sqrt(n) t_{n-1}
            return self.x + p["s"] / math.sqrt(p["n"]) * rng.standard_t(p["n"] - 1, size)
        if k == "trapezoidal":
            # JCGM 101 6.4.4.4: X = a + (b-a)/2 [(1+beta) r1 + (1-beta) r2]
            a, b, beta = p["low"], p["high"], p["beta"]
            r1 = rng.random(size)
            r2 = rng.random(size)
            return a + (b - a) / 2 * ((1 + beta) * r1 + (1 - beta) * r2)
        if k == "curvilinear_trapezoid":
            # JCGM 101 6.4.3.4: a_s = (a - d) + 2 d r1, b_s = (a + b) - a_s, X = a_s + (b_s - a_s) r2
            a, b, d = p["low"], p["high"], p["d"]
            a_s = (a - d) + 2 * d * rng.random(size)
            b_s = (a + b) - a_s
            return a_s + (b_s - a_s) * rng.random(size)
        raise fail("inputs", f"unknown distribution kind {k!r}")  # pragma: no cover


def _param(value: Any, argument: str) -> Any:
    arr = as_array(value, argument)
    return float(arr) if arr.ndim == 0 else arr


def _dof(dof: Any, argument: str = "dof") -> Any:
    if dof is None:
        return math.inf
    arr = as_array(dof, argument, finite=False)
    if np.any(np.isnan(arr)) or np.any(arr <= 0):
        raise fail(argument, "must be > 0 (or None / inf for Type B information)")
    return float(arr) if arr.ndim == 0 else arr


def _common_shape(argument: str, *values: Any) -> None:
    try:
        np.broadcast_shapes(*(np.shape(v) for v in values))
    except ValueError:
        raise fail(argument, "parameters must have one common (broadcastable) shape") from None


def _require(cond: Any, argument: str, rule: str) -> None:
    if not np.all(cond):
        raise fail(argument, rule)


def normal(mean: Any, sd: Any, dof: Any = None) -> InputQuantity:
    """Gaussian input ``N(mean, sd^2)`` (JCGM 101 6.4.7): an estimate with its standard uncertainty.

    Parameters
    ----------
    mean : float or array
        Best estimate.
    sd : float or array
        Standard uncertainty, > 0.
    dof : float or None
        Degrees of freedom of ``sd`` (None: infinite).

    References
    ----------
    JCGM 100:2008 4.3.6; JCGM 101:2008 6.4.7.
    """
    m = _param(mean, "mean")
    s = _param(sd, "sd")
    _require(np.asarray(s) > 0, "sd", "must be > 0 (a standard uncertainty)")
    d = _dof(dof)
    _common_shape("normal", m, s, d)
    return InputQuantity("normal", m, s, d, (("mean", m), ("sd", s)))


def rectangular(low: Any, high: Any) -> InputQuantity:
    """Rectangular input on ``[low, high]``: ``u = (high - low) / sqrt(12)``.

    References
    ----------
    JCGM 100:2008 4.3.7; JCGM 101:2008 6.4.2.
    """
    a = _param(low, "low")
    b = _param(high, "high")
    _require(np.asarray(b) > np.asarray(a), "high", "must be > low")
    _common_shape("rectangular", a, b)
    return InputQuantity("rectangular", (a + b) / 2, (b - a) / math.sqrt(12), math.inf, (("low", a), ("high", b)))


def triangular(low: Any, mode: Any, high: Any) -> InputQuantity:
    """Triangular input on ``[low, high]`` with its peak at ``mode`` (JCGM 101 6.4.5).

    The estimate is the expectation ``(low + mode + high) / 3``.

    References
    ----------
    JCGM 100:2008 4.3.9; JCGM 101:2008 6.4.5.
    """
    a = _param(low, "low")
    c = _param(mode, "mode")
    b = _param(high, "high")
    _require(np.asarray(b) > np.asarray(a), "high", "must be > low")
    _require((np.asarray(c) >= np.asarray(a)) & (np.asarray(c) <= np.asarray(b)), "mode", "must lie in [low, high]")
    _common_shape("triangular", a, b, c)
    var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
    return InputQuantity("triangular", (a + b + c) / 3, np.sqrt(var) if np.ndim(var) else math.sqrt(var),
                         math.inf, (("low", a), ("mode", c), ("high", b)))


def arcsine(low: Any, high: Any) -> InputQuantity:
    """Arc sine (U-shaped) input on ``[low, high]``: ``u = (high - low) / (2 sqrt 2)`` (JCGM 101 6.4.6)."""
    a = _param(low, "low")
    b = _param(high, "high")
    _require(np.asarray(b) > np.asarray(a), "high", "must be > low")
    _common_shape("arcsine", a, b)
    return InputQuantity("arcsine", (a + b) / 2, (b - a) / (2 * math.sqrt(2)), math.inf, (("low", a), ("high", b)))


def student_t(loc: Any, scale: Any, dof: Any) -> InputQuantity:
    """Scaled and shifted t input ``t_nu(loc, scale^2)`` (JCGM 101 6.4.9).

    Its standard uncertainty is ``scale sqrt(nu / (nu - 2))``, infinite for ``nu <= 2``
    (usable by Monte Carlo, refused by the GUM framework).
    """
    m = _param(loc, "loc")
    s = _param(scale, "scale")
    _require(np.asarray(s) > 0, "scale", "must be > 0")
    nu = _dof(dof)
    _common_shape("student_t", m, s, nu)
    nu_a = np.asarray(nu, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(nu_a > 2, np.sqrt(nu_a / np.where(nu_a > 2, nu_a - 2, 1.0)), np.inf)
    factor = np.where(np.isinf(nu_a), 1.0, factor)
    u = s * factor
    u = float(u) if np.ndim(u) == 0 else u
    return InputQuantity("student_t", m, u, nu, (("loc", m), ("scale", s), ("dof", nu)))


def trapezoidal(low: Any, high: Any, beta: Any) -> InputQuantity:
    """Symmetric trapezoidal input on ``[low, high]``; ``beta`` is the ratio of the top width to the
    base width (``beta = 0`` triangular, ``beta = 1`` rectangular). ``u^2 = (b-a)^2 (1+beta^2) / 24``.

    References
    ----------
    JCGM 101:2008 6.4.4.
    """
    a = _param(low, "low")
    b = _param(high, "high")
    be = _param(beta, "beta")
    _require(np.asarray(b) > np.asarray(a), "high", "must be > low")
    _require((np.asarray(be) >= 0) & (np.asarray(be) <= 1), "beta", "must lie in [0, 1]")
    _common_shape("trapezoidal", a, b, be)
    u = (b - a) * np.sqrt((1 + be * be) / 24)
    u = float(u) if np.ndim(u) == 0 else u
    return InputQuantity("trapezoidal", (a + b) / 2, u, math.inf, (("low", a), ("high", b), ("beta", be)))


def curvilinear_trapezoid(low: Any, high: Any, d: Any) -> InputQuantity:
    """Rectangular input whose limits are known only to within ``± d`` (JCGM 101 6.4.3):
    ``u^2 = (b - a)^2 / 12 + d^2 / 9``.
    """
    a = _param(low, "low")
    b = _param(high, "high")
    dd = _param(d, "d")
    _require(np.asarray(b) > np.asarray(a), "high", "must be > low")
    _require(np.asarray(dd) > 0, "d", "must be > 0")
    _require(np.asarray(dd) <= (np.asarray(b) - np.asarray(a)) / 2, "d", "must be <= (high - low) / 2")
    _common_shape("curvilinear_trapezoid", a, b, dd)
    u = np.sqrt((b - a) ** 2 / 12 + dd * dd / 9)
    u = float(u) if np.ndim(u) == 0 else u
    return InputQuantity("curvilinear_trapezoid", (a + b) / 2, u, math.inf, (("low", a), ("high", b), ("d", dd)))


def type_a(observations: Any) -> InputQuantity:
    """Type A evaluation from repeated independent observations (JCGM 100 4.2).

    Estimate: the arithmetic mean; standard uncertainty: ``s / sqrt(n)``; ``dof = n - 1``.
    Monte Carlo samples the scaled and shifted t distribution of JCGM 101 6.4.9.7.
    The sample standard deviation is computed two-pass (deviations from the mean).
    """
    obs = as_array(observations, "observations", ndim=1, min_size=2)
    n = obs.size
    mean = float(np.mean(obs))
    dev = obs - mean
    mean += float(np.mean(dev))
    dev = obs - mean
    s = float(np.sqrt(np.dot(dev, dev) / (n - 1)))
    if s == 0.0:
        raise fail("observations", "must not all be equal: zero spread gives no Type A uncertainty")
    return InputQuantity("type_a", mean, s / math.sqrt(n), float(n - 1),
                         (("n", n), ("s", s), ("observations", obs)))
