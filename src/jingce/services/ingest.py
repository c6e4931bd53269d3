"""Ingest use case: files (any registered format) into the store, each file one atomic batch."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from jingce import formats
from jingce.errors import FormatError
from jingce.store import Actor, IngestResult, Store


@dataclass(frozen=True, slots=True)
class FileIngest:
    """Result of ingesting one file."""

    path: str
    format: str
    result: IngestResult
    skipped: tuple[FormatError, ...] = ()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingest_bytes(store: Store, actor: Actor, data: bytes, name: str, *, format: str | None = None,
                 **options) -> FileIngest:
    """Parse and land one file's bytes as one batch (whole or not at all; a repeat lands nothing)."""
    digest = content_hash(data)
    fmt = formats.get(format) if format else formats.detect(data, name)
    rows = store.batch_rows(digest, actor)
    if rows is not None:
        return FileIngest(name, fmt.name, IngestResult(digest, rows, created=False))
    parsed = fmt.read(data, name, **options)
    result = store.ingest(actor, parsed.table, content_hash=digest, source_format=fmt.name, source_name=name,
                          source_hash=digest)
    return FileIngest(name, fmt.name, result, parsed.skipped)


def ingest_files(store: Store, actor: Actor, paths: Iterable[str | Path], *, format: str | None = None,
                 progress: Callable[[str], None] | None = None, **options) -> list[FileIngest]:
    """Ingest files one by one; each is its own batch. Stops at the first bad file (earlier
    files stay ingested, the bad one writes nothing)."""
    out = []
    for p in paths:
        path = Path(p)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FormatError(f"cannot read: {exc.strerror}", file=str(path)) from None
        out.append(ingest_bytes(store, actor, data, str(path), format=format, **options))
        if progress:
            progress(str(path))
    return out
