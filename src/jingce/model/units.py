"""Units at the edges: one pint registry for jingce, and the checks the model needs.

Kernels take plain floats; values are converted here, at the edge, to the characteristic's unit.
"""

from __future__ import annotations

import tokenize
from functools import cache
from typing import Annotated

import pint
from pydantic import AfterValidator

from jingce.errors import InvalidInputError

_ALIASES = {"µ": "u", "μ": "u", "·": "*", "°C": "degC", "℃": "degC", "°": "degree", "′": "arcminute", "″": "arcsecond"}


@cache
def registry() -> pint.UnitRegistry:
    """The shared pint unit registry (built once, on first use)."""
    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=":auto:")
    # Hardness scales are conventional, not convertible by a factor: each is its own dimension.
    ureg.define("rockwell_C = [hardness_rockwell_c] = HRC")
    ureg.define("vickers = [hardness_vickers] = HV")
    ureg.define("brinell = [hardness_brinell] = HBW")
    return ureg


def _normalise(unit: str) -> str:
    text = unit.strip()
    for a, b in _ALIASES.items():
        text = text.replace(a, b)
    return text or "dimensionless"


@cache
def parse_unit(unit: str, field: str = "unit") -> pint.Unit:
    """Parse a unit string (``mm``, ``µm``, ``°``, ``N·m``, ``HRC`` is refused: use ``1``)."""
    try:
        return registry().Unit(_normalise(unit))
    except (pint.errors.UndefinedUnitError, AttributeError, TypeError, ValueError, AssertionError,
            tokenize.TokenError, SyntaxError) as exc:  # pint tokenizes: "m*(" is a TokenError
        raise InvalidInputError(f"unknown unit {unit!r} ({exc})", field=field) from None


def _known_unit(unit: str) -> str:
    parse_unit(unit, "unit")
    return unit


UnitName = Annotated[str, AfterValidator(_known_unit)]
"""A unit string pint knows (an entity field type: an unknown unit is refused naming the field)."""


def dimensionality(unit: str) -> str:
    """The dimensionality of ``unit`` as a string (``[length]``)."""
    return str(parse_unit(unit).dimensionality)


@cache
def conversion_factor(from_unit: str, to_unit: str, field: str = "unit") -> float:
    """Factor ``f`` such that ``value_in_to = value_in_from * f``; incompatible units raise.

    Offset units (degC, degF) are refused here because a factor cannot convert them.
    """
    src, dst = parse_unit(from_unit, field), parse_unit(to_unit, field)
    ureg = registry()
    try:
        one = ureg.Quantity(1.0, src)
        zero = ureg.Quantity(0.0, src)
        f = one.to(dst).magnitude
        if zero.to(dst).magnitude != 0.0:
            raise InvalidInputError(
                f"offset units cannot be converted by a factor ({from_unit!r} -> {to_unit!r})", field=field
            )
    except pint.errors.DimensionalityError:
        raise InvalidInputError(
            f"unit {from_unit!r} is not compatible with {to_unit!r}", field=field
        ) from None
    return float(f)


def compatible(a: str, b: str) -> bool:
    """Whether two units measure the same kind of quantity."""
    return parse_unit(a).dimensionality == parse_unit(b).dimensionality


def has_dimension(unit: str, dimension: str) -> bool:
    """Whether ``unit`` has the dimensionality written as ``dimension`` (``"[length]"``,
    ``"dimensionless"``)."""
    want = registry().get_dimensionality("" if dimension == "dimensionless" else dimension)
    return parse_unit(unit).dimensionality == want
