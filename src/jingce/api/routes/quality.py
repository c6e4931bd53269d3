"""Region quality indicators and root cause (stream of variation)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["quality"])
