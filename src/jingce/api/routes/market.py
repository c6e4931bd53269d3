"""The measurement service market: needs, ranked labs, orders, deliveries."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["market"])
