"""Properties of conformity decisions and risks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.kernels import conformity as cf

val = st.floats(-10, 10)
pos = st.floats(0.01, 5)


@settings(max_examples=100, deadline=None)
@given(val, pos, val, pos)
def test_probability_of_conformity_in_unit_interval_and_symmetric(y, u, centre, half):
    p = cf.probability_of_conformity(y, u, centre - half, centre + half).p_conformity
    q = cf.probability_of_conformity(2 * centre - y, u, centre - half, centre + half).p_conformity
    assert 0.0 <= p <= 1.0
    assert math.isclose(p, q, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(-0.5, 0.5), st.floats(0.3, 2), st.floats(0.05, 1), st.floats(0.0, 0.4))
def test_guard_band_trades_consumer_for_producer_risk(y0, s0, u, w):
    base = cf.global_risk(y0, s0, u, -1, 1)
    guarded = cf.global_risk(y0, s0, u, -1, 1, guard_band=w)
    assert guarded.consumer_risk <= base.consumer_risk + 1e-12
    assert guarded.producer_risk >= base.producer_risk - 1e-12
    assert 0 <= guarded.consumer_risk <= 1 - guarded.prior_conformity + 1e-12


@pytest.mark.filterwarnings("ignore:the guard bands close:jingce.errors.JingceWarning")
@settings(max_examples=100, deadline=None)
@given(st.lists(val, min_size=1, max_size=20), pos)
def test_guarded_acceptance_never_accepts_more_than_simple(ys, big_u):
    ys = np.array(ys)
    simple = cf.decide(ys, big_u, -2, 2, rule="simple").decision == "accept"
    guarded = cf.decide(ys, big_u, -2, 2, rule="guarded_acceptance").decision == "accept"
    rejecting = cf.decide(ys, big_u, -2, 2, rule="guarded_rejection").decision == "accept"
    assert np.all(guarded <= simple) and np.all(simple <= rejecting)
