"""Measurement-process capability (ISO 22514-7 annex A) and the fitness verdict."""

import math

import numpy as np
import pytest
from test_msa_grr import ISO_A4
from test_msa_linearity import ISO_A1_X, ISO_A1_Y

from jingce.errors import InvalidInputError
from jingce.kernels.msa import (
    bias_linearity,
    grr_anova,
    measurement_fitness,
    measurement_fitness_from,
    measurement_process_capability,
    type1,
)


def iso_example():
    lin = bias_linearity(ISO_A1_X, ISO_A1_Y)
    proc = grr_anova(ISO_A4)
    return measurement_process_capability(9.0, u_cal=0.005, u_lin=lin.u_lin, u_evr=lin.u_evr, resolution=0.005,
                                          u_evo=proc.ev, u_av=proc.av)


def test_iso_22514_7_worked_example_a4_a5():
    r = iso_example()
    assert r.u_ms == pytest.approx(0.0836, abs=5e-5) and r.expanded_ms == pytest.approx(0.1672, abs=1e-4)
    assert r.u_mp == pytest.approx(0.2093, abs=1e-4) and r.expanded_mp == pytest.approx(0.4185, abs=2e-4)
    assert r.q_ms == pytest.approx(3.7, abs=0.05) and r.q_mp == pytest.approx(9.3, abs=0.05)
    assert r.c_ms == pytest.approx(5.38, abs=0.005) and r.c_mp == pytest.approx(4.30, abs=0.005)
    assert r.verdict == "capable" and r.ms_capable and r.mp_capable
    # u_RE = 0.005 / sqrt(12) = 0.001443 is smaller than the repeatabilities and is not used (A.3)
    assert r.repeatability_used_ms == "u_evr" and r.repeatability_used_mp == "u_evo"
    assert sum(b.contribution_pct for b in r.budget_mp) == pytest.approx(100.0)


def test_formulas_and_limits():
    r = measurement_process_capability(1.0, u_evr=0.02, bias=0.03, u_cal=0.01, u_av=0.02)
    u_bi = 0.03 / math.sqrt(3)
    assert r.u_ms == pytest.approx(math.sqrt(0.01**2 + u_bi**2 + 0.02**2))
    assert r.u_mp == pytest.approx(math.sqrt(0.01**2 + u_bi**2 + 0.02**2 + 0.02**2))
    assert r.q_mp == pytest.approx(400 * r.u_mp)
    assert r.max_u_mp == pytest.approx(0.3 / 4) and r.margin_q_mp == pytest.approx(30 - r.q_mp)
    bad = measurement_process_capability(0.1, u_evr=0.02)
    assert bad.verdict == "not capable" and bad.q_ms == pytest.approx(80.0) and bad.margin_q_mp < 0
    coarse = measurement_process_capability(1.0, u_evr=0.001, resolution=0.1)
    assert coarse.resolution_ok is False and coarse.verdict == "not capable"


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"tolerance": 0, "u_evr": 0.1}, "tolerance"),
    ({"tolerance": 1.0}, "u_evr"),
    ({"tolerance": 1.0, "u_evr": -0.1}, "u_evr"),
    ({"tolerance": 1.0, "u_evr": 0.1, "bias": 0.1, "u_bi": 0.05}, "bias"),
    ({"tolerance": 1.0, "u_evr": 0.1, "k": 0}, "k"),
])
def test_capability_bad_input(kwargs, argument):
    with pytest.raises(InvalidInputError) as e:
        measurement_process_capability(**kwargs)
    assert e.value.details["argument"] == argument


def test_fitness_verdicts_and_margins():
    fit = measurement_fitness(1.0, pct_grr_tolerance=8.0, ndc=7, cg=2.0, cgk=1.8, q_mp=20.0,
                              expanded_uncertainty=0.1)
    assert fit.verdict == "fit" and all(c.verdict == "fit" for c in fit.criteria)
    tur = next(c for c in fit.criteria if c.name == "TUR")
    assert tur.value == pytest.approx(5.0) and tur.margin == pytest.approx(1.0)
    cond = measurement_fitness(pct_grr_study=25.0, ndc=6)
    assert cond.verdict == "conditionally fit" and cond.deciding == "%GRR of study variation"
    assert cond.criteria[0].margin == pytest.approx(-15.0) and cond.criteria[0].margin_relative_pct == pytest.approx(-150)
    unfit = measurement_fitness(2.0, pct_grr_tolerance=12.0, ndc=3, cgk=1.0)
    assert unfit.verdict == "unfit" and unfit.deciding in ("ndc", "Cgk")
    assert unfit.grr_allowed == pytest.approx(0.1 * 2.0 / 6) and unfit.u_allowed == pytest.approx(0.25)
    assert measurement_fitness().verdict == "not assessed"


def test_fitness_from_study_results():
    g = grr_anova(ISO_A4, tolerance=9.0)
    cap = iso_example()
    f = measurement_fitness(9.0, pct_grr_tolerance=g.pct_tolerance["grr"], ndc=g.ndc, q_mp=cap.q_mp,
                            expanded_uncertainty=cap.expanded_mp)
    assert f.verdict == "conditionally fit"  # %GRR of tolerance is 13.5 %, between 10 and 30
    assert np.isclose(f.criteria[0].value, 100 * 6 * g.grr / 9.0)


def test_fitness_from_results_equals_the_scalar_form():
    g = grr_anova(ISO_A4, tolerance=9.0)
    cap = iso_example()
    t1 = type1(np.linspace(5.99, 6.01, 30), 6.0, tolerance=9.0)
    a = measurement_fitness_from(grr=g, type1=t1, capability=cap)
    b = measurement_fitness(9.0, pct_grr_tolerance=g.pct_tolerance["grr"], pct_grr_study=g.pct_study_variation["grr"],
                            ndc=g.ndc, cg=t1.cg, cgk=t1.cgk, q_ms=cap.q_ms, q_mp=cap.q_mp,
                            expanded_uncertainty=cap.expanded_mp)
    assert a == b
    assert a.verdict == "conditionally fit" and a.deciding == "%GRR of tolerance"  # 13.5 % of the tolerance


def test_fitness_bad_input():
    with pytest.raises(InvalidInputError) as e:
        measurement_fitness(expanded_uncertainty=0.1)
    assert e.value.details["argument"] == "tolerance"
