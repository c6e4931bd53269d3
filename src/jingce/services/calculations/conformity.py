"""Conformity decisions and risks for ``jingce calc`` (kernels in :mod:`jingce.kernels.conformity`)."""

from __future__ import annotations

from jingce.kernels import conformity as cf
from jingce.services.calculations.registry import calculation

calculation(
    "conformity.probability_of_conformity",
    cf.probability_of_conformity,
    summary_en="JCGM 106 specific risk: probability that the measurand conforms",
    summary_zh="JCGM 106 特定风险：被测量符合规范的概率",
    example={"y": [9.98, 10.03, 10.049], "u": 0.01, "lower": 9.95, "upper": 10.05},
)

calculation(
    "conformity.decide",
    cf.decide,
    summary_en="Decision rules: simple, guarded acceptance/rejection (ILAC-G8), ISO 14253-1",
    summary_zh="判定规则：简单接受、保护带接受/拒绝（ILAC-G8）、ISO 14253-1",
    example={"y": [9.98, 10.03, 10.049, 10.06], "U": 0.02, "lower": 9.95, "upper": 10.05,
             "rule": "guarded_acceptance"},
)

calculation(
    "conformity.global_risk",
    cf.global_risk,
    summary_en="JCGM 106 global consumer's and producer's risk for a process",
    summary_zh="JCGM 106 全局消费者风险与生产者风险",
    example={"prior_mean": 0.0, "prior_sd": 1.0, "u": 0.25, "lower": -2.0, "upper": 2.0, "guard_band": 0.0},
)

calculation(
    "conformity.guard_band",
    cf.guard_band_for_risk,
    summary_en="Guard band for a target specific risk (JCGM 106 8.3)",
    summary_zh="满足目标特定风险的保护带（JCGM 106 8.3）",
    example={"u": 0.01, "specific_risk": 0.05, "upper": 10.05},
)
