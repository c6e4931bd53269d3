"""Export measurements from the store in any registered format (``jingce export``)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from jingce import formats
from jingce.errors import InvalidInputError
from jingce.model.batch import INPUT_SCHEMA
from jingce.store import Actor, Store


def export_table(store: Store, actor: Actor, *, characteristic_id: int | None = None,
                 enterprise_id: int | None = None, product_id: int | None = None, serial: str | None = None,
                 start: dt.datetime | None = None, end: dt.datetime | None = None) -> pa.Table:
    """The actor's measurements as a table of :data:`INPUT_SCHEMA` (codes instead of ids), the form
    every format writer takes; a file written from it reads back as the same measurements."""
    if characteristic_id is None and enterprise_id is None and product_id is None and serial is None:
        raise InvalidInputError("name a characteristic, enterprise, product or serial to export", field="filter")
    m = store.measurements(actor, characteristic_id=characteristic_id, enterprise_id=enterprise_id,
                           product_id=product_id, serial=serial, start=start, end=end)
    ents = {e.id: e.code for e in store.list_enterprises(actor)}
    sites: dict[int, str] = {}
    for eid in set(m.column("enterprise_id").to_pylist()):
        sites |= {s.id: s.code for s in store.list_sites(actor, eid)}
    insts: dict[int, str] = {}
    for iid in {i for i in m.column("instrument_id").to_pylist() if i is not None}:
        try:
            insts[iid] = store.get_instrument(actor, iid).code
        except LookupError:
            insts[iid] = str(iid)

    def mapped(col: str, lookup: dict) -> pa.Array:
        return pa.array([lookup.get(v) if v is not None else None for v in m.column(col).to_pylist()], pa.string())

    cols = {
        "enterprise": mapped("enterprise_id", ents), "site": mapped("site_id", sites),
        "instrument": mapped("instrument_id", insts), "position": pa.array(range(m.num_rows), pa.int64()),
    }
    for name in ("part_number", "serial", "characteristic", "value", "unit", "measured_at", "zone", "stage",
                 "operator", "machine", "status", "nominal", "lower_limit", "upper_limit", "attributes"):
        cols[name] = m.column(name)
    out = pa.table(cols)
    return out.select([f.name for f in INPUT_SCHEMA if f.name in out.column_names]).sort_by(
        [("characteristic", "ascending"), ("measured_at", "ascending")]) if out.num_rows else out


def export_bytes(store: Store, actor: Actor, fmt: str, **filters) -> bytes:
    """Measurements written in format ``fmt`` (``csv``, ``aqdef``, ``qif`` ...)."""
    f = formats.get(fmt)
    if f.write is None:
        raise InvalidInputError(f"format {fmt!r} has no writer", field="format")
    table = export_table(store, actor, **filters)
    if table.num_rows == 0:
        raise InvalidInputError("nothing to export: no measurements match", field="filter")
    return f.write(table)


__all__ = ["export_bytes", "export_table"]
