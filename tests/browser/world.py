"""A small region for the web tests: the integration Region, passwords, calibrations with one
expired link, and a long characteristic series with a late shift (rule violations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from sqlalchemy import insert, select, update

from jingce.api.security import hash_password
from jingce.model import Calibration
from jingce.settings import Settings
from jingce.store import Store
from jingce.store import tables as t
from tests.integration.conftest import Region, h

PASSWORD = "correct horse battery"
USERS = {"admin": "admin", "enterprise_admin": "c", "enterprise_user": "s", "other": "x", "lab": "lab",
         "regulator": "reg"}
BORE_N = 500
T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def series(n: int, *, seed: int = 7, shift_from: int | None = None) -> np.ndarray:
    """Values around 20 mm (sigma 5 um) with a +3 sigma shift from ``shift_from`` on."""
    rng = np.random.default_rng(seed)
    v = 20.0 + rng.normal(0.0, 0.005, n)
    if shift_from is not None:
        v[shift_from:] += 0.015
    return v


def bore_table(values: np.ndarray, *, key: str = "BORE", start: dt.datetime = T0) -> pa.Table:
    n = len(values)
    times = [start + dt.timedelta(minutes=5 * i) for i in range(n)]
    table = pa.table({
        "enterprise": ["C"] * n, "part_number": ["ASSY"] * n, "serial": [f"B{i:06d}" for i in range(n)],
        "characteristic": [key] * n, "value": values.astype(float), "unit": ["mm"] * n,
        "measured_at": pa.array(times, pa.timestamp("us", tz="UTC")), "nominal": [20.0] * n,
        "lower_limit": [19.97] * n, "upper_limit": [20.03] * n, "instrument": ["C-CMM"] * n})
    return table.append_column("position", pa.array(range(n), pa.int64()))


ALARMS = 2


def _raise_alarms(st: Store, enterprise_id: int, characteristic_id: int) -> None:
    """Two open rule alarms on BORE, as the live path would have raised them after the shift."""
    with st.engine.begin() as conn:
        batch = conn.execute(select(t.ingest_batch.c.id).where(t.ingest_batch.c.content_hash == h("bore"))).scalar()
        for i, (idx, rule) in enumerate(((445, "nelson1"), (452, "nelson5"))):
            conn.execute(insert(t.alarm).values(
                enterprise_id=enterprise_id, characteristic_id=characteristic_id, batch_id=batch,
                measured_at=T0 + dt.timedelta(minutes=5 * idx), value=20.02 + 0.001 * i, kind="rule", rule=rule,
                detail="test alarm", serial=f"B{idx:06d}", raised_at=T0 + dt.timedelta(minutes=5 * idx + 1)))


@dataclass
class World:
    store: Store
    region: Region
    settings: Settings
    bore_id: int
    long_id: int | None
    other_char_id: int


def build_world(tmp_path, *, long_points: int = 0) -> World:
    """The region with passwords for every account (``PASSWORD``)."""
    settings = Settings(data_dir=tmp_path / "data", demo=True)
    st = Store(settings)
    r = Region(st)
    r.ingest_basics()
    with st.engine.begin() as conn:
        conn.execute(update(t.app_user).values(password_hash=hash_password(PASSWORD)))
    a = r.admin
    st.add_calibration(a, Calibration(instrument_id=r.lab_std.id, lab_id=r.nmi.id, certificate_no="NMI-2026-001",
                                      calibrated_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
                                      valid_until=dt.datetime(2099, 1, 10, tzinfo=dt.UTC),
                                      expanded_uncertainty=0.00005, standard_ids=(r.national.id,)))
    st.add_calibration(a, Calibration(instrument_id=r.gauge_c.id, lab_id=r.lab.id, certificate_no="LAB-2025-117",
                                      calibrated_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
                                      valid_until=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), error_as_found=0.0008,
                                      expanded_uncertainty=0.0012, standard_ids=(r.lab_std.id,)))
    st.add_calibration(a, Calibration(instrument_id=r.gauge_x.id, lab_id=r.lab.id, certificate_no="X1",
                                      calibrated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                      valid_until=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
                                      expanded_uncertainty=0.001, standard_ids=(r.lab_std.id,)))
    st.ingest(a, bore_table(series(BORE_N, shift_from=440)), content_hash=h("bore"), source_format="test")
    bore = st.find_characteristic(a, "C", "ASSY", "BORE").id
    _raise_alarms(st, r.ent["C"].id, bore)
    long_id = None
    if long_points:
        st.ingest(a, bore_table(series(long_points, seed=11), key="BORE-LONG",
                                start=T0 - dt.timedelta(minutes=5 * long_points)),
                  content_hash=h(f"long{long_points}"), source_format="test")
        long_id = st.find_characteristic(a, "C", "ASSY", "BORE-LONG").id
    other = st.find_characteristic(a, "X", "OTHER", "L").id
    return World(st, r, settings, bore, long_id, other)
