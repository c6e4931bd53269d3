"""Statistical process control: Shewhart, attribute, EWMA, CUSUM and Hotelling charts, run rules,
phases and frozen limits, streaming chart state and the batch form over many characteristics.

References
----------
.. [1] ISO 7870-1..-4, -6 (GB/T 17989), Control charts.
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed., Wiley 2009.
"""

from jingce.kernels.spc._common import ChartPanel
from jingce.kernels.spc.attribute import AttributeChart, c_chart, np_chart, p_chart, u_chart
from jingce.kernels.spc.batch import BatchSummary, batch_summary
from jingce.kernels.spc.constants import ChartConstants, c4, chart_constants, d2, d3
from jingce.kernels.spc.cusum import CusumChart, cusum
from jingce.kernels.spc.ewma import EwmaChart, ewma
from jingce.kernels.spc.incremental import LiveChart, LiveUpdate, live_chart
from jingce.kernels.spc.multivariate import T2Chart, hotelling_t2
from jingce.kernels.spc.phases import ControlLimits, PhasedChart, freeze_limits, phased_chart
from jingce.kernels.spc.rules import NELSON, WESTERN_ELECTRIC, RuleViolations, RunRule, rule_set, run_rules
from jingce.kernels.spc.shewhart import IMRChart, XbarRChart, XbarSChart, ZMRChart, imr, xbar_r, xbar_s, zmr

__all__ = [
    "NELSON",
    "WESTERN_ELECTRIC",
    "AttributeChart",
    "BatchSummary",
    "ChartConstants",
    "ChartPanel",
    "ControlLimits",
    "LiveChart",
    "LiveUpdate",
    "PhasedChart",
    "CusumChart",
    "EwmaChart",
    "IMRChart",
    "RuleViolations",
    "RunRule",
    "T2Chart",
    "XbarRChart",
    "XbarSChart",
    "ZMRChart",
    "batch_summary",
    "c4",
    "c_chart",
    "chart_constants",
    "cusum",
    "d2",
    "d3",
    "ewma",
    "freeze_limits",
    "live_chart",
    "phased_chart",
    "hotelling_t2",
    "imr",
    "np_chart",
    "p_chart",
    "rule_set",
    "run_rules",
    "u_chart",
    "xbar_r",
    "xbar_s",
    "zmr",
]
