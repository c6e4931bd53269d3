"""The registry's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

The registry holds the spine of the data model; measurement values live in the Parquet lake and
are listed here only through ``ingest_batch`` and ``lake_file`` (the lake's manifest).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry; times must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


def _id() -> Column:
    return Column("id", Id, primary_key=True, autoincrement=True)


tenant = Table(
    "tenant",
    metadata,
    _id(),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("kind", String(16), nullable=False),
)

app_user = Table(
    "app_user",
    metadata,
    _id(),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False, index=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("display_name", String(256)),
    Column("password_hash", String(256)),
)

enterprise = Table(
    "enterprise",
    metadata,
    _id(),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("name_en", String(256)),
    Column("industry_chain", String(64), index=True),
    Column("district", String(64)),
)

site = Table(
    "site",
    metadata,
    _id(),
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("timezone", String(64), nullable=False),
    UniqueConstraint("enterprise_id", "code"),
)

share = Table(
    "share",
    metadata,
    _id(),
    Column("owner_tenant_id", ForeignKey("tenant.id"), nullable=False),
    Column("grantee_tenant_id", ForeignKey("tenant.id"), nullable=False, index=True),
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False),
    Column("product_id", ForeignKey("product.id")),
)

product = Table(
    "product",
    metadata,
    _id(),
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False),
    Column("part_number", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("revision", String(32)),
    UniqueConstraint("enterprise_id", "part_number"),
)

part = Table(
    "part",
    metadata,
    _id(),
    Column("product_id", ForeignKey("product.id"), nullable=False),
    Column("serial", String(128), nullable=False),
    UniqueConstraint("product_id", "serial"),
)
Index("ix_part_serial", part.c.serial)

bom_line = Table(
    "bom_line",
    metadata,
    _id(),
    Column("parent_product_id", ForeignKey("product.id"), nullable=False, index=True),
    Column("child_product_id", ForeignKey("product.id"), nullable=False, index=True),
    Column("quantity", Integer, nullable=False, default=1),
    Column("position", String(64)),
    UniqueConstraint("parent_product_id", "child_product_id", "position"),
)

assembly = Table(
    "assembly",
    metadata,
    Column("parent_part_id", ForeignKey("part.id"), primary_key=True),
    Column("child_part_id", ForeignKey("part.id"), primary_key=True),
    Column("position", String(64)),
)
Index("ix_assembly_child", assembly.c.child_part_id)

characteristic = Table(
    "characteristic",
    metadata,
    _id(),
    Column("product_id", ForeignKey("product.id"), nullable=False),
    Column("key", String(128), nullable=False),
    Column("name", String(256)),
    Column("nominal", Float),
    Column("lower_limit", Float),
    Column("upper_limit", Float),
    Column("unit", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("criticality", String(16), nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    UniqueConstraint("product_id", "key"),
)

measurement_plan = Table(
    "measurement_plan",
    metadata,
    _id(),
    Column("product_id", ForeignKey("product.id"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("items", JSON, nullable=False),
)

lab = Table(
    "lab",
    metadata,
    _id(),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("level", String(16), nullable=False),
    Column("qualification", String(16), nullable=False),
    Column("accreditation_no", String(64)),
    Column("scope", JSON, nullable=False),
)

instrument = Table(
    "instrument",
    metadata,
    _id(),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("quantity", String(64), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("range_min", Float),
    Column("range_max", Float),
    Column("resolution", Float),
    Column("mpe", Float),
    Column("uncertainty", Float),
    Column("lab_id", ForeignKey("lab.id")),
    Column("enterprise_id", ForeignKey("enterprise.id")),
    Column("calibration_interval_days", Integer),
)

calibration = Table(
    "calibration",
    metadata,
    _id(),
    Column("instrument_id", ForeignKey("instrument.id"), nullable=False, index=True),
    Column("lab_id", ForeignKey("lab.id"), nullable=False),
    Column("certificate_no", String(128), nullable=False),
    Column("calibrated_at", UtcDateTime(), nullable=False),
    Column("valid_until", UtcDateTime(), nullable=False),
    Column("result", String(32), nullable=False),
    Column("error_as_found", Float),
    Column("error_as_left", Float),
    Column("expanded_uncertainty", Float, nullable=False),
    Column("coverage_factor", Float, nullable=False),
    Column("coverage_probability", Float),
    Column("unit", String(32), nullable=False),
    UniqueConstraint("lab_id", "certificate_no"),
)

calibration_standard = Table(
    "calibration_standard",
    metadata,
    Column("calibration_id", ForeignKey("calibration.id"), primary_key=True),
    Column("standard_id", ForeignKey("instrument.id"), primary_key=True),
)
Index("ix_calibration_standard_standard", calibration_standard.c.standard_id)

ingest_batch = Table(
    "ingest_batch",
    metadata,
    _id(),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False),
    Column("user_id", ForeignKey("app_user.id")),
    Column("source_format", String(32), nullable=False),
    Column("source_name", String(512)),
    Column("rows", BigInteger, nullable=False),
    Column("committed_at", UtcDateTime(), nullable=False),
)

lake_file = Table(
    "lake_file",
    metadata,
    _id(),
    Column("batch_id", ForeignKey("ingest_batch.id"), index=True),  # null: a compacted file of many batches
    Column("path", String(512), nullable=False, unique=True),
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("min_characteristic_id", BigInteger, nullable=False),
    Column("max_characteristic_id", BigInteger, nullable=False),
    Column("min_time", UtcDateTime(), nullable=False),
    Column("max_time", UtcDateTime(), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("replaced_at", UtcDateTime()),  # when compaction replaced it (the file may then be vacuumed)
)
Index("ix_lake_file_partition", lake_file.c.enterprise_id, lake_file.c.month)

audit_entry = Table(
    "audit_entry",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("recorded_at", String(40), nullable=False),  # ISO 8601 UTC text: hashed exactly as stored
    Column("kind", String(64), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("actor", String(64)),
    Column("payload", Text, nullable=False),  # canonical JSON, hashed exactly as stored
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# -- machines and the measure -> model -> compensate -> verify loop (ISO 230-2) ----------------

machine = Table(
    "machine",
    metadata,
    _id(),
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("controller", String(64)),  # e.g. SINUMERIK 840D sl
    UniqueConstraint("enterprise_id", "code"),
)

machine_axis = Table(
    "machine_axis",
    metadata,
    _id(),
    Column("machine_id", ForeignKey("machine.id"), nullable=False),
    Column("name", String(16), nullable=False),  # X, Y, Z, A, C ...
    Column("kind", String(16), nullable=False),  # linear | rotary
    Column("unit", String(16), nullable=False),
    Column("travel_min", Float),
    Column("travel_max", Float),
    UniqueConstraint("machine_id", "name"),
)

positioning_test = Table(
    "positioning_test",
    metadata,
    _id(),
    Column("axis_id", ForeignKey("machine_axis.id"), nullable=False, index=True),
    Column("iteration", Integer, nullable=False),
    Column("measured_at", UtcDateTime(), nullable=False),
    Column("compensation_id", ForeignKey("compensation.id")),  # the table active during the test
    Column("instrument_id", ForeignKey("instrument.id")),  # e.g. the laser interferometer
    Column("uncertainty", Float, nullable=False),  # expanded uncertainty U of E for this test
    Column("data", JSON, nullable=False),  # targets, up, down (actual positions)
    Column("result", JSON, nullable=False),  # ISO 230-2 axis quantities
    UniqueConstraint("axis_id", "iteration"),
)

compensation = Table(
    "compensation",
    metadata,
    _id(),
    Column("axis_id", ForeignKey("machine_axis.id"), nullable=False, index=True),
    Column("iteration", Integer, nullable=False),
    Column("test_id", Id, nullable=False),  # the positioning_test it was built from (no FK: the two refer to each other)
    Column("created_at", UtcDateTime(), nullable=False),
    Column("table_json", Text, nullable=False),  # jingce.compensation/1
    UniqueConstraint("axis_id", "iteration"),
)

# -- live collection: message de-duplication, frozen control limits, alarms -------------------

live_message = Table(
    "live_message",
    metadata,
    Column("source", String(128), primary_key=True),  # e.g. mqtt://broker/topic-filter, opc.tcp://...
    Column("message_id", String(128), primary_key=True),
    Column("batch_id", ForeignKey("ingest_batch.id"), nullable=False, index=True),
)

control_limits = Table(
    "control_limits",
    metadata,
    _id(),
    Column("characteristic_id", ForeignKey("characteristic.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("mu", Float, nullable=False),  # centre of single values
    Column("sigma", Float, nullable=False),  # within sigma of single values
    Column("n", Integer, nullable=False),  # values the limits were estimated from
    Column("method", String(64), nullable=False),  # e.g. "imr phase I"
    Column("frozen_at", UtcDateTime(), nullable=False),
    UniqueConstraint("characteristic_id", "version"),
)

alarm = Table(
    "alarm",
    metadata,
    _id(),
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False, index=True),
    Column("characteristic_id", ForeignKey("characteristic.id"), nullable=False, index=True),
    Column("batch_id", ForeignKey("ingest_batch.id"), nullable=False),
    Column("measured_at", UtcDateTime(), nullable=False),
    Column("value", Float, nullable=False),
    Column("kind", String(16), nullable=False),  # spec | limit | rule
    Column("rule", String(64)),
    Column("detail", String(512)),
    Column("serial", String(128)),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("acknowledged_by", String(64)),
)

# -- batch analyses and the summaries kept beside the lake (issue 10) --------------------------

analysis_run = Table(
    "analysis_run",
    metadata,
    _id(),
    Column("kind", String(32), nullable=False),  # region
    Column("engine", String(256), nullable=False),  # local | local[2] | spark://host:7077 ...
    Column("params", JSON, nullable=False),
    Column("enterprise_ids", JSON),  # null: every enterprise the actor sees
    Column("actor", String(64)),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("n_values", BigInteger),
    Column("message", Text),
)

summary_file = Table(
    "summary_file",
    metadata,
    _id(),
    Column("run_id", ForeignKey("analysis_run.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # characteristic | subgroup | daily
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False),
    Column("year", Integer),  # null: a file of the whole history (characteristic summaries)
    Column("path", String(512), nullable=False, unique=True),  # relative to the summaries folder
    Column("rows", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("replaced_at", UtcDateTime()),  # when a later run replaced it (the file may then be vacuumed)
)
Index("ix_summary_file_kind_enterprise", summary_file.c.kind, summary_file.c.enterprise_id, summary_file.c.year)

# -- lab supervision, proficiency testing, the service market, gage studies (issue 9) ----------

lab_event = Table(
    "lab_event",
    metadata,
    _id(),
    Column("lab_id", ForeignKey("lab.id"), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("action", String(16), nullable=False),  # apply | qualify | suspend | reinstate | revoke | reject
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text),
    Column("actor", String(64), nullable=False),
)

pt_round = Table(
    "pt_round",
    metadata,
    _id(),
    Column("code", String(64), nullable=False, unique=True),
    Column("title", String(256), nullable=False),
    Column("quantity", String(64), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("artefact", String(512), nullable=False),  # what circulates: a gauge block, a ring gauge ...
    Column("assigned_value", Float),  # x_pt; published by the regulator (ISO 13528 7)
    Column("assigned_uncertainty", Float),  # U(x_pt), expanded, k = 2
    Column("sigma_pt", Float),  # standard deviation for proficiency assessment (z scores)
    Column("score_kind", String(8), nullable=False),  # en | zeta | z
    Column("status", String(16), nullable=False),  # open | closed
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime()),
    Column("created_by", String(64), nullable=False),
)

pt_result = Table(
    "pt_result",
    metadata,
    _id(),
    Column("round_id", ForeignKey("pt_round.id"), nullable=False, index=True),
    Column("lab_id", ForeignKey("lab.id"), nullable=False, index=True),
    Column("value", Float, nullable=False),
    Column("expanded_uncertainty", Float, nullable=False),
    Column("coverage_factor", Float, nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("score", Float),  # filled when the round is scored
    Column("evaluation", String(16)),  # satisfactory | questionable | unsatisfactory
    Column("flags", JSON, nullable=False),  # e.g. ["uncertainty_below_cmc"]
    UniqueConstraint("round_id", "lab_id"),
)

audit_finding = Table(
    "audit_finding",
    metadata,
    _id(),
    Column("lab_id", ForeignKey("lab.id"), nullable=False, index=True),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("severity", String(16), nullable=False),  # major | minor | observation
    Column("clause", String(64)),  # e.g. ISO/IEC 17025 7.6
    Column("description", Text, nullable=False),
    Column("due", UtcDateTime()),
    Column("status", String(16), nullable=False),  # open | closed
    Column("closed_at", UtcDateTime()),
    Column("closure", Text),  # the corrective action and its evidence
    Column("answered_at", UtcDateTime()),  # when the lab answered with its corrective action
    Column("answered_by", String(64)),
    Column("review_note", Text),  # the regulator's note on closing or reopening
    Column("raised_by", String(64), nullable=False),
    Column("closed_by", String(64)),
)

service_request = Table(
    "service_request",
    metadata,
    _id(),
    Column("enterprise_id", ForeignKey("enterprise.id"), nullable=False, index=True),
    Column("title", String(256), nullable=False),
    Column("kind", String(16), nullable=False),  # calibration | measurement
    Column("quantity", String(64), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("range_min", Float, nullable=False),
    Column("range_max", Float, nullable=False),
    Column("characteristic_id", ForeignKey("characteristic.id")),
    Column("instrument_id", ForeignKey("instrument.id")),
    Column("required_uncertainty", Float),  # U (k = 2) the result must not exceed
    Column("lower_limit", Float),  # or: the tolerance the result must support ...
    Column("upper_limit", Float),
    Column("decision_rule", String(32)),  # ... under this decision rule
    Column("serials", JSON, nullable=False),  # parts to measure, for a measurement service
    Column("deadline", UtcDateTime(), nullable=False),
    Column("location", String(256)),
    Column("status", String(16), nullable=False),  # open | ordered | delivered | cancelled
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(64), nullable=False),
)

service_order = Table(
    "service_order",
    metadata,
    _id(),
    Column("request_id", ForeignKey("service_request.id"), nullable=False, unique=True),
    Column("lab_id", ForeignKey("lab.id"), nullable=False, index=True),
    Column("scope_index", Integer),  # the scope line that covers the request
    Column("price", Float),
    Column("status", String(16), nullable=False),  # ordered | accepted | delivered | cancelled
    Column("ordered_at", UtcDateTime(), nullable=False),
    Column("ordered_by", String(64), nullable=False),
    Column("accepted_at", UtcDateTime()),
    Column("delivered_at", UtcDateTime()),
    Column("certificate_no", String(128)),
    Column("batch_id", ForeignKey("ingest_batch.id")),  # delivered measurement results
    Column("calibration_id", ForeignKey("calibration.id")),  # delivered calibration
)

gage_study = Table(
    "gage_study",
    metadata,
    _id(),
    Column("characteristic_id", ForeignKey("characteristic.id"), index=True),
    Column("instrument_id", ForeignKey("instrument.id"), index=True),
    Column("kind", String(16), nullable=False),  # type1 | grr | vda5
    Column("studied_at", UtcDateTime(), nullable=False),
    Column("pct_grr", Float),  # %GRR of the tolerance (AIAG MSA 4th ed.)
    Column("ndc", Float),
    Column("cg", Float),
    Column("cgk", Float),
    Column("q_mp", Float),  # VDA 5 measurement process capability ratio
    Column("u_ms", Float),  # standard uncertainty of the measuring system
    Column("result", JSON, nullable=False),
    Column("created_by", String(64), nullable=False),
)

notification = Table(
    "notification",
    metadata,
    _id(),
    Column("tenant_id", ForeignKey("tenant.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),  # impact | order | qualification | proficiency | finding
    Column("ref", String(128), nullable=False),  # what it is about, e.g. "calibration:17"
    Column("subject", String(512), nullable=False),
    Column("body", JSON, nullable=False),
    Column("read_at", UtcDateTime()),
    UniqueConstraint("tenant_id", "kind", "ref"),
)

impact_report = Table(
    "impact_report",
    metadata,
    _id(),
    Column("calibration_id", ForeignKey("calibration.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("details_path", String(512)),  # Parquet of the affected measurements, under the data folder
)
