"""SPC calculations for ``jingce calc run spc.* input.yaml [--plot chart.png]``."""

from __future__ import annotations

from jingce.charts.spc import plot_chart
from jingce.kernels import spc
from jingce.services.calculations.registry import calculation

_RINGS = [
    [74.030, 74.002, 74.019, 73.992, 74.008],
    [73.995, 73.992, 74.001, 74.011, 74.004],
    [73.988, 74.024, 74.021, 74.005, 74.002],
    [74.002, 73.996, 73.993, 74.015, 74.009],
    [73.992, 74.007, 74.015, 73.989, 74.014],
]
_FLOW = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]

calculation("spc.xbar_r", spc.xbar_r, summary_en="X-bar and R control chart", summary_zh="均值-极差控制图",
            example={"data": _RINGS}, plot=plot_chart)
calculation("spc.xbar_s", spc.xbar_s, summary_en="X-bar and s control chart", summary_zh="均值-标准差控制图",
            example={"data": _RINGS}, plot=plot_chart)
calculation("spc.imr", spc.imr, summary_en="Individuals and moving range chart", summary_zh="单值-移动极差控制图",
            example={"data": _FLOW}, plot=plot_chart)
calculation("spc.zmr", spc.zmr, summary_en="Short-run standardised Z-MR chart", summary_zh="小批量标准化 Z-MR 控制图",
            example={"data": [10.1, 50.2, 9.9, 49.5, 10.0, 50.9, 10.2, 50.1], "groups": ["A", "B"] * 4},
            plot=plot_chart)
calculation("spc.p_chart", spc.p_chart, summary_en="p chart (fraction nonconforming)", summary_zh="不合格品率 p 图",
            example={"counts": [12, 8, 6, 9, 10], "sample_sizes": [100, 80, 80, 100, 110]}, plot=plot_chart)
calculation("spc.np_chart", spc.np_chart, summary_en="np chart (number nonconforming)", summary_zh="不合格品数 np 图",
            example={"counts": [12, 15, 8, 10, 4, 7], "sample_size": 50}, plot=plot_chart)
calculation("spc.c_chart", spc.c_chart, summary_en="c chart (nonconformities)", summary_zh="缺陷数 c 图",
            example={"counts": [16, 14, 28, 16, 12, 20, 10, 12]}, plot=plot_chart)
calculation("spc.u_chart", spc.u_chart, summary_en="u chart (nonconformities per unit)", summary_zh="单位缺陷数 u 图",
            example={"counts": [14, 12, 20, 11, 7], "units": [10, 8, 13, 10, 9.5]}, plot=plot_chart)
calculation("spc.ewma", spc.ewma, summary_en="EWMA chart (exact or asymptotic limits)", summary_zh="指数加权移动平均控制图",
            example={"data": _FLOW, "lam": 0.3, "mu": 50.0, "sigma": 2.0539}, plot=plot_chart)
calculation("spc.cusum", spc.cusum, summary_en="Tabular CUSUM (k, h, fast initial response)", summary_zh="累积和控制图",
            example={"data": _FLOW, "mu": 50.0, "sigma": 1.7, "k": 0.5, "h": 4.0}, plot=plot_chart)
calculation("spc.hotelling_t2", spc.hotelling_t2, summary_en="Hotelling T-squared chart (phase I/II)",
            summary_zh="霍特林 T² 多元控制图",
            example={"data": [[1.0, 2.0], [1.2, 2.1], [0.9, 1.8], [1.1, 2.2], [1.0, 1.9], [1.3, 2.3], [0.8, 1.7]]},
            plot=plot_chart)
calculation("spc.run_rules", spc.run_rules, summary_en="Western Electric / Nelson run rules",
            summary_zh="判异准则（西电 / Nelson）",
            example={"statistic": [0.5, 0.6, 0.7, 0.2, 0.3, 0.4, 0.5, 0.1, 0.2, 3.5], "center": 0.0, "sigma": 1.0})
calculation("spc.chart_constants", spc.chart_constants, summary_en="Control chart constants d2, d3, c4, A2 ... D4",
            summary_zh="控制图系数", example={"n": 5})


def _batch_adapter(inputs):
    return dict(inputs)


calculation("spc.batch_summary", spc.batch_summary, adapter=_batch_adapter,
            summary_en="Limits, capability and rule counts for many characteristics (sorted values + offsets)",
            summary_zh="批量：多特性的控制限、能力指数与判异计数",
            example={"values": [1.0, 1.2, 0.9, 1.1, 1.0, 1.3, 5.0, 5.2, 4.9, 5.1], "offsets": [0, 6, 10],
                     "subgroup_size": 2, "lsl": [0.0, 4.0], "usl": [2.0, 6.0]})
