"""Properties of calibration interval methods."""

from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.kernels import intervals as iv


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 200), st.data(), st.floats(10, 1000), st.floats(0.5, 0.99))
def test_a3_moves_interval_in_the_right_direction(n, data, i0, rt):
    g = data.draw(st.integers(0, n))
    r = iv.a3_interval_test(g, n, i0, rt)
    assert 0 <= r.rejection_confidence <= 1
    assert r.reliability_lower <= g / n <= r.reliability_upper
    assert i0 / 2 - 1e-9 <= r.calculated_interval <= 2 * i0 + 1e-9
    if g / n < rt:
        assert r.calculated_interval <= i0 + 1e-9
    if g / n > rt:
        assert r.calculated_interval >= i0 - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.floats(30, 400), st.integers(1, 19), st.floats(0.5, 0.99))
def test_exponential_interval_shrinks_with_more_failures(t, g, rt):
    a = iv.s2_reliability_fit([t], [g], rt, n=[20])
    b = iv.s2_reliability_fit([t], [g - 1], rt, n=[20]) if g > 1 else None
    if b is not None:
        assert b.interval < a.interval
