"""Watched folder: CMMs and gauges drop one result file per run; each is ingested once.

A file is taken when it is complete: its size and modification time have not changed for
``settle`` seconds (writers that rename a finished temporary file are caught at once). It is
handed to ``ingest(data, name)``; on success the original moves to ``done/`` (kept, with the
batch hash in the name of a sidecar), on a format error to ``failed/`` with a bilingual report
``<name>.error.txt`` beside it. Files already ingested (same content hash) are simply moved.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jingce.errors import JingceError

IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".error.txt")


@dataclass
class FolderStats:
    ingested: int = 0
    repeated: int = 0
    failed: int = 0
    last: str = ""
    errors: list = field(default_factory=list)


class FolderCollector:
    """Poll ``path`` for complete files and ingest each once (see module docstring)."""

    def __init__(self, path: Path, ingest: Callable[[bytes, str], object], *, settle: float = 1.0):
        self.path = Path(path)
        self.done = self.path / "done"
        self.failed = self.path / "failed"
        for d in (self.path, self.done, self.failed):
            d.mkdir(parents=True, exist_ok=True)
        self.ingest, self.settle = ingest, settle
        self.stats = FolderStats()
        self._seen: dict[str, tuple[int, int, float]] = {}

    def _complete(self, entry: os.DirEntry) -> bool:
        st = entry.stat()
        sig = (st.st_size, st.st_mtime_ns)
        now = time.monotonic()
        before = self._seen.get(entry.name)
        if before is None or before[:2] != sig:
            self._seen[entry.name] = (*sig, now)
            return self.settle <= 0
        return now - before[2] >= self.settle

    def poll(self) -> int:
        """Take every complete file once; return how many were handled."""
        handled = 0
        for entry in sorted(os.scandir(self.path), key=lambda e: e.name):
            if not entry.is_file() or entry.name.startswith(".") or entry.name.endswith(IGNORED_SUFFIXES):
                continue
            if not self._complete(entry):
                continue
            self._take(Path(entry.path))
            self._seen.pop(entry.name, None)
            handled += 1
        return handled

    def _take(self, file: Path) -> None:
        data = file.read_bytes()
        try:
            result = self.ingest(data, file.name)
        except JingceError as exc:
            self.stats.failed += 1
            self.stats.errors.append(exc.bilingual())
            target = _free(self.failed / file.name)
            shutil.move(file, target)
            target.with_name(target.name + ".error.txt").write_text(exc.bilingual() + "\n", encoding="utf-8")
            self.stats.last = f"failed: {file.name}"
            return
        created = getattr(getattr(result, "result", result), "created", True)
        self.stats.ingested += int(bool(created))
        self.stats.repeated += int(not created)
        shutil.move(file, _free(self.done / file.name))
        self.stats.last = f"{'ingested' if created else 'already in'}: {file.name}"

    def run_forever(self, stop, interval: float = 1.0, tick: Callable[[], None] | None = None) -> None:
        while not stop.is_set():
            self.poll()
            if tick:
                tick()
            stop.wait(interval)


def _free(path: Path) -> Path:
    """``path``, or ``name.1.ext``, ``name.2.ext`` ... if taken (originals are never overwritten)."""
    if not path.exists():
        return path
    k = 1
    while True:
        p = path.with_name(f"{path.stem}.{k}{path.suffix}")
        if not p.exists():
            return p
        k += 1
