"""Traceability and out-of-tolerance impact: X's micrometer found out of tolerance by the NMI;
its impact report concerns X alone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from jingce.model import Calibration
from jingce.services.impact import impact_report
from jingce.store import tables as t

ALLOWED = {"POST /api/v1/calibrations/{calibration_id}/impact": {422}}
"""The lab that issued X's (in-tolerance) calibration may ask for its impact: refused as having none."""

UNSCOPED = {"GET /api/v1/impact-reports", "GET /api/v1/calibration/plan"}


def setup(w) -> dict:
    st, a = w.store, w.admin
    oot = st.add_calibration(a, Calibration(
        instrument_id=w.gauge_x.id, lab_id=w.nmi.id, certificate_no="X-OOT",
        calibrated_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), valid_until=dt.datetime(2027, 6, 1, tzinfo=dt.UTC),
        result="out_of_tolerance", error_as_found=0.05, expanded_uncertainty=0.001, standard_ids=(w.national.id,)))
    rep = impact_report(st, a, None, oot.id)
    return {"report_id": rep.id}


def state(w) -> tuple:
    with w.store._read() as conn:
        return (tuple(conn.execute(select(t.impact_report.c.id).order_by(t.impact_report.c.id)).scalars()),
                conn.execute(select(func.count()).select_from(t.calibration)).scalar())
