"""PTB Digital Calibration Certificate (DCC 3.x with D-SI 2.1.0): read and write.

:func:`read` turns a certificate into a :class:`DccCertificate` (pure data, no store): the
certificate number and dates, the calibration laboratory, the calibrated item(s) with their
identifications, the measuring equipment (standards) used — the traceability edges — and the
results as D-SI quantities (values, unit, expanded uncertainty U with coverage factor k and
coverage probability p). :meth:`DccCertificate.summary` condenses it into what a jingce
:class:`~jingce.model.Calibration` records. :func:`write` writes a :class:`DccCertificate`;
:func:`certificate_from_calibration` builds one from a calibration, its instrument, lab and
standards. Both directions are checked against the DCC 3.1.2 / D-SI 2.1.0 schemas shipped in
``jingce/formats/schemas/dcc`` (LGPL-3.0), offline; ``read(write(c)) == c``.

Reading is strict about version: 3.1.2 documents must validate; other 3.x documents are
checked against the 3.1.2 schema tolerating only their ``schemaVersion`` attribute (PTB's
3.1.1 examples differ from 3.1.2 in nothing else), so a 3.x certificate with any other
deviation is refused unless ``validate=False``.

What is read (everything else — methods, influence conditions, texts — is left in the file):

- ``coreData``: uniqueIdentifier (the certificate number), countries, languages, performance dates
  and location, receipt date;
- ``items/item``: name, manufacturer, model, identifications (issuer, value, name);
- ``calibrationLaboratory``: code, contact (name, e-mail, phone, location);
- ``respPersons`` (names, main signer), ``customer`` contact;
- ``statements``: conformity, recalibration date (``refType="basic_recalibration"``), and jingce's
  own ``jingce_calibrationResult``;
- ``measurementResults``: per measurement result its name, ``measuringEquipments`` (name,
  refType, identifications, referenced certificate) and ``results`` with every D-SI real
  quantity inside (``si:real``, ``si:realListXMLList``, the first representation of a
  ``si:hybrid``, ``si:list``/``si:realList``), with ``si:expandedUnc`` (or its XML-list form,
  broadcast to every value) and the quantity's conformity metadata.

References
----------
.. [1] PTB, Digital Calibration Certificate (DCC) XML schema 3.1.2, https://ptb.de/dcc/v3.1.2/ ;
       DCC Good Practice (refTypes ``basic_*``).
.. [2] D. Hutzschenreuter et al., SmartCom Digital System of Units (D-SI) Guide, version 2.0, PTB
       (2020), D-SI schema 2.1.0 (DOI 10.5281/zenodo.3366901): si:real, si:expandedUnc,
       si:realListXMLList, si:hybrid; unit text after the BIPM SI brochure, 9th edition.
.. [3] JCGM 100:2008 (GUM) 6.2, 7.2.3: expanded uncertainty U = k u, reported with k and p.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from jingce.errors import FormatError
from jingce.formats import _xml
from jingce.model.units import parse_unit, registry

D = "{" + _xml.DCC_NS + "}"
S = "{" + _xml.SI_NS + "}"
SCHEMA_VERSION = "3.1.2"
_VERSION = re.compile(r"^3\.\d+\.\d+(-[0-9A-Za-z.]+)?$")

Text = tuple[tuple[str | None, str], ...]
"""A DCC text block: (language or None, text) for each ``dcc:content``."""


def text_of(block: Text, lang: str = "en") -> str | None:
    """The content in ``lang``, else the first content (None for an empty block)."""
    for la, t in block:
        if la == lang:
            return t
    return block[0][1] if block else None


@dataclass(frozen=True, slots=True)
class Identification:
    """One ``dcc:identification``: who issued the number (manufacturer, calibrationLaboratory,
    customer, owner, other), the number, and what it is called."""

    issuer: str
    value: str
    name: Text = ()


@dataclass(frozen=True, slots=True)
class Location:
    city: str | None = None
    country_code: str | None = None
    post_code: str | None = None
    street: str | None = None
    street_no: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A ``dcc:contact`` (laboratory, customer) or a person."""

    name: Text
    email: str | None = None
    phone: str | None = None
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A calibrated object (``dcc:item``)."""

    name: Text
    manufacturer: Text
    identifications: tuple[Identification, ...]
    model: str | None = None
    element: str = dataclasses.field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Equipment:
    """Measuring equipment used (``dcc:measuringEquipment``): a standard of the traceability chain."""

    name: Text
    identifications: tuple[Identification, ...] = ()
    ref_type: str | None = None
    certificate: str | None = None  # dcc:certificate/dcc:referralID: the standard's own certificate
    element: str = dataclasses.field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class DsiQuantity:
    """A D-SI real quantity (one value or a list), with its expanded uncertainty when stated.

    ``unit`` is the D-SI unit text (``\\milli\\metre``); :attr:`pint_unit` is the same unit as jingce
    writes units (``mm``). Uncertainty tuples have one entry per value (XML lists of length one
    are broadcast).
    """

    values: tuple[float, ...]
    unit: str
    name: Text = ()
    ref_type: str | None = None
    expanded_uncertainty: tuple[float, ...] | None = None
    coverage_factor: tuple[float, ...] | None = None
    coverage_probability: tuple[float, ...] | None = None
    distribution: str | None = None
    conformity: tuple[str, ...] = ()
    element: str = dataclasses.field(default="", compare=False)

    @property
    def pint_unit(self) -> str:
        return unit_from_dsi(self.unit)

    @classmethod
    def from_dsi(cls, item: Mapping, *, ref_type: str | None = None, name: Text = ()) -> DsiQuantity:
        """A quantity from the D-SI structure the uncertainty kernels produce
        (:func:`jingce.kernels.uncertainty.to_dsi`: ``{"si:real": {"si:label", "si:value", "si:unit",
        "si:expandedUnc": {...}}}``), so a GUM evaluation can be stated in a certificate. A
        Monte Carlo result (``si:coverageInterval``) has no expanded uncertainty with a coverage
        factor and is refused."""
        real = item.get("si:real") if isinstance(item, Mapping) else None
        if not isinstance(real, Mapping):
            raise FormatError("expected a D-SI si:real structure", field="si:real")
        if "si:coverageInterval" in real:
            raise FormatError("a coverage interval (Monte Carlo) has no coverage factor; state it with "
                              "si:coverageInterval, which DCC quantities here do not carry", field="si:coverageInterval")
        label = real.get("si:label")
        unc = real.get("si:expandedUnc")
        try:
            return cls(values=(float(real["si:value"]),), unit=str(real["si:unit"]),
                       name=name or (((None, str(label)),) if label else ()), ref_type=ref_type,
                       expanded_uncertainty=None if unc is None else (float(unc["si:uncertainty"]),),
                       coverage_factor=None if unc is None else (float(unc["si:coverageFactor"]),),
                       coverage_probability=None if unc is None else (float(unc["si:coverageProbability"]),),
                       distribution=None if unc is None else unc.get("si:distribution"))
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"incomplete D-SI si:real structure ({exc})", field="si:real") from None


@dataclass(frozen=True, slots=True)
class Result:
    """A ``dcc:result``: its name and the D-SI quantities in its data (lists flattened, in order)."""

    name: Text
    quantities: tuple[DsiQuantity, ...]
    ref_type: str | None = None


@dataclass(frozen=True, slots=True)
class MeasurementResult:
    name: Text
    results: tuple[Result, ...]
    equipment: tuple[Equipment, ...] = ()


@dataclass(frozen=True, slots=True)
class CalibrationSummary:
    """What a jingce calibration record takes from a certificate (units as jingce writes them)."""

    certificate_no: str
    calibrated_at: dt.datetime
    valid_until: dt.datetime | None
    result: str | None
    expanded_uncertainty: float
    coverage_factor: float
    coverage_probability: float | None
    unit: str
    error_as_found: float | None
    error_as_left: float | None
    source: str  # element path of the quantity the uncertainty came from


@dataclass(frozen=True, slots=True)
class DccCertificate:
    """A Digital Calibration Certificate as data (see the module docstring for what is kept)."""

    unique_identifier: str
    country_code: str
    languages: tuple[str, ...]
    mandatory_languages: tuple[str, ...]
    begin_performance: dt.date
    end_performance: dt.date
    performance_location: str
    items: tuple[Item, ...]
    laboratory: Contact
    customer: Contact
    measurement_results: tuple[MeasurementResult, ...]
    laboratory_code: str | None = None
    responsible_persons: tuple[tuple[str, bool], ...] = ()
    software: tuple[tuple[str, str], ...] = (("jingce", "0.1.0"),)
    receipt_date: dt.date | None = None
    conformity: str | None = None
    recalibration_date: dt.date | None = None
    jingce_result: str | None = None
    schema_version: str = dataclasses.field(default=SCHEMA_VERSION, compare=False)  # of the file read

    @property
    def equipment(self) -> tuple[Equipment, ...]:
        """Every measuring equipment used, over all measurement results (the traceability edges)."""
        seen: dict[Equipment, None] = {}
        for mr in self.measurement_results:
            for e in mr.equipment:
                seen.setdefault(e, None)
        return tuple(seen)

    @property
    def quantities(self) -> tuple[DsiQuantity, ...]:
        return tuple(q for mr in self.measurement_results for r in mr.results for q in r.quantities)

    def summary(self) -> CalibrationSummary:
        """Condense the certificate into one calibration record.

        The uncertainty is the largest expanded uncertainty stated for a measurement error
        (``refType`` ``basic_measurementError``), else for any result quantity, else jingce's own
        ``jingce_expandedUncertainty``; k and p are those stated with it. ``error_as_found`` is the
        error of largest magnitude (sign kept) of the as-found (or only) errors, ``error_as_left``
        the same for results marked ``jingce_asLeft``. The result: jingce's own statement, else
        the conformity statements (``pass`` -> pass, ``fail`` and the like -> out_of_tolerance,
        adjusted when the as-found errors failed and the as-left ones passed), else None.

        Raises
        ------
        FormatError
            The certificate states no expanded uncertainty for any result.
        """
        found, left, others = [], [], []
        for mr in self.measurement_results:
            for r in mr.results:
                bucket = left if _has(r.ref_type, "jingce_asLeft") else found
                for q in r.quantities:
                    (bucket if _has(q.ref_type, "basic_measurementError") else others).append(q)
        candidates = [q for q in found + left if q.expanded_uncertainty] or \
            [q for q in others if q.expanded_uncertainty]
        source = None
        if candidates:
            best = max(((q, i) for q in candidates for i in range(len(q.values))),
                       key=lambda qi: _to_first_unit(qi[0], candidates[0], qi[1]))
            q, i = best
            u = q.expanded_uncertainty[i] * _factor(q.pint_unit, candidates[0].pint_unit)
            k = q.coverage_factor[i] if q.coverage_factor else 2.0
            p = q.coverage_probability[i] if q.coverage_probability else None
            unit, source = candidates[0].pint_unit, q.element
        else:
            jq = {ref: q for q in others for ref in ("jingce_expandedUncertainty", "jingce_coverageFactor",
                                                       "jingce_coverageProbability") if _has(q.ref_type, ref)}
            if "jingce_expandedUncertainty" not in jq:
                raise FormatError("the certificate states no expanded uncertainty for any result",
                                  element="/dcc:digitalCalibrationCertificate/dcc:measurementResults",
                                  field="si:expandedUnc")
            uq = jq["jingce_expandedUncertainty"]
            u, unit, source = uq.values[0], uq.pint_unit, uq.element
            k = jq["jingce_coverageFactor"].values[0] if "jingce_coverageFactor" in jq else 2.0
            p = jq["jingce_coverageProbability"].values[0] if "jingce_coverageProbability" in jq else None
        errors_found = [q for q in found if _has(q.ref_type, "basic_measurementError")]
        errors_left = [q for q in left if _has(q.ref_type, "basic_measurementError")]
        result = self.jingce_result
        if result is None:
            c_found = [c for q in errors_found for c in q.conformity]
            c_left = [c for q in errors_left for c in q.conformity]
            overall = [self.conformity] if self.conformity else []
            if errors_left and any(_fails(c) for c in c_found) and c_left and not any(_fails(c) for c in c_left):
                result = "adjusted"
            elif any(_fails(c) for c in overall + c_found + c_left):
                result = "out_of_tolerance"
            elif overall or c_found or c_left:
                result = "pass"
        return CalibrationSummary(
            certificate_no=self.unique_identifier,
            calibrated_at=dt.datetime.combine(self.end_performance, dt.time(), dt.UTC),
            valid_until=None if self.recalibration_date is None
            else dt.datetime.combine(self.recalibration_date, dt.time(), dt.UTC),
            result=result, expanded_uncertainty=float(u), coverage_factor=float(k),
            coverage_probability=None if p is None else float(p), unit=unit,
            error_as_found=_largest(errors_found, unit), error_as_left=_largest(errors_left, unit),
            source=source or "")


def _has(ref_type: str | None, name: str) -> bool:
    return ref_type is not None and name in ref_type.split()


def _fails(conformity: str) -> bool:
    return conformity in ("fail", "conditionalFail", "noPass")


def _factor(from_unit: str, to_unit: str) -> float:
    if from_unit == to_unit:
        return 1.0
    try:
        return registry().Quantity(1.0, parse_unit(from_unit)).to(parse_unit(to_unit)).magnitude
    except Exception:  # noqa: BLE001 - incompatible units: pint raises several kinds
        raise FormatError(f"results in {from_unit!r} and {to_unit!r} cannot be compared", field="si:unit") from None


def _to_first_unit(q: DsiQuantity, first: DsiQuantity, i: int) -> float:
    return q.expanded_uncertainty[i] * _factor(q.pint_unit, first.pint_unit)


def _largest(quantities: list[DsiQuantity], unit: str) -> float | None:
    best = None
    for q in quantities:
        f = _factor(q.pint_unit, unit)
        for v in q.values:
            if best is None or abs(v * f) > abs(best):
                best = v * f
    return best


# -- D-SI units -------------------------------------------------------------------------------

_DSI_UNITS = {
    "metre": "meter", "kilogram": "kilogram", "gram": "gram", "second": "second", "ampere": "ampere",
    "kelvin": "kelvin", "mole": "mole", "candela": "candela", "radian": "radian", "steradian": "steradian",
    "hertz": "hertz", "newton": "newton", "pascal": "pascal", "joule": "joule", "watt": "watt",
    "coulomb": "coulomb", "volt": "volt", "farad": "farad", "ohm": "ohm", "siemens": "siemens", "weber": "weber",
    "tesla": "tesla", "henry": "henry", "degreecelsius": "degree_Celsius", "lumen": "lumen", "lux": "lux",
    "becquerel": "becquerel", "gray": "gray", "sievert": "sievert", "katal": "katal", "minute": "minute",
    "hour": "hour", "day": "day", "degree": "degree", "arcminute": "arcminute", "arcsecond": "arcsecond",
    "hectare": "hectare", "litre": "liter", "tonne": "metric_ton", "electronvolt": "electron_volt",
    "dalton": "dalton", "astronomicalunit": "astronomical_unit", "neper": "neper", "bel": "bel",
    "decibel": "decibel", "percent": "percent", "ppm": "ppm", "one": None, "bar": "bar",
}
_PINT_TO_DSI = {v: k for k, v in _DSI_UNITS.items() if v is not None and k != "kilogram"}
_DSI_PREFIXES = ("yotta", "zetta", "exa", "peta", "tera", "giga", "mega", "kilo", "hecto", "deca", "deci", "centi",
                 "milli", "micro", "nano", "pico", "femto", "atto", "zepto", "yocto", "kibi", "mebi", "gibi", "tebi",
                 "pebi", "exbi", "zebi", "yobi")
_TOKEN = re.compile(r"\\([A-Za-z]+)(?:\{([^{}]*)\})?")


def unit_from_dsi(text: str) -> str:
    """A D-SI unit (``\\milli\\metre\\tothe{-1}``) as jingce writes units (``1 / mm``); ``1`` when
    dimensionless. Raises :class:`FormatError` (field ``si:unit``) for text that is not D-SI."""
    s = (text or "").strip()
    pos, parts, prefix, per = 0, [], "", False
    if not s:
        raise FormatError("an empty D-SI unit", field="si:unit")
    for m in _TOKEN.finditer(s):
        if m.start() != pos:
            raise FormatError(f"not a D-SI unit: {text!r}", field="si:unit")
        pos = m.end()
        word, arg = m.group(1), m.group(2)
        if word == "tothe":
            if not parts or arg is None:
                raise FormatError(f"\\tothe without a unit in {text!r}", field="si:unit")
            try:
                exp = float(arg)
            except ValueError:
                raise FormatError(f"bad exponent {arg!r} in {text!r}", field="si:unit") from None
            if not math.isfinite(exp) or abs(exp) > 100:
                raise FormatError(f"bad exponent {arg!r} in {text!r}", field="si:unit")
            name, e = parts[-1]
            parts[-1] = (name, e * exp)
        elif word == "per":
            per = True
        elif word in _DSI_PREFIXES and not prefix:
            prefix = word
        elif word in _DSI_UNITS:
            base = _DSI_UNITS[word]
            if base is None:
                if prefix:
                    raise FormatError(f"a prefix on \\one in {text!r}", field="si:unit")
            else:
                parts.append((prefix + base, -1.0 if per else 1.0))
            prefix, per = "", False
        else:
            raise FormatError(f"unknown D-SI unit element \\{word} in {text!r}", field="si:unit")
    if pos != len(s) or prefix:
        raise FormatError(f"not a D-SI unit: {text!r}", field="si:unit")
    if not parts:
        return "1"
    expr = " * ".join(f"{n} ** {e:g}" if e != 1 else n for n, e in parts)
    try:
        unit = parse_unit(expr)
    except Exception:  # noqa: BLE001 - pint raises assorted errors on odd unit text
        raise FormatError(f"unknown unit in {text!r}", field="si:unit") from None
    short = f"{unit:~}"
    return short if short else "1"


def unit_to_dsi(unit: str) -> str:
    """A jingce unit (``mm``, ``µm``, ``°C``, ``N·m``) as D-SI text (``\\milli\\metre``); ``\\one``
    when dimensionless. Raises :class:`FormatError` (field ``unit``) for units D-SI cannot write."""
    try:
        pu = parse_unit(unit)
    except Exception:  # noqa: BLE001 - pint raises assorted errors on odd unit text
        raise FormatError(f"unknown unit {unit!r}", field="unit") from None
    ureg = registry()
    out = []
    # a fixed order (positive powers first, then by name) so that equal units give equal texts
    for name, exp in sorted(pu._units.items(), key=lambda ne: (ne[1] < 0, ne[0])):
        candidates = ureg.parse_unit_name(name)
        if not candidates:
            raise FormatError(f"unit {unit!r} has no D-SI form", field="unit")
        prefix, base, _suffix = candidates[0]
        dsi = _PINT_TO_DSI.get(base)
        if dsi is None or (prefix and prefix not in _DSI_PREFIXES):
            raise FormatError(f"unit {unit!r} has no D-SI form", field="unit")
        text = (f"\\{prefix}" if prefix else "") + f"\\{dsi}"
        if exp != 1:
            text += f"\\tothe{{{int(exp) if float(exp).is_integer() else exp}}}"
        out.append(text)
    return "".join(out) or "\\one"


# -- reading ----------------------------------------------------------------------------------


def read(data: bytes, name: str = "<dcc>", *, validate: bool = True) -> DccCertificate:
    """Read a DCC 3.x certificate.

    Raises
    ------
    FormatError
        Naming the file, element path and field of the first problem (not XML, not a DCC, a
        schema violation, a missing or malformed field).
    """
    root = _xml.parse(data, name)
    if root.tag != D + "digitalCalibrationCertificate":
        raise FormatError(f"not a DCC: the root element is {_xml.local(root) or root.tag!r}, expected "
                          "dcc:digitalCalibrationCertificate", file=name, line=root.sourceline,
                          element=_xml.path_of(root), field="dcc:digitalCalibrationCertificate")
    version = (root.get("schemaVersion") or "").strip()
    if not _VERSION.match(version):
        raise FormatError(f"DCC schemaVersion {version!r} is not supported (3.x)", file=name, line=root.sourceline,
                          element=_xml.path_of(root), field="schemaVersion")
    if validate:
        for p in _xml.validate(root, "dcc"):
            if version != SCHEMA_VERSION and p.element is root and "schemaVersion" in p.message:
                continue
            el = p.element if p.element is not None else root
            raise FormatError(f"does not follow the DCC {SCHEMA_VERSION} schema: {p.message}", file=name,
                              line=p.line, element=_xml.path_of(el), field=_field(el))
    return _Reader(name).certificate(root, version)


def validate(data: bytes, name: str = "<dcc>") -> None:
    """Check a document against the shipped DCC 3.1.2 / D-SI 2.1.0 schemas (raise at the first problem)."""
    root = _xml.parse(data, name)
    problems = _xml.validate(root, "dcc")
    if problems:
        p = problems[0]
        el = p.element if p.element is not None else root
        raise FormatError(f"does not follow the DCC {SCHEMA_VERSION} schema: {p.message}", file=name,
                          line=p.line, element=_xml.path_of(el), field=_field(el))


def sniff(head: bytes, name: str) -> bool:
    text = head[:4096].decode("utf-8", errors="ignore")
    return "digitalCalibrationCertificate" in text and "ptb.de/dcc" in text


def _field(el: etree._Element) -> str:
    q = etree.QName(el.tag) if isinstance(el.tag, str) else None
    if q is None:
        return ""
    return {_xml.DCC_NS: "dcc:", _xml.SI_NS: "si:"}.get(q.namespace or "", "") + q.localname


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name

    def error(self, el: etree._Element | None, field: str, message: str) -> FormatError:
        return FormatError(message, file=self.name, line=getattr(el, "sourceline", None),
                           element=_xml.path_of(el), field=field)

    def need(self, parent: etree._Element, tag: str) -> etree._Element:
        el = parent.find(tag)
        if el is None:
            field = tag.replace(D, "dcc:").replace(S, "si:")
            raise self.error(parent, field, f"{field} is missing")
        return el

    def need_text(self, parent: etree._Element, tag: str) -> str:
        el = self.need(parent, tag)
        t = _xml.text(el)
        if t is None:
            raise self.error(el, tag.replace(D, "dcc:").replace(S, "si:"), "is empty")
        return t

    def date(self, el: etree._Element | None, field: str) -> dt.date | None:
        t = _xml.text(el)
        if t is None:
            return None
        m = re.match(r"^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$", t)
        try:
            if not m:
                raise ValueError
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise self.error(el, field, f"expected an xs:date such as 2026-03-01, got {t!r}") from None

    def need_date(self, parent: etree._Element, name: str) -> dt.date:
        el = self.need(parent, D + name)
        value = self.date(el, "dcc:" + name)
        if value is None:
            raise self.error(el, "dcc:" + name, "is empty")
        return value

    def text_block(self, el: etree._Element | None) -> Text:
        if el is None:
            return ()
        return tuple((c.get("lang"), (c.text or "").strip()) for c in el.iterfind(D + "content"))

    def identifications(self, parent: etree._Element) -> tuple[Identification, ...]:
        out = []
        ids = parent.find(D + "identifications")
        if ids is None:
            return ()
        for i in ids.iterfind(D + "identification"):
            out.append(Identification(issuer=self.need_text(i, D + "issuer"), value=self.need_text(i, D + "value"),
                                      name=self.text_block(i.find(D + "name"))))
        return tuple(out)

    def location(self, el: etree._Element | None) -> Location | None:
        if el is None:
            return None
        return Location(*(_xml.text(el.find(D + t)) for t in ("city", "countryCode", "postCode", "street",
                                                               "streetNo")))

    def contact(self, el: etree._Element) -> Contact:
        return Contact(name=self.text_block(self.need(el, D + "name")), email=_xml.text(el.find(D + "eMail")),
                       phone=_xml.text(el.find(D + "phone")), location=self.location(el.find(D + "location")))

    def certificate(self, root: etree._Element, version: str) -> DccCertificate:
        admin = self.need(root, D + "administrativeData")
        core = self.need(admin, D + "coreData")
        items_el = self.need(admin, D + "items")
        items = tuple(
            Item(name=self.text_block(self.need(it, D + "name")),
                 manufacturer=self.text_block(self.need(self.need(it, D + "manufacturer"), D + "name")),
                 identifications=self.identifications(it), model=_xml.text(it.find(D + "model")),
                 element=_xml.path_of(it))
            for it in items_el.iterfind(D + "item"))
        if not items:
            raise self.error(items_el, "dcc:item", "a certificate needs at least one item")
        lab_el = self.need(admin, D + "calibrationLaboratory")
        lab = self.contact(self.need(lab_el, D + "contact"))
        begin = self.need_date(core, "beginPerformanceDate")
        end = self.need_date(core, "endPerformanceDate")
        conformity = recal = jresult = None
        statements = admin.find(D + "statements")
        for st in statements.iterfind(D + "statement") if statements is not None else ():
            ref = st.get("refType") or ""
            if st.find(D + "conformity") is not None and conformity is None:
                conformity = _xml.text(st.find(D + "conformity"))
            if _has(ref, "basic_recalibration") and st.find(D + "date") is not None:
                recal = self.date(st.find(D + "date"), "dcc:date")
            if _has(ref, "jingce_calibrationResult"):
                jresult = text_of(self.text_block(st.find(D + "declaration")))
        persons = []
        resp = admin.find(D + "respPersons")
        for rp in resp.iterfind(D + "respPerson") if resp is not None else ():
            person = self.need(rp, D + "person")
            persons.append((text_of(self.text_block(self.need(person, D + "name"))) or "",
                            (_xml.text(rp.find(D + "mainSigner")) or "false") in ("true", "1")))
        software = []
        sw = admin.find(D + "dccSoftware")
        for s in sw.iterfind(D + "software") if sw is not None else ():
            software.append((text_of(self.text_block(s.find(D + "name"))) or "", _xml.text(s.find(D + "release")) or ""))
        mrs = []
        results_el = self.need(root, D + "measurementResults")
        for mr in results_el.iterfind(D + "measurementResult"):
            equipment = []
            eqs = mr.find(D + "measuringEquipments")
            for e in eqs.iterfind(D + "measuringEquipment") if eqs is not None else ():
                equipment.append(Equipment(
                    name=self.text_block(self.need(e, D + "name")), identifications=self.identifications(e),
                    ref_type=e.get("refType"), certificate=_xml.text(e.find(f"{D}certificate/{D}referralID")),
                    element=_xml.path_of(e)))
            results = []
            rs = self.need(mr, D + "results")
            for r in rs.iterfind(D + "result"):
                data = self.need(r, D + "data")
                results.append(Result(name=self.text_block(self.need(r, D + "name")),
                                      quantities=tuple(self.quantities(data)), ref_type=r.get("refType")))
            mrs.append(MeasurementResult(name=self.text_block(self.need(mr, D + "name")), results=tuple(results),
                                         equipment=tuple(equipment)))
        if not mrs:
            raise self.error(results_el, "dcc:measurementResult", "a certificate needs a measurement result")
        return DccCertificate(
            unique_identifier=self.need_text(core, D + "uniqueIdentifier"),
            country_code=self.need_text(core, D + "countryCodeISO3166_1"),
            languages=tuple(_xml.text(e) or "" for e in core.iterfind(D + "usedLangCodeISO639_1")),
            mandatory_languages=tuple(_xml.text(e) or "" for e in core.iterfind(D + "mandatoryLangCodeISO639_1")),
            begin_performance=begin, end_performance=end,
            performance_location=_xml.text(core.find(D + "performanceLocation")) or "",
            items=items, laboratory=lab, customer=self.contact(self.need(admin, D + "customer")),
            measurement_results=tuple(mrs), laboratory_code=_xml.text(lab_el.find(D + "calibrationLaboratoryCode")),
            responsible_persons=tuple(persons), software=tuple(software),
            receipt_date=self.date(core.find(D + "receiptDate"), "dcc:receiptDate"), conformity=conformity,
            recalibration_date=recal, jingce_result=jresult, schema_version=version)

    def quantities(self, data: etree._Element) -> Iterable[DsiQuantity]:
        for child in data:
            if child.tag == D + "quantity":
                q = self.quantity(child)
                if q is not None:
                    yield q
            elif child.tag == D + "list":
                yield from self.quantities(child)

    def quantity(self, el: etree._Element) -> DsiQuantity | None:
        name = self.text_block(el.find(D + "name"))
        ref = el.get("refType")
        conformity = tuple(
            c for md in el.iterfind(f"{D}measurementMetaData/{D}metaData")
            for c in ((_xml.text(md.find(D + "conformity")) or "").split()
                      + (_xml.text(md.find(D + "conformityXMLList")) or "").split()))
        for child in el:
            if child.tag in (S + "real", S + "realListXMLList", S + "hybrid", S + "list"):
                return self.dsi(child, name, ref, conformity)
        return None  # text, formula, noQuantity, complex, constant: not a real quantity

    def dsi(self, el: etree._Element, name: Text, ref: str | None, conformity: tuple[str, ...]) -> DsiQuantity | None:
        if el.tag == S + "hybrid":
            first = next((c for c in el if isinstance(c.tag, str)), None)
            return None if first is None else self.dsi(first, name, ref, conformity)
        if el.tag == S + "real":
            values = (self.number(self.need(el, S + "value"), "si:value"),)
            unit = self.need_text(el, S + "unit")
            unc = el.find(S + "expandedUnc")
            u = k = p = dist = None
            if unc is not None:
                u = (self.number(self.need(unc, S + "uncertainty"), "si:uncertainty"),)
                k = (self.number(self.need(unc, S + "coverageFactor"), "si:coverageFactor"),)
                p = (self.number(self.need(unc, S + "coverageProbability"), "si:coverageProbability"),)
                dist = _xml.text(unc.find(S + "distribution"))
        elif el.tag == S + "realListXMLList":
            values = self.numbers(self.need(el, S + "valueXMLList"), "si:valueXMLList")
            units = self.need_text(el, S + "unitXMLList").split()
            if len(set(units)) != 1:
                raise self.error(el.find(S + "unitXMLList"), "si:unitXMLList",
                                 "a list with different units per value is not supported")
            unit = units[0]
            unc = el.find(S + "expandedUncXMLList")
            u = k = p = dist = None
            if unc is not None:
                n = len(values)
                u = self.broadcast(unc, "uncertaintyXMLList", n)
                k = self.broadcast(unc, "coverageFactorXMLList", n)
                p = self.broadcast(unc, "coverageProbabilityXMLList", n)
                dists = set((_xml.text(unc.find(S + "distributionXMLList")) or "").split())
                dist = dists.pop() if len(dists) == 1 else (" ".join(sorted(dists)) or None)
        else:  # si:list of si:realList
            reals = list(el.iter(S + "real"))
            if not reals:
                return None
            lists = list(el.iter(S + "realList"))
            list_unit = _xml.text(lists[0].find(S + "listUnit")) if lists else None
            values, units, us, ks, ps = [], set(), [], [], []
            shared = lists[0].find(f"{S}listUnivariateUnc/{S}expandedUnc") if lists else None
            for r in reals:
                values.append(self.number(self.need(r, S + "value"), "si:value"))
                units.add(_xml.text(r.find(S + "unit")) or list_unit)
                unc = r.find(S + "expandedUnc") if r.find(S + "expandedUnc") is not None else shared
                if unc is not None:
                    us.append(self.number(self.need(unc, S + "uncertainty"), "si:uncertainty"))
                    ks.append(self.number(self.need(unc, S + "coverageFactor"), "si:coverageFactor"))
                    ps.append(self.number(self.need(unc, S + "coverageProbability"), "si:coverageProbability"))
            units.discard(None)
            if len(units) != 1:
                raise self.error(el, "si:unit", "a list needs one unit")
            unit = units.pop()
            values = tuple(values)
            full = len(us) == len(values)
            u, k, p = (tuple(us), tuple(ks), tuple(ps)) if full else (None, None, None)
            dist = None
        try:
            unit_from_dsi(unit)
        except FormatError as exc:
            raise self.error(el, "si:unit", exc.message) from None
        if u is not None and any(x < 0 for x in u):
            raise self.error(el, "si:uncertainty", "an expanded uncertainty cannot be negative")
        return DsiQuantity(values=values, unit=unit, name=name, ref_type=ref, expanded_uncertainty=u,
                           coverage_factor=k, coverage_probability=p, distribution=dist, conformity=conformity,
                           element=_xml.path_of(el))

    def number(self, el: etree._Element, field: str) -> float:
        t = _xml.text(el)
        try:
            v = float(t) if t is not None else math.nan
        except ValueError:
            v = math.nan
        if not math.isfinite(v) or t is None or not _DECIMAL.match(t):
            raise self.error(el, field, f"expected a decimal number, got {t!r}")
        return v

    def numbers(self, el: etree._Element, field: str) -> tuple[float, ...]:
        t = _xml.text(el) or ""
        out = []
        for tok in t.split():
            if not _DECIMAL.match(tok):
                raise self.error(el, field, f"expected decimal numbers, got {tok!r}")
            v = float(tok)
            if not math.isfinite(v):
                raise self.error(el, field, f"expected finite numbers, got {tok!r}")
            out.append(v)
        if not out:
            raise self.error(el, field, "the list is empty")
        return tuple(out)

    def broadcast(self, parent: etree._Element, name: str, n: int) -> tuple[float, ...]:
        el = self.need(parent, S + name)
        vals = self.numbers(el, "si:" + name)
        if len(vals) == 1:
            return vals * n
        if len(vals) != n:
            raise self.error(el, "si:" + name, f"has {len(vals)} entries for {n} values")
        return vals


_DECIMAL = re.compile(r"^[-+]?((\d*\.\d+)|(\d+\.\d*)|(\d+\.?))([Ee][-+]?\d+)?$")


# -- writing ----------------------------------------------------------------------------------


def _num(x: float, field: str, kind: str = "decimal") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise FormatError(f"expected a number, got {x!r}", field=field) from None
    if not math.isfinite(v):
        raise FormatError(f"D-SI holds finite numbers only, got {v!r}", field=field)
    if kind == "uncertainty" and v < 0:
        raise FormatError(f"an uncertainty cannot be negative, got {v!r}", field=field)
    if kind == "k" and v < 1:
        raise FormatError(f"D-SI needs a coverage factor k >= 1, got {v!r}", field=field)
    if kind == "p" and not 0 <= v <= 1:
        raise FormatError(f"a coverage probability lies in [0, 1], got {v!r}", field=field)
    return format(Decimal(repr(v)), "f")


def _e(parent: etree._Element, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def _text_block(parent: etree._Element, tag: str, block: Text) -> etree._Element:
    el = _e(parent, D + tag)
    for lang, t in block or ((None, "-"),):
        _e(el, D + "content", t, lang=lang)
    return el


def _location(parent: etree._Element, loc: Location | None, country: str) -> None:
    el = _e(parent, D + "location")
    loc = loc or Location(country_code=country)
    fields = (("city", loc.city), ("countryCode", loc.country_code), ("postCode", loc.post_code),
              ("street", loc.street), ("streetNo", loc.street_no))
    if not any(v for _, v in fields):
        fields = (("countryCode", country),)
    for tag, v in fields:
        if v is not None:
            _e(el, D + tag, v)


def _contact(parent: etree._Element, tag: str, c: Contact, country: str) -> None:
    el = _e(parent, D + tag)
    _text_block(el, "name", c.name)
    _e(el, D + "eMail", c.email or "")
    if c.phone:
        _e(el, D + "phone", c.phone)
    _location(el, c.location, country)


def _identifications(parent: etree._Element, ids: Sequence[Identification]) -> None:
    if not ids:
        return
    el = _e(parent, D + "identifications")
    for i in ids:
        ident = _e(el, D + "identification")
        _e(ident, D + "issuer", i.issuer)
        _e(ident, D + "value", i.value)
        if i.name:
            _text_block(ident, "name", i.name)


def _quantity(parent: etree._Element, q: DsiQuantity) -> None:
    el = _e(parent, D + "quantity", refType=q.ref_type)
    if q.name:
        _text_block(el, "name", q.name)
    try:
        unit_from_dsi(q.unit)
    except FormatError as exc:
        raise FormatError(exc.message, field="si:unit") from None
    if len(q.values) == 1:
        real = _e(el, S + "real")
        _e(real, S + "value", _num(q.values[0], "si:value"))
        _e(real, S + "unit", q.unit)
        if q.expanded_uncertainty:
            unc = _e(real, S + "expandedUnc")
            _e(unc, S + "uncertainty", _num(q.expanded_uncertainty[0], "si:uncertainty", "uncertainty"))
            _e(unc, S + "coverageFactor", _num(q.coverage_factor[0], "si:coverageFactor", "k"))
            _e(unc, S + "coverageProbability", _num(q.coverage_probability[0], "si:coverageProbability", "p"))
            if q.distribution:
                _e(unc, S + "distribution", q.distribution)
    else:
        lst = _e(el, S + "realListXMLList")
        _e(lst, S + "valueXMLList", " ".join(_num(v, "si:valueXMLList") for v in q.values))
        _e(lst, S + "unitXMLList", q.unit)
        if q.expanded_uncertainty:
            unc = _e(lst, S + "expandedUncXMLList")
            for tag, vals, kind in (("uncertaintyXMLList", q.expanded_uncertainty, "uncertainty"),
                                    ("coverageFactorXMLList", q.coverage_factor, "k"),
                                    ("coverageProbabilityXMLList", q.coverage_probability, "p")):
                if vals is None or len(vals) != len(q.values):
                    raise FormatError(f"{tag} needs one entry per value", field="si:" + tag)
                shown = vals[:1] if len(set(vals)) == 1 else vals
                _e(unc, S + tag, " ".join(_num(v, "si:" + tag, kind) for v in shown))
            if q.distribution:
                _e(unc, S + "distributionXMLList", q.distribution)
    if q.conformity:
        md = _e(_e(el, D + "measurementMetaData"), D + "metaData", refType="basic_conformity")
        _text_block(md, "declaration", (("en", "Conformity"),))
        if len(q.conformity) == 1:
            _e(md, D + "conformity", q.conformity[0])
        else:
            _e(md, D + "conformityXMLList", " ".join(q.conformity))


def write(cert: DccCertificate, *, validate: bool = True) -> bytes:
    """Write a certificate as a DCC 3.1.2 document (validated against the shipped schemas).

    Raises
    ------
    FormatError
        A value D-SI cannot hold (non-finite, k < 1, p outside [0, 1], an unknown unit).
    """
    nsmap = {"dcc": _xml.DCC_NS, "si": _xml.SI_NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    root = etree.Element(D + "digitalCalibrationCertificate", nsmap=nsmap, schemaVersion=SCHEMA_VERSION)
    root.set("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation",
             f"https://ptb.de/dcc https://ptb.de/dcc/v{SCHEMA_VERSION}/dcc.xsd")
    admin = _e(root, D + "administrativeData")
    sw = _e(admin, D + "dccSoftware")
    for name, release in cert.software or (("jingce", "0.1.0"),):
        s = _e(sw, D + "software")
        _text_block(s, "name", ((None, name),))
        _e(s, D + "release", release)
    core = _e(admin, D + "coreData")
    _e(core, D + "countryCodeISO3166_1", cert.country_code)
    for la in cert.languages or ("en",):
        _e(core, D + "usedLangCodeISO639_1", la)
    for la in cert.mandatory_languages or ("en",):
        _e(core, D + "mandatoryLangCodeISO639_1", la)
    _e(core, D + "uniqueIdentifier", cert.unique_identifier)
    if cert.receipt_date:
        _e(core, D + "receiptDate", cert.receipt_date.isoformat())
    _e(core, D + "beginPerformanceDate", cert.begin_performance.isoformat())
    _e(core, D + "endPerformanceDate", cert.end_performance.isoformat())
    _e(core, D + "performanceLocation", cert.performance_location or "laboratory")
    items = _e(admin, D + "items")
    for it in cert.items:
        item = _e(items, D + "item")
        _text_block(item, "name", it.name)
        man = _e(item, D + "manufacturer")
        _text_block(man, "name", it.manufacturer)
        if it.model:
            _e(item, D + "model", it.model)
        if not it.identifications:
            raise FormatError("an item needs at least one identification", field="dcc:identification")
        _identifications(item, it.identifications)
    lab = _e(admin, D + "calibrationLaboratory")
    if cert.laboratory_code:
        _e(lab, D + "calibrationLaboratoryCode", cert.laboratory_code)
    _contact(lab, "contact", cert.laboratory, cert.country_code)
    resp = _e(admin, D + "respPersons")
    for person, main in cert.responsible_persons or (("-", True),):
        rp = _e(resp, D + "respPerson")
        _text_block(_e(rp, D + "person"), "name", ((None, person),))
        if main:
            _e(rp, D + "mainSigner", "true")
    _contact(admin, "customer", cert.customer, cert.country_code)
    if cert.conformity or cert.recalibration_date or cert.jingce_result:
        sts = _e(admin, D + "statements")
        if cert.jingce_result:
            st = _e(sts, D + "statement", refType="jingce_calibrationResult")
            _text_block(st, "declaration", ((None, cert.jingce_result),))
        if cert.conformity:
            st = _e(sts, D + "statement", refType="basic_conformity")
            _text_block(st, "declaration", (("en", "Conformity of the item with its specification"),))
            _e(st, D + "conformity", cert.conformity)
        if cert.recalibration_date:
            st = _e(sts, D + "statement", refType="basic_recalibration")
            _text_block(st, "declaration", (("en", "Date by which the item is to be recalibrated"),))
            _e(st, D + "date", cert.recalibration_date.isoformat())
    results_el = _e(root, D + "measurementResults")
    if not cert.measurement_results:
        raise FormatError("a certificate needs a measurement result", field="dcc:measurementResult")
    for mr in cert.measurement_results:
        mr_el = _e(results_el, D + "measurementResult")
        _text_block(mr_el, "name", mr.name)
        if mr.equipment:
            eqs = _e(mr_el, D + "measuringEquipments")
            for eq in mr.equipment:
                e = _e(eqs, D + "measuringEquipment", refType=eq.ref_type)
                _text_block(e, "name", eq.name)
                if eq.certificate:
                    c = _e(e, D + "certificate")
                    _text_block(c, "referral", ((None, "calibration certificate of the standard"),))
                    _e(c, D + "referralID", eq.certificate)
                    _e(c, D + "procedure", "none")
                    _e(c, D + "value", "none")
                _identifications(e, eq.identifications)
        rs = _e(mr_el, D + "results")
        if not mr.results:
            raise FormatError("a measurement result needs a result", field="dcc:result")
        for r in mr.results:
            r_el = _e(rs, D + "result", refType=r.ref_type)
            _text_block(r_el, "name", r.name)
            data = _e(r_el, D + "data")
            if not r.quantities:
                raise FormatError("a result needs a quantity", field="dcc:quantity")
            target = data if len(r.quantities) == 1 else _e(data, D + "list")
            for q in r.quantities:
                _quantity(target, q)
    out = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if validate:
        problems = _xml.validate(root, "dcc")
        if problems:  # a bug of this writer, never the caller's data
            p = problems[0]
            raise AssertionError(f"written DCC does not validate: {p.message} at {_xml.path_of(p.element)}")
    return out


# -- from a jingce calibration ----------------------------------------------------------------

_RESULT_CONFORMITY = {"pass": "pass", "adjusted": "pass", "out_of_tolerance": "fail", "fail": "fail"}


def certificate_from_calibration(calibration, instrument, lab, standards: Sequence = (), *, customer: str,
                                 country_code: str = "CN", issued_by: str | None = None,
                                 lab_email: str | None = None, standard_certificates: dict | None = None,
                                 languages: tuple[str, ...] = ("en", "zh")) -> DccCertificate:
    """A :class:`DccCertificate` for a jingce calibration (model objects in, data out).

    The instrument is the item, identified by its jingce code (issuer ``customer``: the owner's
    equipment number); each standard is a ``measuringEquipment`` (``basic_standardUsed``,
    identified by its code, issuer ``calibrationLaboratory``, with its own certificate number
    when given in ``standard_certificates``); the lab its code and name. The results: the error
    as found (and as left, when adjusted) with U, k and p as a D-SI ``si:real``; without errors,
    U, k and p as three jingce quantities. The jingce result is kept as a statement, the
    conformity as ``basic_conformity`` and ``valid_until`` as the recalibration date.
    """
    unit = unit_to_dsi(calibration.unit)
    k = calibration.coverage_factor
    p = calibration.coverage_probability

    def error(value: float) -> DsiQuantity:
        return DsiQuantity(values=(value,), unit=unit, name=(("en", "Measurement error"), ("zh", "示值误差")),
                           ref_type="basic_measurementError",
                           expanded_uncertainty=(calibration.expanded_uncertainty,), coverage_factor=(k,),
                           coverage_probability=(p if p is not None else 0.95,))

    results = []
    if calibration.error_as_found is not None:
        results.append(Result(name=(("en", "Error as found"), ("zh", "校准前误差")),
                              quantities=(error(calibration.error_as_found),), ref_type="jingce_asFound"))
    if calibration.error_as_left is not None:
        results.append(Result(name=(("en", "Error as left"), ("zh", "校准后误差")),
                              quantities=(error(calibration.error_as_left),), ref_type="jingce_asLeft"))
    if not results:
        qs = [DsiQuantity(values=(calibration.expanded_uncertainty,), unit=unit,
                          name=(("en", "Expanded uncertainty U"), ("zh", "扩展不确定度 U")),
                          ref_type="jingce_expandedUncertainty"),
              DsiQuantity(values=(k,), unit="\\one", name=(("en", "Coverage factor k"), ("zh", "包含因子 k")),
                          ref_type="jingce_coverageFactor")]
        if p is not None:
            qs.append(DsiQuantity(values=(p,), unit="\\one", name=(("en", "Coverage probability p"),
                                                                  ("zh", "包含概率 p")),
                                  ref_type="jingce_coverageProbability"))
        results.append(Result(name=(("en", "Calibration uncertainty"), ("zh", "校准不确定度")), quantities=tuple(qs),
                              ref_type="jingce_calibrationUncertainty"))
    certs = standard_certificates or {}
    equipment = tuple(
        Equipment(name=((None, s.name),), identifications=(Identification("calibrationLaboratory", s.code,
                                                                           (("en", "jingce code"),)),),
                  ref_type="basic_standardUsed", certificate=certs.get(s.id))
        for s in standards)
    day = calibration.calibrated_at.astimezone(dt.UTC).date()
    valid = calibration.valid_until.astimezone(dt.UTC).date()
    return DccCertificate(
        unique_identifier=calibration.certificate_no, country_code=country_code, languages=languages,
        mandatory_languages=languages[:1], begin_performance=day, end_performance=day,
        performance_location="laboratory",
        items=(Item(name=((None, instrument.name),), manufacturer=((None, "not stated / 未注明"),),
                    identifications=(Identification("customer", instrument.code, (("en", "jingce code"),)),)),),
        laboratory=Contact(name=((None, lab.name),), email=lab_email, location=Location(country_code=country_code)),
        customer=Contact(name=((None, customer),), location=Location(country_code=country_code)),
        measurement_results=(MeasurementResult(name=(("en", "Calibration"), ("zh", "校准")), results=tuple(results),
                                               equipment=equipment),),
        laboratory_code=lab.code, responsible_persons=((issued_by or lab.name, True),),
        conformity=_RESULT_CONFORMITY.get(str(calibration.result)), recalibration_date=valid,
        jingce_result=str(calibration.result))


__all__ = [
    "CalibrationSummary", "Contact", "DccCertificate", "DsiQuantity", "Equipment", "Identification", "Item",
    "Location", "MeasurementResult", "Result", "SCHEMA_VERSION", "certificate_from_calibration", "read",
    "sniff", "text_of", "unit_from_dsi", "unit_to_dsi", "validate", "write",
]
