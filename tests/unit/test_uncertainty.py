"""Input distributions, the expression parser, D-SI export and the uncertainty CLI with units."""

import json
import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError
from jingce.kernels.uncertainty import (
    arcsine,
    curvilinear_trapezoid,
    dsi_xml,
    gum,
    monte_carlo,
    normal,
    parse_expression,
    rectangular,
    student_t,
    to_dsi,
    trapezoidal,
    triangular,
    type_a,
)

CASES = [
    (normal(1.0, 0.2), 1.0, 0.2),
    (rectangular(-1.0, 3.0), 1.0, 4 / math.sqrt(12)),
    (triangular(0.0, 0.0, 3.0), 1.0, math.sqrt(9 / 18)),
    (arcsine(-2.0, 2.0), 0.0, 4 / (2 * math.sqrt(2))),
    (student_t(5.0, 1.0, 5), 5.0, math.sqrt(5 / 3)),
    (trapezoidal(0.0, 2.0, 0.5), 1.0, 2 * math.sqrt(1.25 / 24)),
    (curvilinear_trapezoid(0.0, 2.0, 0.2), 1.0, math.sqrt(4 / 12 + 0.04 / 9)),
]


@pytest.mark.parametrize(("q", "mean", "sd"), CASES)
def test_moments_formulas_and_sampling_agree(q, mean, sd):
    """JCGM 101 6.4 expectation and standard deviation, checked against 4e5 samples (4 SE)."""
    assert q.x == pytest.approx(mean)
    assert q.u == pytest.approx(sd)
    m = 400_000
    s = q.sample(np.random.default_rng(42), m)
    assert s.mean() == pytest.approx(mean, abs=4 * sd / math.sqrt(m))
    kurt = 12.0 if q.kind == "student_t" else 3.0  # t5 has kurtosis 9: generous SE for its sd
    assert s.std() == pytest.approx(sd, rel=4 * math.sqrt((kurt - 1) / (4 * m)) + 1e-3 * (q.kind == "student_t"))


def test_type_a():
    q = type_a([10.1, 10.3, 9.9, 10.0, 10.2])
    assert q.x == pytest.approx(10.1)
    assert q.u == pytest.approx(np.std([10.1, 10.3, 9.9, 10.0, 10.2], ddof=1) / math.sqrt(5))
    assert q.dof == 4
    with pytest.raises(InvalidInputError, match="zero spread"):
        type_a([1.0, 1.0, 1.0])
    with pytest.raises(InvalidInputError, match="observations"):
        type_a([1.0])


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: triangular(0, 5, 3), "mode"),
        (lambda: trapezoidal(0, 1, 1.5), "beta"),
        (lambda: curvilinear_trapezoid(0, 1, 0.6), "d"),
        (lambda: student_t(0, 1, 0), "dof"),
        (lambda: normal(0, float("nan")), "sd"),
        (lambda: arcsine(1, 1), "high"),
    ],
)
def test_impossible_parameters(build, argument):
    with pytest.raises(InvalidInputError) as err:
        build()
    assert err.value.details["argument"] == argument


def test_t_with_two_dof_is_for_monte_carlo_only():
    q = student_t(0, 1, 2)
    assert math.isinf(q.u)
    with pytest.raises(InvalidInputError, match="infinite"):
        gum("a", {"a": q})
    r = monte_carlo("a", {"a": q}, 20_000, rng=1)
    assert r.validation is None


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "a.__class__",
        "a[0]",
        "[a for a in b]",
        "lambda: a",
        "open('x')",
        "sin(x=a)",
        "a if b else c",
        "a < b",
        "True + a",
        "'abc'",
        "sin",
        "_secret + 1",
        "a; b",
        "",
    ],
)
def test_expression_whitelist_refuses(text):
    with pytest.raises(InvalidInputError):
        parse_expression(text)


def test_expression_evaluates_numpy_and_math():
    e = parse_expression("sqrt(a**2 + b**2) * cos(pi/3) + atan2(b, a) - 2 % 3 + -a")
    assert e.names == ("a", "b")
    a, b = np.array([3.0, 1.0]), np.array([4.0, 1.0])
    expected = np.sqrt(a**2 + b**2) * 0.5 + np.arctan2(b, a) - 2 - a
    np.testing.assert_allclose(e(a=a, b=b), expected)


def test_division_by_zero_constant_expression_is_refused():
    with pytest.raises(InvalidInputError, match="model"):
        gum("a + 1/0", {"a": normal(1, 0.1)})


def test_dsi_export():
    r = gum("a + b", {"a": normal(1.0, 0.1), "b": normal(2.0, 0.1)})
    d = to_dsi(r, "\\metre")[0]["si:real"]
    assert d["si:value"] == pytest.approx(3.0)
    assert d["si:unit"] == "\\metre"
    assert d["si:expandedUnc"]["si:coverageFactor"] == pytest.approx(1.959964, abs=1e-6)
    assert d["si:expandedUnc"]["si:uncertainty"] == pytest.approx(1.959964 * math.sqrt(0.02), rel=1e-6)
    mc = monte_carlo("a + b", {"a": normal(1.0, 0.1), "b": normal(2.0, 0.1)}, 20_000, rng=3)
    ci = to_dsi(mc)[0]["si:real"]["si:coverageInterval"]
    assert ci["si:intervalMin"] < 3.0 < ci["si:intervalMax"]
    xml = dsi_xml(r, "\\metre")
    assert xml.startswith("<si:real><si:label>y</si:label>") and "<si:coverageFactor>" in xml


def _run(tmp_path, name, data, *extra):
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump(data))
    res = CliRunner().invoke(app, ["calc", "run", name, str(path), *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_cli_units_micrometre_and_millimetre(tmp_path):
    data = {
        "model": "a + b",
        "inputs": {"a": {"normal": {"mean": "10 mm", "sd": "1 um"}}, "b": {"normal": {"mean": 5, "sd": 2}, "unit": "µm"}},
        "output_unit": "mm",
    }
    out = _run(tmp_path, "uncertainty.gum", data)
    assert out["result"]["y"] == pytest.approx(10.005, rel=1e-12)
    assert out["result"]["u"] == pytest.approx(math.sqrt(5) * 1e-3, rel=1e-9)
    assert out["unit"] == "mm"
    assert out["dsi"][0]["si:real"]["si:unit"] == "\\milli\\metre"


def test_cli_h1_example_in_mixed_units(tmp_path):
    ex = CliRunner().invoke(app, ["calc", "run", "uncertainty.gum", "--example"])
    data = json.loads(ex.stdout)
    data["output_unit"] = "nm"
    out = _run(tmp_path, "uncertainty.gum", data, "--plot", str(tmp_path / "budget.png"))
    assert out["result"]["u"] == pytest.approx(32, abs=0.5)
    assert out["result"]["U"] == pytest.approx(93, abs=0.5)
    assert (tmp_path / "budget.png").stat().st_size > 5000


def test_cli_temperature_spreads_are_differences(tmp_path):
    data = {"model": "t", "inputs": {"t": {"normal": {"mean": "20 degC", "sd": "0.5 delta_degC"}}}}
    out = _run(tmp_path, "uncertainty.gum", data)
    assert out["result"]["y"] == pytest.approx(293.15)
    assert out["result"]["u"] == pytest.approx(0.5)
    data = {"model": "t", "inputs": {"t": {"normal": {"mean": 20, "sd": 0.5}, "unit": "degC"}}}
    out = _run(tmp_path, "uncertainty.gum", data)
    assert out["result"]["u"] == pytest.approx(0.5)


def test_cli_monte_carlo_with_constants_and_plot(tmp_path):
    ex = json.loads(CliRunner().invoke(app, ["calc", "run", "uncertainty.monte_carlo", "--example"]).stdout)
    ex["trials"] = 50_000
    out = _run(tmp_path, "uncertainty.monte_carlo", ex, "--plot", str(tmp_path / "mc.svg"))
    assert out["unit"] == "mg"
    assert out["result"]["y"] == pytest.approx(1.234, abs=0.002)
    assert out["result"]["validation"]["passed"] is False
    assert (tmp_path / "mc.svg").read_text().lstrip().startswith("<?xml")


def test_cli_refuses_unit_mismatch_and_bad_input(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"model": "a + b", "inputs": {"a": {"normal": {"mean": "1 mm", "sd": "1 um"}},
                                                                   "b": {"normal": {"mean": "1 s", "sd": "1 ms"}}}}))
    res = CliRunner().invoke(app, ["calc", "run", "uncertainty.gum", str(path)])
    assert res.exit_code != 0
    assert isinstance(res.exception, InvalidInputError) or "model" in res.output
    path.write_text(yaml.safe_dump({"model": "a", "inputs": {"a": {"normal": {"mean": 1, "sd": -1}}}}))
    res = CliRunner().invoke(app, ["calc", "run", "uncertainty.gum", str(path)])
    assert res.exit_code != 0
    assert isinstance(res.exception, InvalidInputError) or "inputs.a.normal.sd" in res.output


@pytest.mark.parametrize(
    "name",
    ["conformity.probability_of_conformity", "conformity.decide", "conformity.global_risk", "conformity.guard_band",
     "proficiency.scores", "proficiency.algorithm_a", "proficiency.algorithm_s", "proficiency.assigned_value",
     "intervals.a3", "intervals.s2"],
)
def test_cli_examples_run(tmp_path, name):
    ex = json.loads(CliRunner().invoke(app, ["calc", "run", name, "--example"]).stdout)
    out = _run(tmp_path, name, ex)
    assert out
