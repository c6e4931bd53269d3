"""Pitch-error (leadscrew / measuring-system) compensation tables, their application and verification.

Sign conventions
----------------
``error``       the modelled deviation of position, actual minus commanded (ISO 230-2 ``x``), at each
                interpolation point of the table.
``absolute``    the correction to add to a commanded position so that the axis arrives on target,
                relative to the reference point: ``absolute = -(error - error_at_reference)``; the
                mean table is zero at the reference point, where the axis is referenced and the
                controller's compensation starts (SINUMERIK K3 "compensation value at reference point
                zero"); the up/down columns are taken relative to the same value, so at the reference
                they are -/+ half the local reversal value.
``incremental`` ``absolute[i] - absolute[i-1]`` with ``incremental[0] = absolute[0]``, so that
                ``absolute = cumsum(incremental)`` (the form controllers with incremental pitch-error
                tables expect).
Between interpolation points the table is interpolated linearly; beyond its ends the end value is held
(as SINUMERIK does for positions outside ``$AA_ENC_COMP_MIN .. MAX``).

Two layouts:
``mode="backlash"``       one table of the mean bidirectional deviation x̄_i plus one backlash value, the
                          mean reversal value B̄: ``error↑ = error + B̄/2``, ``error↓ = error - B̄/2``.
``mode="per_direction"``  separate tables from x̄_i↑ and x̄_i↓ (position-dependent backlash).

First-order prediction: an axis commanded to ``P + c(P)`` arrives at ``P + c(P) + e(P + c) ≈ P + c(P) + e(P)``,
so the compensated deviation is the measured deviation plus the table's ``absolute`` value, leaving the
constant error at the reference point (which moves no ISO 230-2 range quantity: E, M, A, R, B).

Verification must use target positions other than the ones the table was built from: at its own
targets a table fitted to the mean deviations removes them exactly and the apparent gain is overstated
(the periodic and interpolation error between the points is not seen).

References
----------
.. [1] ISO 230-2:2014, clause 1 (the tests serve machine compensation) and clause 3.
.. [2] Siemens, SINUMERIK 840D sl Extended Functions, Function Manual 03/2013 (6FC5397-1BP40-3BA1),
       K3 Compensations, 4.4.2 (measuring-system error / leadscrew error compensation, linear
       interpolation between interpolation points, compensation value zero at the reference point).
.. [3] ISO/TR 230-9:2005, measurement uncertainty of machine tool tests (expanded uncertainty of a
       difference of two test results).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, fail, one_of, warn
from jingce.kernels.positioning.evaluation import (
    PositioningResult,
    _evaluate,
    _runs_iv,
    _targets_iv,
    deviations_from_positions,
    evaluate,
)

__all__ = [
    "CompensationTable",
    "ImprovementCheck",
    "Verification",
    "apply_table",
    "combine_tables",
    "compensation_table",
    "improvement_below_uncertainty",
    "table_error",
    "verify",
]


@dataclass(frozen=True, slots=True)
class CompensationTable:
    """A pitch-error compensation table (see the module docstring for the sign conventions).

    Attributes
    ----------
    positions : ndarray, shape (k,)
        Interpolation points, equally spaced by ``spacing``, one of them at ``reference``.
    error, error_up, error_down : ndarray, shape (k,)
        Modelled deviation of position (bidirectional mean, positive and negative approach).
    absolute, absolute_up, absolute_down : ndarray, shape (k,)
        Corrections relative to the mean table's value at the reference point.
    incremental, incremental_up, incremental_down : ndarray, shape (k,)
        Differences of the absolute columns (``absolute = cumsum(incremental)``).
    backlash : float
        The backlash value of ``mode="backlash"``: the mean reversal value B̄ = mean(x̄_i↑ - x̄_i↓)
        (negative for ordinary lost motion, where the axis stops short in its direction of travel).
    reference : float
        Reference point (where the correction is zero).
    reference_index : int
        Index of the reference point in ``positions``.
    spacing : float
    mode : str
        ``"backlash"`` or ``"per_direction"``.
    source_targets : ndarray
        Target positions of the evaluation the table was built from (to detect in-sample verification).
    axis, unit : str
    """

    positions: np.ndarray
    error: np.ndarray
    error_up: np.ndarray
    error_down: np.ndarray
    absolute: np.ndarray
    absolute_up: np.ndarray
    absolute_down: np.ndarray
    incremental: np.ndarray
    incremental_up: np.ndarray
    incremental_down: np.ndarray
    backlash: float
    reference: float
    reference_index: int
    spacing: float
    mode: str
    source_targets: np.ndarray
    axis: str
    unit: str


@dataclass(frozen=True, slots=True)
class ImprovementCheck:
    """Is the improvement of a test quantity larger than the test can resolve?

    Attributes
    ----------
    quantity : str
        Name of the compared quantity (e.g. ``"E"``).
    before, after : float
    improvement : float
        ``before - after`` (positive when the error shrank).
    uncertainty : float
        Expanded uncertainty of the improvement, ``sqrt(U_before² + U_after²)`` for independent tests.
    below_uncertainty : bool
        True when ``improvement <= uncertainty``: the change cannot be told from measurement
        uncertainty, so iterating further is pointless (stop the loop).
    ratio : float
        ``after / before`` (NaN when ``before`` is 0).
    """

    quantity: str
    before: float
    after: float
    improvement: float
    uncertainty: float
    below_uncertainty: bool
    ratio: float


@dataclass(frozen=True, slots=True)
class Verification:
    """Comparison of an axis before and after compensation.

    Attributes
    ----------
    before : PositioningResult
        The uncompensated axis (the baseline evaluation, or the verification data itself when it was
        measured without compensation).
    after : PositioningResult
        The compensated axis: measured on the compensated machine, or predicted by applying the table.
    predicted : bool
        True when ``after`` is a prediction (``compensated=False``), False when it was measured.
    overlap : int
        Number of verification targets that coincide with targets the table was built from.
    in_sample : bool
        True when every verification target is one of the table's own targets (gain overstated).
    ratios : dict
        ``after / before`` for E, M, A, R, B.
    """

    before: PositioningResult
    after: PositioningResult
    predicted: bool
    overlap: int
    in_sample: bool
    ratios: dict


def _table_iv(result, spacing, reference, start, end, mode):
    if not isinstance(result, PositioningResult):
        raise fail("result", "must be a PositioningResult from positioning.evaluate")
    mode = one_of(mode, "mode", ("backlash", "per_direction"))
    spacing = as_float(spacing, "spacing", positive=True)
    t = result.targets
    start = float(t[0]) if start is None else as_float(start, "start")
    end = float(t[-1]) if end is None else as_float(end, "end")
    if not end > start:
        raise fail("end", f"must be greater than start, got start={start}, end={end}")
    reference = start if reference is None else as_float(reference, "reference")
    if not start - 1e-9 * max(1.0, abs(start)) <= reference <= end + 1e-9 * max(1.0, abs(end)):
        raise fail("reference", f"must lie within the table range [{start}, {end}], got {reference}")
    if (end - start) / spacing > 100_000:
        raise fail("spacing", f"gives more than 100000 interpolation points over {end - start}; choose a larger spacing")
    if spacing > (end - start):
        raise fail("spacing", f"must not exceed the table range {end - start}")
    return result, spacing, reference, start, end, mode


def _interp_hold(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    # np.interp holds the end values beyond the ends, which is what controllers do.
    return np.interp(x, xp, fp)


def compensation_table(
    result: PositioningResult,
    *,
    spacing: float,
    reference: float | None = None,
    start: float | None = None,
    end: float | None = None,
    mode: str = "backlash",
) -> CompensationTable:
    """Build a pitch-error compensation table from an ISO 230-2 evaluation.

    Parameters
    ----------
    result : PositioningResult
        The evaluation of the uncompensated axis.
    spacing : float
        Distance between interpolation points (e.g. 10 mm or 20 mm, or the screw pitch's multiple).
    reference : float, optional
        Reference point of the axis; the table's correction is zero there and it is one of the
        interpolation points. Default: ``start``.
    start, end : float, optional
        Range of the table; default the first and last target. The interpolation points run from the
        first multiple of ``spacing`` (counted from ``reference``) at or below ``start`` to the first
        at or above ``end``.
    mode : {"backlash", "per_direction"}
        One table plus the mean reversal value as backlash, or one table per approach direction.

    Returns
    -------
    CompensationTable

    References
    ----------
    .. [1] ISO 230-2:2014, clause 3 (x̄_i, x̄_i↑, x̄_i↓, B̄).
    .. [2] SINUMERIK 840D sl Function Manual Extended Functions 03/2013, K3, 4.4.2.
    """
    result, spacing, reference, start, end, mode = _table_iv(result, spacing, reference, start, end, mode)
    k_lo = math.floor((start - reference) / spacing + 1e-9)
    k_hi = math.ceil((end - reference) / spacing - 1e-9)
    ks = np.arange(k_lo, k_hi + 1)
    positions = reference + spacing * ks
    ref_index = int(-k_lo)
    t = result.targets
    if mode == "backlash":
        error = _interp_hold(positions, t, result.x_mean)
        backlash = float(result.B_mean)
        error_up = error + 0.5 * backlash
        error_down = error - 0.5 * backlash
    else:
        error_up = _interp_hold(positions, t, result.x_mean_up)
        error_down = _interp_hold(positions, t, result.x_mean_down)
        error = 0.5 * (error_up + error_down)
        backlash = float(result.B_mean)
    cols = {}
    e_ref = error[ref_index]
    for name, e in (("", error), ("_up", error_up), ("_down", error_down)):
        # All three relative to the mean table's value at the reference, so that the up and down
        # columns keep their difference (the backlash) there.
        absolute = -(e - e_ref)
        incremental = np.diff(absolute, prepend=0.0)
        cols["error" + name] = e
        cols["absolute" + name] = absolute
        cols["incremental" + name] = incremental
    for a in list(cols.values()) + [positions]:
        a.setflags(write=False)
    src = result.targets.copy()
    src.setflags(write=False)
    return CompensationTable(
        positions=positions,
        backlash=backlash,
        reference=float(reference),
        reference_index=ref_index,
        spacing=spacing,
        mode=mode,
        source_targets=src,
        axis=result.axis,
        unit=result.unit,
        **cols,
    )


def combine_tables(active: CompensationTable, residual: CompensationTable) -> CompensationTable:
    """The table to load after another iteration: the active table plus a table of the residual errors.

    ``residual`` is built (with :func:`compensation_table`) from a test measured *with* ``active``
    loaded; its errors are what the active table left. The combined table keeps the active table's
    interpolation points and reference point; the residual table is interpolated onto them.

    Parameters
    ----------
    active : CompensationTable
        The table loaded in the controller during the residual test.
    residual : CompensationTable
        Table of the residual errors.

    Returns
    -------
    CompensationTable
        ``error = active.error + residual.error`` (per column) on the active grid, corrections relative
        to the active reference point, backlash the sum of both, mode ``"per_direction"`` if either is.
    """
    for name, t in (("active", active), ("residual", residual)):
        if not isinstance(t, CompensationTable):
            raise fail(name, "must be a CompensationTable from positioning.compensation_table")
    if active.axis != residual.axis or active.unit != residual.unit:
        raise fail("residual", f"must be of the same axis type and unit as the active table ({active.axis}, {active.unit})")
    x = active.positions
    ref = active.reference_index
    cols = {}
    errors = {}
    for name in ("", "_up", "_down"):
        errors[name] = getattr(active, "error" + name) + _interp_hold(x, residual.positions, getattr(residual, "error" + name))
    e_ref = errors[""][ref]
    for name, e in errors.items():
        absolute = -(e - e_ref)
        cols["error" + name] = e
        cols["absolute" + name] = absolute
        cols["incremental" + name] = np.diff(absolute, prepend=0.0)
    for a in cols.values():
        a.setflags(write=False)
    mode = "per_direction" if "per_direction" in (active.mode, residual.mode) else "backlash"
    return CompensationTable(
        positions=x,
        backlash=float(active.backlash + residual.backlash),
        reference=active.reference,
        reference_index=ref,
        spacing=active.spacing,
        mode=mode,
        source_targets=residual.source_targets,
        axis=active.axis,
        unit=active.unit,
        **cols,
    )


def table_error(table: CompensationTable, positions, direction: int = 0) -> np.ndarray:
    """Correction of the table at any positions (linear interpolation, end values held).

    Parameters
    ----------
    table : CompensationTable
    positions : array_like
        Commanded positions.
    direction : {1, -1, 0}
        Approach direction: +1 positive, -1 negative, 0 the bidirectional mean table.

    Returns
    -------
    ndarray
        The correction (``absolute`` column interpolated): add it to the commanded position.
    """
    if not isinstance(table, CompensationTable):
        raise fail("table", "must be a CompensationTable from positioning.compensation_table")
    x = as_array(positions, "positions")
    if direction not in (1, -1, 0):
        raise fail("direction", f"must be +1, -1 or 0, got {direction!r}")
    col = {1: table.absolute_up, -1: table.absolute_down, 0: table.absolute}[direction]
    return _interp_hold(x, table.positions, col)


def apply_table(table: CompensationTable, targets, up, down, *, positions: bool = True) -> PositioningResult:
    """Predict the evaluation of the axis after compensation with ``table`` (first order).

    The measured deviations (of an uncompensated test) plus the table's direction-specific correction
    at each target give the predicted compensated deviations, which are evaluated per ISO 230-2.

    Parameters
    ----------
    table : CompensationTable
    targets, up, down : array_like
        An uncompensated test as for :func:`~jingce.kernels.positioning.evaluate`.
    positions : bool
        True when ``up``/``down`` are actual positions, False when they are deviations.

    Returns
    -------
    PositioningResult
        The predicted compensated evaluation.
    """
    if not isinstance(table, CompensationTable):
        raise fail("table", "must be a CompensationTable from positioning.compensation_table")
    t = _targets_iv(targets)
    u = _runs_iv(up, "up", t.size)
    d = _runs_iv(down, "down", t.size)
    if positions:
        u = deviations_from_positions(t, u, table.axis)
        d = deviations_from_positions(t, d, table.axis)
    cu = np.interp(t, table.positions, table.absolute_up)
    cd = np.interp(t, table.positions, table.absolute_down)
    return _evaluate(t, u + cu, d + cd, table.axis, table.unit)


def _overlap(table: CompensationTable, t: np.ndarray) -> int:
    src = table.source_targets
    tol = 1e-9 * max(1.0, float(np.max(np.abs(src))))
    idx = np.searchsorted(src, t)
    lo = np.abs(t - src[np.clip(idx - 1, 0, src.size - 1)]) <= tol
    hi = np.abs(t - src[np.clip(idx, 0, src.size - 1)]) <= tol
    return int(np.count_nonzero(lo | hi))


def verify(
    table: CompensationTable,
    targets,
    up,
    down,
    *,
    compensated: bool,
    baseline: PositioningResult | None = None,
) -> Verification:
    """Verify a compensation table with a test at other target positions.

    Parameters
    ----------
    table : CompensationTable
    targets, up, down : array_like
        The verification test (actual positions), preferably at targets other than the table's.
    compensated : bool
        True: the test was measured on the machine with the table active (``after`` is measured).
        False: it was measured without compensation; ``after`` is the first-order prediction
        (:func:`apply_table`) and ``before`` is the test itself.
    baseline : PositioningResult, optional
        The uncompensated evaluation to compare with when ``compensated`` is True (usually the
        evaluation the table was built from). Required in that case.

    Returns
    -------
    Verification

    Warns
    -----
    JingceWarning
        When every verification target is one of the table's own targets (the gain is overstated).
    """
    if not isinstance(table, CompensationTable):
        raise fail("table", "must be a CompensationTable from positioning.compensation_table")
    if not isinstance(compensated, bool):
        raise fail("compensated", f"must be True or False, got {compensated!r}")
    if compensated:
        if not isinstance(baseline, PositioningResult):
            raise fail("baseline", "is required (the uncompensated PositioningResult) when compensated is True")
        after = evaluate(targets, up, down, axis=table.axis, unit=table.unit)
        before = baseline
    else:
        if baseline is not None and not isinstance(baseline, PositioningResult):
            raise fail("baseline", "must be a PositioningResult or omitted")
        before = evaluate(targets, up, down, axis=table.axis, unit=table.unit)
        after = apply_table(table, targets, up, down)
    overlap = _overlap(table, after.targets)
    in_sample = overlap == after.targets.size
    if in_sample:
        warn("verification targets are the table's own targets: the gain is overstated; verify at other positions")
    ratios = {}
    for q in ("E", "M", "A", "R", "B"):
        b = float(getattr(before, q))
        ratios[q] = float(getattr(after, q)) / b if b != 0 else float("nan")
    return Verification(before, after, not compensated, overlap, in_sample, ratios)


def improvement_below_uncertainty(
    before: float,
    after: float,
    test_uncertainty: float,
    *,
    after_uncertainty: float | None = None,
    quantity: str = "",
) -> ImprovementCheck:
    """Tell whether the improvement ``before - after`` is within the uncertainty of the test.

    Parameters
    ----------
    before, after : float
        The same test quantity (e.g. E or A of ISO 230-2) of two iterations.
    test_uncertainty : float
        Expanded uncertainty U of that quantity for the ``before`` test (ISO/TR 230-9; ISO 230-2 Annex A).
    after_uncertainty : float, optional
        Expanded uncertainty of the ``after`` test; default the same as ``test_uncertainty``.
    quantity : str
        Name carried into the result.

    Returns
    -------
    ImprovementCheck
        ``below_uncertainty`` is True when ``before - after <= sqrt(U_before² + U_after²)``: the
        loop measure -> compensate -> verify should stop, the error no longer shrinks measurably.

    References
    ----------
    .. [1] ISO/TR 230-9:2005, uncertainty of machine tool test results (independent tests: the
           uncertainties of a difference add in quadrature).
    """
    b = as_float(before, "before")
    a = as_float(after, "after")
    ub = as_float(test_uncertainty, "test_uncertainty", nonnegative=True)
    ua = ub if after_uncertainty is None else as_float(after_uncertainty, "after_uncertainty", nonnegative=True)
    if not isinstance(quantity, str):
        raise fail("quantity", f"must be a string, got {quantity!r}")
    improvement = b - a
    u = math.hypot(ub, ua)
    ratio = a / b if b != 0 else float("nan")
    return ImprovementCheck(quantity, b, a, improvement, u, bool(improvement <= u), ratio)
