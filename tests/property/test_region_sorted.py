"""The region view's order check: a table comes back ordered by (enterprise, characteristic, day)
exactly as a sort would order it, whether or not it was sorted already."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from jingce.services.region import _sorted

ROWS = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(0, 5)), max_size=30)


def _table(rows) -> pa.Table:
    return pa.table({"enterprise_id": pa.array([r[0] for r in rows], pa.int32()),
                     "characteristic_id": pa.array([r[1] for r in rows], pa.int32()),
                     "day": pa.array([dt.date(2026, 1, 1) + dt.timedelta(days=r[2]) for r in rows], pa.date32()),
                     "row": pa.array(range(len(rows)), pa.int64())})


@settings(max_examples=200, deadline=None)
@given(ROWS, st.booleans())
def test_sorted_equals_a_sort(rows, presort):
    if presort:
        rows = sorted(rows)
    t = _table(rows)
    keys = [("enterprise_id", "ascending"), ("characteristic_id", "ascending"), ("day", "ascending")]
    got = _sorted(t, "day")
    assert got.drop_columns(["row"]).equals(t.sort_by(keys).drop_columns(["row"]))
    if presort:
        assert got.column("row").to_pylist() == list(range(len(rows)))  # already ordered: not re-sorted


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 2**31 - 1]), st.sampled_from([1, 7, 2**31 - 1]), st.integers(0, 5)),
                max_size=30))
def test_sorted_with_ids_too_wide_to_pack(rows):
    """Keys that do not fit one 63-bit packed key take the lexicographic sort."""
    t = _table(rows)
    keys = [("enterprise_id", "ascending"), ("characteristic_id", "ascending"), ("day", "ascending")]
    assert _sorted(t, "day").drop_columns(["row"]).equals(t.sort_by(keys).drop_columns(["row"]))
