"""The columnar form of measurements: what readers produce and the store ingests.

A reader (CSV, AQDEF, QIF, MQTT ...) turns its input into one Arrow table with the columns of
:data:`INPUT_SCHEMA`, referring to enterprises, sites, products, characteristics and instruments
by their codes; the store resolves the codes and writes rows of :data:`LAKE_SCHEMA`.
"""

from __future__ import annotations

import pyarrow as pa

from jingce.model.enums import LifecycleStage, MeasurementStatus

TIME = pa.timestamp("us", tz="UTC")

INPUT_SCHEMA = pa.schema(
    [
        pa.field("enterprise", pa.string(), nullable=False),
        pa.field("site", pa.string()),
        pa.field("part_number", pa.string(), nullable=False),
        pa.field("serial", pa.string()),
        pa.field("characteristic", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("unit", pa.string()),
        pa.field("measured_at", TIME),
        pa.field("local_time", pa.timestamp("us")),
        pa.field("zone", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("operator", pa.string()),
        pa.field("machine", pa.string()),
        pa.field("instrument", pa.string()),
        pa.field("status", pa.string()),
        pa.field("nominal", pa.float64()),
        pa.field("lower_limit", pa.float64()),
        pa.field("upper_limit", pa.float64()),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("line", pa.int64()),  # line in the source file, for error messages
        pa.field("characteristic_name", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("criticality", pa.string()),
        pa.field("attributes", pa.string()),
        pa.field("message_id", pa.string()),  # live messages: the id used to drop redeliveries
    ]
)
"""Columns a reader produces. Each row has ``measured_at`` (UTC) or, when the source gives wall-clock
time without an offset (Q-DAS K0004, a CSV without offsets), ``local_time``, which the store reads in
``zone`` (null: the site's zone). Null ``nominal``/limits are taken from the registered
characteristic; ``line`` is the row's line in the source, for error messages; ``attributes`` is a
JSON object of further source fields, kept with the value."""

REQUIRED_INPUT = ("enterprise", "part_number", "characteristic", "value", "position")

LAKE_SCHEMA = pa.schema(
    [
        pa.field("enterprise_id", pa.int32(), nullable=False),
        pa.field("site_id", pa.int32(), nullable=False),
        pa.field("product_id", pa.int32(), nullable=False),
        pa.field("part_number", pa.string(), nullable=False),
        pa.field("serial", pa.string()),
        pa.field("characteristic_id", pa.int32(), nullable=False),
        pa.field("characteristic", pa.string(), nullable=False),
        pa.field("nominal", pa.float64()),
        pa.field("lower_limit", pa.float64()),
        pa.field("upper_limit", pa.float64()),
        pa.field("unit", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("measured_at", TIME, nullable=False),
        pa.field("utc_offset_min", pa.int16(), nullable=False),
        pa.field("zone", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("operator", pa.string()),
        pa.field("machine", pa.string()),
        pa.field("instrument_id", pa.int32()),
        pa.field("source_format", pa.string(), nullable=False),
        pa.field("source_hash", pa.string(), nullable=False),
        pa.field("position", pa.int64(), nullable=False),
        pa.field("batch", pa.string(), nullable=False),
        pa.field("attributes", pa.string()),
    ],
    metadata={b"jingce.lake.version": b"2"},
)
"""One tidy row per measured value, as stored in the lake (format version 2).

Version 2 added ``attributes``: a JSON object of source fields without a column of their own
(Q-DAS K0005 events, K0006 charge, K0007 cavity, ...); files of version 1 read with it null.

The local time is not stored: it is ``measured_at + utc_offset_min`` (the offset of ``zone`` at
that instant), which the store's views expose as ``local_time``."""

STAGES = tuple(s.value for s in LifecycleStage)
STATUSES = tuple(s.value for s in MeasurementStatus)


def empty_input() -> pa.Table:
    return INPUT_SCHEMA.empty_table()


def conform_input(table: pa.Table) -> pa.Table:
    """Add missing optional columns as nulls and order/cast columns as :data:`INPUT_SCHEMA`.

    String columns may also be dictionary-encoded strings (readers of repetitive data produce
    them); they are kept as they are.
    """
    n = table.num_rows
    cols, fields = [], []
    for field in INPUT_SCHEMA:
        if field.name in table.column_names:
            col = table.column(field.name)
            if not (col.type == field.type or (pa.types.is_string(field.type) and pa.types.is_dictionary(col.type)
                                               and pa.types.is_string(col.type.value_type))):
                col = col.cast(field.type)
            cols.append(col)
            fields.append(pa.field(field.name, col.type))
        else:
            cols.append(pa.nulls(n, field.type))
            fields.append(pa.field(field.name, field.type))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))
