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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jingce.model.batch import LAKE_SCHEMA

ROW_GROUP_SIZE = 256 * 1024
_HIGH_CARDINALITY = {"serial"}
WRITE_SCHEMA = pa.schema([
    pa.field(f.name, pa.dictionary(pa.int32(), pa.string()), f.nullable)
    if pa.types.is_string(f.type) and f.name not in _HIGH_CARDINALITY else f
    for f in LAKE_SCHEMA
])
"""The lake schema in memory while writing: low-cardinality strings as dictionaries, so that sorting
and writing move integer codes, not strings. Files still hold plain string columns."""
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
    "attributes",
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


_TIME_COLUMNS = {"measured_at": pa.timestamp("us", tz="UTC"), "local_time": pa.timestamp("us")}


class Lake:
    """Reader and writer of the Parquet lake under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write_batch(self, table: pa.Table, batch: str, *, presorted: bool = False) -> list[LakeFile]:
        """Write ``table`` (of :data:`LAKE_SCHEMA`) as one file per enterprise-month.

        Rows are sorted by (enterprise, month, characteristic, time, position) unless the caller
        says they already are. Each file is written to a temporary name, flushed to disk and
        renamed into place, so a file under its final name is always complete. Names derive from
        the batch hash, so a retried batch overwrites its own leftovers instead of adding files.
        """
        if table.num_rows == 0:
            return []
        table = table.cast(WRITE_SCHEMA)
        ent = np.asarray(table.column("enterprise_id").to_numpy(), dtype=np.int64)
        utc = np.asarray(pc.cast(table.column("measured_at"), pa.int64()).to_numpy(), dtype=np.int64)
        months = utc.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        if not presorted:
            char = np.asarray(table.column("characteristic_id").to_numpy(), dtype=np.int64)
            perm = np.lexsort((table.column("position").to_numpy(), utc, char, months, ent))
            table, ent, utc, months = table.take(pa.array(perm)), ent[perm], utc[perm], months[perm]
        change = np.flatnonzero((np.diff(ent) != 0) | (np.diff(months) != 0)) + 1
        starts = np.concatenate(([0], change)).tolist()
        stops = np.concatenate((change, [table.num_rows])).tolist()
        files = []
        for start, stop in zip(starts, stops, strict=True):
            part = table.slice(start, stop - start)
            e = int(ent[start])
            m = str(np.datetime64(int(months[start]), "M"))
            rel = f"enterprise={e}/month={m}/{batch}.parquet"
            nbytes = self._write_file(part, rel)
            chars = part.column("characteristic_id")
            files.append(LakeFile(
                path=rel, enterprise_id=e, month=m, rows=part.num_rows, bytes=nbytes,
                min_characteristic_id=int(pc.min(chars).as_py()), max_characteristic_id=int(pc.max(chars).as_py()),
                min_time=_utc(int(utc[start:stop].min())), max_time=_utc(int(utc[start:stop].max()))))
        return files

    def _write_file(self, table: pa.Table, rel: str) -> int:
        final = self.root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(final.name + f".tmp-{os.getpid()}")
        with pq.ParquetWriter(
            tmp,
            WRITE_SCHEMA,
            compression="zstd",
            compression_level=3,
            use_dictionary=_DICT_COLUMNS,
            column_encoding=_ENCODINGS,
            write_statistics=True,
            write_page_index=True,
            store_schema=False,  # readers see the plain LAKE_SCHEMA types, not the in-memory dictionaries
        ) as writer:
            writer.write_table(table, row_group_size=ROW_GROUP_SIZE)
            writer.add_key_value_metadata({k.decode(): v.decode() for k, v in LAKE_SCHEMA.metadata.items()})
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

    @staticmethod
    def select_sql(columns: tuple[str, ...] | list[str], prefix: str = "") -> str:
        """The SELECT list for ``columns``; times travel as epoch microseconds (DuckDB's conversion
        of TIMESTAMPTZ to Arrow costs more than reading the column) and :meth:`fetch` restores them."""
        out = []
        for c in columns:
            out.append(f"epoch_us({prefix}{c}) AS {c}" if c in _TIME_COLUMNS else f"{prefix}{c}")
        return ", ".join(out)

    @staticmethod
    def fetch(relation) -> pa.Table:
        """Run a DuckDB relation built with :meth:`select_sql` into an Arrow table."""
        table = relation.to_arrow_table()
        for name, typ in _TIME_COLUMNS.items():
            if name in table.column_names:
                i = table.column_names.index(name)
                table = table.set_column(i, name, table.column(i).cast(typ))
        return table

    def scan(self, relative_paths: list[str], columns, row_filter=None, *, valid_only: bool = False) -> pa.Table:
        """Read the listed files in storage order (``local_time`` computed), filtered by a pyarrow
        expression over the stored columns."""
        import pyarrow.dataset as ds

        if valid_only:
            valid = pc.field("status") == "valid"
            row_filter = valid if row_filter is None else row_filter & valid
        stored = [c for c in columns if c != "local_time"]
        need = set(stored) | ({"measured_at", "utc_offset_min"} if "local_time" in columns else set())
        if not relative_paths:
            return pa.table({c: pa.array([], LAKE_SCHEMA.field(c).type) for c in stored})
        dataset = ds.dataset([str(self.root / p) for p in relative_paths], format="parquet", schema=LAKE_SCHEMA)
        table = dataset.to_table(columns=sorted(need), filter=row_filter)
        if "local_time" in columns:
            local = pc.add(pc.cast(pc.cast(table.column("measured_at"), pa.int64()), pa.int64()),
                           pc.multiply(pc.cast(table.column("utc_offset_min"), pa.int64()), 60_000_000))
            table = table.append_column("local_time", pc.cast(local, pa.timestamp("us")))
        return table.select(list(columns))

    def relation_sql(self, relative_paths: list[str]) -> str:
        """SQL of a relation over the listed files (with ``local_time`` computed)."""
        if not relative_paths:
            cols = ", ".join(f"CAST(NULL AS {_duck_type(f.type)}) AS {f.name}" for f in LAKE_SCHEMA)
            return f"(SELECT {cols}, CAST(NULL AS TIMESTAMP) AS local_time WHERE false)"
        files = ", ".join("'" + (self.root / p).as_posix().replace("'", "''") + "'" for p in relative_paths)
        return (
            f"(SELECT *, CAST(measured_at AS TIMESTAMP) + to_minutes(utc_offset_min) AS local_time "
            f"FROM read_parquet([{files}], hive_partitioning = false, union_by_name = true))"
        )


def _utc(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


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
