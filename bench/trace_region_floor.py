"""The floors of bench/trace_region.py: one hand-written DuckDB SQL each, over the same Parquet lake,
the same summary files and the registry's tables (exported once to Parquet, outside the timing)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

SUSPECT = "('out_of_tolerance', 'adjusted', 'fail')"


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _files(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _ts(t: dt.datetime) -> str:
    return f"TIMESTAMPTZ '{t.isoformat()}'"


def impact_scan(con, reg: str, lake: list[str], at: dt.datetime) -> pa.Table:
    """What ``region.impact_scan`` computes: the windows in which working instruments' results are
    suspect (from the last calibration before one that found them out of tolerance to that one, and
    from a calibration's expiry to the next), and per window and characteristic the valid finite
    values measured in it, those outside their limits, those within the error of a limit, first and
    last time, and the sorted distinct serials."""
    sql = f"""
    WITH inst AS (SELECT id, unit FROM read_parquet('{reg}/instrument.parquet') WHERE kind = 'working'),
    cal AS (
      SELECT c.*, i.unit AS inst_unit,
             lag(c.calibrated_at) OVER (PARTITION BY c.instrument_id ORDER BY c.calibrated_at, c.id) AS prev_at,
             lead(c.calibrated_at) OVER (PARTITION BY c.instrument_id ORDER BY c.calibrated_at, c.id) AS next_at
      FROM read_parquet('{reg}/calibration.parquet') c JOIN inst i ON i.id = c.instrument_id),
    win AS (
      SELECT instrument_id, coalesce(prev_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS s, calibrated_at AS e,
             CASE WHEN unit = inst_unit THEN abs(error_as_found) END AS err, inst_unit AS unit, id AS cal, 0 AS kind
      FROM cal WHERE result IN {SUSPECT}
      UNION ALL
      SELECT instrument_id, valid_until, coalesce(next_at, {_ts(at)}), NULL, inst_unit, id, 1
      FROM cal WHERE valid_until < coalesce(next_at, {_ts(at)})),
    m AS (
      SELECT instrument_id, measured_at, characteristic_id, enterprise_id, product_id, serial, value, unit,
             lower_limit, upper_limit
      FROM read_parquet({_files(lake)})
      WHERE status = 'valid' AND isfinite(value) AND instrument_id IN (SELECT DISTINCT instrument_id FROM win))
    SELECT w.instrument_id, w.cal, w.kind, m.enterprise_id, m.product_id, m.characteristic_id,
           count(*) AS n_values,
           count(*) FILTER (WHERE m.value < m.lower_limit OR m.value > m.upper_limit) AS n_out_of_spec,
           count(*) FILTER (WHERE m.unit = w.unit AND (abs(m.value - m.lower_limit) <= w.err
                                                      OR abs(m.value - m.upper_limit) <= w.err)) AS n_at_risk,
           min(m.measured_at) AS first_at, max(m.measured_at) AS last_at,
           list_sort(list(DISTINCT m.serial) FILTER (WHERE m.serial IS NOT NULL)) AS serials
    FROM m JOIN win w ON m.instrument_id = w.instrument_id AND m.measured_at >= w.s AND m.measured_at < w.e
    GROUP BY ALL
    """
    return con.sql(sql).to_arrow_table()


def impact_report(con, reg: str, lake: list[str], calibration_id: int, at: dt.datetime,
                  pfa_doubtful: float = 0.05) -> pa.Table:
    """What ``impact.impact_report`` computes, per enterprise, in one SQL statement.

    Reverse traceability from one calibration that found an instrument out of tolerance: its
    suspect period runs from its previous calibration to that one; every calibration made against
    a suspect instrument inside its suspect period makes the calibrated instrument suspect from
    that calibration to its next one (or ``at``), recursively (WITH RECURSIVE down the calibration
    graph). The valid values measured with suspect instruments inside their periods are joined by
    instrument and time; each accepted value (inside its limits) is re-evaluated: probability of
    false accept with the instrument's standard uncertainty alone and combined with a rectangular
    bias of the as-found error (u_c = sqrt(u_i^2 + e^2 / 3)); per enterprise the values, distinct
    characteristics and parts (product, serial), accepted, doubtful (PFA > 5 %), newly doubtful,
    out of specification and the largest PFA. (Every unit in the benchmark region is mm, so no
    unit conversion is written here.)"""
    tail = _upper_tail
    sql = f"""
    WITH RECURSIVE cal AS (
      SELECT id, instrument_id, calibrated_at,
             lag(calibrated_at) OVER (PARTITION BY instrument_id ORDER BY calibrated_at, id) AS prev_at,
             lead(calibrated_at) OVER (PARTITION BY instrument_id ORDER BY calibrated_at, id) AS next_at
      FROM read_parquet('{reg}/calibration.parquet')),
    cs AS (SELECT * FROM read_parquet('{reg}/calibration_standard.parquet')),
    suspect(instrument_id, s, e) AS (
      SELECT instrument_id, coalesce(prev_at, TIMESTAMPTZ '1970-01-01 00:00:00+00'), calibrated_at
      FROM cal WHERE id = {int(calibration_id)}
      UNION
      SELECT c.instrument_id, c.calibrated_at, coalesce(c.next_at, greatest({_ts(at)}, c.calibrated_at))
      FROM suspect p JOIN cs ON cs.standard_id = p.instrument_id
      JOIN cal c ON c.id = cs.calibration_id AND c.calibrated_at >= p.s AND c.calibrated_at < p.e),
    e AS (SELECT abs(error_as_found) AS e FROM read_parquet('{reg}/calibration.parquet')
          WHERE id = {int(calibration_id)}),
    w AS (SELECT DISTINCT s.instrument_id, s.s, s.e AS t_end, i.uncertainty AS u_i
          FROM suspect s JOIN read_parquet('{reg}/instrument.parquet') i ON i.id = s.instrument_id),
    r AS (
      SELECT m.enterprise_id, m.product_id, m.characteristic_id, m.serial, m.value,
             m.lower_limit AS l, m.upper_limit AS h, w.u_i, sqrt(w.u_i * w.u_i + e.e * e.e / 3) AS u_c,
             (m.lower_limit IS NOT NULL OR m.upper_limit IS NOT NULL) AS has_limit
      FROM read_parquet({_files(lake)}) m
      JOIN w ON m.instrument_id = w.instrument_id AND m.measured_at >= w.s AND m.measured_at < w.t_end, e
      WHERE m.status = 'valid'),
    a AS (SELECT *, has_limit AND NOT coalesce(value < l, false) AND NOT coalesce(value > h, false) AS accepted
          FROM r),
    p AS (
      SELECT *, CASE WHEN accepted THEN {tail('(h - value) / u_c')} + {tail('(value - l) / u_c')} END AS pfa,
             CASE WHEN accepted THEN {tail('(h - value) / u_i')} + {tail('(value - l) / u_i')} END AS pfa_before
      FROM a)
    SELECT enterprise_id, count(*) AS measurements, count(DISTINCT characteristic_id) AS characteristics,
           count(DISTINCT (product_id, serial)) FILTER (WHERE serial IS NOT NULL) AS parts,
           count(*) FILTER (WHERE accepted) AS accepted,
           count(*) FILTER (WHERE accepted AND pfa > {pfa_doubtful}) AS doubtful,
           count(*) FILTER (WHERE accepted AND pfa > {pfa_doubtful} AND coalesce(pfa_before, 0) <= {pfa_doubtful})
             AS newly_doubtful,
           count(*) FILTER (WHERE has_limit AND NOT accepted) AS out_of_spec, max(pfa) AS max_pfa
    FROM p GROUP BY enterprise_id ORDER BY enterprise_id
    """
    return con.sql(sql).to_arrow_table()


def _upper_tail(z: str) -> str:
    """SQL for P(Z > z) of the standard normal: Abramowitz and Stegun 7.1.26 for erfc(|z| / sqrt 2)
    (absolute error below 1.5e-7; DuckDB has no normal distribution function)."""
    x = f"(abs({z}) / sqrt(2))"
    t = f"(1 / (1 + 0.3275911 * {x}))"
    poly = (f"({t} * (0.254829592 + {t} * (-0.284496736 + {t} * (1.421413741 + {t} * (-1.453152027 "
            f"+ {t} * 1.061405429)))))")
    erfc = f"({poly} * exp(-{x} * {x}))"
    return f"(CASE WHEN {z} >= 0 THEN 0.5 * {erfc} ELSE 1 - 0.5 * {erfc} END)"


def region_view(con, daily: list[str], characteristic: list[str], reg: str, start: dt.date | None,
                end: dt.date | None, d2: dict[int, float], z: float) -> dict[str, pa.Table]:
    """The region view's per-characteristic indicators and per-enterprise roll-up, from the same
    daily (and characteristic) summary files ``region.region_view`` reads: pooled count, mean and
    overall sigma (Chan et al.), sigma within from the carried subgroup ranges (R-bar/d2), Cp,
    Cpk, Pp, Ppk, the Bissell interval of Cpk, overall ppm, out of specification, alarms, names."""
    where = []
    if start is not None:
        where.append(f"day >= DATE '{start.isoformat()}'")
    if end is not None:
        where.append(f"day < DATE '{end.isoformat()}'")
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    d2_case = "CASE sub_size " + " ".join(f"WHEN {k} THEN {v!r}" for k, v in d2.items()) + " END"
    so, sw = "sigma_overall", "sigma_within"
    tails = [f"coalesce({_upper_tail(x)}, 0)" for x in (f"(upper_limit - mean) / {so}", f"(mean - lower_limit) / {so}")]
    ppm = f"1e6 * ({tails[0]} + {tails[1]})"
    sql = f"""
    WITH d AS (
      SELECT *, row_number() OVER (PARTITION BY characteristic_id ORDER BY day) AS k,
             last_value(lower_limit) OVER w AS lsl, last_value(upper_limit) OVER w AS usl,
             last_value(nominal) OVER w AS nom, last_value(sub_size) OVER w AS size,
             first_value(ref) OVER w AS ref0
      FROM read_parquet({_files(daily)}) {cond}
      WINDOW w AS (PARTITION BY characteristic_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING
                   AND UNBOUNDED FOLLOWING)),
    g AS (
      SELECT enterprise_id, product_id, characteristic_id, any_value(lsl) AS lower_limit,
             any_value(usl) AS upper_limit, any_value(nom) AS nominal, any_value(size) AS size,
             sum(n) AS n_values, count(*) AS n_days, min(first_at) AS first_at, max(last_at) AS last_at,
             sum(out_of_spec) AS out_of_spec, any_value(ref0) AS ref0,
             sum(n * (ref - ref0 + mean_dev)) / sum(n) AS dmean,
             sum(sub_range) + coalesce(sum(cross_range) FILTER (WHERE k > 1), 0) AS rsum,
             sum(sub_n) + coalesce(sum(cross_n) FILTER (WHERE k > 1), 0) AS rcount
      FROM d GROUP BY enterprise_id, product_id, characteristic_id),
    m2 AS (
      SELECT d.characteristic_id, sum(d.m2 + d.n * (d.ref - d.ref0 + d.mean_dev - g.dmean) ^ 2) AS m2
      FROM d JOIN g USING (characteristic_id) GROUP BY d.characteristic_id),
    s AS (
      SELECT g.*, ref0 + dmean AS mean,
             CASE WHEN n_values > 1 THEN sqrt(m2.m2 / (n_values - 1)) END AS sigma_overall,
             CASE WHEN size = 1 THEN n_values ELSE rcount END AS n_subgroups,
             CASE WHEN rcount > 0 THEN rsum / rcount / ({d2_case.replace('sub_size', 'size')}) END AS sigma_within,
             CASE WHEN n_values >= 2 THEN n_values - 1 END AS dfo
      FROM g JOIN m2 USING (characteristic_id)),
    c AS (
      SELECT s.*,
             (upper_limit - lower_limit) / (6 * {sw}) AS cp,
             least(upper_limit - mean, mean - lower_limit) / (3 * {sw}) AS cpk,
             (upper_limit - lower_limit) / (6 * {so}) AS pp,
             least(upper_limit - mean, mean - lower_limit) / (3 * {so}) AS ppk,
             {ppm} AS ppm_overall
      FROM s),
    al AS (SELECT characteristic_id, alarms FROM read_parquet({_files(characteristic)}))
    SELECT c.enterprise_id, c.product_id, c.characteristic_id, p.part_number || '/' || ch.key AS characteristic,
           c.lower_limit, c.upper_limit, c.nominal, c.n_values, c.n_days, c.first_at, c.last_at, c.out_of_spec,
           c.mean, c.sigma_overall, c.n_subgroups, c.sigma_within, c.cp, c.cpk, c.pp, c.ppk,
           c.cpk - {z} * sqrt(1 / (9 * c.n_values) + c.cpk * c.cpk / (2 * c.dfo)) AS cpk_lo,
           c.cpk + {z} * sqrt(1 / (9 * c.n_values) + c.cpk * c.cpk / (2 * c.dfo)) AS cpk_hi,
           c.ppm_overall, al.alarms
    FROM c LEFT JOIN al USING (characteristic_id)
    LEFT JOIN read_parquet('{reg}/characteristic.parquet') ch ON ch.id = c.characteristic_id
    LEFT JOIN read_parquet('{reg}/product.parquet') p ON p.id = c.product_id
    ORDER BY c.enterprise_id, c.characteristic_id
    """
    per = con.sql(sql).to_arrow_table()
    con.register("view_per", per)
    roll = con.sql(f"""
    SELECT v.enterprise_id, e.code, e.name, e.industry_chain, count(*) AS characteristics, sum(n_values) AS n_values,
           sum(out_of_spec) / sum(n_values) * 1e6 AS out_of_spec_ppm,
           count(*) FILTER (WHERE cpk >= 1.67) AS c1, count(*) FILTER (WHERE cpk >= 1.33 AND cpk < 1.67) AS c2,
           count(*) FILTER (WHERE cpk >= 1.0 AND cpk < 1.33) AS c3, count(*) FILTER (WHERE cpk < 1.0) AS c4,
           count(*) FILTER (WHERE alarms > 0) AS with_alarms
    FROM view_per v LEFT JOIN read_parquet('{reg}/enterprise.parquet') e ON e.id = v.enterprise_id
    GROUP BY ALL ORDER BY v.enterprise_id
    """).to_arrow_table()
    con.unregister("view_per")
    return {"per": per, "enterprises": roll}


def region_view_raw(con, lake: list[str], start: dt.datetime | None, end: dt.datetime | None) -> pa.Table:
    """For context only: count, mean, overall sigma and values out of specification per
    characteristic straight from the raw lake (no subgroups, no capability)."""
    where = ["status = 'valid'", "isfinite(value)"]
    if start is not None:
        where.append(f"measured_at >= {_ts(start)}")
    if end is not None:
        where.append(f"measured_at < {_ts(end)}")
    return con.sql(f"""
    SELECT enterprise_id, characteristic_id, count(*) AS n, avg(value) AS mean, stddev_samp(value) AS sigma,
           count(*) FILTER (WHERE value < lower_limit OR value > upper_limit) AS out_of_spec
    FROM read_parquet({_files(lake)}) WHERE {' AND '.join(where)} GROUP BY ALL
    """).to_arrow_table()
