"""The GUM uncertainty framework: the law of propagation of uncertainty.

References
----------
.. [1] JCGM 100:2008 (GUM): 5.1.2 eq. (10) and its note (second-order terms), 5.1.3
       (sensitivity coefficients), 5.2.2 eq. (13) (correlated inputs), 5.2.3 eq. (17)
       (correlation from simultaneous observations), 6.2-6.3 and G.4 (Welch-Satterthwaite,
       coverage factor), H.2 (several measurands and their covariance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jingce.kernels._validation import as_array, as_probability, fail, warn
from jingce.kernels.uncertainty._model import Model, build_model, check_inputs
from jingce.kernels.uncertainty._model import coverage_factor as _k_from_nu
from jingce.kernels.uncertainty.distributions import InputQuantity

__all__ = ["GumResult", "gum", "correlation_matrix", "observed_correlation"]

# Relative step (in units of each input's standard uncertainty) for first derivatives (5-point
# stencil) and for the higher derivatives of the second-order terms.
_H1 = 1e-2
_H2 = 0.1


@dataclass(frozen=True, slots=True)
class GumResult:
    """Result of :func:`gum`.

    With a single output the per-output fields are scalars (or arrays of the bulk shape); with
    ``q`` outputs they have a leading axis of length ``q``. Budget fields have an input axis
    (``sensitivity[..., i, ...]`` belongs to ``input_names[i]``).

    Attributes
    ----------
    output_names, input_names : tuple of str
    y : estimate ``f(x)`` of each output
    u : combined standard uncertainty ``u_c(y)`` (with second-order terms when requested)
    u_first_order : ``u_c(y)`` from the first-order law of propagation
    nu_eff : effective degrees of freedom (Welch-Satterthwaite, GUM G.4); NaN when invalid
    k, U : coverage factor and expanded uncertainty ``U = k u``
    coverage_probability : p
    interval_low, interval_high : ``y -/+ U``
    covariance, correlation : of the outputs, shape ``(q, q, ...)``
    x, u_x, dof : input estimates, standard uncertainties and degrees of freedom
    distribution : kind of each input
    sensitivity : ``c_i = df/dx_i``
    contribution : ``u_i(y) = c_i u(x_i)``
    index : share of ``u_c^2`` from each input, ``c_i sum_j c_j u(x_i, x_j) / u_c^2`` (sums to 1)
    second_order : whether the GUM 5.1.2 note terms are included
    welch_satterthwaite_valid : False when correlated inputs with finite dof make eq. G.2b invalid
    """

    output_names: tuple[str, ...]
    input_names: tuple[str, ...]
    y: Any
    u: Any
    u_first_order: Any
    nu_eff: Any
    k: Any
    U: Any
    coverage_probability: float
    interval_low: Any
    interval_high: Any
    covariance: np.ndarray
    correlation: np.ndarray
    x: np.ndarray
    u_x: np.ndarray
    dof: np.ndarray
    distribution: tuple[str, ...]
    sensitivity: Any
    contribution: Any
    index: Any
    second_order: bool
    welch_satterthwaite_valid: bool

    def budget(self, output: int | str = 0) -> list[dict[str, Any]]:
        """The uncertainty budget of one output as rows (input, estimate, u, distribution, dof,
        sensitivity, contribution, index) - for a report table (scalar inputs only)."""
        j = self.output_names.index(output) if isinstance(output, str) else output
        multi = len(self.output_names) > 1
        rows = []
        for i, name in enumerate(self.input_names):
            c = self.sensitivity[j, i] if multi else self.sensitivity[i]
            rows.append(
                {
                    "input": name,
                    "estimate": float(self.x[i]),
                    "u": float(self.u_x[i]),
                    "distribution": self.distribution[i],
                    "dof": float(self.dof[i]),
                    "sensitivity": float(c),
                    "contribution": float(self.contribution[j, i] if multi else self.contribution[i]),
                    "index": float(self.index[j, i] if multi else self.index[i]),
                }
            )
        return rows


def correlation_matrix(correlation: Any, names: Sequence[str], argument: str = "correlation") -> np.ndarray:
    """Normalise ``correlation`` to a symmetric ``(n, n)`` matrix in the order of ``names``.

    Accepts ``None`` (identity), a square array, or a mapping ``{(a, b): r}`` / ``{"a,b": r}``.
    Refuses asymmetric, out-of-range and non positive semi-definite matrices.
    """
    n = len(names)
    if correlation is None:
        return np.eye(n)
    if isinstance(correlation, Mapping):
        r = np.eye(n)
        index = {name: i for i, name in enumerate(names)}
        for key, value in correlation.items():
            pair = tuple(s.strip() for s in key.replace(":", ",").split(",")) if isinstance(key, str) else tuple(key)
            if len(pair) != 2 or pair[0] not in index or pair[1] not in index:
                raise fail(argument, f"key {key!r} must name two input quantities ({', '.join(names)})")
            i, j = index[pair[0]], index[pair[1]]
            if i == j:
                raise fail(argument, f"key {key!r} pairs an input with itself")
            v = float(value)
            r[i, j] = r[j, i] = v
    else:
        r = as_array(correlation, argument, ndim=2)
        if r.shape != (n, n):
            raise fail(argument, f"must be a {n} x {n} matrix in the order of the inputs, got {r.shape}")
        if not np.allclose(r, r.T, atol=1e-12):
            raise fail(argument, "must be symmetric")
        if not np.allclose(np.diag(r), 1.0, atol=1e-12):
            raise fail(argument, "must have ones on the diagonal")
    if not np.all(np.isfinite(r)) or np.any(np.abs(r) > 1):
        raise fail(argument, "coefficients must lie in [-1, 1]")
    smallest = float(np.linalg.eigvalsh(r).min())
    if smallest < -1e-10:
        raise fail(argument, f"must be positive semi-definite (smallest eigenvalue {smallest:.3g})")
    return r


def observed_correlation(observations: Mapping[str, Any]) -> np.ndarray:
    """Correlation coefficients of input estimates that are means of simultaneous observations,
    ``r(q_bar, r_bar) = s(q_bar, r_bar) / (s(q_bar) s(r_bar))`` (GUM 5.2.3 eq. 17, C.3.6).

    Parameters
    ----------
    observations : mapping name -> 1-D array
        Observations of equal length, taken in pairs (or tuples).

    Returns
    -------
    ndarray, shape (n, n)
        In the order of the mapping.
    """
    if not isinstance(observations, Mapping) or len(observations) < 2:
        raise fail("observations", "must map at least two input names to their observations")
    arrays = [as_array(v, f"observations[{k}]", ndim=1, min_size=2) for k, v in observations.items()]
    m = arrays[0].size
    if any(a.size != m for a in arrays):
        raise fail("observations", "must all hold the same number of simultaneous observations")
    dev = np.vstack([a - a.mean() for a in arrays])
    cov = dev @ dev.T / (m - 1)
    sd = np.sqrt(np.diag(cov))
    if np.any(sd == 0):
        raise fail("observations", "must not be constant (zero spread)")
    return np.clip(cov / np.outer(sd, sd), -1.0, 1.0)


def _gum_iv(model: Any, inputs: Any, correlation: Any, coverage_probability: Any, coverage_factor_: Any,
            second_order: Any, output_names: Any) -> tuple[Model, dict[str, InputQuantity], np.ndarray, float,
                                                           float | None, tuple[int, ...]]:
    qs = check_inputs(inputs)
    for name, q in qs.items():
        if not np.all(np.isfinite(q.u)):
            raise fail(name, "has an infinite standard uncertainty (t distribution with dof <= 2); "
                             "use monte_carlo for it")
        if np.any(np.asarray(q.u) <= 0):
            raise fail(name, "must have a standard uncertainty > 0")
    try:
        shape = np.broadcast_shapes(*(np.shape(q.x) for q in qs.values()))
    except ValueError:
        raise fail("inputs", "array parameters of different inputs must have one common shape") from None
    p = as_probability(coverage_probability, "coverage_probability")
    k = None
    if coverage_factor_ is not None:
        k = float(coverage_factor_)
        if not math.isfinite(k) or k <= 0:
            raise fail("coverage_factor", f"must be a finite number > 0, got {coverage_factor_!r}")
    names = tuple(qs)
    r = correlation_matrix(correlation, names)
    if second_order and np.any(np.abs(r - np.eye(len(names))) > 0):
        raise fail("second_order", "terms of GUM 5.1.2 are defined for uncorrelated inputs only")
    m = build_model(model, qs, output_names)
    return m, qs, r, p, k, shape


def gum(
    model: Any,
    inputs: Mapping[str, InputQuantity],
    correlation: Any = None,
    *,
    coverage_probability: float = 0.95,
    coverage_factor: float | None = None,
    second_order: bool = False,
    output_names: Sequence[str] | None = None,
) -> GumResult:
    """Propagate standard uncertainties through ``model`` by the GUM law of propagation.

    Parameters
    ----------
    model : callable, str, list of str or mapping of str
        ``f(**inputs)`` working on numpy arrays (may return a tuple or dict for several outputs),
        or expression string(s) parsed by :func:`~jingce.kernels.uncertainty.parse_expression`.
    inputs : mapping str -> InputQuantity
        The model's arguments. Array parameters evaluate many independent measurements at once
        (one budget each), vectorised.
    correlation : None, (n, n) array or mapping {(a, b): r}
        Correlation coefficients of the inputs (GUM 5.2.2).
    coverage_probability : float
        p for the coverage factor (default 0.95).
    coverage_factor : float, optional
        Use this k instead of the one from ``nu_eff`` (e.g. the customary k = 2).
    second_order : bool
        Add the higher-order terms of GUM 5.1.2 note (uncorrelated inputs).
    output_names : sequence of str, optional

    Returns
    -------
    GumResult

    References
    ----------
    JCGM 100:2008 5.1.2, 5.1.3, 5.2.2, G.4; H.1 (end gauge), H.2 (several outputs), H.3.
    """
    m, qs, r, p, k_fixed, shape = _gum_iv(model, inputs, correlation, coverage_probability, coverage_factor,
                                          second_order, output_names)
    names = m.input_names
    n = len(names)
    x = np.stack([np.broadcast_to(np.asarray(qs[nm].x, float), shape) for nm in names])  # (n, *S)
    u = np.stack([np.broadcast_to(np.asarray(qs[nm].u, float), shape) for nm in names])
    dof = np.stack([np.broadcast_to(np.asarray(qs[nm].dof, float), shape) for nm in names])

    # First-order stencil: centre, then +-1, +-2 steps along each axis.
    steps1 = [np.zeros(n)]
    for i in range(n):
        for s in (1.0, -1.0, 2.0, -2.0):
            e = np.zeros(n)
            e[i] = s
            steps1.append(e)
    h1 = _H1 * u
    f1 = _evaluate(m, x, h1, np.array(steps1), shape)  # (q, P, *S)
    y = f1[:, 0]
    if not np.all(np.isfinite(y)):
        raise fail("model", "returned NaN or infinity at the input estimates")
    fp1, fm1, fp2, fm2 = (f1[:, 1 + 4 * np.arange(n) + j] for j in range(4))  # (q, n, *S)
    c = (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * h1[None])  # (q, n, *S)
    if not np.all(np.isfinite(c)):
        raise fail("model", "has a non-finite derivative at the input estimates")

    # Input covariance u(x_i, x_j) = u_i r_ij u_j and output covariance c U_x c^T.
    cu = c * u[None]  # (q, n, *S)
    if np.array_equal(r, np.eye(n)):
        cov = np.einsum("in...,jn...->ij...", cu, cu)  # (q, q, *S)
        cu_share = cu * cu
    else:
        rr = r.reshape(n, n, *([1] * len(shape)))
        cov = np.einsum("in...,nm...,jm...->ij...", cu, rr, cu)
        cu_share = np.einsum("in...,nm...,im...->in...", cu, rr, cu)  # c_i sum_j c_j u_ij
    var1 = np.einsum("ii...->i...", cov).copy()
    var = var1.copy()

    if second_order:
        var = var + _second_order_terms(m, x, u, c, shape)
    u1 = np.sqrt(var1)
    uc = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = cu_share / var1[:, None]
        sd = np.sqrt(np.einsum("ii...->i...", cov))
        corr = cov / (sd[:, None] * sd[None, :])
    contribution = cu

    # Welch-Satterthwaite (G.2b), with the first-order contributions.
    off = np.abs(r - np.eye(n)) > 0
    finite_dof = np.array([bool(np.any(np.isfinite(dof[i]))) for i in range(n)])
    ws_valid = not bool(np.any(off & (finite_dof[:, None] | finite_dof[None, :])))
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.sum(np.where(np.isfinite(dof)[None], contribution**4 / dof[None], 0.0), axis=1)
        nu = np.where(denom > 0, var1 * var1 / np.where(denom > 0, denom, 1.0), np.inf)
    if not ws_valid:
        warn("Welch-Satterthwaite (GUM G.4) is not valid for correlated inputs with finite degrees of freedom; "
             "nu_eff is NaN and k is taken from the normal distribution")
        nu = np.full_like(nu, np.nan)
    if np.any(var1 == 0):
        warn("the model is insensitive to all inputs at the estimates (u_c = 0)")
    k = np.full_like(uc, k_fixed) if k_fixed is not None else _k_from_nu(nu, p)
    big_u = k * uc

    single = len(m.output_names) == 1
    sq = (lambda a: a[0]) if single else (lambda a: a)
    scal = _scalar if shape == () else (lambda a: a)
    return GumResult(
        output_names=m.output_names,
        input_names=names,
        y=scal(sq(y)),
        u=scal(sq(uc)),
        u_first_order=scal(sq(u1)),
        nu_eff=scal(sq(nu)),
        k=scal(sq(k)),
        U=scal(sq(big_u)),
        coverage_probability=p,
        interval_low=scal(sq(y - big_u)),
        interval_high=scal(sq(y + big_u)),
        covariance=cov,
        correlation=corr,
        x=x,
        u_x=u,
        dof=dof,
        distribution=tuple(qs[nm].kind for nm in names),
        sensitivity=sq(c),
        contribution=sq(contribution),
        index=sq(index),
        second_order=bool(second_order),
        welch_satterthwaite_valid=ws_valid,
    )


def _scalar(a: Any) -> Any:
    arr = np.asarray(a)
    return float(arr) if arr.ndim == 0 else arr


def _evaluate(m: Model, x: np.ndarray, h: np.ndarray, steps: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Evaluate the model at ``x + steps * h`` for every stencil row in one vectorised call."""
    p = steps.shape[0]
    tail = (1,) * len(shape)
    env = {}
    for i, name in enumerate(m.input_names):
        env[name] = x[i][None] + steps[:, i].reshape(p, *tail) * h[i][None]  # (P, *S)
    return m(env, (p, *shape))


def _second_order_terms(m: Model, x: np.ndarray, u: np.ndarray, c: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``sum_i sum_j [1/2 f_ij^2 + f_i f_ijj] u_i^2 u_j^2`` (GUM 5.1.2 note), by finite differences."""
    n = x.shape[0]
    rows = [np.zeros(n)]
    single: dict[tuple[int, float], int] = {}
    pair: dict[tuple[int, int, float, float], int] = {}
    for i in range(n):
        for s in (1.0, -1.0, 2.0, -2.0):
            e = np.zeros(n)
            e[i] = s
            single[(i, s)] = len(rows)
            rows.append(e)
    for i in range(n):
        for j in range(i + 1, n):
            for si in (1.0, -1.0):
                for sj in (1.0, -1.0):
                    e = np.zeros(n)
                    e[i] = si
                    e[j] = sj
                    pair[(i, j, si, sj)] = len(rows)
                    rows.append(e)
    h = _H2 * u
    f = _evaluate(m, x, h, np.array(rows), shape)  # (q, P, *S)
    f0 = f[:, 0]

    def fs(i: int, s: float) -> np.ndarray:
        return f[:, single[(i, s)]]

    def fp(i: int, j: int, si: float, sj: float) -> np.ndarray:
        if i < j:
            return f[:, pair[(i, j, si, sj)]]
        return f[:, pair[(j, i, sj, si)]]

    total = np.zeros_like(f0)
    for i in range(n):
        hi = h[i]
        f_ii = (-fs(i, 2) + 16 * fs(i, 1) - 30 * f0 + 16 * fs(i, -1) - fs(i, -2)) / (12 * hi * hi)
        f_iii = (fs(i, 2) - 2 * fs(i, 1) + 2 * fs(i, -1) - fs(i, -2)) / (2 * hi**3)
        total += (0.5 * f_ii**2 + c[:, i] * f_iii) * u[i] ** 4
        for j in range(n):
            if j == i:
                continue
            hj = h[j]
            f_ij = (fp(i, j, 1, 1) - fp(i, j, 1, -1) - fp(i, j, -1, 1) + fp(i, j, -1, -1)) / (4 * hi * hj)
            fjj_plus = (fp(i, j, 1, 1) - 2 * fs(i, 1) + fp(i, j, 1, -1)) / (hj * hj)
            fjj_minus = (fp(i, j, -1, 1) - 2 * fs(i, -1) + fp(i, j, -1, -1)) / (hj * hj)
            f_ijj = (fjj_plus - fjj_minus) / (2 * hi)
            total += (0.5 * f_ij**2 + c[:, i] * f_ijj) * u[i] ** 2 * u[j] ** 2
    return total
