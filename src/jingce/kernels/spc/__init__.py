"""Statistical process control: Shewhart, attribute, EWMA, CUSUM and Hotelling charts, run rules,
phases and frozen limits, streaming chart state and the batch form over many characteristics.

References
----------
.. [1] ISO 7870-1..-4 (GB/T 17989), Control charts.
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed., Wiley 2009.
"""

from jingce.kernels.spc.constants import ChartConstants, c4, chart_constants, d2, d3
from jingce.kernels.spc._common import ChartPanel
from jingce.kernels.spc.shewhart import IMRChart, XbarRChart, XbarSChart, ZMRChart, imr, xbar_r, xbar_s, zmr

__all__ = [
    "ChartConstants",
    "ChartPanel",
    "IMRChart",
    "XbarRChart",
    "XbarSChart",
    "ZMRChart",
    "c4",
    "chart_constants",
    "d2",
    "d3",
    "imr",
    "xbar_r",
    "xbar_s",
    "zmr",
]
