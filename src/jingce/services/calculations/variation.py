"""Stream-of-variation attribution for ``jingce calc`` (kernel :mod:`jingce.kernels.variation`)."""

from __future__ import annotations

from jingce.charts import variation as charts
from jingce.kernels import variation as va
from jingce.services.calculations.registry import calculation

# Two upstream characteristics of an assembly (a shaft's runout and a bearing's radial runout) and
# the assembly's runout, one row per serial.
_EXAMPLE_X = [[0.010, 0.004], [0.014, 0.006], [0.008, 0.003], [0.016, 0.005], [0.011, 0.007], [0.013, 0.002],
              [0.009, 0.006], [0.015, 0.004], [0.012, 0.005], [0.010, 0.003]]
_EXAMPLE_Y = [0.0215, 0.0301, 0.0172, 0.0322, 0.0271, 0.0231, 0.0226, 0.0298, 0.0262, 0.0197]

calculation(
    "variation.attribute",
    va.attribute,
    summary_en="Stream of variation: OLS of a product characteristic on upstream characteristics, LMG shares of R²",
    summary_zh="偏差流分析：产品特性对上游特性的最小二乘回归，R² 的 LMG 分解（各来源贡献）",
    example={"y": _EXAMPLE_Y, "x": _EXAMPLE_X},
    plot=charts.plot_attribution,
)

calculation(
    "variation.ols",
    va.ols,
    summary_en="Ordinary least squares with standard errors, t and p values, R² and adjusted R²",
    summary_zh="普通最小二乘回归：系数标准误、t 值、p 值、R² 与调整 R²",
    example={"y": _EXAMPLE_Y, "x": _EXAMPLE_X},
)

calculation(
    "variation.anova",
    va.one_way_anova,
    summary_en="One-way ANOVA of a characteristic by a categorical source (machine, cavity, operator): F, p, eta²",
    summary_zh="单因素方差分析（机床、模腔、操作者等类别来源）：F、p、eta²",
    example={"y": [10.02, 10.03, 10.01, 10.06, 10.07, 10.05, 10.02, 10.01, 10.03],
             "groups": ["M01", "M01", "M01", "M02", "M02", "M02", "M03", "M03", "M03"]},
    plot=charts.plot_anova,
)
