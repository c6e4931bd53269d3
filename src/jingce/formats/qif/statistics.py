"""QIF 3 statistics (``Statistics/StatisticalStudiesResults``) from jingce's SPC and capability kernels.

:func:`statistics_from_kernels` evaluates each characteristic of a measurement table with
:func:`jingce.kernels.capability.capability` (Cp, Cpk, Pp, Ppk, Cpm) and the Shewhart charts of
:mod:`jingce.kernels.spc` (individuals/moving range, X-bar/R up to 10 per subgroup, X-bar/s above)
and returns the values under their QIF element names; :func:`write_statistics` writes them as a
``CapabilityStudyResults`` whose ``*CharacteristicStats`` refer to the measurements they summarise
(``MeasuredIds``), next to the results themselves. The reader returns them in
``ReadResult.metadata["statistics"]``.

References
----------
.. [1] ANSI/DMSC QIF 3.0 (ISO 23952:2020): QIFStatistics.xsd (CapabilityStudyResultsType),
       QIFLibrary/Statistics.xsd (CharacteristicStats, StatsWithTolLinearType: Average,
       StandardDeviation, Cp, Cpk, Pp, Ppk, Cpm, UpperControlLimit ...).
.. [2] ISO 22514-2:2017 (capability and performance indices); ISO 7870-2:2013 (Shewhart charts).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
from lxml import etree

from jingce.errors import FormatError, InvalidInputError, JingceWarning
from jingce.formats.qif.writer import Q, dec

# statistics written as StatsMeasuredDecimalType (a Value) and as counts (a non-negative integer)
DECIMAL_STATS = ("Average", "Minimum", "Maximum", "Range", "StandardDeviation", "EstimatedStandardDeviation",
                 "UpperControlLimit", "LowerControlLimit", "Cp", "Cpk", "Pp", "Ppk", "Cpm")
COUNT_STATS = ("NumberOutOfTolerance", "NumberOverUpperTolerance", "NumberUnderLowerTolerance")


def statistics_from_kernels(table: pa.Table, *, subgroup_size: int = 1, strategy: str | None = None
                            ) -> dict[str, dict[str, float]]:
    """Per characteristic key: descriptive statistics, control limits and capability indices.

    Values are taken in time order (``measured_at``, else ``local_time``, then ``position``);
    limits and nominal are the most recent row's. Indices the data cannot support (no limits,
    too few values, zero spread) are left out rather than written as NaN.
    """
    if subgroup_size < 1:
        raise FormatError("subgroup_size must be >= 1", field="subgroup_size")
    cols = {c: table.column(c).to_pylist() if c in table.column_names else [None] * table.num_rows
            for c in ("characteristic", "value", "measured_at", "local_time", "position", "nominal",
                      "lower_limit", "upper_limit")}
    order: dict[str, list[int]] = {}
    for i, key in enumerate(cols["characteristic"]):
        order.setdefault(key, []).append(i)
    out: dict[str, dict[str, float]] = {}
    for key, rows in order.items():
        rows.sort(key=lambda i: (_when(cols, i), cols["position"][i] if cols["position"][i] is not None else i))
        x = np.array([cols["value"][i] for i in rows], dtype=float)
        last = rows[-1]
        lsl, usl, target = cols["lower_limit"][last], cols["upper_limit"][last], cols["nominal"][last]
        stats: dict[str, float] = {
            "Average": float(np.mean(x)), "Minimum": float(x.min()), "Maximum": float(x.max()),
            "Range": float(x.max() - x.min()),
        }
        if x.size >= 2:
            stats["StandardDeviation"] = float(np.std(x - x.mean(), ddof=1))
        stats.update(_chart(x, subgroup_size))
        if lsl is not None or usl is not None:
            stats["NumberUnderLowerTolerance"] = int(np.sum(x < lsl)) if lsl is not None else 0
            stats["NumberOverUpperTolerance"] = int(np.sum(x > usl)) if usl is not None else 0
            stats["NumberOutOfTolerance"] = stats["NumberUnderLowerTolerance"] + stats["NumberOverUpperTolerance"]
            stats.update(_capability(x, lsl, usl, target, subgroup_size, strategy))
        out[key] = {k: v for k, v in stats.items() if not (isinstance(v, float) and not math.isfinite(v))}
    return out


def _when(cols: dict, i: int):
    t = cols["measured_at"][i] or cols["local_time"][i]
    return (0, t.timestamp() if t.tzinfo else t.replace(tzinfo=None).timestamp()) if t is not None else (1, 0.0)


def _chart(x: np.ndarray, n: int) -> dict[str, float]:
    from jingce.kernels import spc

    m = x.size // n
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JingceWarning)
            if n == 1:
                if x.size < 2:
                    return {}
                chart = spc.imr(x)
                panel, sigma = chart.i, chart.sigma
            elif m >= 1:
                data = x[: m * n].reshape(m, n)
                chart = spc.xbar_r(data) if n <= 10 else spc.xbar_s(data)
                panel, sigma = chart.xbar, chart.sigma
            else:
                return {}
    except InvalidInputError:
        return {}
    return {"UpperControlLimit": float(panel.ucl[-1]), "LowerControlLimit": float(panel.lcl[-1]),
            "EstimatedStandardDeviation": float(sigma)}


def _capability(x, lsl, usl, target, n, strategy) -> dict[str, float]:
    from jingce.kernels.capability import capability

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JingceWarning)
            r = capability(x[: (x.size // n) * n] if n > 1 else x, lsl=lsl, usl=usl, target=target,
                           subgroup_size=n, strategy=strategy)
    except InvalidInputError:
        return {}
    out = {"Cp": r.cp, "Cpk": r.cpk, "Pp": r.pp, "Ppk": r.ppk}
    if lsl is not None and usl is not None:
        out["Cpm"] = r.cpm
    return {k: float(v) for k, v in out.items()}


def add_statistics(root: etree._Element, statistics: Mapping[str, Mapping[str, float]],
                   measurement_ids: Mapping[str, list[str]], spec_info: Mapping[tuple, tuple[str, str, str]],
                   ids, *, study: str = "capability", subgroup_size: int = 1) -> None:
    """Append ``Statistics`` (one study of every characteristic in ``statistics``) to a results document."""
    if study != "capability":
        raise FormatError(f"unknown QIF study {study!r}; written: capability", field="study")
    type_of = {spec[1]: info[0] for spec, info in spec_info.items()}  # characteristic key -> QIF type
    keys = [k for k in statistics if k in measurement_ids]
    unknown = [k for k in statistics if k not in measurement_ids]
    if unknown:
        raise FormatError(f"statistics for characteristic {unknown[0]!r}, which has no measurements in the table",
                          field="statistics")
    if not keys:
        return
    stats_el = etree.SubElement(root, Q + "Statistics")
    results = etree.SubElement(stats_el, Q + "StatisticalStudiesResults", n="1")
    cap = etree.SubElement(results, Q + "CapabilityStudyResults", id=ids())
    status_all = []
    chars = etree.SubElement(cap, Q + "CharacteristicsStats", n=str(len(keys)))
    for key in keys:
        values = statistics[key]
        el = etree.SubElement(chars, Q + type_of[key] + "CharacteristicStats")
        mids = measurement_ids[key]
        measured = etree.SubElement(etree.SubElement(el, Q + "MeasuredIds"), Q + "Ids", n=str(len(mids)))
        for mid in mids:
            etree.SubElement(measured, Q + "Id").text = mid
        status = "PASS" if values.get("NumberOutOfTolerance", 0) == 0 and "NumberOutOfTolerance" in values \
            else ("FAIL" if values.get("NumberOutOfTolerance") else "INFORMATIONAL")
        status_all.append(status)
        etree.SubElement(etree.SubElement(el, Q + "Status"), Q + "StatsEvalStatusEnum").text = status
        vs = etree.SubElement(el, Q + "ValueStats")
        written = 0
        for name in DECIMAL_STATS:
            if name in values:
                etree.SubElement(etree.SubElement(vs, Q + name), Q + "Value").text = dec(values[name], name)
                written += 1
        for name in COUNT_STATS:
            if name in values:
                count = int(values[name])
                if count < 0:
                    raise FormatError(f"{name} must be >= 0", field=name)
                etree.SubElement(etree.SubElement(vs, Q + name), Q + "Value").text = str(count)
                written += 1
        if not written:
            el.remove(vs)
    n_samples = sum(len(measurement_ids[k]) for k in keys)
    status = "FAIL" if "FAIL" in status_all else ("PASS" if all(s == "PASS" for s in status_all) else "INFORMATIONAL")
    # Status comes before CharacteristicsStats in the schema
    status_el = etree.Element(Q + "Status")
    etree.SubElement(status_el, Q + "StatsEvalStatusEnum").text = status
    cap.insert(0, status_el)
    etree.SubElement(cap, Q + "NumberOfSamples").text = str(max(n_samples, 1))
    if subgroup_size > 1:
        etree.SubElement(cap, Q + "SubgroupSize").text = str(int(subgroup_size))


def write_statistics(table: pa.Table, *, subgroup_size: int = 1, strategy: str | None = None,
                     statistics: Mapping[str, Mapping[str, float]] | None = None, **options) -> bytes:
    """Write the measurements with a QIF capability study computed by the kernels (or given)."""
    from jingce.formats.qif.writer import write

    if table.num_rows and "part_number" in table.column_names and len(set(table.column("part_number").to_pylist())) > 1:
        raise FormatError("a QIF statistics document covers one part number", field="part_number")
    stats = statistics if statistics is not None else statistics_from_kernels(table, subgroup_size=subgroup_size,
                                                                              strategy=strategy)
    return write(table, statistics=stats, subgroup_size=subgroup_size, **options)


__all__ = ["COUNT_STATS", "DECIMAL_STATS", "statistics_from_kernels", "write_statistics"]
