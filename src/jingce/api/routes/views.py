"""Views for the web pages and dashboards: control-chart data, the enterprise and regulator
dashboards (thin clients of :mod:`jingce.services.views`).

The responses are JSON written directly from the services' arrays (NaN as null): a
100,000-point chart would spend most of its time in per-value validation otherwise. The
response models below document the shapes in the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
from collections import OrderedDict
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import Id, OptionalId
from jingce.services import views
from jingce.store import Actor, Store

router = APIRouter(tags=["views"])


RAW_MIN = 256
"""Arrays at least this long are written by Arrow's number formatting (shortest round-trip
digits, in C++) instead of one Python float at a time."""


def _array_json(x: np.ndarray) -> bytes:
    """A JSON array of the numbers of ``x`` (NaN and inf as null), as UTF-8 bytes."""
    if x.dtype.kind == "f":
        arr = pa.array(x, mask=~np.isfinite(x))
    else:
        arr = pa.array(x.astype(np.int64) if x.dtype.kind in "iub" else x)
    text = pc.cast(arr, pa.string()).fill_null("null")
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(text)], pa.int32()), text), ",")
    return b"[" + joined[0].as_buffer().to_pybytes() + b"]"


def _plain(x: Any, raw: list) -> Any:
    """JSON-ready data: numpy arrays to lists (NaN and inf to null; long ones pre-rendered into
    ``raw[1:]`` and replaced by a placeholder carrying the nonce ``raw[0]``), numpy scalars to
    Python."""
    if isinstance(x, np.ndarray):
        if x.size >= RAW_MIN and x.dtype.kind in "fiub":
            raw.append(_array_json(x))
            return f"\x00{raw[0]}:{len(raw) - 1}\x00"
        if x.dtype.kind == "f":
            finite = np.isfinite(x)
            if finite.all():
                return x.tolist()
            out = x.astype(object)
            out[~finite] = None
            return out.tolist()
        return x.tolist()
    if isinstance(x, views.Plain):
        return x
    if isinstance(x, dict):
        return {k: _plain(v, raw) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v, raw) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


_PLACEHOLDER = re.compile(r'"\\u0000([0-9a-f]{16}):(\d+)\\u0000"')


class JSONView(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        raw: list = [secrets.token_hex(8)]  # a nonce: no string of the data can pose as a placeholder
        text = json.dumps(_plain(content, raw), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        if len(raw) == 1:
            return text.encode()
        parts = _PLACEHOLDER.split(text)  # text, nonce, index, text, nonce, index, ..., text
        out = [parts[0].encode()]
        for i in range(1, len(parts), 3):
            nonce, index, after = parts[i], int(parts[i + 1]), parts[i + 2]
            out.append(raw[index] if nonce == raw[0] else f'"\\u0000{nonce}:{index}\\u0000"'.encode())
            out.append(after.encode())
        return b"".join(out)


# -- response shapes (documentation; the services build the data) ----------------------------------


class CharacteristicRef(BaseModel):
    id: int
    code: str
    name: str
    unit: str
    nominal: float | None
    lower_limit: float | None
    upper_limit: float | None
    product_id: int
    enterprise_id: int


class Violation(BaseModel):
    index: int
    rules: list[int]


class PanelPublic(BaseModel):
    name: str
    center: float | None
    lcl: float | None
    ucl: float | None
    points: list[float | None]
    violations: list[Violation]


class Histogram(BaseModel):
    edges: list[float]
    counts: list[int]


class Density(BaseModel):
    x: list[float]
    y: list[float]


class CapabilityPublic(BaseModel):
    n: int
    mean: float | None
    sigma_within: float | None
    sigma_overall: float | None
    cp: float | None
    cpk: float | None
    cpk_ci: list[float | None]
    pp: float | None
    ppk: float | None
    ppk_ci: list[float | None]
    ppm_overall: float | None
    histogram: Histogram
    density: Density


class ChartPublic(BaseModel):
    characteristic: CharacteristicRef
    chart: Literal["imr", "xbar_r", "xbar_s"]
    subgroup_size: int
    t: list[int] = Field(description="epoch milliseconds (UTC) of each plotted point")
    panels: list[PanelPublic]
    limits_source: str = Field(description='"phase_i" or "frozen v<N>"')
    capability: CapabilityPublic


class DashboardCharacteristic(BaseModel):
    id: int
    code: str
    name: str
    product: str | None
    n: int
    cpk: float | None
    ppk: float | None
    light: Literal["green", "yellow", "red", "grey"]
    alarms: int


class InstrumentDue(BaseModel):
    id: int
    code: str
    name: str
    valid_until: str | None
    status: Literal["due", "overdue"]


class EnterpriseDashboard(BaseModel):
    enterprise: dict
    characteristics: list[DashboardCharacteristic]
    alarms: list[dict]
    instruments_due: list[InstrumentDue]


class Indicators(BaseModel):
    characteristics: int
    cpk_classes: dict[str, int]
    out_of_control_rate: float | None
    ppm_out_of_spec: float | None
    nonconforming_characteristics: int = Field(0, description="characteristics with values out of specification")
    calibration_compliance: float | None
    traceability_coverage: float | None = Field(
        None, description="share of working instruments whose calibration chain is unbroken to a national standard")


class ChainIndicators(Indicators):
    chain: str
    enterprises: int


class EnterpriseIndicators(Indicators):
    id: int
    code: str
    name: str
    chain: str


class NonconformingRow(BaseModel):
    id: int
    code: str
    name: str
    product: str
    enterprise: str | None
    n: int
    out_of_spec: int
    ppm_out_of_spec: float | None
    cpk: float | None


class RegionDashboard(BaseModel):
    chains: list[ChainIndicators]
    enterprises: list[EnterpriseIndicators]
    nonconforming: list[NonconformingRow] = Field(description="where a root-cause analysis starts "
                                                              "(GET /characteristics/{id}/root-cause)")
    proficiency: dict | None = Field(None, description="lab supervision: labs by state, proficiency results, "
                                                       "flagged results, open findings")


class RegionEnterprise(BaseModel):
    enterprise: dict
    indicators: Indicators
    characteristics: list[dict]


# -- routes ---------------------------------------------------------------------------------------


class _Rendered:
    """The last few rendered charts (a chart of 100,000 points is about 5 MB of JSON), keyed by
    their parameters and :func:`jingce.services.views.chart_state`: a chart opened again (by the
    same tenant, on an unchanged lake) is sent without recomputing it."""

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_CHARTS = _Rendered()


@router.get("/characteristics/{characteristic_id}/chart", response_model=ChartPublic, response_class=JSONView)
def chart(characteristic_id: Id, chart: Literal["auto", "imr", "xbar_r", "xbar_s"] = "auto",
          subgroup_size: int | None = Query(None, ge=1, le=25), start: dt.datetime | None = None,
          end: dt.datetime | None = None, limit: int = Query(100_000, ge=1, le=1_000_000),
          actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Control-chart data: two panels with limits and Nelson-rule violations (I-MR for single
    values, X̄-R / X̄-S for subgroups of consecutive values), the characteristic's frozen limits
    when it has some, and capability with histogram and fitted normal density. Of more than
    ``limit`` values in the period, the latest ``limit`` are plotted (``truncated``)."""
    key = (characteristic_id, chart, subgroup_size, start, end, limit,
           views.chart_state(store, actor, characteristic_id))
    body = _CHARTS.get(key)
    if body is None:
        body = JSONView(views.chart_view(store, actor, characteristic_id, chart=chart, subgroup_size=subgroup_size,
                                         start=start, end=end, limit=limit)).body
        _CHARTS.put(key, body)
    return Response(body, media_type="application/json")


@router.get("/dashboard/enterprise", response_model=EnterpriseDashboard, response_class=JSONView)
def enterprise_dashboard(enterprise_id: OptionalId = None, actor: Actor = Depends(get_actor),
                         store: Store = Depends(get_store)):
    """Characteristics with capability traffic lights (green Cpk >= 1.33, yellow 1.00-1.33, red
    below, grey with too few values), open alarms, instruments due for calibration."""
    return JSONView(views.enterprise_dashboard(store, actor, enterprise_id))


@router.get("/dashboard/region", response_model=RegionDashboard, response_class=JSONView)
def region_dashboard(chain: str | None = Query(None, max_length=128), start: dt.date | None = None,
                     end: dt.date | None = None, actor: Actor = Depends(get_actor),
                     store: Store = Depends(get_store)):
    """The region by industry chain (regulator and admin only)."""
    return JSONView(views.region_dashboard(store, actor, chain=chain, start=start, end=end))


@router.get("/dashboard/region/enterprises/{enterprise_id}", response_model=RegionEnterprise,
            response_class=JSONView)
def region_enterprise(enterprise_id: Id, start: dt.date | None = None, end: dt.date | None = None,
                      actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """One enterprise's indicators and per-characteristic summary rows (regulator and admin only)."""
    return JSONView(views.region_enterprise(store, actor, enterprise_id, start=start, end=end))
