"""Calibration intervals for ``jingce calc`` (kernels in :mod:`jingce.kernels.intervals`)."""

from __future__ import annotations

from jingce.kernels import intervals as iv
from jingce.services.calculations.registry import calculation

calculation(
    "intervals.a3",
    iv.a3_interval_test,
    summary_en="NCSLI RP-1 method A3: interval test and adjustment",
    summary_zh="NCSLI RP-1 A3 法：校准间隔检验与调整",
    example={"in_tolerance": 15, "n": 20, "current_interval": 365, "target_reliability": 0.95},
)

calculation(
    "intervals.s2",
    iv.s2_reliability_fit,
    summary_en="NCSLI RP-1 method S2: reliability model fit (exponential, Weibull, random walk)",
    summary_zh="NCSLI RP-1 S2 法：可靠性模型拟合（指数、威布尔、随机游走）",
    example={"intervals": [90, 90, 180, 180, 270, 270, 365, 365], "in_tolerance": [19, 18, 17, 18, 15, 16, 13, 14],
             "n": [20] * 8, "target_reliability": 0.85, "model": "weibull"},
)
