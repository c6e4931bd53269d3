"""The audit log: an append-only, hash-chained record of ingest batches, calibrations and
supervisory decisions.

Entry ``n`` stores ``hash_n = SHA-256(hash_{n-1} | seq | recorded_at | kind | subject | actor |
payload)`` with the payload as canonical JSON. Editing an entry breaks its own hash; inserting
or deleting one breaks the sequence and the link to the previous hash. Deleting the newest
entries leaves a valid shorter chain, so the head (sequence and hash) is also written to an
anchor outside the database after every commit (the ``audit-head.json`` file of the data folder,
which can be copied elsewhere or published); verification checks the chain against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from jingce.store.tables import audit_entry

try:  # POSIX: serialise anchor updates across processes too
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

GENESIS = "0" * 64


def canonical_json(payload: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 kept) for hashing."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, seq: int, recorded_at: str, kind: str, subject: str, actor: str | None,
               payload: str) -> str:
    h = hashlib.sha256()
    for part in (prev_hash, str(seq), recorded_at, kind, subject, actor or "", payload):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def append(conn: Connection, kind: str, subject: str, payload: Any, actor: str | None = None) -> tuple[int, str]:
    """Append one entry inside the caller's (write-locked) transaction; return (seq, hash)."""
    last = conn.execute(
        select(audit_entry.c.seq, audit_entry.c.hash).order_by(audit_entry.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    recorded_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    body = canonical_json(payload)
    digest = entry_hash(prev, seq, recorded_at, kind, subject, actor, body)
    conn.execute(
        audit_entry.insert().values(
            seq=seq, recorded_at=recorded_at, kind=kind, subject=subject, actor=actor, payload=body,
            prev_hash=prev, hash=digest,
        )
    )
    return seq, digest


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    kind: str  # "edited", "inserted_or_deleted", "broken_link", "truncated", "anchor_mismatch"
    detail: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[AuditProblem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection, anchor: dict | None = None) -> AuditReport:
    """Walk the chain from the first entry; report every edited, inserted or deleted entry."""
    problems: list[AuditProblem] = []
    prev_hash, expect_seq, count = GENESIS, 1, 0
    last_seq, last_hash = 0, GENESIS
    hashes: dict[int, str] = {}
    rows = conn.execute(select(audit_entry).order_by(audit_entry.c.seq)).mappings()
    for row in rows:
        count += 1
        seq = row["seq"]
        if seq != expect_seq:
            problems.append(AuditProblem(seq, "inserted_or_deleted", f"expected entry {expect_seq}, found {seq}"))
        if row["prev_hash"] != prev_hash:
            problems.append(AuditProblem(seq, "broken_link", "prev_hash does not match the previous entry's hash"))
        digest = entry_hash(row["prev_hash"], seq, row["recorded_at"], row["kind"], row["subject"], row["actor"],
                            row["payload"])
        if digest != row["hash"]:
            problems.append(AuditProblem(seq, "edited", "stored hash does not match the entry's content"))
        hashes[seq] = row["hash"]
        prev_hash, expect_seq = row["hash"], seq + 1
        last_seq, last_hash = seq, row["hash"]
    if anchor:
        a_seq, a_hash = int(anchor["seq"]), anchor["hash"]
        if a_seq > last_seq:
            problems.append(AuditProblem(a_seq, "truncated", f"the anchor records entry {a_seq}, the chain ends at {last_seq}"))
        elif a_seq and hashes.get(a_seq) != a_hash:
            problems.append(AuditProblem(a_seq, "anchor_mismatch", "entry differs from the anchored head"))
    return AuditReport(count, last_seq, last_hash, tuple(problems))


def read_anchor(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


_ANCHOR_LOCK = threading.Lock()


def write_anchor(path: Path, seq: int, digest: str) -> None:
    """Record the chain head outside the database (atomically replaced; never moves backwards)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # threads of this process and other processes commit concurrently: compare and replace under a
    # lock, or a slower writer could move the anchor back (or two writers share a temporary name)
    with _ANCHOR_LOCK, open(path.with_name(path.name + ".lock"), "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_anchor(path)
        if current and int(current["seq"]) >= seq:
            return
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}-{threading.get_ident()}")
        tmp.write_text(json.dumps({"seq": seq, "hash": digest}), encoding="utf-8")
        os.replace(tmp, path)
