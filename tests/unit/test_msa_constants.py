"""d2, d3, d2* and the AIAG K factors, computed from their definitions, against the published tables."""

import math

import pytest

from jingce.kernels.msa.constants import d2, d2_star, d2_star_dof, d3, k_factors


def test_exact_values_for_two():
    assert d2(2) == pytest.approx(2 / math.sqrt(math.pi), abs=1e-9)
    assert d3(2) == pytest.approx(math.sqrt(2 - 4 / math.pi), abs=1e-9)
    assert d2_star(2, 1) == pytest.approx(math.sqrt(2), abs=1e-9)


@pytest.mark.parametrize(("m", "d2_printed", "d3_printed"),
                         [(3, 1.693, 0.8884), (4, 2.059, 0.8798), (5, 2.326, 0.8641), (10, 3.078, 0.7971)])
def test_d2_d3_against_the_usual_table(m, d2_printed, d3_printed):
    assert d2(m) == pytest.approx(d2_printed, abs=5e-4)
    assert d3(m) == pytest.approx(d3_printed, abs=5e-5)


# AIAG MSA 4th ed., Appendix C (Duncan, Table D3), g = 1
DUNCAN_G1 = {2: 1.41421, 3: 1.91155, 4: 2.23887, 5: 2.48124, 6: 2.67253, 7: 2.82981, 8: 2.96288, 9: 3.07794,
             10: 3.17905}


@pytest.mark.parametrize(("m", "printed"), DUNCAN_G1.items())
def test_d2_star_against_appendix_c(m, printed):
    assert d2_star(m, 1) == pytest.approx(printed, abs=1.5e-5)


def test_d2_star_and_degrees_of_freedom_of_table_iii_b_3():
    assert d2_star(5, 20) == pytest.approx(2.33394, abs=5e-6)
    assert d2_star_dof(5, 20) == pytest.approx(72.7, abs=0.05)
    assert d2_star_dof(2, 1) == pytest.approx(1.0, abs=1e-6)
    assert d2_star_dof(3, 1) == pytest.approx(2.0, abs=0.05)  # Appendix C prints 2.0


def test_k_factors_against_the_aiag_table():
    k1_table = {2: 0.8862, 3: 0.5908}
    k2_table = {2: 0.7071, 3: 0.5231}
    k3_table = {2: 0.7071, 3: 0.5231, 4: 0.4467, 5: 0.4030, 6: 0.3742, 7: 0.3534, 8: 0.3375, 9: 0.3249, 10: 0.3146}
    for trials, k1 in k1_table.items():
        assert k_factors(trials, 2, 2)[0] == pytest.approx(k1, abs=5e-5)
    for appraisers, k2 in k2_table.items():
        assert k_factors(2, appraisers, 2)[1] == pytest.approx(k2, abs=5e-5)
    for parts, k3 in k3_table.items():
        assert k_factors(2, 2, parts)[2] == pytest.approx(k3, abs=5e-5)


def test_more_ranges_approach_d2():
    assert d2_star(4, 10**6) == pytest.approx(d2(4), rel=1e-6)
    assert d2_star(4, math.inf) == d2(4)
