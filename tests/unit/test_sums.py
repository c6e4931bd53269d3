import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jingce.kernels._sums import Welford, grouped_mean_m2


def test_grouped_two_pass_matches_numpy_with_empty_groups():
    rng = np.random.default_rng(1)
    x = rng.normal(1000.0, 1e-4, 50)
    offsets = np.array([0, 10, 10, 30, 50])
    n, mean, m2 = grouped_mean_m2(x, offsets)
    assert list(n) == [10, 0, 20, 20]
    assert np.isnan(mean[1]) and m2[1] == 0
    for g, (a, b) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
        if b > a:
            assert np.isclose(mean[g], x[a:b].mean(), rtol=0, atol=1e-12)
            assert np.isclose(m2[g], ((x[a:b] - x[a:b].mean()) ** 2).sum(), rtol=1e-9)


@given(st.lists(st.floats(-1e-4, 1e-4), min_size=2, max_size=200))
def test_welford_at_1000mm_nominal_keeps_digits(devs):
    x = 1000.0 + np.asarray(devs)
    w = Welford()
    for v in x:
        w = w.update(float(v))
    ref = np.std(x - 1000.0, ddof=1)  # deviations: exact reference
    if ref > 1e-9:
        assert abs(w.std - ref) / ref < 1e-6  # the float64 grid at 1000 limits this, not the algorithm


def test_welford_combine_equals_sequential():
    rng = np.random.default_rng(2)
    x = rng.normal(5, 2, 101)
    a, b = Welford(), Welford()
    for v in x[:40]:
        a = a.update(v)
    for v in x[40:]:
        b = b.update(v)
    c = a.combine(b)
    assert np.isclose(c.variance, np.var(x, ddof=1), rtol=1e-12)


def test_empty_groups_anywhere_cut_nothing():
    x = np.arange(1.0, 8.0)
    offsets = np.array([0, 0, 3, 3, 7, 7, 7])  # empty groups first, between and after
    n, mean, m2 = grouped_mean_m2(x, offsets)
    assert list(n) == [0, 3, 0, 4, 0, 0]
    assert mean[1] == 2.0 and mean[3] == 5.5  # the last group keeps its last value
    assert m2[3] == pytest.approx(((x[3:] - 5.5) ** 2).sum())
    assert np.isnan(mean[[0, 2, 4, 5]]).all()
