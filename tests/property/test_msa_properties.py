"""Properties of the msa kernels: location invariance, relabelling invariance, scale equivariance."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.kernels.msa import (
    bias_linearity,
    cohen_kappa,
    fleiss_kappa,
    grr_anova,
    grr_anova_batch,
    grr_average_range,
    type1,
)

seeds = st.integers(0, 2**32 - 1)
shifts = st.floats(-1e4, 1e4, allow_nan=False)
shapes = st.tuples(st.integers(2, 8), st.integers(2, 4), st.integers(2, 4))


def study(seed, shape):
    rng = np.random.default_rng(seed)
    p, o, r = shape
    return (rng.normal(0, 1, (p, 1, 1)) + rng.normal(0, rng.uniform(0, 0.5), (1, o, 1))
            + rng.normal(0, rng.uniform(0, 0.3), (p, o, 1)) + rng.normal(0, rng.uniform(0.05, 0.3), (p, o, r)))


COMPONENTS = ("ev", "av", "interaction", "grr", "pv", "tv")


def same(a, b, rel=1e-7, abs_=1e-9):
    for key in COMPONENTS:
        assert getattr(b, key) == pytest.approx(getattr(a, key), rel=rel, abs=abs_), key
    assert a.interaction_pooled == b.interaction_pooled


@settings(max_examples=60)
@given(seeds, shapes, shifts)
def test_adding_a_constant_changes_no_variance_component(seed, shape, c):
    y = study(seed, shape)
    a, b = grr_anova(y), grr_anova(y + c)
    same(a, b, abs_=1e-7)
    ar, br = grr_average_range(y), grr_average_range(y + c)
    same(ar, br, abs_=1e-7)


@settings(max_examples=60)
@given(seeds, shapes, st.randoms(use_true_random=False))
def test_relabelling_parts_appraisers_and_trials_changes_nothing(seed, shape, rnd):
    y = study(seed, shape)
    perm = [list(range(n)) for n in y.shape]
    for pp in perm:
        rnd.shuffle(pp)
    z = y[perm[0]][:, perm[1]][:, :, perm[2]]
    same(grr_anova(y), grr_anova(z))
    same(grr_average_range(y), grr_average_range(z))


@settings(max_examples=40)
@given(seeds, shapes, st.floats(1e-3, 1e3))
def test_scaling_scales_the_standard_deviations(seed, shape, c):
    y = study(seed, shape)
    a, b = grr_anova(y), grr_anova(c * y)
    for key in COMPONENTS:
        assert getattr(b, key) == pytest.approx(c * getattr(a, key), rel=1e-7, abs=1e-12)
    assert a.ndc == b.ndc or abs(np.floor(1.41 * a.pv / a.grr) - 1.41 * a.pv / a.grr) < 1e-6


@settings(max_examples=40)
@given(seeds, st.integers(1, 12), shifts)
def test_batch_equals_single_and_is_location_invariant(seed, s, c):
    ys = np.stack([study(seed + i, (5, 3, 2)) for i in range(s)])
    b = grr_anova_batch(ys + c)
    for i in range(s):
        g = grr_anova(ys[i])
        assert b.grr[i] == pytest.approx(g.grr, rel=1e-6, abs=1e-7)
        assert b.interaction_pooled[i] == g.interaction_pooled


@settings(max_examples=60)
@given(st.lists(st.lists(st.integers(0, 20), min_size=3, max_size=3), min_size=3, max_size=3))
def test_cohen_kappa_is_symmetric(rows):
    t = np.array(rows)
    if t.sum() == 0 or np.count_nonzero(t.sum(axis=0)) < 2 and np.count_nonzero(t.sum(axis=1)) < 2:
        return
    a, b = cohen_kappa(t), cohen_kappa(t.T)
    assert b.kappa == pytest.approx(a.kappa, nan_ok=True)
    assert a.kappa <= 1 + 1e-12 or np.isnan(a.kappa)


@settings(max_examples=60)
@given(seeds, st.integers(3, 30), st.integers(2, 8), st.integers(2, 4), st.randoms(use_true_random=False))
def test_fleiss_kappa_ignores_the_order_of_subjects(seed, n, raters, k, rnd):
    c = np.random.default_rng(seed).multinomial(raters, np.full(k, 1 / k), size=n)
    order = list(range(n))
    rnd.shuffle(order)
    a, b = fleiss_kappa(c), fleiss_kappa(c[order])
    assert b.kappa == pytest.approx(a.kappa, nan_ok=True)
    assert b.se_jackknife == pytest.approx(a.se_jackknife, nan_ok=True)


@settings(max_examples=60)
@given(seeds, shifts)
def test_type1_and_linearity_are_location_invariant(seed, c):
    rng = np.random.default_rng(seed)
    x = 10 + rng.normal(0.001, 0.002, 30)
    a, b = type1(x, 10.0, tolerance=0.1), type1(x + c, 10.0 + c, tolerance=0.1)
    assert b.cg == pytest.approx(a.cg, rel=1e-5) and b.cgk == pytest.approx(a.cgk, rel=1e-5, abs=1e-5)
    ref = np.repeat([2.0, 4.0, 6.0, 8.0], 5)
    y = ref + rng.normal(0, 0.1, ref.size)
    la, lb = bias_linearity(ref, y), bias_linearity(ref + c, y + c)
    assert lb.slope == pytest.approx(la.slope, rel=1e-6, abs=1e-8)
    assert lb.s == pytest.approx(la.s, rel=1e-6)


@settings(max_examples=5)
@given(seeds, shifts, st.randoms(use_true_random=False))
def test_reml_is_location_and_relabelling_invariant(seed, c, rnd):
    y = study(seed, (5, 3, 3))
    rng = np.random.default_rng(seed)
    y[tuple(rng.integers(0, 3, 1) for _ in range(2))] = np.nan  # one missing reading -> REML
    a = grr_anova(y, interaction="exclude")
    assert a.method == "reml"
    parts = list(range(5))
    rnd.shuffle(parts)
    b = grr_anova(y[parts] + c, interaction="exclude")
    for key in ("ev", "av", "pv"):
        assert getattr(b, key) == pytest.approx(getattr(a, key), rel=1e-3, abs=1e-4), key


@settings(max_examples=40)
@given(seeds, shapes, st.integers(0, 3), st.floats(0, 0.3))
def test_coarse_or_incomplete_data_never_crash(seed, shape, levels, missing):
    """Integer readings (ties, zero spread) with missing values: a result or InvalidInputError, nothing else."""
    import warnings

    from jingce.errors import InvalidInputError, JingceWarning

    rng = np.random.default_rng(seed)
    y = rng.integers(0, levels + 1, shape).astype(float)
    y[rng.random(shape) < missing] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)
        for fn in (grr_anova, grr_average_range):
            try:
                r = fn(y)
            except InvalidInputError:
                continue
            assert r.grr >= 0 and r.tv >= r.grr - 1e-12 and (r.ndc >= 0 or np.isnan(r.ndc))
