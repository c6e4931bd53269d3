"""The fused run-rule engine against the rules' definitions, checked point by point.

The oracle below walks every point and every rule and tests the pattern literally (the window of
m points ending at the point, inside its own series), with the conventions of
:mod:`jingce.kernels.spc.rules`: a point breaks a rule when it completes the pattern; for the
"k of m beyond a zone" rules the point itself is beyond the zone and the whole window lies in the
series; NaN points break nothing and interrupt runs; the degenerate windows (trend of 1 point,
alternation of 2 or fewer) hold at every finite point.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.kernels.spc import NELSON, WESTERN_ELECTRIC, RunRule
from jingce.kernels.spc.rules import _last_flags, evaluate

KINDS = ("beyond", "k_of_m_beyond", "run_same_side", "trend", "alternating", "run_within", "run_outside")
# zone boundaries hit exactly, NaN, and values just off them
LEVELS = [-3.5, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.0000001, 2.0, 3.0, 3.5, float("nan")]


def _oracle(z, rules, seg_start, flag):
    n = z.size
    out = np.zeros((len(rules), n), bool)
    fin = np.isfinite(z)
    for r_i, r in enumerate(rules):
        m, zone = r.m, r.zone
        last = np.zeros(n, bool)
        for i in range(n):
            lo = i - m + 1
            inside = lo >= seg_start[i]
            w = z[max(lo, 0): i + 1]
            if r.kind == "beyond":
                hit = abs(z[i]) > zone
            elif r.kind == "k_of_m_beyond":
                hit = inside and ((z[i] > zone and np.sum(w > zone) >= r.k) or (z[i] < -zone and np.sum(w < -zone) >= r.k))
            elif r.kind == "run_same_side":
                hit = inside and (bool(np.all(w > 0)) or bool(np.all(w < 0)))
            elif r.kind == "trend":
                if m <= 1:
                    hit = True
                else:
                    d = np.diff(w)
                    hit = inside and (bool(np.all(d > 0)) or bool(np.all(d < 0)))
            elif r.kind == "alternating":
                if m <= 2:
                    hit = True
                else:
                    d = np.diff(w)
                    hit = inside and bool(np.all(np.isfinite(d) & (d != 0))) and bool(np.all(d[1:] * d[:-1] < 0))
            elif r.kind == "run_within":
                hit = inside and bool(np.all(np.isfinite(w) & (np.abs(w) < zone)))
            else:
                hit = inside and bool(np.all(np.abs(w) > zone))
            last[i] = hit
        if flag == "window" and r.kind != "beyond":
            spread = last.copy()
            for i in np.flatnonzero(last):
                spread[max(i - m + 1, 0): i + 1] = True
            last = spread
        out[r_i] = last & fin
    return out


rule_st = st.builds(
    lambda kind, m, kf, zone: RunRule("r", kind, m, max(1, int(round(kf * m))), zone),
    st.sampled_from(KINDS), st.integers(1, 18), st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]),
)


@given(
    st.lists(st.sampled_from(LEVELS) | st.floats(-4, 4), min_size=0, max_size=70),
    st.lists(st.integers(0, 70), max_size=4),
    st.lists(rule_st, min_size=1, max_size=4),
    st.sampled_from(["last", "window"]),
)
@settings(max_examples=300, deadline=None)
def test_fused_engine_matches_rule_definitions(values, cuts, rules, flag):
    z = np.array(values, dtype=float)
    heads = sorted({0, *(c for c in cuts if c < z.size)})
    seg_start = np.zeros(z.size, np.int64)
    for h in heads:
        seg_start[h:] = h
    rules = tuple(rules) + NELSON + WESTERN_ELECTRIC
    got = evaluate(z, rules, seg_start, flag)
    want = _oracle(z, rules, seg_start, flag)
    for r_i, r in enumerate(rules):
        assert np.array_equal(got[r_i], want[r_i]), (r, z.tolist(), heads, flag)


def test_trend_and_runs_do_not_cross_series():
    # a rising run of 6 split over two series breaks nothing; the same run inside one series does
    z = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    trend = (RunRule("t", "trend", 6),)
    assert evaluate(z, trend, np.zeros(6, np.int64))[0].tolist() == [False] * 5 + [True]
    assert not evaluate(z, trend, np.array([0, 0, 0, 3, 3, 3]))[0].any()


def test_empty_series_at_the_end_clears_nothing_before_it():
    # the batch form passes the heads of empty characteristics too; one at the end sits at n
    z = np.array([0.0, 0.0, 2.5, 2.5])
    rules = (RunRule("nelson5", "k_of_m_beyond", 3, 2, 2.0),)
    assert _last_flags(z, rules, np.array([0, 4, 4]))[0].tolist() == [False, False, False, True]
    assert _last_flags(z, rules, np.array([0, 3]))[0].tolist() == [False] * 4
