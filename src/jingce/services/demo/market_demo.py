"""The measurement service market in the demo region (issue 9 item 8: open service requests).

In the first enterprise (by code) with a two-sided length characteristic in mm and parts:

* a measurement need on three of its parts, ordered from the best-ranked lab, accepted and
  delivered: the values land on the real demo parts, naming the lab's gauge-block standard;
* an open measurement need under guarded acceptance (the ranking states the false-accept risk);
* an open calibration need for one of its CMMs (U <= 0.8 µm over 0-500 mm);
* an open need that no lab can serve (U <= 5 nm: even the national institute's CMC is larger;
  the suspended and the applied labs, and labs without a length scope, say so);
* a need ordered from the same lab and waiting for it to accept.

The enterprise and the lab of the demo's sign-in accounts (AE-OEM01, LAB01) are preferred.

In the next enterprise with a working instrument of another quantity, an open calibration need
that the labs with that quantity can serve. Deterministic; a second call changes nothing.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from jingce.model import InstrumentKind
from jingce.services import market
from jingce.store import Actor, Store

SEED = 20261207
MEASURED_AT = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
PREFERRED_ENTERPRISE = "AE-OEM01"  # the demo's enterprise sign-in (services.demo.accounts)
PREFERRED_LAB = "LAB01"  # the demo's lab sign-in


def _enterprise_actor(store: Store, code: str) -> Actor:
    return store.actor(code.lower())  # the demo's enterprise admin of that tenant (see demo.build)


def _lab_actor(store: Store, lab_code: str) -> Actor:
    return store.actor(lab_code.lower())


def _pick_length(store: Store, admin: Actor, builder):
    for ent in sorted(builder.products, key=lambda e: (e != PREFERRED_ENTERPRISE, e)):
        for prod in builder.products[ent]:
            if len(prod.serials) < 3:
                continue
            chars = [c for c in store.list_characteristics(admin, product_id=prod.id)
                     if c.unit == "mm" and c.lower_limit is not None and c.upper_limit is not None
                     and 0 <= c.lower_limit and c.upper_limit <= 900]
            if chars:
                return ent, prod, sorted(chars, key=lambda c: c.key)
    return None


def extend(store: Store, admin: Actor, builder) -> dict:
    """Add the market's needs and one delivered order to the demo region built by ``builder``."""
    if store.list_service_requests(admin):
        return {"created": False}
    picked = _pick_length(store, admin, builder)
    if picked is None:
        return {"created": False}
    ent, prod, chars = picked
    who = _enterprise_actor(store, ent)
    now = dt.datetime.now(dt.UTC)
    deadline = now + dt.timedelta(days=30)
    serials = sorted(prod.serials)[:3]
    ch = chars[0]
    rng = np.random.default_rng(SEED)

    # 1. measured and delivered on real parts
    delivered_req = market.post_request(store, who, {
        "kind": "measurement", "characteristic_id": ch.id, "serials": serials, "decision_rule": "simple",
        "deadline": deadline, "location": "哈尔滨 Harbin",
        "title": f"{prod.part_number} {ch.key} 第三方复测 / third-party re-measurement"})
    ranking = market.rank_labs(store, who, delivered_req.id)
    lab = next((r for r in ranking.ranked if r.code == PREFERRED_LAB), ranking.ranked[0])
    order = market.place_order(store, who, delivered_req.id, lab.lab_id)
    lab_who = _lab_actor(store, lab.code)
    market.accept_order(store, lab_who, order.id)
    mid = (ch.lower_limit + ch.upper_limit) / 2
    spread = (ch.upper_limit - ch.lower_limit) / 10
    values = [{"serial": s, "value": round(float(mid + v), 6)} for s, v in zip(serials, rng.normal(0, spread, 3),
                                                                                  strict=True)]
    standard = builder.standards[(lab.code, "length")]
    measured_at = min(MEASURED_AT, now - dt.timedelta(hours=1))
    delivered = market.deliver(store, lab_who, order.id, {
        "certificate_no": f"{lab.code}-M-{order.id:05d}", "instrument_id": standard.id, "values": values,
        "measured_at": measured_at})

    # 2. open, guarded acceptance
    guarded = market.post_request(store, who, {
        "kind": "measurement", "characteristic_id": chars[-1].id, "serials": sorted(prod.serials)[3:8] or serials,
        "decision_rule": "guarded_acceptance", "deadline": deadline + dt.timedelta(days=14),
        "title": f"{prod.part_number} {chars[-1].key} 抽检 / sample inspection"})

    # 3. open calibration of a CMM
    cmm = next((i for i in builder.instruments.get((ent, "cmm"), ())), None)
    cmm_req = None
    if cmm is not None:
        cmm_req = market.post_request(store, who, {
            "kind": "calibration", "instrument_id": cmm.id, "range_min": 0, "range_max": 500,
            "required_uncertainty": 0.0008, "deadline": deadline + dt.timedelta(days=7),
            "title": f"{cmm.code} 年度校准 / annual calibration"})

    # 4. no lab can serve: 5 nm
    impossible = market.post_request(store, who, {
        "kind": "measurement", "characteristic_id": ch.id, "serials": serials[:1], "required_uncertainty": 0.000005,
        "deadline": deadline, "title": f"{prod.part_number} {ch.key} 纳米级测量 / nanometre measurement"})

    # 5. ordered from the lab, waiting for it to accept
    waiting = market.post_request(store, who, {
        "kind": "measurement", "characteristic_id": ch.id, "serials": sorted(prod.serials)[8:10] or serials[:2],
        "decision_rule": "simple", "deadline": deadline + dt.timedelta(days=3),
        "title": f"{prod.part_number} {ch.key} 复检 / re-inspection"})
    waiting_order = market.place_order(store, who, waiting.id, lab.lab_id)

    # 6. another enterprise, another quantity
    other = None
    for (e, _kind), insts in sorted(builder.instruments.items()):
        if e == ent or not insts or insts[0].kind is not InstrumentKind.WORKING or insts[0].quantity == "length":
            continue
        q = insts[0].quantity
        cmcs = [s.cmc_at(100.0) for lab_ in store.list_labs(admin) if lab_.qualification.value == "qualified"
                for s in lab_.scope if s.quantity == q and s.unit == insts[0].unit]
        if not cmcs:
            continue
        other = market.post_request(store, _enterprise_actor(store, e), {
            "kind": "calibration", "instrument_id": insts[0].id, "range_min": 0, "range_max": 100,
            "required_uncertainty": round(1.5 * max(cmcs), 9), "deadline": deadline + dt.timedelta(days=21),
            "title": f"{insts[0].code} 校准 / calibration"})
        break
    return {"created": True, "enterprise": ent, "delivered_request_id": delivered_req.id,
            "delivered_order_id": delivered.id, "waiting_order_id": waiting_order.id, "lab": lab.code,
            "serials": serials,
            "open_request_ids": [r.id for r in (guarded, cmm_req, impossible, other) if r is not None],
            "unservable_request_id": impossible.id}
