"""Runs of one characteristic packed into one row, so that a shuffle moves runs, not values.

The lake keeps each file sorted by (characteristic, time), so a Spark task reading it sees each
characteristic as a run of consecutive rows. :func:`pack` turns every run into one row holding
the run's values, times, UTC offsets and source positions as raw little-endian arrays (and the
run's ids and its last row's limits); the shuffle then moves a few thousand long rows instead of
millions of short ones, and sorts runs by (enterprise, characteristic, first time, first
position) instead of values. :func:`unpack_stream` restores the values in (enterprise,
characteristic, time, position) order for :class:`jingce.engine.grouped.SortedBlocks`; runs that
overlap in time (a partition of several uncompacted files) are merged by sorting that
characteristic's values, so the result never depends on the lake being compacted, only the speed.

Used by the Spark engine between ``mapInArrow(pack)`` and ``repartition/sortWithinPartitions``;
pure pyarrow and numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.engine.grouped import TS

LAKE_COLUMNS = ("enterprise_id", "product_id", "characteristic_id", "measured_at", "position", "utc_offset_min",
                "value", "nominal", "lower_limit", "upper_limit")
"""What :func:`pack` reads (lake columns, valid rows only, in storage order)."""

MAX_RUN = 1 << 15
"""Values per packed row at most (bounds the size of one shuffled row: 26 bytes a value)."""

PACK_SCHEMA = pa.schema([
    pa.field("enterprise_id", pa.int32()), pa.field("product_id", pa.int32()),
    pa.field("characteristic_id", pa.int32()), pa.field("first_at", pa.int64()),
    pa.field("first_position", pa.int64()), pa.field("n", pa.int32()),
    pa.field("nominal", pa.float64()), pa.field("lower_limit", pa.float64()), pa.field("upper_limit", pa.float64()),
    pa.field("value", pa.binary()), pa.field("measured_at", pa.binary()), pa.field("utc_offset_min", pa.binary()),
    pa.field("position", pa.binary()),
])
"""One run per row: ids, first time (epoch microseconds) and position, length, the last row's
nominal and limits, then the run's columns as raw arrays (float64, int64, int16, int64)."""

_COLS = (("value", np.float64), ("measured_at", np.int64), ("utc_offset_min", np.int16), ("position", np.int64))


def _np(col, dtype) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.int64())
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=dtype)


def _binary(arr: np.ndarray, bounds: np.ndarray) -> pa.Array:
    """Rows ``arr[bounds[i]:bounds[i + 1]]`` as one binary array, without copying per row."""
    arr = np.ascontiguousarray(arr)
    offsets = (bounds * arr.itemsize).astype(np.int32)
    return pa.Array.from_buffers(pa.binary(), bounds.size - 1, [None, pa.py_buffer(offsets), pa.py_buffer(arr)])


def pack(batch) -> pa.RecordBatch:
    """Runs of one (enterprise, characteristic) in time order within a batch of lake rows, one row
    each (:data:`PACK_SCHEMA`). A run is cut where the characteristic changes, where time (or the
    position at equal times) goes backwards, e.g. at a file boundary, and every ``MAX_RUN`` values."""
    n = batch.num_rows
    if n == 0:
        return pa.RecordBatch.from_pylist([], schema=PACK_SCHEMA)
    e = _np(batch.column("enterprise_id"), np.int32)
    c = _np(batch.column("characteristic_id"), np.int32)
    t = _np(batch.column("measured_at"), np.int64)
    pos = _np(batch.column("position"), np.int64)
    dt = np.diff(t)
    cut = (e[1:] != e[:-1]) | (c[1:] != c[:-1]) | (dt < 0) | ((dt == 0) & (np.diff(pos) < 0))
    starts = np.concatenate(([0], np.flatnonzero(cut) + 1)).astype(np.int64)
    lengths = np.diff(np.concatenate((starts, [n])))
    if lengths.max() > MAX_RUN:
        extra = [np.arange(s + MAX_RUN, s + ln, MAX_RUN) for s, ln in zip(starts, lengths, strict=True) if ln > MAX_RUN]
        starts = np.sort(np.concatenate([starts, *extra])).astype(np.int64)
    bounds = np.concatenate((starts, [n])).astype(np.int64)
    last = bounds[1:] - 1
    cols = {
        "enterprise_id": pa.array(e[starts], pa.int32()),
        "product_id": pa.array(_np(batch.column("product_id"), np.int32)[starts], pa.int32()),
        "characteristic_id": pa.array(c[starts], pa.int32()),
        "first_at": pa.array(t[starts], pa.int64()), "first_position": pa.array(pos[starts], pa.int64()),
        "n": pa.array(np.diff(bounds), pa.int32()),
    }
    for name in ("nominal", "lower_limit", "upper_limit"):
        cols[name] = pa.array(_np(batch.column(name), np.float64)[last], pa.float64())
    for name, dtype in _COLS:
        src = {"measured_at": t, "position": pos}.get(name)
        cols[name] = _binary(src if src is not None else _np(batch.column(name), dtype), bounds)
    return pa.RecordBatch.from_pydict(cols, schema=PACK_SCHEMA)


def pack_stream(batches: Iterable) -> Iterator[pa.RecordBatch]:
    """:func:`pack` over a stream of lake batches (a Spark task's input split)."""
    for batch in batches:
        if batch.num_rows:
            yield pack(batch)


def _flat(col, dtype) -> np.ndarray:
    """The concatenated bytes of every row of a binary column, viewed as ``dtype``."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    large = pa.types.is_large_binary(col.type)
    offsets = np.frombuffer(col.buffers()[1], dtype=np.int64 if large else np.int32)[col.offset:col.offset + len(col) + 1]
    data = col.buffers()[2]
    if data is None or offsets[-1] == offsets[0]:
        return np.zeros(0, dtype)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]].view(dtype)


def unpack(table: pa.Table) -> pa.RecordBatch:
    """Packed runs (sorted by enterprise, characteristic, first time and position; each
    characteristic's runs all present) back to rows of :data:`jingce.engine.grouped.INPUT_COLUMNS`
    in (enterprise, characteristic, time, position) order."""
    n = np.asarray(table.column("n").to_numpy(), dtype=np.int64)
    v = _flat(table.column("value"), np.float64)
    t = _flat(table.column("measured_at"), np.int64)
    off = _flat(table.column("utc_offset_min"), np.int16)
    pos = _flat(table.column("position"), np.int64)
    if not (v.size == t.size == off.size == pos.size == int(n.sum())):
        raise ValueError("packed runs are inconsistent: column lengths differ from the run lengths")

    def rep(name, dtype):
        return np.repeat(np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype), n)

    e, c, product = rep("enterprise_id", np.int32), rep("characteristic_id", np.int32), rep("product_id", np.int32)
    # nominal and limits: a run carries its last row's; the characteristic's last row is the last
    # row of some run, so it carries its own (all the kernels read)
    lims = {name: rep(name, np.float64) for name in ("nominal", "lower_limit", "upper_limit")}
    # runs of one characteristic that overlap in time: merge them (stable, so equal keys keep run order)
    same = (e[1:] == e[:-1]) & (c[1:] == c[:-1])
    dt = np.diff(t)
    if np.any(same & ((dt < 0) | ((dt == 0) & (np.diff(pos) < 0)))):
        perm = np.lexsort((pos, t, c, e))
        e, c, product, t, pos, off, v = e[perm], c[perm], product[perm], t[perm], pos[perm], off[perm], v[perm]
        lims = {k: x[perm] for k, x in lims.items()}
    return pa.RecordBatch.from_pydict({
        "enterprise_id": pa.array(e, pa.int32()), "product_id": pa.array(product, pa.int32()),
        "characteristic_id": pa.array(c, pa.int32()), "measured_at": pa.array(t, pa.int64()).cast(TS),
        "local_us": pa.array(t + off.astype(np.int64) * 60_000_000, pa.int64()),
        "value": pa.array(v, pa.float64()), **{k: pa.array(x, pa.float64()) for k, x in lims.items()},
    })


def unpack_stream(batches: Iterable) -> Iterator[pa.RecordBatch]:
    """:func:`unpack` over a stream of packed batches sorted by (enterprise, characteristic, first
    time, first position): a characteristic's runs may continue in the next batch, so the last
    characteristic of each batch waits for the next."""
    pending: list = []
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        table = pa.Table.from_batches(pending)
        e = np.asarray(table.column("enterprise_id").to_numpy(), dtype=np.int64)
        c = np.asarray(table.column("characteristic_id").to_numpy(), dtype=np.int64)
        other = np.flatnonzero((e != e[-1]) | (c != c[-1]))
        if other.size == 0:
            continue
        cut = int(other[-1]) + 1
        yield unpack(table.slice(0, cut))
        pending = table.slice(cut).to_batches()
    if pending:
        yield unpack(pa.Table.from_batches(pending))
