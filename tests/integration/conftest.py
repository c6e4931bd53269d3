"""Store fixtures: every store test runs against SQLite and, when JINGCE_TEST_PG_URL is set,
against PostgreSQL (each test in a schema of its own, dropped afterwards)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text

from jingce.model import Enterprise, Instrument, Lab, Product, Role, ScopeEntry, Share, Site, Tenant, User
from jingce.settings import Settings
from jingce.store import Store
from jingce.store.core import make_engine

PG_URL = os.environ.get("JINGCE_TEST_PG_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(Settings(data_dir=tmp_path / "data"))
        yield s
        s.close()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(PG_URL)
    with admin_engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(PG_URL, schema=schema)
    s = Store(Settings(data_dir=tmp_path / "data", db_url=PG_URL), engine=engine)
    try:
        yield s
    finally:
        s.close()
        with admin_engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin_engine.dispose()


T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def rows(enterprise: str, part_number: str, chars: list[str], serials: list[str], *, start=T0, step_min=10,
         nominal=10.0, lower=9.9, upper=10.1, unit="mm", value0=10.0, **extra) -> pa.Table:
    """One value per (serial, characteristic), serials in time order."""
    data: dict[str, list] = {k: [] for k in ("enterprise", "part_number", "serial", "characteristic", "value",
                                             "unit", "measured_at", "nominal", "lower_limit", "upper_limit")}
    i = 0
    for s in serials:
        for c in chars:
            data["enterprise"].append(enterprise)
            data["part_number"].append(part_number)
            data["serial"].append(s)
            data["characteristic"].append(c)
            data["value"].append(value0 + 0.001 * (i % 50))
            data["unit"].append(unit)
            data["measured_at"].append(start + dt.timedelta(minutes=step_min * i))
            data["nominal"].append(nominal)
            data["lower_limit"].append(lower)
            data["upper_limit"].append(upper)
            i += 1
    table = pa.table(data).cast(pa.schema([
        ("enterprise", pa.string()), ("part_number", pa.string()), ("serial", pa.string()),
        ("characteristic", pa.string()), ("value", pa.float64()), ("unit", pa.string()),
        ("measured_at", pa.timestamp("us", tz="UTC")), ("nominal", pa.float64()), ("lower_limit", pa.float64()),
        ("upper_limit", pa.float64())]))
    for k, v in extra.items():
        table = table.append_column(k, pa.array([v] * table.num_rows))
    return table.append_column("position", pa.array(range(table.num_rows), pa.int64()))


def h(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


class Region:
    """A small region: customer C (assembler) with supplier S (shares its part with C), and an
    unrelated enterprise X; a lab with standards up to a national standard; a regulator."""

    def __init__(self, store: Store) -> None:
        self.store = store
        a = self.admin = store.bootstrap()
        tc = store.add_tenant(a, Tenant(code="tc", name="Customer", kind="enterprise"))
        ts = store.add_tenant(a, Tenant(code="ts", name="Supplier", kind="enterprise"))
        tx = store.add_tenant(a, Tenant(code="tx", name="Other", kind="enterprise"))
        tl = store.add_tenant(a, Tenant(code="tl", name="Lab", kind="lab"))
        tn = store.add_tenant(a, Tenant(code="tn", name="NMI", kind="lab"))
        tr = store.add_tenant(a, Tenant(code="tr", name="Regulator", kind="regulator"))
        self.tenants = {"C": tc, "S": ts, "X": tx, "L": tl, "N": tn, "R": tr}
        store.add_user(a, User(tenant_id=tc.id, username="c", role=Role.ENTERPRISE_ADMIN))
        store.add_user(a, User(tenant_id=ts.id, username="s", role=Role.ENTERPRISE_USER))
        store.add_user(a, User(tenant_id=tx.id, username="x", role=Role.ENTERPRISE_ADMIN))
        store.add_user(a, User(tenant_id=tl.id, username="lab", role=Role.LAB))
        store.add_user(a, User(tenant_id=tr.id, username="reg", role=Role.REGULATOR))
        self.c, self.s, self.x = (store.actor(u) for u in ("c", "s", "x"))
        self.lab_user, self.reg = store.actor("lab"), store.actor("reg")
        self.ent = {}
        for code, tenant, zone in (("C", tc, "Asia/Shanghai"), ("S", ts, "Europe/Berlin"), ("X", tx, "Asia/Shanghai")):
            e = store.add_enterprise(a, Enterprise(tenant_id=tenant.id, code=code, name=f"{code} Ltd",
                                                   industry_chain="bearings"))
            store.add_site(a, Site(enterprise_id=e.id, code="P1", name="plant", timezone=zone))
            self.ent[code] = e
        self.assy = store.add_product(a, Product(enterprise_id=self.ent["C"].id, part_number="ASSY", name="assembly"))
        self.ring = store.add_product(a, Product(enterprise_id=self.ent["S"].id, part_number="RING", name="ring"))
        self.other = store.add_product(a, Product(enterprise_id=self.ent["X"].id, part_number="OTHER", name="o"))
        store.add_share(a, Share(owner_tenant_id=ts.id, grantee_tenant_id=tc.id, enterprise_id=self.ent["S"].id,
                                 product_id=self.ring.id))
        self.nmi = store.add_lab(a, Lab(tenant_id=tn.id, code="NMI", name="NMI", level="national",
                                        qualification="qualified"))
        self.lab = store.add_lab(a, Lab(tenant_id=tl.id, code="LAB", name="Lab", qualification="qualified", scope=(
            ScopeEntry(quantity="length", range_min=0, range_max=500, cmc_absolute=0.0005),)))
        self.national = store.add_instrument(a, Instrument(tenant_id=tn.id, code="NAT-LEN", name="laser",
                                                           kind="national_standard", lab_id=self.nmi.id))
        self.lab_std = store.add_instrument(a, Instrument(tenant_id=tl.id, code="LAB-GB", name="gauge blocks",
                                                          kind="reference_standard", lab_id=self.lab.id))
        self.gauge_c = store.add_instrument(a, Instrument(tenant_id=tc.id, code="C-CMM", name="CMM",
                                                          enterprise_id=self.ent["C"].id))
        self.gauge_x = store.add_instrument(a, Instrument(tenant_id=tx.id, code="X-MIC", name="micrometer",
                                                          enterprise_id=self.ent["X"].id))

    def ingest_basics(self) -> None:
        st, a = self.store, self.admin
        st.ingest(a, rows("S", "RING", ["OD", "ID"], [f"R{i}" for i in range(6)]), content_hash=h("s1"),
                  source_format="test")
        st.ingest(a, rows("C", "ASSY", ["RUNOUT"], ["A1", "A2", "A3"], lower=None, upper=0.05, nominal=0.0,
                          value0=0.01, instrument="C-CMM"),
                  content_hash=h("c1"), source_format="test")
        st.ingest(a, rows("X", "OTHER", ["L"], ["X1", "X2"], instrument="X-MIC"), content_hash=h("x1"),
                  source_format="test")
        a_ids = st.part_ids(a, self.assy.id, ["A1", "A2", "A3"])
        r_ids = st.part_ids(a, self.ring.id, [f"R{i}" for i in range(6)])
        st.add_assemblies(a, self.assy.id, [a_ids["A1"], a_ids["A1"], a_ids["A2"]],
                          [r_ids["R0"], r_ids["R1"], r_ids["R2"]], ["inner", "outer", "inner"])


@pytest.fixture
def region(store):
    return Region(store)
