"""Statistical process control: Shewhart, attribute, EWMA, CUSUM and Hotelling charts, run rules,
phases and frozen limits, streaming chart state and the batch form over many characteristics.

The kernels that need scipy.stats (multivariate) are loaded on first use (PEP 562),
so the batch form and the charts start without it.

References
----------
.. [1] ISO 7870-1..-4, -6 (GB/T 17989), Control charts.
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed., Wiley 2009.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from jingce.kernels.spc._common import ChartPanel
from jingce.kernels.spc.attribute import AttributeChart, c_chart, np_chart, p_chart, u_chart
from jingce.kernels.spc.batch import BatchSummary, batch_summary, batch_summary_blocks
from jingce.kernels.spc.constants import ChartConstants, c4, chart_constants, d2, d3
from jingce.kernels.spc.cusum import CusumChart, cusum
from jingce.kernels.spc.ewma import EwmaChart, ewma
from jingce.kernels.spc.incremental import LiveChart, LiveUpdate, live_chart
from jingce.kernels.spc.phases import ControlLimits, PhasedChart, freeze_limits, phased_chart
from jingce.kernels.spc.rules import NELSON, WESTERN_ELECTRIC, RuleViolations, RunRule, rule_set, run_rules
from jingce.kernels.spc.shewhart import IMRChart, XbarRChart, XbarSChart, ZMRChart, imr, xbar_r, xbar_s, zmr

if TYPE_CHECKING:
    from jingce.kernels.spc.multivariate import T2Chart, hotelling_t2

_LAZY = {
    "T2Chart": "multivariate",
    "hotelling_t2": "multivariate",
}

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
    "batch_summary_blocks",
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


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
