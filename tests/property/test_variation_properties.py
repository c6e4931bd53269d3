"""Properties of the LMG decomposition of R² and of the one-way ANOVA."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jingce.kernels import variation as va


@st.composite
def regressions(draw):
    p = draw(st.integers(1, 5))
    n = draw(st.integers(p + 3, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p))  # correlated predictors
    y = x @ rng.normal(size=p) + rng.normal(scale=draw(st.floats(0.05, 5.0)), size=n)
    return y, x, rng


@given(regressions())
@settings(max_examples=60, deadline=None)
def test_shares_sum_to_r2_and_are_non_negative(case):
    y, x, _ = case
    assume(np.linalg.matrix_rank(x - x.mean(axis=0)) == x.shape[1])
    res = va.lmg(y, x)
    assert np.all(res.shares >= 0)
    assert abs(res.shares.sum() - res.r_squared) < 1e-9
    assert abs(res.r_squared - va.ols(y, x).r_squared) < 1e-8


@given(regressions())
@settings(max_examples=40, deadline=None)
def test_invariant_to_order_scale_and_shift(case):
    y, x, rng = case
    assume(np.linalg.matrix_rank(x - x.mean(axis=0)) == x.shape[1])
    base = va.lmg(y, x).shares
    perm = rng.permutation(x.shape[1])
    np.testing.assert_allclose(va.lmg(y, x[:, perm]).shares, base[perm], atol=1e-9)
    scale = rng.uniform(0.01, 100, x.shape[1]) * rng.choice([-1, 1], x.shape[1])
    np.testing.assert_allclose(va.lmg(y, x * scale + rng.normal(size=x.shape[1])).shares, base, atol=1e-9)
    np.testing.assert_allclose(va.lmg(3.0 * y - 7.0, x).shares, base, atol=1e-9)


@given(st.integers(2, 6), st.integers(2, 8), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_anova_partitions_the_sum_of_squares(k, m, seed):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(k), m)
    y = rng.normal(size=k)[groups] + rng.normal(size=k * m) + 1e4
    a = va.one_way_anova(y, groups)
    assert abs(a.ss_between + a.ss_within - a.ss_total) <= 1e-8 * max(a.ss_total, 1e-12)
    assert 0 <= a.eta_squared <= 1
    assert abs(a.eta_squared - va.ols(y, np.eye(k)[groups][:, 1:]).r_squared) < 1e-8
