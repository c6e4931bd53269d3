"""Regions for the engine tests (helpers; no tests here): a small demo region, and an edge-case region (one value, no
specification, zero spread, invalid-only and non-finite values, a month and DST boundary, a
product shared alone)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import insert

from jingce.model import Calibration, Product
from jingce.model.batch import LAKE_SCHEMA
from jingce.store import Store
from jingce.store import tables as tb
from tests.integration.conftest import Region, h, rows

EDGE_T0 = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)  # daily values cross 2026-03-29 (DST in Berlin) and April


def _values(table: pa.Table, values) -> pa.Table:
    return table.set_column(table.column_names.index("value"), "value", pa.array(np.asarray(values, float)))


def build_edge(store: Store) -> Region:
    """The edge-case region on ``store`` (see the module docstring)."""
    r = Region(store)
    st, a = store, r.admin
    rng = np.random.default_rng(10)
    st.add_product(a, Product(enterprise_id=r.ent["S"].id, part_number="HUB", name="hub (not shared)"))
    n = 40
    od = rng.normal(10.0, 0.01, n)
    od[25:] += 0.03  # a shift: run-rule alarms
    st.ingest(a, _values(rows("S", "RING", ["OD"], [f"R{i}" for i in range(n)], start=EDGE_T0, step_min=24 * 60,
                              nominal=10.0, lower=9.95, upper=10.05), od), content_hash=h("e-od"), source_format="t")
    st.ingest(a, _values(rows("S", "RING", ["ID"], [f"R{i}" for i in range(12)], start=EDGE_T0, step_min=7 * 60,
                              nominal=5.0, lower=4.99, upper=5.01), rng.normal(5.0, 0.003, 12)),
              content_hash=h("e-id"), source_format="t")
    st.ingest(a, _values(rows("S", "HUB", ["BORE"], [f"H{i}" for i in range(23)], start=EDGE_T0, step_min=300,
                              nominal=30.0, lower=29.98, upper=30.02), rng.normal(30.0, 0.006, 23)),
              content_hash=h("e-hub"), source_format="t")
    # C: a one-sided limit, a single value, zero spread, no specification at all
    runout = np.abs(rng.normal(0.04, 0.008, 17))
    st.ingest(a, _values(rows("C", "ASSY", ["RUNOUT"], [f"A{i}" for i in range(17)], start=EDGE_T0, step_min=600,
                              nominal=0.0, lower=None, upper=0.05, instrument="C-CMM"), runout),
              content_hash=h("e-runout"), source_format="t")
    st.ingest(a, _values(rows("C", "ASSY", ["SINGLE"], ["A0"], start=EDGE_T0, nominal=1.0, lower=0.9, upper=1.1),
                         [1.02]), content_hash=h("e-single"), source_format="t")
    st.ingest(a, _values(rows("C", "ASSY", ["FLAT"], [f"A{i}" for i in range(9)], start=EDGE_T0, step_min=60,
                              nominal=2.0, lower=1.9, upper=2.1), np.full(9, 2.01)),
              content_hash=h("e-flat"), source_format="t")
    st.ingest(a, _values(rows("C", "ASSY", ["NOSPEC"], [f"A{i}" for i in range(11)], start=EDGE_T0, step_min=90,
                              nominal=None, lower=None, upper=None), 1000.0 + rng.normal(0, 1e-4, 11)),
              content_hash=h("e-nospec"), source_format="t")
    # X: some values invalid, one characteristic with invalid values only
    lv = rng.normal(10.0, 0.02, 30)
    st.ingest(a, _values(rows("X", "OTHER", ["L"], [f"X{i}" for i in range(20)], start=EDGE_T0, step_min=180), lv[:20]),
              content_hash=h("e-l1"), source_format="t")
    st.ingest(a, _values(rows("X", "OTHER", ["L"], [f"Y{i}" for i in range(10)], start=EDGE_T0 + dt.timedelta(hours=1),
                              step_min=180, status="invalid"), lv[20:]), content_hash=h("e-l2"), source_format="t")
    # a second file of the same partition whose values interleave in time with the first: an
    # uncompacted partition, whose runs the Spark engine must merge
    st.ingest(a, _values(rows("X", "OTHER", ["L"], [f"Z{i}" for i in range(8)], start=EDGE_T0 + dt.timedelta(minutes=90),
                              step_min=180), rng.normal(10.0, 0.02, 8)), content_hash=h("e-l3"), source_format="t")
    st.ingest(a, _values(rows("X", "OTHER", ["GONE"], [f"X{i}" for i in range(6)], start=EDGE_T0, status="invalid"),
                         np.full(6, 3.0)), content_hash=h("e-gone"), source_format="t")
    add_nonfinite_file(store, r.ent["X"].id)
    # C's CMM: in tolerance in January, out of tolerance (as found) on 1 April, then expired after two months
    for no, at, result, err in (("E-1", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "pass", 0.001),
                                ("E-2", dt.datetime(2026, 4, 1, tzinfo=dt.UTC), "out_of_tolerance", 0.004)):
        st.add_calibration(a, Calibration(instrument_id=r.gauge_c.id, lab_id=r.lab.id, certificate_no=no,
                                          calibrated_at=at, valid_until=at + dt.timedelta(days=90 if no == "E-1" else 60),
                                          result=result, error_as_found=err, expanded_uncertainty=0.001, unit="mm",
                                          standard_ids=(r.lab_std.id,)))
    return r


def add_nonfinite_file(store: Store, enterprise_id: int) -> str:
    """A lake file as another writer might leave it: NaN and infinite values (the store's ingest
    refuses them), listed in the manifest. Engines must leave these rows out."""
    admin = store.bootstrap()
    for path in store.lake_inputs(admin, enterprise_ids=[enterprise_id]).paths:
        t = pq.read_table(store.lake.root / path, schema=LAKE_SCHEMA)
        t = t.filter(pc.equal(t.column("status"), "valid")).slice(0, 3)
        if t.num_rows == 3:
            break
    t = t.set_column(t.column_names.index("value"), "value", pa.array([np.nan, np.inf, -np.inf]))
    t = t.set_column(t.column_names.index("position"), "position", pa.array([10_000, 10_001, 10_002], pa.int64()))
    t = t.set_column(t.column_names.index("batch"), "batch", pa.array(["external"] * 3))
    [f] = store.lake.write_batch(t, "external-nonfinite")
    with store._write() as conn:
        conn.execute(insert(tb.lake_file).values(
            batch_id=None, path=f.path, enterprise_id=f.enterprise_id, month=f.month, rows=f.rows, bytes=f.bytes,
            min_characteristic_id=f.min_characteristic_id, max_characteristic_id=f.max_characteristic_id,
            min_time=f.min_time, max_time=f.max_time, active=True))
    return f.path


def assert_same(a: pa.Table, b: pa.Table, *, rtol: float = 1e-9, what: str = "") -> None:
    """Equal tables: the same schema and rows; floating point to ``rtol`` relative (NaN equal to
    NaN), everything else (counts, ids, times, sets) exactly."""
    assert a.schema.names == b.schema.names, f"{what}: columns {a.schema.names} != {b.schema.names}"
    assert a.num_rows == b.num_rows, f"{what}: {a.num_rows} rows != {b.num_rows}"
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        assert x.type == y.type, f"{what}.{name}: {x.type} != {y.type}"
        if pa.types.is_floating(x.type):
            xa = np.asarray(x.to_numpy(), dtype=float)
            ya = np.asarray(y.to_numpy(), dtype=float)
            same_nan = np.isnan(xa) == np.isnan(ya)
            assert same_nan.all(), f"{what}.{name}: NaN at different rows {np.flatnonzero(~same_nan)[:5]}"
            with np.errstate(invalid="ignore"):
                ok = np.isnan(xa) | (xa == ya) | (np.abs(xa - ya) <= rtol * np.maximum(np.abs(xa), np.abs(ya)))
            assert ok.all(), (f"{what}.{name}: rows {np.flatnonzero(~ok)[:5]} differ: {xa[~ok][:3]} vs {ya[~ok][:3]}")
        else:
            assert x.equals(y), f"{what}.{name}: {x.to_pylist()[:5]} != {y.to_pylist()[:5]}"
