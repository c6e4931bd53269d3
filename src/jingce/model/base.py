"""The base of all entities: immutable pydantic models whose errors name the field."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from jingce.errors import InvalidInputError


class Entity(BaseModel):
    """Immutable entity; a broken invariant raises :class:`InvalidInputError` with ``field`` set."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, use_enum_values=False)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _as_invalid_input(exc, type(self).__name__) from None
        except Invariant as exc:
            raise InvalidInputError(
                f"{type(self).__name__}: {exc.message}", field=exc.field, model=type(self).__name__
            ) from None


class Invariant(Exception):  # noqa: N818 - not an error users see; converted in Entity.__init__
    """Raised by model validators for a broken invariant across fields; names the field.

    Pydantic would wrap a ``ValueError`` and lose the field name, so validators raise this instead
    and :class:`Entity` turns it into :class:`InvalidInputError` with ``field`` set.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _as_invalid_input(exc: ValidationError, model: str) -> InvalidInputError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or model
    msg = first["msg"].removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more error(s))" if more else ""
    return InvalidInputError(f"{model}: {msg}{suffix}", field=field, model=model)


def _aware_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be timezone-aware (a UTC offset or zone is required)")
    return value.astimezone(dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_aware_utc)]
"""A timezone-aware datetime, normalised to UTC; naive datetimes are refused."""


def _zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r} (expected e.g. 'Asia/Shanghai')") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_zone)]
"""An IANA time-zone name such as ``Asia/Harbin`` or ``Asia/Shanghai``."""
