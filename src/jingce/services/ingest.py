"""Ingest use case: files (any registered format) into the store, each file one atomic batch."""

from __future__ import annotations

import hashlib
import inspect
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


def reader_options(fmt: formats.Format, options: dict, *, explicit: frozenset = frozenset()) -> dict:
    """The options ``fmt``'s reader takes. Options a reader does not know are dropped, unless the
    user named them explicitly (``explicit``), which is an error naming the option."""
    params = inspect.signature(fmt.read).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return dict(options)
    unknown = sorted(k for k in explicit if k not in params)
    if unknown:
        raise FormatError(f"format {fmt.name!r} takes no option {unknown[0]!r}; it takes "
                          f"{', '.join(p for p in params if p not in ('data', 'name'))}", field="--option")
    return {k: v for k, v in options.items() if k in params}


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingest_bytes(store: Store, actor: Actor, data: bytes, name: str, *, format: str | None = None,
                 explicit: frozenset = frozenset(), **options) -> FileIngest:
    """Parse and land one file's bytes as one batch (whole or not at all; a repeat lands nothing).

    ``options`` go to the reader where it takes them (see :func:`reader_options`)."""
    digest = content_hash(data)
    fmt = formats.get(format) if format else formats.detect(data, name)
    opts = reader_options(fmt, options, explicit=explicit)
    rows = store.batch_rows(digest, actor)
    if rows is not None:
        return FileIngest(name, fmt.name, IngestResult(digest, rows, created=False))
    parsed = fmt.read(data, name, **opts)
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
