"""Notifications: X's tenant is told something; nobody else may read or mark it."""

from __future__ import annotations

from sqlalchemy import select

from jingce.store import tables as t

UNSCOPED = {"GET /api/v1/notifications"}


def setup(w) -> dict:
    w.store.notify([w.tenants["X"].id], "impact", "calibration:x", "X-MIC impact / X-MIC 影响")
    with w.store._read() as conn:
        nid = conn.execute(select(t.notification.c.id).where(t.notification.c.tenant_id == w.tenants["X"].id)).scalar()
    return {"notification_id": nid}


def state(w) -> tuple:
    with w.store._read() as conn:
        return tuple(conn.execute(select(t.notification.c.id, t.notification.c.read_at).order_by(t.notification.c.id)))
