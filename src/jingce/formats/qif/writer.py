"""Write measurements as a QIF 3 results document (and, with statistics, a QIF statistics document).

One ``Part`` per part number, one ``MeasurementResults`` and ``ActualComponent`` per measured part
(part number and serial), one characteristic definition, nominal and item per characteristic as
it was specified when measured (key, unit, nominal, limits, kind, name, criticality), one
``*CharacteristicMeasurement`` per value. The characteristic type follows the kind and unit
(diameter -> ``Diameter``, position with an upper limit only -> ``Position`` with a zone,
others -> ``UserDefinedLinear`` / ``UserDefinedAngular`` ... with a ``Tolerance``). Fields QIF
has no element for travel as ``jingce:*`` attributes (see :mod:`jingce.formats.qif.reader`).
Every document written validates against the shipped QIF 3 schema.

References
----------
.. [1] ANSI/DMSC QIF 3.0 (ISO 23952:2020): QIFDocument.xsd, QIFResults.xsd, Characteristics.xsd,
       Units.xsd (FileUnits), Traceability.xsd (ActualComponent).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal

import pyarrow as pa
from lxml import etree

from jingce.errors import FormatError, InvalidInputError
from jingce.formats import _xml
from jingce.formats.qif._types import (
    DIMENSION,
    PROFILE_TYPES,
    SI_PINT,
    SI_UNIT,
    TYPE_FOR_KIND,
    TYPE_FOR_VALUE_KIND,
    UNIT_ATTRIBUTE,
    UNIT_ELEMENT,
    VALUE_KIND,
    ZONE_TYPES,
)
from jingce.formats.qif.reader import EXACT
from jingce.model.units import conversion_factor, has_dimension, parse_unit, registry

NS = _xml.QIF_NS
Q = "{" + NS + "}"
JINGCE = "jingce:"
_STATUS = {"PASS", "FAIL", "REWORK", "SYSERROR", "INDETERMINATE", "NOT_ANALYZED", "BASIC_OR_TED", "UNDEFINED"}
_CRITICALITY = {"critical": "CRITICAL", "major": "MAJOR", "minor": "MINOR"}
_ANGLES = ("radian", "degree", "arcminute", "arcsecond", "gradian", "turn")


def dec(x: float, field: str = "value") -> str:
    """An ``xs:decimal`` for a float: shortest round-trip digits, never an exponent."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise FormatError(f"expected a number, got {x!r}", field=field) from None
    if not math.isfinite(v):
        raise FormatError(f"QIF holds finite numbers only, got {v!r}", field=field)
    text = format(Decimal(repr(v)), "f")
    return text


def _exact(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def _iso(t: dt.datetime) -> str:
    if t.tzinfo is None:
        return t.isoformat()
    return t.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, Q + tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _attributes(parent: etree._Element, pairs: Mapping[str, str | None]) -> None:
    items = [(k, v) for k, v in pairs.items() if v is not None]
    if items:
        attrs = _sub(parent, "Attributes", n=len(items))
        for k, v in items:
            _sub(attrs, "AttributeStr", name=k, value=v)


def value_kind(unit: str) -> str:
    """The QIF value kind of a unit (``linear``, ``angular``, ``temperature`` ...)."""
    try:
        parse_unit(unit)
        for kind, dim in DIMENSION.items():
            if kind == "angular":
                continue
            if has_dimension(unit, dim):
                return kind
        if has_dimension(unit, "dimensionless"):
            canonical = str(parse_unit(unit))
            if any(a in canonical for a in _ANGLES):
                return "angular"
    except Exception:  # noqa: BLE001 - pint raises assorted errors (tokenizer, syntax) on odd unit text
        raise FormatError(f"unknown unit {unit!r}", field="unit") from None
    raise FormatError(f"unit {unit!r} has no QIF value type (QIF 3 holds length, angle, area, force, mass, "
                      "pressure, speed, temperature and time values)", field="unit")


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> str:
        self.last += 1
        return str(self.last)


def _column(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def write(table: pa.Table, *, enterprise: str | None = None, part_number: str | None = None,
          statistics: Mapping[str, Mapping[str, float]] | None = None, study: str = "capability",
          subgroup_size: int = 1,
          application: str = "jingce", validate: bool | str = "structure", **_ignored) -> bytes:
    """Write measurements as a QIF 3 results document.

    Parameters
    ----------
    table : pyarrow.Table
        Rows with the columns of :data:`jingce.model.batch.INPUT_SCHEMA` (at least
        ``characteristic``, ``value`` and ``unit``; ``enterprise``/``part_number`` may instead be
        given as arguments). Times: ``measured_at`` (UTC) or ``local_time``.
    enterprise, part_number : str, optional
        For tables without those columns.
    statistics : mapping, optional
        Characteristic statistics per characteristic key (see :func:`statistics_from_kernels`):
        written as a QIF statistics study of kind ``study`` referring to the measurements.
    validate : bool or "structure"
        Check the written document against the shipped schema: ``"structure"`` (default) without
        its identity constraints, which cost about 3 ms per measurement; ``True`` in full (the
        tests check every document they write in full); ``False`` not at all.

    Raises
    ------
    FormatError
        A row QIF cannot hold (no unit, a unit without a QIF value type, a non-finite number),
        naming the field and the row's position.
    """
    n = table.num_rows
    if n == 0:
        raise FormatError("no measurements to write", field="table")
    cols = {c: _column(table, c) for c in (
        "enterprise", "site", "part_number", "serial", "characteristic", "value", "unit", "measured_at",
        "local_time", "zone", "stage", "operator", "machine", "instrument", "status", "nominal", "lower_limit",
        "upper_limit", "characteristic_name", "kind", "criticality", "attributes", "position")}
    if enterprise:
        cols["enterprise"] = [e or enterprise for e in cols["enterprise"]]
    if part_number:
        cols["part_number"] = [p or part_number for p in cols["part_number"]]
    for field in ("enterprise", "part_number", "characteristic", "value", "unit"):
        missing = [i for i, v in enumerate(cols[field]) if v is None or v == ""]
        if missing:
            raise FormatError(f"a {field} is needed for every row", field=field, position=_pos(cols, missing[0]))
    ids = _Ids()
    root = etree.Element(Q + "QIFDocument", nsmap={None: NS}, versionQIF="3.0.0", idMax="0")
    _sub(root, "QPId", str(uuid.uuid4()))
    ent_main = Counter(cols["enterprise"]).most_common(1)[0][0]
    site_main = Counter(cols["site"]).most_common(1)[0][0]
    _attributes(root, {JINGCE + "enterprise": ent_main, JINGCE + "site": site_main})
    header = etree.SubElement(root, Q + "Header")
    _sub(_sub(header, "Application"), "Name", application)
    standard_id = ids()
    std = _sub(_sub(root, "StandardsDefinitions", n=1), "Standard", id=standard_id)
    _sub(_sub(std, "Organization"), "StandardsOrganizationEnum", "ISO")
    _sub(std, "Designator", "1101")
    _sub(std, "Year", "2017")

    # units: per value kind the most used unit is primary, the others are named on each value
    kinds = []
    for i, u in enumerate(cols["unit"]):
        try:
            kinds.append(value_kind(u))
        except FormatError as exc:
            raise FormatError(exc.message, field="unit", position=_pos(cols, i)) from None
    primary: dict[str, str] = {}
    for (kind, unit), _count in Counter(zip(kinds, cols["unit"], strict=True)).most_common():
        primary.setdefault(kind, unit)
    others = sorted({(k, u) for k, u in zip(kinds, cols["unit"], strict=True) if primary[k] != u})
    file_units = _sub(root, "FileUnits")
    prim = _sub(file_units, "PrimaryUnits")
    for element in ("AreaUnit", "AngularUnit", "ForceUnit", "LinearUnit", "MassUnit", "PressureUnit",
                    "SpeedUnit", "TemperatureUnit", "TimeUnit"):
        kind = next(k for k, e in UNIT_ELEMENT.items() if e == element)
        if kind in primary:
            _unit_element(prim, element, primary[kind], kind)
    if others:
        other = _sub(file_units, "OtherUnits", n=len(others))
        for element in ("AreaUnit", "AngularUnit", "ForceUnit", "LinearUnit", "MassUnit", "PressureUnit",
                        "SpeedUnit", "TemperatureUnit", "TimeUnit"):
            for kind, unit in others:
                if UNIT_ELEMENT[kind] == element:
                    _unit_element(other, element, unit, kind)

    # devices
    device_of: dict[str, str] = {}
    devices = [d for d in dict.fromkeys(cols["instrument"]) if d]
    if devices:
        res = _sub(_sub(root, "MeasurementResources"), "MeasurementDevices", n=len(devices))
        for code in devices:
            device_of[code] = ids()
            dev = _sub(res, "MeasurementDevice", id=device_of[code])
            _sub(dev, "Name", _token(code))
            _attributes(dev, {JINGCE + "instrument": code})

    # product: one Part, Component and AsmPath per part number
    part_numbers = list(dict.fromkeys(cols["part_number"]))
    product = _sub(root, "Product")
    part_set = _sub(product, "PartSet", n=len(part_numbers))
    part_ids = {}
    for pn in part_numbers:
        part_ids[pn] = ids()
        _sub(_sub(part_set, "Part", id=part_ids[pn]), "ModelNumber", pn)
    comp_set = _sub(product, "ComponentSet", n=len(part_numbers))
    comp_ids = {}
    for pn in part_numbers:
        comp_ids[pn] = ids()
        _sub(_sub(_sub(comp_set, "Component", id=comp_ids[pn]), "Part"), "Id", part_ids[pn])
    paths = _sub(product, "AsmPaths", n=len(part_numbers))
    path_ids = {}
    for pn in part_numbers:
        path_ids[pn] = ids()
        _sub(_sub(_sub(paths, "AsmPath", id=path_ids[pn]), "ComponentIds", n=1), "Id", comp_ids[pn])

    # characteristics: one definition, nominal and item per distinct specification
    spec_fields = ("part_number", "characteristic", "unit", "nominal", "lower_limit", "upper_limit", "kind",
                   "characteristic_name", "criticality")
    specs = list(dict.fromkeys(tuple(cols[f][i] for f in spec_fields) for i in range(n)))
    chars = _sub(root, "Characteristics")
    _sub(chars, "FormalStandardId", standard_id)
    defs = _sub(chars, "CharacteristicDefinitions", n=len(specs))
    noms = _sub(chars, "CharacteristicNominals", n=len(specs))
    items = _sub(chars, "CharacteristicItems", n=len(specs))
    spec_info: dict[tuple, tuple[str, str, str]] = {}  # spec -> (type, item id, value kind)
    for spec in specs:
        s = dict(zip(spec_fields, spec, strict=True))
        kind = value_kind(s["unit"])
        qtype = _qif_type(s, kind)
        def_id, nom_id, item_id = ids(), ids(), ids()
        d = _sub(defs, qtype + "CharacteristicDefinition", id=def_id)
        _definition(d, qtype, s)
        nom = _sub(noms, qtype + "CharacteristicNominal", id=nom_id)
        _sub(nom, "CharacteristicDefinitionId", def_id)
        if s["nominal"] is not None and qtype not in ZONE_TYPES:
            _sub(nom, "TargetValue", dec(s["nominal"], "nominal"))
        it = _sub(items, qtype + "CharacteristicItem", id=item_id)
        _attributes(it, {JINGCE + "characteristic": s["characteristic"], JINGCE + "kind": s["kind"] or "",
                         JINGCE + "name": s["characteristic_name"] or "",
                         JINGCE + "criticality": s["criticality"] or ""})
        if s["characteristic_name"]:
            _sub(it, "Description", s["characteristic_name"])
        _sub(it, "Name", _token(s["characteristic"]))
        desig = _sub(it, "CharacteristicDesignator")
        _sub(desig, "Designator", _token(s["characteristic"]))
        if s["criticality"] in _CRITICALITY:
            _sub(_sub(desig, "Criticality"), "LevelEnum", _CRITICALITY[s["criticality"]])
        _sub(it, "CharacteristicNominalId", nom_id)
        spec_info[spec] = (qtype, item_id, kind)

    # results: one MeasurementResults and ActualComponent per (part number, serial)
    groups: dict[tuple, list[int]] = {}
    for i in range(n):
        groups.setdefault((cols["part_number"][i], cols["serial"][i]), []).append(i)
    results = _sub(root, "Results")
    mrs = _sub(results, "MeasurementResultsSet", n=len(groups))
    comp_of_group = {}
    measurement_ids: dict[str, list[str]] = {}
    for (pn, serial), rows in groups.items():
        mr = _sub(mrs, "MeasurementResults", id=ids())
        cm = _sub(_sub(mr, "MeasuredCharacteristics"), "CharacteristicMeasurements", n=len(rows))
        statuses = []
        for i in rows:
            spec = tuple(cols[f][i] for f in spec_fields)
            qtype, item_id, kind = spec_info[spec]
            mid = ids()
            measurement_ids.setdefault(cols["characteristic"][i], []).append(mid)
            m = _sub(cm, qtype + "CharacteristicMeasurement", id=mid)
            status = _status(cols, i)
            statuses.append(status)
            extra = {JINGCE + "attributes": cols["attributes"][i] or ""}
            if cols["enterprise"][i] != ent_main:
                extra[JINGCE + "enterprise"] = cols["enterprise"][i]
            if cols["site"][i] != site_main:
                extra[JINGCE + "site"] = cols["site"][i] or ""
            for f in ("stage", "status", "machine", "zone", "operator"):
                if cols[f][i] is not None:
                    extra[JINGCE + f] = cols[f][i]
            _attributes(m, extra)
            _sub(_sub(m, "Status"), "CharacteristicStatusEnum", status)
            _sub(m, "CharacteristicItemId", item_id)
            when = cols["measured_at"][i] or cols["local_time"][i]
            if when is not None:
                _sub(m, "TimeStamp", _iso(when))
            if cols["instrument"][i]:
                _sub(_sub(m, "MeasurementDeviceIds", n=1), "Id", device_of[cols["instrument"][i]])
            v = _sub(m, "Value", dec(cols["value"][i], "value"))
            if cols["unit"][i] != primary[kind]:
                v.set(UNIT_ATTRIBUTE[kind], cols["unit"][i])
        overall = "FAIL" if "FAIL" in statuses else ("PASS" if all(s == "PASS" for s in statuses) else "UNDEFINED")
        _sub(_sub(mr, "InspectionStatus"), "InspectionStatusEnum", overall)
        comp_of_group[(pn, serial)] = (ids(), overall)
        _sub(_sub(mr, "ActualComponentIds", n=1), "Id", comp_of_group[(pn, serial)][0])
    sets = _sub(results, "ActualComponentSets", n=len(groups))
    for (pn, serial), (cid, overall) in comp_of_group.items():
        comp = _sub(_sub(sets, "ActualComponentSet", n=1), "ActualComponent", id=cid)
        if serial is not None:
            _sub(comp, "SerialNumber", serial)
        _sub(_sub(comp, "Status"), "InspectionStatusEnum", overall)
        _sub(comp, "AsmPathId", path_ids[pn])

    if statistics:
        from jingce.formats.qif.statistics import add_statistics

        add_statistics(root, statistics, measurement_ids, spec_info, ids, study=study, subgroup_size=subgroup_size)
    root.set("idMax", str(ids.last))
    out = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if validate:
        problems = _xml.validate(root, "qif3", identity=validate != "structure")
        if problems:  # a bug of this writer, never the user's data
            p = problems[0]
            raise AssertionError(f"written QIF does not validate: {p.message} at {_xml.path_of(p.element)}")
    return out


def _pos(cols: dict, i: int):
    pos = cols["position"][i]
    return i if pos is None else pos


def _token(text: str) -> str:
    """``xs:token`` collapses whitespace; keys with other whitespace keep their exact text in
    the ``jingce:characteristic`` attribute."""
    return " ".join(str(text).split()) or "-"


def _status(cols: dict, i: int) -> str:
    attrs = cols["attributes"][i]
    if attrs:
        try:
            given = json.loads(attrs).get("qif_status")
        except (ValueError, AttributeError):
            given = None
        if given in _STATUS:
            return given
    v, lo, hi = cols["value"][i], cols["lower_limit"][i], cols["upper_limit"][i]
    if lo is None and hi is None:
        return "UNDEFINED"
    return "FAIL" if (lo is not None and v < lo) or (hi is not None and v > hi) else "PASS"


def _qif_type(s: dict, kind: str) -> str:
    qtype = TYPE_FOR_KIND.get(s["kind"] or "") if kind == "linear" else None
    if kind == "angular" and s["kind"] == "angle":
        qtype = "Angle"
    if qtype in ZONE_TYPES:
        lo, hi, nom = s["lower_limit"], s["upper_limit"], s["nominal"]
        fits = (nom is None and hi is not None and hi > 0 and lo is None) if qtype not in PROFILE_TYPES else \
            (nom is None and lo is not None and hi is not None and lo < 0 < hi)
        if not fits:
            qtype = None
    return qtype or TYPE_FOR_VALUE_KIND[kind]


def _definition(d: etree._Element, qtype: str, s: dict) -> None:
    lo, hi, nom = s["lower_limit"], s["upper_limit"], s["nominal"]
    if qtype in ZONE_TYPES:
        if qtype in PROFILE_TYPES:
            width = EXACT.subtract(_exact(hi), _exact(lo))
            _sub(d, "ToleranceValue", format(width, "f"))
            _sub(d, "OuterDisposition", dec(hi, "upper_limit"))
        else:
            _sub(d, "ToleranceValue", dec(hi, "upper_limit"))
        return
    if lo is None and hi is None:
        _sub(d, "NonTolerance", "MEASURED")
    else:
        tol = _sub(d, "Tolerance")
        if nom is None:
            if hi is not None:
                _sub(tol, "MaxValue", dec(hi, "upper_limit"))
            if lo is not None:
                _sub(tol, "MinValue", dec(lo, "lower_limit"))
            _sub(tol, "DefinedAsLimit", "true")
        else:
            if hi is not None:
                _sub(tol, "MaxValue", format(EXACT.subtract(_exact(hi), _exact(nom)), "f"))
            if lo is not None:
                _sub(tol, "MinValue", format(EXACT.subtract(_exact(lo), _exact(nom)), "f"))
            _sub(tol, "DefinedAsLimit", "false")
    if qtype.startswith("UserDefined"):
        _sub(d, "WhatToMeasure", s["characteristic_name"] or str(s["characteristic"]))


def _unit_element(parent: etree._Element, element: str, unit: str, kind: str) -> None:
    el = _sub(parent, element)
    _sub(el, "SIUnitName", SI_UNIT[kind])
    si = SI_PINT.get(SI_UNIT[kind], SI_UNIT[kind])
    _sub(el, "UnitName", unit)
    ureg = registry()
    try:
        factor = conversion_factor(unit, si)
        offset = 0.0
    except InvalidInputError:  # offset units (degC, degF): factor and offset from two points
        zero = ureg.Quantity(0.0, parse_unit(unit)).to(si).magnitude
        one = ureg.Quantity(1.0, parse_unit(unit)).to(si).magnitude
        factor, offset = one - zero, zero
    conv = _sub(el, "UnitConversion")
    _sub(conv, "Factor", dec(factor, "unit"))
    if offset:
        _sub(conv, "Offset", dec(offset, "unit"))


__all__ = ["dec", "value_kind", "write", "VALUE_KIND"]
