"""One table maps jingce errors to HTTP statuses, with one JSON error shape (habit 5 of DESIGN.md).

Every error response is ``{"error": {"code", "message", "message_zh", "details"}}``
(:meth:`jingce.errors.JingceError.to_dict`); routers never build HTTP errors themselves.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jingce.errors import (
    AuditError,
    AuthenticationError,
    ConflictError,
    DependencyMissingError,
    FormatError,
    InvalidInputError,
    JingceError,
    NotFoundError,
    PermissionDeniedError,
)

STATUS: tuple[tuple[type[JingceError], int], ...] = (
    (FormatError, 422),
    (InvalidInputError, 422),
    (NotFoundError, 404),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (DependencyMissingError, 501),
    (AuditError, 500),
    (JingceError, 400),
)
"""The first matching class gives the status (subclasses come first)."""


class TooManyRequestsError(JingceError):
    code = "too_many_requests"
    message_zh = "请求过于频繁"


class PayloadTooLargeError(InvalidInputError):
    code = "payload_too_large"
    message_zh = "请求体过大"


STATUS = ((TooManyRequestsError, 429), (PayloadTooLargeError, 413), *STATUS)


def status_of(exc: JingceError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def error_response(exc: JingceError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    return JSONResponse(exc.to_dict(), status_code=status_of(exc), headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers: jingce errors, request validation, and Starlette's HTTP errors."""

    @app.exception_handler(JingceError)
    async def _jingce(request: Request, exc: JingceError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return error_response(InvalidInputError(str(first.get("msg")), field=field or "body",
                                                errors=len(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = {404: NotFoundError, 401: AuthenticationError, 403: PermissionDeniedError, 405: InvalidInputError,
               413: PayloadTooLargeError}.get(exc.status_code, JingceError)
        err = cls(str(exc.detail), field="path" if exc.status_code in (404, 405) else None)
        response = error_response(err)
        response.status_code = exc.status_code
        return response
