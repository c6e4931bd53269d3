"""Process capability and performance: Cp, Cpk, Pp, Ppk, Cpm with confidence intervals, non-normal
methods and the time-dependent distribution models of ISO 22514-2, under explicit evaluation
strategies (AIAG, VDA / ISO 22514, Bosch).

References
----------
.. [1] ISO 22514-2:2017 and ISO 22514-4:2016.
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed., Wiley 2009, ch. 8.
"""

from jingce.kernels.capability.batch import BatchCapability, batch_capability
from jingce.kernels.capability.core import CapabilityResult, capability, within_sigma
from jingce.kernels.capability.models import DistributionModel, choose_model
from jingce.kernels.capability.nonnormal import FittedDistribution, Transform
from jingce.kernels.capability.normality import NormalityTest, anderson_darling
from jingce.kernels.capability.strategy import PRESETS, EvaluationStrategy, strategy

__all__ = [
    "PRESETS",
    "BatchCapability",
    "CapabilityResult",
    "DistributionModel",
    "EvaluationStrategy",
    "FittedDistribution",
    "NormalityTest",
    "Transform",
    "anderson_darling",
    "batch_capability",
    "capability",
    "choose_model",
    "strategy",
    "within_sigma",
]
