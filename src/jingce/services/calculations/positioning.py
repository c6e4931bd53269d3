"""ISO 230-2 positioning calculations for ``jingce calc`` (kernels in :mod:`jingce.kernels.positioning`).

``positioning.evaluate``     evaluation of a bidirectional test (every clause-3 quantity)
``positioning.report``       the same as a report table
``positioning.test_plan``    target positions (clause 5.2), runs, overrun and move sequence
``positioning.compensation`` pitch-error table with backlash or per direction, as CSV, JSON and SINUMERIK
``positioning.verify``       table built from one test, verified with a second one at other targets
``positioning.improvement``  is an improvement larger than the test uncertainty (stop the loop)?
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from jingce.charts import positioning as charts
from jingce.errors import InvalidInputError
from jingce.kernels import positioning as pos
from jingce.services.calculations.registry import calculation

_EXAMPLE_TARGETS = [0.0, 105.3, 198.7, 310.2, 402.5, 500.0]
_EXAMPLE_UP = [
    [0.0012, 105.3041, 198.7065, 310.2088, 402.5102, 500.0131],
    [0.0015, 105.3043, 198.7061, 310.2092, 402.5107, 500.0128],
    [0.0011, 105.3038, 198.7066, 310.2086, 402.5101, 500.0134],
    [0.0014, 105.3044, 198.7063, 310.2090, 402.5104, 500.0130],
    [0.0013, 105.3040, 198.7064, 310.2089, 402.5105, 500.0132],
]
_EXAMPLE_DOWN = [
    [0.0031, 105.3062, 198.7085, 310.2109, 402.5121, 500.0152],
    [0.0034, 105.3060, 198.7082, 310.2111, 402.5126, 500.0149],
    [0.0030, 105.3065, 198.7086, 310.2107, 402.5119, 500.0155],
    [0.0033, 105.3061, 198.7084, 310.2110, 402.5123, 500.0151],
    [0.0032, 105.3063, 198.7083, 310.2108, 402.5124, 500.0153],
]
_EXAMPLE = {"targets": _EXAMPLE_TARGETS, "up": _EXAMPLE_UP, "down": _EXAMPLE_DOWN, "unit": "mm"}


def _rng(inputs: Mapping[str, Any]) -> dict:
    args = dict(inputs)
    seed = args.pop("seed", None)
    if seed is not None and not isinstance(seed, int):
        raise InvalidInputError(f"seed must be an integer, got {seed!r}", argument="seed")
    args["rng"] = np.random.default_rng(seed)
    return args


calculation(
    "positioning.evaluate",
    pos.evaluate,
    summary_en="ISO 230-2 positioning accuracy and repeatability of an NC axis (A, E, M, R, B per clause 3)",
    summary_zh="ISO 230-2 数控轴线定位精度和重复定位精度（第 3 章 A、E、M、R、B）",
    example=_EXAMPLE,
    plot=charts.plot_positioning,
)

calculation(
    "positioning.report",
    lambda **kw: pos.report(pos.evaluate(**kw)),
    summary_en="ISO 230-2 evaluation as a report table (per target and per axis, clause 8)",
    summary_zh="ISO 230-2 评定报告表（按目标位置和轴线，第 8 章）",
    example=_EXAMPLE,
)


def _plan(start, end, rng, **kw):
    return pos.test_plan(start, end, rng=rng, **kw)


calculation(
    "positioning.test_plan",
    _plan,
    summary_en="ISO 230-2 test plan: target positions with random offsets (5.2), runs, overrun, move sequence",
    summary_zh="ISO 230-2 检验计划：带随机偏移的目标位置（5.2）、次数、越程和运动顺序",
    adapter=_rng,
    example={"start": 0.0, "end": 800.0, "targets_per_metre": 10, "runs": 5, "seed": 230},
)


@dataclass(frozen=True, slots=True)
class CompensationOutput:
    """A compensation table with its evaluation and its text forms."""

    evaluation: pos.PositioningResult
    table: pos.CompensationTable
    csv: str
    json: str
    sinumerik: str


def _compensation(targets, up, down, spacing, *, reference=None, start=None, end=None, mode="backlash",
                  axis="linear", unit="mm", axis_name="X1", encoder=0, direction="mean", digits=6):
    r = pos.evaluate(targets, up, down, axis=axis, unit=unit)
    table = pos.compensation_table(r, spacing=spacing, reference=reference, start=start, end=end, mode=mode)
    return CompensationOutput(
        r, table, pos.table_to_csv(table, digits=digits), pos.table_to_json(table),
        pos.table_to_sinumerik(table, axis_name=axis_name, encoder=encoder, direction=direction, digits=digits),
    )


calculation(
    "positioning.compensation",
    _compensation,
    summary_en="Pitch-error compensation table (backlash or per direction) as CSV, JSON and SINUMERIK $AA_ENC_COMP",
    summary_zh="螺距误差补偿表（反向间隙或分方向），输出 CSV、JSON 和 SINUMERIK $AA_ENC_COMP",
    example={**_EXAMPLE, "spacing": 50.0, "reference": 0.0, "axis_name": "X1"},
    plot=lambda out, path: charts.plot_compensation(out.table, path),
)


def _verify(table_test, verification_test, spacing, *, compensated=False, reference=None, mode="backlash",
            axis="linear", unit="mm"):
    for name, test in (("table_test", table_test), ("verification_test", verification_test)):
        if not isinstance(test, Mapping) or not {"targets", "up", "down"} <= set(test):
            raise InvalidInputError(f"{name} must be a mapping with targets, up and down", argument=name)
    base = pos.evaluate(table_test["targets"], table_test["up"], table_test["down"], axis=axis, unit=unit)
    table = pos.compensation_table(base, spacing=spacing, reference=reference, mode=mode)
    return pos.verify(table, verification_test["targets"], verification_test["up"], verification_test["down"],
                      compensated=bool(compensated), baseline=base)


_VERIFY_TARGETS = [20.0, 130.4, 251.9, 349.0, 455.1, 480.0]
calculation(
    "positioning.verify",
    _verify,
    summary_en="Build a table from one test and verify it with another at other targets (predicted or measured)",
    summary_zh="用一次检验建表，用另一组目标位置的检验验证补偿效果（预测或实测）",
    example={
        "table_test": _EXAMPLE,
        "verification_test": {
            "targets": _VERIFY_TARGETS,
            "up": [[t + 0.001 + 2.6e-5 * t + 1e-4 * ((i * 7 + j) % 3) for j, t in enumerate(_VERIFY_TARGETS)]
                   for i in range(5)],
            "down": [[t + 0.003 + 2.6e-5 * t + 1e-4 * ((i * 5 + j) % 3) for j, t in enumerate(_VERIFY_TARGETS)]
                     for i in range(5)],
        },
        "spacing": 50.0,
        "compensated": False,
    },
    plot=charts.plot_verification,
)

calculation(
    "positioning.improvement",
    pos.improvement_below_uncertainty,
    summary_en="Is the improvement between two tests within the test uncertainty (stop iterating)?",
    summary_zh="两次检验之间的改进是否在检验不确定度以内（停止迭代）？",
    example={"before": 0.0152, "after": 0.0041, "test_uncertainty": 0.0015, "quantity": "E"},
)
