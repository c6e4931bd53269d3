"""Normalising measurement models and their inputs (shared by the GUM and Monte Carlo kernels)."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jingce.kernels._validation import fail
from jingce.kernels.uncertainty.distributions import InputQuantity
from jingce.kernels.uncertainty.expression import Expression, parse_expression


@dataclass(frozen=True, slots=True)
class Model:
    """A model as a function of a mapping of arrays returning ``q`` output arrays."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    _parts: tuple[Callable[..., Any], ...]  # one per output, or a single callable returning all
    _single_callable: bool

    def __call__(self, env: Mapping[str, Any], shape: tuple[int, ...], out: np.ndarray | None = None) -> np.ndarray:
        """Evaluate on arrays of ``shape``; returns an array of shape ``(q, *shape)`` (``out`` if given)."""
        try:
            with np.errstate(all="ignore"):
                if self._single_callable:
                    raw = self._parts[0](**env)
                    outs = _split_outputs(raw, len(self.output_names))
                else:
                    outs = [p(**env) for p in self._parts]
                arr = np.empty((len(outs), *shape), dtype=np.float64) if out is None else out
                for i, o in enumerate(outs):
                    arr[i] = np.broadcast_to(np.asarray(o, dtype=np.float64), shape)
        except (ZeroDivisionError, OverflowError, FloatingPointError) as exc:
            raise fail("model", f"cannot be evaluated ({type(exc).__name__}: {exc})") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValueError) and "could not broadcast" in str(exc):
                raise fail("model", f"returned an array of the wrong shape ({exc})") from None
            raise fail("model", f"raised {type(exc).__name__}: {exc}") from None
        return arr


def _split_outputs(raw: Any, q: int) -> list[Any]:
    if isinstance(raw, Mapping):
        return list(raw.values())
    if isinstance(raw, tuple | list):
        return list(raw)
    if q == 1:
        return [raw]
    return list(raw)


def check_inputs(inputs: Any) -> dict[str, InputQuantity]:
    """Validate the mapping of input names to :class:`InputQuantity`."""
    if not isinstance(inputs, Mapping) or not inputs:
        raise fail("inputs", "must be a non-empty mapping of model argument names to input quantities")
    out: dict[str, InputQuantity] = {}
    for name, q in inputs.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise fail("inputs", f"names must be identifiers, got {name!r}")
        if not isinstance(q, InputQuantity):
            raise fail(
                name,
                "must be an input quantity built with normal(), rectangular(), triangular(), arcsine(), "
                "student_t(), trapezoidal(), curvilinear_trapezoid() or type_a()",
            )
        out[name] = q
    return out


def build_model(model: Any, inputs: Mapping[str, InputQuantity], output_names: Sequence[str] | None = None) -> Model:
    """Turn a callable, an expression string, or a list/dict of expressions into a :class:`Model`."""
    names = tuple(inputs)
    if isinstance(model, str):
        exprs: dict[str, Expression] = {"y": parse_expression(model, "model", names)}
    elif isinstance(model, Mapping):
        if not model:
            raise fail("model", "must hold at least one expression")
        exprs = {}
        for key, text in model.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise fail("model", f"output names must be identifiers, got {key!r}")
            exprs[key] = parse_expression(text, f"model[{key}]", names)
    elif isinstance(model, list | tuple) and model and all(isinstance(m, str) for m in model):
        exprs = {f"y{i}": parse_expression(t, f"model[{i}]", names) for i, t in enumerate(model)}
    elif callable(model):
        return _callable_model(model, inputs, output_names)
    else:
        raise fail("model", "must be a callable, an expression string, or a list or mapping of expressions")
    used = {n for e in exprs.values() for n in e.names}
    unused = [n for n in names if n not in used]
    if unused:
        raise fail(unused[0], "is an input quantity that the model does not use")
    out_names = tuple(output_names) if output_names is not None else tuple(exprs)
    if len(out_names) != len(exprs):
        raise fail("output_names", f"must name {len(exprs)} output(s)")
    parts = tuple(_bind_expression(e) for e in exprs.values())
    return Model(names, out_names, parts, False)


def _bind_expression(expr: Expression) -> Callable[..., Any]:
    def call(**env: Any) -> Any:
        return expr(**env)

    return call


def _callable_model(fn: Callable[..., Any], inputs: Mapping[str, InputQuantity], output_names: Sequence[str] | None) -> Model:
    names = tuple(inputs)
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    if sig is not None and not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        pnames = {p.name for p in params}
        for n in names:
            if n not in pnames:
                raise fail(n, "is not an argument of the model function")
        for p in params:
            if p.default is p.empty and p.name not in names:
                raise fail("inputs", f"has no input quantity for the model argument {p.name!r}")
    # Probe once at the estimates to learn the number and names of outputs.
    env = {n: np.asarray(q.x, dtype=float) for n, q in inputs.items()}
    try:
        with np.errstate(all="ignore"):
            raw = fn(**env)
    except Exception as exc:  # noqa: BLE001 - any failure of user code is reported as bad input
        raise fail("model", f"raised {type(exc).__name__}: {exc}") from None
    if isinstance(raw, Mapping):
        out_names = tuple(str(k) for k in raw)
    elif isinstance(raw, tuple | list):
        out_names = tuple(f"y{i}" for i in range(len(raw)))
    else:
        out_names = ("y",)
    if output_names is not None:
        if len(output_names) != len(out_names):
            raise fail("output_names", f"must name {len(out_names)} output(s)")
        out_names = tuple(output_names)
    return Model(names, out_names, (fn,), True)


def coverage_factor(nu: np.ndarray, p: float) -> np.ndarray:
    """``k_p`` from the t distribution with ``floor(nu)`` degrees of freedom (GUM G.4.1, G.6.4);
    the normal quantile for infinite ``nu``; NaN ``nu`` also uses the normal quantile."""
    from scipy import stats

    nu = np.asarray(nu, dtype=float)
    z = stats.norm.ppf((1 + p) / 2)
    finite = np.isfinite(nu)
    nu_int = np.where(finite, np.maximum(np.floor(np.where(finite, nu, 1.0)), 1.0), 1.0)
    # the t quantile once per distinct integer dof (bulk evaluations share few of them)
    uniq, inverse = np.unique(nu_int, return_inverse=True)
    k_t = stats.t.ppf((1 + p) / 2, uniq)[inverse].reshape(nu.shape)
    return np.where(finite, k_t, z)


def significant_tolerance(u: float, ndig: int) -> float:
    """Numerical tolerance of JCGM 101 7.9.2: ``u`` written as ``c x 10^l`` with ``ndig`` digits in
    ``c``; the tolerance is ``0.5 x 10^l``."""
    if not np.isfinite(u) or u <= 0:
        return math.nan
    exponent = math.floor(math.log10(u)) - (ndig - 1)
    return 0.5 * 10.0**exponent
