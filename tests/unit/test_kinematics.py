"""Rigid-body 21-error model: exact transforms against an independent per-point 4x4 implementation,
exact vs first order, hand-checked cases, identification back from generated data, identifiability,
command correction, bad input and the CLI (tests/data/kinematics/README.md)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from jingce.cli.app import app
from jingce.errors import InvalidInputError, JingceWarning
from jingce.kernels import kinematics as kin

DATA = json.loads((Path(__file__).parents[1] / "data" / "kinematics" / "synthetic_machine.json").read_text())


def _model(chain=None):
    return kin.geometric_errors(DATA["errors"], chain=chain or DATA["chain"], scale=DATA["scale"])


def _points(n, seed=0):
    rng = np.random.default_rng(seed)
    lo, hi = np.array(DATA["travel"]).T
    q = rng.uniform(lo, hi, (n, 3))
    tools = np.array(DATA["tool_offsets"])[rng.integers(0, len(DATA["tool_offsets"]), n)]
    return q, tools


# --- an independent per-point implementation with explicit 4x4 homogeneous matrices -------------


def _rot(axis, a):
    c, s = np.cos(a), np.sin(a)
    m = np.eye(4)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def _trans(v):
    m = np.eye(4)
    m[:3, 3] = v
    return m


def _htm_point(model, q, t):
    e = {name: model.component(name, [q["XYZ".index(name[3])]])[0] for name in kin.COMPONENT_ERRORS}
    g, b, a = model.squareness
    u = {"X": np.array([1.0, 0, 0]), "Y": (_rot("z", g) @ [0, 1.0, 0, 0])[:3],
         "Z": (_rot("x", a) @ _rot("y", b) @ [0, 0, 1.0, 0])[:3]}

    def err(k):
        return _trans([e[f"E_X{k}"], e[f"E_Y{k}"], e[f"E_Z{k}"]]) @ _rot("x", e[f"E_A{k}"]) @ \
            _rot("y", e[f"E_B{k}"]) @ _rot("z", e[f"E_C{k}"])

    chain = model.chain
    ib = chain.index("b")
    m = np.eye(4)
    for k in chain[:ib]:
        m = m @ err(k) @ _trans(q["XYZ".index(k)] * u[k])
    for k in chain[ib + 1:]:
        m = m @ _trans(q["XYZ".index(k)] * u[k]) @ err(k)
    p = m @ np.append(t, 1.0)
    return p[:3] - (np.asarray(q) + t)


@pytest.mark.parametrize("chain", ["XbYZ", "bXYZ", "YXbZ", "ZbXY", "XYZb"])
def test_exact_equals_per_point_homogeneous_matrices(chain):
    model = _model(chain)
    q, tools = _points(150, seed=1)
    got = kin.volumetric_error(model, q, tool_offset=tools).errors
    ref = np.array([_htm_point(model, qi, ti) for qi, ti in zip(q, tools, strict=True)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_exact_and_first_order_within_1e_6_mm():
    model = _model()
    q, tools = _points(200_000, seed=2)
    ex = kin.volumetric_error(model, q, tool_offset=tools).errors
    fo = kin.volumetric_error(model, q, tool_offset=tools, method="first_order").errors
    assert np.abs(ex).max() > 0.02  # tens of µm of volumetric error ...
    assert np.abs(ex - fo).max() < 1e-6  # ... and the forms agree to the second-order terms


def test_hand_checked_first_order_cases():
    q = np.array([[100.0, 200.0, -50.0]])
    for chain in ("bXYZ", "XbYZ", "XYbZ"):
        # a positioning error has the sign of the deviation a laser measures, on either side of the bed
        m = kin.geometric_errors({"E_XX": [0.0, 0.01]}, chain=chain, scale=(1000, 1000, 1000))
        assert kin.volumetric_error(m, q).errors[0] == pytest.approx([0.001, 0, 0], abs=1e-12)
    g = 2e-5
    m = kin.geometric_errors({"E_C(0X)Y": g})
    assert kin.volumetric_error(m, q).errors[0] == pytest.approx([-g * 200.0, (np.cos(g) - 1) * 200.0, 0.0], abs=1e-12)
    # Abbe: a constant pitch of the Z slide with a 100 mm tool gives an X error of -100 eps
    eps = 1e-5
    m = kin.geometric_errors({"E_BZ": [eps]}, chain="bXYZ")
    e = kin.volumetric_error(m, q, tool_offset=[0, 0, -100.0], method="first_order").errors[0]
    assert e == pytest.approx([-100 * eps, 0.0, 0.0], abs=1e-15)
    # roll of a workpiece-side X table turns about the workpiece datum: lever arm is the whole tool vector
    m = kin.geometric_errors({"E_AX": [eps]}, chain="XbYZ")
    e = kin.volumetric_error(m, q, tool_offset=[0, 0, -100.0], method="first_order").errors[0]
    assert e == pytest.approx([0.0, -eps * (-50 - 100), eps * 200.0], abs=1e-15)


def test_identification_back_from_generated_data():
    model = _model()
    q, tools = _points(5000, seed=3)
    e = kin.volumetric_error(model, q, tool_offset=tools).errors
    with warnings.catch_warnings():
        warnings.simplefilter("error", JingceWarning)  # everything must be identifiable
        first = kin.identify(q, e, chain=DATA["chain"], tool_offset=tools, terms=2, scale=DATA["scale"])
        exact = kin.identify(q, e, chain=DATA["chain"], tool_offset=tools, terms=2, scale=DATA["scale"], refine=2)
    assert len(first.parameters) == 39 and first.rank == 39 and first.identifiable.all()
    assert np.isfinite(first.condition_number) and first.condition_number < 1000
    truth = np.zeros((18, 4))
    truth[:, :3] = model.coefficients  # terms=2 adds an s^3 term to the straightness errors (truth 0)
    np.testing.assert_allclose(exact.model.coefficients, truth, rtol=0, atol=1e-12)
    np.testing.assert_allclose(exact.model.squareness, model.squareness, rtol=0, atol=1e-14)
    assert exact.method == "exact" and exact.residual_max < 1e-11
    # the first-order solution is off only by what the second-order terms can explain
    assert np.abs(first.model.coefficients - truth)[:, 1:].max() < 5e-6
    assert first.residual_rms < 2e-7


def test_twenty_one_parameters_with_noise_cover_the_truth():
    rng = np.random.default_rng(4)
    errs = {k: v[:2] if k[2] in "ABC" or k[2] == k[3] else [0.0, 0.0, v[2]]
            for k, v in DATA["errors"].items() if k.startswith("E_") and "(" not in k}
    errs.update({k: v for k, v in DATA["errors"].items() if "(" in k})
    model = kin.geometric_errors(errs, chain="bXYZ", scale=DATA["scale"])
    q, tools = _points(20_000, seed=5)
    e = kin.volumetric_error(model, q, tool_offset=tools).errors + rng.normal(0, 5e-4, (20_000, 3))
    idf = kin.identify(q, e, tool_offset=tools, terms=1, scale=DATA["scale"], refine=1)
    assert len(idf.parameters) == 21 and idf.rank == 21
    truth = []
    for name in idf.parameter_names:
        if "[" in name:
            comp, power = name[:-3], int(name[-2])
            truth.append(model.coefficients[kin.COMPONENT_ERRORS.index(comp), power])
        else:
            truth.append(model.squareness[kin.SQUARENESS_ERRORS.index(name)])
    z = (idf.parameters - np.array(truth)) / idf.standard_uncertainties
    assert np.all(np.abs(z) < 4.5)
    assert idf.residual_rms == pytest.approx(5e-4, rel=0.05)


def test_constant_yaw_and_squareness_need_tool_offsets():
    model = kin.geometric_errors({"E_CX": [1e-5], "E_C(0X)Y": 2e-5, "E_XX": [0, 0.004]}, chain="bXYZ",
                                 scale=(500, 400, 300))
    q, tools = _points(3000, seed=6)
    e0 = kin.volumetric_error(model, q).errors
    with pytest.warns(JingceWarning, match="not identifiable"):
        idf0 = kin.identify(q, e0, terms=1, constants=("E_CX",), scale=(500, 400, 300))
    names = list(idf0.parameter_names)
    assert not idf0.identifiable[names.index("E_CX[0]")]
    assert not idf0.identifiable[names.index("E_C(0X)Y")]
    assert idf0.identifiable[names.index("E_XX[1]")]
    assert any("E_CX[0]" in c and "E_C(0X)Y" in c for c in idf0.confounded)
    assert idf0.condition_number == np.inf and np.isfinite(idf0.condition_number_identifiable)
    # the sum of the two (what the data determine) is still right
    s = idf0.parameters[names.index("E_CX[0]")] + idf0.parameters[names.index("E_C(0X)Y")]
    assert s == pytest.approx(3e-5, abs=1e-12)
    e1 = kin.volumetric_error(model, q, tool_offset=tools).errors
    idf1 = kin.identify(q, e1, tool_offset=tools, terms=1, constants=("E_CX",), scale=(500, 400, 300))
    assert idf1.identifiable.all() and idf1.rank == len(names)
    assert idf1.parameters[names.index("E_CX[0]")] == pytest.approx(1e-5, abs=1e-12)
    assert idf1.parameters[names.index("E_C(0X)Y")] == pytest.approx(2e-5, abs=1e-12)


def test_command_correction_puts_the_tool_on_target():
    model = _model()
    q_star, tools = _points(2000, seed=7)
    cc = kin.correct_commands(model, q_star, tool_offset=tools)
    assert cc.converged and cc.iterations <= 4
    assert np.all(np.diff(cc.max_residual_history) < 0)
    actual = cc.commands + kin.volumetric_error(model, cc.commands, tool_offset=tools).errors
    np.testing.assert_allclose(actual, q_star, atol=1e-9)
    assert cc.max_residual_history[0] > 0.02


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: kin.geometric_errors({}, chain="bXYW"), "chain"),
        (lambda: kin.geometric_errors({}, chain="bXY"), "chain"),
        (lambda: kin.geometric_errors({}, chain="XbYbZ"), "chain"),
        (lambda: kin.geometric_errors({"E_QX": [0, 1]}), "errors"),
        (lambda: kin.volumetric_error(_model(), [[1.0, 2.0]]), "q"),
        (lambda: kin.volumetric_error(_model(), [[1.0, 2.0, 3.0]], tool_offset=[1, 2]), "tool_offset"),
        (lambda: kin.volumetric_error(_model(), [[1.0, 2.0, np.nan]]), "q"),
        (lambda: kin.volumetric_error(_model(), [[1.0, 2.0, 3.0]], method="quick"), "method"),
        (lambda: kin.identify([[1.0, 2, 3]] * 4, [[0.0, 0, 0]] * 3), "errors"),
        (lambda: kin.identify([[1.0, 2, 3]] * 4, [[0.0, 0, 0]] * 4, constants=("E_XQ",)), "constants"),
        (lambda: kin.identify([[1.0, 2, 3]] * 4, [[0.0, 0, 0]] * 4, chain="bXY"), "chain"),
    ],
)
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(InvalidInputError) as exc:
        call()
    assert exc.value.details["argument"] == argument


def test_chain_forms():
    assert kin.parse_chain("W-X-bed-Y-Z-T")[0] == "XbYZ"
    assert kin.parse_chain("bed-X-Y-Z") == ("bXYZ", (), (0, 1, 2))
    assert kin.parse_chain("YXbZ") == ("YXbZ", (1, 0), (2,))


runner = CliRunner()


@pytest.mark.parametrize("name", ["kinematics.volumetric", "kinematics.identify", "kinematics.correct"])
def test_cli_examples(name, tmp_path):
    ex = runner.invoke(app, ["calc", "run", name, "--example"])
    assert ex.exit_code == 0, ex.output
    inp = tmp_path / "in.json"
    inp.write_text(ex.output)
    args = ["calc", "run", name, str(inp)]
    if name != "kinematics.correct":
        args += ["--plot", str(tmp_path / "k.png")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    if name == "kinematics.identify":
        assert data["rank"] == 21 and len(data["parameters"]) == 21
    if name == "kinematics.correct":
        assert data["converged"] is True
