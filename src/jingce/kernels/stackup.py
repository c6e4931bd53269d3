"""Tolerance stack-up and variation propagation along a linear chain of dimensions.

The assembly response is ``y = Σ a_i x_i`` (a_i: sensitivities, +1/-1 for a simple loop diagram,
other values for a linearised chain). Each dimension is given as a nominal with signed upper and
lower deviations (10 +0.1/-0.2 is ``upper=0.1``, ``lower=-0.2``); unequal bilateral limits are centred
first (mean = nominal + (upper + lower)/2, half tolerance t = (upper - lower)/2), as the Drake handbook
does before any stack method.

Methods
-------
worst case      ``T_wc = Σ |a_i| t_i``
RSS             ``T_rss = sqrt(Σ (a_i t_i)²)``
modified RSS    ``T_mrss = C_f T_rss``, ``C_f = 0.5 (T_wc - T_rss) / (T_rss (sqrt(n) - 1)) + 1`` (Drake,
                chapter 9; n counts the toleranced inputs), or a fixed factor (e.g. Bender's 1.5); capped
                at T_wc (for equal tolerances Drake's C_f is 1.5 for every n, which exceeds the worst
                case when n = 2)
statistical     ``μ_y = Σ a_i μ_i``, ``σ_y = sqrt(Σ a_i² σ_i²)`` from each input's distribution, or from
                measured mean and standard deviation of the supplier's characteristic
Monte Carlo     sampled from any input distribution (normal, uniform, triangular or any scipy.stats
                frozen distribution), seeded by the caller's generator
exact uniform   the distribution of a sum of independent uniforms, piecewise polynomial (2^n terms,
                evaluated in exact rational arithmetic at the specification limits): short chains only

References
----------
.. [1] P. J. Drake Jr. (ed.), Dimensioning and Tolerancing Handbook, McGraw-Hill 1999, chapter 9
       "Traditional approaches to analyzing mechanical tolerance stacks" (loop diagram, centring of
       unequal bilateral tolerances, worst case, RSS, modified RSS with its correction factor,
       estimated mean shift).
.. [2] A. Bender, "Statistical tolerancing as it relates to quality control and the designer",
       SAE Technical Paper 680490, 1968 (the 1.5 inflation factor).
.. [3] W. Feller, An Introduction to Probability Theory and Its Applications, Vol. II, 2nd ed.,
       Wiley 1971, I.9 (distribution of a sum of uniform variables).
.. [4] ISO 22514-2:2017, process capability indices Cp, Cpk of a normal process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np
from scipy import special

from jingce.kernels._validation import as_array, as_float, as_int, fail, spec_limits, warn

__all__ = ["ExactUniformStackup", "MonteCarloStackup", "StackupResult", "analyze", "uniform_sum_cdf"]

EXACT_UNIFORM_MAX_TERMS = 16
_SHAPES = ("normal", "uniform", "triangular")


@dataclass(frozen=True, slots=True)
class MonteCarloStackup:
    """Monte Carlo result of a stack.

    Attributes
    ----------
    n : int
        Number of trials.
    mean, sd : float
        Sample mean and standard deviation of the response.
    minimum, maximum : float
    quantiles : ndarray, shape (5,)
        Response quantiles at probabilities ``quantile_levels``.
    quantile_levels : ndarray
        0.00135, 0.025, 0.5, 0.975, 0.99865.
    p_below, p_above, p_out_of_spec : float
        Fractions of trials below LSL, above USL, outside (NaN without limits).
    histogram_counts, histogram_edges : ndarray
        60-bin histogram of the response (for the picture).
    """

    n: int
    mean: float
    sd: float
    minimum: float
    maximum: float
    quantiles: np.ndarray
    quantile_levels: np.ndarray
    p_below: float
    p_above: float
    p_out_of_spec: float
    histogram_counts: np.ndarray
    histogram_edges: np.ndarray


@dataclass(frozen=True, slots=True)
class ExactUniformStackup:
    """Exact distribution of the response when every input is uniform over its tolerance zone.

    Attributes
    ----------
    lower, upper : float
        Support of the response.
    p_below, p_above, p_out_of_spec : float
        Exact probabilities (NaN without limits).
    quantiles, quantile_levels : ndarray
        Quantiles at 0.00135, 0.025, 0.5, 0.975, 0.99865.
    grid, pdf : ndarray
        The density on 201 points of the support (for the picture).
    """

    lower: float
    upper: float
    p_below: float
    p_above: float
    p_out_of_spec: float
    quantiles: np.ndarray
    quantile_levels: np.ndarray
    grid: np.ndarray
    pdf: np.ndarray


@dataclass(frozen=True, slots=True)
class StackupResult:
    """Result of :func:`analyze`.

    Attributes
    ----------
    nominal : float
        ``Σ a_i n_i`` from the nominal dimensions.
    mean : float
        Centred response ``Σ a_i (n_i + (upper_i + lower_i)/2)`` (the worst-case/RSS centre).
    half_tolerances : ndarray
        ``t_i = (upper_i - lower_i)/2`` of each input.
    sensitivities : ndarray
    worst_case, rss, mrss : float
        Half-widths (±) of the response by each method.
    mrss_factor : float
        ``C_f`` used for the modified RSS (capped so that the MRSS never exceeds the worst case).
    worst_case_limits, rss_limits, mrss_limits : tuple of float
        ``(mean - T, mean + T)``.
    wc_contributions, rss_contributions : ndarray
        Percent contribution of each input to T_wc (``|a_i| t_i / T_wc``) and to T_rss² (``(a_i t_i)² / T_rss²``).
    input_means, input_sds : ndarray
        Mean and standard deviation of each input used for the statistical prediction.
    predicted_mean, predicted_sd : float
        ``μ_y = Σ a_i μ_i``, ``σ_y = sqrt(Σ a_i² σ_i²)``.
    variance_contributions : ndarray
        Percent of σ_y² from each input (``a_i² σ_i² / σ_y²``).
    lsl, usl : float or None
        Specification limits of the response.
    cp, cpk : float
        Predicted capability of the response from μ_y and σ_y (NaN when a limit is missing for Cp).
    p_out_of_spec : float
        Normal prediction of the fraction outside the limits (NaN without limits).
    monte_carlo : MonteCarloStackup or None
    exact_uniform : ExactUniformStackup or None
    names : tuple of str
    """

    nominal: float
    mean: float
    half_tolerances: np.ndarray
    sensitivities: np.ndarray
    worst_case: float
    rss: float
    mrss: float
    mrss_factor: float
    worst_case_limits: tuple[float, float]
    rss_limits: tuple[float, float]
    mrss_limits: tuple[float, float]
    wc_contributions: np.ndarray
    rss_contributions: np.ndarray
    input_means: np.ndarray
    input_sds: np.ndarray
    predicted_mean: float
    predicted_sd: float
    variance_contributions: np.ndarray
    lsl: float | None
    usl: float | None
    cp: float
    cpk: float
    p_out_of_spec: float
    monte_carlo: MonteCarloStackup | None
    exact_uniform: ExactUniformStackup | None
    names: tuple[str, ...]


def _analyze_iv(nominals, upper, lower, sensitivities, distributions, means, sds, sigma_level, lsl, usl,
                mrss_factor, n_monte_carlo, rng, exact_uniform, names):
    nom = as_array(nominals, "nominals", ndim=1, min_size=1)
    n = nom.size
    up = as_array(upper, "upper_deviations", ndim=1)
    lo = as_array(lower, "lower_deviations", ndim=1)
    for arr, arg in ((up, "upper_deviations"), (lo, "lower_deviations")):
        if arr.size != n:
            raise fail(arg, f"must have one value per dimension ({n}), got {arr.size}")
    bad = np.flatnonzero(up < lo)
    if bad.size:
        i = int(bad[0])
        raise fail("upper_deviations", f"must be >= lower_deviations (signed deviations, e.g. +0.1/-0.2); index {i} has upper {up[i]} < lower {lo[i]}")
    if sensitivities is None:
        a = np.ones(n)
    else:
        a = as_array(sensitivities, "sensitivities", ndim=1)
        if a.size != n:
            raise fail("sensitivities", f"must have one value per dimension ({n}), got {a.size}")
    sigma_level = as_float(sigma_level, "sigma_level", positive=True)
    dists = _dists_iv(distributions, n)
    mu = _measured_iv(means, "means", n)
    sd = _measured_iv(sds, "sds", n)
    if np.any(sd[np.isfinite(sd)] < 0):
        raise fail("sds", "must be >= 0")
    lsl, usl = spec_limits(lsl, usl, require_one=False)
    if mrss_factor is not None:
        mrss_factor = as_float(mrss_factor, "mrss_factor", lo=1.0)
    n_mc = as_int(n_monte_carlo, "n_monte_carlo", lo=0, hi=50_000_000)
    if n_mc and not isinstance(rng, np.random.Generator):
        raise fail("rng", "must be a numpy.random.Generator when n_monte_carlo > 0 (e.g. numpy.random.default_rng(seed))")
    if exact_uniform not in ("auto", True, False):
        raise fail("exact_uniform", f"must be 'auto', True or False, got {exact_uniform!r}")
    if names is None:
        names = tuple(f"x{i + 1}" for i in range(n))
    else:
        names = tuple(str(x) for x in names)
        if len(names) != n:
            raise fail("names", f"must have one name per dimension ({n}), got {len(names)}")
    return nom, up, lo, a, dists, mu, sd, sigma_level, lsl, usl, mrss_factor, n_mc, exact_uniform, names


def _dists_iv(distributions, n):
    if distributions is None:
        return ["normal"] * n
    if isinstance(distributions, str):
        distributions = [distributions] * n
    dists = list(distributions)
    if len(dists) != n:
        raise fail("distributions", f"must have one entry per dimension ({n}), got {len(dists)}")
    out = []
    for i, d in enumerate(dists):
        if d is None:
            out.append("normal")
        elif isinstance(d, str):
            if d not in _SHAPES:
                raise fail("distributions", f"entry {i} must be one of {_SHAPES} or a scipy.stats frozen distribution, got {d!r}")
            out.append(d)
        elif hasattr(d, "rvs") and hasattr(d, "mean") and hasattr(d, "std"):
            out.append(d)
        else:
            raise fail("distributions", f"entry {i} must be one of {_SHAPES} or a scipy.stats frozen distribution, got {d!r}")
    return out


def _measured_iv(x, argument, n):
    if x is None:
        return np.full(n, np.nan)
    arr = as_array(x, argument, ndim=1, finite=False)
    if arr.size != n:
        raise fail(argument, f"must have one value per dimension ({n}) (NaN where not measured), got {arr.size}")
    if np.any(np.isinf(arr)):
        raise fail(argument, "must be finite or NaN (not measured)")
    return arr


def analyze(
    nominals,
    upper_deviations,
    lower_deviations,
    sensitivities=None,
    *,
    distributions=None,
    means=None,
    sds=None,
    sigma_level: float = 3.0,
    lsl: float | None = None,
    usl: float | None = None,
    mrss_factor: float | None = None,
    n_monte_carlo: int = 0,
    rng: np.random.Generator | None = None,
    exact_uniform="auto",
    names=None,
) -> StackupResult:
    """Stack up a chain of dimensions: worst case, RSS, modified RSS, statistical, Monte Carlo, exact.

    Parameters
    ----------
    nominals : array_like, shape (n,)
        Nominal dimensions n_i (as drawn, positive; the direction goes into ``sensitivities``).
    upper_deviations, lower_deviations : array_like, shape (n,)
        Signed deviations: the limits are ``n_i + lower_i .. n_i + upper_i`` (``upper >= lower``).
    sensitivities : array_like, shape (n,), optional
        a_i = ∂y/∂x_i; +1/-1 following the loop diagram. Default all +1.
    distributions : sequence, optional
        Per input: ``"normal"`` (default; σ = t_i / ``sigma_level``, centred), ``"uniform"`` (over the
        tolerance zone), ``"triangular"`` (symmetric over the zone), or a scipy.stats frozen
        distribution of the dimension's value (its mean and standard deviation are used by the
        statistical prediction and it is sampled by the Monte Carlo).
    means, sds : array_like, shape (n,), optional
        Measured mean and standard deviation of each input (e.g. a supplier characteristic's process
        data from the store); NaN where not measured. They override the distribution's mean/σ, and a
        measured input is sampled as normal(mean, sd) in the Monte Carlo unless a frozen
        distribution was given for it.
    sigma_level : float
        Number of standard deviations in a half tolerance for normal inputs (3: the tolerance is ±3σ).
    lsl, usl : float, optional
        Specification limits of the response (assembly requirement), for capability and out-of-spec.
    mrss_factor : float, optional
        Fixed MRSS factor (e.g. 1.5); default Drake's C_f from T_wc, T_rss and n.
    n_monte_carlo : int
        Number of Monte Carlo trials (0 skips it); needs ``rng``.
    rng : numpy.random.Generator, optional
    exact_uniform : {"auto", True, False}
        ``"auto"``: the exact distribution when every input is ``"uniform"`` and the chain has at most
        16 inputs of nonzero width; True: treat every input as uniform over its tolerance zone (error
        for longer chains); False: skip.
    names : sequence of str, optional

    Returns
    -------
    StackupResult

    References
    ----------
    .. [1] Drake, Dimensioning and Tolerancing Handbook, 1999, chapter 9.
    .. [2] Feller, vol. II, I.9 (sum of uniforms).
    """
    (nom, up, lo, a, dists, mu_meas, sd_meas, sigma_level, lsl, usl, mrss_factor, n_mc, exact_uniform,
     names) = _analyze_iv(nominals, upper_deviations, lower_deviations, sensitivities, distributions, means,
                          sds, sigma_level, lsl, usl, mrss_factor, n_monte_carlo, rng, exact_uniform, names)
    n = nom.size
    mid = nom + 0.5 * (up + lo)
    t = 0.5 * (up - lo)
    nominal = float(np.dot(a, nom))
    mean = float(np.dot(a, mid))
    at = np.abs(a) * t
    wc = float(at.sum())
    rss = float(math.sqrt(math.fsum(at * at)))
    if mrss_factor is None:
        m = int(np.count_nonzero(at))
        cf = 1.0 if m <= 1 or rss == 0.0 else 0.5 * (wc - rss) / (rss * (math.sqrt(m) - 1.0)) + 1.0
    else:
        cf = mrss_factor
    if rss > 0 and cf * rss > wc:
        # A statistical width beyond the worst case means nothing; Drake's factor is 1.5 for equal
        # tolerances, which exceeds the worst case for two contributors (1.5·sqrt(2) > 2).
        cf = wc / rss
    mrss = cf * rss
    with np.errstate(invalid="ignore", divide="ignore"):
        wc_contrib = np.where(wc > 0, 100.0 * at / wc, np.nan)
        rss_contrib = np.where(rss > 0, 100.0 * at * at / (rss * rss), np.nan)

    in_mean = np.empty(n)
    in_sd = np.empty(n)
    for i, d in enumerate(dists):
        if isinstance(d, str):
            in_mean[i] = mid[i]
            in_sd[i] = {"normal": t[i] / sigma_level, "uniform": t[i] / math.sqrt(3.0),
                        "triangular": t[i] / math.sqrt(6.0)}[d]
        else:
            in_mean[i] = float(d.mean())
            in_sd[i] = float(d.std())
    measured_mu = np.isfinite(mu_meas)
    measured_sd = np.isfinite(sd_meas)
    in_mean[measured_mu] = mu_meas[measured_mu]
    in_sd[measured_sd] = sd_meas[measured_sd]
    mu_y = float(np.dot(a, in_mean))
    var_terms = (a * in_sd) ** 2
    var_y = math.fsum(var_terms)
    sd_y = math.sqrt(var_y)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_contrib = np.where(var_y > 0, 100.0 * var_terms / var_y, np.nan)

    cp, cpk, p_out = _capability(mu_y, sd_y, lsl, usl)

    mc = None
    if n_mc:
        mc = _monte_carlo(a, dists, mid, t, in_mean, in_sd, measured_mu | measured_sd, sigma_level, lsl, usl, n_mc, rng)

    ex = None
    all_uniform = all(isinstance(d, str) and d == "uniform" for d in dists)
    if exact_uniform is True or (exact_uniform == "auto" and all_uniform):
        widths = 2.0 * at
        if int(np.count_nonzero(widths)) > EXACT_UNIFORM_MAX_TERMS:
            if exact_uniform is True:
                raise fail("exact_uniform", f"is for short chains (at most {EXACT_UNIFORM_MAX_TERMS} toleranced inputs); use the Monte Carlo")
        else:
            ex = _exact_uniform(mean, widths, lsl, usl)

    for arr in (t, a, wc_contrib, rss_contrib, in_mean, in_sd, var_contrib):
        arr.setflags(write=False)
    return StackupResult(
        nominal=nominal,
        mean=mean,
        half_tolerances=t,
        sensitivities=a,
        worst_case=wc,
        rss=rss,
        mrss=mrss,
        mrss_factor=cf,
        worst_case_limits=(mean - wc, mean + wc),
        rss_limits=(mean - rss, mean + rss),
        mrss_limits=(mean - mrss, mean + mrss),
        wc_contributions=wc_contrib,
        rss_contributions=rss_contrib,
        input_means=in_mean,
        input_sds=in_sd,
        predicted_mean=mu_y,
        predicted_sd=sd_y,
        variance_contributions=var_contrib,
        lsl=lsl,
        usl=usl,
        cp=cp,
        cpk=cpk,
        p_out_of_spec=p_out,
        monte_carlo=mc,
        exact_uniform=ex,
        names=names,
    )


def _capability(mu, sd, lsl, usl):
    if lsl is None and usl is None:
        return float("nan"), float("nan"), float("nan")
    if sd == 0.0:
        warn("the predicted standard deviation of the response is zero: capability is infinite")
        inside = (lsl is None or mu >= lsl) and (usl is None or mu <= usl)
        return (float("inf"), float("inf") if inside else float("-inf"), 0.0 if inside else 1.0)
    cp = (usl - lsl) / (6.0 * sd) if lsl is not None and usl is not None else float("nan")
    sides = []
    p = 0.0
    if usl is not None:
        sides.append((usl - mu) / (3.0 * sd))
        p += float(special.ndtr(-(usl - mu) / sd))
    if lsl is not None:
        sides.append((mu - lsl) / (3.0 * sd))
        p += float(special.ndtr(-(mu - lsl) / sd))
    return float(cp), float(min(sides)), p


_LEVELS = np.array([0.00135, 0.025, 0.5, 0.975, 0.99865])


def _monte_carlo(a, dists, mid, t, in_mean, in_sd, measured, sigma_level, lsl, usl, n_mc, rng):
    y = np.zeros(n_mc)
    for i, d in enumerate(dists):
        if a[i] == 0.0:
            continue
        if not isinstance(d, str):
            x = np.asarray(d.rvs(size=n_mc, random_state=rng), dtype=np.float64)
        elif measured[i] or d == "normal":
            x = rng.normal(in_mean[i], in_sd[i], size=n_mc)
        elif d == "uniform":
            x = rng.uniform(mid[i] - t[i], mid[i] + t[i], size=n_mc)
        else:
            x = rng.triangular(mid[i] - t[i], mid[i], mid[i] + t[i], size=n_mc) if t[i] > 0 else np.full(n_mc, mid[i])
        y += a[i] * x
    mean = float(y.mean())
    sd = float(np.sqrt(np.mean((y - mean) ** 2) * n_mc / (n_mc - 1))) if n_mc > 1 else float("nan")
    below = float(np.mean(y < lsl)) if lsl is not None else float("nan")
    above = float(np.mean(y > usl)) if usl is not None else float("nan")
    out = float(np.nansum([below, above])) if (lsl is not None or usl is not None) else float("nan")
    counts, edges = np.histogram(y, bins=60)
    q = np.quantile(y, _LEVELS)
    for arr in (q, counts, edges):
        arr.setflags(write=False)
    return MonteCarloStackup(n_mc, mean, sd, float(y.min()), float(y.max()), q, _LEVELS.copy(), below, above, out,
                             counts, edges)


def uniform_sum_cdf(y: float, lower: float, widths) -> float:
    """Exact CDF of ``lower + Σ W_i``, ``W_i ~ U(0, w_i)`` independent, evaluated in rational arithmetic.

    ``F(y) = Σ_S (-1)^|S| (y - lower - Σ_{i∈S} w_i)_+^n / (n! Π w_i)`` over all subsets S (2^n terms).

    References
    ----------
    .. [1] Feller, vol. II, 2nd ed., I.9, theorem 1 (and problem 20).
    """
    w = [Fraction(float(x)) for x in np.asarray(widths, dtype=np.float64) if x > 0]
    n = len(w)
    z = Fraction(float(y)) - Fraction(float(lower))
    if n == 0:
        return 1.0 if z >= 0 else 0.0
    total = sum(w, Fraction(0))
    if z <= 0:
        return 0.0
    if z >= total:
        return 1.0
    acc = Fraction(0)
    for k in range(n + 1):
        sign = -1 if k % 2 else 1
        for subset in combinations(w, k):
            r = z - sum(subset, Fraction(0))
            if r > 0:
                acc += sign * r**n
    denom = math.factorial(n)
    for x in w:
        denom *= x
    return float(acc / denom)


def _subset_sums(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums and signs (-1)^|S| over all subsets S of the widths (2^n entries)."""
    sums = np.zeros(1)
    signs = np.ones(1)
    for x in w:
        sums = np.concatenate([sums, sums + x])
        signs = np.concatenate([signs, -signs])
    return sums, signs


def _uniform_sum_float(y: np.ndarray, lower: float, w: np.ndarray, power_drop: int) -> np.ndarray:
    """CDF (power_drop=0) or pdf (power_drop=1) of the sum of uniforms in floating point (plots, quantiles)."""
    n = w.size
    p = n - power_drop
    sums, signs = _subset_sums(w)
    r = (np.asarray(y, dtype=np.float64) - lower)[..., None] - sums
    acc = np.sum(signs * np.where(r > 0, r, 0.0) ** p, axis=-1)
    return acc / (math.factorial(p) * float(np.prod(w)))


def _exact_uniform(mean: float, widths: np.ndarray, lsl, usl) -> ExactUniformStackup:
    w = widths[widths > 0]
    lower = mean - 0.5 * float(w.sum())
    upper = mean + 0.5 * float(w.sum())
    below = uniform_sum_cdf(lsl, lower, w) if lsl is not None else float("nan")
    above = 1.0 - uniform_sum_cdf(usl, lower, w) if usl is not None else float("nan")
    out = float(np.nansum([below, above])) if (lsl is not None or usl is not None) else float("nan")
    grid = np.linspace(lower, upper, 201)
    if w.size:
        pdf = np.clip(_uniform_sum_float(grid, lower, w, 1), 0.0, None) if w.size > 1 else np.full(grid.size, 1.0 / w[0])
        quantiles = _bisect_quantiles(_LEVELS, lower, upper, w)
    else:
        pdf = np.zeros(grid.size)
        quantiles = np.full(_LEVELS.size, mean)
    for arr in (grid, pdf, quantiles):
        arr.setflags(write=False)
    return ExactUniformStackup(lower, upper, below, above, out, quantiles, _LEVELS.copy(), grid, pdf)


def _bisect_quantiles(levels: np.ndarray, lo: float, hi: float, w: np.ndarray) -> np.ndarray:
    a = np.full(levels.size, lo)
    b = np.full(levels.size, hi)
    for _ in range(60):
        m = 0.5 * (a + b)
        below = _uniform_sum_float(m, lo, w, 0) < levels
        a = np.where(below, m, a)
        b = np.where(below, b, m)
    return 0.5 * (a + b)
