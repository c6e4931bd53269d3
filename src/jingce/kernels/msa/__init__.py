"""Measurement system analysis: type-1 study, bias and linearity, Gage R&R, attribute agreement,
measurement-process capability (VDA 5 / ISO 22514-7), stability and a fitness verdict."""

from jingce.kernels.msa.attribute import (
    AttributeAgreementResult,
    CohenKappaResult,
    FleissKappaResult,
    attribute_agreement,
    cohen_kappa,
    fleiss_kappa,
)
from jingce.kernels.msa.batch import GrrBatchResult, grr_anova_batch
from jingce.kernels.msa.fitness import (
    FitnessCriterion,
    FitnessResult,
    measurement_fitness,
    measurement_fitness_from,
)
from jingce.kernels.msa.grr import AnovaRow, GrrResult, grr_anova, grr_average_range
from jingce.kernels.msa.linearity import LinearityResult, bias_linearity
from jingce.kernels.msa.stability import ControlChartBias, StabilityResult, control_chart_bias, stability
from jingce.kernels.msa.type1 import Type1Result, type1
from jingce.kernels.msa.vda5 import BudgetLine, MeasurementProcessCapability, measurement_process_capability

__all__ = [
    "AnovaRow",
    "BudgetLine",
    "FitnessCriterion",
    "FitnessResult",
    "GrrBatchResult",
    "MeasurementProcessCapability",
    "AttributeAgreementResult",
    "CohenKappaResult",
    "ControlChartBias",
    "FleissKappaResult",
    "GrrResult",
    "LinearityResult",
    "StabilityResult",
    "Type1Result",
    "attribute_agreement",
    "bias_linearity",
    "cohen_kappa",
    "control_chart_bias",
    "fleiss_kappa",
    "grr_anova",
    "grr_anova_batch",
    "measurement_fitness",
    "measurement_fitness_from",
    "measurement_process_capability",
    "grr_average_range",
    "stability",
    "type1",
]
