"""The whole service: the REST API plus the pages and their static files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from jingce.api import create_app
from jingce.api.errors import status_of
from jingce.errors import JingceError
from jingce.settings import Settings
from jingce.store import Store
from jingce.web import (
    pages,
    pages_calibration,
    pages_market,
    pages_notifications,
    pages_planner,
    pages_quality,
    pages_supervision,
)
from jingce.web.session import LoginRequired, message

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
"""The pages load nothing from elsewhere and run no inline script (ECharts sets inline styles)."""


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/static/")


def create_service(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """The API of :func:`jingce.api.create_app` with the web pages at ``/`` and static files at ``/static``.

    API paths keep the API's JSON error shape; page paths answer errors with an HTML page in the
    user's language, and with a redirect to the login form when there is no session.
    """
    app = create_app(settings, store=store)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (pages, pages_calibration, pages_supervision, pages_market, pages_planner, pages_quality,
                   pages_notifications):
        app.include_router(module.router)

    api_jingce = app.exception_handlers[JingceError]
    api_http = app.exception_handlers[StarletteHTTPException]
    api_validation = app.exception_handlers[RequestValidationError]

    async def on_jingce(request: Request, exc: JingceError):
        if _is_api(request):
            return await api_jingce(request, exc)
        return pages.error_page(request, status_of(exc), message(exc, pages.lang_of(request)))

    async def on_http(request: Request, exc: StarletteHTTPException):
        if _is_api(request):
            return await api_http(request, exc)
        return pages.error_page(request, exc.status_code)

    async def on_validation(request: Request, exc: RequestValidationError):
        if _is_api(request):
            return await api_validation(request, exc)
        return pages.error_page(request, 422)

    async def on_login_required(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.middleware("http")
    async def page_headers(request: Request, call_next):
        response = await call_next(request)
        if not request.url.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if response.headers.get("content-type", "").startswith("text/html"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_exception_handler(JingceError, on_jingce)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(LoginRequired, on_login_required)
    return app
