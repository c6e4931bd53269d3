"""Pieces shared by the chart kernels: the panel record and the beyond-limits test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_float, fail


@dataclass(frozen=True, slots=True)
class ChartPanel:
    """One panel of a control chart (for example the X-bar or the R panel).

    Attributes
    ----------
    name : str
        ``"xbar"``, ``"r"``, ``"s"``, ``"i"``, ``"mr"``, ``"p"``, ``"np"``, ``"c"``, ``"u"``,
        ``"ewma"``, ``"cusum_upper"``, ``"cusum_lower"``, ``"t2"``, ``"z"`` ...
    statistic : ndarray, shape (m,)
        The plotted points (NaN where a point does not exist, e.g. the first moving range).
    center, lcl, ucl : ndarray, shape (m,)
        Centre line and control limits at every point (constant charts repeat one value;
        ``lcl`` is NaN where the panel has no lower limit).
    beyond : ndarray of int
        Indices of points strictly beyond a limit (a point exactly on a limit is inside).
    """

    name: str
    statistic: np.ndarray
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    beyond: np.ndarray


def panel(name: str, statistic, center, lcl, ucl) -> ChartPanel:
    stat = np.asarray(statistic, dtype=float)
    m = stat.shape[0]
    c = np.broadcast_to(np.asarray(center, dtype=float), (m,)).copy()
    lo = np.broadcast_to(np.asarray(lcl, dtype=float), (m,)).copy()
    hi = np.broadcast_to(np.asarray(ucl, dtype=float), (m,)).copy()
    return ChartPanel(name, stat, c, lo, hi, beyond_limits(stat, lo, hi))


def beyond_limits(stat: np.ndarray, lcl: np.ndarray, ucl: np.ndarray) -> np.ndarray:
    """Indices of points strictly above ``ucl`` or strictly below ``lcl`` (NaN limits never fire)."""
    with np.errstate(invalid="ignore"):
        out = (stat > ucl) | (stat < lcl)
    return np.flatnonzero(out)


def k_iv(k) -> float:
    return as_float(k, "k", positive=True)


def max_iter_iv(max_iter) -> int:
    if not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise fail("max_iter", f"must be an integer >= 1, got {max_iter!r}")
    return int(max_iter)
