"""Properties of the false-accept probability used to re-evaluate accepted decisions after an
out-of-tolerance finding (services.impact): the scaled and shifted calls of the conformity kernel
equal the direct JCGM 106 formula, lie in [0, 1], and grow with the uncertainty."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from jingce.services.impact import false_accept_probability

finite = st.floats(-1e3, 1e3, allow_nan=False)
pos = st.floats(1e-6, 1e2, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(lo=finite, width=pos, frac=st.floats(0, 1), u=pos, k=st.floats(1.01, 10))
def test_two_sided_matches_the_direct_formula_and_grows_with_u(lo, width, frac, u, k):
    hi = lo + width
    y = lo + frac * width
    got = false_accept_probability(np.array([y, y]), np.array([lo, lo]), np.array([hi, hi]), np.array([u, u * k]))
    want = 1 - (stats.norm.cdf((hi - y) / u) - stats.norm.cdf((lo - y) / u))
    assert abs(got[0] - want) <= 1e-9 + 1e-7 * abs(want)
    assert 0 <= got[0] <= 1 and 0 <= got[1] <= 1
    assert got[1] >= got[0] - 1e-12


@settings(max_examples=200, deadline=None)
@given(limit=finite, d=st.floats(0, 50), u=pos, upper=st.booleans())
def test_one_sided(limit, d, u, upper):
    y = limit - d if upper else limit + d
    lo, hi = (np.nan, limit) if upper else (limit, np.nan)
    got = false_accept_probability(np.array([y]), np.array([lo]), np.array([hi]), np.array([u]))[0]
    assert abs(got - stats.norm.sf(d / u)) <= 1e-9 + 1e-7 * stats.norm.sf(d / u)


def test_unassessable_values_are_nan():
    got = false_accept_probability(np.array([1.0, 1.0, np.nan]), np.array([0.0, np.nan, 0.0]),
                                   np.array([2.0, np.nan, 2.0]), np.array([0.0, 0.1, 0.1]))
    assert np.isnan(got).all()
