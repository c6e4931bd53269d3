"""Benchmark: volumetric error of a 21-error 3-axis machine at 10 million points, and identification of
the 21 parameters from 100,000 measured points; jingce against a per-point homogeneous-transform loop
in numpy (the naive way, timed on a sample and scaled) and against a vectorised numpy floor written here.

All contenders run in one process, alternating round robin; the median of the rounds is reported.
OpenBLAS is limited to one thread (both sides), because its threaded GEMM stalls on a loaded 2-core
machine and would make the floor's least squares meaningless to time.

    .venv/bin/python bench/kinematics_volumetric.py [--points 10000000] [--ident-points 100000]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from jingce.kernels import kinematics as kin  # noqa: E402

CHAIN = "XbYZ"  # X carries the workpiece, Y and Z the tool
SCALE = np.array([500.0, 400.0, 300.0])
TOOLS = np.array([[0.0, 0.0, -100.0], [60.0, 0.0, -150.0], [0.0, 75.0, -80.0], [-40.0, -40.0, -200.0]])


def make_model(seed=21):
    """A 21-parameter machine: scale errors, bows, angular slopes and squareness (ISO 230-1 names)."""
    rng = np.random.default_rng(seed)
    errors = {}
    for k, name in enumerate(kin.COMPONENT_ERRORS):
        axis, c = divmod(k, 6)
        if c == axis:
            errors[name] = [0.0, rng.normal(0, 5e-3)]  # positioning: scale error
        elif c < 3:
            errors[name] = [0.0, 0.0, rng.normal(0, 3e-3)]  # straightness: bow
        else:
            errors[name] = [0.0, rng.normal(0, 8e-6)]  # angular: slope
    for name in kin.SQUARENESS_ERRORS:
        errors[name] = float(rng.normal(0, 1.5e-5))
    return kin.geometric_errors(errors, chain=CHAIN, scale=SCALE)


def make_points(n, seed=1):
    rng = np.random.default_rng(seed)
    q = rng.uniform([-500.0, -400.0, -300.0], [500.0, 400.0, 0.0], (n, 3))
    t = TOOLS[rng.integers(0, len(TOOLS), n)]
    return q, t


# ----------------------------------------------------------------------------- naive: per point, 4x4


def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1.0]])


def _ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s, 0], [0, 1, 0, 0], [-s, 0, c, 0], [0, 0, 0, 1.0]])


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])


def _tr(v):
    m = np.eye(4)
    m[:3, 3] = v
    return m


def naive_point(coef, sq, q, t):
    """Volumetric error of one point with explicit homogeneous matrices, chain W-X-b-Y-Z-T."""
    def comp(k, x):
        return float(np.polyval(coef[k][::-1], x))

    s = q / SCALE
    err = []
    for ax in range(3):
        e = [comp(6 * ax + c, s[ax]) for c in range(6)]
        err.append(_tr(e[:3]) @ _rx(e[3]) @ _ry(e[4]) @ _rz(e[5]))
    uy = (_rz(sq[0]) @ np.array([0, 1.0, 0, 0]))[:3]
    uz = (_rx(sq[2]) @ _ry(sq[1]) @ np.array([0, 0, 1.0, 0]))[:3]
    m = err[0] @ _tr(q[0] * np.array([1.0, 0, 0])) @ _tr(q[1] * uy) @ err[1] @ _tr(q[2] * uz) @ err[2]
    p = m @ np.append(t, 1.0)
    return p[:3] - (q + t)


def naive_volumetric(model, q, t):
    coef, sq = model.coefficients, model.squareness
    return np.array([naive_point(coef, sq, q[i], t[i]) for i in range(q.shape[0])])


def naive_identify(q, e, h=1e-7):
    """Finite-difference Jacobian, one point at a time through the 4x4 chain, then least squares."""
    layout = []
    for k in range(18):
        axis, c = divmod(k, 6)
        layout.append((k, 2 if (c < 3 and c != axis) else 1))
    n = q.shape[0]
    jac = np.empty((n, 3, 21))
    coef0 = np.zeros((18, 3))
    sq0 = np.zeros(3)
    for i in range(n):
        base = naive_point(coef0, sq0, q[i], TOOL_OF_POINT[i])
        for p, (k, j) in enumerate(layout):
            c = coef0.copy()
            c[k, j] = h
            jac[i, :, p] = (naive_point(c, sq0, q[i], TOOL_OF_POINT[i]) - base) / h
        for p in range(3):
            s = sq0.copy()
            s[p] = h
            jac[i, :, 18 + p] = (naive_point(coef0, s, q[i], TOOL_OF_POINT[i]) - base) / h
    x, *_ = np.linalg.lstsq(jac.reshape(-1, 21), e.reshape(-1), rcond=None)
    return x


TOOL_OF_POINT = None


# ----------------------------------------------------------------------------- vectorised numpy floor


def floor_volumetric_exact(model, q, t, chunk=1_000_000):
    """Stacked 4x4 matrices per point, chunked, multiplied with np.matmul: the obvious vectorisation."""
    out = np.empty_like(q)
    coef, sq = model.coefficients, model.squareness
    uy = np.array([-np.sin(sq[0]), np.cos(sq[0]), 0.0])
    uz = np.array([np.sin(sq[1]), -np.sin(sq[2]) * np.cos(sq[1]), np.cos(sq[2]) * np.cos(sq[1])])
    for lo in range(0, q.shape[0], chunk):
        qc, tc = q[lo:lo + chunk], t[lo:lo + chunk]
        n = qc.shape[0]
        s = qc / SCALE
        mats = []
        for ax in range(3):
            e = [np.polynomial.polynomial.polyval(s[:, ax], coef[6 * ax + c]) for c in range(6)]
            ca, sa = np.cos(e[3]), np.sin(e[3])
            cb, sb = np.cos(e[4]), np.sin(e[4])
            cc, sc = np.cos(e[5]), np.sin(e[5])
            m = np.zeros((n, 4, 4))
            # R = Rx(a) Ry(b) Rz(c)
            m[:, 0, 0] = cb * cc
            m[:, 0, 1] = -cb * sc
            m[:, 0, 2] = sb
            m[:, 1, 0] = sa * sb * cc + ca * sc
            m[:, 1, 1] = -sa * sb * sc + ca * cc
            m[:, 1, 2] = -sa * cb
            m[:, 2, 0] = -ca * sb * cc + sa * sc
            m[:, 2, 1] = ca * sb * sc + sa * cc
            m[:, 2, 2] = ca * cb
            m[:, 0, 3], m[:, 1, 3], m[:, 2, 3] = e[0], e[1], e[2]
            m[:, 3, 3] = 1.0
            mats.append(m)
        tx = np.zeros((n, 4, 4))
        tx[:, [0, 1, 2, 3], [0, 1, 2, 3]] = 1.0
        ty, tz = tx.copy(), tx.copy()
        tx[:, 0, 3] = qc[:, 0]
        ty[:, :3, 3] = qc[:, 1:2] * uy
        tz[:, :3, 3] = qc[:, 2:3] * uz
        chain = mats[0] @ tx @ ty @ mats[1] @ tz @ mats[2]
        p = np.einsum("nij,nj->ni", chain[:, :3, :3], tc) + chain[:, :3, 3]
        out[lo:lo + chunk] = p - (qc + tc)
    return out


def floor_volumetric_first_order(model, q, t):
    """The closed-form first-order error of chain W-X-b-Y-Z-T, written out for whole arrays."""
    coef, (g, b, a) = model.coefficients, model.squareness
    s = q / SCALE
    e = [[np.polynomial.polynomial.polyval(s[:, ax], coef[6 * ax + c]) for c in range(6)] for ax in range(3)]
    x, y, z = q[:, 0], q[:, 1], q[:, 2]
    tx, ty, tz = t[:, 0], t[:, 1], t[:, 2]
    # pivot-to-tool vectors: Z: t; Y: t + z e_z; X (workpiece side, outermost): t + (x, y, z)
    out = np.empty_like(q)
    vx, vy, vz = tx + x, ty + y, tz + z  # X's lever arm
    wx, wy, wz = tx, ty, tz + z  # Y's lever arm
    out[:, 0] = (e[0][0] + e[0][4] * vz - e[0][5] * vy + e[1][0] + e[1][4] * wz - e[1][5] * wy
                 + e[2][0] + e[2][4] * tz - e[2][5] * ty - g * y + b * z)
    out[:, 1] = (e[0][1] + e[0][5] * vx - e[0][3] * vz + e[1][1] + e[1][5] * wx - e[1][3] * wz
                 + e[2][1] + e[2][5] * tx - e[2][3] * tz - a * z)
    out[:, 2] = (e[0][2] + e[0][3] * vy - e[0][4] * vx + e[1][2] + e[1][3] * wy - e[1][4] * wx
                 + e[2][2] + e[2][3] * ty - e[2][4] * tx)
    return out


def floor_identify(q, t, e):
    """Closed-form first-order Jacobian of the 21 parameters for chain W-X-b-Y-Z-T, then lstsq."""
    n = q.shape[0]
    s = q / SCALE
    x, y, z = q[:, 0], q[:, 1], q[:, 2]
    tx, ty, tz = t[:, 0], t[:, 1], t[:, 2]
    lever = [(tx + x, ty + y, tz + z), (tx, ty, tz + z), (tx, ty, tz)]
    jac = np.zeros((n, 3, 21))
    p = 0
    for ax in range(3):
        vx, vy, vz = lever[ax]
        for c in range(3):  # translations
            jac[:, c, p] = s[:, ax] if c == ax else s[:, ax] ** 2
            p += 1
        basis = s[:, ax]
        jac[:, 1, p], jac[:, 2, p] = -vz * basis, vy * basis  # E_A
        jac[:, 0, p + 1], jac[:, 2, p + 1] = vz * basis, -vx * basis  # E_B
        jac[:, 0, p + 2], jac[:, 1, p + 2] = -vy * basis, vx * basis  # E_C
        p += 3
    jac[:, 0, 18] = -y
    jac[:, 0, 19] = z
    jac[:, 1, 20] = -z
    x_hat, *_ = np.linalg.lstsq(jac.reshape(-1, 21), e.reshape(-1), rcond=None)
    return x_hat


# ----------------------------------------------------------------------------- harness


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def main():
    global TOOL_OF_POINT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--ident-points", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--naive-sample", type=int, default=2_000)
    ap.add_argument("--naive-ident-sample", type=int, default=300)
    ap.add_argument("--json", default=None, help="write the medians here")
    args = ap.parse_args()

    model = make_model()
    q, t = make_points(args.points)
    print(f"volumetric error at {args.points:,} points, chain {CHAIN}; load average {os.getloadavg()}")

    # correctness first: every contender agrees on a sample
    qs, ts = q[:500], t[:500]
    ref = naive_volumetric(model, qs, ts)
    checks = {
        "jingce exact vs naive 4x4": np.abs(kin.volumetric_error(model, qs, tool_offset=ts).errors - ref).max(),
        "floor exact vs naive 4x4": np.abs(floor_volumetric_exact(model, qs, ts) - ref).max(),
        "jingce first order vs floor first order": np.abs(
            kin.volumetric_error(model, qs, tool_offset=ts, method="first_order").errors
            - floor_volumetric_first_order(model, qs, ts)).max(),
        "first order vs exact": np.abs(floor_volumetric_first_order(model, qs, ts) - ref).max(),
    }
    for k, v in checks.items():
        print(f"  check {k}: max |diff| = {v:.2e} mm")

    times = {k: [] for k in ("jingce_exact", "jingce_first_order", "floor_exact", "floor_first_order", "naive")}
    for r in range(args.rounds):
        times["jingce_exact"].append(timed(kin.volumetric_error, model, q, tool_offset=t)[0])
        times["floor_exact"].append(timed(floor_volumetric_exact, model, q, t)[0])
        times["jingce_first_order"].append(timed(kin.volumetric_error, model, q, tool_offset=t, method="first_order")[0])
        times["floor_first_order"].append(timed(floor_volumetric_first_order, model, q, t)[0])
        lo = r * args.naive_sample
        dt, _ = timed(naive_volumetric, model, q[lo:lo + args.naive_sample], t[lo:lo + args.naive_sample])
        times["naive"].append(dt * args.points / args.naive_sample)
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    vol = {k: statistics.median(v) for k, v in times.items()}

    # identification
    n = args.ident_points
    qi, ti = make_points(n, seed=2)
    ei = kin.volumetric_error(model, qi, tool_offset=ti, method="first_order").errors
    TOOL_OF_POINT = ti
    idf = kin.identify(qi, ei, chain=CHAIN, tool_offset=ti, terms=1, scale=SCALE)
    x_floor = floor_identify(qi, ti, ei)
    ns = args.naive_ident_sample
    x_naive = naive_identify(qi[:ns], ei[:ns])
    order = [idf.parameter_names.index(nm) for nm in idf.parameter_names]
    print(f"identification of {len(idf.parameters)} parameters from {n:,} points: rank {idf.rank}, "
          f"condition number {idf.condition_number:.3g}")
    print(f"  check jingce vs floor: max |diff| = {np.abs(idf.parameters[order] - x_floor).max():.2e}; "
          f"naive (sample of {ns}) vs floor: {np.abs(x_naive - x_floor).max():.2e} (finite differences)")
    itimes = {k: [] for k in ("jingce", "floor", "naive")}
    for r in range(args.rounds):
        itimes["jingce"].append(timed(kin.identify, qi, ei, chain=CHAIN, tool_offset=ti, terms=1, scale=SCALE)[0])
        itimes["floor"].append(timed(floor_identify, qi, ti, ei)[0])
        lo = r * ns
        dt, _ = timed(naive_identify, qi[lo:lo + ns], ei[lo:lo + ns])
        itimes["naive"].append(dt * n / ns)
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in itimes.items()))
    ident = {k: statistics.median(v) for k, v in itimes.items()}

    print("\nmedians (s) and ratios")
    print(f"  volumetric exact:       jingce {vol['jingce_exact']:.2f}, floor {vol['floor_exact']:.2f}, "
          f"naive {vol['naive']:.0f} -> naive/jingce {vol['naive'] / vol['jingce_exact']:.0f}x, "
          f"jingce/floor {vol['jingce_exact'] / vol['floor_exact']:.2f}")
    print(f"  volumetric first order: jingce {vol['jingce_first_order']:.2f}, floor {vol['floor_first_order']:.2f} "
          f"-> naive/jingce {vol['naive'] / vol['jingce_first_order']:.0f}x, "
          f"jingce/floor {vol['jingce_first_order'] / vol['floor_first_order']:.2f}")
    print(f"  identification:         jingce {ident['jingce']:.3f}, floor {ident['floor']:.3f}, naive {ident['naive']:.0f} "
          f"-> naive/jingce {ident['naive'] / ident['jingce']:.0f}x, jingce/floor {ident['jingce'] / ident['floor']:.2f}")
    print(f"load average {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"volumetric": vol, "identification": ident, "checks": {k: float(v) for k, v in checks.items()},
                       "points": args.points, "ident_points": n}, fh, indent=2)


if __name__ == "__main__":
    main()
