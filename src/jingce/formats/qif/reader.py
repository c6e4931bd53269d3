"""Read QIF 3 results documents into the measurement table.

What becomes what:

==========================================  ================================================
QIF                                         measurement table
==========================================  ================================================
``*CharacteristicMeasurement/Value``        ``value`` (one row per measurement)
``FileUnits`` / ``Value/@linearUnit`` ...   ``unit``
``CharacteristicItem``: designator, name    ``characteristic`` (designator, else name, else
                                            ``QIF-<id>``), ``characteristic_name``
characteristic type                         ``kind`` (Diameter -> diameter, Position ->
                                            position ...); ``Criticality`` -> ``criticality``
``CharacteristicNominal/TargetValue``       ``nominal``
``CharacteristicDefinition/Tolerance``      ``lower_limit``/``upper_limit`` (deviations added
                                            to the target unless ``DefinedAsLimit``);
``ToleranceValue`` (geometric zone)         upper limit; profiles: the zone placed by
                                            ``OuterDisposition`` (uniform when absent)
``ActualComponent/SerialNumber``            ``serial``
``Product/.../Part/ModelNumber`` (or Name)  ``part_number``
``MeasurementDevice/Name``                  ``instrument`` (through ``instruments=`` mapping
                                            when given)
``TimeStamp``, else ``InspectionEnd``,      ``measured_at`` (with offset) or ``local_time``
``InspectionStart``,
``ReportPreparationDate``
``InspectionOperator/Name``                 ``operator``
``Status``, ``MinValue``/``MaxValue``,      ``attributes`` (``qif_status``, ``qif_min``,
``NonConformanceDesignator``                ``qif_max``, ``qif_nonconformance``)
==========================================  ================================================

Documents written by jingce also carry ``jingce:*`` attributes (``QIFDocument/Attributes``
and each measurement's ``Attributes``) for the fields QIF has no element for (enterprise,
site, stage, status, machine, zone, attributes), so a written file reads back identically.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation

import pyarrow as pa
from lxml import etree

from jingce.errors import FormatError
from jingce.formats import _xml
from jingce.formats.qif._types import (
    CRITICALITY,
    DEFAULT_UNIT,
    DIMENSION,
    JINGCE_KIND,
    PROFILE_TYPES,
    SI_PINT,
    UNIT_ATTRIBUTE,
    UNIT_ELEMENT,
    VALUE_KIND,
    ZONE_TYPES,
)
from jingce.formats.registry import ReadResult
from jingce.model.batch import INPUT_SCHEMA, conform_input
from jingce.model.units import conversion_factor, has_dimension, parse_unit

NS = _xml.QIF_NS
Q = "{" + NS + "}"
MEASUREMENT_SUFFIX = "CharacteristicMeasurement"
JINGCE = "jingce:"  # prefix of the jingce attributes (AttributeStr names)
_ROW_COLUMNS = [f.name for f in INPUT_SCHEMA]
# exact decimal arithmetic for limits (target + deviation, zone placement): enough digits for any
# two decimals of 17 significant digits within the double range, so the result rounds once, to
# the float the writer started from
EXACT = Context(prec=1000, Emax=999999, Emin=-999999)


def read(data: bytes, name: str = "<qif>", *, defaults: Mapping[str, str] | None = None, skip_bad: bool = False,
         validate: bool | str = True, instruments: Mapping[str, str | None] | None = None,
         **_ignored) -> ReadResult:
    """Read a QIF 3 results document (``QIFDocument`` with ``Results``) into the measurement table.

    Parameters
    ----------
    data : bytes
        The document.
    name : str
        File name used in error messages.
    defaults : dict, optional
        ``enterprise`` (QIF has no jingce enterprise code unless jingce wrote the file),
        ``part_number`` and ``site`` for documents without them.
    skip_bad : bool
        Skip measurements that break the schema or cannot be read, instead of refusing the file;
        each is reported in ``skipped``. Problems outside measurements always refuse the file.
    validate : bool or "structure"
        Validate against the shipped QIF 3 schema first (default, about 3 ms per measurement);
        ``"structure"`` validates everything but the schema's 657 identity constraints (about
        0.1 ms per measurement; the references the reader follows it checks itself); ``False``
        reads leniently.
    instruments : dict, optional
        ``MeasurementDevice`` name -> jingce instrument code (``None`` drops the instrument).

    Returns
    -------
    ReadResult
        ``metadata`` holds ``characteristics`` (definition, nominal and item per key, as read),
        ``devices``, ``not_numeric`` (measurements without a numeric value) and ``statistics``
        (characteristic statistics of a QIF statistics document, per characteristic key).

    Raises
    ------
    FormatError
        Naming the file, the element path (and line) and the field; nothing is returned.
    """
    root = _xml.parse(data, name)
    if root.tag != Q + "QIFDocument":
        raise FormatError(f"not a QIF 3 document: the root element is {_xml.local(root) or root.tag!r}, "
                          "expected QIFDocument", file=name, line=root.sourceline, element=_xml.path_of(root),
                          field="QIFDocument")
    if validate not in (True, False, "structure"):
        raise FormatError(f"validate must be True, False or 'structure', got {validate!r}", field="validate")
    bad: dict[etree._Element, FormatError] = {}
    if validate:
        for problem in _xml.validate(root, "qif3", identity=validate != "structure"):
            element = problem.element if problem.element is not None else root
            err = FormatError(f"does not follow the QIF 3 schema: {problem.message}", file=name,
                              line=problem.line, element=_xml.path_of(element), field=_xml.local(element))
            record = _measurement_of(element)
            if record is None or not skip_bad:
                raise err
            bad.setdefault(record, err)
    return _Document(root, name, dict(defaults or {}), instruments).read(bad, skip_bad)


def sniff(head: bytes, name: str) -> bool:
    text = head[:4096].decode("utf-8", errors="ignore")
    return "QIFDocument" in text and "qifstandards.org/xsd/qif3" in text


def _measurement_of(el: etree._Element | None) -> etree._Element | None:
    """The ``*CharacteristicMeasurement`` element ``el`` lies in (None when outside any)."""
    node = el
    while node is not None:
        parent = node.getparent()
        if parent is not None and parent.tag == Q + "CharacteristicMeasurements":
            return node
        node = parent
    return None


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    return None if el is None else el.find(Q + name)


def _path_text(el: etree._Element | None, *names: str) -> str | None:
    for n in names:
        el = _child(el, n)
        if el is None:
            return None
    return _xml.text(el)


class _Document:
    """One parsed QIF document: id index, units, parts and devices, and the record reader."""

    def __init__(self, root: etree._Element, name: str, defaults: dict, instruments) -> None:
        self.root, self.name, self.defaults = root, name, defaults
        self.instruments = instruments
        self.ids: dict[str, etree._Element] = {}
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            ident = el.get("id")
            if ident is None:
                continue
            ident = ident.strip()
            if ident in self.ids:
                raise self.error(el, "id", f"id {ident!r} is used twice (also {_xml.path_of(self.ids[ident])})")
            self.ids[ident] = el
        self.doc_attrs = _attributes(_child(root, "Attributes"))
        self.primary_units: dict[str, str] = {}
        self.other_units: set[str] = set()
        self._units()
        self._chars: dict[etree._Element, dict] = {}
        self._devices: dict[str, str | None] = {}

    # -- errors -----------------------------------------------------------------------------

    def error(self, el: etree._Element | None, field: str, message: str) -> FormatError:
        return FormatError(message, file=self.name, line=getattr(el, "sourceline", None),
                           element=_xml.path_of(el if el is not None else self.root), field=field)

    def ref(self, owner: etree._Element, field: str, suffix: str) -> etree._Element:
        """The element an ``...Id`` child of ``owner`` refers to (checking its type name)."""
        el = _child(owner, field)
        ident = _xml.text(el)
        if ident is None:
            raise self.error(owner, field, f"{field} is missing")
        target = self.ids.get(ident)
        if target is None or not _xml.local(target).endswith(suffix):
            raise self.error(el, field, f"id {ident} refers to no {suffix}")
        return target

    # -- units ------------------------------------------------------------------------------

    def _units(self) -> None:
        file_units = _child(self.root, "FileUnits")
        primary = _child(file_units, "PrimaryUnits")
        for kind, element in UNIT_ELEMENT.items():
            el = _child(primary, element)
            if el is not None:
                self.primary_units[kind] = self._unit_definition(el, kind)
        other = _child(file_units, "OtherUnits")
        if other is not None:
            for el in other:
                kind = next((k for k, e in UNIT_ELEMENT.items() if el.tag == Q + e), None)
                if kind is not None:
                    self.other_units.add(self._unit_definition(el, kind))

    def _unit_definition(self, el: etree._Element, kind: str) -> str:
        """A unit element's ``UnitName``, checked against its ``SIUnitName`` and ``Factor``."""
        unit = _path_text(el, "UnitName")
        if unit is None:
            raise self.error(el, "UnitName", "a unit needs its UnitName")
        self._check_unit(el, unit, kind)
        si = _path_text(el, "SIUnitName")
        factor = _path_text(el, "UnitConversion", "Factor")
        if si is not None and factor is not None:
            try:
                expected = conversion_factor(unit, SI_PINT.get(si, si))
                given = float(factor)
            except Exception:  # noqa: BLE001 - pint raises assorted errors (offset units, tokenizer) on odd text
                return unit  # offset units or an SI name pint does not know: UnitName alone decides
            if not (math.isfinite(given) and math.isclose(expected, given, rel_tol=1e-9)):
                raise self.error(_child(el, "UnitConversion"), "Factor",
                                 f"unit {unit!r} is {expected:g} {si}, but the file says {factor}")
        return unit

    def _check_unit(self, el: etree._Element, unit: str, kind: str) -> None:
        try:
            parse_unit(unit)
            ok = kind not in DIMENSION or has_dimension(unit, DIMENSION[kind])
        except Exception:  # noqa: BLE001 - pint raises assorted errors (tokenizer, syntax) on odd unit text
            raise self.error(el, "UnitName", f"unknown unit {unit!r}") from None
        if not ok:
            raise self.error(el, "UnitName", f"unit {unit!r} is not a {kind} unit")

    def unit_of(self, value_el: etree._Element, kind: str) -> str:
        attr = UNIT_ATTRIBUTE.get(kind)
        named = (value_el.get(attr) or "").strip() if attr else ""
        if named:
            if named not in self.other_units and named != self.primary_units.get(kind):
                self._check_unit(value_el, named, kind)
            return named
        unit = self.primary_units.get(kind) or DEFAULT_UNIT.get(kind)
        if unit is None:
            raise self.error(value_el, "unit", f"no {UNIT_ELEMENT.get(kind, kind)} in FileUnits/PrimaryUnits "
                                               f"for this {kind} value")
        return unit

    # -- product, parts, devices --------------------------------------------------------------

    def part_number(self, component: etree._Element | None) -> str:
        part = None
        if component is not None and _child(component, "AsmPathId") is not None:
            path = self.ref(component, "AsmPathId", "AsmPath")
            ids = [_xml.text(i) for i in _child(path, "ComponentIds") if isinstance(i.tag, str)] \
                if _child(path, "ComponentIds") is not None else []
            comp = self.ids.get(ids[-1]) if ids and ids[-1] else None
            if comp is not None and _child(comp, "Part") is not None:
                part = self.ids.get(_path_text(comp, "Part", "Id") or "")
        if part is None:
            parts = self.root.findall(f"{Q}Product/{Q}PartSet/{Q}Part")
            if len(parts) == 1:
                part = parts[0]
        if part is not None:
            pn = _attributes(_child(part, "Attributes")).get(JINGCE + "part_number") \
                or _path_text(part, "ModelNumber") or _path_text(part, "Name")
            if pn:
                return pn
        pn = self.defaults.get("part_number")
        if not pn:
            raise self.error(part if part is not None else self.root, "part_number",
                             "no part number: the document names no single Part with a ModelNumber or Name; "
                             "give one (--part-number)")
        return pn

    def device(self, ident: str, where: etree._Element) -> str | None:
        if ident not in self._devices:
            dev = self.ids.get(ident)
            if dev is None or dev.getparent() is None or dev.getparent().tag != Q + "MeasurementDevices":
                raise self.error(where, "MeasurementDeviceIds", f"id {ident} refers to no MeasurementDevice")
            code = _attributes(_child(dev, "Attributes")).get(JINGCE + "instrument") or _path_text(dev, "Name")
            if code is None:
                raise self.error(dev, "Name", "a MeasurementDevice needs its Name")
            if self.instruments is not None and code in self.instruments:
                code = self.instruments[code]
            self._devices[ident] = code
        return self._devices[ident]

    # -- characteristics ----------------------------------------------------------------------

    def characteristic(self, item: etree._Element, base: str) -> dict:
        """Key, name, kind, criticality, nominal and limits of a characteristic item (cached)."""
        if item in self._chars:
            return self._chars[item]
        if _xml.local(item) != base + "CharacteristicItem":
            raise self.error(item, "CharacteristicItemId", f"a {base} measurement refers to a "
                                                           f"{_xml.local(item)}")
        nominal = self.ref(item, "CharacteristicNominalId", "CharacteristicNominal")
        definition = self.ref(nominal, "CharacteristicDefinitionId", "CharacteristicDefinition")
        attrs = _attributes(_child(item, "Attributes"))
        key = (attrs.get(JINGCE + "characteristic") or _path_text(item, "CharacteristicDesignator", "Designator")
               or _path_text(item, "Name") or f"QIF-{item.get('id', '').strip()}")
        kind = VALUE_KIND.get(base)
        target = self.decimal(_child(nominal, "TargetValue"), "TargetValue")
        lower = upper = None
        tol = _child(nominal if base == "UserDefinedUnit" else definition, "Tolerance")
        if base == "UserDefinedUnit" and _child(nominal, "DefinedAsLimit") is not None:
            tol = nominal  # limits of user-defined-unit characteristics sit on the nominal
        zone = self.decimal(_child(definition, "ToleranceValue"), "ToleranceValue")
        if tol is not None:
            hi = self.decimal(_child(tol, "MaxValue"), "MaxValue")
            lo = self.decimal(_child(tol, "MinValue"), "MinValue")
            as_limit = (_path_text(tol, "DefinedAsLimit") or "false") in ("true", "1")
            if as_limit:
                lower, upper = lo, hi
            elif target is not None:
                lower = None if lo is None else EXACT.add(target, lo)
                upper = None if hi is None else EXACT.add(target, hi)
        elif zone is not None:
            if base in PROFILE_TYPES:
                outer = self.decimal(_child(definition, "OuterDisposition"), "OuterDisposition")
                upper = EXACT.divide(zone, 2) if outer is None else outer
                lower = EXACT.subtract(upper, zone)
            elif base in ZONE_TYPES:
                upper = zone
        criticality = (_path_text(item, "CharacteristicDesignator", "Criticality", "LevelEnum")
                       or _path_text(item, "CharacteristicDesignator", "Criticality", "OtherLevel")
                       or _path_text(definition, "CharacteristicDesignator", "Criticality", "LevelEnum"))
        info = {
            "key": key,
            "type": base,
            "value_kind": kind,
            "name": _given(attrs, "name", _path_text(item, "Description") or _path_text(item, "Name")),
            "kind": _given(attrs, "kind", JINGCE_KIND.get(base, "other")),
            "criticality": _given(attrs, "criticality", CRITICALITY.get((criticality or "").upper())),
            "nominal": None if target is None else float(target),
            "lower_limit": None if lower is None else float(lower),
            "upper_limit": None if upper is None else float(upper),
            "item_id": item.get("id", "").strip(),
            "nominal_id": nominal.get("id", "").strip(),
            "definition_id": definition.get("id", "").strip(),
            "devices": [_xml.text(i) for i in _child(item, "MeasurementDeviceIds") if isinstance(i.tag, str)]
            if _child(item, "MeasurementDeviceIds") is not None else [],
        }
        self._chars[item] = info
        return info

    def decimal(self, el: etree._Element | None, field: str) -> Decimal | None:
        t = _xml.text(el)
        if t is None:
            return None
        try:
            d = Decimal(t)
        except InvalidOperation:
            raise self.error(el, field, f"expected a decimal number, got {t!r}") from None
        if not d.is_finite() or not math.isfinite(float(d)):
            raise self.error(el, field, f"expected a finite number, got {t!r}")
        return d

    def time(self, el: etree._Element | None, field: str) -> dt.datetime | None:
        t = _xml.text(el)
        if t is None:
            return None
        try:
            value = dt.datetime.fromisoformat(t)
        except ValueError:
            raise self.error(el, field, f"expected an xs:dateTime such as 2026-03-01T08:15:00+08:00, got {t!r}") \
                from None
        if value.tzinfo is not None:
            try:
                value = value.astimezone(dt.UTC)
            except (OverflowError, ValueError):
                raise self.error(el, field, f"time {t!r} is out of range") from None
        return value

    # -- records ------------------------------------------------------------------------------

    def read(self, bad: dict, skip_bad: bool) -> ReadResult:
        results = _child(self.root, "Results")
        if results is None:
            raise self.error(self.root, "Results", "the document has no Results (a QIF plan or product only?)")
        enterprise = self.doc_attrs.get(JINGCE + "enterprise") or self.defaults.get("enterprise")
        if not enterprise:
            raise self.error(self.root, "enterprise", "no enterprise: QIF does not name the jingce enterprise; "
                                                      "give one (--enterprise)")
        site = self.doc_attrs.get(JINGCE + "site") or self.defaults.get("site")
        report_time = self.time(_child(_child(results, "InspectionTraceability"), "ReportPreparationDate"),
                                "ReportPreparationDate")
        results_operator = _path_text(results, "InspectionTraceability", "InspectionOperator", "Name")
        columns: dict[str, list] = {c: [] for c in _ROW_COLUMNS}
        skipped: list[FormatError] = []
        not_numeric = 0
        position = 0
        statistics = self._statistics()
        for mr in results.iterfind(f"{Q}MeasurementResultsSet/{Q}MeasurementResults"):
            trace = _child(mr, "InspectionTraceability")
            mr_time = (self.time(_child(trace, "InspectionEnd"), "InspectionEnd")
                       or self.time(_child(trace, "InspectionStart"), "InspectionStart"))
            fallback_time = mr_time or report_time
            operator = _path_text(trace, "InspectionOperator", "Name") or results_operator
            component_ids = _child(mr, "ActualComponentIds")
            first_component = next((c for c in component_ids if isinstance(c.tag, str)), None) \
                if component_ids is not None else None
            component = self.ref_text(first_component, "ActualComponentIds", "ActualComponent") \
                if first_component is not None else None
            part_number = self.part_number(component)
            serial = _path_text(component, "SerialNumber") if component is not None else None
            measurements = _child(_child(mr, "MeasuredCharacteristics"), "CharacteristicMeasurements")
            if measurements is None:
                continue
            for m in measurements:
                if not isinstance(m.tag, str):
                    continue
                pos = position
                position += 1
                if m in bad:
                    skipped.append(bad[m])
                    continue
                try:
                    row = self.record(m, enterprise, site, part_number, serial, operator, fallback_time)
                except FormatError as exc:
                    if not skip_bad:
                        raise
                    skipped.append(exc)
                    continue
                if row is None:
                    not_numeric += 1
                    continue
                row["position"] = pos
                row["line"] = m.sourceline
                for c in _ROW_COLUMNS:
                    columns[c].append(row.get(c))
        table = conform_input(pa.table({c: pa.array(v, INPUT_SCHEMA.field(c).type) for c, v in columns.items()}))
        metadata = {
            "characteristics": {c["key"]: {k: v for k, v in c.items() if k != "key"} for c in self._chars.values()},
            "devices": {k: v for k, v in self._devices.items()},
            "not_numeric": not_numeric,
            "statistics": statistics,
        }
        return ReadResult(table, tuple(skipped), metadata)

    def ref_text(self, id_el: etree._Element, field: str, suffix: str) -> etree._Element:
        ident = _xml.text(id_el)
        target = self.ids.get(ident or "")
        if target is None or not _xml.local(target).endswith(suffix):
            raise self.error(id_el, field, f"id {ident} refers to no {suffix}")
        return target

    def record(self, m: etree._Element, enterprise: str, site: str | None, part_number: str, serial: str | None,
               operator: str | None, fallback_time: dt.datetime | None) -> dict | None:
        tag = _xml.local(m)
        base = tag[:-len(MEASUREMENT_SUFFIX)] if tag.endswith(MEASUREMENT_SUFFIX) else None
        if base not in VALUE_KIND:
            raise self.error(m, "CharacteristicMeasurement", f"{tag!r} is not a QIF characteristic measurement")
        item = self.ref(m, "CharacteristicItemId", "CharacteristicItem")
        char = self.characteristic(item, base)
        kind = char["value_kind"]
        value_el = _child(m, "Value")
        if kind in (None, "text") or value_el is None:
            return None
        value = self.decimal(value_el, "Value")
        if value is None:
            raise self.error(value_el, "Value", "the Value is empty")
        attrs = _attributes(_child(m, "Attributes"))
        when = self.time(_child(m, "TimeStamp"), "TimeStamp") or fallback_time
        if _child(m, "ActualComponentId") is not None:
            component = self.ref(m, "ActualComponentId", "ActualComponent")
            serial = _path_text(component, "SerialNumber") or serial
        device_ids = _child(m, "MeasurementDeviceIds")
        ids = [_xml.text(i) for i in device_ids if isinstance(i.tag, str)] if device_ids is not None \
            else char["devices"]
        instrument = self.device(ids[0], device_ids if device_ids is not None else item) if ids and ids[0] else None
        if JINGCE + "attributes" in attrs:  # written by jingce: the row's own attributes, as they were
            extra_json = attrs[JINGCE + "attributes"] or None
            if extra_json is not None:
                try:
                    parsed = json.loads(extra_json)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    raise self.error(_child(m, "Attributes"), "jingce:attributes", "expected a JSON object")
        else:
            extra_json = self._qif_attributes(m)
        return {
            "enterprise": _given(attrs, "enterprise", enterprise),
            "site": _given(attrs, "site", site),
            "part_number": part_number,
            "serial": serial,
            "characteristic": char["key"],
            "value": float(value),
            "unit": self.unit_of(value_el, kind),
            "measured_at": when if when is not None and when.tzinfo is not None else None,
            "local_time": when if when is not None and when.tzinfo is None else None,
            "zone": attrs.get(JINGCE + "zone"),
            "stage": attrs.get(JINGCE + "stage"),
            "operator": _given(attrs, "operator", operator),
            "machine": attrs.get(JINGCE + "machine"),
            "instrument": instrument,
            "status": attrs.get(JINGCE + "status"),
            "nominal": char["nominal"],
            "lower_limit": char["lower_limit"],
            "upper_limit": char["upper_limit"],
            "characteristic_name": char["name"],
            "kind": char["kind"],
            "criticality": char["criticality"],
            "attributes": extra_json,
        }

    def _qif_attributes(self, m: etree._Element) -> str | None:
        """Status, min/max and non-conformance of a measurement, as the row's attributes JSON."""
        extra: dict = {}
        status = _path_text(m, "Status", "CharacteristicStatusEnum") or _path_text(m, "Status",
                                                                                  "OtherCharacteristicStatus")
        if status:
            extra["qif_status"] = status
        for field, key in (("MinValue", "qif_min"), ("MaxValue", "qif_max")):
            d = self.decimal(_child(m, field), field)
            if d is not None:
                extra[key] = float(d)
        nonconf = _path_text(m, "NonConformanceDesignator")
        if nonconf:
            extra["qif_nonconformance"] = nonconf
        return json.dumps(extra, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if extra else None

    # -- statistics ---------------------------------------------------------------------------

    def _statistics(self) -> dict:
        """Characteristic statistics of ``Statistics/StatisticalStudiesResults`` per characteristic key
        (found through the measurement ids they summarise)."""
        out: dict[str, dict] = {}
        for stats in self.root.iterfind(f"{Q}Statistics/{Q}StatisticalStudiesResults/*/{Q}CharacteristicsStats/*"):
            if not isinstance(stats.tag, str):
                continue
            ids = [_xml.text(i) for i in stats.iterfind(f"{Q}MeasuredIds/{Q}Ids/{Q}Id")]
            key = None
            for ident in ids:
                m = self.ids.get(ident or "")
                if m is not None and _child(m, "CharacteristicItemId") is not None:
                    item = self.ids.get(_path_text(m, "CharacteristicItemId") or "")
                    if item is not None:
                        key = (_attributes(_child(item, "Attributes")).get(JINGCE + "characteristic")
                               or _path_text(item, "CharacteristicDesignator", "Designator")
                               or _path_text(item, "Name") or f"QIF-{item.get('id', '').strip()}")
                        break
            if key is None:
                continue
            values: dict[str, float | str] = {}
            status = _path_text(stats, "Status", "StatsEvalStatusEnum")
            if status:
                values["status"] = status
            for block in ("ValueStats", "DeviationStats"):
                for el in stats.iterfind(f"{Q}{block}/*"):
                    if isinstance(el.tag, str) and _child(el, "Value") is not None:
                        d = self.decimal(_child(el, "Value"), _xml.local(el))
                        if d is not None:
                            values[_xml.local(el)] = int(d) if _xml.local(el).startswith("Number") else float(d)
            out[key] = values
        return out


def _given(attrs: dict[str, str], key: str, fallback):
    """A ``jingce:`` attribute when the writer put it there (empty meaning none), else ``fallback``."""
    if JINGCE + key in attrs:
        return attrs[JINGCE + key] or None
    return fallback


def _attributes(el: etree._Element | None) -> dict[str, str]:
    """``AttributeStr`` name/value pairs of an ``Attributes`` element."""
    if el is None:
        return {}
    return {a.get("name", ""): a.get("value", "") for a in el.iterfind(Q + "AttributeStr")}


