"""The precision planner and gage studies."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["planner"])
