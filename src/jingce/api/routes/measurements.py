"""Measurements: batch POST (atomic, idempotent), time-ordered values, control-chart data."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
from typing import Annotated, Required

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from jingce.api.deps import get_actor, get_store
from jingce.api.errors import PayloadTooLargeError
from jingce.api.routes._params import Id, UnitStr, check_unit
from jingce.errors import FormatError, JingceError
from jingce.model.batch import STAGES, TIME
from jingce.store import Actor, Store

router = APIRouter(tags=["measurements"])
MAX_BATCH = 200_000


class MeasurementIn(BaseModel):
    """One value in a batch; the fields of the jingce CSV layout (numbers must be finite)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enterprise: str = Field(min_length=1, max_length=64)
    site: str | None = Field(None, max_length=64)
    part_number: str = Field(min_length=1, max_length=64)
    serial: str | None = Field(None, max_length=128)
    characteristic: str = Field(min_length=1, max_length=128)
    value: float
    unit: UnitStr | None = None
    time: dt.datetime
    zone: str | None = Field(None, max_length=64)
    stage: str | None = Field(None, max_length=16)
    operator: str | None = Field(None, max_length=64)
    machine: str | None = Field(None, max_length=64)
    instrument: str | None = Field(None, max_length=64)
    status: str | None = Field(None, max_length=16)
    nominal: float | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measurements: list[MeasurementIn] = Field(min_length=1, max_length=MAX_BATCH)


def _str(n: int, lo: int = 0):
    return Annotated[str, Field(min_length=lo, max_length=n)]


@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
class _Row(TypedDict, total=False):
    """:class:`MeasurementIn` as a typed dict: validated in Rust without building a model per value
    (the same fields and rules; a test keeps the two equal)."""

    enterprise: Required[_str(64, 1)]
    site: _str(64) | None
    part_number: Required[_str(64, 1)]
    serial: _str(128) | None
    characteristic: Required[_str(128, 1)]
    value: Required[float]
    unit: UnitStr | None
    time: Required[dt.datetime]
    zone: _str(64) | None
    stage: _str(16) | None
    operator: _str(64) | None
    machine: _str(64) | None
    instrument: _str(64) | None
    status: _str(16) | None
    nominal: float | None
    lower_limit: float | None
    upper_limit: float | None


@with_config(ConfigDict(extra="forbid"))
class _Batch(TypedDict):
    measurements: Annotated[list[_Row], Field(min_length=1, max_length=MAX_BATCH)]


_BATCH = TypeAdapter(_Batch)
_INGEST_LOCK = threading.Lock()
_FLOATS = ("value", "nominal", "lower_limit", "upper_limit")
_STRINGS = tuple(k for k in MeasurementIn.model_fields if k not in (*_FLOATS, "time"))
_ROW_SCHEMA = pa.schema([*((k, pa.string()) for k in _STRINGS), *((k, pa.float64()) for k in _FLOATS),
                         ("time", TIME)])


def _batch_schema() -> dict:
    """The request body's JSON schema for the OpenAPI document (the route reads the raw body)."""
    schema = BatchIn.model_json_schema()
    defs = schema.pop("$defs")
    schema["properties"]["measurements"]["items"] = defs["MeasurementIn"]
    return schema


class BatchOut(BaseModel):
    batch: str
    rows: int
    created: bool
    message: str


MAX_BATCH_BYTES = 32 * 1024 * 1024
"""The largest batch body (as the app's limit; checked again here for bodies sent without a length)."""


@router.post("/measurements", response_model=BatchOut, openapi_extra={
    "requestBody": {"required": True, "content": {"application/json": {"schema": _batch_schema()}}}})
async def post_measurements(request: Request, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Ingest a batch of measurements: whole or not at all; the same body twice lands once.
    Parsing and ingest run in a worker thread, so other requests are served meanwhile."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            raise PayloadTooLargeError(f"the body may be at most {MAX_BATCH_BYTES} bytes", field="body")
        chunks.append(chunk)
    return await run_in_threadpool(_ingest, b"".join(chunks), actor, store)


def _ingest(raw: bytes, actor: Actor, store: Store) -> BatchOut:
    table = _fast_table(raw)
    if table is None:
        table = _strict_table(raw)
    digest = hashlib.sha256(raw).hexdigest()
    with _INGEST_LOCK:  # the store serialises writers anyway; this also keeps its audit-anchor file writes apart
        result = store.ingest(actor, table, content_hash=digest, source_format="api", source_name="POST /measurements")
    return BatchOut(batch=result.batch, rows=result.rows, created=result.created, message=result.message())


_ARROW_BATCH = pa.schema([("measurements", pa.list_(pa.struct(
    [*((k, pa.string()) for k in _STRINGS), *((k, pa.float64()) for k in _FLOATS), ("time", pa.string())])))])
_REQUIRED = ("enterprise", "part_number", "characteristic", "value", "time")
_LENGTHS = {"enterprise": (1, 64), "site": (0, 64), "part_number": (1, 64), "serial": (0, 128),
            "characteristic": (1, 128), "zone": (0, 64), "stage": (0, 16), "operator": (0, 64), "machine": (0, 64),
            "instrument": (0, 64), "status": (0, 16)}
_UTC_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"


def _fast_table(raw: bytes) -> pa.Table | None:
    """The batch parsed by Arrow's JSON reader (C++, without the GIL), when it plainly satisfies
    every rule of :class:`MeasurementIn` and all its times carry an offset; otherwise None, and the
    strict parser judges it (and names the field of any error). Both give the same table."""
    if raw.lstrip(b" \t\r\n")[:1] != b"{":
        return None  # pyarrow's JSON reader (26.0) crashes on a document that starts with null
    try:
        raw.decode()  # Arrow's reader lets invalid UTF-8 into strings; the strict parser refuses it
        parsed = pj.read_json(io.BytesIO(raw), read_options=pj.ReadOptions(block_size=len(raw) + 1, use_threads=False),
                              parse_options=pj.ParseOptions(explicit_schema=_ARROW_BATCH,
                                                            unexpected_field_behavior="error"))
        col = parsed.column("measurements")
        if parsed.num_rows != 1 or col.null_count:
            return None
        rows = col.combine_chunks().flatten()
        n = len(rows)
        if not 1 <= n <= MAX_BATCH or rows.null_count:
            return None
        fields = {f.name: rows.field(f.name) for f in rows.type}
        if any(fields[k].null_count for k in _REQUIRED):
            return None
        for k, (lo, hi) in _LENGTHS.items():
            if fields[k].null_count < n:
                mm = pc.min_max(pc.utf8_length(fields[k]))
                if mm["min"].as_py() < lo or mm["max"].as_py() > hi:
                    return None
        for k in _FLOATS:
            if fields[k].null_count < n and not pc.all(pc.is_finite(fields[k])).as_py():
                return None
        for unit in pc.unique(fields["unit"]).to_pylist():
            if unit is not None:
                try:
                    check_unit(unit)
                except JingceError:  # the strict parser names the row and field
                    return None
        if not pc.all(pc.match_substring_regex(fields["time"], _UTC_TIME)).as_py():
            return None
        utc = pc.cast(fields["time"], TIME)
    except (pa.ArrowException, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    return pa.table({**{k: fields[k] for k in (*_STRINGS, *_FLOATS)}, "measured_at": utc,
                     "local_time": pa.nulls(n, pa.timestamp("us")), "position": pa.array(range(n), pa.int64()),
                     "line": pa.array(range(n), pa.int64())})


def _strict_table(raw: bytes) -> pa.Table:
    """The batch validated by pydantic: any error names its field (``measurements.3.value``)."""
    try:
        rows = _BATCH.validate_json(raw)["measurements"]
    except ValueError as exc:
        errs = getattr(exc, "errors", lambda: [])()
        loc = ".".join(str(p) for p in errs[0]["loc"]) if errs else "body"
        raise FormatError(errs[0]["msg"] if errs else str(exc), field=loc) from None
    times = [r["time"] for r in rows]
    if all(t.tzinfo is not None for t in times):
        table = pa.Table.from_pylist(rows, schema=_ROW_SCHEMA)  # aware times convert to UTC here
        utc, local = table.column("time"), pa.nulls(len(rows), pa.timestamp("us"))
        table = table.drop_columns(["time"])
    else:  # times without an offset are local times of the site (the store resolves them)
        table = pa.Table.from_pylist(rows, schema=_ROW_SCHEMA.remove(_ROW_SCHEMA.get_field_index("time")))
        utc = pa.array([t if t.tzinfo else None for t in times], TIME)
        local = pa.array([None if t.tzinfo else t for t in times], pa.timestamp("us"))
    n = len(rows)
    table = (table.append_column("measured_at", utc).append_column("local_time", local)
             .append_column("position", pa.array(range(n), pa.int64()))
             .append_column("line", pa.array(range(n), pa.int64())))
    return table


class ValuesOut(BaseModel):
    characteristic_id: int
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    nominal: float | None
    n: int
    time: list[str]
    value: list[float]
    serial: list[str | None]
    stage: list[str]


@router.get("/characteristics/{characteristic_id}/values", response_model=ValuesOut)
def values(characteristic_id: Id, start: dt.datetime | None = None, end: dt.datetime | None = None,
           stage: str | None = Query(None, pattern="^(" + "|".join(STAGES) + ")$"),
           serial: str | None = Query(None, max_length=128), limit: int = Query(100_000, ge=1, le=1_000_000),
           actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Time-ordered values of a characteristic (times in UTC, ISO 8601)."""
    for name, t in (("start", start), ("end", end)):
        if t is not None and t.tzinfo is None:
            raise FormatError("must carry a UTC offset", field=name)
    ch = store.get_characteristic(actor, characteristic_id)
    t = store.values(actor, characteristic_id, start=start, end=end, stage=stage, serial=serial, limit=limit,
                     columns=("measured_at", "value", "serial", "stage"))
    return ValuesOut(characteristic_id=ch.id, unit=ch.unit, lower_limit=ch.lower_limit, upper_limit=ch.upper_limit,
                     nominal=ch.nominal, n=t.num_rows,
                     time=[x.isoformat() for x in t.column("measured_at").to_pylist()],
                     value=t.column("value").to_pylist(), serial=t.column("serial").to_pylist(),
                     stage=t.column("stage").to_pylist())


__all__ = ["router"]
