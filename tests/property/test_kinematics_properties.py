"""Properties of the rigid-body error model."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.kernels import kinematics as kin

chains = st.sampled_from(["bXYZ", "XbYZ", "YXbZ", "ZbXY", "XYZb", "bZYX"])


@st.composite
def models(draw, size=1e-5):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    errors = {}
    for name in kin.COMPONENT_ERRORS:
        scale = size * (400.0 if name[2] in "XYZ" else 1.0)  # mm for translations, rad for angles
        errors[name] = list(rng.normal(0, scale, 3))
    for name in kin.SQUARENESS_ERRORS:
        errors[name] = float(rng.normal(0, size))
    return kin.geometric_errors(errors, chain=draw(chains), scale=(500, 400, 300)), rng


@given(models())
@settings(max_examples=50)
def test_first_order_is_exact_to_second_order(mr):
    model, rng = mr
    q = rng.uniform(-500, 500, (200, 3))
    t = rng.uniform(-150, 150, (200, 3))
    ex = kin.volumetric_error(model, q, tool_offset=t).errors
    fo = kin.volumetric_error(model, q, tool_offset=t, method="first_order").errors
    # errors of order 1e-5 rad and 4e-3 mm over lever arms below 2 m: second-order terms of ~1e-6 mm
    assert np.abs(ex - fo).max() < 1e-5
    # halving every error quarters the second-order difference
    half = kin.geometric_errors({**{n: list(0.5 * model.coefficients[k]) for k, n in enumerate(kin.COMPONENT_ERRORS)},
                                 **{n: 0.5 * v for n, v in zip(kin.SQUARENESS_ERRORS, model.squareness, strict=True)}},
                                chain=model.chain, scale=(500, 400, 300))
    d_half = kin.volumetric_error(half, q, tool_offset=t).errors - kin.volumetric_error(half, q, tool_offset=t, method="first_order").errors
    big = np.abs(ex - fo).max()
    if big > 1e-9:
        assert np.abs(d_half).max() < 0.3 * big


@given(models(size=1e-6))
@settings(max_examples=25)
def test_identification_round_trip(mr):
    model, rng = mr
    # keep the identifiable convention: no constant terms, no linear straightness
    coef = np.array(model.coefficients)
    coef[:, 0] = 0.0
    for k in range(18):
        if k % 6 < 3 and k % 6 != k // 6:
            coef[k, 1] = 0.0
    errors = {n: list(coef[k]) for k, n in enumerate(kin.COMPONENT_ERRORS)}
    errors.update({n: float(v) for n, v in zip(kin.SQUARENESS_ERRORS, model.squareness, strict=True)})
    truth = kin.geometric_errors(errors, chain=model.chain, scale=(500, 400, 300))
    q = rng.uniform(-500, 500, (800, 3))
    t = np.array([[0, 0, -100.0], [80, 0, -60], [0, 80, -150], [-50, 50, -90]])[rng.integers(0, 4, 800)]
    e = kin.volumetric_error(truth, q, tool_offset=t).errors
    idf = kin.identify(q, e, chain=model.chain, tool_offset=t, terms=2, scale=(500, 400, 300), refine=2)
    assert idf.rank == idf.parameters.size
    np.testing.assert_allclose(idf.model.coefficients[:, :3], truth.coefficients, atol=1e-13)
    np.testing.assert_allclose(idf.model.squareness, truth.squareness, atol=1e-15)
