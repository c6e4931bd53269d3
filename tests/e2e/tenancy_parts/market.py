"""The service market: X posts a need and orders it from a lab of its own choosing (not the test
world's "lab" user); nobody else may read, rank, order, accept or deliver it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jingce.model import Lab, ScopeEntry, Tenant
from jingce.services import market
from jingce.store import tables as t

UNSCOPED = {"GET /api/v1/market/requests", "GET /api/v1/market/orders", "GET /api/v1/market/overview"}


def setup(w) -> dict:
    st, a = w.store, w.admin
    tenant = st.add_tenant(a, Tenant(code="txl", name="X's lab", kind="lab"))
    st.add_lab(a, Lab(tenant_id=tenant.id, code="XLAB", name="X lab", qualification="qualified", scope=(
        ScopeEntry(quantity="length", range_min=0, range_max=100, cmc_absolute=0.001),)))
    xlab = st.get_lab(a, code="XLAB")
    req = market.post_request(st, w.x, {"kind": "measurement", "characteristic_id": w.char_x, "serials": ["X1", "X2"],
                                        "decision_rule": "simple",
                                        "deadline": dt.datetime.now(dt.UTC) + dt.timedelta(days=9)})
    order = market.place_order(st, w.x, req.id, xlab.id)
    return {"request_id": req.id, "order_id": order.id}


def state(w) -> tuple:
    with w.store._read() as conn:
        return (tuple(conn.execute(select(t.service_request.c.id, t.service_request.c.status)
                                   .order_by(t.service_request.c.id))),
                tuple(conn.execute(select(t.service_order.c.id, t.service_order.c.status, t.service_order.c.batch_id,
                                          t.service_order.c.calibration_id).order_by(t.service_order.c.id))))
