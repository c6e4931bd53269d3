"""Properties of the planner's figures (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.services import planner

pos = st.floats(min_value=1e-6, max_value=1e3, allow_nan=False, allow_infinity=False)


@given(pos, pos, st.floats(min_value=1.01, max_value=100))
def test_tur_falls_as_u_grows_and_rises_with_the_tolerance(tol, u, f):
    t = planner.test_uncertainty_ratio
    assert t(tol, u * f) < t(tol, u)
    assert t(tol * f, u) > t(tol, u)


@settings(max_examples=60, deadline=None)
@given(mean=st.floats(min_value=-1.5, max_value=1.5), sd=st.floats(min_value=0.03, max_value=5.0),
       tur=st.floats(min_value=1.0, max_value=50.0), f=st.floats(min_value=1.05, max_value=4.0))
def test_consumer_risk_falls_as_u_falls_while_tur_is_at_least_one(mean, sd, tur, f):
    """Limits -1, 1 (T = 2); u for the TUR, and a smaller u (TUR higher by f): R_C does not grow."""
    u = 2.0 / (2 * planner.K * tur)
    coarse = planner.consumer_risk(mean, sd, u, -1.0, 1.0)
    fine = planner.consumer_risk(mean, sd, u / f, -1.0, 1.0)
    assert fine <= coarse + 1e-12


@given(pos, pos)
def test_measurand_spread_is_below_the_measured_spread(s, u):
    sd = planner.process_prior_sd(s, u)
    assert sd is None or 0 < sd <= s
    assert (sd is None) == (s <= u)
