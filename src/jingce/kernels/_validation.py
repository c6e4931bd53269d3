"""Input validation shared by the kernels (habit 2 of DESIGN.md: validate once, then compute).

Each helper normalises one argument and raises :class:`~jingce.errors.InvalidInputError` naming
the argument and the rule it breaks.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from jingce.errors import InvalidInputError, JingceWarning


def fail(argument: str, rule: str) -> InvalidInputError:
    """Build the error for ``argument`` breaking ``rule`` (the caller raises it)."""
    return InvalidInputError(f"{argument} {rule}", argument=argument, rule=rule)


def warn(message: str, stacklevel: int = 3) -> None:
    """Warn about legal but degenerate data."""
    warnings.warn(message, JingceWarning, stacklevel=stacklevel)


def as_array(
    x: Any,
    argument: str,
    *,
    ndim: int | Sequence[int] | None = None,
    min_size: int = 0,
    finite: bool = True,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Convert ``x`` to an array of ``dtype``; check dimensions, size and finiteness."""
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise fail(argument, f"must be numeric array-like ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise fail(argument, f"must have {' or '.join(map(str, allowed))} dimension(s), got {arr.ndim}")
    if arr.size < min_size:
        raise fail(argument, f"must hold at least {min_size} values, got {arr.size}")
    if finite and np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))[0]
        raise fail(argument, f"must be finite (no NaN or infinity); first bad value at flat index {bad}")
    return arr


def as_int(x: Any, argument: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """Convert ``x`` to an ``int`` in ``[lo, hi]``."""
    try:
        value = operator.index(x) if not isinstance(x, float) else None
    except TypeError:
        value = None
    if value is None:
        if isinstance(x, float | np.floating) and float(x).is_integer():
            value = int(x)
        else:
            raise fail(argument, f"must be an integer, got {x!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        span = f">= {lo}" if hi is None else (f"<= {hi}" if lo is None else f"in {lo}..{hi}")
        raise fail(argument, f"must be an integer {span}, got {value}")
    return value


def as_float(
    x: Any,
    argument: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    lo: float | None = None,
    hi: float | None = None,
    allow_none: bool = False,
) -> float | None:
    """Convert ``x`` to a finite ``float`` obeying the given bounds (open for ``positive``)."""
    if x is None:
        if allow_none:
            return None
        raise fail(argument, "is required")
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise fail(argument, f"must be a number, got {x!r}") from None
    if not np.isfinite(value):
        raise fail(argument, f"must be finite, got {value}")
    if positive and value <= 0:
        raise fail(argument, f"must be > 0, got {value}")
    if nonnegative and value < 0:
        raise fail(argument, f"must be >= 0, got {value}")
    if lo is not None and value < lo:
        raise fail(argument, f"must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise fail(argument, f"must be <= {hi}, got {value}")
    return value


def as_probability(x: Any, argument: str) -> float:
    """A probability strictly between 0 and 1."""
    value = as_float(x, argument)
    if not 0.0 < value < 1.0:
        raise fail(argument, f"must be strictly between 0 and 1, got {value}")
    return value


def one_of(x: Any, argument: str, choices: Sequence[str]) -> str:
    """Check that ``x`` is one of ``choices``."""
    if x not in choices:
        raise fail(argument, f"must be one of {', '.join(map(repr, choices))}, got {x!r}")
    return x


def spec_limits(lsl: Any, usl: Any, *, require_one: bool = True) -> tuple[float | None, float | None]:
    """Normalise specification limits; ``lsl < usl`` when both are given."""
    lo = as_float(lsl, "lsl", allow_none=True)
    hi = as_float(usl, "usl", allow_none=True)
    if require_one and lo is None and hi is None:
        raise fail("lsl/usl", "need at least one specification limit")
    if lo is not None and hi is not None and not lo < hi:
        raise fail("lsl", f"must be < usl, got lsl={lo} >= usl={hi}")
    return lo, hi


def group_offsets(offsets: Any, n_values: int, argument: str = "offsets") -> np.ndarray:
    """Validate batch-form group offsets: int64, starting at 0, non-decreasing, ending at ``n_values``."""
    off = np.asarray(offsets)
    if off.ndim != 1 or off.size < 1 or not np.issubdtype(off.dtype, np.integer):
        raise fail(argument, "must be a 1-D integer array of group start offsets plus the end")
    off = off.astype(np.int64, copy=False)
    if off[0] != 0 or off[-1] != n_values:
        raise fail(argument, f"must start at 0 and end at the number of values ({n_values})")
    if np.any(np.diff(off) < 0):
        raise fail(argument, "must be non-decreasing")
    return off
