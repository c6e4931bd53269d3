"""Gage R&R against the AIAG MSA 4th edition example, statsmodels, REML and ISO 22514-7 annex A."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from jingce.errors import InvalidInputError
from jingce.kernels.msa import grr_anova, grr_average_range
from jingce.kernels.msa._intervals import chi2_interval, mls_interval

DATA = Path(__file__).parents[1] / "data" / "msa"


def aiag() -> np.ndarray:
    y = np.zeros((10, 3, 3))
    for line in (DATA / "aiag_grr_10x3x3.csv").read_text().splitlines():
        if line.startswith("#") or line.startswith("appraiser"):
            continue
        cells = line.split(",")
        y[:, "ABC".index(cells[0]), int(cells[1]) - 1] = [float(c) for c in cells[2:]]
    return y


# ISO 22514-7:2012, Table A.4: 3 operators x 10 parts x 3 readings (operator-major as printed)
ISO_A4 = np.array([
    [[8.120, 8.435, 8.480], [7.445, 6.815, 7.490], [9.965, 10.010, 9.560], [6.140, 5.960, 6.365],
     [5.690, 5.600, 5.780], [2.855, 2.450, 2.585], [10.685, 10.595, 10.775], [6.725, 6.275, 6.545],
     [4.970, 5.105, 5.510], [9.875, 10.100, 9.875]],
    [[8.200, 8.290, 8.245], [7.300, 7.120, 7.075], [9.660, 9.340, 9.250], [6.095, 6.185, 6.185],
     [5.080, 5.340, 5.440], [2.315, 2.585, 2.315], [10.450, 10.840, 11.050], [6.240, 6.120, 6.300],
     [5.015, 5.285, 5.150], [10.080, 9.800, 9.970]],
    [[8.525, 8.435, 8.345], [7.535, 7.355, 7.085], [9.830, 9.695, 9.515], [6.140, 6.140, 6.050],
     [5.780, 5.735, 5.555], [2.630, 2.360, 2.585], [10.865, 11.000, 11.180], [6.590, 6.500, 6.725],
     [5.060, 5.195, 5.105], [10.190, 9.785, 9.965]],
]).transpose(1, 0, 2)


def long_table(y: np.ndarray) -> pd.DataFrame:
    p, o, r = y.shape
    idx = np.indices(y.shape).reshape(3, -1)
    return pd.DataFrame({"part": idx[0] + 1, "appraiser": np.array(list("ABCDEFG"))[idx[1]], "value": y.ravel()})


def row(result, source, table="anova"):
    return next(r for r in getattr(result, table) if r.source == source)


# ------------------------------------------------------------------ AIAG ANOVA method (Tables III-B 7, III-B 8)


def test_aiag_anova_table():
    r = grr_anova(aiag())
    printed = {"appraiser": (2, 3.1673, 1.58363, 79.41), "part": (9, 88.3619, 9.81799, 492.29),
               "part*appraiser": (18, 0.3590, 0.01994, 0.434)}
    for source, (df, ss, ms, f) in printed.items():
        got = row(r, source)
        assert got.df == df
        assert got.ss == pytest.approx(ss, abs=5e-5)
        assert got.ms == pytest.approx(ms, abs=5e-6)
        assert got.f == pytest.approx(f, abs=5e-3)
    rep = row(r, "repeatability")
    assert (rep.df, rep.ss, rep.ms) == (60, pytest.approx(2.7589, abs=5e-5), pytest.approx(0.04598, abs=5e-6))
    assert row(r, "total").ss == pytest.approx(94.6471, abs=5e-5)


def test_aiag_anova_components_and_percentages():
    r = grr_anova(aiag(), tolerance=6.0)
    assert r.method == "anova" and r.interaction_pooled and r.interaction_p > 0.25
    assert r.pooled_terms == ("part*appraiser",)
    assert any("pooled" in n for n in r.notes)
    assert r.variance["repeatability"] == pytest.approx(0.039973, abs=5e-7)
    assert r.variance["appraiser"] == pytest.approx(0.051455, abs=5e-7)
    assert r.variance["part"] == pytest.approx(1.086447, abs=5e-7)
    assert (r.ev, r.av, r.interaction, r.grr, r.pv) == (
        pytest.approx(0.199933, abs=5e-7), pytest.approx(0.226838, abs=5e-7), 0.0,
        # the manual takes the root of the rounded 0.09143 (0.3023739); unrounded it is 0.3023715
        pytest.approx(0.302373, abs=3e-6), pytest.approx(1.042327, abs=5e-7))
    sv = r.pct_study_variation
    for key, printed in {"ev": 18.4, "av": 20.9, "grr": 27.9, "pv": 96.0}.items():
        assert sv[key] == pytest.approx(printed, abs=0.05)
    pc = r.pct_contribution
    for key, printed in {"ev": 3.4, "av": 4.4, "grr": 7.8, "pv": 92.2}.items():
        assert pc[key] == pytest.approx(printed, abs=0.05)
    assert r.ndc == 4
    assert r.pct_tolerance["grr"] == pytest.approx(100 * 6 * r.grr / 6.0)
    # the reduced table: appraiser and part tested against the pooled mean square
    ms_pool = (0.35898222 + 2.75893333) / 78
    assert row(r, "repeatability", "anova_reduced").ms == pytest.approx(ms_pool, rel=1e-7)


def test_aiag_anova_against_statsmodels():
    y = aiag()
    df = long_table(y)
    fit = smf.ols("value ~ C(part) * C(appraiser)", data=df).fit()
    ref = anova_lm(fit, typ=2)
    r = grr_anova(y)
    pairs = {"part": "C(part)", "appraiser": "C(appraiser)", "part*appraiser": "C(part):C(appraiser)",
             "repeatability": "Residual"}
    for ours, theirs in pairs.items():
        assert row(r, ours).ss == pytest.approx(ref.loc[theirs, "sum_sq"], rel=1e-10)
        assert row(r, ours).df == ref.loc[theirs, "df"]
    # the interaction is tested against the error term in both models
    assert row(r, "part*appraiser").f == pytest.approx(ref.loc["C(part):C(appraiser)", "F"], rel=1e-10)
    assert r.interaction_p == pytest.approx(ref.loc["C(part):C(appraiser)", "PR(>F)"], rel=1e-8)


def test_interaction_include_exclude():
    y = aiag()
    full = grr_anova(y, interaction="include")
    assert not full.interaction_pooled and full.anova_reduced == ()
    ms = {x.source: x.ms for x in full.anova}
    assert full.variance["repeatability"] == pytest.approx(ms["repeatability"])
    assert full.variance["appraiser"] == pytest.approx((ms["appraiser"] - ms["part*appraiser"]) / 30)
    assert full.variance["part*appraiser"] == 0.0  # negative estimate truncated
    assert any("negative" in n for n in full.notes)
    forced = grr_anova(y, interaction="exclude")
    assert forced.interaction_pooled and forced.grr == pytest.approx(grr_anova(y).grr)


def test_significant_interaction_is_kept():
    rng = np.random.default_rng(3)
    y = rng.normal(0, 1, (10, 1, 1)) + rng.normal(0, 0.5, (10, 3, 1)) + rng.normal(0, 0.05, (10, 3, 3))
    r = grr_anova(y)
    assert not r.interaction_pooled and r.interaction_p < 0.25
    assert r.interaction > 0
    assert r.grr == pytest.approx(math.sqrt(r.ev**2 + r.av**2 + r.interaction**2))


def test_long_table_equals_array_and_labels_are_kept():
    y = aiag()
    df = long_table(y).sample(frac=1.0, random_state=1)  # order must not matter
    a, b = grr_anova(y), grr_anova(part=df.part.to_numpy(), appraiser=df.appraiser.to_numpy(),
                                    value=df.value.to_numpy())
    assert b.grr == pytest.approx(a.grr, rel=1e-12) and b.pv == pytest.approx(a.pv, rel=1e-12)
    assert b.appraiser_labels == ("A", "B", "C") and b.part_labels == tuple(range(1, 11))


# ------------------------------------------------------------------ AIAG average-and-range method (Figure III-B 18)


def test_aiag_average_range_with_the_manuals_k_factors():
    r = grr_average_range(aiag(), k_factors=(0.5908, 0.5231, 0.3146))
    d = r.average_range
    assert d.r_double_bar == pytest.approx(0.3417, abs=5e-5)
    assert d.x_diff == pytest.approx(0.4447, abs=5e-5)
    assert d.r_p == pytest.approx(3.511, abs=5e-4)
    for got, printed in ((r.ev, 0.20188), (r.av, 0.22963), (r.grr, 0.30575), (r.pv, 1.10456), (r.tv, 1.14610)):
        assert got == pytest.approx(printed, abs=6e-5)
    for key, printed in {"ev": 17.62, "av": 20.04, "grr": 26.68, "pv": 96.38}.items():
        assert r.pct_study_variation[key] == pytest.approx(printed, abs=0.01)
    assert r.ndc == 5


def test_aiag_average_range_with_computed_k_factors():
    r = grr_average_range(aiag())
    d = r.average_range
    assert (d.k1, d.k2, d.k3) == (pytest.approx(0.5908, abs=5e-5), pytest.approx(0.5231, abs=5e-5),
                                  pytest.approx(0.3146, abs=5e-5))
    # unrounded constants: within the rounding of the printed K (see tests/data/msa/README.md)
    for got, printed in ((r.ev, 0.20188), (r.av, 0.22963), (r.grr, 0.30575), (r.pv, 1.10456), (r.tv, 1.14610)):
        assert got == pytest.approx(printed, abs=1.5e-4)
    assert r.ndc == 5 and r.method == "average_range"
    assert d.ucl_r == pytest.approx(2.574 * d.r_double_bar, rel=1e-3)  # D4 for 3 trials
    assert d.cells_beyond_ucl_r == ((4, 2),)  # appraiser B on part 4 (range 1.02), flagged in the manual too
    lo, hi = r.variance_ci["repeatability"]
    assert lo < r.ev**2 < hi


# ------------------------------------------------------------------ ISO 22514-7 annex A, Tables A.5 and A.6


def test_iso_22514_7_table_a5_a6():
    r = grr_anova(ISO_A4)
    assert row(r, "part*appraiser").f == pytest.approx(1.193, abs=5e-4)
    assert r.interaction_pooled
    assert row(r, "repeatability", "anova_reduced").ms == pytest.approx(0.0334, abs=5e-5)
    assert row(r, "repeatability", "anova_reduced").df == 78
    assert row(r, "appraiser", "anova_reduced").f == pytest.approx(7.776, abs=5e-3)
    assert r.ev == pytest.approx(0.1827, abs=5e-5) and r.av == pytest.approx(0.08683, abs=5e-5)
    assert r.variance["part"] == pytest.approx(6.501, abs=5e-4)
    full = grr_anova(ISO_A4, interaction="include")  # Table B.2 (full model)
    assert full.variance["appraiser"] == pytest.approx(0.00738, abs=5e-5)
    assert full.interaction == pytest.approx(0.04528, abs=5e-5)


# ------------------------------------------------------------------ REML for unbalanced data and missing cells


def test_reml_equals_anova_on_balanced_data():
    y = aiag()
    a, b = grr_anova(y, interaction="exclude"), grr_anova(y, method="reml", interaction="exclude")
    assert b.method == "reml"
    for key in ("repeatability", "appraiser", "part"):
        assert b.variance[key] == pytest.approx(a.variance[key], rel=1e-5)


def test_unbalanced_data_use_reml_and_match_statsmodels_mixedlm():
    rng = np.random.default_rng(11)
    y = rng.normal(0, 1.0, (8, 1, 1)) + rng.normal(0, 0.4, (1, 3, 1)) + rng.normal(0, 0.2, (8, 3, 3)) + 50.0
    y[0, 0, 2] = np.nan
    y[3, 1, 1:] = np.nan
    y[5, 2, :] = np.nan  # a whole missing cell
    r = grr_anova(y, interaction="exclude")
    assert r.method == "reml" and not r.balanced
    assert any("REML" in n for n in r.notes)
    df = long_table(y).dropna()
    df["one"] = 1
    md = smf.mixedlm("value ~ 1", df, groups="one", re_formula="0",
                     vc_formula={"part": "0 + C(part)", "appraiser": "0 + C(appraiser)"}).fit(reml=True)
    vc = dict(zip(md.model.exog_vc.names, md.vcomp, strict=True))
    assert r.variance["part"] == pytest.approx(vc["part"], rel=2e-3)
    assert r.variance["appraiser"] == pytest.approx(vc["appraiser"], rel=2e-3)
    assert r.variance["repeatability"] == pytest.approx(md.scale, rel=2e-3)
    for key, (lo, hi) in r.variance_ci.items():
        assert 0 <= lo <= hi, key


def test_anova_method_refuses_missing_cells_naming_them():
    y = aiag()
    y[4, 1, :] = np.nan
    with pytest.raises(InvalidInputError, match=r"part 5 x appraiser 2") as e:
        grr_anova(y, method="anova")
    assert e.value.details["argument"] == "readings"
    with pytest.raises(InvalidInputError, match="missing cells"):
        grr_average_range(y)
    assert grr_anova(y).method == "reml"


# ------------------------------------------------------------------ nested design and an extra factor


def test_nested_design_expected_mean_squares():
    rng = np.random.default_rng(5)
    y = rng.normal(0, 1, (5, 3, 1)) + rng.normal(0, 0.3, (1, 3, 1)) + rng.normal(0, 0.1, (5, 3, 2))
    r = grr_anova(y, design="nested")
    assert r.design == "nested" and r.interaction == 0.0
    ms = {x.source: x.ms for x in r.anova}
    assert r.variance["part(appraiser)"] == pytest.approx((ms["part(appraiser)"] - ms["repeatability"]) / 2)
    assert r.variance["appraiser"] == pytest.approx(max((ms["appraiser"] - ms["part(appraiser)"]) / 10, 0))
    # against statsmodels: parts nested in appraisers
    df = long_table(y)
    df["unit"] = df.appraiser + df.part.astype(str)
    ref = anova_lm(smf.ols("value ~ C(unit)", data=df).fit(), typ=2)  # between units = appraiser + part(appraiser)
    ss = {x.source: x.ss for x in r.anova}
    assert ss["appraiser"] + ss["part(appraiser)"] == pytest.approx(ref.loc["C(unit)", "sum_sq"], rel=1e-10)
    assert ss["repeatability"] == pytest.approx(ref.loc["Residual", "sum_sq"], rel=1e-10)
    # long table with part labels repeated under each appraiser gives the same study
    r2 = grr_anova(part=df.part.to_numpy(), appraiser=df.appraiser.to_numpy(), value=df.value.to_numpy(),
                   design="nested")
    assert r2.grr == pytest.approx(r.grr, rel=1e-12)
    # unequal parts per appraiser: REML
    y2 = y.copy()
    y2[4, 0, :] = np.nan
    assert grr_anova(y2, design="nested").method == "reml"


def test_extra_gage_factor_against_statsmodels():
    rng = np.random.default_rng(8)
    y = (rng.normal(0, 1, (6, 1, 1, 1)) + rng.normal(0, 0.3, (1, 3, 1, 1)) + rng.normal(0, 0.2, (1, 1, 2, 1))
         + rng.normal(0, 0.1, (6, 3, 2, 2)))
    r = grr_anova(y, interaction="include")
    assert r.design == "crossed with gages" and r.n_gages == 2
    idx = np.indices(y.shape).reshape(4, -1)
    df = pd.DataFrame({"p": idx[0], "o": idx[1], "g": idx[2], "value": y.ravel()})
    ref = anova_lm(smf.ols("value ~ C(p) * C(o) * C(g)", data=df).fit(), typ=2)
    names = {"part": "C(p)", "appraiser": "C(o)", "gage": "C(g)", "part*appraiser": "C(p):C(o)",
             "part*gage": "C(p):C(g)", "appraiser*gage": "C(o):C(g)", "part*appraiser*gage": "C(p):C(o):C(g)",
             "repeatability": "Residual"}
    for ours, theirs in names.items():
        assert row(r, ours).ss == pytest.approx(ref.loc[theirs, "sum_sq"], rel=1e-9)
    # the three-way interaction is tested against the error, the two-way ones against it
    three = row(r, "part*appraiser*gage")
    assert three.f == pytest.approx(three.ms / row(r, "repeatability").ms)
    assert row(r, "part*gage").f == pytest.approx(row(r, "part*gage").ms / three.ms)
    assert math.isnan(row(r, "part").f)  # no exact F test for main effects in a 3-factor random model
    assert r.av**2 == pytest.approx(r.variance["appraiser"] + r.variance["gage"] + r.variance["appraiser*gage"])
    long = grr_anova(part=df.p.to_numpy(), appraiser=df.o.to_numpy(), gage=df.g.to_numpy(), value=df.value.to_numpy(),
                     interaction="include")
    assert long.grr == pytest.approx(r.grr, rel=1e-12)


# ------------------------------------------------------------------ confidence intervals


def test_single_mean_square_interval_is_exact_chi_square():
    lo, hi = mls_interval([1.0], [2.0], [10], 0.95)
    assert (lo, hi) == pytest.approx(chi2_interval(2.0, 10, 0.95), rel=1e-12)


def test_mls_intervals_cover_the_true_grr_variance():
    rng = np.random.default_rng(2024)
    sp, so, se = 1.0, 0.3, 0.2
    hits = {"grr": 0, "part": 0, "repeatability": 0}
    n = 300
    for _ in range(n):
        y = rng.normal(0, sp, (10, 1, 1)) + rng.normal(0, so, (1, 3, 1)) + rng.normal(0, se, (10, 3, 3))
        r = grr_anova(y, interaction="exclude")
        truth = {"grr": so**2 + se**2, "part": sp**2, "repeatability": se**2}
        for key in hits:
            lo, hi = r.variance_ci[key]
            hits[key] += lo <= truth[key] <= hi
    for key, h in hits.items():
        assert 0.90 <= h / n <= 0.995, (key, h / n)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"readings": np.ones((10, 1, 3))}, "appraiser"),
        ({"readings": np.ones((10, 3, 1))}, "readings"),
        ({"readings": np.ones((1, 3, 3))}, "part"),
        ({"readings": np.ones((10, 3, 3)), "tolerance": 0.0}, "tolerance"),
        ({"readings": np.ones((10, 3, 3)), "tolerance": -1.0}, "tolerance"),
        ({"readings": np.ones((10, 3))}, "readings"),
        ({"part": [1, 2], "appraiser": ["A", "B"]}, "value"),
        ({"part": [1, 2, 3], "appraiser": ["A", "B"], "value": [1.0, 2.0, 3.0]}, "appraiser"),
        ({"readings": np.ones((10, 3, 3)), "design": "mixed"}, "design"),
        ({"readings": np.full((10, 3, 3), np.inf)}, "readings"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    with pytest.raises(InvalidInputError) as e:
        grr_anova(**kwargs)
    assert e.value.details["argument"] == argument


def test_single_appraiser_message_says_what_is_missing():
    with pytest.raises(InvalidInputError, match="at least 2 appraisers to estimate reproducibility"):
        grr_average_range(np.ones((10, 1, 3)))
    with pytest.raises(InvalidInputError, match="2 trials"):
        grr_average_range(np.ones((10, 3, 1)))


def test_zero_variation_warns_and_gives_infinite_ndc():
    from jingce.errors import JingceWarning

    y = np.repeat(np.arange(10.0)[:, None, None], 3, axis=1).repeat(3, axis=2)
    with pytest.warns(JingceWarning, match="GRR is zero"):
        r = grr_anova(y)
    assert r.grr == 0 and r.ndc == math.inf


def test_all_equal_readings_with_a_missing_one():
    from jingce.errors import JingceWarning

    y = np.full((5, 3, 2), 7.0)
    y[0, 0, 1] = np.nan
    with pytest.warns(JingceWarning) as record:
        r = grr_anova(y)
    assert any("all readings are equal" in str(w.message) for w in record)
    assert r.method == "reml" and r.grr == 0 and all(v == 0 for v in r.variance.values())
