"""Properties of ISO 13528 robust statistics and scores."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.kernels import proficiency as pf

values = st.lists(st.integers(-10_000, 10_000).map(lambda i: i / 10), min_size=3, max_size=40).filter(
    lambda v: len(set(v)) > len(v) // 2 + 1)


@settings(max_examples=100, deadline=None)
@given(values, st.floats(-1e3, 1e3), st.floats(0.01, 100))
def test_algorithm_a_is_affine_equivariant(v, shift, scale):
    x = np.array(v)
    base = pf.algorithm_a(x)
    moved = pf.algorithm_a(shift + scale * x)
    assert math.isclose(moved.x_star, shift + scale * base.x_star, rel_tol=1e-7, abs_tol=1e-7 * (abs(shift) + scale * 1e3))
    assert math.isclose(moved.s_star, scale * base.s_star, rel_tol=1e-7, abs_tol=1e-9 * scale)


@settings(max_examples=100, deadline=None)
@given(values)
def test_algorithm_a_estimate_lies_within_data(v):
    r = pf.algorithm_a(np.array(v))
    assert min(v) - 1e-9 <= r.x_star <= max(v) + 1e-9


@settings(max_examples=100, deadline=None)
@given(st.floats(-10, 10), st.floats(0.01, 5), st.floats(0, 5))
def test_z_prime_never_exceeds_z(x, sigma, u):
    z = pf.z_score(x, 0.0, sigma)
    zp = pf.z_prime_score(x, 0.0, sigma, u)
    assert abs(zp) <= abs(z) + 1e-12


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(1e-6, 1e3), st.floats(1e-6, 1e3))
def test_scores_take_negative_assigned_values_and_shift_invariance(x, x_pt, U, sigma):
    """An assigned value may be negative (a deviation, a temperature in degC): the scores depend
    only on x - x_pt (ISO 13528:2015 9.4-9.7)."""
    from jingce.kernels.proficiency import en_score, z_score, zeta_score

    assert en_score(x, U, x_pt, U) == pytest.approx(en_score(x - x_pt, U, 0.0, U), rel=1e-9, abs=1e-9)
    assert zeta_score(x, U, x_pt, U) == pytest.approx(zeta_score(x - x_pt, U, 0.0, U), rel=1e-9, abs=1e-9)
    assert z_score(x, x_pt, sigma) == pytest.approx(z_score(x - x_pt, 0.0, sigma), rel=1e-9, abs=1e-9)
