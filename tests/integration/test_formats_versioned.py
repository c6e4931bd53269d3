"""Stored formats are versioned: the registry schema equals its migrations, and a lake file of
each released lake version stays readable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
from alembic import command
from sqlalchemy import create_engine

from jingce.model.batch import LAKE_SCHEMA
from jingce.store import migrate
from jingce.store.lake import Lake

DATA = Path(__file__).parents[1] / "data" / "lake"


def test_migrations_match_the_table_definitions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with engine.begin() as conn:
        migrate.upgrade(conn)
        command.check(migrate.alembic_config(conn))  # raises if tables.py and the migrations differ


def test_lake_version_1_reference_file_reads(tmp_path):
    ref = DATA / "v1" / "enterprise=1" / "month=2026-03" / "reference.parquet"
    assert pq.read_schema(ref).metadata[b"jingce.lake.version"] == b"1"
    root = tmp_path / "lake"
    shutil.copytree(DATA / "v1", root)
    lake = Lake(root)
    con = lake.connect()
    rel = lake.relation_sql(["enterprise=1/month=2026-03/reference.parquet"])
    rows = con.sql(f"SELECT characteristic, value, local_time, zone FROM {rel} ORDER BY position").fetchall()
    assert rows[0][0] == "D1" and rows[0][1] == 10.001
    assert str(rows[0][2]) == "2026-03-02 08:00:00" and rows[0][3] == "Asia/Shanghai"
    assert len(rows) == 4
    # the current schema still holds every column of version 1; version 2 added ``attributes``
    assert set(pq.read_schema(ref).names) <= set(LAKE_SCHEMA.names)
    scanned = lake.scan(["enterprise=1/month=2026-03/reference.parquet"], ("value", "attributes", "local_time"))
    assert scanned.column("attributes").null_count == 4
    assert scanned.column("value").to_pylist() == [10.001, 9.998, 5.002, 4.999]  # storage order
