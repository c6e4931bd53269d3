"""Attribute agreement: AIAG MSA 4th ed. chapter III-C, Fleiss' worked example, statsmodels."""

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels.msa import attribute_agreement, cohen_kappa, fleiss_kappa

DATA = Path(__file__).parents[1] / "data" / "msa"


def aiag_study():
    rows = [ln.split() for ln in (DATA / "aiag_attribute_50x3x3.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    ratings = np.array([[[int(c) for c in g] for g in row[:3]] for row in rows])
    return ratings, np.array([int(row[3]) for row in rows])


def test_aiag_kappas_table_iii_c_3():
    r = attribute_agreement(*aiag_study())
    for pair, printed in (("A x B", 0.86), ("A x C", 0.78), ("B x C", 0.79)):
        assert r.pairwise_kappa[pair].kappa == pytest.approx(printed, abs=5e-3)
    for name, printed in (("A", 0.88), ("B", 0.92), ("C", 0.77)):
        assert r.each_vs_standard_kappa[name].kappa == pytest.approx(printed, abs=5e-3)
    pooled = r.all_vs_standard_kappa
    assert min(k.kappa for k in r.each_vs_standard_kappa.values()) < pooled.kappa < 0.92
    assert pooled.n == 450


def test_aiag_agreement_table_iii_c_5():
    r = attribute_agreement(*aiag_study())
    for name, pct, lo, hi in (("A", 84, 71, 93), ("B", 90, 78, 97), ("C", 80, 66, 90)):
        for table in (r.within_appraiser, r.each_vs_standard, r.effectiveness):
            rate = table[name]
            assert rate.pct == pytest.approx(pct)
            assert rate.ci == (pytest.approx(lo, abs=0.5), pytest.approx(hi, abs=0.5))
    assert r.between_appraisers.pct == pytest.approx(78) and r.all_vs_standard.pct == pytest.approx(78)
    assert r.all_vs_standard.ci[0] == pytest.approx(64, abs=0.5)
    # the manual prints 89 % as the upper bound; the exact Clopper-Pearson bound is 88.47 %
    assert r.all_vs_standard.ci[1] == pytest.approx(88.47, abs=0.01)


def test_aiag_miss_and_false_alarm_table_iii_c_7():
    r = attribute_agreement(*aiag_study())
    for name, miss, fa in (("A", 6.3, 4.9), ("B", 6.3, 2.0), ("C", 12.5, 8.8)):
        assert r.miss_rate[name].pct == pytest.approx(miss, abs=0.06)
        assert r.false_alarm_rate[name].pct == pytest.approx(fa, abs=0.06)
    assert r.good == 1 and r.miss_rate["A"].inspected == 48 and r.false_alarm_rate["A"].inspected == 102


def test_fleiss_worked_example_and_statsmodels():
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    r = fleiss_kappa(table)
    assert r.kappa == pytest.approx(0.210, abs=5e-4)
    assert r.p_observed == pytest.approx(0.378, abs=5e-4) and r.p_expected == pytest.approx(0.213, abs=5e-4)
    assert r.kappa == pytest.approx(sm_fleiss(table), rel=1e-12)
    assert r.ci[0] < r.kappa < r.ci[1]


def test_fleiss_jackknife_matches_a_direct_leave_one_out():
    rng = np.random.default_rng(4)
    table = rng.multinomial(6, [0.5, 0.3, 0.2], size=25)
    r = fleiss_kappa(table)
    loo = np.array([sm_fleiss(np.delete(table, i, axis=0)) for i in range(25)])
    se = np.sqrt(24 / 25 * np.sum((loo - loo.mean()) ** 2))
    assert r.se_jackknife == pytest.approx(se, rel=1e-10)


def test_cohen_kappa_against_statsmodels():
    table = np.array([[44, 6, 2], [5, 45, 3], [1, 2, 20]])
    r = cohen_kappa(table)
    ref = cohens_kappa(table)
    assert r.kappa == pytest.approx(ref.kappa, rel=1e-12)
    assert r.se == pytest.approx(ref.std_kappa, rel=1e-10)
    assert r.se0 == pytest.approx(ref.std_kappa0, rel=1e-10)
    assert r.ci == (pytest.approx(ref.kappa_low, rel=1e-10), pytest.approx(ref.kappa_upp, rel=1e-10))


def test_text_categories_and_names():
    ratings = np.array([[["ok", "ok"], ["ok", "ok"]], [["ng", "ng"], ["ng", "ok"]], [["ok", "ok"], ["ok", "ok"]]])
    r = attribute_agreement(ratings, ["ok", "ng", "ok"], appraisers=["Li", "Wang"], good="ok")
    assert r.categories == ("ng", "ok") and r.appraisers == ("Li", "Wang")
    assert r.false_alarm_rate["Li"].matched == 0 and r.miss_rate["Wang"].matched == 1


def test_long_table_equals_array():
    ratings, ref = aiag_study()
    idx = np.indices(ratings.shape).reshape(3, -1)
    order = np.random.default_rng(0).permutation(idx.shape[1])
    part = (idx[0] + 1)[order]
    app = np.array(["A", "B", "C"])[idx[1]][order]
    rating = ratings.ravel()[order]
    a = attribute_agreement(ratings, ref)
    b = attribute_agreement(part=part, appraiser=app, rating=rating, reference=ref[part - 1])
    assert b.appraisers == ("A", "B", "C")
    for pair in a.pairwise_kappa:
        # trials are matched by order of appearance, so only the appraiser-level results must agree
        assert b.each_vs_standard_kappa[pair[0]].kappa == pytest.approx(a.each_vs_standard_kappa[pair[0]].kappa)
    assert b.within_appraiser == a.within_appraiser and b.miss_rate == a.miss_rate
    assert b.between_appraisers_kappa.kappa == pytest.approx(a.between_appraisers_kappa.kappa)
    c = attribute_agreement(part=part, appraiser=app, rating=rating, trial=idx[2][order], reference=ref[part - 1])
    for pair, k in a.pairwise_kappa.items():
        assert c.pairwise_kappa[pair].kappa == pytest.approx(k.kappa)
    with pytest.raises(InvalidInputError, match="equally often"):
        attribute_agreement(part=part[1:], appraiser=app[1:], rating=rating[1:])


def test_bad_input():
    with pytest.raises(InvalidInputError) as e:
        fleiss_kappa([[1, 2], [2, 2]])
    assert "same number of raters" in str(e.value)
    with pytest.raises(InvalidInputError):
        cohen_kappa([[1, 2, 3]])
    with pytest.raises(InvalidInputError) as e:
        attribute_agreement(np.zeros((5, 1, 2)))
    assert "2 appraisers" in str(e.value)
    with pytest.raises(InvalidInputError) as e:
        attribute_agreement(np.zeros((5, 2, 2)), [0, 1])
    assert e.value.details["argument"] == "reference"


def test_single_category_warns():
    with pytest.warns(JingceWarning):
        r = fleiss_kappa([[3, 0], [3, 0]])
    assert np.isnan(r.kappa)


def test_one_category_only_gives_nan_kappas_with_a_warning():
    with pytest.warns(JingceWarning):
        r = attribute_agreement(np.ones((4, 2, 2), int), np.ones(4, int))
    assert np.isnan(r.pairwise_kappa["A x B"].kappa) and r.within_appraiser["A"].pct == 100.0
