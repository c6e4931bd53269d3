"""Out-of-tolerance impact (reverse traceability).

When a calibration finds an instrument or a standard out of tolerance (as found), every result
it took part in since its last calibration is in doubt (ISO 9001:2015 7.1.5.2, ISO 10012:2003
8.3.3, ISO/IEC 17025:2017 7.10): the values measured with it, and, for a standard, every
instrument calibrated against it in that period -- down the calibration graph, transitively --
and the values measured with those until their next calibration.

:func:`impact_report` finds them (a registry walk of a few queries per level of the graph, one
scan of the lake for the suspect instruments and windows), follows the affected parts up the
as-built assemblies, re-evaluates each accepted conformity decision with the as-found error,
stores the report (summary in the registry, details as Parquet under the data folder) and tells
every tenant concerned.

The risk model (documented here because it is an assumption)
------------------------------------------------------------
A value ``y`` inside its tolerance interval was accepted (simple acceptance, ILAC-G8:2019 4.2.1,
no guard band). The instrument had an unknown bias ``b`` of at most the as-found error ``e`` of
the out-of-tolerance calibration, of unknown sign: it is modelled as a rectangular distribution
on ``[-|e|, +|e|]``, standard uncertainty ``|e| / sqrt(3)`` (JCGM 100:2008 4.3.7), uncorrelated
with the instrument's own standard uncertainty ``u_i`` (its stated ``uncertainty``, else the
``U/k`` of the suspect calibration), so ``u_c = sqrt(u_i^2 + e^2/3)`` (JCGM 100 5.1.2). For a
downstream instrument (calibrated against the standard found out of tolerance) the bias it may
have inherited is the same ``|e|``: its calibration transferred the standard's error. The
probability of false accept of each accepted value is ``1 - p_c(y, u_c, LSL, USL)`` with ``p_c``
from :func:`jingce.kernels.conformity.probability_of_conformity` (JCGM 106:2012 7.3, a
Gaussian PDF of the measurand); a decision is *doubtful* when it exceeds 5 %
(:data:`PFA_DOUBTFUL`). Values in another unit than the error (after conversion), or without an
as-found error, are listed but not assessed (PFA NaN).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.engine import Engine
from jingce.engine.grouped import TS, WINDOW_SCHEMA
from jingce.errors import InvalidInputError
from jingce.kernels.conformity import probability_of_conformity
from jingce.model import Role
from jingce.model.units import conversion_factor
from jingce.store import Actor, Store

SUSPECT_RESULTS = ("out_of_tolerance", "adjusted", "fail")
"""Calibration results that found the instrument outside its tolerance before any adjustment."""

PFA_DOUBTFUL = 0.05
"""A re-evaluated accepted decision whose probability of false accept exceeds this is doubtful."""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

BIN_ROWS = 4_000_000
"""Lake rows read at once by the impact report (whole enterprises, so a bin may hold more)."""
SCAN_COLUMNS = ("enterprise_id", "product_id", "characteristic_id", "serial", "measured_at", "value", "unit",
                "lower_limit", "upper_limit", "instrument_id")

MEASUREMENT_SCHEMA = pa.schema([
    pa.field("enterprise_id", pa.int32()), pa.field("product_id", pa.int32()),
    pa.field("characteristic_id", pa.int32()), pa.field("serial", pa.string()), pa.field("measured_at", TS),
    pa.field("value", pa.float64()), pa.field("unit", pa.string()), pa.field("lower_limit", pa.float64()),
    pa.field("upper_limit", pa.float64()), pa.field("instrument_id", pa.int32()), pa.field("depth", pa.int32()),
    pa.field("bias_limit", pa.float64()), pa.field("u_instrument", pa.float64()), pa.field("u_combined", pa.float64()),
    pa.field("accepted", pa.bool_()), pa.field("pfa_before", pa.float64()), pa.field("pfa", pa.float64()),
    pa.field("doubtful", pa.bool_()),
])
"""One row per value measured with a suspect instrument in its window: the value, its limits,
the depth of the instrument below the out-of-tolerance one (0: itself), the bias bound ``|e|``
and the uncertainties in the value's unit, whether it had been accepted, its PFA with the
instrument's own uncertainty alone (``pfa_before``, as the decision was taken) and with the
as-found error (``pfa``)."""

INSTRUMENT_SCHEMA = pa.schema([
    pa.field("instrument_id", pa.int32()), pa.field("code", pa.string()), pa.field("kind", pa.string()),
    pa.field("tenant_id", pa.int32()), pa.field("enterprise_id", pa.int32()), pa.field("depth", pa.int32()),
    pa.field("via_standard_id", pa.int32()), pa.field("calibration_id", pa.int32()),
    pa.field("certificate_no", pa.string()), pa.field("start", TS), pa.field("end", TS),
])
"""One row per suspect window of an instrument: from the suspect calibration (or, for the
instrument found out of tolerance, its previous calibration) to the next one."""

ASSEMBLY_SCHEMA = pa.schema([
    pa.field("part_id", pa.int64()), pa.field("serial", pa.string()), pa.field("product_id", pa.int32()),
    pa.field("enterprise_id", pa.int32()), pa.field("contains_serial", pa.string()),
    pa.field("contains_product_id", pa.int32()), pa.field("level", pa.int32()),
])
"""Assemblies that contain an affected part (``level`` 1: directly), recursively up the as-built tree."""


@dataclass(frozen=True, slots=True)
class ImpactReport:
    """What :func:`impact_report` found: the summary (stored as JSON) and the three tables."""

    id: int | None
    calibration_id: int
    summary: dict
    measurements: pa.Table
    instruments: pa.Table
    assemblies: pa.Table


def _assessor(actor: Actor) -> Actor:
    """The report covers the whole region whoever asked (the right to ask is checked first);
    what each tenant may read of it is decided when it is read."""
    return Actor(actor.user_id, actor.username, actor.tenant_id, Role.ADMIN)


# -- the registry walk --------------------------------------------------------------------------


def suspect_instruments(store: Store, actor: Actor, calibration_id: int, *, at: dt.datetime | None = None):
    """The calibration found out of tolerance, and every instrument whose results it puts in doubt.

    Returns ``(calibration, windows)`` where ``windows`` is a list of ``(instrument_id, start,
    end, depth, via_standard_id, calibration_id)``: the instrument found out of tolerance from its
    previous calibration to this one (depth 0); each instrument calibrated against a suspect
    instrument inside that one's window, from that calibration to its next one (or ``at``,
    default now), and so on down the graph. Two queries per level of the graph.
    """
    at = at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise InvalidInputError("must be timezone-aware", field="at")
    cal = store.may_assess_impact(actor, calibration_id)
    if cal.result.value not in SUSPECT_RESULTS:
        raise InvalidInputError(f"calibration {calibration_id} found the instrument in tolerance (result "
                                f"{cal.result.value}); there is no impact to assess", field="calibration_id")
    sys = _assessor(actor)
    history = store.calibration_records(sys, [cal.instrument_id])
    earlier = [r for r in history if (r[2], r[0]) < (cal.calibrated_at, cal.id)]
    start = earlier[-1][2] if earlier else EPOCH
    windows = [(cal.instrument_id, start, cal.calibrated_at, 0, None, cal.id)]
    frontier: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {cal.instrument_id: [(start, cal.calibrated_at)]}
    seen = {cal.id}
    depth = 0
    while frontier:
        depth += 1
        hits = []
        for cid, inst, std, tc in store.calibrations_against(sys, list(frontier)):
            if cid not in seen and any(s <= tc < e for s, e in frontier[std]):
                seen.add(cid)
                hits.append((cid, inst, std, tc))
        if not hits:
            break
        times: dict[int, list[dt.datetime]] = {}
        for r in store.calibration_records(sys, [h[1] for h in hits]):
            times.setdefault(r[1], []).append(r[2])
        frontier = {}
        for cid, inst, std, tc in sorted(hits, key=lambda h: (h[1], h[3])):
            later = [x for x in times.get(inst, []) if x > tc]
            end = min(later) if later else max(at, tc)
            windows.append((inst, tc, end, depth, std, cid))
            frontier.setdefault(inst, []).append((tc, end))
    return cal, windows


def _merged(windows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per instrument the union of its windows: (instrument, start_us, end_us, depth) sorted by
    instrument and start, never overlapping (depth: the smallest of the merged ones)."""
    items = sorted((w[0], _us(w[1]), _us(w[2]), w[3]) for w in windows)
    inst, start, end, depth = [], [], [], []
    for i, s, e, d in items:
        if inst and inst[-1] == i and s <= end[-1]:
            end[-1] = max(end[-1], e)
            depth[-1] = min(depth[-1], d)
        else:
            inst.append(i), start.append(s), end.append(e), depth.append(d)
    return (np.array(inst, np.int64), np.array(start, np.int64), np.array(end, np.int64), np.array(depth, np.int64))


def _us(t: dt.datetime) -> int:
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(us, pa.int64()).cast(TS)


# -- the lake scan and the risk ----------------------------------------------------------------


def _factor(a: str, b: str) -> float:
    """Conversion factor from unit ``a`` to ``b`` (NaN where incompatible or unknown)."""
    if a == b:
        return 1.0
    try:
        return conversion_factor(a, b, "unit")
    except Exception:  # noqa: BLE001 - incompatible or unknown unit: not assessed
        return np.nan


def false_accept_probability(value: np.ndarray, lower: np.ndarray, upper: np.ndarray, u: np.ndarray
                             ) -> np.ndarray:
    """``1 - p_c`` of each value (NaN where it cannot be assessed: no limit, a non-finite or
    non-positive ``u``), by the conformity kernel called once per shape of tolerance interval:
    a two-sided interval is scaled to [0, 1] (``p_c`` is invariant under ``(y - L)/(U - L)``,
    ``u/(U - L)`` for a Gaussian PDF), a one-sided one shifted to 0."""
    out = np.full(value.size, np.nan)
    lo_ok, hi_ok = np.isfinite(lower), np.isfinite(upper)
    usable = np.isfinite(value) & np.isfinite(u) & (u > 0)
    both = usable & lo_ok & hi_ok & (upper > lower)
    if both.any():
        w = upper[both] - lower[both]
        out[both] = probability_of_conformity((value[both] - lower[both]) / w, u[both] / w, 0.0, 1.0).specific_risk
    only_hi = usable & hi_ok & ~lo_ok
    if only_hi.any():
        out[only_hi] = probability_of_conformity(value[only_hi] - upper[only_hi], u[only_hi], None, 0.0).specific_risk
    only_lo = usable & lo_ok & ~hi_ok
    if only_lo.any():
        out[only_lo] = probability_of_conformity(value[only_lo] - lower[only_lo], u[only_lo], 0.0, None).specific_risk
    return out


def _col(t: pa.Table, name: str, dtype) -> np.ndarray:
    c = t.column(name)
    if pa.types.is_timestamp(c.type):
        c = pc.cast(c, pa.int64())
    if dtype is float:
        return np.asarray(c.to_numpy(zero_copy_only=False), dtype=float)
    return np.asarray(c.fill_null(-1).to_numpy(zero_copy_only=False), dtype=dtype)


def _measurements(rows: pa.Table, cal, merged, instruments: dict) -> pa.Table:
    """The affected values: lake ``rows`` with the index (column ``window``) of the :func:`_merged`
    window holding each (:meth:`Store.scan_windows`), with their uncertainty and risk."""
    w_inst, _, _, w_depth = merged
    if w_inst.size == 0 or rows.num_rows == 0:
        return MEASUREMENT_SCHEMA.empty_table()
    k = np.asarray(rows.column("window").to_numpy(), np.int64)
    n = rows.num_rows
    # the bound of the bias, |e|, in each value's unit; the instrument's own u in its unit, then the
    # value's: one pint call per distinct pair of units, then table look-ups (no loop per row)
    e = abs(cal.error_as_found) if cal.error_as_found is not None else np.nan
    enc = pc.dictionary_encode(rows.column("unit")).combine_chunks()
    row_units = enc.dictionary.to_pylist()
    row_code = np.asarray(enc.indices.to_numpy(zero_copy_only=False), np.int64)
    inst_list = sorted(instruments)
    inst_units = sorted({instruments[i][0] for i in inst_list})
    inst_ucode = np.array([inst_units.index(instruments[i][0]) for i in inst_list], np.int64)
    inst_u = np.array([instruments[i][1] for i in inst_list], float)
    inst_pos = np.searchsorted(np.array(inst_list, np.int64), w_inst[k])
    bias = e * np.array([_factor(cal.unit, u) for u in row_units] or [np.nan])[row_code]
    table = np.array([[_factor(a, b) for b in row_units] for a in inst_units])
    u_i = inst_u[inst_pos] * table[inst_ucode[inst_pos], row_code]
    u_i = np.where(np.isfinite(u_i), u_i, 0.0)
    u_c = np.sqrt(u_i**2 + bias**2 / 3.0)
    value = _col(rows, "value", float)
    lower, upper = _col(rows, "lower_limit", float), _col(rows, "upper_limit", float)
    with np.errstate(invalid="ignore"):
        has_limit = np.isfinite(lower) | np.isfinite(upper)
        accepted = has_limit & ~(value < lower) & ~(value > upper)
    pfa, pfa_before = np.full(n, np.nan), np.full(n, np.nan)
    if accepted.any():
        a = accepted
        pfa[a] = false_accept_probability(value[a], lower[a], upper[a], u_c[a])
        pfa_before[a] = false_accept_probability(value[a], lower[a], upper[a], np.where(np.isfinite(bias[a]), u_i[a],
                                                                                         np.nan))
    with np.errstate(invalid="ignore"):
        doubtful = accepted & (pfa > PFA_DOUBTFUL)
    out = pa.table({
        **{c: rows.column(c) for c in ("enterprise_id", "product_id", "characteristic_id", "serial", "measured_at",
                                        "value", "unit", "lower_limit", "upper_limit", "instrument_id")},
        "depth": pa.array(w_depth[k], pa.int32()), "bias_limit": bias, "u_instrument": u_i, "u_combined": u_c,
        "accepted": accepted, "pfa_before": pfa_before, "pfa": pfa, "doubtful": doubtful,
    }).cast(MEASUREMENT_SCHEMA)
    return out


def _assemblies(store: Store, sys: Actor, measurements: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(affected parts: distinct product and serial, assemblies containing them recursively up the
    as-built tree). Each level is one query by the products concerned and a join in Arrow on
    (product, serial), so no list of millions of part ids goes to the registry."""
    pairs = measurements.select(["product_id", "serial"]).filter(pc.is_valid(measurements.column("serial")))
    pairs = pairs.group_by(["product_id", "serial"]).aggregate([])
    levels: list[pa.Table] = []
    frontier, seen, level = pairs, pa.array([], pa.int64()), 0
    while frontier.num_rows and level < 32:
        level += 1
        links = store.assembly_links(sys, pc.unique(frontier.column("product_id")).to_pylist())
        if links.num_rows == 0:
            break
        hit = links.join(frontier.rename_columns(["child_product_id", "child_serial"]),
                         ["child_product_id", "child_serial"], join_type="inner")
        hit = hit.filter(pc.invert(pc.is_in(hit.column("parent_part_id"), value_set=seen)))
        if hit.num_rows == 0:
            break
        levels.append(pa.table({
            "part_id": hit.column("parent_part_id"), "serial": hit.column("parent_serial"),
            "product_id": hit.column("parent_product_id"), "enterprise_id": hit.column("parent_enterprise_id"),
            "contains_serial": hit.column("child_serial"), "contains_product_id": hit.column("child_product_id"),
            "level": pa.array(np.full(hit.num_rows, level, np.int32)),
        }).cast(ASSEMBLY_SCHEMA))
        seen = pa.concat_arrays([seen, pc.unique(hit.column("parent_part_id")).cast(pa.int64())])
        frontier = hit.select(["parent_product_id", "parent_serial"]).group_by(
            ["parent_product_id", "parent_serial"]).aggregate([]).rename_columns(["product_id", "serial"])
    asm = pa.concat_tables(levels) if levels else ASSEMBLY_SCHEMA.empty_table()
    return pairs, asm


def _instrument_table(windows, instruments: dict, certificates: dict) -> pa.Table:
    rows = sorted(windows, key=lambda w: (w[3], w[0], w[1]))

    def col(f):
        return [f(w) for w in rows]

    return pa.table({
        "instrument_id": col(lambda w: w[0]), "code": col(lambda w: instruments[w[0]][2]),
        "kind": col(lambda w: instruments[w[0]][3]), "tenant_id": col(lambda w: instruments[w[0]][4]),
        "enterprise_id": col(lambda w: instruments[w[0]][5]), "depth": col(lambda w: w[3]),
        "via_standard_id": col(lambda w: w[4]), "calibration_id": col(lambda w: w[5]),
        "certificate_no": col(lambda w: certificates.get(w[5])),
        "start": pa.array([_us(w[1]) for w in rows], pa.int64()).cast(TS),
        "end": pa.array([_us(w[2]) for w in rows], pa.int64()).cast(TS),
    }, schema=INSTRUMENT_SCHEMA)


def _per_enterprise(measurements: pa.Table, parts: pa.Table, assemblies: pa.Table, ents: dict,
                    out: dict[int, dict] | None = None) -> dict[int, dict]:
    """Add the figures of ``measurements`` (one or more enterprises' values, each enterprise's all
    at once), their ``parts`` and the ``assemblies`` (all of them, once) to ``out``."""
    m = measurements
    out = {} if out is None else out

    def entry(eid: int) -> dict:
        if eid not in out:
            e = ents.get(eid)
            out[eid] = {"enterprise_id": eid, "code": e.code if e else str(eid), "name": e.name if e else "",
                        "tenant_id": e.tenant_id if e else None, "measurements": 0, "characteristics": 0, "parts": 0,
                        "assemblies": 0, "accepted": 0, "doubtful": 0, "newly_doubtful": 0, "out_of_spec": 0,
                        "max_pfa": None}
        return out[eid]

    if m.num_rows:
        before = np.nan_to_num(_col(m, "pfa_before", float), nan=0.0)
        newly = np.asarray(m.column("doubtful").to_numpy(zero_copy_only=False), bool) & (before <= PFA_DOUBTFUL)
        has_limit = np.isfinite(_col(m, "lower_limit", float)) | np.isfinite(_col(m, "upper_limit", float))
        outside = has_limit & ~np.asarray(m.column("accepted").to_numpy(zero_copy_only=False), bool)
        m = m.append_column("newly", pa.array(newly)).append_column("outside", pa.array(outside))
        stats = m.group_by("enterprise_id").aggregate([
            ("value", "count"), ("characteristic_id", "count_distinct"), ("accepted", "sum"), ("doubtful", "sum"),
            ("newly", "sum"), ("outside", "sum"), ("pfa", "max")])
        for r in stats.to_pylist():
            x = entry(int(r["enterprise_id"]))
            x.update(measurements=int(r["value_count"]), characteristics=int(r["characteristic_id_count_distinct"]),
                     accepted=int(r["accepted_sum"] or 0), doubtful=int(r["doubtful_sum"] or 0),
                     newly_doubtful=int(r["newly_sum"] or 0), out_of_spec=int(r["outside_sum"] or 0),
                     max_pfa=None if r["pfa_max"] is None else float(r["pfa_max"]))
    if parts.num_rows:
        pe = m.group_by(["product_id", "enterprise_id"]).aggregate([])
        prod_ent = dict(zip(pe.column("product_id").to_pylist(), pe.column("enterprise_id").to_pylist(), strict=True))
        for pid, cnt in zip(*np.unique(_col(parts, "product_id", np.int64), return_counts=True), strict=True):
            entry(int(prod_ent[int(pid)]))["parts"] += int(cnt)
    if assemblies.num_rows:
        distinct = assemblies.group_by(["part_id", "enterprise_id"]).aggregate([])
        for eid, cnt in zip(*np.unique(_col(distinct, "enterprise_id", np.int64), return_counts=True), strict=True):
            entry(int(eid))["assemblies"] += int(cnt)
    return out


def impact_report(store: Store, actor: Actor, engine: Engine | None, calibration_id: int, *, write: bool = True,
                  at: dt.datetime | None = None, keep_rows: int = 5_000_000) -> ImpactReport:
    """The out-of-tolerance impact of calibration ``calibration_id`` (see the module docstring).

    Who may run it: the lab that issued the calibration, the regulator, the admin. With
    ``write`` the report is stored (:meth:`Store.save_impact_report`) and each tenant concerned
    -- owners of the enterprises whose values, parts or assemblies are affected and owners of the
    suspect instruments -- is notified once (kind ``impact``, ref ``calibration:<id>``).

    ``engine`` is accepted for the interface of the batch analyses: the scan here reads only the
    rows of the suspect instruments inside their windows (the store joins the lake to the windows
    in DuckDB, on the local machine), because the risk needs each value, not the engine's
    per-window counts (:meth:`jingce.engine.Engine.impact_scan`). The lake is read in bins of
    whole enterprises of about :data:`BIN_ROWS` rows (one pass in all) and each bin's affected
    values are streamed to the report's Parquet file, so memory stays bounded by the bin; the returned
    :attr:`ImpactReport.measurements` holds them only up to ``keep_rows`` values (else it is
    empty and the stored details are read with :meth:`Store.impact_details`).

    References
    ----------
    JCGM 100:2008 4.3.7 (rectangular distribution), 5.1.2 (combination of uncorrelated inputs);
    JCGM 106:2012 7.3 (conformity probability); ILAC-G8:2019 4.2.1 (simple acceptance);
    ISO 10012:2003 8.3.3, ISO/IEC 17025:2017 7.10 (nonconforming work after an
    out-of-tolerance finding).
    """
    if engine is not None:
        engine.require("impact_scan")
    cal, windows = suspect_instruments(store, actor, calibration_id, at=at)
    sys = _assessor(actor)
    insts = store.instruments_by_id(sys, [w[0] for w in windows])
    recs = {r[0]: r for r in store.calibration_records(sys, list(insts))}
    first_cal: dict[int, int] = {}
    for w in windows:
        first_cal.setdefault(w[0], w[5])
    info: dict[int, tuple] = {}
    for iid, inst in insts.items():
        u = inst.uncertainty
        r = recs.get(first_cal.get(iid))
        if u is None and r is not None:  # the U/k of the calibration that made it suspect, in the instrument's unit
            u = r[6] / r[7] * _factor(r[8], inst.unit)
        info[iid] = (inst.unit, np.nan if u is None or not np.isfinite(u) else float(u), inst.code, inst.kind.value, inst.tenant_id,
                     inst.enterprise_id)
    ents = {e.id: e for e in store.list_enterprises(sys)}
    staging = store.impact_staging() if write else None
    try:
        # the lake in bins of whole enterprises (each value belongs to one enterprise, whose figures
        # need all its values at once): memory bounded by the bin, a few reads instead of one per enterprise
        stats: dict[int, dict] = {}
        kept: list[pa.Table] = []
        asm_parts: list[pa.Table] = []
        n_rows = n_parts = n_accepted = n_doubtful = 0
        merged = _merged(windows)
        w_table = pa.table({"instrument_id": merged[0], "start": merged[1], "end": merged[2]})
        inputs = store.lake_inputs(sys)
        for paths in (inputs.enterprise_bins(BIN_ROWS) if merged[0].size else []):
            m = _measurements(store.scan_windows(inputs, paths, SCAN_COLUMNS, w_table), cal, merged, info)
            if m.num_rows == 0:
                continue
            parts, asm = _assemblies(store, sys, m)
            _per_enterprise(m, parts, ASSEMBLY_SCHEMA.empty_table(), ents, stats)
            n_rows, n_parts = n_rows + m.num_rows, n_parts + parts.num_rows
            n_accepted += int(pc.sum(m.column("accepted")).as_py() or 0)
            n_doubtful += int(pc.sum(m.column("doubtful")).as_py() or 0)
            if asm.num_rows:
                asm_parts.append(asm)
            if staging is not None:
                staging.write("measurements", m)
            if n_rows <= keep_rows:
                kept.append(m)
        assemblies = pa.concat_tables(asm_parts) if asm_parts else ASSEMBLY_SCHEMA.empty_table()
        if len(asm_parts) > 1:
            assemblies = assemblies.group_by(ASSEMBLY_SCHEMA.names).aggregate([]).select(
                ASSEMBLY_SCHEMA.names).cast(ASSEMBLY_SCHEMA)
        _per_enterprise(MEASUREMENT_SCHEMA.empty_table(), pa.table({"product_id": pa.array([], pa.int32())}),
                        assemblies, ents, stats)
        measurements = (pa.concat_tables(kept) if kept and n_rows <= keep_rows
                        else MEASUREMENT_SCHEMA.empty_table())
        instruments = _instrument_table(windows, info, {k: r[9] for k, r in recs.items()})
        per_ent = [stats[k] for k in sorted(stats)]
        for x in info.values():  # an enterprise whose instrument is suspect is concerned even without values
            if x[5] is not None and x[5] not in stats:
                e = ents.get(x[5])
                per_ent.append({"enterprise_id": x[5], "code": e.code if e else str(x[5]),
                                "name": e.name if e else "", "tenant_id": e.tenant_id if e else None,
                                "measurements": 0, "characteristics": 0, "parts": 0, "assemblies": 0, "accepted": 0,
                                "doubtful": 0, "newly_doubtful": 0, "out_of_spec": 0, "max_pfa": None})
    except BaseException:
        if staging is not None:
            staging.discard()
        raise
    per_ent.sort(key=lambda e: e["enterprise_id"])
    root = insts[cal.instrument_id]
    issuer = store.get_lab(sys, cal.lab_id)
    tenants = sorted({e["tenant_id"] for e in per_ent if e["tenant_id"] is not None}
                     | {x[4] for x in info.values()})
    summary = {
        "calibration_id": cal.id, "certificate_no": cal.certificate_no, "lab": issuer.name,
        "issuer_tenant_id": issuer.tenant_id, "instrument_id": root.id, "instrument": root.code,
        "instrument_kind": root.kind.value, "result": cal.result.value, "calibrated_at": cal.calibrated_at.isoformat(),
        "error_as_found": cal.error_as_found, "unit": cal.unit,
        "window_start": windows[0][1].isoformat(), "window_end": windows[0][2].isoformat(),
        "pfa_threshold": PFA_DOUBTFUL,
        "model": "bias of unknown sign, rectangular on [-|e|, |e|] (u = |e|/sqrt(3), JCGM 100 4.3.7), combined "
                 "with the instrument's standard uncertainty (JCGM 100 5.1.2); PFA = 1 - p_c (JCGM 106 7.3) of "
                 "each value accepted under simple acceptance (ILAC-G8 4.2.1)",
        "totals": {"instruments": len(info), "measurements": n_rows, "parts": n_parts,
                   "assemblies": int(pc.count_distinct(assemblies.column("part_id")).as_py() or 0),
                   "enterprises": len(per_ent),
                   "accepted": n_accepted, "doubtful": n_doubtful,
                   "newly_doubtful": sum(e["newly_doubtful"] for e in per_ent)},
        "enterprises": per_ent,
        "instruments": [{"instrument_id": r["instrument_id"], "code": r["code"], "kind": r["kind"],
                         "tenant_id": r["tenant_id"], "depth": r["depth"], "certificate_no": r["certificate_no"],
                         "start": r["start"].isoformat(), "end": r["end"].isoformat()}
                        for r in instruments.slice(0, 500).to_pylist()],
        "tenants": tenants,
    }
    report_id = None
    if staging is not None:
        if n_rows == 0:
            staging.write("measurements", MEASUREMENT_SCHEMA.empty_table())
        report_id = store.save_impact_report(actor, cal.id, summary, {
            "instruments": instruments, "assemblies": assemblies}, staging=staging)
        summary = summary | {"report_id": report_id}
        store.notify(tenants, "impact", f"calibration:{cal.id}",
                     f"超差影响：{root.code} 证书 {cal.certificate_no} / Out-of-tolerance impact: {root.code} "
                     f"certificate {cal.certificate_no}",
                     {"report_id": report_id, "calibration_id": cal.id, "instrument": root.code,
                      "certificate_no": cal.certificate_no})
    return ImpactReport(report_id, cal.id, summary, measurements, instruments, assemblies)


# -- suspect windows of the actor's working instruments (moved from services.region) -----------

IMPACT_VIEW_COLUMNS = ("window", "reason", "instrument", "certificate_no", "start", "end", "error", "unit")


def impact_windows(store: Store, actor: Actor, *, at: dt.datetime | None = None) -> pa.Table:
    """The periods in which results of the actor's working instruments are suspect.

    ``out_of_tolerance``: from the last calibration that found the instrument in tolerance (or
    from the beginning) to the calibration that found it out of tolerance, with the error found
    (ISO 9001:2015 7.1.5.2, ISO 10012:2003 8.3.3: the validity of earlier results must be assessed
    when equipment is found unfit). ``expired``: from the end of a calibration's validity to the
    next calibration (or ``at``, default now). Columns of :data:`WINDOW_SCHEMA` plus ``reason``,
    ``instrument`` (code) and ``certificate_no``.
    """
    at = at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise InvalidInputError("must be timezone-aware", field="at")
    rows: list[dict] = []
    for inst in store.list_instruments(actor):
        if inst.kind != "working":
            continue
        cals = store.calibrations(actor, inst.id)
        for i, cal in enumerate(cals):
            if cal.result in SUSPECT_RESULTS:
                err = abs(cal.error_as_found) if cal.error_as_found is not None else float("nan")
                if err == err and cal.unit != inst.unit:
                    err *= conversion_factor(cal.unit, inst.unit, "unit")
                rows.append({"reason": "out_of_tolerance", "instrument_id": inst.id, "instrument": inst.code,
                             "certificate_no": cal.certificate_no,
                             "start": cals[i - 1].calibrated_at if i else EPOCH, "end": cal.calibrated_at,
                             "error": err, "unit": inst.unit})
            nxt = cals[i + 1].calibrated_at if i + 1 < len(cals) else at
            if cal.valid_until < nxt:
                rows.append({"reason": "expired", "instrument_id": inst.id, "instrument": inst.code,
                             "certificate_no": cal.certificate_no, "start": cal.valid_until, "end": nxt,
                             "error": float("nan"), "unit": inst.unit})
    return pa.table({
        "window": pa.array(range(len(rows)), pa.int64()),
        "instrument_id": pa.array([r["instrument_id"] for r in rows], pa.int32()),
        "start": pa.array([r["start"] for r in rows], TS), "end": pa.array([r["end"] for r in rows], TS),
        "error": pa.array([r["error"] for r in rows], pa.float64()),
        "unit": pa.array([r["unit"] for r in rows], pa.string()),
        "reason": pa.array([r["reason"] for r in rows], pa.string()),
        "instrument": pa.array([r["instrument"] for r in rows], pa.string()),
        "certificate_no": pa.array([r["certificate_no"] for r in rows], pa.string()),
    })


def impact_scan(store: Store, actor: Actor, engine: Engine, *, at: dt.datetime | None = None) -> pa.Table:
    """Values measured with suspect instruments (see :func:`impact_windows`), per window and
    characteristic, with the window's reason and instrument: the scope of a re-inspection."""
    engine.require("impact_scan")
    windows = impact_windows(store, actor, at=at)
    hits = engine.impact_scan(store, actor, windows.select(WINDOW_SCHEMA.names).cast(WINDOW_SCHEMA))
    if hits.num_rows == 0:
        return hits
    pos = pa.array(np.searchsorted(np.asarray(windows.column("window").to_numpy()),
                                   np.asarray(hits.column("window").to_numpy())), pa.int64())
    for name in ("reason", "instrument", "certificate_no"):
        hits = hits.append_column(name, windows.column(name).take(pos))
    return hits
