"""Measurement uncertainty: the GUM law of propagation and JCGM 101 Monte Carlo.

References
----------
JCGM 100:2008 (GUM), JCGM 101:2008 (GUM Supplement 1); JJF 1059.1-2012, JJF 1059.2-2012.
"""

from jingce.kernels.uncertainty.distributions import (
    KINDS,
    InputQuantity,
    arcsine,
    curvilinear_trapezoid,
    normal,
    rectangular,
    student_t,
    trapezoidal,
    triangular,
    type_a,
)
from jingce.kernels.uncertainty.expression import Expression, parse_expression
from jingce.kernels.uncertainty.gum import GumResult, correlation_matrix, gum, observed_correlation
from jingce.kernels.uncertainty.montecarlo import MonteCarloResult, Validation, coverage_interval, monte_carlo
from jingce.kernels.uncertainty.results import dsi_xml, to_dsi

__all__ = [
    "KINDS",
    "InputQuantity",
    "normal",
    "rectangular",
    "triangular",
    "arcsine",
    "student_t",
    "trapezoidal",
    "curvilinear_trapezoid",
    "type_a",
    "Expression",
    "parse_expression",
    "GumResult",
    "gum",
    "correlation_matrix",
    "observed_correlation",
    "MonteCarloResult",
    "Validation",
    "monte_carlo",
    "coverage_interval",
    "to_dsi",
    "dsi_xml",
]
