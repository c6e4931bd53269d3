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

from jingce.collect.messages import Message
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
        self._index: dict[tuple[str, str, str], int] = {}  # known characteristic -> position in _chars
        self._chars: list[_Char] = []
        self._unknown: dict[tuple[str, str, str], float] = {}
        self._factors: dict[tuple[str, str], float] = {}
        self._retry = retry_unknown_s

    def _lookup(self, ent: str, pn: str, key: str) -> int:
        k = (ent, pn, key)
        i = self._index.get(k)
        if i is not None:
            return i
        when = self._unknown.get(k)
        if when is not None and time.monotonic() - when < self._retry:
            return -1
        try:
            ch = self.store.find_characteristic(self.actor, ent, pn, key)
            prod = self.store.get_product(self.actor, ch.product_id)
        except NotFoundError:
            self._unknown[k] = time.monotonic()  # not registered (yet): look again later
            return -1
        sites = self.store.list_sites(self.actor, prod.enterprise_id)
        c = _Char(ch.id, prod.enterprise_id, f"{ent}/{pn}/{key}", ch.unit,
                  ch.lower_limit if ch.lower_limit is not None else -np.inf,
                  ch.upper_limit if ch.upper_limit is not None else np.inf,
                  zone=sites[0].timezone if sites else "Asia/Shanghai")
        self._limits(c)
        self._chars.append(c)
        self._index[k] = len(self._chars) - 1
        return self._index[k]

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

    def _factor(self, unit: str, c: _Char) -> float:
        f = self._factors.get((unit, c.unit))
        if f is None:
            try:
                f = conversion_factor(unit, c.unit)
            except JingceError:
                f = float("nan")  # the ingest refuses it with a proper error
            self._factors[(unit, c.unit)] = f
        return f

    def check(self, messages: list[Message]) -> list[dict]:
        """Alarms raised by the values of ``messages`` (in arrival order); updates the run-rule history."""
        now = dt.datetime.now(dt.UTC)
        idx = np.fromiter((self._lookup(m.enterprise, m.part_number, c) for m in messages for c in m.characteristics),
                          dtype=np.int64)
        if idx.size == 0:
            return []
        owner = np.repeat(np.arange(len(messages)), [len(m) for m in messages])
        v = np.fromiter((x for m in messages for x in m.values), dtype=np.float64, count=idx.size)
        valid = np.fromiter(((s or "valid") == "valid" for m in messages for s in m.statuses), dtype=bool,
                            count=idx.size) & (idx >= 0)
        units = [u for m in messages for u in m.units]
        chars = self._chars
        for j in np.flatnonzero(valid):
            u = units[j]
            if u is not None and u != chars[idx[j]].unit:
                v[j] *= self._factor(u, chars[idx[j]])
        valid &= np.isfinite(v)
        keep = np.flatnonzero(valid)
        if keep.size == 0:
            return []
        alarms: list[dict] = []

        def alarm(j: int, kind: str, rule: str | None, detail: str) -> None:
            m, c = messages[owner[j]], chars[idx[j]]
            when = m.measured_at or (m.local_time.replace(tzinfo=ZoneInfo(m.zone or c.zone)).astimezone(dt.UTC)
                                     if m.local_time else now)
            alarms.append({"message_id": m.message_id, "characteristic_id": c.id, "enterprise_id": c.enterprise_id,
                           "characteristic": c.key, "site": m.site, "measured_at": when, "value": float(v[j]),
                           "kind": kind, "rule": rule, "detail": detail, "serial": m.serial, "raised_at": now,
                           "received_at": m.received_at})

        ci = idx[keep]
        lsl = np.array([c.lsl for c in chars])[ci]
        usl = np.array([c.usl for c in chars])[ci]
        vk = v[keep]
        for p in np.flatnonzero((vk < lsl) | (vk > usl)):
            c = chars[ci[p]]
            side = f"< LSL {c.lsl:g}" if vk[p] < c.lsl else f"> USL {c.usl:g}"
            alarm(int(keep[p]), "spec", None, f"value {vk[p]:g} {side} / 测量值超出规格")
        if not self.rules:
            return alarms
        mu = np.array([c.mu for c in chars])[ci]
        sigma = np.array([c.sigma for c in chars])[ci]
        limited = np.isfinite(sigma)
        if not limited.any():
            return alarms
        order = np.argsort(ci[limited], kind="stable")  # group by characteristic, arrival order kept
        rows = keep[limited][order]
        z = ((vk[limited] - mu[limited]) / sigma[limited])[order]
        group = ci[limited][order]
        cut = np.flatnonzero(np.diff(group)) + 1
        segments, starts, spans = [], [], []
        pos = 0
        for lo, hi in zip(np.concatenate(([0], cut)), np.concatenate((cut, [group.size])), strict=True):
            c = chars[group[lo]]
            seg = np.concatenate((c.history, z[lo:hi]))
            segments.append(seg)
            starts.append(np.full(seg.size, pos))
            spans.append((c, lo, hi, pos + c.history.size, seg))
            pos += seg.size
        flags = evaluate(np.concatenate(segments), self.rules, np.concatenate(starts), "last")
        for c, lo, hi, at, seg in spans:
            f = flags[:, at:at + hi - lo]
            for q in np.flatnonzero(f.any(axis=0)):
                broken = [self.rules[r].name for r in np.flatnonzero(f[:, q])]
                alarm(int(rows[lo + q]), "rule", ",".join(broken), f"z = {z[lo + q]:+.2f}: {', '.join(broken)} / 判异准则")
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
                 monitor: LiveMonitor | None = None, publish_alarms: Callable[[list[dict]], None] | None = None,
                 max_rows: int = 20000, max_delay: float = 1.0, check_interval: float = 0.005,
                 on_reject: Callable[[Message, JingceError], None] | None = None):
        self.store, self.actor, self.source, self.source_format = store, actor, source, source_format
        self.monitor, self.publish_alarms, self.on_reject = monitor, publish_alarms, on_reject
        self.max_rows, self.max_delay, self.check_interval = max_rows, max_delay, check_interval
        self.stats = SinkStats()
        self._pending: list[tuple[Message | None, Callable[[], None]]] = []
        self._lock = threading.Lock()
        self._buffer: list[tuple[Message | None, Callable[[], None]]] = []
        self._alarms: list[dict] = []
        self._buffer_ids: set = set()
        self._buffer_lock = threading.Lock()
        self._buffered = 0
        self._oldest = 0.0
        self._stop = threading.Event()

    def add(self, message: Message, ack: Callable[[], None]) -> None:
        """Hand over one message (thread-safe); ``ack`` is called once its values are committed."""
        with self._lock:
            self._pending.append((message, ack))

    def start(self) -> LiveSink:
        """Run the checker (every ``check_interval``) and the committer in two threads, so that a
        commit in progress never delays the real-time checks and alarms."""
        self._threads = [threading.Thread(target=self._check_loop, name="jingce-live-check", daemon=True),
                         threading.Thread(target=self._commit_loop, name="jingce-live-commit", daemon=True)]
        for th in self._threads:
            th.start()
        return self

    def stop(self) -> None:
        """Check and commit what arrived, then stop."""
        self._stop.set()
        for th in getattr(self, "_threads", []):
            th.join()
        self.step(force=True)

    def _check_loop(self) -> None:
        while not self._stop.is_set():
            self.check()
            time.sleep(self.check_interval)

    def _commit_loop(self) -> None:
        while not self._stop.is_set():
            if self._due():
                self.commit()
            time.sleep(self.check_interval)

    def step(self, force: bool = False) -> None:
        """Check what arrived and commit when due (synchronously; for tests and shutdown)."""
        self.check()
        if self._buffer and (force or self._due()):
            self.commit()

    def check(self) -> None:
        """Check the values that arrived, publish their alarms, move them to the commit buffer."""
        with self._lock:
            arrived, self._pending = self._pending, []
        if not arrived:
            return
        fresh = []
        with self._buffer_lock:
            for msg, ack in arrived:  # a message seen twice in one batch lands once (acknowledged twice)
                if msg is not None and msg.message_id in self._buffer_ids:
                    self.stats.duplicates += len(msg)
                    msg = None
                elif msg is not None:
                    self._buffer_ids.add(msg.message_id)
                fresh.append((msg, ack))
        messages = [m for m, _ in fresh if m is not None]
        self.stats.received += sum(len(m) for m in messages)
        alarms = self.monitor.check(messages) if self.monitor is not None and messages else []
        if alarms and self.publish_alarms:  # one call per check: at 20,000 values/s the run rules raise hundreds a second
            self.publish_alarms(alarms)
        self.stats.alarms += len(alarms)
        with self._buffer_lock:
            if not self._buffer:
                self._oldest = time.monotonic()
            self._buffer.extend(fresh)
            self._alarms.extend(alarms)
            self._buffered += sum(len(m) for m in messages)

    def _due(self) -> bool:
        with self._buffer_lock:
            return bool(self._buffer) and (self._buffered >= self.max_rows
                                           or time.monotonic() - self._oldest >= self.max_delay)

    def commit(self) -> None:
        """Commit the buffer as one batch, then acknowledge its messages."""
        with self._buffer_lock:
            batch, alarms = self._buffer, self._alarms
            self._buffer, self._alarms, self._buffer_ids, self._buffered = [], [], set(), 0
        self._commit(batch, alarms)

    def _commit(self, batch, alarms) -> None:
        messages = [m for m, _ in batch if m is not None]
        if messages:
            try:
                result = self.store.ingest(self.actor, rows_table(messages), source_format=self.source_format,
                                           source_name=self.source, message_source=self.source, alarms=alarms)
                self.stats.committed += result.rows
                self.stats.duplicates += sum(len(m) for m in messages) - result.rows
                self.stats.batches += int(result.created)
            except JingceError as exc:  # a bad message: commit the others one by one, report the bad ones
                self.stats.last_error = exc.bilingual()
                for m in messages:
                    mine = [a for a in alarms if a["message_id"] == m.message_id]
                    try:
                        r = self.store.ingest(self.actor, rows_table([m]), source_format=self.source_format,
                                              source_name=self.source, message_source=self.source, alarms=mine)
                        self.stats.committed += r.rows
                    except JingceError as one:
                        self.stats.rejected += len(m)
                        if self.on_reject:
                            self.on_reject(m, one)
        for _, ack in batch:  # committed, or rejected for good: the source need not send them again
            ack()


def rows_table(messages: list[Message]) -> pa.Table:
    """The measurement input table of a list of messages (per-message fields repeated per value)."""
    counts = np.fromiter((len(m) for m in messages), dtype=np.int64, count=len(messages))
    owner = pa.array(np.repeat(np.arange(len(messages)), counts))
    n = int(counts.sum())

    def per_message(name: str, typ=pa.string()) -> pa.Array:
        return pa.array([getattr(m, name) for m in messages], typ).take(owner)

    def per_value(name: str, typ=pa.string()) -> pa.Array:
        return pa.array([x for m in messages for x in getattr(m, name)], typ)

    return pa.table({
        "enterprise": per_message("enterprise"), "site": per_message("site"),
        "part_number": per_message("part_number"), "serial": per_message("serial"),
        "characteristic": per_value("characteristics"), "value": per_value("values", pa.float64()),
        "unit": per_value("units"), "measured_at": per_message("measured_at", TIME),
        "local_time": per_message("local_time", pa.timestamp("us")), "zone": per_message("zone"),
        "stage": per_message("stage"), "operator": per_message("operator"), "machine": per_message("machine"),
        "instrument": per_message("instrument"), "status": per_value("statuses"),
        "message_id": per_message("message_id"),
        "position": pa.array(np.arange(n), pa.int64()),  # the value's place in the committed batch
    })


def alarm_payload(alarms: list[dict]) -> bytes:
    """The JSON published on ``jingce/<enterprise>/<site>/alarms``: an array of the alarms one check
    raised for that enterprise and site (usually one)."""
    out = [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in a.items()} for a in alarms]
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()
