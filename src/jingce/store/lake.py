"""The measurement lake: Parquet files partitioned by enterprise and month, read with DuckDB.

Files are immutable. Each ingest batch writes one file per (enterprise, month) partition it
touches, rows sorted by (characteristic, time), so that analyses stream sorted data and row-group
statistics prune reads of one characteristic. A file becomes visible only when the registry's
``lake_file`` manifest lists it (the registry transaction is the commit point); files the
manifest does not list are invisible leftovers of interrupted writes, overwritten by a retry and
removed by :meth:`Lake.orphans`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jingce.model.batch import LAKE_SCHEMA

ROW_GROUP_SIZE = 256 * 1024
_DICT_COLUMNS = [
    "enterprise_id",
    "site_id",
    "product_id",
    "part_number",
    "serial",
    "characteristic_id",
    "characteristic",
    "nominal",
    "lower_limit",
    "upper_limit",
    "unit",
    "status",
    "utc_offset_min",
    "zone",
    "stage",
    "operator",
    "machine",
    "instrument_id",
    "source_format",
    "source_hash",
    "batch",
]
_ENCODINGS = {"value": "BYTE_STREAM_SPLIT", "measured_at": "DELTA_BINARY_PACKED", "position": "DELTA_BINARY_PACKED"}


@dataclass(frozen=True, slots=True)
class LakeFile:
    """A written file, as the manifest records it (``path`` relative to the lake root)."""

    path: str
    enterprise_id: int
    month: str
    rows: int
    bytes: int
    min_characteristic_id: int
    max_characteristic_id: int
    min_time: datetime
    max_time: datetime


class Lake:
    """Reader and writer of the Parquet lake under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write_batch(self, table: pa.Table, batch: str) -> list[LakeFile]:
        """Sort ``table`` (of :data:`LAKE_SCHEMA`) and write one file per enterprise-month.

        Each file is written to a temporary name, flushed to disk and renamed into place, so a
        file under its final name is always complete. Names derive from the batch hash, so a
        retried batch overwrites its own leftovers instead of adding files.
        """
        if table.num_rows == 0:
            return []
        table = table.cast(LAKE_SCHEMA)
        month = pc.strftime(table.column("measured_at"), format="%Y-%m")
        keyed = table.append_column("_month", month)
        keyed = keyed.sort_by(
            [("enterprise_id", "ascending"), ("_month", "ascending"), ("characteristic_id", "ascending"),
             ("measured_at", "ascending"), ("position", "ascending")]
        )
        files = []
        for start, stop in _partition_boundaries(keyed):
            part = keyed.slice(start, stop - start)
            e = int(part.column("enterprise_id")[0].as_py())
            m = part.column("_month")[0].as_py()
            part = part.drop_columns(["_month"])
            rel = f"enterprise={e}/month={m}/{batch[:24]}.parquet"
            nbytes = self._write_file(part, rel)
            chars = part.column("characteristic_id")
            times = part.column("measured_at")
            files.append(
                LakeFile(
                    path=rel,
                    enterprise_id=e,
                    month=m,
                    rows=part.num_rows,
                    bytes=nbytes,
                    min_characteristic_id=int(chars[0].as_py()),
                    max_characteristic_id=int(chars[-1].as_py()),
                    min_time=pc.min(times).as_py(),
                    max_time=pc.max(times).as_py(),
                )
            )
        return files

    def _write_file(self, table: pa.Table, rel: str) -> int:
        final = self.root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(final.name + f".tmp-{os.getpid()}")
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            compression_level=3,
            use_dictionary=_DICT_COLUMNS,
            column_encoding=_ENCODINGS,
            row_group_size=ROW_GROUP_SIZE,
            write_statistics=True,
            write_page_index=True,
        )
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        return final.stat().st_size

    def orphans(self, listed: set[str]) -> list[Path]:
        """Files under the root that the manifest does not list (leftovers of interrupted writes)."""
        out = []
        for p in self.root.rglob("*.parquet*"):
            rel = p.relative_to(self.root).as_posix()
            if rel not in listed:
                out.append(p)
        return out

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection for reading this lake."""
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        return con

    def relation_sql(self, relative_paths: list[str]) -> str:
        """SQL of a relation over the listed files (with ``local_time`` computed)."""
        if not relative_paths:
            cols = ", ".join(f"CAST(NULL AS {_duck_type(f.type)}) AS {f.name}" for f in LAKE_SCHEMA)
            return f"(SELECT {cols}, CAST(NULL AS TIMESTAMP) AS local_time WHERE false)"
        files = ", ".join("'" + (self.root / p).as_posix().replace("'", "''") + "'" for p in relative_paths)
        return (
            f"(SELECT *, CAST(measured_at AS TIMESTAMP) + to_minutes(utc_offset_min) AS local_time "
            f"FROM read_parquet([{files}]))"
        )


def _partition_boundaries(table: pa.Table) -> list[tuple[int, int]]:
    """Start and stop of each (enterprise, month) run in a table sorted by both."""
    ent = table.column("enterprise_id").to_numpy()
    mon = table.column("_month").combine_chunks()
    mon_codes = pc.dictionary_encode(mon).indices.to_numpy(zero_copy_only=False)
    change = np.flatnonzero((np.diff(ent) != 0) | (np.diff(mon_codes) != 0)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [table.num_rows]])
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_int16(t):
        return "SMALLINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    return "VARCHAR"
