"""Positioning accuracy and repeatability of numerically controlled axes (ISO 230-2:2014, GB/T 17421.2),
test plans, pitch-error compensation tables with backlash, their controller forms and verification.

The pieces of the measure -> evaluate -> compensate -> verify loop:

* :func:`evaluate` (or :func:`evaluate_deviations`) -> :class:`PositioningResult`
* :func:`compensation_table` -> :class:`CompensationTable`; :func:`table_to_csv`, :func:`table_to_json`,
  :func:`table_to_sinumerik`
* :func:`apply_table` (predict the compensated axis), :func:`table_error` (correction at any position)
* :func:`verify` -> :class:`Verification` (at targets other than the table's)
* :func:`improvement_below_uncertainty` -> :class:`ImprovementCheck` (stop when the gain is within U)
* :func:`combine_tables` (active table + table of the residual errors -> the next table to load)

References
----------
.. [1] ISO 230-2:2014, Test code for machine tools - Part 2: Determination of accuracy and
       repeatability of positioning of numerically controlled axes.
"""

from jingce.kernels.positioning.compensation import (
    CompensationTable,
    ImprovementCheck,
    Verification,
    apply_table,
    combine_tables,
    compensation_table,
    improvement_below_uncertainty,
    table_error,
    verify,
)
from jingce.kernels.positioning.evaluation import (
    AXIS_QUANTITIES,
    PositioningReport,
    PositioningResult,
    deviations_from_positions,
    evaluate,
    evaluate_deviations,
    report,
)
from jingce.kernels.positioning.export import table_from_json, table_to_csv, table_to_json, table_to_sinumerik
from jingce.kernels.positioning.plan import TestPlan, test_plan

__all__ = [
    "AXIS_QUANTITIES",
    "CompensationTable",
    "ImprovementCheck",
    "PositioningReport",
    "PositioningResult",
    "TestPlan",
    "Verification",
    "apply_table",
    "combine_tables",
    "compensation_table",
    "deviations_from_positions",
    "evaluate",
    "evaluate_deviations",
    "improvement_below_uncertainty",
    "report",
    "table_error",
    "table_from_json",
    "table_to_csv",
    "table_to_json",
    "table_to_sinumerik",
    "test_plan",
    "verify",
]
