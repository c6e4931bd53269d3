"""A tenant's notifications (out-of-tolerance impact, orders, qualification decisions, ...)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import Id
from jingce.store import Actor, Notification, Store

router = APIRouter(tags=["notifications"])


class NotificationPublic(BaseModel):
    id: int
    created_at: dt.datetime
    kind: str
    ref: str
    subject: str
    body: dict
    read_at: dt.datetime | None


def _public(n: Notification) -> NotificationPublic:
    return NotificationPublic(id=n.id, created_at=n.created_at, kind=n.kind, ref=n.ref, subject=n.subject,
                              body=n.body, read_at=n.read_at)


@router.get("/notifications", response_model=list[NotificationPublic])
def list_notifications(unread: bool = False, kind: str | None = Query(None, max_length=32),
                       limit: int = Query(200, ge=1, le=1000), actor: Actor = Depends(get_actor),
                       store: Store = Depends(get_store)):
    """The notifications of the caller's tenant, newest first."""
    return [_public(n) for n in store.notifications(actor, unread_only=unread, kind=kind, limit=limit)]


@router.post("/notifications/{notification_id}/read", response_model=NotificationPublic)
def read_notification(notification_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Mark one of the caller's tenant's notifications read."""
    return _public(store.mark_read(actor, notification_id))
