"""Region quality indicators and root cause (stream of variation).

Thin edges over :func:`jingce.services.rootcause.root_cause` and the region quality view of
:mod:`jingce.services.views`.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import Id
from jingce.api.routes.views import JSONView
from jingce.services import views
from jingce.services.rootcause import root_cause
from jingce.store import Actor, Store

router = APIRouter(tags=["quality"])


class RootCauseCandidate(BaseModel):
    rank: int
    kind: str = Field(description='"characteristic" (an upstream component characteristic) or "machine"')
    code: str
    name: str | None = None
    product: str | None = None
    enterprise: str | None = None
    depth: int | None = Field(None, description="levels down the bill of materials")
    n: int = Field(description="serials matched with the characteristic")
    share: float | None = Field(None, description="LMG share of R² (machines: eta² of a one-way ANOVA)")
    r2_alone: float | None = None
    p_alone: float | None = None
    in_model: bool
    coefficient: float | None = None
    se: float | None = None
    p_value: float | None = None


class RootCausePublic(BaseModel):
    characteristic: dict
    period: dict
    candidates: list[RootCauseCandidate]
    model: dict | None
    scatter: dict | None = Field(None, description='"points" where the caller may read both axes, else "binned" '
                                                    'counts (cells under 3 serials blanked)')
    components: int
    hidden_components: int
    notes: list[str]
    raw_values: bool


@router.get("/characteristics/{characteristic_id}/root-cause", response_model=RootCausePublic,
            response_class=JSONView)
def characteristic_root_cause(characteristic_id: Id, start: dt.date | None = None, end: dt.date | None = None,
                              actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Rank the upstream characteristics (components down the bill of materials, matched by serial
    through the as-built links) and the machines by their contribution to the characteristic's
    variation (LMG shares of R², eta² for machines), with the evidence."""
    return JSONView(root_cause(store, actor, characteristic_id, start=start, end=end))


class WorstPublic(BaseModel):
    characteristics: list[dict] = Field(description="id, code, name, product, enterprise, n, out_of_spec, "
                                                    "ppm_out_of_spec, cpk; most values out of specification first")


@router.get("/quality/worst", response_model=WorstPublic, response_class=JSONView)
def worst_characteristics(enterprise_id: int | None = Query(None, ge=1, le=2_147_483_647),
                          limit: int = Query(20, ge=1, le=200), actor: Actor = Depends(get_actor),
                          store: Store = Depends(get_store)):
    """The characteristics with the most values out of specification (then the lowest Cpk) that
    the caller may analyse: the starting points of a root-cause analysis."""
    return JSONView({"characteristics": views.worst_characteristics(store, actor, enterprise_id=enterprise_id,
                                                                    limit=limit)})
