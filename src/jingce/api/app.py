"""The FastAPI application: ``jingce.api.create_app(settings=None)``."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

from jingce import __version__
from jingce.api import errors
from jingce.api.errors import PayloadTooLargeError, error_response
from jingce.api.routes import (
    analyses,
    auth,
    certificates,
    market,
    measurements,
    metrology,
    notifications,
    planner,
    quality,
    registry,
    supervision,
    traceability,
    views,
)
from jingce.api.security import LoginLimiter, secret_key
from jingce.settings import Settings
from jingce.store import Store

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest accepted request body (32 MiB: about 200,000 measurements as JSON); larger gets 413."""


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from ``JINGCE_*`` variables)."""
    settings = settings or Settings.from_env()
    key = secret_key(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if store is None:
            app.state.store.close()

    app = FastAPI(title="精测 jingce API", version=__version__, openapi_url="/api/v1/openapi.json",
                  docs_url="/api/v1/docs", redoc_url=None, lifespan=lifespan,
                  description="Open industrial measurement system / 开放的工业测量体系")
    app.state.settings = settings
    app.state.secret = key
    app.state.store = store or Store.open(settings)
    app.state.login_limiter = LoginLimiter()
    errors.install(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return error_response(PayloadTooLargeError(f"the body may be at most {MAX_BODY_BYTES} bytes",
                                                       field="content-length"))
        return await call_next(request)

    for module in (auth, registry, measurements, metrology, certificates, analyses, views, supervision, market,
                   planner, traceability, quality, notifications):
        app.include_router(module.router, prefix="/api/v1")
    return app
