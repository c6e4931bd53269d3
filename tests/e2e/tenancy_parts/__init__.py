"""Per-area additions to the every-route tenancy test (tests/e2e/test_api_tenancy.py).

Each module here may define:

- ``setup(w) -> dict``: create tenant X's objects of the area in the test world ``w`` (built by
  ``tests.e2e.test_api.build_world``; ``w.store``, ``w.admin``, ``w.ent["X"]``, ...) and return
  X's id for each new parameter name the area's routes use (``{"round_id": 3}``);
- ``state(w) -> tuple``: a snapshot of the area's data, compared before and after every
  non-GET request by another tenant (nothing may change);
- ``UNSCOPED``, ``PUBLIC``: sets of operation labels ("GET /api/v1/...") as in the test;
- ``ALLOWED``: dict of label -> extra allowed statuses.
"""

from __future__ import annotations

import importlib
import pkgutil

PARTS = [importlib.import_module(f"{__name__}.{m.name}") for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)]


def union(name: str) -> set:
    out: set = set()
    for part in PARTS:
        out |= set(getattr(part, name, ()))
    return out


def allowed() -> dict:
    out: dict = {}
    for part in PARTS:
        for label, codes in getattr(part, "ALLOWED", {}).items():
            out.setdefault(label, set()).update(codes)
    return out
