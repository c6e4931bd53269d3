"""The precision planner: where measurement is inadequate for the tolerance, and the cheapest adequate option."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
