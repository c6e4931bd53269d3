"""Process capability and performance: Cp, Cpk, Pp, Ppk, Cpm with confidence intervals, non-normal
methods and the time-dependent distribution models of ISO 22514-2, under explicit evaluation
strategies (AIAG, VDA / ISO 22514, Bosch).

The kernels that need scipy.stats (core, models, nonnormal) are loaded on first use (PEP 562),
so the batch form and the charts start without it.

References
----------
.. [1] ISO 22514-2:2017 and ISO 22514-4:2016.
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed., Wiley 2009, ch. 8.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from jingce.kernels.capability.batch import BatchCapability, batch_capability
from jingce.kernels.capability.normality import NormalityTest, anderson_darling
from jingce.kernels.capability.strategy import PRESETS, EvaluationStrategy, strategy

if TYPE_CHECKING:
    from jingce.kernels.capability.core import CapabilityResult, capability, within_sigma
    from jingce.kernels.capability.models import DistributionModel, choose_model
    from jingce.kernels.capability.nonnormal import FittedDistribution, Transform

_LAZY = {
    "CapabilityResult": "core",
    "capability": "core",
    "within_sigma": "core",
    "DistributionModel": "models",
    "choose_model": "models",
    "FittedDistribution": "nonnormal",
    "Transform": "nonnormal",
}

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
