"""Atomic, idempotent ingest of a batch of measurements into the lake.

A batch is identified by the hash of its content. Within one write transaction the store checks
whether the batch is already in, resolves codes to registry ids (creating products,
characteristics and parts the batch introduces), writes the lake files, and records the batch,
its files and an audit entry. The commit of that transaction is the moment the batch becomes
visible, whole; a crash before it leaves only invisible files, which a retry overwrites.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from jingce.errors import FormatError, JingceError
from jingce.model import Characteristic, CharacteristicKind
from jingce.model.batch import LAKE_SCHEMA, REQUIRED_INPUT, STAGES, STATUSES, conform_input
from jingce.model.units import conversion_factor, has_dimension
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import ENTERPRISE_ROLES, StoreBase
from jingce.store.tenancy import Actor

SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Outcome of one ingest: ``created`` is False when the batch was already in (nothing changed)."""

    batch: str
    rows: int
    created: bool
    files: int = 0
    new_characteristics: int = 0
    new_products: int = 0

    def message(self) -> str:
        if not self.created:
            return (f"批次 {self.batch[:12]} 已导入过，未做任何更改 / batch {self.batch[:12]} was already ingested; "
                    "nothing changed")
        return (f"已导入 {self.rows} 个测量值（{self.files} 个文件）/ ingested {self.rows} values "
                f"into {self.files} lake file(s)")


class _Rows:
    """Error reporting for a batch: the first row matching a mask, by its source line."""

    def __init__(self, table: pa.Table, source: str | None) -> None:
        self.table = table
        self.source = source
        self.lines = table.column("line") if "line" in table.column_names else None

    def fail(self, mask, field: str, message: str) -> JingceError:
        mask = np.asarray(mask, dtype=bool)
        idx = int(np.flatnonzero(mask)[0]) if mask.any() else 0
        line = None
        if self.lines is not None and self.lines[idx].is_valid:
            line = self.lines[idx].as_py()
        pos = self.table.column("position")[idx].as_py()
        return FormatError(message, file=self.source, line=line, field=field,
                           position=None if line is not None else pos)


def _np(arr) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


def _key(*cols) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(*[pc.cast(c, pa.string()) for c in cols], SEP)


def _lookup(column, keys: list, values: list, dtype=pa.int32()) -> pa.Array:
    """Map each element of ``column`` to the value of its key (null where unknown)."""
    idx = pc.index_in(column, value_set=pa.array(keys, type=pa.string()))
    return pc.take(pa.array(values, type=dtype), idx)


class IngestMixin(StoreBase):
    """The ingest use case of the store."""

    def ingest(self, actor: Actor, table: pa.Table, *, content_hash: str, source_format: str,
               source_name: str | None = None, source_hash: str | None = None) -> IngestResult:
        """Land a batch of measurements (columns of :data:`jingce.model.batch.INPUT_SCHEMA`).

        Parameters
        ----------
        actor : Actor
            Who ingests; must be allowed to write every enterprise the batch names.
        table : pyarrow.Table
            The measurements, referring to enterprise, site, part number, characteristic and
            instrument by code.
        content_hash : str
            Identity of the batch (SHA-256 of the source bytes); a batch already in is skipped.
        source_format, source_name, source_hash
            Provenance kept with every row.

        Raises
        ------
        FormatError
            A row breaks a rule; names the file, line and field. Nothing is written.
        NotFoundError
            The batch names an enterprise the actor may not write.
        """
        source_hash = source_hash or content_hash
        with self._write() as conn:
            done = conn.execute(select(t.ingest_batch).where(t.ingest_batch.c.content_hash == content_hash)).first()
            if done is not None:
                return IngestResult(content_hash, done.rows, created=False)
            lake_table, stats = self._resolve(conn, actor, table, content_hash, source_format, source_name, source_hash)
            files = self.lake.write_batch(lake_table, content_hash)
            batch_id = conn.execute(insert(t.ingest_batch).values(
                content_hash=content_hash, tenant_id=actor.tenant_id, user_id=actor.user_id,
                source_format=source_format, source_name=source_name, rows=lake_table.num_rows,
                committed_at=dt.datetime.now(dt.UTC),
            )).inserted_primary_key[0]
            if files:
                conn.execute(insert(t.lake_file), [
                    {"batch_id": batch_id, "path": f.path, "enterprise_id": f.enterprise_id, "month": f.month,
                     "rows": f.rows, "bytes": f.bytes, "min_characteristic_id": f.min_characteristic_id,
                     "max_characteristic_id": f.max_characteristic_id, "min_time": f.min_time,
                     "max_time": f.max_time, "active": True}
                    for f in files])
            seq, digest = audit.append(conn, "ingest_batch", content_hash, {
                "rows": lake_table.num_rows, "source_format": source_format, "source_name": source_name,
                "source_hash": source_hash, "files": sorted(f.path for f in files),
                "enterprises": sorted({f.enterprise_id for f in files}),
            }, actor.username)
        audit.write_anchor(self.anchor_path, seq, digest)
        return IngestResult(content_hash, lake_table.num_rows, True, len(files), stats[0], stats[1])

    # -- resolution ---------------------------------------------------------------------------

    def _resolve(self, conn, actor, table, content_hash, source_format, source_name, source_hash):
        table = conform_input(table)
        rows = _Rows(table, source_name)
        n = table.num_rows
        for name in REQUIRED_INPUT:
            nulls = _np(pc.is_null(table.column(name)))
            if nulls.any():
                raise rows.fail(nulls, name, "a value is required")
        value = _np(table.column("value"))
        bad = ~np.isfinite(value)
        if bad.any():
            raise rows.fail(bad, "value", "must be a finite number")

        # enterprises ------------------------------------------------------------------------
        ent_codes = pc.unique(table.column("enterprise")).to_pylist()
        ents = {r.code: r for r in conn.execute(select(t.enterprise).where(t.enterprise.c.code.in_(ent_codes)))}
        for code in ent_codes:
            row = ents.get(code)
            if row is not None and not actor.is_admin:
                if row.tenant_id != actor.tenant_id or actor.role not in ENTERPRISE_ROLES:
                    row = None  # report as unknown: never reveal another tenant's enterprise
            if row is None:
                raise rows.fail(_np(pc.equal(table.column("enterprise"), code)), "enterprise",
                                f"unknown enterprise {code!r} (or not yours to write)")
        ent_id = _lookup(table.column("enterprise"), list(ents), [r.id for r in ents.values()])

        # sites ------------------------------------------------------------------------------
        site_rows = conn.execute(select(t.site).where(t.site.c.enterprise_id.in_([r.id for r in ents.values()]))
                                 .order_by(t.site.c.id)).all()
        default_site: dict[int, object] = {}
        for s in site_rows:
            default_site.setdefault(s.enterprise_id, s)
        code_of = {r.id: c for c, r in ents.items()}
        site_keys = [code_of[s.enterprise_id] + SEP + s.code for s in site_rows]
        site_col = table.column("site")
        has_site = _np(pc.is_valid(site_col))
        site_id = _np(_lookup(_key(table.column("enterprise"), pc.fill_null(site_col, "")), site_keys,
                              [s.id for s in site_rows])).astype(np.float64)
        unknown = has_site & np.isnan(site_id)
        if unknown.any():
            raise rows.fail(unknown, "site", "unknown site for this enterprise")
        ent_np = _np(ent_id).astype(np.int64)
        if (~has_site).any():
            default_of = np.full(int(ent_np.max()) + 1, -1, dtype=np.int64)
            for e, srow in default_site.items():
                default_of[e] = srow.id
            fallback = default_of[ent_np[~has_site]]
            if (fallback < 0).any():
                miss = np.zeros(n, bool)
                miss[np.flatnonzero(~has_site)[fallback < 0]] = True
                raise rows.fail(miss, "site", "the enterprise has no site; name one or register a site")
            site_id[~has_site] = fallback
        site_id = site_id.astype(np.int32)
        site_zone = {s.id: s.timezone for s in site_rows}

        # products (created when new) --------------------------------------------------------
        pn_key = _key(table.column("enterprise"), table.column("part_number"))
        pairs = pc.unique(pn_key).to_pylist()
        prods = {code_of[r.enterprise_id] + SEP + r.part_number: r.id for r in conn.execute(
            select(t.product).where(t.product.c.enterprise_id.in_(list(code_of))))}
        new_prod = [p for p in pairs if p not in prods]
        for p in new_prod:
            e, pn = p.split(SEP)
            if not (0 < len(pn) <= 64):
                raise rows.fail(_np(pc.equal(pn_key, p)), "part_number", "must be 1..64 characters")
            prods[p] = conn.execute(insert(t.product).values(
                enterprise_id=ents[e].id, part_number=pn, name=pn)).inserted_primary_key[0]
        product_id = _lookup(pn_key, list(prods), list(prods.values()))

        # characteristics (created when new; nominal/limits filled from the registry) ---------
        ck = _key(table.column("enterprise"), table.column("part_number"), table.column("characteristic"))
        enc = pc.dictionary_encode(ck).combine_chunks()
        triples = enc.dictionary.to_pylist()
        codes = _np(enc.indices)
        _, first = np.unique(codes, return_index=True)
        prod_ids = list(prods.values())
        existing = {}
        for r in conn.execute(select(t.characteristic).where(t.characteristic.c.product_id.in_(prod_ids))):
            existing[(r.product_id, r.key)] = r
        chars = []
        created = 0
        for ti, trip in enumerate(triples):
            e, pn, key = trip.split(SEP)
            pid = prods[e + SEP + pn]
            row = existing.get((pid, key))
            if row is None:
                i = int(first[ti])
                mask = codes == ti
                unit = table.column("unit")[i].as_py()
                if unit is None:
                    raise rows.fail(mask & _np(pc.is_null(table.column("unit"))), "unit",
                                    f"a unit is required for the new characteristic {key!r}")
                kind = table.column("kind")[i].as_py()
                if kind is None:
                    kind = (CharacteristicKind.SIZE.value
                            if has_dimension(unit, "[length]") else CharacteristicKind.OTHER.value)
                try:
                    ch = Characteristic(
                        product_id=pid, key=key, name=table.column("characteristic_name")[i].as_py(),
                        nominal=table.column("nominal")[i].as_py(), lower_limit=table.column("lower_limit")[i].as_py(),
                        upper_limit=table.column("upper_limit")[i].as_py(), unit=unit, kind=kind,
                        criticality=table.column("criticality")[i].as_py() or "major")
                except JingceError as exc:
                    raise rows.fail(np.arange(n) == i, exc.details.get("field", "characteristic"), exc.message) from None
                cid = conn.execute(insert(t.characteristic).values(
                    **ch.model_dump(mode="python", exclude={"id"}))).inserted_primary_key[0]
                created += 1
                chars.append((cid, unit, ch.nominal, ch.lower_limit, ch.upper_limit))
            else:
                chars.append((row.id, row.unit, row.nominal, row.lower_limit, row.upper_limit))
        char_id = np.array([c[0] for c in chars], dtype=np.int32)[codes]
        char_unit = np.array([c[1] for c in chars], dtype=object)[codes]

        # units: values (and per-row spec) converted to the characteristic's unit --------------
        row_unit = table.column("unit")
        unit_pair = _key(pc.fill_null(row_unit, ""), pa.array(char_unit, pa.string()))
        factors = np.ones(n)
        for pair in pc.unique(unit_pair).to_pylist():
            src, dst = pair.split(SEP)
            if src and src != dst:
                mask = _np(pc.equal(unit_pair, pair))
                try:
                    factors[mask] = conversion_factor(src, dst)
                except JingceError as exc:
                    raise rows.fail(mask, "unit", exc.message) from None

        def spec(col: str, idx: int) -> np.ndarray:
            given = _np(table.column(col)).astype(np.float64)  # null -> nan
            registry_value = np.array([np.nan if c[idx] is None else c[idx] for c in chars])[codes]
            return np.where(np.isnan(given), registry_value, given * factors)

        nominal, lower, upper = spec("nominal", 2), spec("lower_limit", 3), spec("upper_limit", 4)
        inverted = lower >= upper
        if inverted.any():
            raise rows.fail(inverted, "lower_limit", "must be < upper_limit")
        value = value * factors

        # instruments ------------------------------------------------------------------------
        inst_col = table.column("instrument")
        inst_codes = [c for c in pc.unique(inst_col).to_pylist() if c is not None]
        insts = {}
        if inst_codes:
            for r in conn.execute(select(t.instrument).where(t.instrument.c.code.in_(inst_codes))):
                if actor.is_admin or r.tenant_id == actor.tenant_id:
                    insts[r.code] = r.id
            for c in inst_codes:
                if c not in insts:
                    raise rows.fail(_np(pc.equal(inst_col, c)), "instrument", f"unknown instrument {c!r}")
        instrument_id = _lookup(inst_col, list(insts), list(insts.values())) if insts else pa.nulls(n, pa.int32())

        # zones, stages, statuses -------------------------------------------------------------
        zone = table.column("zone")
        if pc.any(pc.is_null(zone)).as_py():
            zones = sorted(set(site_zone.values()))
            zone_idx = np.zeros(int(site_id.max()) + 1, dtype=np.int32)
            for sid, z in site_zone.items():
                zone_idx[sid] = zones.index(z)
            zone = pc.coalesce(zone, pc.take(pa.array(zones, pa.string()), pa.array(zone_idx[site_id])))
        utc = table.column("measured_at")
        no_utc = _np(pc.is_null(utc))
        if no_utc.any():
            no_time = no_utc & _np(pc.is_null(table.column("local_time")))
            if no_time.any():
                raise rows.fail(no_time, "time", "a time is required")
        utc_np = np.array(_np(pc.fill_null(pc.cast(utc, pa.int64()), 0))) if no_utc.any() else None
        offset = np.zeros(n, dtype=np.int16)
        for z in pc.unique(zone).to_pylist():
            mask = _np(pc.equal(zone, z))
            try:
                ZoneInfo(z)
            except (ZoneInfoNotFoundError, ValueError):
                raise rows.fail(mask, "zone", f"unknown time zone {z!r} (expected an IANA name such as Asia/Shanghai)") from None
            local_rows = mask & no_utc
            if local_rows.any():  # wall-clock times: read them in the zone (DST gaps/folds: earliest)
                local = pc.filter(table.column("local_time"), pa.array(local_rows))
                as_utc = pc.assume_timezone(local, timezone=z, ambiguous="earliest", nonexistent="earliest")
                utc_np[local_rows] = _np(pc.cast(as_utc, pa.int64()))
            sel = pc.filter(utc, pa.array(mask)) if utc_np is None else pa.array(
                utc_np[mask], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
            local = pc.local_timestamp(pc.cast(sel, pa.timestamp("us", tz=z)))
            minutes = (_np(pc.cast(local, pa.int64())) - _np(pc.cast(sel, pa.int64()))) // 60_000_000
            offset[mask] = minutes.astype(np.int16)
        if utc_np is not None:
            utc = pa.array(utc_np, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        stage = pc.fill_null(table.column("stage"), "in_process")
        bad = ~_np(pc.is_in(stage, value_set=pa.array(STAGES)))
        if bad.any():
            raise rows.fail(bad, "stage", f"must be one of {', '.join(STAGES)}")
        status = pc.fill_null(table.column("status"), "valid")
        bad = ~_np(pc.is_in(status, value_set=pa.array(STATUSES)))
        if bad.any():
            raise rows.fail(bad, "status", f"must be one of {', '.join(STATUSES)}")

        # parts (serials) --------------------------------------------------------------------
        serial = table.column("serial")
        has_serial = pc.is_valid(serial)
        if pc.any(has_serial).as_py():
            too_long = _np(pc.greater(pc.utf8_length(pc.fill_null(serial, "")), 128))
            if too_long.any():
                raise rows.fail(too_long, "serial", "must be at most 128 characters")
            pairs_tbl = pa.table({"product_id": product_id, "serial": serial}).filter(has_serial)
            uniq = pairs_tbl.group_by(["product_id", "serial"]).aggregate([])
            self._insert_parts(conn, uniq.column("product_id").to_pylist(), uniq.column("serial").to_pylist())

        lake = pa.table({
            "enterprise_id": ent_id, "site_id": pa.array(site_id), "product_id": product_id,
            "part_number": table.column("part_number"), "serial": serial, "characteristic_id": pa.array(char_id),
            "characteristic": table.column("characteristic"), "nominal": pa.array(nominal, from_pandas=True),
            "lower_limit": pa.array(lower, from_pandas=True), "upper_limit": pa.array(upper, from_pandas=True),
            "unit": pa.array(char_unit, pa.string()), "value": pa.array(value), "status": status,
            "measured_at": utc, "utc_offset_min": pa.array(offset), "zone": zone, "stage": stage,
            "operator": table.column("operator"), "machine": table.column("machine"), "instrument_id": instrument_id,
            "source_format": pa.array(np.full(n, source_format, dtype=object), pa.string()),
            "source_hash": pa.array(np.full(n, source_hash, dtype=object), pa.string()),
            "position": table.column("position"),
            "batch": pa.array(np.full(n, content_hash, dtype=object), pa.string()),
        }).cast(LAKE_SCHEMA)
        return lake, (created, len(new_prod))

    def _insert_parts(self, conn, product_ids: list[int], serials: list[str]) -> None:
        """Insert (product, serial) pairs that are not registered yet."""
        rows = [{"product_id": p, "serial": s} for p, s in zip(product_ids, serials, strict=True)]
        dialect = conn.dialect.name
        for i in range(0, len(rows), 5000):
            chunk = rows[i:i + 5000]
            if dialect == "sqlite":
                conn.execute(sqlite.insert(t.part).on_conflict_do_nothing(), chunk)
            elif dialect == "postgresql":
                conn.execute(postgresql.insert(t.part).on_conflict_do_nothing(), chunk)
            else:  # pragma: no cover - other backends
                have = set(conn.execute(select(t.part.c.product_id, t.part.c.serial).where(
                    tuple_(t.part.c.product_id, t.part.c.serial).in_([(r["product_id"], r["serial"]) for r in chunk]))))
                new = [r for r in chunk if (r["product_id"], r["serial"]) not in have]
                if new:
                    conn.execute(insert(t.part), new)
