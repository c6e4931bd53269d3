"""Test plan for an ISO 230-2 positioning test: target positions, runs, overrun and the move sequence.

Target positions are spread over the measurement travel with a random offset each, so that periodic
errors (of a ball screw's pitch, a scale's grating, a rotary encoder's lines) are sampled at different
phases instead of always at the same phase, which would hide them (ISO 230-2:2014, 5.2 and Annex C).

References
----------
.. [1] ISO 230-2:2014, clause 5.2 (selection of target positions: at least five per metre and at least
       five over the measurement travel, the target positions P_i = (i - 1) p + r_i with a random
       r_i per position), clause 5.3 (measurements: five runs in each direction, standard test cycle
       with an overrun beyond each end so that every target is approached from its side), Annex C
       (periodic positioning errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_float, as_int, fail, one_of

__all__ = ["TestPlan", "test_plan"]


@dataclass(frozen=True, slots=True)
class TestPlan:
    """A positioning test plan.

    Attributes
    ----------
    targets : ndarray, shape (m,)
        Target positions P_i, increasing.
    interval : float
        Nominal interval p between target positions.
    offsets : ndarray, shape (m,)
        The random offsets r_i applied (0 at the two ends of a linear axis and at forced principal
        positions of a rotary axis).
    runs : int
        Runs in each direction.
    overrun : float
        Distance travelled beyond the first and last target before reversing.
    program : ndarray, shape (k, 4)
        The move sequence of the standard (linear) cycle, one row per move:
        ``(commanded position, run (1-based), direction (+1/-1), target index (0-based) or -1)``;
        rows with target index -1 are overrun/reversal moves where nothing is recorded.
    axis : str
    """

    __test__ = False  # not a pytest test class

    targets: np.ndarray
    interval: float
    offsets: np.ndarray
    runs: int
    overrun: float
    program: np.ndarray
    axis: str


def _plan_iv(start, end, targets_per_metre, min_targets, runs, overrun, jitter, axis, unit_per_metre, rng):
    axis = one_of(axis, "axis", ("linear", "rotary"))
    start = as_float(start, "start")
    end = as_float(end, "end")
    if not end > start:
        raise fail("end", f"must be greater than start, got start={start}, end={end}")
    tpm = as_float(targets_per_metre, "targets_per_metre", positive=True)
    min_targets = as_int(min_targets, "min_targets", lo=2)
    runs = as_int(runs, "runs", lo=1)
    overrun = as_float(overrun, "overrun", nonnegative=True, allow_none=True)
    jitter = as_float(jitter, "jitter", lo=0.0, hi=0.5)
    upm = as_float(unit_per_metre, "unit_per_metre", positive=True)
    if not isinstance(rng, np.random.Generator):
        raise fail("rng", "must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed))")
    return start, end, tpm, min_targets, runs, overrun, jitter, axis, upm


def test_plan(
    start: float,
    end: float,
    *,
    rng: np.random.Generator,
    targets_per_metre: float = 5.0,
    min_targets: int = 5,
    runs: int = 5,
    overrun: float | None = None,
    jitter: float = 0.25,
    axis: str = "linear",
    unit_per_metre: float = 1000.0,
) -> TestPlan:
    """Plan the target positions and move sequence of an ISO 230-2 test.

    Parameters
    ----------
    start, end : float
        Ends of the measurement travel (linear: in the length unit; rotary: in degrees).
    rng : numpy.random.Generator
        Source of the random offsets (pass a seeded generator to reproduce a plan).
    targets_per_metre : float
        Linear axes: at least this many targets per metre of travel (the standard asks for 5).
    min_targets : int
        At least this many targets overall (the standard asks for 5; for a full-turn rotary axis
        jingce uses at least 8 and always includes the principal positions 0°, 90°, 180°, 270°).
    runs : int
        Runs in each direction (5 in the standard test cycle).
    overrun : float, optional
        Travel beyond the end targets before reversing; default ``interval / 10``.
    jitter : float
        The random offsets r_i are uniform in ``±jitter * p`` (at most ±p/2 so targets stay in order).
    axis : {"linear", "rotary"}
    unit_per_metre : float
        Length units per metre (1000 for mm) to turn ``targets_per_metre`` into a count.

    Returns
    -------
    TestPlan

    References
    ----------
    .. [1] ISO 230-2:2014, 5.2 and 5.3.
    """
    start, end, tpm, min_targets, runs, overrun, jitter, axis, upm = _plan_iv(
        start, end, targets_per_metre, min_targets, runs, overrun, jitter, axis, unit_per_metre, rng
    )
    travel = end - start
    if axis == "linear":
        m = max(min_targets, math.ceil(tpm * travel / upm) + 1)
        p = travel / (m - 1)
        nominal = start + p * np.arange(m)
        offsets = rng.uniform(-jitter * p, jitter * p, size=m)
        offsets[0] = offsets[-1] = 0.0
        targets = nominal + offsets
    else:
        full_turn = travel >= 360.0 - 1e-9
        m = max(min_targets, 8 if full_turn else min_targets)
        if full_turn:
            # Equal spacing over the turn without repeating 360 = 0; principal positions kept exact.
            p = 360.0 / m
            nominal = start + p * np.arange(m)
        else:
            p = travel / (m - 1)
            nominal = start + p * np.arange(m)
        offsets = rng.uniform(-jitter * p, jitter * p, size=m)
        principal = np.array([0.0, 90.0, 180.0, 270.0])
        principal = principal[(principal >= start) & (principal <= end)]
        targets = nominal + offsets
        if not full_turn:
            targets[0], targets[-1] = start, end
        for q in principal:
            k = int(np.argmin(np.abs(targets - q)))
            targets[k] = q
        targets = np.unique(targets)
        offsets = targets - (start + p * np.round((targets - start) / p))
    over = p / 10.0 if overrun is None else overrun
    program = _standard_cycle(targets, runs, over)
    targets.setflags(write=False)
    offsets.setflags(write=False)
    program.setflags(write=False)
    return TestPlan(targets, float(p), offsets, runs, float(over), program, axis)


def _standard_cycle(targets: np.ndarray, runs: int, over: float) -> np.ndarray:
    """The linear standard test cycle: per run, up through every target from below, overrun, down."""
    m = targets.size
    rows = []
    for j in range(1, runs + 1):
        rows.append((targets[0] - over, j, 1, -1))
        rows.extend((targets[i], j, 1, i) for i in range(m))
        rows.append((targets[-1] + over, j, -1, -1))
        rows.extend((targets[i], j, -1, i) for i in range(m - 1, -1, -1))
    rows.append((targets[0] - over, runs, 1, -1))
    return np.asarray(rows, dtype=np.float64)


test_plan.__test__ = False  # a kernel, not a pytest test, when imported into a test module
