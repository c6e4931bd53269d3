"""Uncertainty calculations for ``jingce calc``: JSON/YAML in, units through pint at this edge.

Input (YAML)::

    model: "ls + d - ls*(dalpha*theta + alpha_s*dtheta)"   # or a list / mapping of expressions
    inputs:
      ls: {normal: {mean: "50.000623 mm", sd: "25 nm", dof: 18}}
      d: {normal: {mean: 215, sd: 9.7}, unit: nm}
      dtheta: {rectangular: {low: -0.05, high: 0.05}, unit: K}
      reading: {type_a: {observations: [1.01, 0.99, 1.02]}, unit: mm}
    correlation: {"V,I": -0.36}           # optional
    output_unit: nm                        # optional
    coverage_probability: 0.99

Every value may carry its unit ("25 nm") or take the input's ``unit``. Inputs are converted to SI
base units (spreads as differences, so degC works), the model runs on plain floats, and the result
is expressed in ``output_unit`` (default: the SI base unit the model produces).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from jingce.charts.uncertainty import plot as plot_uncertainty
from jingce.errors import InvalidInputError
from jingce.kernels import uncertainty as unc
from jingce.kernels.uncertainty.expression import parse_expression
from jingce.model.units import parse_unit, registry
from jingce.services.calculations.registry import calculation

# parameters that are positions on the scale (absolute) and spreads (differences)
_LOCATION = {"mean", "low", "high", "mode", "loc", "observations"}
_SPREAD = {"sd", "scale", "d"}
_PLAIN = {"dof", "beta"}
_CONSTRUCTORS = {
    "normal": unc.normal,
    "rectangular": unc.rectangular,
    "triangular": unc.triangular,
    "arcsine": unc.arcsine,
    "student_t": unc.student_t,
    "trapezoidal": unc.trapezoidal,
    "curvilinear_trapezoid": unc.curvilinear_trapezoid,
    "type_a": unc.type_a,
}

_DSI_UNITS = {
    "meter": "metre", "gram": "gram", "second": "second", "ampere": "ampere", "kelvin": "kelvin",
    "mole": "mole", "candela": "candela", "radian": "radian", "degree": "degree", "newton": "newton",
    "pascal": "pascal", "joule": "joule", "watt": "watt", "volt": "volt", "ohm": "ohm", "hertz": "hertz",
    "coulomb": "coulomb", "farad": "farad", "henry": "henry", "siemens": "siemens", "liter": "litre",
    "degree_Celsius": "degreecelsius", "minute": "minute", "hour": "hour", "day": "day",
}
_PREFIXES = ("yotta", "zetta", "exa", "peta", "tera", "giga", "mega", "kilo", "hecto", "deca", "deci",
             "centi", "milli", "micro", "nano", "pico", "femto", "atto", "zepto", "yocto")


def dsi_unit(unit: Any) -> str:
    """D-SI unit text for a pint unit (``nanometer`` -> ``\\nano\\metre``); ``\\one`` when dimensionless."""
    parts = []
    for name, exp in unit._units.items():
        prefix = next((p for p in _PREFIXES if name.startswith(p) and name[len(p):] in _DSI_UNITS), "")
        base = _DSI_UNITS.get(name[len(prefix):])
        if base is None:
            return str(unit)
        text = (f"\\{prefix}" if prefix else "") + f"\\{base}"
        if exp != 1:
            text += f"\\tothe{{{int(exp) if float(exp).is_integer() else exp}}}"
        parts.append(text)
    return "".join(parts) or "\\one"


def _quantity(value: Any, default_unit: str | None, field: str):
    ureg = registry()
    try:
        if isinstance(value, str):
            q = ureg.Quantity(value.replace("µ", "u").replace("μ", "u"))
            if default_unit is not None and q.dimensionless and not q.unitless:
                pass
            elif default_unit is not None and q.unitless:
                q = ureg.Quantity(q.magnitude, parse_unit(default_unit, field))
            return q
        if default_unit is not None:
            return ureg.Quantity(value, parse_unit(default_unit, field))
        return ureg.Quantity(value)
    except InvalidInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pint raises many kinds of errors for bad text
        raise InvalidInputError(f"cannot read {value!r} as a quantity ({exc})", field=field) from None


def _to_base(value: Any, unit: str | None, field: str, spread: bool) -> tuple[Any, Any]:
    """Magnitude in SI base units and the base unit; spreads convert as differences."""
    if isinstance(value, list | tuple):
        conv = [_to_base(v, unit, field, spread) for v in value]
        units = {str(c[1]) for c in conv}
        if len(units) > 1:
            raise InvalidInputError("observations must share one unit", field=field)
        return [c[0] for c in conv], conv[0][1]
    q = _quantity(value, unit, field)
    ureg = registry()
    if spread:
        one = ureg.Quantity(1.0, q.units)
        zero = ureg.Quantity(0.0, q.units)
        base_one = one.to_base_units()
        factor = base_one.magnitude - zero.to(base_one.units).magnitude
        return q.magnitude * factor, base_one.units
    b = q.to_base_units()
    return b.magnitude, b.units


def build_inputs(spec: Any) -> tuple[dict[str, unc.InputQuantity], dict[str, Any]]:
    """Build input quantities (in SI base units) from their JSON description; also return the base
    unit of each input."""
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidInputError("inputs must map each model argument to a distribution", argument="inputs")
    out: dict[str, unc.InputQuantity] = {}
    units: dict[str, Any] = {}
    for name, desc in spec.items():
        field = f"inputs.{name}"
        if not isinstance(desc, Mapping):
            raise InvalidInputError("must be a mapping like {normal: {mean: 1, sd: 0.1}}", field=field)
        unit = desc.get("unit")
        kinds = [k for k in desc if k != "unit"]
        if len(kinds) != 1 or kinds[0] not in _CONSTRUCTORS:
            raise InvalidInputError(f"must name one distribution of {sorted(_CONSTRUCTORS)}", field=field)
        kind = kinds[0]
        params = desc[kind]
        if not isinstance(params, Mapping):
            raise InvalidInputError("distribution parameters must be a mapping", field=f"{field}.{kind}")
        kwargs: dict[str, Any] = {}
        base_unit = None
        for pname, pval in params.items():
            pfield = f"{field}.{kind}.{pname}"
            if pname in _PLAIN:
                kwargs[pname] = pval
                continue
            if pname not in _LOCATION | _SPREAD:
                raise InvalidInputError(f"unknown parameter {pname!r} of {kind}", field=pfield)
            mag, bu = _to_base(pval, unit, pfield, pname in _SPREAD)
            if base_unit is None:
                base_unit = bu
            elif bu.dimensionality != base_unit.dimensionality:
                raise InvalidInputError(f"unit {bu} does not match {base_unit} of the other parameters", field=pfield)
            kwargs[pname] = mag
        try:
            out[name] = _CONSTRUCTORS[kind](**kwargs)
        except TypeError as exc:
            raise InvalidInputError(f"wrong parameters for {kind}: {exc}", field=field) from None
        except InvalidInputError as exc:
            raise InvalidInputError(exc.message, field=f"{field}.{kind}.{exc.details.get('argument', '')}") from None
        units[name] = base_unit if base_unit is not None else registry().dimensionless
    return out, units


def _output_units(model: Any, units: Mapping[str, Any]) -> list[Any]:
    """Units of each output: evaluate the expressions on pint quantities of magnitude 1."""
    if isinstance(model, str):
        exprs = [model]
    elif isinstance(model, Mapping):
        exprs = list(model.values())
    else:
        exprs = list(model)
    ureg = registry()
    env = {n: ureg.Quantity(1.0, u) for n, u in units.items()}
    out = []
    for text in exprs:
        expr = parse_expression(text, "model", list(units))
        try:
            value = expr(**{n: env[n] for n in expr.names})
        except Exception as exc:  # noqa: BLE001 - pint DimensionalityError and friends
            raise InvalidInputError(f"the units of the inputs do not fit the model ({exc})", argument="model") from None
        q = value if hasattr(value, "units") else ureg.Quantity(value)
        out.append(q.to_base_units().units)
    return out


def _scale_factors(out_units: list[Any], output_unit: Any) -> tuple[np.ndarray, list[Any]]:
    wanted = output_unit if isinstance(output_unit, list) else [output_unit] * len(out_units)
    if len(wanted) != len(out_units):
        raise InvalidInputError(f"output_unit needs one entry per output ({len(out_units)})", argument="output_unit")
    ureg = registry()
    factors, final = [], []
    for base, w in zip(out_units, wanted, strict=True):
        if w is None:
            factors.append(1.0)
            final.append(base)
            continue
        target = parse_unit(str(w), "output_unit")
        try:
            factors.append(float(ureg.Quantity(1.0, base).to(target).magnitude))
        except Exception:  # noqa: BLE001
            raise InvalidInputError(f"the model gives {base}, which cannot be expressed in {w}",
                                    argument="output_unit") from None
        final.append(target)
    return np.asarray(factors), final


def _rescale(result: Any, f: np.ndarray) -> Any:
    multi = f.size > 1
    fv = f if multi else f[0]

    def per_output(v: Any) -> Any:
        arr = np.asarray(v, float)
        if multi:
            return arr * f.reshape((-1,) + (1,) * (arr.ndim - 1))
        return float(arr * fv) if arr.ndim == 0 else arr * fv

    changes: dict[str, Any] = {}
    names = ("y", "u", "u_first_order", "U", "interval_low", "interval_high", "symmetric_low", "symmetric_high",
             "shortest_low", "shortest_high", "delta")
    for name in names:
        if hasattr(result, name):
            changes[name] = per_output(getattr(result, name))
    changes["covariance"] = np.asarray(result.covariance) * np.outer(f, f).reshape(
        f.size, f.size, *([1] * (np.ndim(result.covariance) - 2)))
    for name in ("sensitivity", "contribution"):
        if hasattr(result, name):
            changes[name] = per_output(getattr(result, name))
    if hasattr(result, "histogram_edges"):
        changes["histogram_edges"] = np.asarray(result.histogram_edges) * f[0]
    if getattr(result, "samples", None) is not None:
        changes["samples"] = result.samples * f[:, None]
    if getattr(result, "validation", None) is not None:
        v = result.validation
        changes["validation"] = dataclasses.replace(
            v, **{k: per_output(getattr(v, k)) for k in ("gum_low", "gum_high", "mc_low", "mc_high", "d_low",
                                                          "d_high", "delta")})
    return dataclasses.replace(result, **changes)


def _constants(spec: Any) -> tuple[dict[str, float], dict[str, Any]]:
    if spec is None:
        return {}, {}
    if not isinstance(spec, Mapping):
        raise InvalidInputError("constants must map names to exact values such as '1.2 kg/m^3'", argument="constants")
    values, units = {}, {}
    for name, value in spec.items():
        mag, unit = _to_base(value, None, f"constants.{name}", False)
        values[str(name)], units[str(name)] = float(mag), unit
    return values, units


def _with_constants(model: Any, consts: Mapping[str, float], names: list[str]) -> Any:
    """A callable model that evaluates the expression(s) with the exact constants filled in."""
    if not consts:
        return model
    allowed = names + list(consts)
    if isinstance(model, str):
        exprs = {"y": parse_expression(model, "model", allowed)}
    elif isinstance(model, Mapping):
        exprs = {k: parse_expression(v, f"model[{k}]", allowed) for k, v in model.items()}
    else:
        exprs = {f"y{i}": parse_expression(v, f"model[{i}]", allowed) for i, v in enumerate(model)}

    def evaluate(**env: Any) -> Any:
        full = {**env, **consts}
        out = {k: e(**{n: full[n] for n in e.names}) for k, e in exprs.items()}
        return out["y"] if len(out) == 1 and "y" in out else out

    return evaluate


def _common(model: Any, inputs: Any, output_unit: Any, constants: Any = None):
    if not isinstance(model, str | list | Mapping):
        raise InvalidInputError("model must be an expression string, a list or a mapping of expressions",
                                argument="model")
    qs, units = build_inputs(inputs)
    consts, const_units = _constants(constants)
    clash = set(consts) & set(qs)
    if clash:
        raise InvalidInputError(f"{sorted(clash)[0]!r} is both an input and a constant", argument="constants")
    out_units = _output_units(model, {**units, **const_units})
    factors, final_units = _scale_factors(out_units, output_unit)
    return qs, factors, final_units, _with_constants(model, consts, list(qs))


def _unit_text(units: list[Any]) -> Any:
    texts = [f"{u:~}" if str(u) != "dimensionless" else "1" for u in units]
    return texts[0] if len(texts) == 1 else texts


def gum_calculation(model: Any, inputs: Any, correlation: Any = None, coverage_probability: float = 0.95,
                    coverage_factor: float | None = None, second_order: bool = False,
                    output_unit: Any = None, constants: Any = None) -> dict[str, Any]:
    """GUM evaluation with units; returns the result, its unit, and D-SI quantities."""
    qs, factors, units, model = _common(model, inputs, output_unit, constants)
    res = unc.gum(model, qs, correlation, coverage_probability=coverage_probability,
                  coverage_factor=coverage_factor, second_order=bool(second_order))
    res = _rescale(res, factors)
    dsi_units = [dsi_unit(u) for u in units]
    return {"result": res, "unit": _unit_text(units),
            "input_units": {n: _unit_text([u]) for n, u in build_inputs(inputs)[1].items()},
            "budget": [res.budget(i) for i in range(len(res.output_names))],
            "dsi": unc.to_dsi(res, dsi_units)}


def monte_carlo_calculation(model: Any, inputs: Any, trials: int = 1_000_000, seed: int | None = None,
                            correlation: Any = None, coverage_probability: float = 0.95, adaptive: bool = False,
                            ndig: int = 2, workers: int = 1, output_unit: Any = None,
                            constants: Any = None) -> dict[str, Any]:
    """JCGM 101 Monte Carlo with units; returns the result (with its seed), the GUM comparison and D-SI."""
    qs, factors, units, model = _common(model, inputs, output_unit, constants)
    res = unc.monte_carlo(model, qs, trials, seed, correlation=correlation, coverage_probability=coverage_probability,
                          adaptive=bool(adaptive), ndig=ndig, workers=workers)
    g = None
    if all(np.isfinite(q.u) for q in qs.values()):
        import warnings

        from jingce.errors import JingceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JingceWarning)
            g = _rescale(unc.gum(model, qs, correlation, coverage_probability=coverage_probability), factors)
    res = _rescale(res, factors)
    return {"result": res, "unit": _unit_text(units), "gum": g, "dsi": unc.to_dsi(res, [dsi_unit(u) for u in units])}


_EXAMPLE_H1 = {
    "model": "ls + d - ls*(dalpha*theta + alpha_s*dtheta)",
    "inputs": {
        "ls": {"normal": {"mean": "50.000623 mm", "sd": "25 nm", "dof": 18}},
        "d": {"normal": {"mean": 215, "sd": 9.7, "dof": 25.6}, "unit": "nm"},
        "alpha_s": {"normal": {"mean": 11.5e-6, "sd": 1.2e-6}, "unit": "1/K"},
        "theta": {"normal": {"mean": -0.1, "sd": 0.41}, "unit": "K"},
        "dalpha": {"normal": {"mean": 0, "sd": 0.58e-6, "dof": 50}, "unit": "1/K"},
        "dtheta": {"normal": {"mean": 0, "sd": 0.029, "dof": 2}, "unit": "K"},
    },
    "coverage_probability": 0.99,
    "output_unit": "mm",
}

calculation(
    "uncertainty.gum",
    gum_calculation,
    summary_en="GUM law of propagation: budget, nu_eff, k, U (JCGM 100)",
    summary_zh="GUM 不确定度传播：不确定度预算、有效自由度、包含因子、扩展不确定度（JCGM 100）",
    example=_EXAMPLE_H1,
    plot=plot_uncertainty,
)

calculation(
    "uncertainty.monte_carlo",
    monte_carlo_calculation,
    summary_en="Monte Carlo propagation of distributions, adaptive, GUM validation (JCGM 101)",
    summary_zh="蒙特卡洛分布传播（自适应）及 GUM 法验证（JCGM 101）",
    example={
        "model": "(mrc + dmrc)*(1 + (rhoa - rhoa0)*(1/rhow - 1/rhor)) - mnom",
        "inputs": {
            "mrc": {"normal": {"mean": "100000.000 mg", "sd": "0.050 mg"}},
            "dmrc": {"normal": {"mean": 1.234, "sd": 0.020}, "unit": "mg"},
            "rhoa": {"rectangular": {"low": 1.10, "high": 1.30}, "unit": "kg/m^3"},
            "rhow": {"rectangular": {"low": 7000, "high": 9000}, "unit": "kg/m^3"},
            "rhor": {"rectangular": {"low": 7950, "high": 8050}, "unit": "kg/m^3"},
        },
        "constants": {"rhoa0": "1.2 kg/m^3", "mnom": "100 g"},
        "trials": 200000,
        "seed": 1,
        "output_unit": "mg",
    },
    plot=plot_uncertainty,
)
