"""Service requests (needs) and orders."""

from __future__ import annotations

from jingce.store.core import StoreBase


class MarketMixin(StoreBase):
    """Service requests (needs) and orders."""
