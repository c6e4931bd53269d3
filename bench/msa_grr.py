#!/usr/bin/env python3
"""Benchmark: 10,000 Gage R&R studies (10 parts x 3 appraisers x 3 trials) by ANOVA.

Contenders, measured alternately in one process (round robin, median of the rounds):

* jingce ``grr_anova_batch``: all 10,000 studies in one vectorised call;
* a loop over statsmodels ``ols`` + ``anova_lm`` (typ 2) plus the AIAG variance-component arithmetic,
  on a sample of studies, scaled up to 10,000;
* the Gage R&R packages on PyPI: ``pypetb`` (``RnRNumeric.RnRSolve``, the most complete: ANOVA
  table with pooling, variance table) and ``gagernr`` (``GageRnR.calculate``, a plain numpy ANOVA),
  each on a sample, scaled up;
* for reference, a Python loop over jingce's single-study ``grr_anova`` (with its confidence intervals).

Before timing, the GRR of every sampled study is compared with the batch result (same interaction
handling), so the ratios compare equal work that gives equal answers.

Usage: ``python bench/msa_grr.py [--studies 10000] [--rounds 5]``; anchors from
bench/requirements-msa.txt.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import numpy as np

from jingce.kernels.msa import grr_anova, grr_anova_batch

P, A, R = 10, 3, 3


def make_studies(n: int, seed: int = 20261128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (25.0 + rng.normal(0, 1.0, (n, P, 1, 1)) + rng.normal(0, 0.25, (n, 1, A, 1))
            + rng.normal(0, 0.1, (n, P, A, 1)) * rng.uniform(0, 1, (n, 1, 1, 1)) + rng.normal(0, 0.2, (n, P, A, R)))


def long_frame(y: np.ndarray):
    import pandas as pd

    idx = np.indices(y.shape).reshape(3, -1)
    return pd.DataFrame({"part": idx[0], "appraiser": idx[1], "value": y.ravel()})


def statsmodels_grr(y: np.ndarray) -> float:
    """GRR standard deviation from statsmodels anova_lm with AIAG pooling at p > 0.25."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    t = anova_lm(smf.ols("value ~ C(part) * C(appraiser)", data=long_frame(y)).fit(), typ=2)
    ss, df = t["sum_sq"], t["df"]
    ms = ss / df
    p_int = t.loc["C(part):C(appraiser)", "PR(>F)"]
    if p_int > 0.25:
        ms_e = (ss["C(part):C(appraiser)"] + ss["Residual"]) / (df["C(part):C(appraiser)"] + df["Residual"])
        var_o = max((ms["C(appraiser)"] - ms_e) / (P * R), 0.0)
        var_po = 0.0
    else:
        ms_e = ms["Residual"]
        var_po = max((ms["C(part):C(appraiser)"] - ms_e) / R, 0.0)
        var_o = max((ms["C(appraiser)"] - ms["C(part):C(appraiser)"]) / (P * R), 0.0)
    return float(np.sqrt(ms_e + var_o + var_po))


def pypetb_grr(y: np.ndarray) -> float:
    from pypetb import RnR

    df = long_frame(y).rename(columns={"appraiser": "Operator", "part": "Part", "value": "Value"})
    m = RnR.RnRNumeric(df, {"1": "Operator", "2": "Part", "3": "Value"}, 6.0)
    m.RnRSolve()
    return float(np.sqrt(m.RnR_varTable().loc["Total Gage R&R", "Variance"]))


def gagernr_grr(y: np.ndarray) -> float:
    from GageRnR import GageRnR
    from GageRnR.statistics import Result

    res = GageRnR(np.ascontiguousarray(np.transpose(y, (1, 0, 2)))).calculate()
    return float(np.sqrt(res[Result.Var][GageRnR.GRR]))


def gagernr_ms(y: np.ndarray) -> np.ndarray:
    """gagernr's mean squares (part, appraiser, interaction, error).

    Its variance components are not comparable: it divides the interaction mean-square difference by
    the number of parts instead of the number of trials (EMS: sigma_e^2 + r sigma_PO^2) and never
    pools, so the check compares the mean squares.
    """
    from GageRnR import GageRnR
    from GageRnR.statistics import Component, Result

    ms = GageRnR(np.ascontiguousarray(np.transpose(y, (1, 0, 2)))).calculate()[Result.MS]
    return np.array([ms[c] for c in (Component.PART, Component.OPERATOR, Component.OPERATOR_BY_PART,
                                     Component.MEASUREMENT)])


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--studies", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sample-statsmodels", type=int, default=60)
    ap.add_argument("--sample-pypetb", type=int, default=10)
    ap.add_argument("--sample-gagernr", type=int, default=300)
    ap.add_argument("--sample-jingce", type=int, default=100)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    y = make_studies(args.studies)
    n = args.studies

    # correctness first: the sampled contenders agree with the batch result
    batch = grr_anova_batch(y)
    minitab = grr_anova_batch(y, pool_alpha=0.05)  # pypetb pools the interaction at p > 0.05 (Minitab)
    ms = np.stack([batch.ms_part, batch.ms_appraiser, batch.ms_interaction, batch.ms_error], axis=1)
    k = 20
    checks = {
        "statsmodels (GRR, AIAG pooling at 0.25)": max(abs(statsmodels_grr(y[i]) - batch.grr[i]) for i in range(k)),
        "gagernr (mean squares)": max(float(np.max(np.abs(gagernr_ms(y[i]) - ms[i]))) for i in range(k)),
        "jingce single (GRR)": max(abs(grr_anova(y[i]).grr - batch.grr[i]) for i in range(k)),
    }
    have_pypetb = True
    try:
        checks["pypetb (GRR, pooling at 0.05)"] = max(abs(pypetb_grr(y[i]) - minitab.grr[i]) for i in range(k))
    except Exception as exc:  # pragma: no cover - depends on the installed anchor
        have_pypetb = False
        print(f"pypetb unavailable: {exc!r}")
    for name, err in checks.items():
        print(f"max abs difference to the batch over {k} studies, {name}: {err:.2e}")

    contenders = {
        "jingce grr_anova_batch (one call)": (lambda: grr_anova_batch(y), n),
        "statsmodels anova_lm loop": (lambda: [statsmodels_grr(y[i]) for i in range(args.sample_statsmodels)],
                                      args.sample_statsmodels),
        "gagernr loop": (lambda: [gagernr_grr(y[i]) for i in range(args.sample_gagernr)], args.sample_gagernr),
        "jingce grr_anova loop (with CIs)": (lambda: [grr_anova(y[i]) for i in range(args.sample_jingce)],
                                             args.sample_jingce),
    }
    if have_pypetb:
        contenders["pypetb RnRNumeric loop"] = (lambda: [pypetb_grr(y[i]) for i in range(args.sample_pypetb)],
                                                args.sample_pypetb)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for fn, _ in contenders.values():  # warm-up
        fn()
    for _ in range(args.rounds):
        for name, (fn, count) in contenders.items():
            dt, _ = timed(fn)
            times[name].append(dt * n / count)  # scaled to all studies
    base = statistics.median(times["jingce grr_anova_batch (one call)"])
    print(f"\n{n} studies of {P}x{A}x{R}, {args.rounds} alternating rounds (median; loops scaled from samples)")
    print(f"{'contender':40s} {'time for all (s)':>18s} {'per study (us)':>15s} {'ratio to batch':>15s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:40s} {med:18.4f} {1e6 * med / n:15.1f} {med / base:15.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
