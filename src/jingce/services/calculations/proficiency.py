"""Proficiency testing for ``jingce calc`` (kernels in :mod:`jingce.kernels.proficiency`)."""

from __future__ import annotations

from jingce.kernels import proficiency as pf
from jingce.services.calculations.registry import calculation

_ROUND = [10.02, 9.98, 10.05, 10.01, 9.97, 10.00, 10.31, 9.99, 10.03, 9.96]

calculation(
    "proficiency.scores",
    pf.scores,
    summary_en="ISO 13528 assigned value and z, z', zeta, En scores with classification",
    summary_zh="ISO 13528 指定值及 z、z'、zeta、En 分数与评价",
    example={"x": _ROUND, "u_x": [0.02] * len(_ROUND), "sigma_pt": 0.05},
)

calculation(
    "proficiency.algorithm_a",
    pf.algorithm_a,
    summary_en="ISO 13528 Algorithm A: robust mean and standard deviation",
    summary_zh="ISO 13528 算法 A：稳健平均值与稳健标准差",
    example={"values": _ROUND},
)

calculation(
    "proficiency.algorithm_s",
    pf.algorithm_s,
    summary_en="ISO 13528 Algorithm S: robust pooled standard deviation",
    summary_zh="ISO 13528 算法 S：稳健合并标准差",
    example={"sds": [0.0043, 0.0052, 0.0040, 0.0037, 0.0073, 0.0099, 0.0078, 0.0037, 0.0042, 0.0053], "dof": 9},
)

calculation(
    "proficiency.assigned_value",
    pf.assigned_value,
    summary_en="ISO 13528 assigned value and its standard uncertainty",
    summary_zh="ISO 13528 指定值及其标准不确定度",
    example={"values": _ROUND},
)
