"""Views for the web pages and dashboards: control-chart data, the enterprise and regulator
dashboards (thin clients of :mod:`jingce.services.views`).

The responses are JSON written directly from the services' arrays (NaN as null): a
100,000-point chart would spend most of its time in per-value validation otherwise. The
response models below document the shapes in the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.services import views
from jingce.store import Actor, Store

router = APIRouter(tags=["views"])


def _plain(x: Any) -> Any:
    """JSON-ready data: numpy arrays to lists (NaN and inf to null), numpy scalars to Python."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "f":
            finite = np.isfinite(x)
            if finite.all():
                return x.tolist()
            out = x.astype(object)
            out[~finite] = None
            return out.tolist()
        return x.tolist()
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


class JSONView(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(_plain(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


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
    calibration_compliance: float | None


class ChainIndicators(Indicators):
    chain: str
    enterprises: int


class EnterpriseIndicators(Indicators):
    id: int
    code: str
    name: str
    chain: str


class RegionDashboard(BaseModel):
    chains: list[ChainIndicators]
    enterprises: list[EnterpriseIndicators]


class RegionEnterprise(BaseModel):
    enterprise: dict
    indicators: Indicators
    characteristics: list[dict]


# -- routes ---------------------------------------------------------------------------------------


@router.get("/characteristics/{characteristic_id}/chart", response_model=ChartPublic, response_class=JSONView)
def chart(characteristic_id: int, chart: Literal["auto", "imr", "xbar_r", "xbar_s"] = "auto",
          subgroup_size: int | None = Query(None, ge=1, le=25), start: dt.datetime | None = None,
          end: dt.datetime | None = None, limit: int = Query(100_000, ge=1, le=1_000_000),
          actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Control-chart data: two panels with limits and Nelson-rule violations (I-MR for single
    values, X̄-R / X̄-S for subgroups of consecutive values), the characteristic's frozen limits
    when it has some, and capability with histogram and fitted normal density."""
    return JSONView(views.chart_view(store, actor, characteristic_id, chart=chart, subgroup_size=subgroup_size,
                                     start=start, end=end, limit=limit))


@router.get("/dashboard/enterprise", response_model=EnterpriseDashboard, response_class=JSONView)
def enterprise_dashboard(enterprise_id: int | None = None, actor: Actor = Depends(get_actor),
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
def region_enterprise(enterprise_id: int, start: dt.date | None = None, end: dt.date | None = None,
                      actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """One enterprise's indicators and per-characteristic summary rows (regulator and admin only)."""
    return JSONView(views.region_enterprise(store, actor, enterprise_id, start=start, end=end))
