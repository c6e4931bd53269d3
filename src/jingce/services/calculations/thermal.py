"""Thermal error model for ``jingce calc`` (kernel :func:`jingce.kernels.thermal.fit`)."""

from __future__ import annotations

import numpy as np

from jingce.charts import thermal as charts
from jingce.kernels import thermal as th
from jingce.services.calculations.registry import calculation


def _example():
    # A spindle warm-up and cool-down: two sensors (spindle housing, column) and the Z drift (µm).
    t = np.arange(0, 240, 6.0)
    heat = np.where(t < 150, 1 - np.exp(-t / 35), (1 - np.exp(-150 / 35)) * np.exp(-(t - 150) / 40))
    t1 = 21.0 + 8.0 * heat
    t2 = 21.0 + 2.5 * (1 - np.exp(-t / 90))
    dz = -3.1 * (t1 - 21.0) - 1.4 * (t2 - 21.0) + 0.3 * np.sin(t / 7.0)
    return {"temperatures": np.column_stack([t1, t2]).round(3).tolist(), "displacement": dz.round(3).tolist(),
            "sensors": ["spindle housing", "column"], "channels": ["Z / um"], "test_fraction": 0.3}


calculation(
    "thermal.fit",
    th.fit,
    summary_en="Regression thermal error model (displacement vs temperature sensors) with held-out validation",
    summary_zh="热误差回归模型（位移对温度传感器），并用留出数据验证",
    example=_example(),
    plot=charts.plot_thermal,
)
