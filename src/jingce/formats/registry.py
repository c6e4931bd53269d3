"""The registry of file formats (a new format is one module that calls :func:`register`)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jingce.errors import FormatError


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a reader gives back: the measurement rows, plus any skipped records (when asked)."""

    table: pa.Table
    skipped: tuple[FormatError, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Format:
    """A file format: its name, file extensions, how to recognise, read and (optionally) write it.

    ``read(data, name, **options) -> ReadResult`` must raise only :class:`FormatError` on bad
    input, naming the file, line (or element) and field.
    """

    name: str
    extensions: tuple[str, ...]
    read: Callable[..., ReadResult]
    sniff: Callable[[bytes, str], bool]
    write: Callable[..., bytes] | None = None
    description: str = ""


_FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    _FORMATS[fmt.name] = fmt
    return fmt


def _load() -> dict[str, Format]:
    import jingce.formats as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name != "registry" and not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
    return _FORMATS


def names() -> list[str]:
    return sorted(_load())


def get(name: str) -> Format:
    formats = _load()
    if name not in formats:
        raise FormatError(f"unknown format {name!r}; known: {', '.join(sorted(formats))}", field="format")
    return formats[name]


def detect(data: bytes, filename: str) -> Format:
    """Pick the format of a file by its extension, then by sniffing its first bytes."""
    formats = _load()
    lower = filename.lower()
    by_ext = [f for f in formats.values() if any(lower.endswith(e) for e in f.extensions)]
    for f in by_ext + [f for f in formats.values() if f not in by_ext]:
        if f.sniff(data[:4096], filename):
            return f
    raise FormatError("cannot tell the format of this file; name it with --format", file=filename)
