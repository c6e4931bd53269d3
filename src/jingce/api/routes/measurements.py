"""Measurements: batch POST (atomic, idempotent), time-ordered values, control-chart data."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import Id
from jingce.errors import FormatError
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
    unit: str | None = Field(None, max_length=32)
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


class BatchOut(BaseModel):
    batch: str
    rows: int
    created: bool
    message: str


@router.post("/measurements", response_model=BatchOut)
async def post_measurements(request: Request, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Ingest a batch of measurements: whole or not at all; the same body twice lands once."""
    raw = await request.body()
    try:
        body = BatchIn.model_validate_json(raw)
    except ValueError as exc:
        errs = getattr(exc, "errors", lambda: [])()
        loc = ".".join(str(p) for p in errs[0]["loc"]) if errs else "body"
        raise FormatError(errs[0]["msg"] if errs else str(exc), field=loc) from None
    digest = hashlib.sha256(raw).hexdigest()
    rows = body.measurements
    utc = [m.time.astimezone(dt.UTC) if m.time.tzinfo else None for m in rows]
    local = [m.time if m.time.tzinfo is None else None for m in rows]
    cols = {name: [getattr(m, name) for m in rows] for name in MeasurementIn.model_fields if name != "time"}
    table = pa.table({
        **{k: pa.array(v, pa.float64() if k in ("value", "nominal", "lower_limit", "upper_limit") else pa.string())
           for k, v in cols.items()},
        "measured_at": pa.array(utc, TIME), "local_time": pa.array(local, pa.timestamp("us")),
        "position": pa.array(range(len(rows)), pa.int64()), "line": pa.array(range(len(rows)), pa.int64()),
    })
    result = store.ingest(actor, table, content_hash=digest, source_format="api", source_name="POST /measurements")
    return BatchOut(batch=result.batch, rows=result.rows, created=result.created, message=result.message())


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
