"""The vectorised batch form equals the single-study function, study by study."""

import numpy as np
import pytest

from jingce.errors import InvalidInputError
from jingce.kernels.msa import grr_anova, grr_anova_batch


def studies(s=40, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, (s, 10, 1, 1)) + rng.normal(0, 0.3, (s, 1, 3, 1)) + rng.normal(0, 0.2, (s, 10, 3, 1))
            * rng.uniform(0, 1, (s, 1, 1, 1)) + rng.normal(0, 0.2, (s, 10, 3, 3)) + 1000.0)


@pytest.mark.parametrize("interaction", ["auto", "include", "exclude"])
def test_batch_equals_single(interaction):
    y = studies()
    b = grr_anova_batch(y, tolerance=6.0, interaction=interaction)
    assert b.interaction_pooled.any() or interaction == "include"
    for i in range(y.shape[0]):
        g = grr_anova(y[i], tolerance=6.0, interaction=interaction)
        assert (b.ev[i], b.av[i], b.interaction[i], b.grr[i], b.pv[i], b.tv[i]) == pytest.approx(
            (g.ev, g.av, g.interaction, g.grr, g.pv, g.tv), rel=1e-9, abs=1e-12)
        assert b.ndc[i] == g.ndc and b.interaction_pooled[i] == g.interaction_pooled
        assert b.interaction_p[i] == pytest.approx(g.interaction_p, rel=1e-9)
        assert b.pct_grr_tolerance[i] == pytest.approx(g.pct_tolerance["grr"], rel=1e-9)


def test_values_and_offsets_layout():
    y = studies(7)
    values = y.reshape(-1)
    offsets = np.arange(8, dtype=np.int64) * 90
    a = grr_anova_batch(y)
    b = grr_anova_batch(values=values, offsets=offsets, parts=10, appraisers=3, trials=3)
    assert np.array_equal(a.grr, b.grr)


def test_batch_bad_input():
    with pytest.raises(InvalidInputError) as e:
        grr_anova_batch(values=np.zeros(170), offsets=np.array([0, 90, 170]), parts=10, appraisers=3, trials=3)
    assert e.value.details["argument"] == "offsets" and "group 1" in str(e.value)
    with pytest.raises(InvalidInputError) as e:
        grr_anova_batch(np.zeros((5, 10, 1, 3)))
    assert e.value.details["argument"] == "appraisers"
    with pytest.raises(InvalidInputError) as e:
        grr_anova_batch(np.zeros((5, 10, 3, 1)))
    assert e.value.details["argument"] == "trials"
    with pytest.raises(InvalidInputError):
        grr_anova_batch(np.zeros((5, 10, 3, 3)), tolerance=-1)


def test_degenerate_studies_warn_and_agree_with_the_single_form():
    from jingce.errors import JingceWarning

    y = studies(3)
    y[1] = 5.0  # all readings equal
    with pytest.warns(JingceWarning, match="zero GRR"):
        b = grr_anova_batch(y)
    with pytest.warns(JingceWarning):
        g = grr_anova(y[1])
    assert b.ndc[1] == g.ndc == np.inf and b.grr[1] == g.grr == 0
    assert np.all(np.isfinite(b.grr))
