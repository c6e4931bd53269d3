"""Measurement system analysis calculations for ``jingce calc`` (``msa.*``).

Inputs are the kernels' arguments as JSON/YAML: nested lists for arrays (a Gage R&R study as
parts x appraisers x trials, ``null`` for a missing reading), or the long table as three columns::

    part: [1, 1, 1, 2, ...]
    appraiser: [A, A, A, A, ...]
    value: [0.29, 0.41, 0.64, -0.56, ...]
    tolerance: 6.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from jingce.charts import msa as charts
from jingce.kernels import msa
from jingce.services.calculations.registry import calculation

_AIAG_GRR = [  # AIAG MSA 4th ed. Gage R&R example, parts x appraisers (A, B, C) x trials
    [[0.29, 0.41, 0.64], [0.08, 0.25, 0.07], [0.04, -0.11, -0.15]],
    [[-0.56, -0.68, -0.58], [-0.47, -1.22, -0.68], [-1.38, -1.13, -0.96]],
    [[1.34, 1.17, 1.27], [1.19, 0.94, 1.34], [0.88, 1.09, 0.67]],
    [[0.47, 0.50, 0.64], [0.01, 1.03, 0.20], [0.14, 0.20, 0.11]],
    [[-0.80, -0.92, -0.84], [-0.56, -1.20, -1.28], [-1.46, -1.07, -1.45]],
    [[0.02, -0.11, -0.21], [-0.20, 0.22, 0.06], [-0.29, -0.67, -0.49]],
    [[0.59, 0.75, 0.66], [0.47, 0.55, 0.83], [0.02, 0.01, 0.21]],
    [[-0.31, -0.20, -0.17], [-0.63, 0.08, -0.34], [-0.46, -0.56, -0.49]],
    [[2.26, 1.99, 2.01], [1.80, 2.12, 2.19], [1.77, 1.45, 1.87]],
    [[-1.36, -1.25, -1.31], [-1.68, -1.62, -1.50], [-1.49, -1.77, -2.16]],
]


def _nan_for_null(x: Any) -> Any:
    if isinstance(x, list):
        return [_nan_for_null(v) for v in x]
    return np.nan if x is None else x


def _readings_adapter(inputs: Mapping[str, Any]) -> dict:
    args = dict(inputs)
    if "readings" in args and args["readings"] is not None:
        args["readings"] = np.asarray(_nan_for_null(args["readings"]), dtype=float)
    return args


calculation(
    "msa.type1",
    msa.type1,
    summary_en="Type-1 gauge study: Cg, Cgk (20 % of T over 6 s), bias t test (VDA 5 / Bosch booklet 10)",
    summary_zh="类型1量具研究：Cg、Cgk（公差20%、6s）、偏倚t检验（VDA 5 / 博世手册10）",
    example={"readings": [5.8, 5.7, 5.9, 5.9, 6.0, 6.1, 6.0, 6.1, 6.4, 6.3, 6.0, 6.1, 6.2, 5.6, 6.0],
             "reference": 6.0, "tolerance": 4.0},
    plot=charts.plot_type1,
)

calculation(
    "msa.bias_linearity",
    msa.bias_linearity,
    summary_en="Bias and linearity across the range: regression, confidence band, t tests (AIAG MSA)",
    summary_zh="偏倚与线性：偏倚对参考值回归、置信带、t检验（AIAG MSA）",
    adapter=lambda i: {**i, "readings": np.asarray(_nan_for_null(i.get("readings")), dtype=float)},
    example={"reference": [2, 4, 6, 8, 10],
             "readings": [[2.7, 2.5, 2.4, 2.5, 2.7, 2.3, 2.5, 2.5, 2.4, 2.4, 2.6, 2.4],
                          [5.1, 3.9, 4.2, 5.0, 3.8, 3.9, 3.9, 3.9, 3.9, 4.0, 4.1, 3.8],
                          [5.8, 5.7, 5.9, 5.9, 6.0, 6.1, 6.0, 6.1, 6.4, 6.3, 6.0, 6.1],
                          [7.6, 7.7, 7.8, 7.7, 7.8, 7.8, 7.8, 7.7, 7.8, 7.5, 7.6, 7.7],
                          [9.1, 9.3, 9.5, 9.3, 9.4, 9.5, 9.5, 9.5, 9.6, 9.2, 9.3, 9.4]],
             "process_variation": 6.0},
    plot=charts.plot_linearity,
)

calculation(
    "msa.stability",
    msa.stability,
    summary_en="Stability of a measurement system: control chart of a master over time, bias (AIAG)",
    summary_zh="测量系统稳定性：标准件随时间的控制图与偏倚（AIAG）",
    example={"readings": [[6.0, 6.1, 5.9, 6.0, 6.2], [6.1, 6.0, 6.0, 5.9, 6.0], [5.9, 6.0, 6.1, 6.1, 6.0],
                          [6.0, 6.2, 6.0, 5.9, 6.1], [6.1, 5.9, 6.0, 6.0, 6.0], [6.0, 6.0, 6.1, 6.2, 5.9]],
             "reference": 6.01},
    plot=charts.plot_stability,
)

calculation(
    "msa.grr_anova",
    msa.grr_anova,
    summary_en="Gage R&R by ANOVA (interaction pooled at p > 0.25; REML for missing cells; nested; gages)",
    summary_zh="方差分析法量具重复性与再现性（交互作用p>0.25合并；缺失用REML；嵌套；多量具）",
    adapter=_readings_adapter,
    example={"readings": _AIAG_GRR, "tolerance": 6.0},
    plot=charts.plot_grr_sixpack,
)

calculation(
    "msa.grr_average_range",
    msa.grr_average_range,
    summary_en="Gage R&R by the AIAG average-and-range method (K1, K2, K3 from d2*)",
    summary_zh="均值极差法量具重复性与再现性（AIAG，K1/K2/K3由d2*计算）",
    adapter=_readings_adapter,
    example={"readings": _AIAG_GRR, "tolerance": 6.0},
    plot=charts.plot_grr_sixpack,
)

calculation(
    "msa.grr_anova_batch",
    msa.grr_anova_batch,
    summary_en="Many balanced Gage R&R studies (S x parts x appraisers x trials) in one vectorised call",
    summary_zh="批量量具R&R：一次向量化计算多个平衡研究",
    example={"readings": [_AIAG_GRR, [[[v + 0.01 * k for k, v in enumerate(c)] for c in p] for p in _AIAG_GRR]],
             "tolerance": 6.0},
)

calculation(
    "msa.fleiss_kappa",
    msa.fleiss_kappa,
    summary_en="Fleiss' kappa for many raters with standard error and jackknife interval",
    summary_zh="多评价者 Fleiss kappa 及标准误与刀切法置信区间",
    example={"counts": [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]},
)

calculation(
    "msa.cohen_kappa",
    msa.cohen_kappa,
    summary_en="Cohen's kappa of a two-rater cross-tabulation with confidence interval",
    summary_zh="两评价者交叉表的 Cohen kappa 及置信区间",
    example={"table": [[44, 6], [5, 45]]},
)

calculation(
    "msa.attribute_agreement",
    msa.attribute_agreement,
    summary_en="Attribute agreement: within, vs standard, between appraisers; kappa, miss and false-alarm rates",
    summary_zh="计数型一致性分析：评价者内、与标准、评价者间；kappa、漏判率与误判率",
    example={"ratings": [[[1, 1], [1, 1]], [[0, 0], [0, 1]], [[1, 1], [1, 1]], [[0, 0], [0, 0]],
                         [[1, 0], [1, 1]], [[0, 0], [0, 0]]],
             "reference": [1, 0, 1, 0, 1, 0]},
    plot=charts.plot_attribute,
)

calculation(
    "msa.measurement_process_capability",
    msa.measurement_process_capability,
    summary_en="VDA 5 / ISO 22514-7: U_MS, U_MP, Q_MS, Q_MP and the verdict",
    summary_zh="VDA 5 / ISO 22514-7 测量过程能力：U_MS、U_MP、Q_MS、Q_MP 及结论",
    example={"tolerance": 9.0, "u_cal": 0.005, "u_lin": 0.0533, "u_evr": 0.0641, "resolution": 0.005,
             "u_evo": 0.1827, "u_av": 0.08683},
    plot=charts.plot_capability,
)

calculation(
    "msa.measurement_fitness",
    msa.measurement_fitness,
    summary_en="Is a measurement fit for a tolerance? %GRR, ndc, Cg/Cgk, Q_MP, TUR with margins",
    summary_zh="测量是否适用于该公差？%GRR、ndc、Cg/Cgk、Q_MP、TUR 及余量",
    example={"tolerance": 6.0, "pct_grr_tolerance": 30.2, "ndc": 4, "q_mp": 9.3},
)
