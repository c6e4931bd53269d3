"""Tolerance stack-up for ``jingce calc`` (kernel :func:`jingce.kernels.stackup.analyze`).

Distributions are given per input as a name (``"normal"``, ``"uniform"``, ``"triangular"``) or as
``{"<scipy.stats name>": {parameters}}``, e.g. ``{"lognorm": {"s": 0.3, "loc": 9.9, "scale": 0.1}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats

from jingce.charts import stackup as charts
from jingce.errors import InvalidInputError
from jingce.kernels import stackup as st
from jingce.services.calculations.registry import calculation

# The motor assembly of Drake, Dimensioning and Tolerancing Handbook (1999), chapter 9 (inches).
DRAKE_MOTOR = {
    "names": ["A screw thread length", "B washer", "C inner bearing cap", "D bearing", "E spacer", "F rotor",
              "G spacer", "H bearing", "I pulley casting", "J shaft", "K tapped hole depth"],
    "nominals": [0.375, 0.032, 0.06, 0.438, 0.12, 1.5, 0.12, 0.438, 0.450, 3.019, 0.3],
    "upper_deviations": [0.0, 0.002, 0.003, 0.0, 0.005, 0.010, 0.005, 0.0, 0.007, 0.012, 0.03],
    "lower_deviations": [-0.031, -0.002, -0.003, -0.015, -0.005, -0.004, -0.005, -0.015, -0.007, 0.0, -0.03],
    "sensitivities": [-1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1],
}


def _distribution(spec: Any, i: int):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping) and len(spec) == 1:
        (name, params), = spec.items()
        dist = getattr(stats, str(name), None)
        if not isinstance(dist, stats.rv_continuous | stats.rv_discrete):
            raise InvalidInputError(f"distributions[{i}]: unknown scipy.stats distribution {name!r}", argument="distributions")
        if not isinstance(params, Mapping):
            raise InvalidInputError(f"distributions[{i}]: parameters must be a mapping", argument="distributions")
        try:
            return dist(**params)
        except TypeError as exc:
            raise InvalidInputError(f"distributions[{i}]: {exc}", argument="distributions") from None
    raise InvalidInputError(f"distributions[{i}] must be a name or {{scipy_name: {{params}}}}", argument="distributions")


def _adapter(inputs: Mapping[str, Any]) -> dict:
    args = dict(inputs)
    seed = args.pop("seed", None)
    if seed is not None and not isinstance(seed, int):
        raise InvalidInputError(f"seed must be an integer, got {seed!r}", argument="seed")
    if args.get("n_monte_carlo"):
        args["rng"] = np.random.default_rng(seed)
    d = args.get("distributions")
    if isinstance(d, list):
        args["distributions"] = [_distribution(x, i) for i, x in enumerate(d)]
    return args


calculation(
    "stackup.analyze",
    st.analyze,
    summary_en="Tolerance stack-up: worst case, RSS, modified RSS, Monte Carlo, exact uniform, capability",
    summary_zh="尺寸链公差分析：极值法、均方根法、修正均方根法、蒙特卡洛、均匀分布精确卷积、能力预测",
    adapter=_adapter,
    example={**DRAKE_MOTOR, "lsl": 0.0, "n_monte_carlo": 100000, "seed": 9, "distributions": "uniform"},
    plot=charts.plot_stackup,
)
