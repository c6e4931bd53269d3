"""The measurement service market: needs, ranked labs, orders and deliveries."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
