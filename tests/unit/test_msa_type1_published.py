"""Type-1 study against a published type-1 output: Minitab's "Example of Type 1 Gage Study".

Source and tolerances: tests/data/msa/type1_published/ (README.md and the YAML header). The example's 50
readings (SHAFT.MTW) are not printed anywhere reachable, but the kernel depends on the readings only through
n, their mean and their standard deviation (sufficient statistics of every reported quantity). The test
therefore builds 50 readings with exactly the published n, mean (reference + printed bias) and standard
deviation (from the printed %Var(Repeatability) = 100 L s / T, the most precisely printed figure) and checks
the *other* printed results against the kernel: the t statistic, Cg, Cgk and %Var(Repeatability and Bias).
"""

from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from jingce.kernels.msa import type1

CASE = yaml.safe_load(
    (Path(__file__).parents[1] / "data" / "msa" / "type1_published" / "minitab_type1_shaft.yaml").read_text())


def _readings(n, mean, s):
    """n readings with exactly the given mean and sample standard deviation (normal scores, rescaled)."""
    z = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + s * z


@pytest.fixture(scope="module")
def study():
    c = CASE
    p = c["printed"]
    s = p["pct_var_repeatability"] / 100 * c["tolerance"] / c["span"]
    x = _readings(c["n"], c["reference"] + p["bias"], s)
    return type1(x, c["reference"], tolerance=c["tolerance"], percentage=c["percentage"], span=c["span"])


def test_reconstruction_is_exact(study):
    p = CASE["printed"]
    assert study.n == CASE["n"]
    assert study.bias == pytest.approx(p["bias"], abs=1e-12)
    assert study.pct_repeatability == pytest.approx(p["pct_var_repeatability"], abs=1e-9)


def test_minitab_printed_results(study):
    p, tol = CASE["printed"], CASE["tolerances"]
    assert study.cg == pytest.approx(p["cg"], abs=tol["cg"])
    assert study.cgk == pytest.approx(p["cgk"], abs=tol["cgk"])
    # %Var(Repeatability and Bias) = K / Cgk (Minitab methods); printed as a whole percent
    assert CASE["percentage"] / study.cgk == pytest.approx(p["pct_var_repeatability_and_bias"],
                                                           abs=tol["pct_var_repeatability_and_bias"])
    # Minitab prints T without its sign; the bias is negative
    assert study.bias_t < 0
    assert abs(study.bias_t) == pytest.approx(p["t"], rel=tol["t_relative"])
    assert study.bias_p < p["p_value_below"] and study.bias_significant
    assert not study.capable


def test_t_statistic_is_consistent_beyond_the_printed_bias_digits(study):
    """Second computation: s recovered from the 7-digit T and the 3-digit bias agrees with s from %Var.

    s_T = |bias| sqrt(n) / T differs from s_%Var by 2.6e-5 relative, well inside the 2.2e-3 that the
    bias rounding allows: the two printed figures describe the same readings under the 6 s convention.
    """
    p = CASE["printed"]
    s_from_t = abs(p["bias"]) * np.sqrt(CASE["n"]) / p["t"]
    assert s_from_t == pytest.approx(study.s, rel=CASE["tolerances"]["t_relative"])
    assert 100 * CASE["span"] * s_from_t / CASE["tolerance"] == pytest.approx(p["pct_var_repeatability"], abs=0.005)
    ttest = stats.ttest_1samp(study.readings, CASE["reference"])
    assert study.bias_t == pytest.approx(ttest.statistic, rel=1e-10)
    assert study.bias_p == pytest.approx(ttest.pvalue, rel=1e-8)


def test_other_conventions_would_not_reproduce_minitab(study):
    """The published Cg pins the convention: 20 % of T over 6 s. Bosch's 15 % / 4 s (Cg = 0.15 T / (4 s))
    or AIAG's 5.15 s span give different numbers, so the match above is not an accident of rounding."""
    x, ref, tol = study.readings, CASE["reference"], CASE["tolerance"]
    bosch = type1(x, ref, tolerance=tol, percentage=15, span=4)
    aiag = type1(x, ref, tolerance=tol, percentage=20, span=5.15)
    assert abs(bosch.cg - CASE["printed"]["cg"]) > 0.04
    assert abs(aiag.cg - CASE["printed"]["cg"]) > 0.04
    assert bosch.cg == pytest.approx(study.cg * (15 / 20) * (6 / 4), rel=1e-12)
