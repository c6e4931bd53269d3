"""Normalise the readings of a gage study: a dense array or a long table -> one padded array.

A crossed study is held as ``y[part, appraiser, (gage,) trial]`` with NaN where a reading is missing,
together with the labels of each factor. A long table (``part``, ``appraiser``, ``value`` columns,
optionally ``gage``) is turned into the same array; labels may be numbers or strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, fail


@dataclass(frozen=True, slots=True)
class Study:
    """A gage study as a padded array plus its labels and cell counts."""

    y: np.ndarray  # (parts, appraisers, [gages,] trials), NaN = missing
    counts: np.ndarray  # readings per cell, shape y.shape[:-1]
    part_labels: tuple
    appraiser_labels: tuple
    gage_labels: tuple

    @property
    def factors(self) -> int:
        return self.y.ndim - 1

    @property
    def balanced(self) -> bool:
        c = self.counts
        return bool(c.size and np.all(c == c.flat[0]) and c.flat[0] >= 1)

    def long(self) -> tuple[np.ndarray, np.ndarray]:
        """Values and integer factor codes (one column per factor) of all present readings."""
        mask = ~np.isnan(self.y)
        idx = np.nonzero(mask)
        return self.y[mask], np.stack(idx[:-1], axis=1)


def _labels(x, argument: str, n: int) -> tuple[np.ndarray, tuple]:
    arr = np.asarray(x)
    if arr.ndim != 1 or arr.size != n:
        raise fail(argument, f"must be a 1-D column with one entry per value ({n}), got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise fail(argument, "must not contain NaN or infinity")
    try:
        uniq, codes = np.unique(arr, return_inverse=True)
    except TypeError:  # mixed types: compare as text
        uniq, codes = np.unique(arr.astype(str), return_inverse=True)
    return codes.astype(np.int64), tuple(u.item() if hasattr(u, "item") else u for u in uniq)


def study_iv(readings, part, appraiser, value, gage=None, *, allow_gage: bool = True) -> Study:
    """Build a :class:`Study` from either ``readings`` or the long-table columns."""
    if readings is not None:
        if value is not None or part is not None or appraiser is not None:
            raise fail("readings", "give either readings (an array) or the part/appraiser/value columns, not both")
        y = as_array(readings, "readings", ndim=(3, 4) if allow_gage else 3, finite=False)
        if np.any(np.isinf(y)):
            raise fail("readings", "must not contain infinity (NaN marks a missing reading)")
        counts = np.sum(~np.isnan(y), axis=-1)
        labels = [tuple(range(1, s + 1)) for s in y.shape[:-1]]
        return Study(y, counts, labels[0], labels[1], labels[2] if y.ndim == 4 else ())
    if value is None or part is None or appraiser is None:
        missing = [n for n, v in (("value", value), ("part", part), ("appraiser", appraiser)) if v is None]
        raise fail(missing[0], "is required: give readings (parts x appraisers x trials) or part, appraiser and value")
    v = as_array(value, "value", ndim=1, min_size=1)
    cols = [_labels(part, "part", v.size), _labels(appraiser, "appraiser", v.size)]
    if gage is not None:
        if not allow_gage:
            raise fail("gage", "is not supported by this method")
        cols.append(_labels(gage, "gage", v.size))
    codes = np.stack([c for c, _ in cols], axis=1)
    shape = tuple(len(lab) for _, lab in cols)
    flat = np.ravel_multi_index(codes.T, shape)
    counts = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape)
    order = np.argsort(flat, kind="stable")
    rank = np.empty(v.size, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts.ravel())))
    rank[order] = np.arange(v.size) - np.repeat(starts[:-1], counts.ravel())
    y = np.full(shape + (max(int(counts.max()), 1),), np.nan)
    y[tuple(codes.T) + (rank,)] = v
    return Study(y, counts, cols[0][1], cols[1][1], cols[2][1] if gage is not None else ())


def describe_cell(study: Study, index: tuple[int, ...]) -> str:
    names = ("part", "appraiser", "gage")
    labels = (study.part_labels, study.appraiser_labels, study.gage_labels)
    return " x ".join(f"{names[i]} {labels[i][j]!r}" for i, j in enumerate(index))
