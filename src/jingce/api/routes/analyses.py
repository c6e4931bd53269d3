"""Analyses: every ``jingce calc`` calculation over HTTP (``POST /api/v1/analyses/{name}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from jingce.api.deps import get_actor
from jingce.services import calculations
from jingce.services.calculations.serialize import to_jsonable
from jingce.store import Actor

router = APIRouter(tags=["analyses"])


class CalculationPublic(BaseModel):
    name: str
    summary_en: str
    summary_zh: str
    example: dict | None


@router.get("/analyses", response_model=list[CalculationPublic])
def analyses(actor: Actor = Depends(get_actor)):
    return [CalculationPublic(name=c.name, summary_en=c.summary_en, summary_zh=c.summary_zh,
                              example=to_jsonable(c.example) if c.example else None)
            for _, c in sorted(calculations.load_all().items())]


@router.post("/analyses/{name}")
def run(name: str, inputs: dict[str, Any] = Body(...), actor: Actor = Depends(get_actor)) -> Any:
    """Run a calculation on JSON inputs (the same as ``jingce calc run NAME``); kernels' input errors
    come back as 422 naming the argument."""
    return to_jsonable(calculations.get(name)(inputs))
