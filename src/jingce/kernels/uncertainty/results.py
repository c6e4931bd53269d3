"""Results as D-SI style quantities for calibration certificates and digital calibration
certificates (DCC).

The D-SI metadata model (PTB / EMPIR SmartCom) states a real quantity as value and unit with
either an expanded uncertainty (``si:expandedUnc``: uncertainty, coverage factor, coverage
probability, distribution) or a coverage interval (``si:coverageInterval``: standard uncertainty,
interval limits, coverage probability). This module builds that structure as plain mappings; the
unit text is supplied by the caller (units live at the edges, see ``jingce.services``).

References
----------
.. [1] D. Hutzschenreuter et al., "SmartCom Digital System of Units (D-SI) Guide for the use of
       the metadata-format used in metrology for the easy-to-use, safe, harmonised and
       unambiguous digital transfer of metrological data", version 2.0, PTB (2020),
       sections 5 (si:real), 6 (si:expandedUnc, si:coverageInterval).
.. [2] JCGM 100:2008 7.2.3 (reporting U, k and p); JCGM 101:2008 5.11.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from jingce.kernels._validation import fail

__all__ = ["to_dsi", "dsi_xml"]


def _per_output(value: Any, j: int, multi: bool) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.ndim != (1 if multi else 0):
        raise fail("result", "D-SI export needs scalar inputs (no bulk array form)")
    return float(arr[j]) if multi else float(arr)


def to_dsi(result: Any, unit: str | list[str] | None = None, label: str | list[str] | None = None) -> list[dict]:
    """D-SI ``si:real`` structures, one per output, for a GUM or Monte Carlo result.

    Parameters
    ----------
    result : GumResult or MonteCarloResult
    unit : str or list of str, optional
        D-SI unit text (e.g. ``"\\\\milli\\\\metre"``) per output; ``"\\\\one"`` when omitted.
    label : str or list of str, optional
        Quantity labels; the output names by default.

    Returns
    -------
    list of dict
        ``{"si:real": {"si:label", "si:value", "si:unit", "si:expandedUnc" | "si:coverageInterval"}}``.
    """
    names = list(result.output_names)
    multi = len(names) > 1
    units = unit if isinstance(unit, list) else [unit or "\\one"] * len(names)
    labels = label if isinstance(label, list) else ([label] if label else names)
    if len(units) != len(names) or len(labels) != len(names):
        raise fail("unit", f"needs one entry per output ({len(names)})")
    out = []
    for j in range(len(names)):
        real: dict[str, Any] = {"si:label": labels[j], "si:value": _per_output(result.y, j, multi), "si:unit": units[j]}
        if hasattr(result, "U"):
            real["si:expandedUnc"] = {
                "si:uncertainty": _per_output(result.U, j, multi),
                "si:coverageFactor": _per_output(result.k, j, multi),
                "si:coverageProbability": float(result.coverage_probability),
                "si:distribution": "normal" if np.isinf(_per_output(result.nu_eff, j, multi)) else "t",
            }
        else:
            real["si:coverageInterval"] = {
                "si:standardUnc": _per_output(result.u, j, multi),
                "si:intervalMin": _per_output(result.shortest_low, j, multi),
                "si:intervalMax": _per_output(result.shortest_high, j, multi),
                "si:coverageProbability": float(result.coverage_probability),
                "si:distribution": "Monte Carlo (JCGM 101), shortest coverage interval",
            }
        out.append({"si:real": real})
    return out


def _fmt(v: Any) -> str:
    return repr(float(v)) if isinstance(v, float | np.floating) else escape(str(v))


def dsi_xml(result: Any, unit: str | list[str] | None = None, label: str | list[str] | None = None) -> str:
    """The same structures as D-SI XML elements (``si:real``), one per line."""
    lines = []
    for item in to_dsi(result, unit, label):
        real = item["si:real"]
        parts = [f"<si:label>{escape(str(real['si:label']))}</si:label>",
                 f"<si:value>{_fmt(real['si:value'])}</si:value>",
                 f"<si:unit>{escape(real['si:unit'])}</si:unit>"]
        for key in ("si:expandedUnc", "si:coverageInterval"):
            if key in real:
                inner = "".join(f"<{k}>{_fmt(v)}</{k}>" for k, v in real[key].items())
                parts.append(f"<{key}>{inner}</{key}>")
        lines.append("<si:real>" + "".join(parts) + "</si:real>")
    return "\n".join(lines)
