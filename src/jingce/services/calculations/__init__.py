"""Calculations reachable as ``jingce calc NAME INPUT`` and ``POST /api/v1/analyses/NAME``.

Each topic module in this package registers its calculations with :func:`calculation`; the
registry is filled by :func:`load_all`, which imports every module of the package, so adding a
calculation never edits a shared file.

A calculation takes the parsed JSON/YAML input (a mapping) and returns the kernel's result; the
edges turn it into JSON with :func:`jingce.services.calculations.serialize.to_jsonable`.
"""

from jingce.services.calculations.registry import Calculation, calculation, get, load_all, names

__all__ = ["Calculation", "calculation", "get", "load_all", "names"]
