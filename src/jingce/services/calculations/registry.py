"""The registry of named calculations shared by the CLI and the API."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jingce.errors import InvalidInputError, NotFoundError


@dataclass(frozen=True, slots=True)
class Calculation:
    """One named calculation.

    Attributes
    ----------
    name : str
        Dotted name, ``topic.function`` (``spc.xbar_r``).
    function : callable
        The kernel (or an adapter) called with the input mapping as keyword arguments.
    summary_en, summary_zh : str
        One line describing it, in English and Chinese.
    adapter : callable or None
        Optional ``mapping -> mapping`` turning JSON-friendly input into the function's arguments
        (for example building distributions from ``{"normal": {...}}``).
    plot : callable or None
        Optional ``(result, path) -> None`` drawing the result as PNG or SVG.
    example : mapping or None
        A small valid input, shown by ``jingce calc NAME --example``.
    """

    name: str
    function: Callable[..., Any]
    summary_en: str
    summary_zh: str
    adapter: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    plot: Callable[[Any, str], None] | None = None
    example: Mapping[str, Any] | None = None

    def __call__(self, inputs: Mapping[str, Any]) -> Any:
        if not isinstance(inputs, Mapping):
            raise InvalidInputError("the input must be a mapping of argument names to values", argument="input")
        args = dict(self.adapter(inputs) if self.adapter else inputs)
        sig = inspect.signature(self.function)
        has_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        if not has_var_kw:
            unknown = sorted(set(args) - set(sig.parameters))
            if unknown:
                raise InvalidInputError(
                    f"unknown input(s) {unknown}; expected some of {list(sig.parameters)}", argument=unknown[0]
                )
        missing = [
            p.name
            for p in sig.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in args
        ]
        if missing:
            raise InvalidInputError(f"missing required input(s) {missing}", argument=missing[0])
        return self.function(**args)


_REGISTRY: dict[str, Calculation] = {}


def calculation(
    name: str,
    function: Callable[..., Any],
    *,
    summary_en: str,
    summary_zh: str,
    adapter: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
    plot: Callable[[Any, str], None] | None = None,
    example: Mapping[str, Any] | None = None,
) -> Calculation:
    """Register ``function`` under ``name`` and return the registered :class:`Calculation`."""
    calc = Calculation(name, function, summary_en, summary_zh, adapter, plot, example)
    _REGISTRY[name] = calc
    return calc


def load_all() -> dict[str, Calculation]:
    """Import every topic module of this package so that its calculations register."""
    import jingce.services.calculations as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in ("registry", "serialize"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
    return dict(_REGISTRY)


def names() -> list[str]:
    """Sorted names of all calculations."""
    return sorted(load_all())


def get(name: str) -> Calculation:
    """The calculation called ``name``, or :class:`NotFoundError` listing the known names."""
    calcs = load_all()
    if name not in calcs:
        raise NotFoundError(f"no calculation named {name!r}; known: {', '.join(sorted(calcs))}", argument="name")
    return calcs[name]
