"""Geometric error model calculations for ``jingce calc`` (kernels in :mod:`jingce.kernels.kinematics`).

``kinematics.volumetric``  volumetric error of a 21-error model at points or on a grid
``kinematics.identify``    least-squares identification with an identifiability report
``kinematics.correct``     iterated command correction q <- q* - E(q)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from jingce.charts import kinematics as charts
from jingce.errors import InvalidInputError
from jingce.kernels import kinematics as kin
from jingce.services.calculations.registry import calculation

_EXAMPLE_ERRORS = {
    "E_XX": [0.0, 0.004],
    "E_YY": [0.0, -0.003],
    "E_ZZ": [0.0, 0.002],
    "E_YX": [0.0, 0.0, 0.002],
    "E_ZX": [0.0, 0.0, -0.0015],
    "E_AX": [0.0, 4e-6],
    "E_BX": [0.0, -6e-6],
    "E_CX": [0.0, 5e-6],
    "E_BY": [0.0, 3e-6],
    "E_AZ": [0.0, -4e-6],
    "E_C(0X)Y": 1.2e-5,
    "E_B(0X)Z": -8e-6,
    "E_A(0Y)Z": 6e-6,
}


def _model(errors, chain, scale):
    if not isinstance(errors, Mapping):
        raise InvalidInputError("errors must be a mapping of ISO 230-1 names to coefficient lists", argument="errors")
    return kin.geometric_errors(dict(errors), chain=chain, scale=scale)


def _grid(grid) -> np.ndarray:
    if not isinstance(grid, Mapping) or set(grid) - {"x", "y", "z"} or len(grid) != 3:
        raise InvalidInputError("grid must be {x: [lo, hi, n], y: [...], z: [...]}", argument="grid")
    axes = []
    for k in ("x", "y", "z"):
        spec = grid[k]
        if not isinstance(spec, list | tuple) or len(spec) != 3:
            raise InvalidInputError(f"grid.{k} must be [lo, hi, n]", argument="grid")
        lo, hi, n = spec
        if not isinstance(n, int) or n < 1 or n > 1000:
            raise InvalidInputError(f"grid.{k}: n must be an integer in 1..1000", argument="grid")
        axes.append(np.linspace(float(lo), float(hi), n))
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


@dataclass(frozen=True, slots=True)
class VolumetricMap:
    """Points and their volumetric errors."""

    q: np.ndarray
    result: kin.VolumetricError
    model: kin.GeometricErrors


def _volumetric(errors, *, chain="bXYZ", scale=(1.0, 1.0, 1.0), points=None, grid=None, tool_offset=None,
                method="exact"):
    model = _model(errors, chain, scale)
    if (points is None) == (grid is None):
        raise InvalidInputError("give either points [[x, y, z], ...] or grid {x: [lo, hi, n], ...}", argument="points")
    q = _grid(grid) if grid is not None else np.asarray(points, dtype=float)
    res = kin.volumetric_error(model, q, tool_offset=tool_offset, method=method)
    return VolumetricMap(q, res, model)


calculation(
    "kinematics.volumetric",
    _volumetric,
    summary_en="Volumetric error of a 3-axis machine from its 21 ISO 230-1 geometric errors (exact or first order)",
    summary_zh="由 21 项 ISO 230-1 几何误差计算三轴机床空间误差（精确或一阶）",
    example={"errors": _EXAMPLE_ERRORS, "chain": "XbYZ", "scale": [500, 400, 300],
             "grid": {"x": [-500, 500, 11], "y": [-400, 400, 9], "z": [-300, 0, 3]}, "tool_offset": [0, 0, -120]},
    plot=lambda out, path: charts.plot_volumetric_map(out.q, out.result.errors, path),
)


def _identify(q, errors, *, chain="bXYZ", tool_offset=None, terms=1, constants=(), scale=None, refine=0):
    return kin.identify(q, errors, chain=chain, tool_offset=tool_offset, terms=terms, constants=tuple(constants),
                        scale=scale, refine=refine)


def _example_identify():
    rng = np.random.default_rng(21)
    model = kin.geometric_errors(_EXAMPLE_ERRORS, chain="bXYZ", scale=(500, 400, 300))
    q = rng.uniform([-500, -400, -300], [500, 400, 0], (60, 3)).round(1)
    tools = np.array([[0, 0, -100.0], [60, 0, -150.0], [0, 60, -80.0]])[np.arange(60) % 3]
    e = kin.volumetric_error(model, q, tool_offset=tools).errors
    return {"q": q.tolist(), "errors": np.round(e, 7).tolist(), "tool_offset": tools.tolist(), "chain": "bXYZ",
            "scale": [500, 400, 300]}


calculation(
    "kinematics.identify",
    _identify,
    summary_en="Identify the 21 geometric errors by least squares, with identifiability report and condition number",
    summary_zh="最小二乘辨识 21 项几何误差，给出可辨识性报告和条件数",
    example=_example_identify(),
    plot=charts.plot_identification,
)


def _correct(errors, targets, *, chain="bXYZ", scale=(1.0, 1.0, 1.0), tool_offset=None, iterations=10,
             tolerance=1e-9, method="exact"):
    model = _model(errors, chain, scale)
    return kin.correct_commands(model, targets, tool_offset=tool_offset, iterations=iterations,
                                tolerance=tolerance, method=method)


calculation(
    "kinematics.correct",
    _correct,
    summary_en="Volumetric compensation: corrected commands by iterating q <- q* - E(q)",
    summary_zh="空间误差补偿：迭代 q <- q* - E(q) 得到修正指令",
    example={"errors": _EXAMPLE_ERRORS, "chain": "bXYZ", "scale": [500, 400, 300],
             "targets": [[100, 200, -50], [-300, 150, -200], [450, -380, -10]], "tool_offset": [0, 0, -100]},
)
