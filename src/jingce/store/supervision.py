"""Lab applications, qualification decisions, proficiency rounds and audit findings."""

from __future__ import annotations

from jingce.store.core import StoreBase


class SupervisionMixin(StoreBase):
    """Lab applications, qualification decisions, proficiency rounds and audit findings."""
