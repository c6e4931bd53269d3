"""Root cause through the supply chain (services.rootcause), traceability coverage of the region
view, and the demo's root-cause case (services.demo.quality_demo)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

from jingce.errors import InvalidInputError, NotFoundError
from jingce.model import BomLine, Calibration, Product
from jingce.services import views
from jingce.services.rootcause import MIN_CELL, root_cause
from tests.integration.conftest import h

N = 80
T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def _table(ent: str, pn: str, serials, chars: dict, machines=None, nominal=None, upper=None, lower=None,
           days: float = 0.0) -> pa.Table:
    cols: dict[str, list] = {k: [] for k in ("enterprise", "part_number", "serial", "characteristic", "value", "unit",
                                             "measured_at", "nominal", "lower_limit", "upper_limit", "machine")}
    for key, values in chars.items():
        for i, (s, v) in enumerate(zip(serials, values, strict=True)):
            cols["enterprise"].append(ent)
            cols["part_number"].append(pn)
            cols["serial"].append(s)
            cols["characteristic"].append(key)
            cols["value"].append(float(v))
            cols["unit"].append("mm")
            cols["measured_at"].append(T0 + dt.timedelta(hours=i, days=days))
            cols["nominal"].append((nominal or {}).get(key, 10.0))
            cols["lower_limit"].append((lower or {}).get(key, 9.9))
            cols["upper_limit"].append((upper or {}).get(key, 10.1))
            cols["machine"].append(None if machines is None else machines[i])
    t = pa.table(cols).cast(pa.schema([
        ("enterprise", pa.string()), ("part_number", pa.string()), ("serial", pa.string()),
        ("characteristic", pa.string()), ("value", pa.float64()), ("unit", pa.string()),
        ("measured_at", pa.timestamp("us", tz="UTC")), ("nominal", pa.float64()), ("lower_limit", pa.float64()),
        ("upper_limit", pa.float64()), ("machine", pa.string())]))
    return t.append_column("position", pa.array(range(t.num_rows), pa.int64()))


@pytest.fixture
def chain(region):
    return build_chain(region)


def build_chain(region):
    """C's assembly ASSY holds S's ring (shared with C) and X's seal (not shared): the assembly's
    runout follows the ring's OD (x1.5), a little the seal's width (x0.3), and the machine (M2 +0.012)."""
    st, a = region.store, region.admin
    rng = np.random.default_rng(5)
    seal = st.add_product(a, Product(enterprise_id=region.ent["X"].id, part_number="SEAL", name="seal"))
    if region.ring.id not in {line.child_product_id for line in st.bom(a, region.assy.id)}:
        st.add_bom_line(a, BomLine(parent_product_id=region.assy.id, child_product_id=region.ring.id, quantity=1))
    st.add_bom_line(a, BomLine(parent_product_id=region.assy.id, child_product_id=seal.id, quantity=1))
    od = 10.0 + rng.normal(0, 0.01, N)
    bore = 10.0 + rng.normal(0, 0.01, N)
    width = 2.0 + rng.normal(0, 0.01, N)
    machines = np.array(["M1", "M2"])[np.arange(N) % 2]
    runout = 0.02 + 1.5 * (od - 10) + 0.3 * (width - 2) + np.where(machines == "M2", 0.012, 0.0) \
        + rng.normal(0, 0.002, N)
    rs, ss, as_ = ([f"{p}{i:03d}" for i in range(N)] for p in ("R", "W", "A"))
    st.ingest(a, _table("S", "RING", rs, {"OD": od, "BORE": bore}, days=-3), content_hash=h("rc-s"),
              source_format="test")
    st.ingest(a, _table("X", "SEAL", ss, {"W": width}, nominal={"W": 2.0}, lower={"W": 1.9}, upper={"W": 2.1},
                        days=-2), content_hash=h("rc-x"), source_format="test")
    st.ingest(a, _table("C", "ASSY", as_, {"RUNOUT": runout}, machines=machines, nominal={"RUNOUT": 0.0},
                        lower={"RUNOUT": -1.0}, upper={"RUNOUT": 0.03}), content_hash=h("rc-c"), source_format="test")
    pa_ids = st.part_ids(a, region.assy.id, as_)
    for prod, serials in ((region.ring, rs), (seal, ss)):
        ids = st.part_ids(a, prod.id, serials)
        st.add_assemblies(a, region.assy.id, [pa_ids[s] for s in as_], [ids[s] for s in serials])
    region.seal = seal
    region.runout = st.find_characteristic(a, "C", "ASSY", "RUNOUT")
    region.y = runout
    return region


def _by_code(res):
    return {(c.get("product"), c["code"]): c for c in res["candidates"]}


def test_admin_ranks_the_ring_first_with_evidence(chain):
    res = root_cause(chain.store, chain.admin, chain.runout.id)
    cands = res["candidates"]
    assert (cands[0]["product"], cands[0]["code"]) == ("RING", "OD")
    od = cands[0]
    assert od["n"] == N and od["in_model"] and od["p_value"] < 1e-10
    assert abs(od["coefficient"] - 1.5) < 3 * od["se"]
    by = _by_code(res)
    assert by[("SEAL", "W")]["in_model"] and by[("RING", "BORE")]["in_model"] is False
    machine = next(c for c in cands if c["kind"] == "machine")
    assert machine["share"] > 0.05 and machine["p_value"] < 0.05 and {m["machine"] for m in machine["levels"]} == {
        "M1", "M2"}
    shares = [c["share"] for c in cands if c["in_model"]]
    assert sum(shares) == pytest.approx(res["model"]["r_squared"], rel=1e-9)
    assert res["characteristic"]["serials"] == N and res["characteristic"]["out_of_spec"] == int(np.sum(chain.y > 0.03))
    assert res["scatter"]["kind"] == "points" and len(res["scatter"]["points"]) == N
    assert res["hidden_components"] == 0 and res["raw_values"]


def test_enterprise_sees_only_shared_components(chain):
    res = root_cause(chain.store, chain.c, chain.runout.id)
    products = {c.get("product") for c in res["candidates"]}
    assert "SEAL" not in products and "RING" in products
    assert res["hidden_components"] == 1 and res["notes"]
    assert res["candidates"][0]["code"] == "OD" and res["scatter"]["kind"] == "points"


def test_regulator_gets_statistics_never_raw_values(chain):
    res = root_cause(chain.store, chain.reg, chain.runout.id)
    assert ("SEAL", "W") in _by_code(res)  # the whole region's statistics
    sc = res["scatter"]
    assert sc["kind"] == "binned" and "points" not in sc and not res["raw_values"]
    assert all(cell[2] >= MIN_CELL for cell in sc["cells"])
    assert sum(cell[2] for cell in sc["cells"]) <= N
    for edges in (np.array(sc["x_edges"]), np.array(sc["y_edges"])):  # round steps: no edge is a measured value
        step = edges[1] - edges[0]
        assert np.allclose(edges / step, np.round(edges / step), atol=1e-6)
        assert round(step / 10 ** np.floor(np.log10(step)), 6) in (1.0, 2.0, 5.0)
    text = json.dumps(res)
    for v in chain.y[:20]:  # no raw runout value in the answer
        assert repr(float(v)) not in text


def test_others_cannot_analyse(chain):
    for actor in (chain.x, chain.s):
        with pytest.raises(NotFoundError):
            root_cause(chain.store, actor, chain.runout.id)


def test_bad_period_is_refused(chain):
    with pytest.raises(InvalidInputError) as e:
        root_cause(chain.store, chain.admin, chain.runout.id, start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 1))
    assert e.value.details["field"] == "end"
    with pytest.raises(InvalidInputError) as e:
        root_cause(chain.store, chain.admin, chain.runout.id, start=dt.datetime(2026, 3, 1))
    assert e.value.details["field"] == "start"


def test_period_with_too_few_serials_says_so(chain):
    res = root_cause(chain.store, chain.admin, chain.runout.id, start=dt.date(2026, 3, 10), end=dt.date(2026, 3, 11))
    assert res["candidates"] == [] and res["characteristic"]["serials"] == 0 and "at least" in res["notes"][0]


def test_worst_characteristics_follow_visibility(chain):
    worst = views.worst_characteristics(chain.store, chain.admin)
    assert worst[0]["id"] == chain.runout.id and worst[0]["out_of_spec"] == int(np.sum(chain.y > 0.03))
    assert [w["id"] for w in views.worst_characteristics(chain.store, chain.x)] == []


def test_traceability_coverage_agrees_with_the_chain_walk(region):
    st, a = region.store, region.admin
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    def cal(inst, std, at, until, result="pass", no="C"):
        st.add_calibration(a, Calibration(instrument_id=inst.id, lab_id=region.lab.id, certificate_no=no,
                                          calibrated_at=at, valid_until=until, expanded_uncertainty=0.001,
                                          result=result, standard_ids=(std.id,)))

    t1, t2 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    first = views.traceable_instruments(st, a, now)
    assert not first[region.gauge_c.id] and first[region.national.id]
    cal(region.lab_std, region.national, t1, t2, no="L1")
    cal(region.gauge_c, region.lab_std, t1, t2, no="G1")
    cal(region.gauge_x, region.lab_std, t1, dt.datetime(2026, 5, 1, tzinfo=dt.UTC), no="G2")  # expired by now
    got = views.traceable_instruments(st, a, now)
    assert got[region.gauge_c.id] and not got[region.gauge_x.id] and got[region.lab_std.id]
    cal(region.lab_std, region.national, dt.datetime(2026, 4, 1, tzinfo=dt.UTC), t2, result="out_of_tolerance",
        no="L2")
    got = views.traceable_instruments(st, a, now)
    assert not got[region.gauge_c.id] and not got[region.lab_std.id]
    for iid, ok in got.items():
        assert ok == st.calibration_chain(a, iid, now).unbroken, iid


# -- the demo -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The small demo region with the root-cause case (the other issue-9 stories left out: this
    tests this story alone)."""
    from jingce.services.demo.build import _Builder
    from jingce.services.demo.quality_demo import extend
    from jingce.settings import Settings
    from jingce.store import Store

    store = Store(Settings(data_dir=tmp_path_factory.mktemp("demo")))
    b = _Builder(store, 7, 0.02, lambda msg, frac: None)
    b.stories = lambda: None
    b.build()
    admin = store.bootstrap()
    rotors = [c for c in store.list_characteristics(admin) if c.key == "RUNOUT_1"
              and "-ROTOR-" in store.get_product(admin, c.product_id).part_number]
    before = {c.id: root_cause(store, admin, c.id) for c in rotors[4:8]}
    info = extend(store, admin, b)
    rows = store.lake_stats()["rows"]
    assert extend(store, admin, b) == info and store.lake_stats()["rows"] == rows  # deterministic, lands once
    yield store, admin, b, info, before
    store.close()


def test_demo_couplings_are_found(demo):
    """build.COUPLINGS: a rotor's runout follows its shaft's runout (x1.6) and its bearing's KIA (x1.2)."""
    _store, _admin, _b, _info, before = demo
    coupled = {("SHAFT", "RUNOUT_1"), ("BEARING", "KIA")}
    both = 0
    for res in before.values():
        top = [(c["product"].split("-")[2], c["code"]) for c in res["candidates"] if c["kind"] == "characteristic"]
        assert top[0] in coupled, (res["characteristic"]["product"], top[:3])
        both += set(top[:2]) == coupled
    assert both >= 1


def test_demo_root_cause_case(demo):
    store, admin, _b, info, _before = demo
    assert info is not None and info["out_of_spec"] > 20
    res = root_cause(store, admin, info["characteristic"], start=dt.date.fromisoformat(info["start"]))
    top = res["candidates"][0]
    assert top["characteristic_id"] == info["upstream"] and top["product"] == info["shaft"]
    assert top["share"] > 0.8 and abs(top["coefficient"] - 1.6) < 4 * top["se"]
    kia = res["candidates"][1]
    assert (kia["product"], kia["code"]) == (info["bearing"], "KIA") and kia["in_model"]
    assert res["characteristic"]["out_of_spec"] > 20
    worst = views.worst_characteristics(store, admin, limit=50)
    assert info["characteristic"] in [w["id"] for w in worst]
    regulator = store.actor("regulator")
    reg = root_cause(store, regulator, info["characteristic"])
    assert reg["candidates"][0]["characteristic_id"] == info["upstream"] and reg["scatter"]["kind"] == "binned"


def test_the_walk_stops_below_a_component_the_actor_may_not_see(chain):
    """S's rubber goes into X's seal (hidden from C): C's analysis does not reach it through the
    seal, even though S shares the rubber with C; the admin's does (two levels down)."""
    from jingce.model import Share

    st, a = chain.store, chain.admin
    rubber = st.add_product(a, Product(enterprise_id=chain.ent["S"].id, part_number="RUBBER", name="rubber"))
    st.add_share(a, Share(owner_tenant_id=chain.tenants["S"].id, grantee_tenant_id=chain.tenants["C"].id,
                          enterprise_id=chain.ent["S"].id, product_id=rubber.id))
    st.add_bom_line(a, BomLine(parent_product_id=chain.seal.id, child_product_id=rubber.id, quantity=1))
    serials = [f"U{i:03d}" for i in range(N)]
    st.ingest(a, _table("S", "RUBBER", serials, {"SH": 70 + np.arange(N) % 7}, nominal={"SH": 70.0},
                        lower={"SH": 60.0}, upper={"SH": 80.0}, days=-4), content_hash=h("rc-u"), source_format="test")
    seal_ids = st.part_ids(a, chain.seal.id, [f"W{i:03d}" for i in range(N)])
    rub_ids = st.part_ids(a, rubber.id, serials)
    st.add_assemblies(a, chain.seal.id, [seal_ids[f"W{i:03d}"] for i in range(N)], [rub_ids[s] for s in serials])
    admin = root_cause(st, a, chain.runout.id)
    assert any(c.get("product") == "RUBBER" and c["depth"] == 2 for c in admin["candidates"])
    mine = root_cause(st, chain.c, chain.runout.id)
    assert not any(c.get("product") in ("RUBBER", "SEAL") for c in mine["candidates"])
