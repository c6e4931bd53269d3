"""Attribute agreement analysis: Fleiss' and Cohen's kappa, agreement percentages, miss and false-alarm rates.

References
----------
.. [1] AIAG MSA 4th ed. (2010), chapter III-C, "Attribute measurement system study",
       cross-tab method (Tables III-C 1 to III-C 7).
.. [2] J. L. Fleiss, "Measuring nominal scale agreement among many raters", Psychological
       Bulletin 76 (1971) 378-382.
.. [3] J. L. Fleiss, J. C. M. Nee, J. R. Landis, "Large sample variance of kappa in the case of
       different sets of raters", Psychological Bulletin 86 (1979) 974-977 (standard error under
       the null hypothesis, per-category kappa).
.. [4] J. Cohen, "A coefficient of agreement for nominal scales", Educational and Psychological
       Measurement 20 (1960) 37-46.
.. [5] J. L. Fleiss, J. Cohen, B. S. Everitt, "Large sample standard errors of kappa and weighted
       kappa", Psychological Bulletin 72 (1969) 323-327.
.. [6] C. J. Clopper, E. S. Pearson, "The use of confidence or fiducial limits illustrated in the
       case of the binomial", Biometrika 26 (1934) 404-413 (intervals of the agreement percentages).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from jingce.kernels._validation import as_array, as_probability, fail, warn

__all__ = [
    "AgreementRate",
    "AttributeAgreementResult",
    "CohenKappaResult",
    "FleissKappaResult",
    "attribute_agreement",
    "cohen_kappa",
    "fleiss_kappa",
]


@dataclass(frozen=True, slots=True)
class FleissKappaResult:
    """Fleiss' kappa with its null standard error, z test and a jackknife confidence interval.

    ``category_kappa`` and ``category_se0`` are the per-category kappas of Fleiss, Nee and Landis.
    The interval is ``kappa +/- z * se_jackknife`` (leave-one-subject-out jackknife).
    """

    kappa: float
    se0: float
    z: float
    p: float
    se_jackknife: float
    ci: tuple
    p_observed: float
    p_expected: float
    category_kappa: np.ndarray
    category_se0: float
    n_subjects: int
    n_raters: int
    confidence: float


@dataclass(frozen=True, slots=True)
class CohenKappaResult:
    """Cohen's kappa with the Fleiss-Cohen-Everitt standard errors (``se`` for the interval, ``se0``
    under the null hypothesis for the z test)."""

    kappa: float
    se: float
    se0: float
    z: float
    p: float
    ci: tuple
    p_observed: float
    p_expected: float
    n: int
    confidence: float


@dataclass(frozen=True, slots=True)
class AgreementRate:
    """``matched`` out of ``inspected`` with an exact (Clopper-Pearson) interval, in percent."""

    inspected: int
    matched: int
    pct: float
    ci: tuple


def _fleiss_kappa_iv(counts, confidence):
    c = as_array(counts, "counts", ndim=2, min_size=2)
    if np.any(c < 0) or not np.all(c == np.round(c)):
        raise fail("counts", "must hold non-negative integer counts (subjects x categories)")
    n = c.sum(axis=1)
    if c.shape[0] < 2:
        raise fail("counts", "needs at least 2 subjects")
    if not np.all(n == n[0]):
        raise fail("counts", "every subject must be rated by the same number of raters")
    if n[0] < 2:
        raise fail("counts", f"needs at least 2 raters per subject, got {int(n[0])}")
    return c, int(n[0]), as_probability(confidence, "confidence")


def _fleiss_core(c: np.ndarray, n: int):
    """kappa, P-bar, Pe-bar for a counts table (rows = subjects)."""
    big_n = c.shape[0]
    p_i = (np.sum(c * c, axis=-1) - n) / (n * (n - 1))
    pj = c.sum(axis=-2) / (big_n * n)
    pbar = p_i.mean(axis=-1)
    pe = np.sum(pj * pj, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (pbar - pe) / (1.0 - pe)
    return kappa, pbar, pe, pj, p_i


def fleiss_kappa(counts, *, confidence: float = 0.95) -> FleissKappaResult:
    """Fleiss' kappa for many raters.

    Parameters
    ----------
    counts : array_like, shape (subjects, categories)
        ``counts[i, j]``: number of raters putting subject ``i`` in category ``j``; every row sums to
        the same number of raters ``n >= 2``.
    confidence : float
        Level of the jackknife interval.

    Returns
    -------
    FleissKappaResult

    References
    ----------
    Fleiss (1971); Fleiss, Nee and Landis (1979).
    """
    c, n, conf = _fleiss_kappa_iv(counts, confidence)
    big_n = c.shape[0]
    kappa, pbar, pe, pj, p_i = _fleiss_core(c, n)
    qj = 1.0 - pj
    spq = float(np.sum(pj * qj))
    with np.errstate(divide="ignore", invalid="ignore"):
        se0 = float(np.sqrt(2.0) / (spq * np.sqrt(big_n * n * (n - 1)))
                    * np.sqrt(max(spq**2 - float(np.sum(pj * qj * (qj - pj))), 0.0)))
        cat = 1.0 - np.sum(c * (n - c), axis=0) / (big_n * n * (n - 1) * pj * qj)
    if pe >= 1.0:
        warn("all ratings fall in one category: kappa is undefined")
    # leave-one-subject-out jackknife (closed form over the sums)
    col = c.sum(axis=0)
    loo_pj = (col[None, :] - c) / ((big_n - 1) * n)
    loo_pe = np.sum(loo_pj * loo_pj, axis=1)
    loo_pbar = (p_i.sum() - p_i) / (big_n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = (loo_pbar - loo_pe) / (1.0 - loo_pe)
        se_jk = float(np.sqrt((big_n - 1) / big_n * np.sum((loo - loo.mean()) ** 2)))
        z = float(kappa / se0)
    zq = float(stats.norm.isf((1 - conf) / 2))
    p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
    return FleissKappaResult(
        kappa=float(kappa), se0=se0, z=z, p=p, se_jackknife=se_jk,
        ci=(float(kappa - zq * se_jk), float(kappa + zq * se_jk)), p_observed=float(pbar),
        p_expected=float(pe), category_kappa=cat, category_se0=float(np.sqrt(2.0 / (big_n * n * (n - 1)))),
        n_subjects=big_n, n_raters=n, confidence=conf,
    )


def _cohen_kappa_iv(table, confidence):
    t = as_array(table, "table", ndim=2)
    if t.shape[0] != t.shape[1] or t.shape[0] < 2:
        raise fail("table", f"must be a square cross-tabulation with at least 2 categories, got shape {t.shape}")
    if np.any(t < 0):
        raise fail("table", "must hold non-negative counts")
    if t.sum() <= 0:
        raise fail("table", "must hold at least one rating pair")
    return t, as_probability(confidence, "confidence")


def cohen_kappa(table, *, confidence: float = 0.95) -> CohenKappaResult:
    """Cohen's kappa of a square cross-tabulation of two raters.

    Parameters
    ----------
    table : array_like, shape (k, k)
        ``table[i, j]``: number of items rater 1 put in category ``i`` and rater 2 in ``j``.
    confidence : float
        Level of the interval ``kappa +/- z * se``.

    Returns
    -------
    CohenKappaResult

    References
    ----------
    Cohen (1960); Fleiss, Cohen and Everitt (1969).
    """
    t, conf = _cohen_kappa_iv(table, confidence)
    big_n = float(t.sum())
    p = t / big_n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = np.float64(np.trace(p))  # numpy scalars: a zero denominator gives NaN/inf, not an exception
    pe = np.float64(np.sum(rows * cols))
    if pe >= 1.0:
        warn("both raters use a single category: kappa is undefined")
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (po - pe) / (1.0 - pe)
        diag = np.diag(p)
        a = np.sum(diag * ((1 - pe) - (rows + cols) * (1 - po)) ** 2)
        off = p.copy()
        np.fill_diagonal(off, 0.0)
        b = (1 - po) ** 2 * np.sum(off * (cols[:, None] + rows[None, :]) ** 2)
        cc = (po * pe - 2 * pe + po) ** 2
        var = (a + b - cc) / (big_n * (1 - pe) ** 4)
        var0 = (pe + pe * pe - np.sum(rows * cols * (rows + cols))) / (big_n * (1 - pe) ** 2)
        se, se0 = np.sqrt(np.maximum(var, 0.0)), np.sqrt(np.maximum(var0, 0.0))
        z = float(kappa / se0)
        se, se0 = float(se), float(se0)
    zq = float(stats.norm.isf((1 - conf) / 2))
    return CohenKappaResult(
        kappa=float(kappa), se=se, se0=se0, z=z,
        p=float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
        ci=(float(kappa - zq * se), float(kappa + zq * se)), p_observed=float(po), p_expected=float(pe), n=int(big_n),
        confidence=conf,
    )


@dataclass(frozen=True, slots=True)
class AttributeAgreementResult:
    """Attribute agreement study (AIAG cross-tab method plus kappa statistics).

    Dictionaries are keyed by appraiser label (pairs as ``"A x B"``). Kappas: Fleiss' within each
    appraiser (trials as raters) and between all appraisers; Cohen's for each appraiser against the
    standard (AIAG's cross-tab of every rating with the reference), for each pair of appraisers
    (trial by trial) and for all ratings pooled against the standard. ``effectiveness`` is AIAG's:
    the share of parts on which all the appraiser's trials agree with the reference; ``miss_rate``
    (bad rated good) and ``false_alarm_rate`` (good rated bad) count single decisions and exist
    only for two categories with a reference.
    """

    categories: tuple
    appraisers: tuple
    n_parts: int
    n_trials: int
    within_appraiser: dict
    within_appraiser_kappa: dict
    each_vs_standard: dict | None
    each_vs_standard_kappa: dict | None
    between_appraisers: AgreementRate
    between_appraisers_kappa: FleissKappaResult
    pairwise_kappa: dict
    all_vs_standard: AgreementRate | None
    all_vs_standard_kappa: CohenKappaResult | None
    effectiveness: dict | None
    miss_rate: dict | None
    false_alarm_rate: dict | None
    decision_accuracy: dict | None
    good: object
    confidence: float


def _rate(matched: int, inspected: int, conf: float) -> AgreementRate:
    a = 1 - conf
    lo = 0.0 if matched == 0 else float(stats.beta.ppf(a / 2, matched, inspected - matched + 1))
    hi = 1.0 if matched == inspected else float(stats.beta.ppf(1 - a / 2, matched + 1, inspected - matched))
    return AgreementRate(int(inspected), int(matched), 100.0 * matched / inspected, (100.0 * lo, 100.0 * hi))


def _from_long_table(part, appraiser, rating, reference, trial=None):
    """Long table (one row per rating) -> parts x appraisers x trials array, appraiser names, reference."""
    from jingce.kernels.msa._study import _labels

    rating = np.asarray(rating)
    if rating.ndim != 1 or rating.size == 0:
        raise fail("rating", "must be a 1-D column with one entry per rating")
    pc, plab = _labels(part, "part", rating.size)
    ac, alab = _labels(appraiser, "appraiser", rating.size)
    counts = np.zeros((len(plab), len(alab)), dtype=np.int64)
    np.add.at(counts, (pc, ac), 1)
    if not np.all(counts == counts.flat[0]):
        i, j = (int(v) for v in np.argwhere(counts != counts.flat[0])[0])
        raise fail("rating", f"every part must be rated by every appraiser equally often: part {plab[i]!r} x "
                   f"appraiser {alab[j]!r} has {int(counts[i, j])} rating(s), part {plab[0]!r} x appraiser "
                   f"{alab[0]!r} has {int(counts.flat[0])}")
    keys = (ac, pc) if trial is None else (_labels(trial, "trial", rating.size)[0], ac, pc)
    order = np.lexsort(keys)
    out = rating[order].reshape(len(plab), len(alab), int(counts.flat[0]))
    if reference is not None:
        ref = np.asarray(reference)
        if ref.shape == rating.shape:  # one reference entry per row: must agree within a part
            per_part = {}
            for c, v in zip(pc, ref, strict=True):
                if per_part.setdefault(int(c), v) != v:
                    raise fail("reference", f"part {plab[int(c)]!r} has different reference decisions")
            reference = np.array([per_part[i] for i in range(len(plab))])
    return out, tuple(str(a) for a in alab), reference


def _attribute_agreement_iv(ratings, reference, appraisers, good, confidence):
    r = np.asarray(ratings)
    if r.ndim != 3:
        raise fail("ratings", f"must be 3-D (parts x appraisers x trials), got {r.ndim} dimension(s)")
    if r.shape[0] < 2:
        raise fail("ratings", "needs at least 2 parts")
    if r.shape[1] < 2:
        raise fail("ratings", "needs at least 2 appraisers for between-appraiser agreement")
    if r.shape[2] < 1:
        raise fail("ratings", "needs at least 1 trial")
    if r.dtype.kind == "f" and not np.all(np.isfinite(r)):
        raise fail("ratings", "must not contain NaN (every part rated by every appraiser in every trial)")
    ref = None
    if reference is not None:
        ref = np.asarray(reference)
        if ref.shape != (r.shape[0],):
            raise fail("reference", f"must hold one decision per part ({r.shape[0]}), got shape {ref.shape}")
    pool = np.concatenate([r.ravel(), ref]) if ref is not None else r.ravel()
    try:
        cats, codes = np.unique(pool, return_inverse=True)
    except TypeError:
        cats, codes = np.unique(pool.astype(str), return_inverse=True)
    if cats.size < 2:
        warn("only one category occurs: kappa is undefined")
    codes_r = codes[: r.size].reshape(r.shape)
    codes_ref = codes[r.size :] if ref is not None else None
    names = tuple(appraisers) if appraisers is not None else tuple(chr(65 + j) if j < 26 else str(j + 1) for j in range(r.shape[1]))
    if len(names) != r.shape[1]:
        raise fail("appraisers", f"must name the {r.shape[1]} appraisers, got {len(names)}")
    labels = tuple(c.item() if hasattr(c, "item") else c for c in cats)
    good_code = None
    if ref is not None and len(labels) == 2:
        if good is None:
            good = 1 if 1 in labels else None
        if good is not None:
            if good not in labels:
                raise fail("good", f"must be one of the categories {labels}, got {good!r}")
            good_code = labels.index(good)
    conf = as_probability(confidence, "confidence")
    return codes_r, codes_ref, labels, names, good, good_code, conf


def attribute_agreement(ratings=None, reference=None, *, part=None, appraiser=None, rating=None, trial=None,
                        appraisers=None, good=None, confidence: float = 0.95):
    """Attribute agreement analysis of a parts x appraisers x trials study.

    Parameters
    ----------
    ratings : array_like, shape (parts, appraisers, trials)
        Category of each rating (numbers or text). Alternatively the long table below.
    reference : array_like, shape (parts,), optional
        Reference (standard) decision of each part (in the order of the sorted part labels for a
        long table, or one entry per row of the long table).
    part, appraiser, rating : array_like, optional
        Long-table columns, one row per rating; every part rated equally often by every appraiser.
    trial : array_like, optional
        Trial number of each row of the long table: pairs of appraisers are compared trial by trial
        (without it, in the order the rows appear).
    appraisers : sequence of str, optional
        Appraiser names (default ``A, B, C, ...``).
    good : optional
        The "acceptable" category for miss and false-alarm rates (two categories only; defaults to
        1 when the categories are 0 and 1).
    confidence : float
        Level of the exact intervals of the percentages and of the kappa intervals.

    Returns
    -------
    AttributeAgreementResult

    References
    ----------
    AIAG MSA 4th ed. (2010), chapter III-C, Tables III-C 1 to III-C 7.
    """
    if ratings is None:
        if part is None or appraiser is None or rating is None:
            missing = [n for n, v in (("rating", rating), ("part", part), ("appraiser", appraiser)) if v is None]
            raise fail(missing[0], "is required: give ratings (parts x appraisers x trials) or part, appraiser "
                       "and rating columns")
        ratings, long_names, reference = _from_long_table(part, appraiser, rating, reference, trial)
        appraisers = appraisers if appraisers is not None else long_names
    elif part is not None or appraiser is not None or rating is not None:
        raise fail("ratings", "give either ratings (an array) or the part/appraiser/rating columns, not both")
    codes, ref, labels, names, good, good_code, conf = _attribute_agreement_iv(
        ratings, reference, appraisers, good, confidence)
    n_parts, n_app, n_trials = codes.shape
    k = max(len(labels), 2)  # a single category still gives 2 x 2 tables (kappa NaN, already warned)

    def counts_of(block):  # block: (parts, raters) codes -> subjects x categories counts
        return np.stack([(block == j).sum(axis=1) for j in range(k)], axis=1)

    def same(block):
        return np.all(block == block[:, :1], axis=1)

    def xtab(a, b):
        t = np.zeros((k, k))
        np.add.at(t, (a.ravel(), b.ravel()), 1.0)
        return t

    within, within_k = {}, {}
    for j, name in enumerate(names):
        within[name] = _rate(int(same(codes[:, j, :]).sum()), n_parts, conf)
        within_k[name] = fleiss_kappa(counts_of(codes[:, j, :]), confidence=conf) if n_trials >= 2 else None
    everyone = codes.reshape(n_parts, n_app * n_trials)
    between = _rate(int(same(everyone).sum()), n_parts, conf)
    between_k = fleiss_kappa(counts_of(everyone), confidence=conf)
    pairwise = {}
    for a in range(n_app):
        for b in range(a + 1, n_app):
            pairwise[f"{names[a]} x {names[b]}"] = cohen_kappa(xtab(codes[:, a, :], codes[:, b, :]), confidence=conf)
    each = each_k = all_std = all_k = eff = miss = fa = acc = None
    if ref is not None:
        each, each_k, eff, acc = {}, {}, {}, {}
        for j, name in enumerate(names):
            ok = np.all(codes[:, j, :] == ref[:, None], axis=1)
            each[name] = _rate(int(ok.sum()), n_parts, conf)
            each_k[name] = cohen_kappa(xtab(codes[:, j, :], np.repeat(ref[:, None], n_trials, axis=1)), confidence=conf)
            eff[name] = each[name]
            acc[name] = _rate(int((codes[:, j, :] == ref[:, None]).sum()), n_parts * n_trials, conf)
        all_std = _rate(int(np.all(everyone == ref[:, None], axis=1).sum()), n_parts, conf)
        all_k = cohen_kappa(xtab(everyone, np.repeat(ref[:, None], n_app * n_trials, axis=1)), confidence=conf)
        if good_code is not None:
            miss, fa = {}, {}
            bad = ref != good_code
            for j, name in enumerate(names):
                called_good = codes[:, j, :] == good_code
                n_bad = int(bad.sum()) * n_trials
                n_good = int((~bad).sum()) * n_trials
                miss[name] = _rate(int(called_good[bad].sum()), n_bad, conf) if n_bad else None
                fa[name] = _rate(int((~called_good[~bad]).sum()), n_good, conf) if n_good else None
    return AttributeAgreementResult(
        categories=labels, appraisers=names, n_parts=n_parts, n_trials=n_trials, within_appraiser=within,
        within_appraiser_kappa=within_k, each_vs_standard=each, each_vs_standard_kappa=each_k,
        between_appraisers=between, between_appraisers_kappa=between_k, pairwise_kappa=pairwise,
        all_vs_standard=all_std, all_vs_standard_kappa=all_k, effectiveness=eff, miss_rate=miss, false_alarm_rate=fa, decision_accuracy=acc,
        good=good, confidence=conf,
    )
