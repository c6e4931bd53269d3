"""Invariants of the data model are checked on construction; errors name the field."""

import datetime as dt

import pytest

from jingce.errors import InvalidInputError
from jingce.model import (
    BomLine,
    Calibration,
    Characteristic,
    Instrument,
    Lab,
    Measurement,
    ScopeEntry,
    Share,
    Site,
)

UTC = dt.UTC


def field_of(exc_info) -> str:
    return exc_info.value.details["field"]


@pytest.mark.parametrize("kwargs, field", [
    (dict(lower_limit=10.1, upper_limit=9.9), "lower_limit"),
    (dict(lower_limit=10, upper_limit=10), "lower_limit"),
    (dict(nominal=11, lower_limit=9.9, upper_limit=10.1), "nominal"),
    (dict(unit="kg", kind="diameter"), "unit"),
    (dict(unit="furlongs per fortnight per banana"), "unit"),
    (dict(key=""), "key"),
    (dict(key="a/b"), "key"),
    (dict(nominal=float("nan")), "nominal"),
])
def test_characteristic_invariants(kwargs, field):
    base = dict(product_id=1, key="D1", nominal=10.0, lower_limit=9.9, upper_limit=10.1)
    with pytest.raises(InvalidInputError) as e:
        Characteristic(**(base | kwargs))
    assert field_of(e) == field


def test_units_fit_kinds():
    assert Characteristic(product_id=1, key="A", unit="µm", kind="roughness").unit == "µm"
    assert Characteristic(product_id=1, key="T", unit="N*m", kind="torque", nominal=50, lower_limit=45,
                          upper_limit=55).tolerance == 10
    assert Characteristic(product_id=1, key="W", unit="degree", kind="angle").kind == "angle"
    assert Characteristic(product_id=1, key="H", unit="HRC", kind="hardness").unit == "HRC"
    one_sided = Characteristic(product_id=1, key="F", nominal=0, upper_limit=0.01, kind="flatness")
    assert one_sided.tolerance is None


def test_measurement_times_are_aware_and_utc():
    m = Measurement(value=1.0, unit="mm", characteristic_id=1, enterprise_id=1, product_id=1,
                    measured_at=dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                    zone="Europe/Berlin", nominal=0.9)
    assert m.measured_at == dt.datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert m.local_time.hour == 10
    assert m.deviation == pytest.approx(0.1)
    with pytest.raises(InvalidInputError) as e:
        Measurement(value=1.0, unit="mm", characteristic_id=1, enterprise_id=1, product_id=1,
                    measured_at=dt.datetime(2026, 7, 1), zone="Asia/Shanghai")
    assert field_of(e) == "measured_at"
    with pytest.raises(InvalidInputError) as e:
        Measurement(value=1.0, unit="mm", characteristic_id=1, enterprise_id=1, product_id=1,
                    measured_at=dt.datetime(2026, 7, 1, tzinfo=UTC), zone="Mars/Olympus")
    assert field_of(e) == "zone"
    with pytest.raises(InvalidInputError) as e:
        Measurement(value=float("inf"), unit="mm", characteristic_id=1, enterprise_id=1, product_id=1,
                    measured_at=dt.datetime(2026, 7, 1, tzinfo=UTC), zone="Asia/Shanghai")
    assert field_of(e) == "value"
    with pytest.raises(InvalidInputError) as e:
        Measurement(value=1, unit="mm", characteristic_id=1, enterprise_id=1, product_id=1, stage="shipping",
                    measured_at=dt.datetime(2026, 7, 1, tzinfo=UTC), zone="Asia/Shanghai")
    assert field_of(e) == "stage"


def test_calibration_and_scope_invariants():
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    ok = Calibration(instrument_id=1, lab_id=1, certificate_no="C1", calibrated_at=t0,
                     valid_until=t0 + dt.timedelta(days=365), expanded_uncertainty=0.002, coverage_factor=2)
    assert ok.standard_uncertainty == pytest.approx(0.001)
    assert ok.is_valid_at(t0 + dt.timedelta(days=10)) and not ok.is_valid_at(t0 + dt.timedelta(days=400))
    cases = [
        (dict(valid_until=t0), "valid_until"),
        (dict(expanded_uncertainty=0), "expanded_uncertainty"),
        (dict(standard_ids=(1,)), "standard_ids"),
        (dict(calibrated_at=dt.datetime(2026, 1, 1)), "calibrated_at"),
    ]
    for kw, field in cases:
        with pytest.raises(InvalidInputError) as e:
            Calibration(**(ok.model_dump() | kw))
        assert field_of(e) == field
    with pytest.raises(InvalidInputError) as e:
        ScopeEntry(quantity="length", range_min=100, range_max=10, cmc_absolute=0.001)
    assert field_of(e) == "range_min"
    with pytest.raises(InvalidInputError) as e:
        Instrument(tenant_id=1, code="I", name="i", range_min=5, range_max=1)
    assert field_of(e) == "range_min"
    assert ScopeEntry(quantity="length", range_min=0, range_max=100, cmc_absolute=0.0005,
                      cmc_relative=2e-6).cmc_at(50) == pytest.approx(0.0006)
    with pytest.raises(InvalidInputError):
        Lab(tenant_id=1, code="L", name="l", qualification="approved-ish")


def test_graph_entities_refuse_self_loops_and_self_shares():
    with pytest.raises(InvalidInputError) as e:
        BomLine(parent_product_id=3, child_product_id=3)
    assert field_of(e) == "child_product_id"
    with pytest.raises(InvalidInputError) as e:
        Share(owner_tenant_id=1, grantee_tenant_id=1, enterprise_id=1)
    assert field_of(e) == "grantee_tenant_id"
    with pytest.raises(InvalidInputError) as e:
        Site(enterprise_id=1, code="bad code!", name="x")
    assert field_of(e) == "code"


def test_entities_are_immutable():
    c = Characteristic(product_id=1, key="D1")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        c.key = "D2"


def test_measurement_unit_must_fit_its_characteristic():
    ch = Characteristic(id=7, product_id=1, key="D", nominal=10, lower_limit=9.9, upper_limit=10.1, unit="mm")
    kw = dict(characteristic_id=7, enterprise_id=1, product_id=1, zone="Asia/Shanghai",
              measured_at=dt.datetime(2026, 7, 1, tzinfo=UTC))
    assert Measurement(value=10010, unit="µm", **kw).check_against(ch).unit == "µm"
    with pytest.raises(InvalidInputError) as e:
        Measurement(value=1, unit="kg", **kw).check_against(ch)
    assert field_of(e) == "unit"
    with pytest.raises(InvalidInputError) as e:
        Measurement(value=1, unit="mm", **(kw | {"characteristic_id": 8})).check_against(ch)
    assert field_of(e) == "characteristic_id"
    with pytest.raises(InvalidInputError) as e:
        Measurement(value=1, unit="parsecs per banana", **kw)
    assert field_of(e) == "unit"
