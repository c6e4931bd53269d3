"""Notifications to tenants: an out-of-tolerance impact, an order, a qualification decision.

A notification is about something (``kind`` and ``ref``, e.g. ``impact`` / ``calibration:17``);
telling a tenant the same thing twice keeps one, so a report run again notifies nobody twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from jingce.errors import InvalidInputError, NotFoundError
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.tenancy import Actor

KINDS = ("impact", "order", "qualification", "proficiency", "finding", "request")


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    tenant_id: int
    created_at: dt.datetime
    kind: str
    ref: str
    subject: str
    body: dict
    read_at: dt.datetime | None


class NotificationsMixin(StoreBase):
    """Notify tenants; each tenant reads and marks its own."""

    def notify(self, tenant_ids, kind: str, ref: str, subject: str, body: dict | None = None, *,
               conn: Connection | None = None) -> int:
        """Tell each of ``tenant_ids`` about ``ref``; returns how many were told for the first time.

        Called by services after the decision they report is stored (pass ``conn`` to notify in
        the same transaction). ``subject`` should carry both languages ("中文 / English").
        """
        if kind not in KINDS:
            raise InvalidInputError(f"must be one of {', '.join(KINDS)}", field="kind")
        ids = sorted({int(i) for i in tenant_ids})
        if conn is None:
            with self._write() as own:
                return self._notify(own, ids, kind, ref, subject, body or {})
        return self._notify(conn, ids, kind, ref, subject, body or {})

    @staticmethod
    def _notify(conn: Connection, ids: list[int], kind: str, ref: str, subject: str, body: dict) -> int:
        if not ids:
            return 0
        known = set(conn.execute(select(t.notification.c.tenant_id).where(
            t.notification.c.tenant_id.in_(ids), t.notification.c.kind == kind, t.notification.c.ref == ref)).scalars())
        fresh = [i for i in ids if i not in known]
        now = dt.datetime.now(dt.UTC)
        if fresh:
            conn.execute(t.notification.insert(), [
                {"tenant_id": i, "created_at": now, "kind": kind, "ref": ref, "subject": subject[:512], "body": body}
                for i in fresh])
        return len(fresh)

    def notifications(self, actor: Actor, *, unread_only: bool = False, kind: str | None = None,
                      limit: int = 200) -> list[Notification]:
        """The actor's tenant's notifications, newest first."""
        q = (select(t.notification).where(t.notification.c.tenant_id == actor.tenant_id)
             .order_by(t.notification.c.created_at.desc(), t.notification.c.id.desc()).limit(limit))
        if unread_only:
            q = q.where(t.notification.c.read_at.is_(None))
        if kind is not None:
            q = q.where(t.notification.c.kind == kind)
        with self._read() as conn:
            return [_notification(r) for r in conn.execute(q)]

    def mark_read(self, actor: Actor, notification_id: int) -> Notification:
        """Mark one of the actor's tenant's notifications read (another tenant's: not found)."""
        with self._write() as conn:
            row = conn.execute(select(t.notification).where(t.notification.c.id == notification_id)).first()
            if row is None or row.tenant_id != actor.tenant_id:
                raise NotFoundError(f"notification {notification_id} not found", field="notification_id")
            if row.read_at is None:
                conn.execute(update(t.notification).where(t.notification.c.id == notification_id)
                             .values(read_at=dt.datetime.now(dt.UTC)))
                row = conn.execute(select(t.notification).where(t.notification.c.id == notification_id)).first()
        return _notification(row)


def _notification(r) -> Notification:
    return Notification(r.id, r.tenant_id, r.created_at, r.kind, r.ref, r.subject, r.body, r.read_at)
