"""The precision planner in the demo region: gage studies, and measurements the planner finds
inadequate (issue 9 item 8).

In the first enterprise of the demo (by code) with length characteristics:

* a worn caliper (stated u = T / 10 of the characteristic it is planned for: TUR 2.5) named by a
  new gauge-check plan for two characteristics: the planner flags TUR < 4 and proposes the
  enterprise's own adequate instrument (cost 0) or a qualified lab;
* gage R&R studies on two characteristics: one with %GRR about 45 % (flagged), one about 12 %;
  VDA 5 budgets, one with Q_MP above 30 %;
* two new characteristics measured with the worn caliper on parts already made: a fit whose
  tolerance only a qualified lab's CMC meets (TUR 4 to 16: the cheapest lab line is the option),
  and a bore so tight that no instrument and no qualified lab gives TUR 4 ("none available").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

import numpy as np
import pyarrow as pa

from jingce.model import Instrument, MeasurementPlan, PlanItem, QualificationState
from jingce.model.units import conversion_factor
from jingce.services import planner
from jingce.store import Actor, Store

SEED = 20261206


def _two_sided_mm(store: Store, admin: Actor, product_id: int) -> list:
    return [c for c in store.list_characteristics(admin, product_id=product_id)
            if c.lower_limit is not None and c.upper_limit is not None and c.unit == "mm"
            and planner.quantity_of(c.kind) == "length"]


def _pick(store: Store, admin: Actor, builder):
    for ent in sorted(builder.products):
        for prod in builder.products[ent]:
            chars = _two_sided_mm(store, admin, prod.id)
            if len(chars) >= 2 and prod.serials:
                return ent, prod, chars
    return None


def _best_cmc(store: Store, admin: Actor, x_mm: float) -> float | None:
    """The smallest length CMC (expanded, mm) of a qualified lab at ``x_mm``."""
    best = None
    for lab in store.list_labs(admin):
        if lab.qualification != QualificationState.QUALIFIED:
            continue
        for e in lab.scope:
            if e.quantity != "length":
                continue
            f = conversion_factor("mm", e.unit)
            if e.range_min <= x_mm * f <= e.range_max:
                cmc = e.cmc_at(x_mm * f) / f
                best = cmc if best is None else min(best, cmc)
    return best


def _grr_readings(rng: np.random.Generator, nominal: float, tol: float, pct_grr: float) -> list:
    """10 parts x 3 appraisers x 3 trials with sigma_GRR = pct_grr / 100 * T / 6 (equal
    repeatability and reproducibility) and part spread T / 6."""
    s_grr = pct_grr / 100.0 * tol / 6.0
    s_e = s_grr / math.sqrt(2.0)
    parts = rng.normal(0.0, tol / 6.0, 10)
    appraisers = rng.normal(0.0, s_e, 3)
    y = nominal + parts[:, None, None] + appraisers[None, :, None] + rng.normal(0.0, s_e, (10, 3, 3))
    return np.round(y, 6).tolist()


def _values(store: Store, admin: Actor, ent: str, prod, key: str, name: str, nominal: float, tol: float,
            inst: Instrument, rng: np.random.Generator) -> None:
    """Values of a new characteristic on parts already made (every fifth): the process (sd T / 8)
    seen through ``inst`` (its u, rounded to its resolution)."""
    serials = prod.serials[::5][:400]
    m = len(serials)
    res = inst.resolution or 1e-6
    values = np.round((nominal + rng.normal(0.0, tol / 8.0, m) + rng.normal(0.0, inst.uncertainty or 0.0, m)) / res) * res
    inst_code = inst.code
    base = np.datetime64("2026-09-01T00:00:00", "us").astype(np.int64)
    times = base + np.arange(m, dtype=np.int64) * 3_600_000_000

    def const(v, typ=pa.string()):
        return pa.array([v] * m, typ)

    table = pa.table({
        "enterprise": const(ent), "part_number": const(prod.part_number), "serial": pa.array(serials, pa.string()),
        "characteristic": const(key), "characteristic_name": const(name), "kind": const("diameter"),
        "value": pa.array(values, pa.float64()), "unit": const("mm"),
        "measured_at": pa.array(times, pa.int64()).cast(pa.timestamp("us", tz="UTC")), "stage": const("final"),
        "instrument": const(inst_code), "nominal": const(nominal, pa.float64()),
        "lower_limit": const(nominal - tol / 2, pa.float64()), "upper_limit": const(nominal + tol / 2, pa.float64()),
        "position": pa.array(np.arange(m), pa.int64()),
    })
    digest = hashlib.sha256(f"jingce-demo-planner/{ent}/{prod.part_number}/{key}".encode()).hexdigest()
    store.ingest(admin, table, content_hash=digest, source_format="demo", source_name=f"demo:planner:{key}")


def extend(store: Store, admin: Actor, builder) -> dict:
    """Add the planner's part of the demo (deterministic); returns what it added."""
    picked = _pick(store, admin, builder)
    if picked is None:
        return {}
    ent_code, prod, chars = picked
    ent = builder.enterprises[ent_code]
    rng = np.random.default_rng(SEED)
    chars = sorted(chars, key=lambda c: (c.upper_limit - c.lower_limit, c.id))
    c_worn, c_good = chars[-1], chars[0]  # the widest tolerance gets the worn caliper
    t_worn, t_good = c_worn.tolerance, c_good.tolerance

    worn = store.add_instrument(admin, Instrument(
        tenant_id=ent.tenant_id, code=f"{ent_code}-CALIPER-OLD", name="磨损游标卡尺 / worn vernier caliper",
        quantity="length", unit="mm", resolution=0.01, uncertainty=round(t_worn / 10.0, 6), range_min=0,
        range_max=300, enterprise_id=ent.id, calibration_interval_days=365))
    x_mm = c_good.nominal if c_good.nominal is not None else (c_good.lower_limit + c_good.upper_limit) / 2
    cmc = _best_cmc(store, admin, x_mm) or t_good / 100
    own_u = [planner.instrument_uncertainty(i, None, "mm", dt.datetime.now(dt.UTC))[0]
             for i in store.list_instruments(admin, enterprise_id=ent.id) if i.quantity == "length"]
    own_best = min(u for u in own_u if u is not None)
    # the fit: TUR below 4 with every own instrument, at least 4 with the best qualified lab's line
    lo, hi = 10.0 * cmc, 15.8 * own_best  # lab TUR >= 5, own TUR < 3.95
    t_fit = math.sqrt(lo * hi) if lo < hi else lo
    t_tight = 4.0 * cmc  # TUR 2 even at the best CMC
    nominal_fit = round(x_mm, 3)
    _values(store, admin, ent_code, prod, "FIT_PLANNER", "配合直径（规划示例）/ fit diameter (planner demo)",
            nominal_fit, t_fit, worn, rng)
    _values(store, admin, ent_code, prod, "BORE_TIGHT", "精密孔径（规划示例）/ tight bore (planner demo)",
            nominal_fit, t_tight, worn, rng)
    new = {c.key: c for c in store.list_characteristics(admin, product_id=prod.id)}
    store.add_plan(admin, MeasurementPlan(product_id=prod.id, name=f"{prod.part_number} 量具点检 gauge check", items=(
        PlanItem(characteristic_id=c_worn.id, stage="final", sample_size=5, frequency="5 per shift",
                 instrument_id=worn.id),
        PlanItem(characteristic_id=new["FIT_PLANNER"].id, stage="final", sample_size=1, frequency="every part",
                 instrument_id=worn.id),
        PlanItem(characteristic_id=new["BORE_TIGHT"].id, stage="final", sample_size=1, frequency="every part",
                 instrument_id=worn.id))))

    good_inst = next((i for i in store.list_instruments(admin, enterprise_id=ent.id) if i.id != worn.id
                      and i.quantity == "length"), worn)
    studies = [
        planner.record_gage_study(store, admin, c_worn.id, worn.id, "grr",
                                  {"readings": _grr_readings(rng, c_worn.nominal or 0.0, t_worn, 45.0)}),
        planner.record_gage_study(store, admin, c_good.id, good_inst.id, "grr",
                                  {"readings": _grr_readings(rng, c_good.nominal or 0.0, t_good, 12.0)}),
        planner.record_gage_study(store, admin, c_good.id, good_inst.id, "vda5",
                                  {"u_cal": t_good * 0.004, "u_evr": t_good * 0.015, "resolution": good_inst.resolution
                                   or t_good * 0.01, "u_av": t_good * 0.01}),
        planner.record_gage_study(store, admin, new["FIT_PLANNER"].id, worn.id, "vda5",
                                  {"u_cal": worn.uncertainty, "u_evr": worn.uncertainty, "resolution": 0.01}),
    ]
    return {"enterprise": ent_code, "product": prod.part_number, "instrument": worn.code,
            "characteristics": [c_worn.key, c_good.key, "FIT_PLANNER", "BORE_TIGHT"], "studies": len(studies)}
