"""Monte Carlo of the JCGM 101 9.3 mass-calibration model: jingce vs suncal vs a plain numpy floor.

All contenders run in this one process, alternating (jingce 1 thread, jingce 2 threads, numpy floor,
suncal), R repetitions each; medians and ratios are printed. Each contender produces the mean, the
standard deviation and a 95 % coverage interval (jingce: symmetric and shortest; floor: np.percentile;
suncal: monte_carlo() then expanded(shortest=True)). jingce also validates against GUM (clause 8).

    .venv/bin/python bench/montecarlo_mass.py [--trials 1e6 1e7] [--repeats 5] [--no-suncal]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from jingce.kernels.uncertainty import monte_carlo, normal, rectangular

MODEL = "(mrc + dmrc)*(1 + (rhoa - 1.2)*(1/rhow - 1/rhor)) - 100000"
INPUTS = {
    "mrc": normal(100000.0, 0.050),
    "dmrc": normal(1.234, 0.020),
    "rhoa": rectangular(1.10, 1.30),
    "rhow": rectangular(7000, 9000),
    "rhor": rectangular(7950, 8050),
}


def numpy_floor(m: int, seed: int) -> tuple[float, float, float, float]:
    """The plain single-threaded numpy script a metrologist would write."""
    rng = np.random.default_rng(seed)
    mrc = rng.normal(100000.0, 0.050, m)
    dmrc = rng.normal(1.234, 0.020, m)
    rhoa = rng.uniform(1.10, 1.30, m)
    rhow = rng.uniform(7000, 9000, m)
    rhor = rng.uniform(7950, 8050, m)
    y = (mrc + dmrc) * (1 + (rhoa - 1.2) * (1 / rhow - 1 / rhor)) - 100000
    lo, hi = np.percentile(y, [2.5, 97.5])
    return float(y.mean()), float(y.std(ddof=1)), float(lo), float(hi)


def jingce(m: int, seed: int, workers: int) -> tuple[float, float, float, float]:
    r = monte_carlo(MODEL, INPUTS, m, rng=seed, workers=workers)
    return r.y, r.u, r.shortest_low, r.shortest_high


def suncal_mc(m: int, seed: int) -> tuple[float, float, float, float]:
    import suncal

    np.random.seed(seed)  # noqa: NPY002 - suncal samples from numpy's global generator
    mod = suncal.Model("dm = (mrc + dmrc)*(1 + (rhoa - 1.2)*(1/rhow - 1/rhor)) - 100000")
    mod.var("mrc").measure(100000.0).typeb(dist="normal", std=0.050)
    mod.var("dmrc").measure(1.234).typeb(dist="normal", std=0.020)
    mod.var("rhoa").measure(1.2).typeb(dist="uniform", a=0.1)
    mod.var("rhow").measure(8000).typeb(dist="uniform", a=1000)
    mod.var("rhor").measure(8000).typeb(dist="uniform", a=50)
    res = mod.monte_carlo(samples=m)
    ex = res.expanded(conf=0.95, shortest=True)["dm"]
    return float(res.expected["dm"]), float(res.uncertainty["dm"]), float(ex.low), float(ex.high)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=float, nargs="+", default=[1e6, 1e7])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-suncal", action="store_true")
    args = ap.parse_args()
    contenders = {
        "jingce_1thread": lambda m, s: jingce(m, s, 1),
        "jingce_2threads": lambda m, s: jingce(m, s, 2),
        "numpy_floor": numpy_floor,
    }
    if not args.no_suncal:
        contenders["suncal"] = suncal_mc
    for mf in args.trials:
        m = int(mf)
        times: dict[str, list[float]] = {k: [] for k in contenders}
        results = {}
        for rep in range(args.repeats + 1):
            for name, fn in contenders.items():
                t0 = time.perf_counter()
                results[name] = fn(m, 1000 + rep)
                if rep:  # the first round is a warm-up
                    times[name].append(time.perf_counter() - t0)
        print(f"\nM = {m:.0e} trials, {args.repeats} alternating repeats (median wall time, trials per second)")
        med = {k: statistics.median(v) for k, v in times.items()}
        for name in contenders:
            y, u, lo, hi = results[name]
            print(f"  {name:16s} {med[name]:7.3f} s  {m / med[name]:11.3e} trials/s   y={y:.5f} u={u:.5f} "
                  f"[{lo:.4f}, {hi:.4f}]")
        for ref in ("numpy_floor", "suncal"):
            if ref in med:
                for name in ("jingce_1thread", "jingce_2threads"):
                    print(f"  speed {name} / {ref}: {med[ref] / med[name]:.2f}x")


if __name__ == "__main__":
    main()
