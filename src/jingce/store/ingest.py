"""Atomic, idempotent ingest of a batch of measurements into the lake.

A batch is identified by the hash of its content. Within one write transaction the store checks
whether the batch is already in, resolves codes to registry ids (creating products,
characteristics and parts the batch introduces), writes the lake files, and records the batch,
its files and an audit entry. The commit of that transaction is the moment the batch becomes
visible, whole; a crash before it leaves only invisible files, which a retry overwrites.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert, select, tuple_

from jingce.errors import ConflictError, FormatError, JingceError
from jingce.model import Characteristic, CharacteristicKind
from jingce.model.batch import REQUIRED_INPUT, STAGES, STATUSES, conform_input
from jingce.model.units import conversion_factor, has_dimension
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import ENTERPRISE_ROLES, StoreBase
from jingce.store.tenancy import Actor


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


def _codes(column) -> tuple[list, np.ndarray]:
    """Dictionary-encode a column: its distinct values, and each row's index into them (-1: null)."""
    if column.null_count == len(column):
        return [], np.full(len(column), -1, dtype=np.int32)
    if pa.types.is_dictionary(column.type):
        enc = column.unify_dictionaries().combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_dictionary(enc.type) and len(enc.dictionary) == len(pc.unique(enc.dictionary)):
            idx = np.asarray(_np(pc.fill_null(enc.indices, -1)), dtype=np.int32)
            return enc.dictionary.to_pylist(), idx
        column = enc.cast(pa.string())
    enc = pc.dictionary_encode(column).combine_chunks()
    idx = np.asarray(_np(pc.fill_null(enc.indices, -1)), dtype=np.int32)
    return enc.dictionary.to_pylist(), idx


def _dict(values: list, idx: np.ndarray) -> pa.DictionaryArray:
    """The dictionary-encoded string column whose row i is ``values[idx[i]]`` (null where -1)."""
    idx = np.asarray(idx, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32(), mask=idx < 0), pa.array(values, pa.string()))


def _dict_column(column, perm: np.ndarray) -> pa.DictionaryArray:
    values, idx = _codes(column)
    return _dict(values, idx[perm])


def _months(utc_us: np.ndarray) -> np.ndarray:
    """Calendar month (months since 1970-01) of each UTC instant, converting only distinct days."""
    days = utc_us // 86_400_000_000
    lo = int(days.min())
    values, _, inverse = _unique(days - lo, int(days.max()) - lo + 1)
    month_of_day = (values + lo).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return month_of_day[inverse]


def _nullable(x: np.ndarray) -> pa.Array:
    """Float column with NaN as null (no limit / no nominal)."""
    missing = np.isnan(x)
    return pa.array(x, pa.float64(), mask=missing) if missing.any() else pa.array(x, pa.float64())


def _unique(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of non-negative integer ``codes`` below ``size``, the first row of each and
    each row's index among them (like ``np.unique(return_index=True, return_inverse=True)``, but
    by counting, without sorting, when ``size`` is small)."""
    if size > 4 * codes.size + 1024:
        return np.unique(codes, return_index=True, return_inverse=True)
    present = np.bincount(codes, minlength=size) > 0
    values = np.flatnonzero(present)
    rank = np.cumsum(present) - 1
    first = np.empty(size, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size - 1, -1, -1)  # the last write wins: the first occurrence
    return values, first[values], rank[codes]


def _utc_offsets_min(utc_us: np.ndarray, zone: str) -> np.ndarray:
    """UTC offset of ``zone`` in minutes at each instant (DST-aware). Offsets change only on whole
    minutes, so they are looked up once per distinct minute."""
    minute = utc_us // 60_000_000
    lo = int(minute.min())
    values, _, inverse = _unique(minute - lo, int(minute.max()) - lo + 1)
    at = (values + lo) * 60_000_000
    ts = pa.array(at, pa.int64()).cast(pa.timestamp("us", tz=zone))
    local = _np(pc.cast(pc.local_timestamp(ts), pa.int64()))
    return ((local - at) // 60_000_000).astype(np.int16)[inverse]


class IngestMixin(StoreBase):
    """The ingest use case of the store."""

    def ingest(self, actor: Actor, table: pa.Table, *, content_hash: str | None = None, source_format: str,
               source_name: str | None = None, source_hash: str | None = None,
               message_source: str | None = None, alarms: list[dict] | None = None) -> IngestResult:
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
            For live messages it is derived from the new message ids.
        source_format, source_name, source_hash
            Provenance kept with every row.
        message_source : str, optional
            Live data: the rows carry ``message_id``; rows of messages already committed from this
            source are dropped (a broker redelivers what was not acknowledged), and the new ids are
            recorded with the batch.
        alarms : list of dict, optional
            Real-time SPC alarms raised on these rows (keys ``message_id``, ``characteristic_id``,
            ``enterprise_id``, ``measured_at``, ``value``, ``kind``, ``rule``, ``detail``, ``serial``,
            ``raised_at``), recorded in the same transaction as the values.

        Raises
        ------
        FormatError
            A row breaks a rule; names the file, line and field. Nothing is written.
        """
        with self._write() as conn:
            new_ids: list[str] = []
            if message_source is not None:
                table, alarms, new_ids = self._new_messages(conn, table, alarms or [], message_source)
                if table.num_rows == 0:
                    return IngestResult("", 0, created=False)
                content_hash = hashlib.sha256("\n".join([message_source, *new_ids]).encode()).hexdigest()
            if content_hash is None:
                raise FormatError("a batch needs its content hash", field="content_hash")
            source_hash = source_hash or content_hash
            done = conn.execute(select(t.ingest_batch).where(t.ingest_batch.c.content_hash == content_hash)).first()
            if done is not None and (actor.is_admin or done.tenant_id == actor.tenant_id):
                return IngestResult(content_hash, done.rows, created=False)
            lake_table, stats = self._resolve(conn, actor, table, content_hash, source_format, source_name, source_hash)
            files = self.lake.write_batch(lake_table, content_hash, presorted=True)
            if done is not None:  # another tenant's batch with the same bytes: never say it exists
                raise ConflictError("this batch cannot be ingested", field="content_hash")
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
            if new_ids:
                conn.execute(insert(t.live_message), [{"source": message_source, "message_id": m, "batch_id": batch_id}
                                                      for m in new_ids])
            if alarms:
                cols = set(t.alarm.c.keys()) - {"id", "batch_id"}
                conn.execute(insert(t.alarm), [{k: a.get(k) for k in cols} | {"batch_id": batch_id} for a in alarms])
            seq, digest = audit.append(conn, "ingest_batch", content_hash, {
                "rows": lake_table.num_rows, "source_format": source_format, "source_name": source_name,
                "source_hash": source_hash, "files": sorted(f.path for f in files),
                "enterprises": sorted({f.enterprise_id for f in files}), "messages": len(new_ids),
                "alarms": len(alarms or []),
            }, actor.username)
        audit.write_anchor(self.anchor_path, seq, digest)
        return IngestResult(content_hash, lake_table.num_rows, True, len(files), stats[0], stats[1])

    def _new_messages(self, conn, table: pa.Table, alarms: list[dict], source: str):
        """Drop rows (and alarms) of messages this source already committed."""
        if "message_id" not in table.column_names or table.column("message_id").null_count:
            raise FormatError("live rows need a message_id", field="message_id")
        ids = sorted(set(table.column("message_id").to_pylist()))
        seen: set[str] = set()
        for i in range(0, len(ids), 5000):
            seen |= set(conn.execute(select(t.live_message.c.message_id).where(
                t.live_message.c.source == source, t.live_message.c.message_id.in_(ids[i:i + 5000]))).scalars())
        if seen:
            keep = pc.invert(pc.is_in(table.column("message_id"), value_set=pa.array(sorted(seen), pa.string())))
            table = table.filter(keep)
            alarms = [a for a in alarms if a.get("message_id") not in seen]
        return table, alarms, [m for m in ids if m not in seen]

    # -- resolution ---------------------------------------------------------------------------

    def _resolve(self, conn, actor, table, content_hash, source_format, source_name, source_hash):
        """Check every row and map codes to registry ids (creating new products, characteristics
        and parts); return the rows as :data:`LAKE_SCHEMA`. Works on dictionary codes, so the
        cost per row is a few integer operations whatever the number of distinct codes."""
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
        ent_codes, ent_i = _codes(table.column("enterprise"))
        ents = {r.code: r for r in conn.execute(select(t.enterprise).where(t.enterprise.c.code.in_(ent_codes)))}
        for k, code in enumerate(ent_codes):
            row = ents.get(code)
            if row is not None and not actor.is_admin:
                if row.tenant_id != actor.tenant_id or actor.role not in ENTERPRISE_ROLES:
                    row = None  # report as unknown: never reveal another tenant's enterprise
            if row is None:
                raise rows.fail(ent_i == k, "enterprise", f"unknown enterprise {code!r} (or not yours to write)")
        ent_ids = np.array([ents[c].id for c in ent_codes], dtype=np.int64)
        ent_id = ent_ids[ent_i]

        # sites ------------------------------------------------------------------------------
        site_rows = conn.execute(select(t.site).where(t.site.c.enterprise_id.in_(ent_ids.tolist()))
                                 .order_by(t.site.c.id)).all()
        site_zone = {srow.id: srow.timezone for srow in site_rows}
        site_codes, site_i = _codes(table.column("site"))
        site_id = np.full(n, -1, dtype=np.int64)
        for k, ecode in enumerate(ent_codes):
            e_rows = [srow for srow in site_rows if srow.enterprise_id == ents[ecode].id]
            in_ent = ent_i == k
            for j, scode in enumerate(site_codes):
                mask = in_ent & (site_i == j)
                if not mask.any():
                    continue
                match = [srow.id for srow in e_rows if srow.code == scode]
                if not match:
                    raise rows.fail(mask, "site", f"unknown site {scode!r} for enterprise {ecode!r}")
                site_id[mask] = match[0]
            unnamed = in_ent & (site_i < 0)
            if unnamed.any():
                if not e_rows:
                    raise rows.fail(unnamed, "site", "the enterprise has no site; name one or register a site")
                site_id[unnamed] = e_rows[0].id

        # products (created when new) --------------------------------------------------------
        pn_codes, pn_i = _codes(table.column("part_number"))
        pair_u, pair_first, pair_inv = _unique(ent_i.astype(np.int64) * len(pn_codes) + pn_i,
                                               len(ent_codes) * len(pn_codes))
        existing_prod = {(r.enterprise_id, r.part_number): r.id for r in conn.execute(
            select(t.product).where(t.product.c.enterprise_id.in_(ent_ids.tolist())))}
        prod_of_pair = np.empty(pair_u.size, dtype=np.int64)
        new_products = 0
        for k, first_row in enumerate(pair_first):
            e_id, pn = int(ent_id[first_row]), pn_codes[pn_i[first_row]]
            pid = existing_prod.get((e_id, pn))
            if pid is None:
                if not 0 < len(pn) <= 64:
                    raise rows.fail(pair_inv == k, "part_number", "must be 1..64 characters")
                pid = conn.execute(insert(t.product).values(enterprise_id=e_id, part_number=pn, name=pn)
                                   ).inserted_primary_key[0]
                new_products += 1
            prod_of_pair[k] = pid
        product_id = prod_of_pair[pair_inv]

        # characteristics (created when new; nominal/limits filled from the registry) ---------
        ch_codes, ch_i = _codes(table.column("characteristic"))
        char_u, char_first, char_inv = _unique(pair_inv.astype(np.int64) * len(ch_codes) + ch_i,
                                               pair_u.size * len(ch_codes))
        existing = {(r.product_id, r.key): r for r in conn.execute(
            select(t.characteristic).where(t.characteristic.c.product_id.in_(prod_of_pair.tolist())))}
        chars = []  # (id, unit, nominal, lower, upper) per distinct characteristic
        created = 0
        col = {c: table.column(c) for c in ("unit", "kind", "characteristic_name", "nominal", "lower_limit",
                                            "upper_limit", "criticality")}
        for k, i in enumerate(char_first.tolist()):
            pid, key = int(product_id[i]), ch_codes[ch_i[i]]
            row = existing.get((pid, key))
            if row is not None:
                chars.append((row.id, row.unit, row.nominal, row.lower_limit, row.upper_limit))
                continue
            unit = col["unit"][i].as_py()
            if unit is None:
                raise rows.fail((char_inv == k) & _np(pc.is_null(col["unit"])), "unit",
                                f"a unit is required for the new characteristic {key!r}")
            try:
                kind = col["kind"][i].as_py() or (CharacteristicKind.SIZE.value if has_dimension(unit, "[length]")
                                                  else CharacteristicKind.OTHER.value)
                ch = Characteristic(
                    product_id=pid, key=key, name=col["characteristic_name"][i].as_py(),
                    nominal=col["nominal"][i].as_py(), lower_limit=col["lower_limit"][i].as_py(),
                    upper_limit=col["upper_limit"][i].as_py(), unit=unit, kind=kind,
                    criticality=col["criticality"][i].as_py() or "major")
            except JingceError as exc:
                raise rows.fail(np.arange(n) == i, exc.details.get("field", "characteristic"), exc.message) from None
            cid = conn.execute(insert(t.characteristic).values(**ch.model_dump(mode="python", exclude={"id"}))
                               ).inserted_primary_key[0]
            created += 1
            chars.append((cid, unit, ch.nominal, ch.lower_limit, ch.upper_limit))
        char_id = np.array([c[0] for c in chars], dtype=np.int32)[char_inv]
        char_units = sorted({c[1] for c in chars})
        char_unit_i = np.array([char_units.index(c[1]) for c in chars], dtype=np.int32)[char_inv]

        # units: values (and per-row spec) converted to the characteristic's unit --------------
        unit_codes, unit_i = _codes(col["unit"])
        factors = np.ones(n)
        unit_pair = (unit_i.astype(np.int64) + 1) * len(char_units) + char_unit_i
        pairs, pair_rows, _ = _unique(unit_pair, (len(unit_codes) + 1) * len(char_units))
        for pair, i in zip(pairs.tolist(), pair_rows.tolist(), strict=True):
            if unit_i[i] < 0 or unit_codes[unit_i[i]] == char_units[char_unit_i[i]]:
                continue
            src, dst = unit_codes[unit_i[i]], char_units[char_unit_i[i]]
            mask = unit_pair == pair
            try:
                factors[mask] = conversion_factor(src, dst)
            except JingceError as exc:
                raise rows.fail(mask, "unit", exc.message) from None

        converted = bool(np.any(factors != 1.0))

        def spec(name: str, idx: int) -> np.ndarray:
            given = np.asarray(_np(col[name]), dtype=np.float64)  # null -> nan
            if col[name].null_count == 0:
                return given * factors if converted else given
            registry_value = np.array([np.nan if c[idx] is None else c[idx] for c in chars])[char_inv]
            return np.where(np.isnan(given), registry_value, given * factors)

        nominal, lower, upper = spec("nominal", 2), spec("lower_limit", 3), spec("upper_limit", 4)
        with np.errstate(invalid="ignore"):
            inverted = lower >= upper
        if inverted.any():
            raise rows.fail(inverted, "lower_limit", "must be < upper_limit")
        value = value * factors

        # instruments ------------------------------------------------------------------------
        inst_codes, inst_i = _codes(table.column("instrument"))
        instrument_id = pa.nulls(n, pa.int32())
        if inst_codes:
            known = {}
            for r in conn.execute(select(t.instrument).where(t.instrument.c.code.in_(inst_codes))):
                if actor.is_admin or r.tenant_id == actor.tenant_id:
                    known[r.code] = r.id
            for k, c in enumerate(inst_codes):
                if c not in known:
                    raise rows.fail(inst_i == k, "instrument", f"unknown instrument {c!r}")
            ids = np.array([known[c] for c in inst_codes] + [0], dtype=np.int32)
            instrument_id = pa.array(ids[inst_i], mask=inst_i < 0)

        # zones and times --------------------------------------------------------------------
        zone_codes, zone_i = _codes(table.column("zone"))
        site_zone_codes = sorted(set(site_zone.values()))
        zones = sorted(set(zone_codes) | set(site_zone_codes))
        zone_of_site = np.zeros(int(site_id.max()) + 1, dtype=np.int32)
        for sid, z in site_zone.items():
            zone_of_site[sid] = zones.index(z)
        remap = np.array([zones.index(z) for z in zone_codes] + [0], dtype=np.int32)
        zone_idx = zone_of_site[site_id] if not zone_codes else np.where(zone_i >= 0, remap[zone_i],
                                                                          zone_of_site[site_id])
        utc = table.column("measured_at")
        no_utc = _np(pc.is_null(utc))
        if no_utc.any():
            no_time = no_utc & _np(pc.is_null(table.column("local_time")))
            if no_time.any():
                raise rows.fail(no_time, "time", "a time is required")
        utc_us = np.array(_np(pc.fill_null(pc.cast(utc, pa.int64()), 0)), dtype=np.int64)
        offset = np.zeros(n, dtype=np.int16)
        for zi in _unique(zone_idx.astype(np.int64), len(zones))[0].tolist():
            z = zones[zi]
            mask = zone_idx == zi
            try:
                ZoneInfo(z)
            except (ZoneInfoNotFoundError, ValueError):
                raise rows.fail(mask, "zone", f"unknown time zone {z!r} (expected an IANA name such as Asia/Shanghai)") from None
            local_rows = mask & no_utc
            if local_rows.any():  # wall-clock times: read them in the zone (DST gaps/folds: earliest)
                local = pc.filter(table.column("local_time"), pa.array(local_rows))
                as_utc = pc.assume_timezone(local, timezone=z, ambiguous="earliest", nonexistent="earliest")
                utc_us[local_rows] = _np(pc.cast(as_utc, pa.int64()))
            offset[mask] = _utc_offsets_min(utc_us[mask], z)
        stage_codes, stage_i = _codes(table.column("stage"))
        status_codes, status_i = _codes(table.column("status"))
        for name, codes_, idx_, allowed in (("stage", stage_codes, stage_i, STAGES),
                                            ("status", status_codes, status_i, STATUSES)):
            for k, v in enumerate(codes_):
                if v not in allowed:
                    raise rows.fail(idx_ == k, name, f"must be one of {', '.join(allowed)}, got {v!r}")
        stage_codes, stage_i = [*stage_codes, "in_process"], np.where(stage_i < 0, len(stage_codes), stage_i)
        status_codes, status_i = [*status_codes, "valid"], np.where(status_i < 0, len(status_codes), status_i)

        # parts (serials) --------------------------------------------------------------------
        serial = table.column("serial")
        has_serial = pc.is_valid(serial)
        if pc.any(has_serial).as_py():
            pairs_tbl = pa.table({"product_id": product_id, "serial": serial})
            if serial.null_count:
                pairs_tbl = pairs_tbl.filter(has_serial)
            uniq = pairs_tbl.group_by(["product_id", "serial"]).aggregate([])
            if pc.max(pc.utf8_length(uniq.column("serial"))).as_py() > 128:
                too_long = _np(pc.greater(pc.utf8_length(pc.fill_null(serial, "")), 128))
                raise rows.fail(too_long, "serial", "must be at most 128 characters")
            self._insert_parts(conn, uniq.column("product_id").to_pylist(), uniq.column("serial").to_pylist())

        # sorted by (enterprise, month, characteristic, time, position) as the lake keeps it,
        # permuting integer codes rather than strings
        months = _months(utc_us)
        part_key = (ent_id << 43) | (months << 31) | char_id.astype(np.int64)
        position = _np(table.column("position"))
        perm = np.lexsort((position, utc_us, part_key))
        zero = np.zeros(n, np.int32)
        lake = pa.table({
            "enterprise_id": pa.array(ent_id[perm], pa.int32()), "site_id": pa.array(site_id[perm], pa.int32()),
            "product_id": pa.array(product_id[perm], pa.int32()), "part_number": _dict(pn_codes, pn_i[perm]),
            "serial": pc.take(serial, pa.array(perm)), "characteristic_id": pa.array(char_id[perm]),
            "characteristic": _dict(ch_codes, ch_i[perm]),
            "nominal": _nullable(nominal[perm]), "lower_limit": _nullable(lower[perm]),
            "upper_limit": _nullable(upper[perm]),
            "unit": _dict(char_units, char_unit_i[perm]), "value": pa.array(value[perm]),
            "status": _dict(status_codes, status_i[perm]),
            "measured_at": pa.array(utc_us[perm], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "utc_offset_min": pa.array(offset[perm]), "zone": _dict(zones, zone_idx[perm]),
            "stage": _dict(stage_codes, stage_i[perm]),
            "operator": _dict_column(table.column("operator"), perm),
            "machine": _dict_column(table.column("machine"), perm),
            "instrument_id": pc.take(instrument_id, pa.array(perm)),
            "source_format": _dict([source_format], zero), "source_hash": _dict([source_hash], zero),
            "position": pa.array(position[perm], pa.int64()), "batch": _dict([content_hash], zero),
            "attributes": _dict_column(table.column("attributes"), perm),
        })
        return lake, (created, new_products)

    def _insert_parts(self, conn, product_ids: list[int], serials: list[str]) -> None:
        """Insert (product, serial) pairs that are not registered yet (one driver-level batch)."""
        pairs = list(zip(product_ids, serials, strict=True))
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("INSERT OR IGNORE INTO part (product_id, serial) VALUES (?, ?)", pairs)
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql("INSERT INTO part (product_id, serial) VALUES (%s, %s) ON CONFLICT DO NOTHING", pairs)
        else:  # pragma: no cover - other backends
            have = set(conn.execute(select(t.part.c.product_id, t.part.c.serial).where(
                tuple_(t.part.c.product_id, t.part.c.serial).in_(pairs))))
            new = [{"product_id": p, "serial": s} for p, s in pairs if (p, s) not in have]
            if new:
                conn.execute(insert(t.part), new)
