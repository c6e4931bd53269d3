"""A tenant's notifications (out-of-tolerance impact, orders, qualification decisions, ...)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from jingce.web import i18n
from jingce.web.pages import _store, render
from jingce.web.session import check_csrf, require, session_csrf

router = APIRouter(include_in_schema=False)

i18n.register({
    "notif.title": ("通知", "Notifications"),
    "notif.intro": ("与本单位有关的超差影响、订单、资质与能力验证消息", "Out-of-tolerance impact, orders, qualification and proficiency news for your organisation"),
    "notif.kind": ("类别", "Kind"),
    "notif.subject": ("内容", "Subject"),
    "notif.when": ("时间", "When"),
    "notif.mark_read": ("标为已读", "Mark read"),
    "notif.read": ("已读", "read"),
    "notif.kind.impact": ("超差影响", "out-of-tolerance impact"),
    "notif.kind.order": ("服务订单", "service order"),
    "notif.kind.qualification": ("资质", "qualification"),
    "notif.kind.proficiency": ("能力验证", "proficiency testing"),
    "notif.kind.finding": ("审核发现", "audit finding"),
    "notif.kind.request": ("服务需求", "service request"),
})


@router.get("/notifications")
def notifications_page(request: Request) -> Response:
    actor = require(request, "notifications")
    items = _store(request).notifications(actor)
    return render(request, "notifications.html", actor=actor, active="notifications", items=items)


@router.post("/notifications/{notification_id}/read")
def notification_read(request: Request, notification_id: int, csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "notifications")
    check_csrf(session_csrf(request), csrf)
    _store(request).mark_read(actor, notification_id)
    return RedirectResponse("/notifications", status_code=303)
