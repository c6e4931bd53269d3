"""Hypothesis properties of the SPC and capability kernels."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.errors import JingceWarning
from jingce.kernels.capability import capability
from jingce.kernels.spc import batch_summary, imr, xbar_r

seeds = st.integers(0, 2**32 - 1)


@given(seeds, st.floats(0.01, 1e3), st.floats(-1e3, 1e3))
@settings(max_examples=40)
def test_cp_cpk_invariant_under_positive_affine_change(seed, a, b):
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 1, (10, 5))
    r1 = capability(x, 6.0, 15.0)
    r2 = capability(a * x + b, a * 6.0 + b, a * 15.0 + b)
    for name in ("cp", "cpk", "pp", "ppk", "cpm"):
        assert np.isclose(getattr(r1, name), getattr(r2, name), rtol=1e-8), name


@given(seeds)
@settings(max_examples=30)
def test_large_nominal_tiny_spread_keeps_digits(seed):
    # 1000 mm nominal, 0.1 um spread: naive sums of squares would lose almost every digit
    rng = np.random.default_rng(seed)
    dev = rng.normal(0, 1e-4, 200)
    x = 1000.0 + dev
    exact = np.std(x - 1000.0, ddof=1)
    r = capability(x, 999.999, 1000.001)
    assert abs(r.sigma_overall / exact - 1) < 1e-9
    b = batch_summary(x, np.array([0, 200]), subgroup_size=1, nominal=np.array([1000.0]))
    assert abs(b.sigma_overall[0] / exact - 1) < 1e-9


@given(seeds, st.floats(0.5, 4.0))
@settings(max_examples=30)
def test_point_exactly_on_limit_is_not_beyond(seed, k):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, 20)
    c = imr(x, mu=0.0, sigma=1.0, k=k)
    on = np.concatenate([x, [c.i.ucl[0], c.i.lcl[0]]])
    c2 = imr(on, mu=0.0, sigma=1.0, k=k)
    assert 20 not in c2.i.beyond and 21 not in c2.i.beyond


@given(st.floats(-1e6, 1e6), st.integers(2, 6), st.integers(2, 10))
@settings(max_examples=30)
def test_constant_data_warns_and_never_crashes(value, n, m):
    x = np.full((m, n), value)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c = xbar_r(x)
        r = capability(x, value - 1.0, value + 1.0)
    assert any(issubclass(i.category, JingceWarning) for i in w)
    assert c.sigma == 0.0
    assert np.isinf(r.cp) or np.isnan(r.cp)


@given(seeds, st.integers(1, 8), st.sampled_from([1, 3, 5]))
@settings(max_examples=25)
def test_batch_rows_do_not_depend_on_neighbours(seed, g, n):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 12, g) * n + n * 2
    off = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    v = rng.normal(0, 1, off[-1])
    full = batch_summary(v, off, subgroup_size=n)
    c = int(rng.integers(0, g))
    one = batch_summary(v[off[c]:off[c + 1]], np.array([0, counts[c]]), subgroup_size=n)
    assert np.allclose(full.ucl[c], one.ucl[0], rtol=1e-12, equal_nan=True)
    assert list(full.rule_counts[c]) == list(one.rule_counts[0])
    assert full.last_alarm[c] == one.last_alarm[0]
