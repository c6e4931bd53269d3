"""Bulk GUM: 100,000 independent measurements (one budget each) - jingce vectorised vs GTC and the
`uncertainties` package looping one measurement at a time.

Model: JCGM 101 9.3 mass calibration (5 inputs, non-linear), every measurement with its own estimates and
standard uncertainties. jingce computes y, u_c, sensitivities, contributions, nu_eff (Welch-Satterthwaite),
k and U for all at once; GTC computes y, u and dof per measurement; `uncertainties` y and u only.
The loopers are timed on a slice (default 5,000) and their time scaled to 100,000 (they are linear in N);
the contenders alternate, R repeats, medians and ratios printed.

    .venv/bin/python bench/gum_bulk.py [--n 100000] [--slice 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from jingce.kernels.uncertainty import gum, normal

MODEL = "(mrc + dmrc)*(1 + (rhoa - 1.2)*(1/rhow - 1/rhor)) - 100000"


def data(n: int):
    rng = np.random.default_rng(1)
    return {
        "mrc": (100000.0 + rng.normal(0, 0.01, n), rng.uniform(0.04, 0.06, n)),
        "dmrc": (1.234 + rng.normal(0, 0.01, n), rng.uniform(0.015, 0.025, n)),
        "rhoa": (1.2 + rng.normal(0, 0.01, n), np.full(n, 0.2 / math.sqrt(12))),
        "rhow": (8000 + rng.normal(0, 10, n), np.full(n, 2000 / math.sqrt(12))),
        "rhor": (8000 + rng.normal(0, 1, n), np.full(n, 100 / math.sqrt(12))),
    }


def jingce(d):
    inputs = {k: normal(x, u, dof=20 if k == "dmrc" else None) for k, (x, u) in d.items()}
    r = gum(MODEL, inputs)
    return r.y, r.u, r.U


def gtc(d, n):
    from GTC import rp, ureal

    ys = np.empty(n)
    us = np.empty(n)
    for i in range(n):
        v = {k: ureal(float(x[i]), float(u[i]), 20 if k == "dmrc" else math.inf) for k, (x, u) in d.items()}
        y = (v["mrc"] + v["dmrc"]) * (1 + (v["rhoa"] - 1.2) * (1 / v["rhow"] - 1 / v["rhor"])) - 100000
        ys[i] = y.x
        us[i] = y.u
        rp.k_factor(y.df)
    return ys, us


def unc(d, n):
    from uncertainties import ufloat

    ys = np.empty(n)
    us = np.empty(n)
    for i in range(n):
        v = {k: ufloat(float(x[i]), float(u[i])) for k, (x, u) in d.items()}
        y = (v["mrc"] + v["dmrc"]) * (1 + (v["rhoa"] - 1.2) * (1 / v["rhow"] - 1 / v["rhor"])) - 100000
        ys[i] = y.nominal_value
        us[i] = y.std_dev
    return ys, us


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--slice", type=int, default=5_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    d = data(args.n)
    ds = {k: (x[: args.slice], u[: args.slice]) for k, (x, u) in d.items()}
    times = {"jingce": [], "GTC": [], "uncertainties": []}
    for rep in range(args.repeats + 1):
        t0 = time.perf_counter()
        y, u, _ = jingce(d)
        t1 = time.perf_counter()
        yg, ug = gtc(ds, args.slice)
        t2 = time.perf_counter()
        yu, uu = unc(ds, args.slice)
        t3 = time.perf_counter()
        if rep:
            scale = args.n / args.slice
            times["jingce"].append(t1 - t0)
            times["GTC"].append((t2 - t1) * scale)
            times["uncertainties"].append((t3 - t2) * scale)
    assert np.allclose(y[: args.slice], yg, rtol=1e-12) and np.allclose(u[: args.slice], ug, rtol=1e-6)
    assert np.allclose(u[: args.slice], uu, rtol=1e-6)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"bulk GUM of {args.n:,} measurements (loopers timed on {args.slice:,} and scaled), median of {args.repeats}")
    for k, v in med.items():
        print(f"  {k:14s} {v:8.3f} s   {args.n / v:11.3e} measurements/s")
    print(f"  speed jingce / GTC: {med['GTC'] / med['jingce']:.0f}x")
    print(f"  speed jingce / uncertainties: {med['uncertainties'] / med['jingce']:.0f}x")


if __name__ == "__main__":
    main()
