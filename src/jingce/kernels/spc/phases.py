"""Phases: frozen, versioned control limits and series with several phases, each with its own limits.

References
----------
.. [1] ISO 7870-2:2013 clause 5 (phase I: establishing limits; phase II: monitoring with
       standard values), Montgomery (2009) section 5.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, as_int, fail, one_of
from jingce.kernels.spc.shewhart import imr, xbar_r, xbar_s

__all__ = ["ControlLimits", "PhasedChart", "freeze_limits", "phased_chart"]

_CHARTS = {"xbar_r": xbar_r, "xbar_s": xbar_s, "imr": imr}


@dataclass(frozen=True, slots=True)
class ControlLimits:
    """Frozen limits of a variables chart, as printed on a machine's control card.

    Attributes
    ----------
    chart : str
        ``"xbar_r"``, ``"xbar_s"`` or ``"imr"``.
    mu, sigma : float
        Centre and within sigma of single values.
    subgroup_size : int
    k : float
    version : int
    label : str
        Free text (who froze them, when, why) supplied by the caller.
    """

    chart: str
    mu: float
    sigma: float
    subgroup_size: int
    k: float = 3.0
    version: int = 1
    label: str = ""

    def with_version(self, version: int, label: str = "") -> ControlLimits:
        return ControlLimits(self.chart, self.mu, self.sigma, self.subgroup_size, self.k, version, label)


def freeze_limits(result, *, version=1, label="") -> ControlLimits:
    """Freeze the limits of a phase I X-bar-R, X-bar-s or I-MR result."""
    name = type(result).__name__
    kind = {"XbarRChart": "xbar_r", "XbarSChart": "xbar_s", "IMRChart": "imr"}.get(name)
    if kind is None:
        raise fail("result", f"must be an X-bar-R, X-bar-s or I-MR chart, got {name}")
    mu = result.grand_mean if kind != "imr" else result.mean
    n = result.subgroup_size if kind != "imr" else 1
    return ControlLimits(kind, float(mu), float(result.sigma), int(n), float(result.constants.k),
                         as_int(version, "version", lo=1), str(label))


@dataclass(frozen=True, slots=True)
class PhasedChart:
    """A series split into phases.

    Attributes
    ----------
    phases : tuple
        One chart result per phase (phase I estimates, or phase II against given limits).
    starts : ndarray of int
        First subgroup (or value, for I-MR) of each phase.
    limits : tuple of ControlLimits
        The limits in force in each phase (estimated ones frozen as version 1 of that phase).
    """

    phases: tuple
    starts: np.ndarray
    limits: tuple


def phased_chart(data, starts, *, chart="xbar_r", limits=None, k=3.0, drop_out_of_control=False):
    """Chart a series with several phases, each with its own limits.

    Parameters
    ----------
    data : array_like
        2-D subgroups (X-bar charts) or 1-D values (I-MR), in time order.
    starts : sequence of int
        Index of the first subgroup / value of each phase; ``starts[0]`` must be 0.
    chart : {"xbar_r", "xbar_s", "imr"}
    limits : sequence of (ControlLimits or None or "previous"), optional
        Per phase: given limits (phase II), ``None`` to estimate from the phase (phase I), or
        ``"previous"`` to monitor against the limits of the phase before. Default: estimate the
        first phase and carry its limits forward.
    k : float
    drop_out_of_control : bool
        For estimated phases.

    Returns
    -------
    PhasedChart

    References
    ----------
    ISO 7870-2:2013 clause 5.
    """
    one_of(chart, "chart", tuple(_CHARTS))
    fn = _CHARTS[chart]
    x = as_array(data, "data", ndim=1 if chart == "imr" else 2)
    st = np.asarray(starts)
    if st.ndim != 1 or st.size < 1 or not np.issubdtype(st.dtype, np.integer) or st[0] != 0 \
            or np.any(np.diff(st) <= 0) or st[-1] >= x.shape[0]:
        raise fail("starts", "must be increasing integers starting at 0, each inside the data")
    if limits is None:
        limits = [None] + ["previous"] * (st.size - 1)
    if len(limits) != st.size:
        raise fail("limits", f"must hold one entry per phase ({st.size})")
    as_float(k, "k", positive=True)
    ends = np.append(st[1:], x.shape[0])
    results, used = [], []
    for i, (a, b) in enumerate(zip(st, ends, strict=True)):
        lim = limits[i]
        if isinstance(lim, str):
            if lim != "previous" or i == 0:
                raise fail("limits", "'previous' is allowed only after the first phase")
            lim = used[-1]
        if lim is None:
            res = fn(x[a:b], k=k, drop_out_of_control=drop_out_of_control)
            lim = freeze_limits(res, label=f"phase {i + 1} estimate")
        else:
            if not isinstance(lim, ControlLimits) or lim.chart != chart:
                raise fail("limits", f"entry {i} must be ControlLimits of a {chart} chart")
            res = fn(x[a:b], mu=lim.mu, sigma=lim.sigma, k=lim.k)
        results.append(res)
        used.append(lim)
    return PhasedChart(tuple(results), st.astype(np.int64), tuple(used))
