"""Lab supervision: a proficiency round in which NMI (tenant N) took part, and an audit finding on
NMI. Other tenants may neither read NMI's history, results or findings nor act as NMI; only the
regulator decides, publishes, closes and reviews (403 for everybody else)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jingce.model.supervision import AuditFinding, PtRound
from jingce.store import tables as t

UNSCOPED = {"POST /api/v1/supervision/applications", "GET /api/v1/supervision/labs",
            "GET /api/v1/supervision/indicators", "POST /api/v1/supervision/rounds",
            "GET /api/v1/supervision/rounds", "GET /api/v1/supervision/findings"}

PUBLIC = {"GET /api/v1/supervision/rounds/{round_id}"}
"""A round is the regulator's, not a tenant's: every lab user sees an open one (without its assigned
value, and only its own results), everybody a closed one (its summary); the leak check still runs."""


def setup(w) -> dict:
    now = dt.datetime.now(dt.UTC)
    st = w.store
    rnd = st.add_round(w.reg, PtRound(code="PT-TENANCY", title="t", quantity="length", unit="mm", artefact="block",
                                      assigned_value=10.0, assigned_uncertainty=0.001, opened_at=now,
                                      deadline=now + dt.timedelta(days=10)))
    st.submit_result(w.admin, rnd.id, w.nmi.id, 10.0004, 0.0002)
    f = st.raise_finding(w.reg, AuditFinding(lab_id=w.nmi.id, raised_at=now, severity="minor",
                                             description="NMI finding"))
    return {"round_id": rnd.id, "finding_id": f.id}


def state(w) -> tuple:
    with w.store._read() as conn:
        return (tuple(conn.execute(select(t.lab.c.id, t.lab.c.qualification, t.lab.c.code).order_by(t.lab.c.id))),
                tuple(conn.execute(select(t.lab_event.c.id).order_by(t.lab_event.c.id))),
                tuple(conn.execute(select(t.pt_round.c.id, t.pt_round.c.status).order_by(t.pt_round.c.id))),
                tuple(conn.execute(select(t.pt_result.c.id, t.pt_result.c.value, t.pt_result.c.score)
                                   .order_by(t.pt_result.c.id))),
                tuple(conn.execute(select(t.audit_finding.c.id, t.audit_finding.c.status, t.audit_finding.c.closure)
                                   .order_by(t.audit_finding.c.id))))
