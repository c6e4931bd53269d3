"""The pages: server-rendered templates; charts and dashboards fetch the API's JSON views.

Every page checks the session and the role server side (:data:`jingce.web.session.PAGE_ROLES`)
and reads through the store's tenancy, so another tenant's id gives the same 404 as an unknown
one. Tables that the store can give directly (labs, calibration history, lineage) are rendered
here; charts are drawn in the browser with Apache ECharts from the API's JSON.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from jingce.api.errors import TooManyRequestsError
from jingce.api.routes.auth import SESSION_TTL
from jingce.api.security import SESSION_COOKIE, issue_token, verify_password
from jingce.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.store import Actor, Store
from jingce.web import i18n
from jingce.web.session import (
    LOGIN_NONCE_COOKIE,
    check_csrf,
    home_for,
    login_csrf,
    login_nonce,
    nav_for,
    page_actor,
    require,
    safe_next,
    session_csrf,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


def lang_of(request: Request) -> str:
    return i18n.resolve(request.query_params.get("lang"), request.cookies.get(i18n.LANG_COOKIE))


def _lang_url(request: Request, lang: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, name: str, *, actor: Actor | None = None, status_code: int = 200,
           active: str = "", js_text: tuple[str, ...] = (), **context) -> HTMLResponse:
    """Render a page in the request's language (remembering an explicit ``?lang=``)."""
    lang = lang_of(request)
    other = "en" if lang == "zh" else "zh"
    response = templates.TemplateResponse(request, name, status_code=status_code, context={
        "t": i18n.translator(lang), "lang": lang, "other_lang_url": _lang_url(request, other), "actor": actor,
        "nav": nav_for(actor) if actor else [], "active": active,
        "csrf": session_csrf(request) if actor else "",
        "js_text": i18n.bundle(lang, ("common.", "status.", "link.", "kind.", "result.") + js_text), **context})
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def _fmt_time(x: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return x.astimezone(dt.UTC).strftime(fmt) if x else "—"


templates.env.filters["utc"] = _fmt_time
templates.env.filters["date"] = lambda x: _fmt_time(x, "%Y-%m-%d")


def _num(x: float | None, digits: int = 6) -> str:
    """A measured number without trailing zeros (``—`` when absent)."""
    if x is None or x != x:
        return "—"
    return f"{x:.{digits}g}"


templates.env.filters["num"] = _num


def _store(request: Request) -> Store:
    return request.app.state.store


# -- start, login, logout ---------------------------------------------------------------------


@router.get("/")
def index(request: Request) -> Response:
    actor = page_actor(request)
    return RedirectResponse(home_for(actor), status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = Query(None, max_length=500)) -> Response:
    return _login_page(request, next_url=safe_next(next))


def _login_page(request: Request, *, next_url: str | None, error: str | None = None, username: str = "",
                status_code: int = 200) -> Response:
    nonce = login_nonce(request)
    response = render(request, "login.html", status_code=status_code, error=error, username=username,
                      next_url=next_url or "", login_csrf=login_csrf(request, nonce))
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, max_age=3600, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/login")
    return response


@router.post("/login")
def login_submit(request: Request, username: str = Form("", max_length=64), password: str = Form("", max_length=256),
                 csrf: str = Form("", max_length=128), next: str = Form("", max_length=500)) -> Response:
    """The login form: CSRF-checked, rate-limited like the API's login, sets the session cookie."""
    t = i18n.translator(lang_of(request))
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    try:
        check_csrf(login_csrf(request, nonce) if nonce else "", csrf)
    except PermissionDeniedError:
        return _login_page(request, next_url=safe_next(next), error=t("login.csrf"), username=username,
                           status_code=403)
    store = _store(request)
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "-"
    try:
        limiter.check(username, client)
    except TooManyRequestsError:
        return _login_page(request, next_url=safe_next(next), error=t("login.too_many"), username=username,
                           status_code=429)
    try:
        actor = store.actor(username)
        ok = verify_password(store.password_hash(username), password)
    except NotFoundError:
        actor, ok = None, verify_password(None, password or "-")
    if not ok or actor is None:
        limiter.failed(username, client)
        return _login_page(request, next_url=safe_next(next), error=t("login.failed"), username=username,
                           status_code=401)
    limiter.succeeded(username)
    token = issue_token(request.app.state.secret, actor.user_id, actor.username, SESSION_TTL)
    response = RedirectResponse(safe_next(next) or home_for(actor), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_TTL, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("", max_length=128)) -> Response:
    page_actor(request)
    check_csrf(session_csrf(request), csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- enterprise dashboard ---------------------------------------------------------------------


@router.get("/dashboard")
def dashboard(request: Request, enterprise_id: int | None = Query(None, ge=1)) -> Response:
    actor = require(request, "dashboard")
    store = _store(request)
    own = [e for e in store.list_enterprises(actor) if actor.is_admin or e.tenant_id == actor.tenant_id]
    if enterprise_id is not None:
        ent = store.get_enterprise(actor, enterprise_id)
        if not actor.is_admin and ent.tenant_id != actor.tenant_id:
            raise NotFoundError(f"enterprise {enterprise_id} not found", field="enterprise_id")
    elif own:
        ent = own[0]
    else:
        raise NotFoundError("no enterprise belongs to this account", field="enterprise_id")
    return render(request, "dashboard.html", actor=actor, active="dashboard", enterprise=ent, enterprises=own,
                  js_text=("dash.", "inst."))


# -- control chart ----------------------------------------------------------------------------


@router.get("/characteristics/{characteristic_id}")
def chart_page(request: Request, characteristic_id: int) -> Response:
    actor = require(request, "chart")
    store = _store(request)
    ch = store.get_characteristic(actor, characteristic_id)
    product = store.get_product(actor, ch.product_id)
    ent = store.get_enterprise(actor, product.enterprise_id)
    own = actor.is_admin or ent.tenant_id == actor.tenant_id  # a supplier's shared data has no dashboard here
    return render(request, "chart.html", actor=actor, active="dashboard", ch=ch, product=product, enterprise=ent,
                  own_enterprise=own, js_text=("chart.", "rule."))


# -- part lineage -----------------------------------------------------------------------------


@router.get("/parts")
def parts_search(request: Request, serial: str | None = Query(None, max_length=128),
                 part_number: str | None = Query(None, max_length=64)) -> Response:
    actor = require(request, "parts")
    if serial:
        q = f"?{urlencode({'part_number': part_number})}" if part_number else ""
        return RedirectResponse(f"/parts/{quote(serial, safe='')}{q}", status_code=303)
    return render(request, "parts.html", actor=actor, active="parts", serial="", part_number="", error=None)


@router.get("/parts/{serial:path}")
def lineage_page(request: Request, serial: str, part_number: str | None = Query(None, max_length=64)) -> Response:
    actor = require(request, "parts")
    store = _store(request)
    t = i18n.translator(lang_of(request))
    try:
        lin = store.lineage(actor, serial, part_number=part_number or None)
    except InvalidInputError:
        return render(request, "parts.html", actor=actor, active="parts", serial=serial,
                      part_number=part_number or "", error=t("parts.ambiguous"), status_code=422)
    m = lin.measurements
    cols = ("part_id", "characteristic_id", "characteristic", "value", "nominal", "lower_limit", "upper_limit", "unit",
            "stage", "measured_at", "status")
    per_part: dict[int, list[dict]] = defaultdict(list)
    for row in m.select(list(cols)).to_pylist():
        lo, hi, v = row["lower_limit"], row["upper_limit"], row["value"]
        row["conforms"] = not ((lo is not None and v < lo) or (hi is not None and v > hi))
        per_part[row["part_id"]].append(row)
    children: dict[int | None, list] = defaultdict(list)
    for n in lin.nodes:
        children[n.parent_part_id].append(n)
    ordered = []

    def walk(node) -> None:  # depth-first, so the tree reads top-down
        ordered.append(node)
        for k in children.get(node.part_id, []):
            walk(k)

    walk(lin.root)
    summary = {n.part_id: (len(per_part[n.part_id]), sum(not r["conforms"] for r in per_part[n.part_id]))
               for n in lin.nodes}
    return render(request, "lineage.html", actor=actor, active="parts", lin=lin, nodes=ordered, per_part=per_part,
                  summary=summary, serial=serial, part_number=part_number or "")


# -- regulator --------------------------------------------------------------------------------


@router.get("/region")
def region_page(request: Request) -> Response:
    actor = require(request, "region")
    chains = sorted({e.industry_chain for e in _store(request).list_enterprises(actor) if e.industry_chain})
    return render(request, "region.html", actor=actor, active="region", chains=chains, js_text=("region.", "quality."))


@router.get("/region/enterprises/{enterprise_id}")
def region_enterprise_page(request: Request, enterprise_id: int, start: dt.date | None = None,
                           end: dt.date | None = None) -> Response:
    """One enterprise's indicators; ``start``/``end`` (end exclusive) as chosen on the region page."""
    actor = require(request, "region")
    ent = _store(request).get_enterprise(actor, enterprise_id)
    last_day = end - dt.timedelta(days=1) if end else None
    return render(request, "region_enterprise.html", actor=actor, active="region", enterprise=ent, start=start,
                  last_day=last_day, js_text=("region.", "dash.", "quality."))


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    """An HTML error page (404, 403, 4xx) in the request's language."""
    key = {404: "error.404", 403: "error.403"}.get(status, "error.400")
    try:
        actor = page_actor(request)
    except Exception:  # noqa: BLE001 - an error page must render even when the session is bad
        actor = None
    return render(request, "error.html", actor=actor, status_code=status, status=status, key=key, detail=detail)


__all__ = ["router", "error_page"]
