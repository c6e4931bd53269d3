"""Peak memory of a 1e8-trial Monte Carlo run (JCGM 101 9.3 model): the streaming two-pass summary keeps
memory bounded. Prints wall time, trials per second and the peak resident set size of this process.

    .venv/bin/python bench/montecarlo_memory.py [--trials 1e8] [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import time

from jingce.kernels.uncertainty import monte_carlo, normal, rectangular

MODEL = "(mrc + dmrc)*(1 + (rhoa - 1.2)*(1/rhow - 1/rhor)) - 100000"
INPUTS = {
    "mrc": normal(100000.0, 0.050),
    "dmrc": normal(1.234, 0.020),
    "rhoa": rectangular(1.10, 1.30),
    "rhow": rectangular(7000, 9000),
    "rhor": rectangular(7950, 8050),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=float, default=1e8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    m = int(args.trials)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    r = monte_carlo(MODEL, INPUTS, m, rng=1, workers=args.workers)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"M = {m:.0e}: {wall:.1f} s, {m / wall:.3e} trials/s, peak RSS {peak:.0f} MiB (after imports {base:.0f} MiB)")
    print(f"  y = {r.y:.6f} mg, u = {r.u:.6f} mg, shortest 95 % [{r.shortest_low:.5f}, {r.shortest_high:.5f}] mg, "
          f"symmetric [{r.symmetric_low:.5f}, {r.symmetric_high:.5f}] mg")


if __name__ == "__main__":
    main()
