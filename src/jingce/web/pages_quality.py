"""Root cause: the upstream characteristics and machines behind a characteristic's variation."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
