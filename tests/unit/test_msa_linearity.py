"""Linearity: AIAG MSA 4th ed. Tables III-B 4/5 and ISO 22514-7 annex A.1, with statsmodels OLS."""

import numpy as np
import pytest
import statsmodels.api as sm

from jingce.errors import InvalidInputError
from jingce.kernels.msa import bias_linearity

AIAG_REF = [2.0, 4.0, 6.0, 8.0, 10.0]
AIAG_Y = [[2.7, 2.5, 2.4, 2.5, 2.7, 2.3, 2.5, 2.5, 2.4, 2.4, 2.6, 2.4],
          [5.1, 3.9, 4.2, 5.0, 3.8, 3.9, 3.9, 3.9, 3.9, 4.0, 4.1, 3.8],
          [5.8, 5.7, 5.9, 5.9, 6.0, 6.1, 6.0, 6.1, 6.4, 6.3, 6.0, 6.1],
          [7.6, 7.7, 7.8, 7.7, 7.8, 7.8, 7.8, 7.7, 7.8, 7.5, 7.6, 7.7],
          [9.1, 9.3, 9.5, 9.3, 9.4, 9.5, 9.5, 9.5, 9.6, 9.2, 9.3, 9.4]]
ISO_A1_X = [6.19, 9.17, 1.99, 7.77, 4.00, 10.77, 4.78, 2.99, 6.98, 9.98]
ISO_A1_Y = [[6.31, 6.27, 6.31, 6.28], [9.27, 9.21, 9.34, 9.23], [2.21, 2.19, 2.22, 2.20], [8.00, 7.81, 7.95, 7.84],
            [4.27, 4.15, 4.15, 4.15], [10.93, 10.73, 10.92, 10.89], [4.95, 4.87, 5.00, 5.00],
            [3.24, 3.17, 3.21, 3.21], [7.14, 7.07, 7.18, 7.20], [10.23, 10.02, 10.07, 10.17]]


def test_aiag_tables_iii_b_4_and_5():
    r = bias_linearity(AIAG_REF, AIAG_Y, process_variation=6.0)
    assert r.slope == pytest.approx(-0.1317, abs=5e-5)
    assert r.intercept == pytest.approx(0.7367, abs=5e-5)
    assert r.s == pytest.approx(0.23954, abs=5e-6)
    assert r.r_squared == pytest.approx(0.71, abs=5e-3)
    assert abs(r.slope_t) == pytest.approx(12.043, abs=5e-4)
    assert abs(r.intercept_t) == pytest.approx(10.158, abs=5e-4)
    assert r.bias_means == pytest.approx([0.491667, 0.125, 0.025, -0.291667, -0.616667], abs=5e-7)
    assert r.linearity == pytest.approx(0.79, abs=5e-3)  # |slope| x process variation
    assert r.pct_linearity == pytest.approx(13.17, abs=5e-3)
    assert not r.linearity_acceptable  # the manual: bias = 0 leaves the confidence band, not acceptable


def test_against_statsmodels_ols():
    r = bias_linearity(AIAG_REF, AIAG_Y)
    x = np.repeat(AIAG_REF, 12)
    bias = np.ravel(AIAG_Y) - x
    fit = sm.OLS(bias, sm.add_constant(x)).fit()
    assert (r.intercept, r.slope) == pytest.approx(tuple(fit.params), rel=1e-12)
    assert (r.intercept_se, r.slope_se) == pytest.approx(tuple(fit.bse), rel=1e-10)
    assert (r.intercept_p, r.slope_p) == pytest.approx(tuple(fit.pvalues), rel=1e-6)
    pred = fit.get_prediction(sm.add_constant(r.band_x)).summary_frame(alpha=0.05)
    assert r.band_low == pytest.approx(pred.mean_ci_lower.to_numpy(), rel=1e-10)
    assert r.band_high == pytest.approx(pred.mean_ci_upper.to_numpy(), rel=1e-10)


def test_iso_22514_7_annex_a1_lack_of_fit():
    r = bias_linearity(ISO_A1_X, ISO_A1_Y)
    assert r.intercept == pytest.approx(0.2358, abs=5e-5)  # beta0 of y = beta0 + beta1 x
    assert r.slope + 1 == pytest.approx(0.9870, abs=5e-5)
    assert r.ss_lack_of_fit == pytest.approx(0.0228, abs=5e-5)
    assert r.ss_pure_error == pytest.approx(0.12345, abs=1e-9)
    assert (r.df_lack_of_fit, r.df_pure_error) == (8, 30)
    assert r.lack_of_fit_f == pytest.approx(0.6918, abs=5e-5)
    # the standard prints 0.0533 for 0.053353
    assert r.u_lin == pytest.approx(0.0533, abs=6e-5) and r.u_evr == pytest.approx(0.0641, abs=5e-5)


def test_long_form_and_missing_values():
    x = np.repeat(AIAG_REF, 12)
    a = bias_linearity(x, np.ravel(AIAG_Y))
    y = np.array(AIAG_Y, dtype=float)
    y[0, 0] = np.nan
    b = bias_linearity(AIAG_REF, y)
    assert a.slope == pytest.approx(bias_linearity(AIAG_REF, AIAG_Y).slope)
    assert b.n == 59


def test_bad_input():
    with pytest.raises(InvalidInputError, match="2 distinct reference"):
        bias_linearity([1.0, 1.0], [1.1, 1.2])
    with pytest.raises(InvalidInputError) as e:
        bias_linearity(AIAG_REF, AIAG_Y[:3])
    assert e.value.details["argument"] == "readings"
    with pytest.raises(InvalidInputError) as e:
        bias_linearity(AIAG_REF, AIAG_Y, process_variation=0)
    assert e.value.details["argument"] == "process_variation"


def test_zero_pure_error_does_not_raise():
    r = bias_linearity([1, 1, 2, 2, 3, 3], [1, 1, 2, 2, 3.1, 3.1])
    assert r.ss_pure_error == 0 and r.lack_of_fit_f == np.inf and r.u_evr == 0
