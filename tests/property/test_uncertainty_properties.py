"""Properties of the uncertainty kernels: linear models agree GUM = MC within MC noise; scaling units
scales uncertainties; the bulk form equals one-at-a-time."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.kernels.uncertainty import gum, monte_carlo, normal, rectangular

coef = st.floats(-5, 5).filter(lambda c: abs(c) > 0.05)
sd = st.floats(0.01, 3.0)
mean = st.floats(-100, 100)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(coef, mean, sd, st.booleans()), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_linear_model_gum_equals_monte_carlo(terms, seed):
    names = [f"x{i}" for i in range(len(terms))]
    inputs = {}
    for n, (_, m, s, rect) in zip(names, terms, strict=True):
        inputs[n] = rectangular(m - s * math.sqrt(3), m + s * math.sqrt(3)) if rect else normal(m, s)
    model = " + ".join(f"({c!r})*{n}" for n, (c, *_rest) in zip(names, terms, strict=True))
    g = gum(model, inputs)
    exact_u = math.sqrt(sum((c * s) ** 2 for c, _, s, _ in terms))
    assert math.isclose(g.u, exact_u, rel_tol=1e-9)
    assert math.isclose(g.y, sum(c * m for c, m, _, _ in terms), rel_tol=1e-9, abs_tol=1e-9)
    m_trials = 50_000
    r = monte_carlo(model, inputs, m_trials, rng=seed, validate=False)
    # 5 standard errors: mean u/sqrt(M); sd at most sqrt((kurt-1)/4M) relative with kurt <= 3
    assert abs(r.y - g.y) <= 5 * g.u / math.sqrt(m_trials) + 1e-9
    assert abs(r.u - g.u) <= 5 * g.u * math.sqrt(2 / (4 * m_trials))


@settings(max_examples=50, deadline=None)
@given(mean, sd, mean, sd, st.floats(1e-6, 1e6))
def test_scaling_units_scales_uncertainty(m1, s1, m2, s2, scale):
    base = gum("a * b + a", {"a": normal(m1, s1), "b": normal(m2, s2)})
    scaled = gum("a * b + a", {"a": normal(m1 * scale, s1 * scale), "b": normal(m2, s2)})
    assert math.isclose(scaled.y, base.y * scale, rel_tol=1e-9, abs_tol=1e-9 * scale)
    assert math.isclose(scaled.u, base.u * scale, rel_tol=1e-6, abs_tol=1e-12 * scale)
    assert math.isclose(scaled.nu_eff, base.nu_eff) or math.isinf(base.nu_eff)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(mean, sd, sd), min_size=2, max_size=8))
def test_bulk_equals_loop(rows):
    a = np.array([r[0] for r in rows])
    ua = np.array([r[1] for r in rows])
    ub = np.array([r[2] for r in rows])
    bulk = gum("a*exp(b/10)", {"a": normal(a, ua, dof=5), "b": normal(0.5, ub)})
    for j, (aj, uaj, ubj) in enumerate(rows):
        one = gum("a*exp(b/10)", {"a": normal(aj, uaj, dof=5), "b": normal(0.5, ubj)})
        assert math.isclose(bulk.u[j], one.u, rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(bulk.U[j], one.U, rel_tol=1e-9, abs_tol=1e-12)
