"""The Store conformance suite: the same tests on SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from jingce.errors import ConflictError, FormatError, InvalidInputError, NotFoundError
from jingce.model import BomLine, Calibration, Characteristic, MeasurementPlan, PlanItem, Product
from tests.integration.conftest import T0, h, rows


def test_registry_round_trip_and_conflicts(region):
    st, a = region.store, region.admin
    c = st.add_characteristic(a, Characteristic(product_id=region.assy.id, key="BORE", nominal=20, lower_limit=20,
                                                upper_limit=20.021, kind="diameter", criticality="critical"))
    assert st.get_characteristic(a, c.id) == c
    assert st.find_characteristic(a, "C", "ASSY", "BORE").id == c.id
    with pytest.raises(ConflictError):
        st.add_characteristic(a, Characteristic(product_id=region.assy.id, key="BORE"))
    with pytest.raises(ConflictError):
        st.add_product(a, Product(enterprise_id=region.ent["C"].id, part_number="ASSY", name="again"))
    plan = st.add_plan(a, MeasurementPlan(product_id=region.assy.id, name="CP", items=(
        PlanItem(characteristic_id=c.id, stage="final", sample_size=5),)))
    assert st.list_plans(a, region.assy.id) == [plan]
    line = st.add_bom_line(a, BomLine(parent_product_id=region.assy.id, child_product_id=region.ring.id, quantity=2))
    assert st.bom(a, region.assy.id) == [line]
    with pytest.raises(ConflictError, match="cycle"):
        st.add_bom_line(a, BomLine(parent_product_id=region.ring.id, child_product_id=region.assy.id))


def test_ingest_lands_once_and_reads_back_in_time_order(region):
    st, a = region.store, region.admin
    table = rows("C", "ASSY", ["D1", "D2"], [f"S{i}" for i in range(20)])
    first = st.ingest(a, table, content_hash=h("b1"), source_format="test", source_name="b1.csv")
    assert first.created and first.rows == 40 and first.new_characteristics == 2
    again = st.ingest(a, table, content_hash=h("b1"), source_format="test")
    assert not again.created and again.rows == 40
    d1 = st.find_characteristic(a, "C", "ASSY", "D1")
    v = st.values(a, d1.id)
    assert v.num_rows == 20
    times = v.column("measured_at").to_pylist()
    assert times == sorted(times)
    assert v.column("batch").to_pylist() == [h("b1")] * 20
    assert v.column("source_format").unique().to_pylist() == ["test"]
    # positions are the rows of the source; every value appears once
    assert sorted(v.column("position").to_pylist()) == list(range(0, 40, 2))
    assert st.lake_stats()["rows"] == 40


def test_filters_stage_time_serial(region):
    st, a = region.store, region.admin
    st.ingest(a, rows("C", "ASSY", ["D"], ["A", "B", "C", "D"], stage="final"), content_hash=h("f"),
              source_format="t")
    st.ingest(a, rows("C", "ASSY", ["D"], ["A", "B"], start=T0 + dt.timedelta(days=40), stage="in_service"),
              content_hash=h("s"), source_format="t")
    cid = st.find_characteristic(a, "C", "ASSY", "D").id
    assert st.values(a, cid).num_rows == 6
    assert st.values(a, cid, stage="in_service").num_rows == 2
    assert st.values(a, cid, serial="A").num_rows == 2
    assert st.values(a, cid, start=T0 + dt.timedelta(minutes=10), end=T0 + dt.timedelta(minutes=30)).num_rows == 2
    assert st.values(a, cid, start=T0 + dt.timedelta(days=30)).num_rows == 2
    with pytest.raises(InvalidInputError):
        st.values(a, cid, stage="shipping")
    with pytest.raises(InvalidInputError):
        st.values(a, cid, start=dt.datetime(2026, 1, 1))  # naive time


def test_a_bad_row_writes_nothing(region):
    st, a = region.store, region.admin
    table = rows("C", "ASSY", ["NEW1", "NEW2"], [f"S{i}" for i in range(10)])
    values = table.column("value").to_pylist()
    values[13] = float("nan")
    bad = table.set_column(table.column_names.index("value"), "value", pa.array(values))
    bad = bad.append_column("line", pa.array(range(2, 22), pa.int64()))
    with pytest.raises(FormatError) as err:
        st.ingest(a, bad, content_hash=h("bad"), source_format="csv", source_name="bad.csv")
    assert err.value.details == {"file": "bad.csv", "line": 15, "field": "value"}
    assert st.lake_stats()["rows"] == 0
    assert not st.has_batch(h("bad"))
    with pytest.raises(NotFoundError):
        st.find_characteristic(a, "C", "ASSY", "NEW1")  # not even the characteristic was created
    assert st.orphan_files() == []  # refused before any file was written


def test_units_are_converted_and_local_time_read_in_the_site_zone(region):
    st, a = region.store, region.admin
    st.add_characteristic(a, Characteristic(product_id=region.ring.id, key="W", nominal=20, lower_limit=19.9,
                                            upper_limit=20.1, unit="mm"))
    table = pa.table({
        "enterprise": ["S", "S"], "part_number": ["RING", "RING"], "characteristic": ["W", "W"],
        "value": [20010.0, 20.02], "unit": ["µm", "mm"],
        "local_time": pa.array([dt.datetime(2026, 7, 1, 12, 0), dt.datetime(2026, 1, 15, 12, 0)], pa.timestamp("us")),
        "position": pa.array([0, 1], pa.int64())})
    st.ingest(a, table, content_hash=h("units"), source_format="t")
    v = st.values(a, st.find_characteristic(a, "S", "RING", "W").id)
    assert v.column("value").to_pylist() == [20.02, pytest.approx(20.01)]  # time-ordered: January first
    assert v.column("unit").to_pylist() == ["mm", "mm"]
    # the supplier's site is in Berlin: winter UTC+1, summer UTC+2 (DST)
    assert [t.hour for t in v.column("measured_at").to_pylist()] == [11, 10]
    assert [t.hour for t in v.column("local_time").to_pylist()] == [12, 12]
    assert v.column("zone").to_pylist() == ["Europe/Berlin"] * 2
    with pytest.raises(FormatError, match="not compatible"):
        st.ingest(a, table.set_column(table.column_names.index("unit"), "unit", pa.array(["kg", "mm"])),
                  content_hash=h("units-bad"), source_format="t")


def test_full_precision_at_1000_mm(region):
    st, a = region.store, region.admin
    rng = np.random.default_rng(3)
    x = 1000.0 + rng.normal(0, 1e-7, 200)
    t = rows("C", "ASSY", ["BIG"], [f"S{i}" for i in range(200)], nominal=1000.0, lower=999.99, upper=1000.01)
    t = t.set_column(t.column_names.index("value"), "value", pa.array(x))
    st.ingest(a, t, content_hash=h("big"), source_format="t")
    got = np.array(st.values(a, st.find_characteristic(a, "C", "ASSY", "BIG").id).column("value"))
    np.testing.assert_array_equal(got, x)  # stored bit for bit


def test_lineage_across_enterprises(region):
    region.ingest_basics()
    st = region.store
    lin = st.lineage(region.c, "A1", part_number="ASSY")
    assert [n.serial for n in lin.nodes] == ["A1", "R0", "R1"]
    assert {n.enterprise for n in lin.nodes} == {"C", "S"}
    assert lin.hidden_components == 0
    per_part = lin.measurements.group_by("part_id").aggregate([("value", "count")]).to_pylist()
    assert sorted(r["value_count"] for r in per_part) == [1, 2, 2]  # RUNOUT on A1; OD and ID on each ring
    # the supplier sees its own rings, not the customer's assembly
    with pytest.raises(NotFoundError):
        st.lineage(region.s, "A1")
    assert st.lineage(region.s, "R0").nodes[0].enterprise == "S"
    # an outsider sees nothing
    with pytest.raises(NotFoundError):
        st.lineage(region.x, "A1")


def test_lineage_hides_components_not_shared(region):
    region.ingest_basics()
    st, a = region.store, region.admin
    # X's part built into C's assembly is not shared with C
    x_ids = st.part_ids(a, region.other.id, ["X1"])
    a_ids = st.part_ids(a, region.assy.id, ["A3"])
    st.add_assemblies(a, region.assy.id, [a_ids["A3"]], [x_ids["X1"]])
    lin = st.lineage(region.c, "A3")
    assert [n.serial for n in lin.nodes] == ["A3"]
    assert lin.hidden_components == 1
    assert set(lin.measurements.column("part_number").to_pylist()) == {"ASSY"}


def _cal(region, inst, std, when, days=365, result="pass", cert=None):
    return region.store.add_calibration(region.admin, Calibration(
        instrument_id=inst.id, lab_id=region.lab.id if std != region.national else region.nmi.id,
        certificate_no=cert or f"{inst.code}-{when:%Y%m%d}", calibrated_at=when,
        valid_until=when + dt.timedelta(days=days), result=result, expanded_uncertainty=0.001,
        standard_ids=(std.id,)))


def test_calibration_chain_statuses(region):
    st = region.store
    _cal(region, region.lab_std, region.national, dt.datetime(2025, 6, 1, tzinfo=dt.UTC), 730)
    _cal(region, region.gauge_c, region.lab_std, dt.datetime(2026, 1, 10, tzinfo=dt.UTC), 180)
    ok = st.calibration_chain(region.c, region.gauge_c.id, dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert ok.unbroken
    assert [n.kind for n in ok.nodes] == ["working", "reference_standard", "national_standard"]
    late = st.calibration_chain(region.c, region.gauge_c.id, dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    assert [(link.instrument_id, link.status) for link in late.broken_links] == [(region.gauge_c.id, "expired")]
    early = st.calibration_chain(region.c, region.gauge_c.id, dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert [link.status for link in early.links] == ["missing"]
    _cal(region, region.lab_std, region.national, dt.datetime(2026, 6, 1, tzinfo=dt.UTC), 730,
         result="out_of_tolerance")
    _cal(region, region.gauge_c, region.lab_std, dt.datetime(2026, 7, 1, tzinfo=dt.UTC), 365)
    oot = st.calibration_chain(region.c, region.gauge_c.id, dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    assert [(link.instrument_id, link.status) for link in oot.broken_links] == [(region.lab_std.id, "out_of_tolerance")]


def test_calibration_cycle_and_future_date_refused(region):
    _cal(region, region.gauge_c, region.lab_std, dt.datetime(2026, 1, 10, tzinfo=dt.UTC))
    with pytest.raises(ConflictError, match="cycle"):
        _cal(region, region.lab_std, region.gauge_c, dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    with pytest.raises(InvalidInputError, match="future"):
        _cal(region, region.gauge_c, region.lab_std, dt.datetime.now(dt.UTC) + dt.timedelta(days=3))


def test_measurement_chain(region):
    region.ingest_basics()
    st = region.store
    _cal(region, region.lab_std, region.national, dt.datetime(2025, 6, 1, tzinfo=dt.UTC), 730)
    _cal(region, region.gauge_c, region.lab_std, dt.datetime(2026, 1, 10, tzinfo=dt.UTC), 365)
    chain = st.measurement_chain(region.c, h("c1"), 0)
    assert chain.unbroken and chain.root_id == region.gauge_c.id
    assert chain.at == T0
    with pytest.raises(NotFoundError):
        st.measurement_chain(region.x, h("c1"), 0)


def test_sorted_tables_are_sorted_per_enterprise(region):
    region.ingest_basics()
    out = dict(region.store.sorted_tables(region.admin))
    assert set(out) == {e.id for e in region.ent.values()}
    for table in out.values():
        key = list(zip(table.column("characteristic_id").to_pylist(), table.column("measured_at").to_pylist(),
                       strict=True))
        assert key == sorted(key)


def test_compaction_keeps_every_value_and_the_batches(region):
    st, a = region.store, region.admin
    for i in range(3):
        st.ingest(a, rows("C", "ASSY", ["D1", "D2"], [f"S{i}-{k}" for k in range(5)],
                          start=T0 + dt.timedelta(hours=i)), content_hash=h(f"part{i}"), source_format="t")
    before = st.measurements(a).sort_by([("batch", "ascending"), ("position", "ascending")])
    assert st.lake_stats()["files"] == 3
    assert st.compact(a) == 1
    assert st.lake_stats()["files"] == 1
    after = st.measurements(a).sort_by([("batch", "ascending"), ("position", "ascending")])
    assert after.equals(before)
    assert st.measurements(a, batch=h("part1")).num_rows == 10
    assert not st.ingest(a, rows("C", "ASSY", ["D1"], ["x"]), content_hash=h("part1"), source_format="t").created
    (ent, table), = st.sorted_tables(a)
    key = list(zip(table.column("characteristic_id").to_pylist(), table.column("measured_at").to_pylist(),
                   strict=True))
    assert key == sorted(key) and table.num_rows == 30
    assert st.vacuum(a, older_than=dt.timedelta(0)) == 3
    assert st.measurements(a).num_rows == 30
    assert st.verify_audit().ok
    with pytest.raises(Exception):  # noqa: B017 - only the platform admin compacts
        st.compact(region.c)


def test_scan_reads_storage_order_with_tenancy(region):
    region.ingest_basics()
    st = region.store
    full = st.scan(region.admin, columns=("enterprise_id", "characteristic_id", "value", "local_time", "zone"))
    assert full.num_rows == 12 + 3 + 2
    c_view = st.scan(region.c, columns=("enterprise_id", "product_id"))
    assert set(c_view.column("product_id").to_pylist()) == {region.assy.id, region.ring.id}
    assert st.scan(region.reg).num_rows == 0
    berlin = st.scan(region.admin, enterprise_id=region.ent["S"].id, month="2026-03",
                     columns=("measured_at", "local_time"))
    assert all((lt - mt.replace(tzinfo=None)).total_seconds() == 3600
               for mt, lt in zip(berlin.column("measured_at").to_pylist(), berlin.column("local_time").to_pylist(),
                                 strict=True))
