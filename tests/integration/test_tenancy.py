"""Tenancy in the store: every read takes the acting user; other tenants' data is not found."""

from __future__ import annotations

import datetime as dt

import pytest

from jingce.errors import FormatError, NotFoundError, PermissionDeniedError
from jingce.model import Calibration, Characteristic, Product, Share, Site
from tests.integration.conftest import h, rows


@pytest.fixture
def loaded(region):
    region.ingest_basics()
    st, a = region.store, region.admin
    region.char_x = st.find_characteristic(a, "X", "OTHER", "L")
    region.char_c = st.find_characteristic(a, "C", "ASSY", "RUNOUT")
    region.char_s = st.find_characteristic(a, "S", "RING", "OD")
    st.add_calibration(a, Calibration(instrument_id=region.gauge_x.id, lab_id=region.lab.id, certificate_no="X1",
                                      calibrated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                      valid_until=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), expanded_uncertainty=0.001,
                                      standard_ids=(region.lab_std.id,)))
    return region


READS = {
    "get_enterprise": lambda st, r, who: st.get_enterprise(who, r.ent["X"].id),
    "get_enterprise_by_code": lambda st, r, who: st.get_enterprise(who, code="X"),
    "get_product": lambda st, r, who: st.get_product(who, r.other.id),
    "find_product": lambda st, r, who: st.find_product(who, "X", "OTHER"),
    "list_products": lambda st, r, who: st.list_products(who, r.ent["X"].id),
    "list_sites": lambda st, r, who: st.list_sites(who, r.ent["X"].id),
    "get_characteristic": lambda st, r, who: st.get_characteristic(who, r.char_x.id),
    "find_characteristic": lambda st, r, who: st.find_characteristic(who, "X", "OTHER", "L"),
    "values": lambda st, r, who: st.values(who, r.char_x.id),
    "part_ids": lambda st, r, who: st.part_ids(who, r.other.id, ["X1"]),
    "get_part": lambda st, r, who: st.get_part(who, st.part_ids(r.admin, r.other.id, ["X1"])["X1"]),
    "lineage": lambda st, r, who: st.lineage(who, "X1"),
    "bom": lambda st, r, who: st.bom(who, r.other.id),
    "list_plans": lambda st, r, who: st.list_plans(who, r.other.id),
    "get_instrument": lambda st, r, who: st.get_instrument(who, r.gauge_x.id),
    "calibrations": lambda st, r, who: st.calibrations(who, r.gauge_x.id),
    "calibration_chain": lambda st, r, who: st.calibration_chain(who, r.gauge_x.id),
    "measurement_chain": lambda st, r, who: st.measurement_chain(who, h("x1"), 0),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_other_tenants_data_is_not_found(loaded, read):
    st = loaded.store
    READS[read](st, loaded, loaded.admin)  # exists: the admin can read it
    with pytest.raises(NotFoundError):
        READS[read](st, loaded, loaded.c)  # C is another tenant
    with pytest.raises(NotFoundError):
        READS[read](st, loaded, loaded.lab_user)


def test_listings_and_scans_leave_out_other_tenants(loaded):
    st = loaded.store
    assert [e.code for e in st.list_enterprises(loaded.c)] == ["C", "S"]  # S through the product share
    assert {c.product_id for c in st.list_characteristics(loaded.c)} == {loaded.assy.id, loaded.ring.id}
    assert {e for e, _ in st.sorted_tables(loaded.c)} == {loaded.ent["C"].id, loaded.ent["S"].id}
    assert set(st.measurements(loaded.c).column("enterprise_id").to_pylist()) == {loaded.ent["C"].id, loaded.ent["S"].id}
    assert st.measurements(loaded.x).column("enterprise_id").unique().to_pylist() == [loaded.ent["X"].id]
    assert [i.code for i in st.list_instruments(loaded.c, enterprise_id=loaded.ent["X"].id)] == []
    assert "X-MIC" not in {i.code for i in st.list_instruments(loaded.c)}
    assert st.measurements(loaded.lab_user).num_rows == 0


def test_product_share_gives_that_product_only(loaded):
    st, a = loaded.store, loaded.admin
    other = st.add_product(a, Product(enterprise_id=loaded.ent["S"].id, part_number="SECRET", name="not shared"))
    st.ingest(a, rows("S", "SECRET", ["Q"], ["Q1"]), content_hash=h("secret"), source_format="t")
    assert st.values(loaded.c, loaded.char_s.id).num_rows == 6
    with pytest.raises(NotFoundError):
        st.get_product(loaded.c, other.id)
    assert "SECRET" not in set(st.measurements(loaded.c).column("part_number").to_pylist())


def test_regulator_reads_registry_but_not_raw_values(loaded):
    st, reg = loaded.store, loaded.reg
    assert len(st.list_enterprises(reg)) == 3
    assert st.get_characteristic(reg, loaded.char_x.id).key == "L"
    assert st.get_instrument(reg, loaded.gauge_x.id).code == "X-MIC"
    assert st.measurements(reg).num_rows == 0
    assert st.values(reg, loaded.char_x.id).num_rows == 0
    with pytest.raises(NotFoundError):
        st.lineage(reg, "X1")


def test_writes_need_the_owning_tenant(loaded):
    st = loaded.store
    with pytest.raises(NotFoundError):
        st.add_site(loaded.c, Site(enterprise_id=loaded.ent["X"].id, code="P9", name="n"))
    with pytest.raises(NotFoundError):
        st.add_characteristic(loaded.c, Characteristic(product_id=loaded.other.id, key="K"))
    with pytest.raises(FormatError, match="unknown enterprise 'X'"):  # never says "exists but not yours"
        st.ingest(loaded.c, rows("X", "OTHER", ["L"], ["X9"]), content_hash=h("intrude"), source_format="t")
    assert not st.has_batch(h("intrude"))
    with pytest.raises(NotFoundError):
        st.add_share(loaded.c, Share(owner_tenant_id=loaded.tenants["X"].id, grantee_tenant_id=loaded.tenants["C"].id,
                                     enterprise_id=loaded.ent["X"].id))
    with pytest.raises(PermissionDeniedError):
        st.add_enterprise(loaded.c, loaded.ent["X"].model_copy(update={"id": None, "code": "Y"}))
    with pytest.raises(FormatError):
        st.ingest(loaded.reg, rows("C", "ASSY", ["R"], ["A9"]), content_hash=h("reg"), source_format="t")
    with pytest.raises(NotFoundError):
        st.add_characteristic(loaded.reg, Characteristic(product_id=loaded.assy.id, key="K"))
    own = st.ingest(loaded.c, rows("C", "ASSY", ["NEW"], ["A7"]), content_hash=h("own"), source_format="t")
    assert own.created


def test_another_tenants_batch_is_never_acknowledged(loaded):
    st = loaded.store
    # C ingested batch h("c1") (via the admin in the fixture: its tenant is the platform's) and now
    # its own batch; X sending the same bytes learns nothing about it
    own = st.ingest(loaded.c, rows("C", "ASSY", ["Q"], ["Q9"]), content_hash=h("secret-c"), source_format="t")
    assert own.created
    with pytest.raises(FormatError, match="unknown enterprise"):
        st.ingest(loaded.x, rows("C", "ASSY", ["Q"], ["Q9"]), content_hash=h("secret-c"), source_format="t")
    assert st.batch_rows(h("secret-c"), loaded.x) is None
    assert st.batch_rows(h("secret-c"), loaded.c) == 1


def test_writing_to_another_tenants_product_looks_like_a_missing_one(loaded):
    """The error for another tenant's product is the error for a product that does not exist:
    same field, same wording (no existence oracle)."""
    r = loaded
    missing_id = 10_000

    def error(product_id):
        with pytest.raises(NotFoundError) as e:
            r.store.add_characteristic(r.x, Characteristic(product_id=product_id, key="K", unit="mm"))
        return e.value.details["field"], str(e.value).replace(str(product_id), "N")

    assert error(r.assy.id) == error(missing_id) == ("product_id", error(missing_id)[1])
