"""Live data: real-time SPC checks on each arriving value, atomic batched commits, alarms.

A collector hands rows (with a callback that acknowledges them to their source) to a
:class:`LiveSink`. Every few milliseconds the sink checks the rows that arrived against their
characteristic's specification, frozen control limits and run rules (:class:`LiveMonitor`),
publishes any alarm at once, and buffers the rows; when the buffer holds ``max_rows`` values or
its oldest value is ``max_delay`` seconds old, it commits them to the lake in one atomic batch
(with their alarms and message ids, so redeliveries are dropped) and only then acknowledges them.
A collector killed at any moment therefore loses nothing it acknowledged and, after a restart
and redelivery, duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from jingce.collect.messages import Row
from jingce.errors import JingceError, NotFoundError
from jingce.kernels.spc import imr
from jingce.kernels.spc.rules import evaluate, rule_set
from jingce.model.batch import TIME
from jingce.model.units import conversion_factor
from jingce.store import Actor, Store

MIN_HISTORY = 20  # values needed before control limits are estimated (phase I)
PHASE1_VALUES = 125


@dataclass
class _Char:
    id: int
    enterprise_id: int
    key: str
    unit: str
    lsl: float
    usl: float
    mu: float = float("nan")
    sigma: float = float("nan")
    history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    zone: str = "Asia/Shanghai"


class LiveMonitor:
    """Checks values as they arrive: specification limits, frozen control limits of single values
    (estimated from the history and stored the first time a characteristic is seen), and run
    rules over the standardised values (:mod:`jingce.kernels.spc.rules`), many characteristics
    in one vectorised pass."""

    def __init__(self, store: Store, actor: Actor, *, rules: str = "nelson", retry_unknown_s: float = 30.0):
        self.store, self.actor = store, actor
        self.rules = tuple(r for r in rule_set(rules) if r.enabled)
        self.window = max((r.m for r in self.rules), default=1)
        self._chars: dict[tuple[str, str, str], _Char | float] = {}
        self._factors: dict[tuple[str, str], float] = {}
        self._retry = retry_unknown_s

    def _char(self, ent: str, pn: str, key: str) -> _Char | None:
        k = (ent, pn, key)
        got = self._chars.get(k)
        if isinstance(got, _Char):
            return got
        if isinstance(got, float) and time.monotonic() - got < self._retry:
            return None
        try:
            ch = self.store.find_characteristic(self.actor, ent, pn, key)
            prod = self.store.get_product(self.actor, ch.product_id)
        except NotFoundError:
            self._chars[k] = time.monotonic()  # not registered (yet): look again later
            return None
        sites = self.store.list_sites(self.actor, prod.enterprise_id)
        c = _Char(ch.id, prod.enterprise_id, f"{ent}/{pn}/{key}", ch.unit,
                  ch.lower_limit if ch.lower_limit is not None else -np.inf,
                  ch.upper_limit if ch.upper_limit is not None else np.inf,
                  zone=sites[0].timezone if sites else "Asia/Shanghai")
        self._limits(c)
        self._chars[k] = c
        return c

    def _limits(self, c: _Char) -> None:
        frozen = self.store.frozen_limits(self.actor, [c.id]).get(c.id)
        if frozen is None:
            hist = self.store.values(self.actor, c.id, valid_only=True, columns=("value",)).column("value")
            x = np.asarray(hist.to_numpy(), dtype=np.float64)[-PHASE1_VALUES:]
            if x.size < MIN_HISTORY or np.ptp(x) == 0:
                return
            chart = imr(x, drop_out_of_control=True)
            frozen = self.store.freeze_limits(self.actor, c.id, mu=float(chart.mean), sigma=float(chart.sigma),
                                              n=int(x.size), method="I-MR phase I, out-of-control points dropped")
        c.mu, c.sigma = frozen.mu, frozen.sigma

    def check(self, rows: list[Row]) -> list[dict]:
        """Alarms raised by ``rows`` (in arrival order); updates the run-rule history."""
        now = dt.datetime.now(dt.UTC)
        chars, values, keep = [], [], []
        for i, r in enumerate(rows):
            c = self._char(r.enterprise, r.part_number, r.characteristic)
            if c is None or (r.status or "valid") != "valid":
                continue
            f = 1.0
            if r.unit and r.unit != c.unit:
                f = self._factors.get((r.unit, c.unit))
                if f is None:
                    try:
                        f = self._factors[(r.unit, c.unit)] = conversion_factor(r.unit, c.unit)
                    except JingceError:
                        continue  # the ingest refuses it with a proper error
            chars.append(c)
            values.append(r.value * f)
            keep.append(i)
        if not keep:
            return []
        v = np.asarray(values)
        alarms: list[dict] = []

        def alarm(i: int, c: _Char, kind: str, rule: str | None, detail: str) -> None:
            r = rows[keep[i]]
            when = r.measured_at or (r.local_time.replace(tzinfo=ZoneInfo(r.zone or c.zone)).astimezone(dt.UTC)
                                     if r.local_time else now)
            alarms.append({"message_id": r.message_id, "characteristic_id": c.id, "enterprise_id": c.enterprise_id,
                           "characteristic": c.key, "site": r.site, "measured_at": when, "value": float(v[i]), "kind": kind,
                           "rule": rule, "detail": detail, "serial": r.serial, "raised_at": now})

        lsl = np.array([c.lsl for c in chars])
        usl = np.array([c.usl for c in chars])
        for i in np.flatnonzero((v < lsl) | (v > usl)):
            c = chars[i]
            side = f"< LSL {c.lsl:g}" if v[i] < c.lsl else f"> USL {c.usl:g}"
            alarm(int(i), c, "spec", None, f"value {v[i]:g} {side} / 测量值超出规格")
        # run rules per characteristic over history + new standardised values, all in one pass
        by_char: dict[int, list[int]] = {}
        for i, c in enumerate(chars):
            if c.sigma == c.sigma:
                by_char.setdefault(id(c), []).append(i)
        if by_char and self.rules:
            segments, starts, owners, new_at = [], [], [], []
            pos = 0
            for idxs in by_char.values():
                c = chars[idxs[0]]
                z_new = (v[idxs] - c.mu) / c.sigma
                seg = np.concatenate((c.history, z_new))
                segments.append(seg)
                starts.append(np.full(seg.size, pos))
                owners.append((c, idxs, seg))
                new_at.append(pos + c.history.size)
                pos += seg.size
            flags = evaluate(np.concatenate(segments), self.rules, np.concatenate(starts), "last")
            for (c, idxs, seg), at in zip(owners, new_at, strict=True):
                f = flags[:, at:at + len(idxs)]
                for j in np.flatnonzero(f.any(axis=0)):
                    broken = [self.rules[q].name for q in np.flatnonzero(f[:, j])]
                    alarm(idxs[j], c, "rule", ",".join(broken),
                          f"z = {seg[c.history.size + j]:+.2f}: {', '.join(broken)} / 判异准则")
                c.history = seg[-self.window:]
        return alarms


@dataclass
class SinkStats:
    received: int = 0
    committed: int = 0
    duplicates: int = 0
    batches: int = 0
    alarms: int = 0
    rejected: int = 0
    last_error: str = ""
    alarm_latency_ms: list = field(default_factory=list)


class LiveSink:
    """Checks, buffers and commits live rows; acknowledges only after commit (see module docstring)."""

    def __init__(self, store: Store, actor: Actor, *, source: str, source_format: str = "mqtt",
                 monitor: LiveMonitor | None = None, publish_alarm: Callable[[dict], None] | None = None,
                 max_rows: int = 20000, max_delay: float = 1.0, check_interval: float = 0.005,
                 on_reject: Callable[[list[Row], JingceError], None] | None = None):
        self.store, self.actor, self.source, self.source_format = store, actor, source, source_format
        self.monitor, self.publish_alarm, self.on_reject = monitor, publish_alarm, on_reject
        self.max_rows, self.max_delay, self.check_interval = max_rows, max_delay, check_interval
        self.stats = SinkStats()
        self._pending: list[tuple[list[Row], Callable[[], None]]] = []
        self._lock = threading.Lock()
        self._buffer: list[tuple[list[Row], Callable[[], None]]] = []
        self._alarms: list[dict] = []
        self._buffer_ids: set = set()
        self._oldest = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, rows: list[Row], ack: Callable[[], None]) -> None:
        """Hand over one message's rows (thread-safe); ``ack`` is called once they are committed."""
        with self._lock:
            self._pending.append((rows, ack))

    def start(self) -> LiveSink:
        self._thread = threading.Thread(target=self._run, name="jingce-live-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Commit what is buffered and stop."""
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()
            time.sleep(self.check_interval)
        self.step(force=True)

    def step(self, force: bool = False) -> None:
        """Check what arrived and commit when due (the worker calls this; tests may too)."""
        with self._lock:
            arrived, self._pending = self._pending, []
        if arrived:
            fresh = []
            for rs, ack in arrived:  # a message seen twice in one batch lands once (acknowledged twice)
                mid = rs[0].message_id if rs else None
                if mid in self._buffer_ids:
                    self.stats.duplicates += len(rs)
                    rs = []
                else:
                    self._buffer_ids.add(mid)
                fresh.append((rs, ack))
            arrived = fresh
            rows = [r for rs, _ in arrived for r in rs]
            self.stats.received += len(rows)
            if self.monitor is not None:
                alarms = self.monitor.check(rows)
                for a in alarms:
                    if self.publish_alarm:
                        self.publish_alarm(a)
                self._alarms.extend(alarms)
                self.stats.alarms += len(alarms)
            if not self._buffer:
                self._oldest = time.monotonic()
            self._buffer.extend(arrived)
        n = sum(len(rs) for rs, _ in self._buffer)
        if self._buffer and (force or n >= self.max_rows or time.monotonic() - self._oldest >= self.max_delay):
            self._commit()

    def _commit(self) -> None:
        batch, alarms = self._buffer, self._alarms
        self._buffer, self._alarms, self._buffer_ids = [], [], set()
        if not any(rs for rs, _ in batch):
            for _, ack in batch:
                ack()
            return
        try:
            result = self.store.ingest(self.actor, rows_table([r for rs, _ in batch for r in rs]),
                                       source_format=self.source_format, source_name=self.source,
                                       message_source=self.source, alarms=alarms)
            self.stats.committed += result.rows
            self.stats.duplicates += sum(len(rs) for rs, _ in batch) - result.rows
            self.stats.batches += int(result.created)
            for _, ack in batch:
                ack()
        except JingceError as exc:  # a bad message: commit the others one by one, report the bad ones
            self.stats.last_error = exc.bilingual()
            for rows, ack in batch:
                if not rows:
                    ack()
                    continue
                mine = [a for a in alarms if a["message_id"] == rows[0].message_id]
                try:
                    r = self.store.ingest(self.actor, rows_table(rows), source_format=self.source_format,
                                          source_name=self.source, message_source=self.source, alarms=mine)
                    self.stats.committed += r.rows
                except JingceError as one:
                    self.stats.rejected += len(rows)
                    if self.on_reject:
                        self.on_reject(rows, one)
                ack()  # committed or rejected for good: either way the source need not send it again


def rows_table(rows: list[Row]) -> pa.Table:
    """The measurement input table of a list of rows."""
    def col(name, typ=pa.string()):
        return pa.array([getattr(r, name) for r in rows], typ)

    return pa.table({
        "enterprise": col("enterprise"), "site": col("site"), "part_number": col("part_number"),
        "serial": col("serial"), "characteristic": col("characteristic"), "value": col("value", pa.float64()),
        "unit": col("unit"), "measured_at": col("measured_at", TIME), "local_time": col("local_time", pa.timestamp("us")),
        "zone": col("zone"), "stage": col("stage"), "operator": col("operator"), "machine": col("machine"),
        "instrument": col("instrument"), "status": col("status"), "message_id": col("message_id"),
        "position": pa.array(range(len(rows)), pa.int64()),  # the row's place in the committed batch
    })


def alarm_payload(alarm: dict) -> bytes:
    """The JSON published on ``jingce/<enterprise>/<site>/alarms``."""
    out = {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in alarm.items()}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()
