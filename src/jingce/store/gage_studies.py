"""Gage studies (type 1, gage R&R, VDA 5) recorded per characteristic and instrument."""

from __future__ import annotations

from jingce.store.core import StoreBase


class GageStudiesMixin(StoreBase):
    """Gage studies (type 1, gage R&R, VDA 5) recorded per characteristic and instrument."""
