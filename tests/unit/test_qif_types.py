"""The characteristic-type table of the QIF reader agrees with the shipped QIF 3.0 schema."""

from __future__ import annotations

from lxml import etree

from jingce.formats import _xml
from jingce.formats.qif._types import JINGCE_KIND, TYPE_FOR_KIND, TYPE_FOR_VALUE_KIND, VALUE_KIND, ZONE_TYPES

XS = "{http://www.w3.org/2001/XMLSchema}"


def _schema_value_kinds() -> tuple[dict[str, str | None], dict[str, set[str]]]:
    """Per characteristic type: the kind of its measurement's Value element, and the elements of
    its definition, both read from QIFLibrary/Characteristics.xsd (following type extensions)."""
    root = etree.parse(str(_xml.SCHEMAS / "qif3" / "QIFLibrary" / "Characteristics.xsd")).getroot()
    types = {}
    for ct in root.iterfind(XS + "complexType"):
        ext = ct.find(f".//{XS}extension")
        types[ct.get("name")] = (ext.get("base") if ext is not None else None,
                                 [(e.get("name"), e.get("type")) for e in ct.iter(XS + "element")])

    def chain(name):
        out = []
        while name in types:
            base, elements = types[name]
            out += elements
            name = base
        return out

    kinds, definitions = {}, {}
    for el in root.iterfind(XS + "element"):
        name = el.get("name")
        if name.endswith("CharacteristicMeasurement") and name != "CharacteristicMeasurement":
            values = [t for n, t in chain(el.get("type")) if n == "Value"]
            kind = None
            if values:
                kind = "text" if values[0] == "xs:string" else \
                    values[0].removeprefix("Measured").removesuffix("ValueType").lower()
            kinds[name.removesuffix("CharacteristicMeasurement")] = kind
        if name.endswith("CharacteristicDefinition") and name != "CharacteristicDefinition":
            definitions[name.removesuffix("CharacteristicDefinition")] = {n for n, _ in chain(el.get("type"))}
    return kinds, definitions


def test_value_kinds_match_the_schema():
    kinds, definitions = _schema_value_kinds()
    assert VALUE_KIND == kinds
    # geometric types are exactly those defined by a zone width
    assert ZONE_TYPES == {t for t, els in definitions.items() if "ToleranceValue" in els}


def test_type_maps_use_existing_types():
    assert set(JINGCE_KIND) <= set(VALUE_KIND)
    assert set(TYPE_FOR_KIND.values()) <= set(VALUE_KIND)
    assert set(TYPE_FOR_VALUE_KIND.values()) <= set(VALUE_KIND)
    # every written type maps back to the kind it was written for
    assert all(JINGCE_KIND[t] == k for k, t in TYPE_FOR_KIND.items())
