"""Gage repeatability and reproducibility (Gage R&R) studies.

``grr_anova`` estimates the variance components of a crossed study (parts x appraisers x trials,
optionally x gages) or of a nested study (destructive tests: each appraiser measures their own parts)
by the analysis of variance (balanced data) or by restricted maximum likelihood (unbalanced data,
missing cells). ``grr_average_range`` is the AIAG average-and-range method with its K1, K2, K3.

Conventions (AIAG MSA, 4th ed., chapter III-B):

* EV (repeatability), AV (reproducibility: appraiser, and gage terms if present), INT (the
  part x appraiser interaction and other part interactions), GRR = sqrt(EV^2 + AV^2 + INT^2),
  PV (part variation), TV = sqrt(GRR^2 + PV^2) are standard deviations;
* %study variation = 100 * sd / TV, percent contribution = 100 * variance / TV^2, %tolerance =
  100 * k * sd / tolerance with ``k = 6`` (the 4th edition; the 3rd edition's 5.15 must be asked
  for explicitly), %process = 100 * sd / process_sigma;
* ndc = floor(1.41 * PV / GRR);
* the interaction is pooled into the repeatability when its p-value exceeds 0.25.

References
----------
.. [1] AIAG, *Measurement Systems Analysis Reference Manual*, 4th ed. (2010), chapter III-B
       (average-and-range method, ANOVA method, Tables III-B 6 to III-B 8) and Appendix A.
.. [2] D. C. Montgomery, G. C. Runger, "Gauge capability and designed experiments. Part II:
       experimental design models and variance component estimation", Quality Engineering 6 (1993)
       289-305.
.. [3] R. K. Burdick, C. M. Borror, D. C. Montgomery, *Design and Analysis of Gauge R&R Studies*,
       ASA-SIAM (2005): nested designs (chapter 7), unbalanced designs and REML (chapter 8).
.. [4] H. D. Patterson, R. Thompson, "Recovery of inter-block information when block sizes are
       unequal", Biometrika 58 (1971) 545-554 (REML).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special, stats

from jingce.kernels._validation import as_float, as_probability, fail, one_of, warn
from jingce.kernels.msa._intervals import chi2_interval, mls_interval
from jingce.kernels.msa._study import Study, describe_cell, study_iv
from jingce.kernels.msa.constants import d2, d2_star, d2_star_dof, d3
from jingce.kernels.msa.constants import k_factors as _aiag_k_factors

__all__ = ["AnovaRow", "AverageRangeDetail", "GrrResult", "grr_anova", "grr_average_range"]

NDC_FACTOR = 1.41  # AIAG MSA 4th ed.: ndc = 1.41 * PV / GRR, truncated
MAX_REML_READINGS = 4000


@dataclass(frozen=True, slots=True)
class AnovaRow:
    """One row of an ANOVA table (``f``/``p`` are NaN where no exact F test exists)."""

    source: str
    df: float
    ss: float
    ms: float
    f: float
    p: float


@dataclass(frozen=True, slots=True)
class AverageRangeDetail:
    """Intermediate values of the AIAG average-and-range method."""

    k1: float
    k2: float
    k3: float
    appraiser_range_means: np.ndarray  # R-bar per appraiser
    r_double_bar: float
    appraiser_means: np.ndarray  # X-bar per appraiser
    x_diff: float
    part_means: np.ndarray
    r_p: float
    ucl_r: float  # D4 * R-double-bar
    cells_beyond_ucl_r: tuple  # (part label, appraiser label) whose range exceeds UCL_R


@dataclass(frozen=True, slots=True)
class GrrResult:
    """Result of a Gage R&R study.

    Attributes
    ----------
    method : str
        ``"anova"``, ``"reml"`` or ``"average_range"``.
    design : str
        ``"crossed"``, ``"crossed with gages"`` or ``"nested"``.
    anova, anova_reduced : tuple of AnovaRow
        The full ANOVA table, and the table after pooling (empty when nothing was pooled or for
        REML / average-range).
    pooled_terms : tuple of str
        Interaction terms pooled into the repeatability.
    interaction_p : float
        p-value of the part x appraiser interaction (F test for ANOVA, likelihood ratio for REML);
        NaN where not tested.
    interaction_pooled : bool
        Whether that interaction was pooled.
    variance : dict
        Variance components of the model used, negative estimates set to zero.
    variance_ci : dict
        Two-sided confidence intervals of ``repeatability``, ``reproducibility``, ``grr``, ``part``
        and ``total`` variances (and of ``appraiser`` / ``interaction`` where estimated).
    ev, av, interaction, grr, pv, tv : float
        Standard deviations (see the module docstring).
    ndc : float
        Number of distinct categories, ``floor(1.41 PV / GRR)`` (inf when GRR is zero).
    pct_study_variation, pct_contribution : dict
        Keys ``ev``, ``av``, ``interaction``, ``grr``, ``pv``.
    pct_tolerance, pct_process : dict or None
        Against the tolerance (``k`` sd) and a process standard deviation, when given.
    readings : ndarray
        The readings as parts x appraisers x [gages x] trials, NaN where missing.
    notes : tuple of str
        Choices made (pooling, estimation method, truncated negative estimates).
    """

    method: str
    design: str
    n_parts: int
    n_appraisers: int
    n_gages: int
    n_trials: int
    n_readings: int
    balanced: bool
    anova: tuple
    anova_reduced: tuple
    pooled_terms: tuple
    interaction_p: float
    interaction_pooled: bool
    variance: dict
    variance_ci: dict
    ev: float
    av: float
    interaction: float
    grr: float
    pv: float
    tv: float
    ndc: float
    pct_study_variation: dict
    pct_contribution: dict
    pct_tolerance: dict | None
    pct_process: dict | None
    tolerance: float | None
    process_sigma: float | None
    k: float
    confidence: float
    part_labels: tuple
    appraiser_labels: tuple
    gage_labels: tuple
    readings: np.ndarray
    notes: tuple
    average_range: AverageRangeDetail | None = None


# --------------------------------------------------------------------------- validation


def _common_iv(tolerance, process_sigma, k, confidence):
    tol = as_float(tolerance, "tolerance", positive=True, allow_none=True)
    ps = as_float(process_sigma, "process_sigma", positive=True, allow_none=True)
    k = as_float(k, "k", positive=True)
    conf = as_probability(confidence, "confidence")
    return tol, ps, k, conf


def _shape_iv(study: Study, design: str) -> None:
    p, o = study.y.shape[0], study.y.shape[1]
    if design != "nested" and p < 2:
        raise fail("part", f"needs at least 2 parts, got {p}")
    if o < 2:
        raise fail(
            "appraiser",
            f"needs at least 2 appraisers to estimate reproducibility, got {o} "
            f"({study.appraiser_labels[0]!r}); use type1 for a single-appraiser study",
        )
    if study.factors == 3 and study.y.shape[2] < 2:
        raise fail("gage", f"needs at least 2 gages for a study with a gage factor, got {study.y.shape[2]}")
    if not np.any(study.counts >= 2):
        raise fail("readings", "need at least 2 trials (repeated readings) in some part x appraiser cell; got 1")


def _missing_cells_message(study: Study) -> str:
    empty = np.argwhere(study.counts == 0)
    if empty.size:
        shown = ", ".join(describe_cell(study, tuple(int(i) for i in c)) for c in empty[:5])
        more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
        return f"missing cells: {shown}{more} have no readings"
    c = study.counts
    uniq, cnt = np.unique(c, return_counts=True)
    common = uniq[np.argmax(cnt)]
    odd = np.argwhere(c != common)
    shown = ", ".join(
        f"{describe_cell(study, tuple(int(i) for i in x))} has {int(c[tuple(x)])}" for x in odd[:5]
    )
    return f"unequal trials: most cells have {int(common)} readings but {shown}"


# --------------------------------------------------------------------------- balanced ANOVA


def _center_along(a: np.ndarray, axes_keep: tuple[int, ...], k: int) -> np.ndarray:
    """Effect array of a term: centre along the term's axes, average over the others."""
    out = a
    for ax in range(k):
        if ax in axes_keep:
            out = out - out.mean(axis=ax, keepdims=True)
        else:
            out = out.mean(axis=ax, keepdims=True)
    return out


def _term_name(term: tuple[int, ...], names: tuple[str, ...]) -> str:
    return "*".join(names[i] for i in term)


@dataclass(frozen=True, slots=True)
class _Model:
    terms: tuple  # model terms (tuples of factor axes)
    ss: dict
    df: dict
    ss_e: float
    df_e: float


def _ems(term, model_terms, coef) -> dict:
    return {u: coef[u] for u in model_terms if set(term) <= set(u)}


def _exact_denominator(term, model_terms, coef):
    """The model term (or ``"error"``) whose expected mean square is E[MS_term] minus the term's own."""
    target = _ems(term, model_terms, coef)
    target.pop(term)
    if not target:
        return "error"
    for d in model_terms:
        if d != term and _ems(d, model_terms, coef) == target:
            return d
    return None


def _table(model: _Model, names, coef) -> tuple[tuple, dict]:
    ms = {t: model.ss[t] / model.df[t] for t in model.terms}
    ms_e = model.ss_e / model.df_e if model.df_e > 0 else float("nan")
    rows, pvals = [], {}
    for t in model.terms:
        d = _exact_denominator(t, model.terms, coef)
        if d is None:
            f = p = float("nan")
        else:
            ms_d, df_d = (ms_e, model.df_e) if d == "error" else (ms[d], model.df[d])
            with np.errstate(divide="ignore", invalid="ignore"):
                f = ms[t] / ms_d if ms_d > 0 else (float("inf") if ms[t] > 0 else float("nan"))
            p = float(special.fdtrc(model.df[t], df_d, f)) if np.isfinite(f) else (0.0 if f == np.inf else np.nan)
        pvals[t] = p
        rows.append(AnovaRow(_term_name(t, names), float(model.df[t]), float(model.ss[t]), float(ms[t]), float(f), p))
    rows.append(AnovaRow("repeatability", float(model.df_e), float(model.ss_e), float(ms_e), np.nan, np.nan))
    total_ss = sum(model.ss[t] for t in model.terms) + model.ss_e
    total_df = sum(model.df[t] for t in model.terms) + model.df_e
    rows.append(AnovaRow("total", float(total_df), float(total_ss), np.nan, np.nan, np.nan))
    return tuple(rows), pvals


def _solve_components(model: _Model, coef) -> tuple[dict, dict]:
    """Unclipped ANOVA (EMS) estimates and each one's coefficients on the mean squares.

    Returns ``(estimates, weights)`` where ``weights[name]`` maps ``term | "error"`` to the
    coefficient of that mean square.
    """
    terms = list(model.terms)
    n = len(terms)
    a = np.zeros((n, n))
    for i, t in enumerate(terms):
        for j, u in enumerate(terms):
            if set(t) <= set(u):
                a[i, j] = coef[u]
    ms = np.array([model.ss[t] / model.df[t] for t in terms])
    ms_e = model.ss_e / model.df_e
    w_terms = np.linalg.solve(a, np.eye(n)) if n else np.zeros((0, 0))
    comps = w_terms @ (ms - ms_e) if n else np.zeros(0)
    estimates = {"error": ms_e}
    weights = {"error": {"error": 1.0}}
    for i, t in enumerate(terms):
        estimates[t] = float(comps[i])
        w = {u: float(w_terms[i, j]) for j, u in enumerate(terms) if w_terms[i, j] != 0}
        w["error"] = -float(w_terms[i].sum())
        weights[t] = w
    return estimates, weights


def _mls_for(keys, weights, model: _Model, confidence) -> tuple[float, float]:
    combined: dict = {}
    for key in keys:
        for src, c in weights[key].items():
            combined[src] = combined.get(src, 0.0) + c
    srcs = [s for s, c in combined.items() if abs(c) > 1e-14]
    if not srcs:
        return 0.0, 0.0
    ms = [model.ss_e / model.df_e if s == "error" else model.ss[s] / model.df[s] for s in srcs]
    df = [model.df_e if s == "error" else model.df[s] for s in srcs]
    return mls_interval([combined[s] for s in srcs], ms, df, confidence)


def _crossed_anova(y: np.ndarray, names: tuple[str, ...], interaction: str, alpha: float, confidence: float):
    k = y.ndim - 1
    sizes = y.shape[:-1]
    r = y.shape[-1]
    dev = y - y.mean()
    cell = dev.mean(axis=-1)
    all_terms = [t for order in range(1, k + 1) for t in itertools.combinations(range(k), order)]
    coef = {t: r * int(np.prod([sizes[f] for f in range(k) if f not in t])) for t in all_terms}
    ss, df = {}, {}
    for t in all_terms:
        eff = _center_along(cell, t, k)
        ss[t] = float(coef[t] * np.sum(eff * eff))
        df[t] = float(np.prod([sizes[f] - 1 for f in t]))
    ss_e = float(np.sum((dev - cell[..., None]) ** 2))
    df_e = float(np.prod(sizes) * (r - 1))
    full = _Model(tuple(all_terms), ss, df, ss_e, df_e)
    full_rows, full_p = _table(full, names, coef)
    model = full
    pooled: list = []
    if interaction != "include":
        for order in range(k, 1, -1):
            for t in [u for u in model.terms if len(u) == order]:
                if interaction == "auto":
                    _, pv = _table(model, names, coef)
                    p_t = pv[t]
                    if not (np.isfinite(p_t) and p_t > alpha):
                        continue
                terms = tuple(u for u in model.terms if u != t)
                model = _Model(terms, ss, df, model.ss_e + ss[t], model.df_e + df[t])
                pooled.append(t)
    reduced_rows = _table(model, names, coef)[0] if pooled else ()
    est, weights = _solve_components(model, coef)
    return full, full_rows, full_p, model, reduced_rows, pooled, est, weights, coef


# --------------------------------------------------------------------------- REML


def _reml_fit(values: np.ndarray, groups: list[np.ndarray]):
    """REML estimates of ``[sigma2 of each grouping..., sigma2_error]`` for y = mu + sum Z_t u_t + e.

    Returns ``(theta, cov, nll)`` with the inverse expected information as ``cov`` (on the
    original scale) and the minimised negative restricted log-likelihood.
    """
    n = values.size
    scale = float(np.var(values))
    if scale == 0.0:
        warn("all readings are equal: every variance component is zero")
        k = len(groups) + 1
        return np.zeros(k), np.zeros((k, k)), 0.0
    y = (values - values.mean()) / np.sqrt(scale)
    zs = []
    for g in groups:
        z = np.zeros((n, int(g.max()) + 1))
        z[np.arange(n), g] = 1.0
        zs.append(z[:, z.sum(axis=0) > 0])
    ks = [z @ z.T for z in zs] + [np.eye(n)]
    ones = np.ones(n)

    def parts(theta):
        v = sum(t * kk for t, kk in zip(theta, ks, strict=True))
        c = linalg.cho_factor(v, lower=True, check_finite=False)
        vi = linalg.cho_solve(c, np.eye(n), check_finite=False)
        vi1 = vi @ ones
        s = float(ones @ vi1)
        p = vi - np.outer(vi1, vi1) / s
        logdet = 2.0 * float(np.sum(np.log(np.diag(c[0]))))
        return p, logdet, s

    def nll_grad(theta):
        try:
            p, logdet, s = parts(theta)
        except linalg.LinAlgError:
            return 1e30, np.zeros_like(theta)
        py = p @ y
        nll = 0.5 * (logdet + np.log(s) + float(y @ py))
        grad = np.array([0.5 * (np.sum(p * kk) - float(py @ kk @ py)) for kk in ks])
        return nll, grad

    t0 = np.full(len(ks), 1.0 / len(ks))
    bounds = [(0.0, None)] * (len(ks) - 1) + [(1e-8, None)]
    best = None
    for start in (t0, np.r_[np.full(len(ks) - 1, 0.05), 0.5]):
        res = optimize.minimize(nll_grad, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 500, "ftol": 1e-13, "gtol": 1e-9})
        if best is None or res.fun < best.fun:
            best = res
    theta = np.maximum(best.x, 0.0)
    p, _, _ = parts(theta)
    pk = [p @ kk for kk in ks]
    info = np.array([[0.5 * np.sum(a * b.T) for b in pk] for a in pk])
    free = theta > 1e-10
    cov = np.zeros_like(info)
    if np.any(free):
        cov[np.ix_(free, free)] = np.linalg.pinv(info[np.ix_(free, free)])
    return theta * scale, cov * scale * scale, float(best.fun)


def _reml_study(study: Study, design: str, names, interaction: str, alpha: float, confidence: float):
    values, codes = study.long()
    if values.size > MAX_REML_READINGS:
        raise fail("readings", f"REML handles at most {MAX_REML_READINGS} readings, got {values.size}")
    k = codes.shape[1]
    sizes = study.y.shape[:-1]
    if design == "nested":
        terms = [(1,), (0, 1)]
        tnames = {(1,): "appraiser", (0, 1): "part(appraiser)"}
    else:
        terms = [t for order in range(1, k + 1) for t in itertools.combinations(range(k), order)]
        tnames = {t: _term_name(t, names) for t in terms}

    def group_codes(t):
        return np.ravel_multi_index(codes[:, list(t)].T, tuple(sizes[i] for i in t))

    def fit(model_terms):
        theta, cov, nll = _reml_fit(values, [group_codes(t) for t in model_terms])
        return theta, cov, nll

    model_terms = list(terms)
    interaction_p = float("nan")
    pooled = []
    theta, cov, nll = fit(model_terms)
    if design != "nested" and interaction != "include":
        for order in range(k, 1, -1):
            for t in [u for u in model_terms if len(u) == order]:
                if interaction == "auto":
                    reduced = [u for u in model_terms if u != t]
                    th_r, cov_r, nll_r = fit(reduced)
                    lr = max(2.0 * (nll_r - nll), 0.0)
                    p_t = 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 1e-6 else 1.0
                    if t == (0, 1):
                        interaction_p = p_t
                    if p_t > alpha:
                        model_terms, theta, cov, nll = reduced, th_r, cov_r, nll_r
                        pooled.append(t)
                else:
                    model_terms = [u for u in model_terms if u != t]
                    pooled.append(t)
        if interaction == "exclude":
            theta, cov, nll = fit(model_terms)
    est = {t: float(v) for t, v in zip(model_terms, theta[:-1], strict=True)}
    est["error"] = float(theta[-1])
    index = {t: i for i, t in enumerate(model_terms)}
    index["error"] = len(model_terms)

    def ci(keys):
        a = np.zeros(len(theta))
        for key in keys:
            if key in index:
                a[index[key]] = 1.0
        g = float(a @ theta)
        var = float(a @ cov @ a)
        if g > 0 and var > 0:
            return chi2_interval(g, 2.0 * g * g / var, confidence)
        z = stats.norm.isf((1 - confidence) / 2)
        return 0.0, float(g + z * np.sqrt(max(var, 0.0)))

    return est, tnames, pooled, interaction_p, ci


# --------------------------------------------------------------------------- summaries


def _summaries(var: dict, tolerance, process_sigma, k):
    sd = {key: float(np.sqrt(max(v, 0.0))) for key, v in var.items()}
    total = np.float64(var["grr"] + var["pv"])  # numpy scalar: zero total gives NaN percentages, not an error
    sd_tv = np.sqrt(total)
    keys = ("ev", "av", "interaction", "grr", "pv")
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_sv = {key: float(100.0 * sd[key] / sd_tv) for key in keys}
        pct_c = {key: float(100.0 * var[key] / total) for key in keys}
    pct_tol = {key: 100.0 * k * sd[key] / tolerance for key in keys} if tolerance else None
    pct_proc = {key: 100.0 * sd[key] / process_sigma for key in keys} if process_sigma else None
    if sd["grr"] > 0:
        ndc = float(np.floor(NDC_FACTOR * sd["pv"] / sd["grr"]))
    else:
        warn("GRR is zero: the number of distinct categories is infinite")
        ndc = float("inf")
    if total == 0:
        warn("total variation is zero: percentages of the total variation are undefined")
    return sd, float(sd_tv), ndc, pct_sv, pct_c, pct_tol, pct_proc


def _result(method, design, study, anova, reduced, pooled, interaction_p, interaction_pooled, comps,
            var, ci, tolerance, process_sigma, k, confidence, notes, detail=None) -> GrrResult:
    sd, tv, ndc, pct_sv, pct_c, pct_tol, pct_proc = _summaries(var, tolerance, process_sigma, k)
    return GrrResult(
        method=method, design=design,
        n_parts=int(study.y.shape[0]), n_appraisers=int(study.y.shape[1]),
        n_gages=int(study.y.shape[2]) if study.factors == 3 else 1,
        n_trials=int(study.counts.max()), n_readings=int(study.counts.sum()), balanced=study.balanced,
        anova=anova, anova_reduced=reduced, pooled_terms=tuple(pooled), interaction_p=float(interaction_p),
        interaction_pooled=bool(interaction_pooled), variance=comps, variance_ci=ci,
        ev=sd["ev"], av=sd["av"], interaction=sd["interaction"], grr=sd["grr"], pv=sd["pv"], tv=tv,
        ndc=ndc, pct_study_variation=pct_sv, pct_contribution=pct_c, pct_tolerance=pct_tol,
        pct_process=pct_proc, tolerance=tolerance, process_sigma=process_sigma, k=k, confidence=confidence,
        part_labels=study.part_labels, appraiser_labels=study.appraiser_labels, gage_labels=study.gage_labels,
        readings=study.y, notes=tuple(notes), average_range=detail,
    )


# --------------------------------------------------------------------------- public API


def _grr_anova_iv(readings, tolerance, part, appraiser, value, gage, process_sigma, k, confidence,
                  design, method, interaction, pool_alpha):
    design = one_of(design, "design", ("crossed", "nested"))
    method = one_of(method, "method", ("auto", "anova", "reml"))
    interaction = one_of(interaction, "interaction", ("auto", "include", "exclude"))
    alpha = as_probability(pool_alpha, "pool_alpha")
    tol, ps, k, conf = _common_iv(tolerance, process_sigma, k, confidence)
    study = study_iv(readings, part, appraiser, value, gage, allow_gage=design == "crossed")
    if design == "nested" and value is not None:
        study = _nest(study)
    _shape_iv(study, design)
    if method == "anova" and not study.balanced:
        raise fail("readings", _missing_cells_message(study) + "; the ANOVA method needs balanced data "
                   "(use method='reml' or 'auto')")
    if method == "auto":
        method = "anova" if study.balanced else "reml"
    return study, tol, ps, k, conf, design, method, interaction, alpha


def _nest(study: Study) -> Study:
    """Long-table nested study: parts are numbered within each appraiser in order of appearance."""
    y = study.y  # (part labels, appraisers, trials)
    per_app = [np.flatnonzero(study.counts[:, j] > 0) for j in range(y.shape[1])]
    p = max(len(ix) for ix in per_app)
    out = np.full((p, y.shape[1], y.shape[2]), np.nan)
    for j, ix in enumerate(per_app):
        out[: len(ix), j] = y[ix, j]
    counts = np.sum(~np.isnan(out), axis=-1)
    return Study(out, counts, tuple(range(1, p + 1)), study.appraiser_labels, ())


def grr_anova(
    readings=None,
    tolerance=None,
    *,
    part=None,
    appraiser=None,
    value=None,
    gage=None,
    process_sigma=None,
    k: float = 6.0,
    confidence: float = 0.95,
    design: str = "crossed",
    method: str = "auto",
    interaction: str = "auto",
    pool_alpha: float = 0.25,
) -> GrrResult:
    """Gage R&R by analysis of variance (or REML for unbalanced data).

    Parameters
    ----------
    readings : array_like, shape (parts, appraisers, trials) or (parts, appraisers, gages, trials)
        The readings; NaN marks a missing reading. Alternatively give the long table below.
    tolerance : float, optional
        Tolerance width (USL - LSL) for the %tolerance figures; must be > 0.
    part, appraiser, value, gage : array_like, optional
        Long-table columns (labels may be numbers or text); ``gage`` adds a gage factor.
    process_sigma : float, optional
        Process standard deviation for the %process figures.
    k : float
        Multiple of the standard deviation compared with the tolerance (6 as AIAG 4th ed.).
    confidence : float
        Level of the variance-component confidence intervals.
    design : {"crossed", "nested"}
        ``"nested"``: each appraiser measures their own parts (destructive tests); in the array form
        ``readings[i, j]`` is the i-th part of appraiser j.
    method : {"auto", "anova", "reml"}
        ``"auto"``: ANOVA for balanced data, REML otherwise (unequal trials, missing cells).
        ``"anova"`` refuses unbalanced data naming the missing cells.
    interaction : {"auto", "include", "exclude"}
        ``"auto"`` pools an interaction into the repeatability when its p-value exceeds
        ``pool_alpha`` (AIAG: 0.25); the choice is reported in ``interaction_pooled`` and ``notes``.
    pool_alpha : float
        The pooling threshold.

    Returns
    -------
    GrrResult

    Notes
    -----
    Balanced crossed designs use the expected-mean-square estimators of the full random model
    (any number of crossed factors with all interactions); interactions are tested from the highest
    order down against the exact F denominator and pooled when not significant. Confidence intervals
    are modified large-sample intervals on the same linear combinations of mean squares.
    Unbalanced data use REML (Patterson-Thompson) with intervals from the expected information
    (Satterthwaite chi-square); an interaction is then tested by a restricted likelihood ratio with
    the boundary mixture ``0.5 chi2_1``.

    References
    ----------
    AIAG MSA 4th ed. (2010), chapter III-B, "Analysis of Variance (ANOVA) Method", Tables III-B 7 and
    III-B 8; Burdick, Borror and Montgomery (2005), chapters 3, 7 and 8.
    """
    study, tol, ps, k, conf, design, method, interaction, alpha = _grr_anova_iv(
        readings, tolerance, part, appraiser, value, gage, process_sigma, k, confidence, design, method,
        interaction, pool_alpha)
    names = ("part", "appraiser", "gage")[: study.factors]
    notes: list[str] = []
    if design == "nested":
        return _nested(study, method, tol, ps, k, conf, notes)
    design_name = "crossed with gages" if study.factors == 3 else "crossed"
    if method == "anova":
        full, rows, full_p, model, reduced, pooled, est, weights, _ = _crossed_anova(
            study.y, names, interaction, alpha, conf)
        ip = full_p.get((0, 1), float("nan"))
        notes.append("variance components by the ANOVA (expected mean squares) method")
        ci_fn = lambda keys: _mls_for(keys, weights, model, conf)  # noqa: E731
        tname = {t: _term_name(t, names) for t in full.terms}
    else:
        est, tname, pooled, ip, ci_fn = _reml_study(study, design, names, interaction, alpha, conf)
        rows, reduced = (), ()
        model_terms = [t for t in est if t != "error"]
        notes.append("unbalanced data or missing cells: variance components by REML "
                     "(Patterson-Thompson), intervals from the expected information")
    if pooled:
        notes.append("pooled into repeatability: " + ", ".join(
            f"{_term_name(t, names)}" for t in pooled) + (f" (p > {alpha:g})" if interaction == "auto" else ""))
    elif interaction == "auto" and np.isfinite(ip):
        notes.append(f"part*appraiser interaction kept (p = {ip:.3g} <= {alpha:g})")
    model_terms = [t for t in est if t != "error"]
    negative = [tname[t] for t in model_terms if est[t] < 0]
    if negative:
        notes.append("negative variance estimates set to zero: " + ", ".join(negative))
    clip = {t: max(v, 0.0) for t, v in est.items()}
    repro_terms = [t for t in model_terms if 0 not in t]
    int_terms = [t for t in model_terms if 0 in t and len(t) > 1]
    var = {
        "ev": clip["error"],
        "av": sum(clip[t] for t in repro_terms),
        "interaction": sum(clip[t] for t in int_terms),
        "pv": clip[(0,)],
    }
    var["grr"] = var["ev"] + var["av"] + var["interaction"]
    comps = {"repeatability": clip["error"], **{tname[t]: clip[t] for t in model_terms}}
    ci = {
        "repeatability": ci_fn(["error"]),
        "appraiser": ci_fn(repro_terms),
        "reproducibility": ci_fn(repro_terms + int_terms),
        "grr": ci_fn(["error"] + repro_terms + int_terms),
        "part": ci_fn([(0,)]),
        "total": ci_fn(["error"] + model_terms),
    }
    if int_terms:
        ci["interaction"] = ci_fn(int_terms)
    return _result(method, design_name, study, rows, reduced, [tname[t] for t in pooled], ip,
                   (0, 1) in pooled, comps, var, ci, tol, ps, k, conf, notes)


def _nested(study: Study, method, tol, ps, k, conf, notes) -> GrrResult:
    y = study.y
    p, o, r = y.shape
    if method == "anova":
        dev = y - y.mean()
        cell = dev.mean(axis=-1)
        app = cell.mean(axis=0)
        ss_o = float(p * r * np.sum(app**2))
        ss_p = float(r * np.sum((cell - app) ** 2))
        ss_e = float(np.sum((dev - cell[..., None]) ** 2))
        df_o, df_p, df_e = o - 1.0, o * (p - 1.0), o * p * (r - 1.0)
        if df_p <= 0:
            raise fail("readings", "a nested study needs at least 2 parts per appraiser")
        ms_o, ms_p, ms_e = ss_o / df_o, ss_p / df_p, ss_e / df_e
        f_o, f_p = ms_o / ms_p if ms_p > 0 else np.inf, ms_p / ms_e if ms_e > 0 else np.inf
        rows = (
            AnovaRow("appraiser", df_o, ss_o, ms_o, f_o, float(stats.f.sf(f_o, df_o, df_p))),
            AnovaRow("part(appraiser)", df_p, ss_p, ms_p, f_p, float(stats.f.sf(f_p, df_p, df_e))),
            AnovaRow("repeatability", df_e, ss_e, ms_e, np.nan, np.nan),
            AnovaRow("total", df_o + df_p + df_e, ss_o + ss_p + ss_e, np.nan, np.nan, np.nan),
        )
        est = {"error": ms_e, "part": (ms_p - ms_e) / r, "appraiser": (ms_o - ms_p) / (p * r)}
        ms = {"o": (ms_o, df_o), "p": (ms_p, df_p), "e": (ms_e, df_e)}
        weights = {"error": {"e": 1.0}, "part": {"p": 1 / r, "e": -1 / r},
                   "appraiser": {"o": 1 / (p * r), "p": -1 / (p * r)}}

        def ci_fn(keys):
            comb: dict = {}
            for key in keys:
                for s, c in weights[key].items():
                    comb[s] = comb.get(s, 0.0) + c
            srcs = [s for s, c in comb.items() if abs(c) > 1e-14]
            return mls_interval([comb[s] for s in srcs], [ms[s][0] for s in srcs], [ms[s][1] for s in srcs], conf)

        notes.append("nested design (parts within appraisers): ANOVA (expected mean squares) method")
    else:
        raw, _, _, _, ci_raw = _reml_study(study, "nested", ("part", "appraiser"), "include", 0.25, conf)
        est = {"error": raw["error"], "part": raw[(0, 1)], "appraiser": raw[(1,)]}
        rows = ()
        key_map = {"error": "error", "part": (0, 1), "appraiser": (1,)}

        def ci_fn(keys):
            return ci_raw([key_map[x] for x in keys])

        notes.append("nested design with unequal parts or trials: variance components by REML")
    negative = [n for n, v in est.items() if v < 0]
    if negative:
        notes.append("negative variance estimates set to zero: " + ", ".join(negative))
    clip = {n: max(v, 0.0) for n, v in est.items()}
    var = {"ev": clip["error"], "av": clip["appraiser"], "interaction": 0.0, "pv": clip["part"]}
    var["grr"] = var["ev"] + var["av"]
    comps = {"repeatability": clip["error"], "appraiser": clip["appraiser"], "part(appraiser)": clip["part"]}
    ci = {
        "repeatability": ci_fn(["error"]),
        "appraiser": ci_fn(["appraiser"]),
        "reproducibility": ci_fn(["appraiser"]),
        "grr": ci_fn(["error", "appraiser"]),
        "part": ci_fn(["part"]),
        "total": ci_fn(["error", "appraiser", "part"]),
    }
    return _result(method, "nested", study, rows, (), (), np.nan, False, comps, var, ci, tol, ps, k, conf, notes)


def _grr_average_range_iv(readings, tolerance, part, appraiser, value, process_sigma, k, confidence, k_override):
    tol, ps, k, conf = _common_iv(tolerance, process_sigma, k, confidence)
    study = study_iv(readings, part, appraiser, value, None, allow_gage=False)
    _shape_iv(study, "crossed")
    if not study.balanced:
        raise fail("readings", _missing_cells_message(study) + "; the average-and-range method needs every "
                   "part measured by every appraiser the same number of times (use grr_anova)")
    r = study.y.shape[-1]
    if r < 2:
        raise fail("readings", f"need at least 2 trials per part and appraiser, got {r}")
    if k_override is not None:
        kk = np.asarray(k_override, dtype=float)
        if kk.shape != (3,) or not np.all(np.isfinite(kk)) or np.any(kk <= 0):
            raise fail("k_factors", "must be three positive numbers (K1, K2, K3)")
        k_override = tuple(float(x) for x in kk)
    return study, tol, ps, k, conf, k_override


def grr_average_range(
    readings=None,
    tolerance=None,
    *,
    part=None,
    appraiser=None,
    value=None,
    process_sigma=None,
    k: float = 6.0,
    confidence: float = 0.95,
    k_factors: tuple | None = None,
) -> GrrResult:
    """Gage R&R by the AIAG average-and-range (X-bar and R) method.

    Parameters
    ----------
    readings : array_like, shape (parts, appraisers, trials)
        Balanced readings (or the long-table columns ``part``, ``appraiser``, ``value``).
    tolerance, process_sigma, k, confidence
        As for :func:`grr_anova`.
    k_factors : (K1, K2, K3), optional
        Override the constants; by default they are computed: ``K1 = 1/d2(trials)``,
        ``K2 = 1/d2*(appraisers, 1)``, ``K3 = 1/d2*(parts, 1)``. Pass the AIAG table's rounded
        values to reproduce the manual's printed digits.

    Returns
    -------
    GrrResult
        With ``method="average_range"`` and the intermediate values in ``average_range``. The
        repeatability interval uses Patnaik's degrees of freedom of ``d2*(trials, parts x appraisers)``;
        the other components have no interval in this method (NaN).

    References
    ----------
    AIAG MSA 4th ed. (2010), chapter III-B, "Average and Range Method", Figures III-B 15 to 18.
    """
    study, tol, ps, k, conf, k_override = _grr_average_range_iv(
        readings, tolerance, part, appraiser, value, process_sigma, k, confidence, k_factors)
    y = study.y
    p, o, r = y.shape
    k1, k2, k3 = k_override or _aiag_k_factors(r, o, p)
    ranges = y.max(axis=-1) - y.min(axis=-1)  # (p, o)
    r_app = ranges.mean(axis=0)
    r_bb = float(r_app.mean())
    center = y - y.mean()
    x_app = center.mean(axis=(0, 2))
    x_diff = float(x_app.max() - x_app.min())
    x_part = center.mean(axis=(1, 2))
    r_p = float(x_part.max() - x_part.min())
    ev = r_bb * k1
    av2 = (x_diff * k2) ** 2 - ev * ev / (p * r)
    notes = ["AIAG average-and-range method" + (" with the given K factors" if k_override else
                                                " with K1, K2, K3 computed from d2 and d2*")]
    if av2 < 0:
        notes.append("(X-diff K2)^2 < EV^2/(n r): AV set to zero")
    av2 = max(av2, 0.0)
    pv = r_p * k3
    d4 = 1.0 + 3.0 * d3(r) / d2(r)  # D4 of the range chart
    ucl = d4 * r_bb
    beyond = tuple((study.part_labels[i], study.appraiser_labels[j]) for i, j in np.argwhere(ranges > ucl))
    if beyond:
        notes.append(f"{len(beyond)} range(s) above UCL_R = D4 R-double-bar: check those readings")
    var = {"ev": ev * ev, "av": av2, "interaction": 0.0, "pv": pv * pv}
    var["grr"] = var["ev"] + var["av"]
    nu = d2_star_dof(r, p * o)
    ev_star = r_bb / d2_star(r, p * o)
    nan2 = (float("nan"), float("nan"))
    ci = {"repeatability": chi2_interval(ev_star**2, nu, conf), "appraiser": nan2, "reproducibility": nan2,
          "grr": nan2, "part": nan2, "total": nan2}
    comps = {"repeatability": var["ev"], "appraiser": var["av"], "part": var["pv"]}
    detail = AverageRangeDetail(k1, k2, k3, r_app + 0.0, r_bb, x_app + y.mean(), x_diff, x_part + y.mean(),
                                r_p, ucl, beyond)
    return _result("average_range", "crossed", study, (), (), (), np.nan, False, comps, var, ci, tol, ps, k,
                   conf, notes, detail)
