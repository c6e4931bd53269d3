"""Measurement models written as expression strings, parsed safely.

The text is parsed with :mod:`ast` and compiled into a tree of small Python closures by a
whitelist walker: numbers, the names of the input quantities, the constants ``pi`` and ``e``,
``+ - * / ** %``, unary ``+ -`` and calls of whitelisted numpy functions. Anything else
(attributes, subscripts, comprehensions, lambdas, keyword arguments, unknown names) is refused
with :class:`~jingce.errors.InvalidInputError`. Nothing is ever passed to ``eval``.

The compiled model works on numpy arrays (one call evaluates millions of Monte Carlo trials)
and, because it calls numpy functions, also on pint quantities at the service edge.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jingce.kernels._validation import fail

__all__ = ["Expression", "parse_expression", "FUNCTIONS", "CONSTANTS"]

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "arcsin": np.arcsin,
    "acos": np.arccos,
    "arccos": np.arccos,
    "atan": np.arctan,
    "arctan": np.arctan,
    "atan2": np.arctan2,
    "arctan2": np.arctan2,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "ln": np.log,
    "log10": np.log10,
    "log2": np.log2,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "hypot": np.hypot,
    "radians": np.radians,
    "degrees": np.degrees,
    "min": np.minimum,
    "max": np.maximum,
}
_ARITY = {"atan2": 2, "arctan2": 2, "hypot": 2, "min": 2, "max": 2}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}

_MAX_LENGTH = 10_000
_MAX_DEPTH = 100

Node = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed model expression.

    Attributes
    ----------
    text : str
        The source text.
    names : tuple of str
        The input quantities it uses, in order of first appearance.
    """

    text: str
    names: tuple[str, ...]
    _root: Node

    def __call__(self, **values: Any) -> Any:
        return self._root(values)


def parse_expression(text: str, argument: str = "model", allowed_names: Sequence[str] | None = None) -> Expression:
    """Parse ``text`` into an :class:`Expression`.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"V * cos(phi) / I"``.
    argument : str
        Name used in error messages.
    allowed_names : sequence of str, optional
        When given, any other free name is refused.

    Raises
    ------
    InvalidInputError
        On syntax errors and on anything outside the whitelist.
    """
    if not isinstance(text, str) or not text.strip():
        raise fail(argument, "must be a non-empty expression string")
    if len(text) > _MAX_LENGTH:
        raise fail(argument, f"is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise fail(argument, f"is not a valid expression ({exc.msg} at column {exc.offset})") from None
    names: list[str] = []
    allowed = None if allowed_names is None else set(allowed_names)
    root = _compile(tree.body, argument, names, allowed, 0)
    return Expression(text, tuple(names), root)


def _compile(node: ast.AST, argument: str, names: list[str], allowed: set[str] | None, depth: int) -> Node:
    if depth > _MAX_DEPTH:
        raise fail(argument, f"is nested deeper than {_MAX_DEPTH} levels")
    d = depth + 1
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise fail(argument, f"may only contain numeric constants, got {node.value!r}")
        value = float(node.value)
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        if name in CONSTANTS and (allowed is None or name not in allowed):
            const = CONSTANTS[name]
            return lambda env: const
        if name in FUNCTIONS:
            raise fail(argument, f"uses the function {name!r} without calling it")
        if allowed is not None and name not in allowed:
            raise fail(argument, f"uses {name!r}, which is neither an input quantity nor a known constant")
        if name.startswith("_"):
            raise fail(argument, f"uses the name {name!r}; names may not start with an underscore")
        if name not in names:
            names.append(name)

        def load(env: Mapping[str, Any], _n: str = name) -> Any:
            return env[_n]

        return load
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise fail(argument, f"uses the operator {type(node.op).__name__}, which is not allowed")
        left = _compile(node.left, argument, names, allowed, d)
        right = _compile(node.right, argument, names, allowed, d)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        uop = _UNARY.get(type(node.op))
        if uop is None:
            raise fail(argument, f"uses the operator {type(node.op).__name__}, which is not allowed")
        operand = _compile(node.operand, argument, names, allowed, d)
        return lambda env: uop(operand(env))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise fail(argument, f"calls {what!r}; allowed functions: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise fail(argument, f"passes keyword arguments to {node.func.id!r}, which is not allowed")
        fname = node.func.id
        arity = _ARITY.get(fname, 1)
        if len(node.args) != arity or any(isinstance(a, ast.Starred) for a in node.args):
            raise fail(argument, f"calls {fname!r} with {len(node.args)} argument(s); it takes {arity}")
        func = FUNCTIONS[fname]
        args = [_compile(a, argument, names, allowed, d) for a in node.args]
        if arity == 1:
            a0 = args[0]
            return lambda env: func(a0(env))
        a0, a1 = args
        return lambda env: func(a0(env), a1(env))
    raise fail(argument, f"contains a {type(node).__name__}, which is not allowed in a model expression")
