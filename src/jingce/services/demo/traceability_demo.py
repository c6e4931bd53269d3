"""The demo's traceability story: a service lab's gauge block set (a reference standard) found
out of tolerance at its latest calibration by the provincial institute.

The standard chosen is the length reference standard of a service lab that calibrated the most
working instruments during its suspect period (from its previous calibration to the new one),
so the impact reaches instruments of several enterprises, the values they measured, the
suppliers' parts and the customers' assemblies built from them. The gauge blocks are found
3 um out (a worn block): with coordinate measuring machines of u = 1.25 um, values accepted
near their limits become doubtful. The impact report is then run by the institute that found
it, which notifies every tenant concerned.
"""

from __future__ import annotations

import datetime as dt

from jingce.model import Calibration, Role
from jingce.services.impact import impact_report
from jingce.store import Actor, Store

FOUND_AT = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)
ERROR_AS_FOUND = 0.003  # mm
QUANTITY = "length"


def choose_standard(store: Store, admin: Actor, builder) -> tuple:
    """(standard, previous calibration) of the service lab's length standard whose suspect window
    [its latest calibration, FOUND_AT) holds the most calibrations of working instruments."""
    best = None
    for (lab_code, quantity), std in sorted(builder.standards.items()):
        if quantity != QUANTITY or not lab_code.startswith("LAB"):
            continue
        cals = [c for c in store.calibrations(admin, std.id) if c.calibrated_at < FOUND_AT]
        if not cals:
            continue
        start = cals[-1].calibrated_at
        n = sum(1 for _cid, _inst, _std, tc in store.calibrations_against(admin, [std.id]) if start <= tc < FOUND_AT)
        if best is None or n > best[0]:
            best = (n, std, cals[-1])
    if best is None:
        raise LookupError("the demo region has no service lab with a length standard")
    return best[1], best[2]


def extend(store: Store, admin: Actor, builder) -> dict:
    """Record the out-of-tolerance finding and run its impact report (idempotent: a region that
    has the finding already is left as it is). Returns what it did."""
    std, last = choose_standard(store, admin, builder)
    upstream = store.get_lab(admin, last.lab_id)
    certificate = f"{upstream.code}-{FOUND_AT:%Y%m%d}-{std.id:05d}-OOT"
    existing = [c for c in store.calibrations(admin, std.id) if c.certificate_no == certificate]
    if existing:
        reports = store.impact_reports(admin, calibration_id=existing[0].id)
        return {"standard": std.code, "calibration_id": existing[0].id,
                "report_id": reports[0][0] if reports else None, "created": False}
    oot = store.add_calibration(admin, Calibration(
        instrument_id=std.id, lab_id=upstream.id, certificate_no=certificate, calibrated_at=FOUND_AT,
        valid_until=FOUND_AT + dt.timedelta(days=365), result="out_of_tolerance", error_as_found=ERROR_AS_FOUND,
        error_as_left=0.00002, expanded_uncertainty=last.expanded_uncertainty, coverage_factor=last.coverage_factor,
        unit=std.unit, standard_ids=last.standard_ids))
    assessor = _lab_user(store, admin, upstream.tenant_id)
    rep = impact_report(store, assessor, None, oot.id)
    return {"standard": std.code, "calibration_id": oot.id, "report_id": rep.id, "created": True,
            "totals": rep.summary["totals"]}


def _lab_user(store: Store, admin: Actor, tenant_id: int) -> Actor:
    """The issuing institute's own user (the report is its to run), else the admin."""
    for u in store.list_users(admin):
        if u.tenant_id == tenant_id and u.role is Role.LAB:
            return store.actor(u.username)
    return admin
