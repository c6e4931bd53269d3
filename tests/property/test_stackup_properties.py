"""Properties of tolerance stack-up."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jingce.kernels import stackup as stk


@st.composite
def chains(draw):
    n = draw(st.integers(2, draw(st.sampled_from([7, 9]))))
    nominal = draw(st.lists(st.floats(0.1, 500.0), min_size=n, max_size=n))
    lo = draw(st.lists(st.floats(-0.5, 0.0), min_size=n, max_size=n))
    width = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 0.8)), min_size=n, max_size=n))
    up = [a + w for a, w in zip(lo, width, strict=True)]
    sens = draw(st.lists(st.sampled_from([-1.0, 1.0, 0.5, -2.0]), min_size=n, max_size=n))
    return nominal, up, lo, sens


@given(chains())
def test_worst_case_bounds_the_statistical_methods(c):
    r = stk.analyze(*c)
    assert r.worst_case + 1e-12 >= r.mrss >= r.rss - 1e-12 >= -1e-12
    assert r.mrss_factor >= 1.0
    assert r.worst_case_limits[0] <= r.rss_limits[0] + 1e-12


@given(chains(), st.floats(0.1, 10.0))
def test_scaling_the_tolerances_scales_the_widths(c, k):
    nominal, up, lo, sens = c
    a = stk.analyze(nominal, up, lo, sens)
    b = stk.analyze(nominal, [k * x for x in up], [k * x for x in lo], sens)
    for q in ("worst_case", "rss", "mrss", "predicted_sd"):
        assert abs(getattr(b, q) - k * getattr(a, q)) <= 1e-9 * (1 + k * getattr(a, q))


@given(chains(), st.floats(0.0, 1.0))
@settings(max_examples=40)
def test_exact_uniform_cdf_is_a_cdf(c, p):
    nominal, up, lo, sens = c
    r = stk.analyze(nominal, up, lo, sens, distributions="uniform")
    if r.exact_uniform is None:
        return
    w = 2 * np.abs(sens) * r.half_tolerances
    assume(w.sum() > 0)
    total = w.sum()
    y = p * total  # in the frame where the support starts at 0
    f = stk.uniform_sum_cdf(y, 0.0, w)
    assert -1e-12 <= f <= 1 + 1e-12
    assert stk.uniform_sum_cdf(y + 0.01 * total, 0.0, w) >= f - 1e-12
    # symmetric about the mean
    assert abs(stk.uniform_sum_cdf(total - y, 0.0, w) - (1 - f)) < 1e-9
    # and the kernel's support is the worst-case range
    assert r.exact_uniform.lower == r.worst_case_limits[0] or abs(r.exact_uniform.lower - r.worst_case_limits[0]) < 1e-9
