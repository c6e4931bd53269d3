"""ISO 230-2:2014 evaluation of the positioning accuracy and repeatability of a numerically controlled axis.

The input is what a laser interferometer (or another reference system) records in the standard test
cycle: the actual position ``P_ij`` reached at each target position ``P_i`` in run ``j``, approached
in the positive direction (``up``, ↑) and in the negative direction (``down``, ↓). Every quantity of
clause 3 is returned under the symbol the standard gives it (arrows spelled ``_up`` / ``_down``).

Symbols (ISO 230-2:2014, clause 3; GB/T 17421.2)
-----------------------------------------------
``x_ij = P_ij - P_i``                           deviation of position (for rotary axes wrapped to ±period/2)
``x_mean_up[i]``   x̄_i↑                          mean unidirectional positioning deviation at a position
``x_mean[i]``      x̄_i = (x̄_i↑ + x̄_i↓)/2          mean bidirectional positioning deviation at a position
``B_i``            x̄_i↑ - x̄_i↓                   reversal value at a position
``B``              max |B_i|                     reversal value of an axis
``B_mean``         (1/m) Σ B_i                   mean reversal value of an axis
``s_up[i]``        s_i↑                          estimator of the unidirectional standard uncertainty of positioning
``R_i_up``         4 s_i↑                        unidirectional positioning repeatability at a position
``R_i``            max(2s_i↑ + 2s_i↓ + |B_i|, R_i↑, R_i↓)  bidirectional positioning repeatability at a position
``R_up``, ``R``    max R_i↑, max R_i              positioning repeatability of an axis (unidirectional, bidirectional)
``E_up``           max x̄_i↑ - min x̄_i↑            unidirectional systematic positioning error of an axis
``E``              max(x̄_i↑, x̄_i↓) - min(x̄_i↑, x̄_i↓)  bidirectional systematic positioning error of an axis
``M``              max x̄_i - min x̄_i              range of the mean bidirectional positioning error of an axis
``A_up``           max(x̄_i↑ + 2s_i↑) - min(x̄_i↑ - 2s_i↑)  unidirectional accuracy of positioning of an axis
``A``              max(x̄_i↑ + 2s_i↑, x̄_i↓ + 2s_i↓) - min(x̄_i↑ - 2s_i↑, x̄_i↓ - 2s_i↓)  bidirectional accuracy

References
----------
.. [1] ISO 230-2:2014 (GB/T 17421.2-2016), Test code for machine tools - Part 2: Determination of
       accuracy and repeatability of positioning of numerically controlled axes, clause 3 (terms,
       definitions and formulae), clause 6 (evaluation of the results), clause 8 (presentation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, fail, one_of, warn

__all__ = [
    "AXIS_QUANTITIES",
    "PositioningReport",
    "PositioningResult",
    "deviations_from_positions",
    "evaluate",
    "evaluate_deviations",
    "report",
]

#: Axis quantities of clause 3: (field, symbol, English name, Chinese name).
AXIS_QUANTITIES: tuple[tuple[str, str, str, str], ...] = (
    ("B", "B", "reversal value of an axis", "轴线反向差值"),
    ("B_mean", "B̄", "mean reversal value of an axis", "轴线平均反向差值"),
    ("R_up", "R↑", "unidirectional positioning repeatability of an axis (positive)", "轴线单向重复定位精度（正向）"),
    ("R_down", "R↓", "unidirectional positioning repeatability of an axis (negative)", "轴线单向重复定位精度（负向）"),
    ("R", "R", "bidirectional positioning repeatability of an axis", "轴线双向重复定位精度"),
    ("E_up", "E↑", "unidirectional systematic positioning error of an axis (positive)", "轴线单向定位系统偏差（正向）"),
    ("E_down", "E↓", "unidirectional systematic positioning error of an axis (negative)", "轴线单向定位系统偏差（负向）"),
    ("E", "E", "bidirectional systematic positioning error of an axis", "轴线双向定位系统偏差"),
    ("M", "M", "range of the mean bidirectional positioning error of an axis", "轴线双向平均位置偏差范围"),
    ("A_up", "A↑", "unidirectional accuracy of positioning of an axis (positive)", "轴线单向定位精度（正向）"),
    ("A_down", "A↓", "unidirectional accuracy of positioning of an axis (negative)", "轴线单向定位精度（负向）"),
    ("A", "A", "bidirectional accuracy of positioning of an axis", "轴线双向定位精度"),
)


@dataclass(frozen=True, slots=True)
class PositioningResult:
    """Result of an ISO 230-2 evaluation (see the module docstring for every symbol).

    Attributes
    ----------
    targets : ndarray, shape (m,)
        Target positions P_i, strictly increasing.
    deviations_up, deviations_down : ndarray, shape (n↑, m), (n↓, m)
        Deviations of position x_ij↑, x_ij↓ (actual minus target).
    x_mean_up, x_mean_down, x_mean, s_up, s_down, B_i, R_i_up, R_i_down, R_i : ndarray, shape (m,)
        Per-target quantities of clause 3.
    B, B_mean, R_up, R_down, R, E_up, E_down, E, M, A_up, A_down, A : float
        Axis quantities of clause 3.
    axis : str
        ``"linear"`` or ``"rotary"``.
    unit : str
        Unit of positions and deviations as given (e.g. ``"mm"``, ``"deg"``); informational.
    """

    targets: np.ndarray
    deviations_up: np.ndarray
    deviations_down: np.ndarray
    x_mean_up: np.ndarray
    x_mean_down: np.ndarray
    x_mean: np.ndarray
    s_up: np.ndarray
    s_down: np.ndarray
    B_i: np.ndarray
    R_i_up: np.ndarray
    R_i_down: np.ndarray
    R_i: np.ndarray
    B: float
    B_mean: float
    R_up: float
    R_down: float
    R: float
    E_up: float
    E_down: float
    E: float
    M: float
    A_up: float
    A_down: float
    A: float
    axis: str
    unit: str

    @property
    def n_targets(self) -> int:
        return int(self.targets.size)

    @property
    def n_runs(self) -> tuple[int, int]:
        """Number of runs (positive, negative approach)."""
        return int(self.deviations_up.shape[0]), int(self.deviations_down.shape[0])

    def axis_values(self) -> dict[str, float]:
        """The axis quantities as ``{field: value}``."""
        return {field: float(getattr(self, field)) for field, *_ in AXIS_QUANTITIES}


@dataclass(frozen=True, slots=True)
class PositioningReport:
    """A laser-calibration-style report of a :class:`PositioningResult` (clause 8).

    Attributes
    ----------
    columns : tuple of str
        Column headings of the per-target table (symbols of the standard).
    rows : tuple of tuple of float
        One row per target position: P_i, x̄_i↑, x̄_i↓, x̄_i, s_i↑, s_i↓, B_i, R_i↑, R_i↓, R_i.
    axis_rows : tuple of tuple
        ``(symbol, English name, Chinese name, value)`` for every axis quantity.
    unit : str
    axis : str
    n_runs : tuple of int
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]
    axis_rows: tuple[tuple[str, str, str, float], ...]
    unit: str
    axis: str
    n_runs: tuple[int, int]

    def as_text(self, digits: int = 5) -> str:
        """Plain-text rendering (fixed columns), for logs and terminal output."""
        width = max(12, digits + 8)
        lines = ["".join(c.rjust(width) for c in self.columns)]
        for row in self.rows:
            lines.append("".join(f"{v:{width}.{digits}f}" for v in row))
        lines.append("")
        for symbol, name_en, name_zh, value in self.axis_rows:
            lines.append(f"{symbol:>3} = {value:.{digits}f} {self.unit}   {name_zh} / {name_en}")
        return "\n".join(lines)


def _runs_iv(x, argument: str, m: int) -> np.ndarray:
    if isinstance(x, list | tuple) and x and all(isinstance(r, list | tuple | np.ndarray) for r in x):
        lengths = {len(r) for r in x}
        if len(lengths) > 1:
            raise fail(argument, f"runs must all have the same length (one value per target), got lengths {sorted(lengths)}")
    arr = as_array(x, argument, ndim=2)
    if arr.shape[0] < 2:
        raise fail(argument, f"needs at least 2 runs (rows) to estimate s_i, got {arr.shape[0]}")
    if arr.shape[1] != m:
        raise fail(argument, f"must have one column per target position ({m}), got {arr.shape[1]}")
    return arr


def _targets_iv(targets) -> np.ndarray:
    t = as_array(targets, "targets", ndim=1, min_size=2)
    d = np.diff(t)
    if np.any(d == 0):
        raise fail("targets", f"must not repeat a target position (duplicate at index {int(np.flatnonzero(d == 0)[0]) + 1})")
    if np.any(d < 0):
        raise fail("targets", "must be sorted in increasing order")
    return t


def _evaluate_iv(targets, up, down, axis, period, unit):
    axis = one_of(axis, "axis", ("linear", "rotary"))
    period = as_float(period, "period", positive=True)
    if not isinstance(unit, str):
        raise fail("unit", f"must be a string, got {unit!r}")
    t = _targets_iv(targets)
    u = _runs_iv(up, "up", t.size)
    d = _runs_iv(down, "down", t.size)
    if t.size < 5:
        warn(f"ISO 230-2 asks for at least 5 target positions; got {t.size}")
    if min(u.shape[0], d.shape[0]) < 5:
        warn(f"ISO 230-2 asks for 5 runs in each direction; got {u.shape[0]} up and {d.shape[0]} down")
    return t, u, d, axis, period, unit


def deviations_from_positions(targets: np.ndarray, actual: np.ndarray, axis: str = "linear", period: float = 360.0):
    """Deviation of position ``x_ij = P_ij - P_i``; for rotary axes wrapped into ``[-period/2, period/2)``."""
    x = np.asarray(actual, dtype=np.float64) - np.asarray(targets, dtype=np.float64)
    if axis == "rotary":
        x = np.mod(x + 0.5 * period, period) - 0.5 * period
    return x


def _mean_s(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Two-pass on deviations (already small numbers): mean, then the spread about it.
    n = x.shape[0]
    mean = x.mean(axis=0)
    dev = x - mean
    resid = dev.sum(axis=0)
    mean = mean + resid / n
    dev = x - mean
    s = np.sqrt(np.einsum("ij,ij->j", dev, dev) / (n - 1))
    return mean, s


def evaluate(
    targets,
    up,
    down,
    *,
    axis: str = "linear",
    period: float = 360.0,
    unit: str = "mm",
) -> PositioningResult:
    """Evaluate a bidirectional positioning test per ISO 230-2:2014.

    Parameters
    ----------
    targets : array_like, shape (m,)
        Target positions P_i, strictly increasing (at least 2; the standard asks for at least 5).
    up, down : array_like, shape (n, m)
        Actual positions P_ij reached in run j (rows) at target i (columns), approached in the
        positive (``up``) and negative (``down``) direction; at least 2 runs each (the standard
        cycle has 5). Rows are runs in the order measured, columns follow ``targets``.
    axis : {"linear", "rotary"}
        For ``"rotary"`` the deviations are wrapped into ±``period``/2 so that a reading of 359.999°
        at the 0° target is a deviation of -0.001°.
    period : float
        Full turn of a rotary axis in the unit of the positions (360 for degrees).
    unit : str
        Unit of the positions (``"mm"``, ``"um"``, ``"deg"``, ...); carried into the result.

    Returns
    -------
    PositioningResult

    Raises
    ------
    InvalidInputError
        Runs of unequal length, fewer than 2 runs, a column count different from the targets,
        unsorted or duplicate targets, NaN or infinite readings.

    Notes
    -----
    Use :func:`evaluate_deviations` when the reference system already gives deviations.

    References
    ----------
    .. [1] ISO 230-2:2014, clause 3 (3.1-3.24) and clause 6.
    """
    t, u, d, axis, period, unit = _evaluate_iv(targets, up, down, axis, period, unit)
    return _evaluate(t, deviations_from_positions(t, u, axis, period), deviations_from_positions(t, d, axis, period), axis, unit)


def evaluate_deviations(targets, deviations_up, deviations_down, *, axis: str = "linear", unit: str = "mm") -> PositioningResult:
    """Same as :func:`evaluate` with deviations of position ``x_ij = P_ij - P_i`` given directly.

    References
    ----------
    .. [1] ISO 230-2:2014, clause 3.
    """
    axis = one_of(axis, "axis", ("linear", "rotary"))
    t = _targets_iv(targets)
    u = _runs_iv(deviations_up, "deviations_up", t.size)
    d = _runs_iv(deviations_down, "deviations_down", t.size)
    if not isinstance(unit, str):
        raise fail("unit", f"must be a string, got {unit!r}")
    return _evaluate(t, u, d, axis, unit)


def _evaluate(t, xu, xd, axis, unit) -> PositioningResult:
    mu, su = _mean_s(xu)
    md, sd = _mean_s(xd)
    xm = 0.5 * (mu + md)
    b_i = mu - md
    r_up_i = 4.0 * su
    r_down_i = 4.0 * sd
    r_i = np.maximum(np.maximum(2.0 * su + 2.0 * sd + np.abs(b_i), r_up_i), r_down_i)
    both = np.concatenate([mu, md])
    hi_up, lo_up = mu + 2.0 * su, mu - 2.0 * su
    hi_dn, lo_dn = md + 2.0 * sd, md - 2.0 * sd
    for a in (xu, xd, mu, md, su, sd, xm, b_i, r_up_i, r_down_i, r_i):
        a.setflags(write=False)
    t = t.copy()
    t.setflags(write=False)
    return PositioningResult(
        targets=t,
        deviations_up=xu,
        deviations_down=xd,
        x_mean_up=mu,
        x_mean_down=md,
        x_mean=xm,
        s_up=su,
        s_down=sd,
        B_i=b_i,
        R_i_up=r_up_i,
        R_i_down=r_down_i,
        R_i=r_i,
        B=float(np.max(np.abs(b_i))),
        B_mean=float(np.mean(b_i)),
        R_up=float(np.max(r_up_i)),
        R_down=float(np.max(r_down_i)),
        R=float(np.max(r_i)),
        E_up=float(np.max(mu) - np.min(mu)),
        E_down=float(np.max(md) - np.min(md)),
        E=float(np.max(both) - np.min(both)),
        M=float(np.max(xm) - np.min(xm)),
        A_up=float(np.max(hi_up) - np.min(lo_up)),
        A_down=float(np.max(hi_dn) - np.min(lo_dn)),
        A=float(max(np.max(hi_up), np.max(hi_dn)) - min(np.min(lo_up), np.min(lo_dn))),
        axis=axis,
        unit=unit,
    )


def report(result: PositioningResult) -> PositioningReport:
    """Tabulate a result the way a laser-calibration report does (ISO 230-2:2014, clause 8).

    References
    ----------
    .. [1] ISO 230-2:2014, clause 8 (presentation of results).
    """
    if not isinstance(result, PositioningResult):
        raise fail("result", "must be a PositioningResult from positioning.evaluate")
    columns = ("P_i", "x̄_i↑", "x̄_i↓", "x̄_i", "s_i↑", "s_i↓", "B_i", "R_i↑", "R_i↓", "R_i")
    table = np.column_stack(
        [result.targets, result.x_mean_up, result.x_mean_down, result.x_mean, result.s_up, result.s_down,
         result.B_i, result.R_i_up, result.R_i_down, result.R_i]
    )
    rows = tuple(tuple(float(v) for v in row) for row in table)
    axis_rows = tuple((sym, en, zh, float(getattr(result, f))) for f, sym, en, zh in AXIS_QUANTITIES)
    return PositioningReport(columns, rows, axis_rows, result.unit, result.axis, result.n_runs)
