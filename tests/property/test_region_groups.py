"""The region view's grouping of daily rows without sorting them (``_Groups``): whatever order the
rows come in (one summary file per enterprise-year, files in any order, or shuffled), the sums, the
extremes, the pooled moments and the first and last day of each characteristic equal those of the
rows sorted by (enterprise, characteristic, day) with a stable sort."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.services.region import _Groups

# (characteristic 1-4, its enterprise is fixed by it; day 0-5; n 1-4; a value)
ROWS = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 5), st.integers(1, 4),
                          st.floats(-1e3, 1e3, allow_nan=False)), min_size=1, max_size=40)


def _table(rows) -> pa.Table:
    return pa.table({"enterprise_id": pa.array([(r[0] + 1) // 2 for r in rows], pa.int32()),
                     "characteristic_id": pa.array([r[0] for r in rows], pa.int32()),
                     "day": pa.array([dt.date(2026, 1, 1) + dt.timedelta(days=r[1]) for r in rows], pa.date32()),
                     "row": pa.array(range(len(rows)), pa.int64())})


def _reference(rows):
    """Per (enterprise, characteristic) in sorted order: its rows in a stable sort by day."""
    keyed = sorted(range(len(rows)), key=lambda i: ((rows[i][0] + 1) // 2, rows[i][0], rows[i][1]))
    groups: dict[int, list[int]] = {}
    for i in keyed:
        groups.setdefault(rows[i][0], []).append(i)
    return list(groups.values())


@settings(max_examples=300, deadline=None)
@given(ROWS, st.sampled_from(["as-is", "sorted", "file-like"]))
def test_groups_equal_a_stable_sort(rows, arrangement):
    if arrangement == "sorted":
        rows = sorted(rows, key=lambda r: ((r[0] + 1) // 2, r[0], r[1]))
    elif arrangement == "file-like":  # files of sorted rows, the files in reverse order
        rows = sorted(rows, key=lambda r: (-(r[1] // 3), r[0], r[1]))
    g = _Groups.of(_table(rows))
    ref = _reference(rows)
    assert g.first_row.tolist() == [grp[0] for grp in ref]
    assert g.last_row.tolist() == [grp[-1] for grp in ref]
    n = np.array([r[2] for r in rows], np.int64)
    x = np.array([r[3] for r in rows])
    assert g.sums(n).tolist() == [int(n[grp].sum()) for grp in ref]
    assert g.extreme(x, np.minimum).tolist() == [x[grp].min() for grp in ref]
    # each row a day of n equal values x plus spread m2: pooled count, mean and M2
    m2 = np.abs(x) * (n - 1)
    count, mean, pooled = g.moments(n, np.zeros(len(rows)), x, m2)
    for k, grp in enumerate(ref):
        w = n[grp]
        mu = np.sum(w * x[grp]) / w.sum()
        assert count[k] == w.sum()
        assert np.isclose(mean[k], mu, rtol=1e-12, atol=1e-9)
        assert np.isclose(pooled[k], m2[grp].sum() + np.sum(w * (x[grp] - mu) ** 2), rtol=1e-9, atol=1e-6)
