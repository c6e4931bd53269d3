"""Capability calculation for ``jingce calc run capability.capability input.yaml [--plot hist.png]``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.charts.capability import plot_capability
from jingce.kernels.capability import CapabilityResult, capability
from jingce.services.calculations.registry import calculation


@dataclass(frozen=True, slots=True)
class CapabilityReport:
    """The kernel result plus the histogram the pictures (CLI and web) are drawn from."""

    result: CapabilityResult
    values: np.ndarray
    histogram_edges: np.ndarray
    histogram_counts: np.ndarray


def capability_report(values, lsl=None, usl=None, target=None, subgroup_size=1, strategy=None, sigma_within=None,
                      distribution=None, family=None, ci_level=None, constants=None) -> CapabilityReport:
    res = capability(values, lsl, usl, target, subgroup_size, strategy=strategy, sigma_within=sigma_within,
                     distribution=distribution, family=family, ci_level=ci_level, constants=constants)
    x = np.asarray(values, float).ravel()
    counts, edges = np.histogram(x, bins="auto")
    return CapabilityReport(res, x, edges, counts)


def _plot(report: CapabilityReport, path: str) -> None:
    plot_capability(report.result, report.values, path)


_EXAMPLE = [74.030, 74.002, 74.019, 73.992, 74.008, 73.995, 73.992, 74.001, 74.011, 74.004, 73.988, 74.024, 74.021,
            74.005, 74.002, 74.002, 73.996, 73.993, 74.015, 74.009]

calculation("capability.capability", capability_report,
            summary_en="Cp, Cpk, Pp, Ppk, Cpm with confidence intervals; non-normal methods (ISO 22514-2)",
            summary_zh="过程能力指数 Cp、Cpk、Pp、Ppk、Cpm 及置信区间；非正态方法（ISO 22514-2）",
            example={"values": _EXAMPLE, "lsl": 73.95, "usl": 74.05, "subgroup_size": 5, "strategy": "aiag"},
            plot=_plot)
