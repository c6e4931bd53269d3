"""Properties of the ISO 230-2 evaluation and of compensation."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from jingce.kernels import positioning as pos

finite = st.floats(-0.05, 0.05, allow_nan=False, allow_infinity=False)


@st.composite
def axis_tests(draw):
    m = draw(st.integers(2, 12))
    n = draw(st.integers(2, 7))
    step = draw(st.floats(0.5, 200.0))
    targets = np.arange(m) * step + draw(st.floats(-500, 500))
    up = draw(arrays(np.float64, (n, m), elements=finite))
    down = draw(arrays(np.float64, (n, m), elements=finite))
    return targets, up, down


AXIS = ("B", "R_up", "R_down", "R", "E_up", "E_down", "E", "M", "A_up", "A_down", "A")


@given(axis_tests(), st.floats(-10.0, 10.0))
def test_constant_offset_moves_no_range_quantity(case, c):
    t, up, down = case
    a = pos.evaluate_deviations(t, up, down)
    b = pos.evaluate_deviations(t, up + c, down + c)
    for q in AXIS:
        assert abs(getattr(a, q) - getattr(b, q)) <= 1e-12 * (1 + abs(c)) * 10, q
    np.testing.assert_allclose(b.x_mean, a.x_mean + c, atol=1e-12 * (1 + abs(c)) * 10)


@given(axis_tests())
def test_inequalities_between_the_quantities(case):
    r = pos.evaluate_deviations(*case)
    tol = 1e-15
    assert r.E + tol >= max(r.E_up, r.E_down) >= 0
    assert r.A + tol >= max(r.A_up, r.A_down) and r.A + tol >= r.E
    assert r.R + tol >= max(r.R_up, r.R_down) and r.R + tol >= r.B
    assert r.M <= r.E + tol
    assert np.all(r.R_i + tol >= np.abs(r.B_i))


@given(axis_tests(), st.randoms(use_true_random=False))
def test_run_order_does_not_matter_and_directions_are_symmetric(case, rnd):
    t, up, down = case
    a = pos.evaluate_deviations(t, up, down)
    perm = list(range(up.shape[0]))
    rnd.shuffle(perm)
    b = pos.evaluate_deviations(t, up[perm], down)
    for q in AXIS:
        assert abs(getattr(a, q) - getattr(b, q)) <= 1e-14, q
    s = pos.evaluate_deviations(t, down, up)
    for q in ("E", "M", "A", "R", "B"):
        assert abs(getattr(a, q) - getattr(s, q)) <= 1e-14, q
    np.testing.assert_allclose(s.B_i, -a.B_i, atol=1e-15)


@given(
    st.integers(4, 30),
    st.floats(1.0, 100.0),
    st.lists(st.floats(-0.02, 0.02), min_size=3, max_size=3),
    st.floats(-0.01, 0.01),
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=60)
def test_perfect_table_leaves_only_the_noise(m, step, coef, lost_motion, seed):
    """A table equal to the true systematic error at its points leaves exactly the noise (plus a constant)."""
    rng = np.random.default_rng(seed)
    t = np.arange(m) * step
    s = t / t[-1]
    e = coef[0] * s + coef[1] * s**2 + coef[2] * np.sin(7 * s)
    e_up, e_down = e + lost_motion / 2, e - lost_motion / 2
    truth = pos.evaluate_deviations(t, [e_up, e_up], [e_down, e_down])
    table = pos.compensation_table(truth, spacing=step, reference=0.0, mode="per_direction")
    noise_up = rng.normal(0, 1e-3, (5, m))
    noise_down = rng.normal(0, 1e-3, (5, m))
    comp = pos.apply_table(table, t, e_up + noise_up, e_down + noise_down, positions=False)
    noise_only = pos.evaluate_deviations(t, noise_up, noise_down)
    for q in AXIS:
        assert abs(getattr(comp, q) - getattr(noise_only, q)) <= 1e-12, q
