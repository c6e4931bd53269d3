"""Q-DAS AQDEF, the ASCII transfer format (DFQ, and DFD + DFX pairs): read and write.

A file is a sequence of lines. A *K-line* is ``Knnnn[/i[/v]] value``: the four digits name the
field, ``i`` the part (K1xxx), the characteristic (K2xxx, K8xxx), the catalogue entry (K4xxx) or
the characteristic a value field (K0001-K0099) belongs to; no ``/i`` means index 1, ``/0`` means
"every part / every characteristic". A *value line* holds the values of characteristics 1, 2, ...
of one measurement, split by byte 0x0F between characteristics and by 0x14 between the fields of
one characteristic, in the order K0001 value, K0002 attribute, K0004 time, K0005 events, K0006
batch, K0007 nest (cavity), K0008 operator, K0010 machine, K0011 process parameter, K0012 gauge.
A DFQ holds both; a DFD holds the description (K0100, K1xxx, K2xxx ...), its DFX the value lines.

Rules followed (Q-DAS ASCII Transfer Format manual V12, and the MIT-licensed reader diribet/aqdef-tools
for the points the manual leaves open):

* characteristic numbers run through the whole file; a characteristic belongs to the part whose
  K1xxx lines came last before it. A new ``K0100`` after values starts a new block (files that were
  appended to), numbered afresh.
* K-field values: a characteristic's value record is complete when one of its fields repeats, so
  ``K0001/1 ... K0004/1 ... K0001/1 ...`` are two records, whatever the order of the fields and
  even if some records lack a field; ``K00nn/i/v`` names the record ``v`` explicitly. A value field
  with ``/0`` applies to the record of the same number of every characteristic that lacks it; a
  K2xxx/0 (K1xxx/0) field to every characteristic (part) that lacks it.
* K0004 is wall-clock time without zone (``dd.mm.yyyy/HH:MM:SS``, also two-digit years, without
  seconds, a blank or ``.`` before the time, or ISO ``yyyy-mm-dd``); it fills ``local_time``, which
  the store reads in the site's zone (or the ``zone`` given in ``defaults``).
* K0002 attribute 255 (value disabled) and 256 (value deleted / not measured) mark the value
  ``invalid``; the attribute is kept.
* Catalogues (K4xxx) are resolved: K0008 operator via K4090 (name K4093 first name + K4092 name),
  K0010 machine via K4060 (K4063 description, else K4062 number), K0012 gauge via K4070 (K4073
  description, else K4072 number), K0007 nest via K4250 (K4252), K0011 process parameter via K4240
  (K4242). An entry is found by its key field (K4090 ...), else by its index ``/n``.
* Numbers may use a decimal comma (``15,8``), as some writers do.
* Encodings: named, else UTF-8 (with or without BOM) when the bytes are valid UTF-8, else GB18030
  when every run of non-ASCII bytes pairs up as GB 2312 double bytes, else Windows-1252.

Mapping to the measurement table (:data:`jingce.model.batch.INPUT_SCHEMA`): ``part_number`` K1001,
``characteristic`` K2001 (else the characteristic number), ``characteristic_name`` K2002,
``nominal`` K2101, limits K2110/K2111 (else nominal + K2112/K2113 allowances), ``unit`` K2142,
``serial`` K0014 (part ident) or else K0006 (as the fixtures use it; ``serial=`` option),
``operator`` and ``machine`` resolved from their catalogues; every other value field
(K0002, K0005, K0006 when not the serial, K0007, K0009, K0011, K0012, K0013 ...) goes into
``attributes`` under its K number, with resolved catalogue texts as ``gauge``, ``nest`` and
``process_parameter``. ``enterprise``, ``site``, ``stage``, ``zone`` are not in AQDEF: give them
in ``defaults`` (as for CSV).

A DFD + DFX pair is read with ``read(dfx_bytes, "x.dfx", description=dfd_bytes)``, or as one zip
archive holding ``x.dfd`` and ``x.dfx`` (and/or any number of ``.dfq`` files), which is how the
registry's single-bytes interface (``jingce ingest pair.zip --format aqdef``) takes a pair.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingce.errors import FormatError
from jingce.formats.registry import Format, ReadResult, register
from jingce.model.batch import conform_input

VALUE_LINE_FIELDS = (1, 2, 4, 5, 6, 7, 8, 10, 11, 12)
"""K numbers of the fields of one characteristic in a value line, in order."""
ERROR_LOG_FIELDS = (20, 21, None, 2, 4, 5, 6, 7, 8, 10, 11, 12)
"""Value-line fields of an error-log characteristic (K2004 = 5 or 6), as aqdef-tools reads them."""
FIELD_SEP, CHAR_SEP = "\x14", "\x0f"
INVALID_ATTRIBUTES = ("255", "256")
_DATE_DMY = r"^\s*([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}|[0-9]{2})[/ .T]+([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?\s*$"
_DATE_ISO = r"^\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[/ T]+([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?\s*$"
_NUMBER = r"^\s*[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?\s*$"
# catalogue of a value field: (catalogue key field, text fields in order of preference, attribute name)
CATALOGUES = {
    8: (4090, (4093, 4092), None),
    10: (4060, (4063, 4062), None),
    12: (4070, (4073, 4072), "gauge"),
    7: (4250, (4252, 4253), "nest"),
    11: (4240, (4242, 4243, 4244), "process_parameter"),
}
_MAX_ZIP_BYTES = 4 << 30


# -- decoding --------------------------------------------------------------------------------

def _gb_pairs(data: bytes) -> bool:
    """Whether every run of bytes >= 0x80 has even length and only GB 2312 bytes (0xA1-0xFE)."""
    arr = np.frombuffer(data, np.uint8)
    high = arr >= 0x80
    if not high.any():
        return False
    if (arr[high] < 0xA1).any() or (arr[high] == 0xFF).any():
        return False
    edges = np.diff(np.concatenate(([0], high.astype(np.int8), [0])))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return bool((lengths % 2 == 0).all())


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode AQDEF bytes; return the text and the encoding used (see the module docstring)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise FormatError(f"cannot decode as {encoding}: {exc}", file=name) from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FormatError(f"UTF-8 byte order mark but not UTF-8: {exc}", file=name) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _gb_pairs(data):
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    text = data.decode("windows-1252", errors="replace")
    if "\ufffd" in text:  # 0x81 0x8D 0x8F 0x90 0x9D are unassigned in Windows-1252: GB18030 then
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as exc:
            raise FormatError(f"neither UTF-8, GB18030 nor Windows-1252: {exc}; name the encoding",
                              file=name) from None
    return text, "windows-1252"


# -- reading ---------------------------------------------------------------------------------

@dataclass
class _Source:
    """The text of one read: the description and value files joined, with the map back to them."""

    text: str
    files: list[tuple[str, int]] = field(default_factory=list)  # (file, number of lines) in order
    encodings: dict[str, str] = field(default_factory=dict)

    def locate(self, line: int) -> tuple[str, int]:
        for fname, count in self.files:
            if line <= count:
                return fname, line
            line -= count
        return self.files[-1][0], line + self.files[-1][1]


class _Errors:
    def __init__(self, source: _Source, skip_bad: bool) -> None:
        self.source = source
        self.skip_bad = skip_bad
        self.skipped: list[FormatError] = []

    def bad(self, line: int, field: str, message: str) -> None:
        fname, local = self.source.locate(int(line))
        err = FormatError(message, file=fname, line=local, field=field)
        if not self.skip_bad:
            raise err
        self.skipped.append(err)


def _kname(key: int, idx: int | None = None) -> str:
    return f"K{key:04d}" if idx is None else f"K{key:04d}/{idx}"


def _np(a) -> np.ndarray:
    return a.to_numpy(zero_copy_only=False)


def _to_float(text: str | None) -> float | None:
    if text is None or not re.match(_NUMBER, text):
        raise ValueError(text)
    v = float(text.strip().replace(",", "."))
    if not math.isfinite(v):
        raise ValueError(text)
    return v


def _numbers(col: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Strings -> float64 (null stays null); and the mask of fields that are not finite numbers."""
    col = pc.utf8_trim_whitespace(col) if len(col) else col
    if len(col) and pc.any(pc.match_substring(col, ",")).as_py():
        col = pc.replace_substring(col, ",", ".")
    empty = pc.equal(pc.utf8_length(col), 0)
    col = pc.if_else(empty, pa.scalar(None, col.type), col)
    try:
        out = pc.cast(col, pa.float64())
        finite = pc.fill_null(pc.is_finite(out), True)
        if pc.all(finite).as_py() and pc.all(pc.fill_null(pc.match_substring_regex(col, _NUMBER), True)).as_py():
            return out, np.zeros(len(col), bool)
    except pa.ArrowInvalid:
        pass
    ok = pc.fill_null(pc.match_substring_regex(col, _NUMBER), True)
    bad = ~_np(ok)
    out = pc.cast(pc.if_else(ok, col, pa.scalar(None, col.type)), pa.float64())
    inf = ~_np(pc.fill_null(pc.is_finite(out), True))
    bad |= inf
    out = pc.if_else(pa.array(inf), pa.scalar(None, pa.float64()), out)
    return out, bad


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def parse_times(col: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """K0004 strings -> naive microsecond timestamps; and the mask of fields that are not times."""
    n = len(col)
    if n == 0:
        return pa.array([], pa.timestamp("us")), np.zeros(0, bool)
    enc = pc.dictionary_encode(col)
    uniq = enc.dictionary
    parts = []
    for pattern, order in ((_DATE_DMY, (2, 1, 0)), (_DATE_ISO, (0, 1, 2))):
        named = pattern
        for i in range(6):
            named = named.replace("([0-9]", f"(?P<g{i}>[0-9]", 1)
        ex = pc.extract_regex(uniq, named)
        parts.append((ex, order))
    k = len(uniq)
    ymd = np.zeros((3, k), np.int64)
    hms = np.zeros((3, k), np.int64)
    ok = np.zeros(k, bool)
    for ex, order in parts:
        valid = _np(ex.is_valid()) & ~ok
        if not valid.any():
            continue
        g = [_np(pc.fill_null(ex.field(f"g{i}"), "")) for i in range(6)]
        for j, src in enumerate(order):
            ymd[j, valid] = [int(x) for x in g[src][valid]]
        for j in range(3):
            hms[j, valid] = [int(x) if x else 0 for x in g[3 + j][valid]]
        ok |= valid
    y, m, d = ymd
    y = np.where(y < 100, np.where(y < 69, 2000 + y, 1900 + y), y)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    mdays = np.where((m == 2) & leap, 29, _MONTH_DAYS[np.clip(m - 1, 0, 11)])
    ok &= (m >= 1) & (m <= 12) & (d >= 1) & (d <= mdays) & (y >= 1) & (y <= 9999)
    ok &= (hms[0] < 24) & (hms[1] < 60) & (hms[2] < 60)
    days = _days_from_civil(y, m, d)
    us = ((days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1_000_000)
    dict_ts = pa.array(us, pa.int64(), mask=~ok).cast(pa.timestamp("us"))
    indices = enc.indices
    out = pc.take(dict_ts, indices)
    bad = _np(pc.fill_null(pc.and_(pc.is_valid(indices), pc.is_null(out)), False))
    return out, bad


def _split_sources(data: bytes, name: str, description: bytes | None, description_name: str | None
                   ) -> list[list[tuple[str, bytes]]]:
    """The reads a call makes: each a list of (file name, bytes), description first."""
    if data[:4] == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > _MAX_ZIP_BYTES:
                raise FormatError("the archive unpacks to more than 4 GiB", file=name)
            members = {i.filename: i for i in infos}
            groups: list[list[tuple[str, bytes]]] = []
            for fname in sorted(members):
                low = fname.lower()
                if low.endswith(".dfq"):
                    groups.append([(f"{name}:{fname}", zf.read(members[fname]))])
                elif low.endswith(".dfx"):
                    stem = fname[:-4]
                    dfd = next((members[s] for s in (stem + ".dfd", stem + ".DFD", stem + ".Dfd") if s in members),
                               None)
                    if dfd is None:
                        raise FormatError(f"{fname} has no description file {stem}.dfd in the archive", file=name)
                    groups.append([(f"{name}:{dfd.filename}", zf.read(dfd)), (f"{name}:{fname}", zf.read(members[fname]))])
                elif low.endswith(".dfd") and not any(m.lower() == low[:-4] + ".dfx" for m in members):
                    groups.append([(f"{name}:{fname}", zf.read(members[fname]))])
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, RuntimeError) as exc:
            raise FormatError(f"bad zip archive: {exc}", file=name) from None
        if not groups:
            raise FormatError("the archive holds no .dfq, .dfd or .dfx file", file=name)
        return groups
    if description is not None:
        dname = description_name or (name[:-4] + ".dfd" if name.lower().endswith(".dfx") else f"{name}.dfd")
        return [[(dname, description), (name, data)]]
    return [[(name, data)]]


def read(data: bytes, name: str = "<aqdef>", *, description: bytes | None = None,
         description_name: str | None = None, encoding: str | None = None,
         defaults: Mapping[str, str] | None = None, skip_bad: bool = False, serial: str = "auto",
         gauge_as_instrument: bool = False, decimal: str | None = None) -> ReadResult:
    """Read Q-DAS AQDEF (DFQ; DFD + DFX; or a zip of them) into the measurement table.

    Parameters
    ----------
    data : bytes
        A .dfq file, a .dfx value file (with ``description``), or a zip archive of such files.
    name : str
        File name used in error messages.
    description : bytes, optional
        The .dfd description file belonging to the .dfx ``data``.
    description_name : str, optional
        Its name for error messages (default: ``name`` with ``.dfd``).
    encoding : str, optional
        Text encoding; default detected (UTF-8, GB18030 or Windows-1252).
    defaults : dict, optional
        Columns AQDEF does not hold: ``enterprise`` (required), ``site``, ``stage``, ``zone``,
        and a fallback ``part_number`` / ``unit``.
    skip_bad : bool
        Skip bad records (and bad lines) instead of refusing the file; each is reported.
    serial : {'auto', 'K0014', 'K0006', 'none'}
        Which value field is the part serial: ``auto`` takes K0014 (part ident) where given, else
        K0006 (batch number, which many gauges use for the serial).
    gauge_as_instrument : bool
        Put the gauge (K0012, resolved to its K4072 number) into ``instrument``, which the store
        resolves against registered instruments.
    decimal : str, optional
        Accepted for symmetry with CSV; both decimal point and comma are read.

    Raises
    ------
    FormatError
        Naming the file, line and K field of the first bad line or record.
    """
    if serial not in ("auto", "K0014", "K0006", "none"):
        raise FormatError(f"serial must be auto, K0014, K0006 or none, got {serial!r}", field="serial")
    try:
        tables, skipped, meta = [], [], []
        for group in _split_sources(data, name, description, description_name):
            t, s, m = _read_group(group, encoding, dict(defaults or {}), skip_bad, serial, gauge_as_instrument)
            tables.append(t)
            skipped.extend(s)
            meta.append(m)
    except (pa.ArrowException, ValueError, OverflowError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"malformed AQDEF file: {exc}", file=name) from None
    if len(tables) == 1:
        table, metadata = tables[0], meta[0]
    else:
        offset, fixed = 0, []
        for t in tables:
            t = t.set_column(t.column_names.index("position"), "position",
                             pc.add(t.column("position"), pa.scalar(offset, pa.int64())))
            offset += t.num_rows
            fixed.append(t.cast(fixed[0].schema) if fixed else t)
        table = pa.concat_tables([t.cast(pa.schema([(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
                                                    for f in t.schema])) for t in fixed])
        metadata = {"files": meta}
    skipped.sort(key=lambda e: (e.details.get("file", ""), e.details.get("line", 0)))
    return ReadResult(table, tuple(skipped), metadata)


@dataclass
class _Char:
    block: int
    index: int
    part: int
    line: int
    fields: dict[int, tuple[str, int]] = field(default_factory=dict)  # key -> (text, line)


def _scan(buf: bytes) -> dict[str, np.ndarray]:
    """Find the lines of UTF-8 ``buf`` and take K-lines apart, with numpy on the bytes.

    Returns per line: ``start``/``end`` byte offsets (end without the line break and trailing
    blanks), ``is_k``, ``ok`` (a well-formed K-line), ``key``, ``idx`` (1 when absent), ``vidx``
    (0 when absent) and ``vstart``, where the field's text begins.
    """
    n_real = len(buf)
    raw = np.frombuffer(buf + b"\n" + b"\x00" * 16, np.uint8)
    nl = np.flatnonzero(raw[: n_real + 1] == 10)
    start = np.concatenate(([0], nl[:-1] + 1)).astype(np.int64)
    end = nl.astype(np.int64)
    if n_real and buf.endswith(b"\n"):
        start, end = start[:-1], end[:-1]
    active = np.flatnonzero(end > start)
    while active.size:  # trailing CR, blanks, tabs and DOS end-of-file marks
        c = raw[end[active] - 1]
        m = (c == 13) | (c == 32) | (c == 9) | (c == 26)
        active = active[m]
        end[active] -= 1
        active = active[end[active] > start[active]]
    length = end - start
    n = len(start)
    is_k = (raw[start] == 75) & (length >= 1)
    k_rows = np.flatnonzero(is_k)
    s = start[k_rows]
    e = end[k_rows]
    digits = raw[s[:, None] + np.arange(1, 5)]
    ok = ((digits >= 48) & (digits <= 57)).all(axis=1) & (e - s >= 5)
    d32 = digits.astype(np.int32)
    key = (d32[:, 0] * 1000 + d32[:, 1] * 100 + d32[:, 2] * 10 + d32[:, 3] - 48 * 1111).astype(np.int64)
    pos = s + 5

    def number(pos: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        acc = np.zeros(len(pos), np.int64)
        count = np.zeros(len(pos), np.int64)
        pos = pos.copy()
        live = live.copy()
        for _ in range(10):
            c = raw[pos]
            d = live & (c >= 48) & (c <= 57) & (pos < e)
            if not d.any():
                break
            acc = np.where(d, acc * 10 + (c.astype(np.int64) - 48), acc)
            count += d
            pos += d
            live &= d
        return acc, count, pos

    slash = ok & (pos < e) & (raw[pos] == 47)
    idx, cnt, after = number(pos + 1, slash)
    ok &= ~slash | (cnt > 0)
    pos = np.where(slash, after, pos)
    idx = np.where(slash, idx, 1)
    slash2 = ok & slash & (pos < e) & (raw[pos] == 47)
    vidx, cnt2, after2 = number(pos + 1, slash2)
    ok &= ~slash2 | (cnt2 > 0)
    pos = np.where(slash2, after2, pos)
    vidx = np.where(slash2, vidx, 0)
    c = raw[pos]
    ok &= (pos >= e) | (c == 32) | (c == 9)
    live = np.flatnonzero(ok & (pos < e))
    while live.size:
        c = raw[pos[live]]
        m = ((c == 32) | (c == 9)) & (pos[live] < e[live])
        live = live[m]
        pos[live] += 1
    pos = np.minimum(pos, e)
    out = {"start": start, "end": end, "is_k": is_k, "n": n}
    full = {name: np.zeros(n, np.int64) for name in ("key", "idx", "vidx", "vstart")}
    full["key"][k_rows], full["idx"][k_rows], full["vidx"][k_rows], full["vstart"][k_rows] = key, idx, vidx, pos
    ok_full = np.zeros(n, bool)
    ok_full[k_rows] = ok
    out.update(full)
    out["ok"] = ok_full
    return out


def _gather(buf: bytes, start: np.ndarray, end: np.ndarray) -> pa.Array:
    """The byte ranges ``[start, end)`` of ``buf`` as one string array (one copy of their bytes)."""
    lens = np.maximum(end - start, 0)
    offsets = np.zeros(len(start) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    total = int(offsets[-1])
    raw = np.frombuffer(buf, np.uint8)
    if total:
        idx = np.repeat(start - offsets[:-1], lens) + np.arange(total, dtype=np.int64)
        data = raw[idx].tobytes()
    else:
        data = b""
    return pa.LargeStringArray.from_buffers(len(start), pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


def _utf8(raw: bytes, fname: str, encoding: str | None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes with LF line ends, and the encoding it was read in."""
    enc = None
    if not encoding or encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        try:
            body.decode("utf-8")
            enc = "utf-8-sig" if body is not raw else "utf-8"
        except UnicodeDecodeError:
            if encoding:
                raise FormatError("not valid UTF-8", file=fname) from None
    if enc is None:
        text, enc = decode(raw, fname, encoding)
        body = text.encode("utf-8")
    if b"\x00" in body:
        raise FormatError("NUL characters: not a text file", file=fname)
    if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if body and not body.endswith(b"\n"):
        body += b"\n"
    return body, enc


def _read_group(group, encoding, defaults, skip_bad, serial, gauge_as_instrument):
    src = _Source("")
    bodies = []
    for fname, raw in group:
        body, enc = _utf8(raw, fname, encoding)
        src.files.append((fname, body.count(b"\n")))
        src.encodings[fname] = enc
        bodies.append(body)
    main_name = group[-1][0]
    err = _Errors(src, skip_bad)
    buf = b"".join(bodies)
    if not buf.strip():
        raise FormatError("the file is empty", file=main_name, line=1)
    sc = _scan(buf)
    n = sc["n"]
    line_no = np.arange(1, n + 1, dtype=np.int64)
    is_k = sc["is_k"]
    blank = sc["end"] <= sc["start"]
    is_vline = ~is_k & ~blank
    bad_k = is_k & ~sc["ok"]
    if bad_k.any():
        rows = np.flatnonzero(bad_k)
        for i in rows[: 10_000 if skip_bad else 1]:
            head = buf[sc["start"][i]:sc["end"][i]].decode("utf-8", "replace").split(" ", 1)[0][:16]
            err.bad(line_no[i], head, "expected a K-line 'Knnnn[/i] value'")
        if skip_bad and len(rows) > 10_000:
            raise FormatError(f"{len(rows)} bad K-lines: not an AQDEF file", file=main_name)
    good = is_k & sc["ok"]
    kr = np.flatnonzero(good)
    kno = line_no[kr]
    key, idx, vidx = sc["key"][kr], sc["idx"][kr], sc["vidx"][kr]
    vstart, vend = sc["vstart"][kr], sc["end"][kr]

    # blocks: a K0100 after values starts a new one ---------------------------------------
    key_at_line = np.full(n, -1, np.int64)
    key_at_line[kno - 1] = key
    is_value_line = is_vline | ((key_at_line >= 1) & (key_at_line < 100))
    cum = np.concatenate(([0], np.cumsum(is_value_line)))
    block_starts = [0]
    for p in np.flatnonzero(key_at_line == 100):
        if cum[p] - cum[block_starts[-1]] > 0:
            block_starts.append(int(p))
    block_of_line = np.searchsorted(np.array(block_starts), np.arange(n), side="right") - 1

    # description: parts, characteristics, catalogues (few lines: a Python pass) -------------
    struct = np.flatnonzero(key >= 100)
    parts: dict[tuple[int, int], dict[int, str]] = {}
    part_all: dict[int, dict[int, str]] = {}
    chars: dict[tuple[int, int], _Char] = {}
    char_all: dict[int, dict[int, tuple[str, int]]] = {}
    catalogue: dict[tuple[int, int], dict[int, dict[int, str]]] = {}
    header: dict[str, str] = {}
    current_part: dict[int, int] = {}
    s_key, s_idx, s_line = key[struct].tolist(), idx[struct].tolist(), kno[struct].tolist()
    s_val = [buf[a:b].decode("utf-8") for a, b in zip(vstart[struct].tolist(), vend[struct].tolist(), strict=True)]
    s_vidx = vidx[struct].tolist()
    for k, i, ln, v, vi in zip(s_key, s_idx, s_line, s_val, s_vidx, strict=True):
        b = int(block_of_line[ln - 1])
        if vi:
            err.bad(ln, _kname(k, i), "only value fields (K0001-K0099) take a value number")
            continue
        if k < 1000:
            header.setdefault(_kname(k), v)
        elif k < 2000:
            if i == 0:
                part_all.setdefault(b, {})[k] = v
            else:
                parts.setdefault((b, i), {})[k] = v
                current_part[b] = i
        elif k < 4000 or 8000 <= k < 9000:
            if i == 0:
                char_all.setdefault(b, {})[k] = (v, ln)
            else:
                ch = chars.get((b, i))
                if ch is None:
                    ch = chars[(b, i)] = _Char(b, i, current_part.get(b, 1), ln)
                ch.fields[k] = (v, ln)
        elif k < 5000:
            catalogue.setdefault((b, k // 10), {}).setdefault(i, {})[k] = v

    # value records --------------------------------------------------------------------------
    vsel = np.flatnonzero((key >= 1) & (key < 100))
    recs = _kfield_records(buf, key[vsel], idx[vsel], vidx[vsel], vstart[vsel], vend[vsel], kno[vsel],
                           block_of_line[kno[vsel] - 1], err)
    vl_recs = _valueline_records(_gather(buf, sc["start"][is_vline], sc["end"][is_vline]), line_no[is_vline],
                                 block_of_line[is_vline], chars, err)
    if recs is None and vl_recs is None:
        if not chars:
            raise FormatError("no characteristics and no measured values: not an AQDEF file", file=main_name)
        raise FormatError("the file describes characteristics but holds no measured values", file=main_name)
    # characteristics referenced by values only (no K2xxx line): numbered as in the file
    all_recs = [r for r in (recs, vl_recs) if r is not None]
    for r in all_recs:
        for b, c in set(zip(r["block"].tolist(), r["char"].tolist(), strict=True)):
            if (b, c) not in chars:
                chars[(b, c)] = _Char(b, c, current_part.get(b, 1), 0)
    char_list = sorted(chars.values(), key=lambda ch: (ch.block, ch.index))
    char_pos = {(ch.block, ch.index): j for j, ch in enumerate(char_list)}
    for r in all_recs:
        r["cid"] = np.array([char_pos[(b, c)] for b, c in zip(r["block"].tolist(), r["char"].tolist(), strict=True)],
                            np.int64) if len(r["block"]) < 1000 else _lookup(r["block"], r["char"], char_pos)
    table, char_meta = _assemble(all_recs, char_list, parts, part_all, char_all, catalogue, defaults, serial,
                                 gauge_as_instrument, err, main_name)
    metadata = {"encoding": src.encodings, "header": header, "characteristics": char_meta,
                "parts": [{"block": b, "index": i, **{_kname(k): v for k, v in f.items()}}
                          for (b, i), f in sorted(parts.items())]}
    return table, err.skipped, metadata


def _lookup(block: np.ndarray, char: np.ndarray, char_pos: dict) -> np.ndarray:
    code = block.astype(np.int64) * (1 << 32) + char.astype(np.int64)
    uniq, inv = np.unique(code, return_inverse=True)
    mapped = np.array([char_pos[(int(u >> 32), int(u & 0xFFFFFFFF))] for u in uniq], np.int64)
    return mapped[inv]


def _gather_valid(buf: bytes, start: np.ndarray, end: np.ndarray, valid: np.ndarray) -> pa.Array:
    arr = _gather(buf, np.where(valid, start, 0), np.where(valid, end, 0))
    if valid.all():
        return arr
    bitmap = np.packbits(valid, bitorder="little").tobytes()
    return pa.LargeStringArray.from_buffers(len(arr), arr.buffers()[1], arr.buffers()[2], pa.py_buffer(bitmap))


def _kfield_records(buf, key, idx, vidx, vstart, vend, line, block, err) -> dict | None:
    """Group K-field value lines into records; return per-record string columns."""
    n = len(key)
    if n == 0:
        return None
    if block.max() == 0 and idx.max() < 32000:
        gid = idx.astype(np.int16)
    else:
        _, inv = np.unique(block.astype(np.int64) * (1 << 32) + idx, return_inverse=True)
        gid = inv.astype(np.int16) if inv.max() < 32000 else inv.astype(np.int64)
    order = np.argsort(gid, kind="stable")
    g, k = gid[order], key[order]
    gstart = np.concatenate(([True], g[1:] != g[:-1]))
    fast = not vidx.any()
    if fast:
        is1 = k == 1
        new = gstart | is1
        cs = np.cumsum(is1)
        sp = np.flatnonzero(gstart)
        base = np.repeat(cs[sp] - is1[sp], np.diff(np.append(sp, n)))
        rec = cs - base
        if (rec < 1).any():
            fast = False
        else:
            runs = np.flatnonzero(new)
            lo = np.where(k < 64, np.left_shift(np.uint64(1), np.minimum(k, 63).astype(np.uint64)), np.uint64(0))
            hi = np.where(k >= 64, np.left_shift(np.uint64(1), np.clip(k - 64, 0, 63).astype(np.uint64)),
                          np.uint64(0))
            distinct = (np.bitwise_count(np.bitwise_or.reduceat(lo, runs))
                        + np.bitwise_count(np.bitwise_or.reduceat(hi, runs))).astype(np.int64)
            if (distinct != np.diff(np.append(runs, n))).any():
                fast = False
    if not fast:  # the general rule: a record ends where one of its fields repeats
        rec = np.empty(n, np.int64)
        seen: dict[int, tuple[int, set]] = {}
        vo = vidx[order]
        for j, (gg, kk, vv) in enumerate(zip(g.tolist(), k.tolist(), vo.tolist(), strict=True)):
            if vv:
                rec[j] = vv
                continue
            num, keys = seen.get(gg, (0, None))
            if keys is None or kk in keys:
                num, keys = num + 1, set()
                seen[gg] = (num, keys)
            keys.add(kk)
            rec[j] = num
        rk = np.lexsort((rec, g))
        order, g, rec, k = order[rk], g[rk], rec[rk], k[rk]
        new = np.concatenate(([True], (g[1:] != g[:-1]) | (rec[1:] != rec[:-1])))
    rid = np.cumsum(new) - 1
    nrec = int(rid[-1]) + 1
    first = np.flatnonzero(new)
    out = {"block": block[order][first], "char": idx[order][first], "rec": rec[first], "kind": "kfield"}
    cols, col_lines = {}, {}
    for kk in np.unique(k).tolist():
        rows = np.flatnonzero(k == kk)
        src = order[rows]
        s = np.zeros(nrec, np.int64)
        e = np.zeros(nrec, np.int64)
        valid = np.zeros(nrec, bool)
        s[rid[rows]], e[rid[rows]], valid[rid[rows]] = vstart[src], vend[src], True
        cols[kk] = _gather_valid(buf, s, e, valid)
        ln = np.zeros(nrec, np.int64)
        ln[rid[rows]] = line[src]
        col_lines[kk] = ln
    out["fields"], out["lines"] = cols, col_lines
    out["line"] = col_lines.get(1, np.zeros(nrec, np.int64)).copy()
    missing = out["line"] == 0
    if missing.any():  # records without K0001: their first line, for ordering only
        out["line"][missing] = line[order][first][missing]
    out["sub"] = np.zeros(nrec, np.int64)
    return out


def _valueline_records(vlines: pa.Array, line: np.ndarray, block: np.ndarray, chars: dict, err) -> dict | None:
    if len(vlines) == 0:
        return None
    portions = pc.split_pattern(vlines, CHAR_SEP)
    flat = portions.flatten()
    offsets = _np(portions.offsets)
    parent = np.repeat(np.arange(len(vlines)), np.diff(offsets))
    char = np.arange(len(flat)) - offsets[parent] + 1
    p_line, p_block = line[parent], block[parent]
    nonempty = _np(pc.greater(pc.utf8_length(flat), 0))
    flat = flat.filter(pa.array(nonempty))
    char, p_line, p_block = char[nonempty], p_line[nonempty], p_block[nonempty]
    if len(flat) == 0:
        return None
    error_log = np.array([(chars.get((b, c)) is not None and chars[(b, c)].fields.get(2004, ("",))[0].strip()
                           in ("5", "6")) for b, c in zip(p_block.tolist(), char.tolist(), strict=True)], bool) \
        if len(flat) < 200_000 or any(ch.fields.get(2004, ("",))[0].strip() in ("5", "6") for ch in chars.values()) \
        else np.zeros(len(flat), bool)
    described = {(b, c) for (b, c) in chars}
    if described:
        known = _lookup_known(p_block, char, described)
        for i in np.flatnonzero(~known)[:1 if not err.skip_bad else None]:
            err.bad(p_line[i], _kname(1, int(char[i])),
                    f"the value line has a value for characteristic {int(char[i])}, which the description lacks")
    else:
        known = np.zeros(len(flat), bool)
        fname = err.source.files[-1][0]
        raise FormatError("value lines without a description (K2xxx lines); a .dfx needs its .dfd "
                          "(read(dfx, name, description=dfd_bytes), or a zip holding both)", file=fname,
                          line=int(err.source.locate(int(p_line[0]))[1]))
    fields = pc.split_pattern(flat, FIELD_SEP)
    f_off = _np(fields.offsets)
    f_flat = fields.flatten()
    f_parent = np.repeat(np.arange(len(flat)), np.diff(f_off))
    f_pos = np.arange(len(f_flat)) - f_off[f_parent]
    counts = np.diff(f_off)
    limit = np.where(error_log, len(ERROR_LOG_FIELDS), len(VALUE_LINE_FIELDS))
    too_many = (counts > limit) & known
    for i in np.flatnonzero(too_many)[:1 if not err.skip_bad else None]:
        err.bad(p_line[i], _kname(1, int(char[i])),
                f"characteristic {int(char[i])} has {int(counts[i])} fields in the value line, at most {int(limit[i])}")
    keep = known & ~too_many
    out_cols: dict[int, pa.Array] = {}
    nrec = len(flat)
    layout_pos: dict[int, list[tuple[int, bool]]] = {}
    for j, kk in enumerate(VALUE_LINE_FIELDS):
        layout_pos.setdefault(kk, []).append((j, False))
    for j, kk in enumerate(ERROR_LOG_FIELDS):
        if kk is not None:
            layout_pos.setdefault(kk, []).append((j, True))
    for kk, places in layout_pos.items():
        pos = np.full(nrec, -1, np.int64)
        for j, for_log in places:
            m = (f_pos == j) & (error_log[f_parent] == for_log)
            pos[f_parent[m]] = np.flatnonzero(m)
        col = f_flat.take(pa.array(pos, mask=pos < 0))
        if pc.any(pc.is_valid(col)).as_py():
            out_cols[kk] = col
    if not keep.all():
        sel = pa.array(keep)
        out_cols = {kk: c.filter(sel) for kk, c in out_cols.items()}
        char, p_line, p_block = char[keep], p_line[keep], p_block[keep]
        error_log = error_log[keep]
    if error_log.any() and 21 in out_cols:  # an error log's value is its number of errors
        out_cols[1] = pc.if_else(pa.array(error_log), out_cols[21], out_cols.get(1, pa.nulls(len(char), pa.string())))
    lines_map = {kk: p_line for kk in out_cols}
    return {"block": p_block, "char": char, "rec": np.zeros(len(char), np.int64), "kind": "valueline",
            "fields": out_cols, "lines": lines_map, "line": p_line, "sub": char}


def _lookup_known(block, char, described) -> np.ndarray:
    code = block.astype(np.int64) * (1 << 32) + char.astype(np.int64)
    uniq, inv = np.unique(code, return_inverse=True)
    return np.array([(int(u >> 32), int(u & 0xFFFFFFFF)) in described for u in uniq], bool)[inv]


def _resolver(catalogue: dict, block: int, value_key: int) -> tuple[dict[str, str], dict[str, str]]:
    """Code -> text for one value field's catalogue in a block (and code -> secondary number)."""
    spec = CATALOGUES.get(value_key)
    if spec is None:
        return {}, {}
    key_field, texts, _ = spec
    entries = catalogue.get((block, key_field // 10), {})
    out, number = {}, {}
    for i, fields in sorted(entries.items()):
        text = None
        if value_key == 8 and (4093 in fields or 4092 in fields):
            text = " ".join(x for x in (fields.get(4093, "").strip(), fields.get(4092, "").strip()) if x)
        else:
            text = next((fields[t].strip() for t in texts if fields.get(t, "").strip()), None)
        if not text:
            continue
        code = fields.get(key_field, "").strip() or str(i)
        out.setdefault(code, text)
        out.setdefault(str(i), text)
        num = fields.get(texts[-1] if value_key != 8 else 4090, "").strip()
        if num:
            number.setdefault(code, num)
            number.setdefault(str(i), num)
    return out, number


def _strip(col: pa.Array) -> pa.Array:
    col = pc.utf8_trim_whitespace(col)
    return pc.if_else(pc.equal(pc.utf8_length(col), 0), pa.scalar(None, col.type), col)


def _json_attrs(pieces: list[tuple[str, pa.Array]], n: int) -> pa.Array:
    """Per-row JSON objects from (key, string column) pairs; null where a row has none.

    Built without nulls inside the joins: Arrow's ``binary_join_element_wise`` with
    ``null_handling='skip'`` returns a wrong length on some null patterns."""
    parts = []
    for k, col in pieces:
        col = col.cast(pa.string())
        if col.null_count == len(col):
            continue
        ctl = pc.match_substring_regex(col, r"[\x00-\x1f\x7f\"\\]")
        if pc.any(ctl).as_py():
            enc = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in col.to_pylist()],
                           pa.string())
        else:
            enc = pc.binary_join_element_wise('"', pc.fill_null(col, ""), '"', "")
        piece = pc.binary_join_element_wise(f',"{k}":', enc, "")
        parts.append(pc.if_else(pc.is_valid(col), piece, ""))
    if not parts:
        return pa.nulls(n, pa.string())
    body = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")
    has = pc.greater(pc.utf8_length(body), 0)
    obj = pc.binary_join_element_wise("{", pc.utf8_slice_codeunits(body, 1), "}", "")
    return pc.if_else(has, obj, pa.scalar(None, pa.string()))


def _assemble(all_recs, char_list, parts, part_all, char_all, catalogue, defaults, serial, gauge_as_instrument,
              err, main_name):
    # per-characteristic description, with /0 fields filling the gaps -----------------------
    nchar = len(char_list)
    c_pn, c_key, c_name, c_unit = [], [], [], []
    c_nom, c_lo, c_hi = (np.full(nchar, np.nan) for _ in range(3))
    c_kind: list[str] = []
    char_meta = []
    for j, ch in enumerate(char_list):
        f = dict(char_all.get(ch.block, {}))
        f.update(ch.fields)
        pf = dict(part_all.get(ch.block, {}))
        pf.update(parts.get((ch.block, ch.part), {}))
        pn = (pf.get(1001) or "").strip() or defaults.get("part_number")
        c_pn.append(pn)
        c_key.append((f.get(2001, ("",))[0] or "").strip() or str(ch.index))
        c_name.append((f.get(2002, ("",))[0] or "").strip() or None)
        c_unit.append((f.get(2142, ("",))[0] or "").strip() or defaults.get("unit"))
        c_kind.append((f.get(2004, ("",))[0] or "").strip())
        nums = {}
        for k in (2101, 2110, 2111, 2112, 2113):
            if k in f and f[k][0].strip():
                try:
                    nums[k] = _to_float(f[k][0])
                except ValueError:
                    err.bad(f[k][1], _kname(k, ch.index), f"expected a number, got {f[k][0]!r}")
        nom = nums.get(2101)
        c_nom[j] = np.nan if nom is None else nom
        lo = nums.get(2110, None if nom is None or 2112 not in nums else nom + nums[2112])
        hi = nums.get(2111, None if nom is None or 2113 not in nums else nom + nums[2113])
        c_lo[j] = np.nan if lo is None else lo
        c_hi[j] = np.nan if hi is None else hi
        char_meta.append({"block": ch.block, "index": ch.index, "part": ch.part,
                          **{_kname(k): v[0] for k, v in sorted(f.items())}})

    # concatenate records --------------------------------------------------------------------
    keys_all = sorted({k for r in all_recs for k in r["fields"]})
    n_each = [len(r["cid"]) for r in all_recs]
    n = sum(n_each)
    cid = np.concatenate([r["cid"] for r in all_recs])
    block = np.concatenate([np.asarray(r["block"], np.int64) for r in all_recs])
    rec = np.concatenate([r["rec"] for r in all_recs])
    line = np.concatenate([r["line"] for r in all_recs])
    sub = np.concatenate([r["sub"] for r in all_recs])
    is_k = np.concatenate([np.full(len(r["cid"]), r["kind"] == "kfield") for r in all_recs])
    cols: dict[int, pa.Array] = {}
    lines: dict[int, np.ndarray] = {}
    for kk in keys_all:
        cols[kk] = pa.concat_arrays([r["fields"].get(kk, pa.nulls(m, pa.large_string())).cast(pa.large_string())
                                     for r, m in zip(all_recs, n_each, strict=True)])
        lines[kk] = np.concatenate([r["lines"].get(kk, np.zeros(m, np.int64)) for r, m in zip(all_recs, n_each,
                                                                                               strict=True)])
    # /0 value fields: char 0 records fill the same-numbered record of every characteristic
    zero = np.array([ch.index for ch in char_list], np.int64)[cid] == 0
    if zero.any():
        zcode = block[zero] * (1 << 32) + rec[zero]
        others = ~zero & is_k
        ocode = block[others] * (1 << 32) + rec[others]
        order = np.argsort(zcode)
        zs = zcode[order]
        hit = np.searchsorted(zs, ocode)
        hit_c = np.clip(hit, 0, max(len(zs) - 1, 0))
        found = (hit < len(zs)) & (zs[hit_c] == ocode) if len(zs) else np.zeros(len(ocode), bool)
        src_rows = np.flatnonzero(zero)[order][hit_c]
        dst_rows = np.flatnonzero(others)
        for kk in keys_all:
            col = cols[kk]
            have = _np(pc.is_valid(col))
            take = np.arange(n)
            fill = found & ~have[dst_rows] & have[src_rows]
            take[dst_rows[fill]] = src_rows[fill]
            cols[kk] = col.take(pa.array(take))
            lines[kk] = np.where(np.isin(np.arange(n), dst_rows[fill]), lines[kk][take], lines[kk])
        keep = ~zero
        cols = {kk: c.filter(pa.array(keep)) for kk, c in cols.items()}
        lines = {kk: v[keep] for kk, v in lines.items()}
        cid, block, rec, line, sub = cid[keep], block[keep], rec[keep], line[keep], sub[keep]
        n = int(keep.sum())

    # records without a value are not measurements ------------------------------------------
    value_s = cols.get(1)
    if value_s is None:
        raise FormatError("no measured values (K0001)", file=main_name)
    has_value = _np(pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(value_s)), 0), False))
    if not has_value.all():
        sel = pa.array(has_value)
        cols = {kk: c.filter(sel) for kk, c in cols.items()}
        lines = {kk: v[has_value] for kk, v in lines.items()}
        cid, line, sub = cid[has_value], line[has_value], sub[has_value]
        block = block[has_value]
        n = int(has_value.sum())
    if n == 0:
        raise FormatError("no measured values (K0001)", file=main_name)
    perm = np.lexsort((sub, line))
    if not (perm == np.arange(n)).all():
        cols = {kk: c.take(pa.array(perm)) for kk, c in cols.items()}
        lines = {kk: v[perm] for kk, v in lines.items()}
        cid, line, block = cid[perm], line[perm], block[perm]

    bad = np.zeros(n, bool)

    def report(mask: np.ndarray, kk: int, message: str) -> None:
        nonlocal bad
        rows = np.flatnonzero(mask & ~bad)
        for i in rows[: None if err.skip_bad else 1]:
            text = cols[kk][int(i)].as_py()
            err.bad(lines[kk][i] or line[i], _kname(kk, char_list[cid[i]].index), f"{message}, got {text!r}")
        bad |= mask

    value, vbad = _numbers(cols[1])
    report(vbad, 1, "expected a finite number")
    local_time = pa.nulls(n, pa.timestamp("us"))
    if 4 in cols:
        local_time, tbad = parse_times(_strip(cols[4]))
        report(tbad, 4, "expected a time dd.mm.yyyy/HH:MM:SS")
    status = pa.nulls(n, pa.string())
    if 2 in cols:
        attr = _strip(cols[2])
        abad = ~_np(pc.fill_null(pc.match_substring_regex(attr, r"^[0-9]{1,5}$"), True))
        report(abad, 2, "expected an attribute number")
        invalid = pc.fill_null(pc.is_in(attr, pa.array(INVALID_ATTRIBUTES, attr.type)), False)
        status = pc.if_else(invalid, pa.scalar("invalid"), pa.scalar(None, pa.string()))

    # columns ---------------------------------------------------------------------------------
    def per_char(values: list, typ=pa.string()) -> pa.Array:
        uniq = sorted({v for v in values if v is not None})
        if typ != pa.string():
            return pa.array(values, typ).take(pa.array(cid))
        pos = {v: i for i, v in enumerate(uniq)}
        codes = np.array([pos.get(v, -1) if v is not None else -1 for v in values] + [-1], np.int32)[cid]
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(uniq, pa.string()))

    pn = per_char(c_pn)
    if pn.null_count:
        i = int(np.flatnonzero(_np(pc.is_null(pn)))[0])
        fname, ln = err.source.locate(int(line[i]))
        raise FormatError("no part number: the file has no K1001 for this characteristic's part; give "
                          "defaults={'part_number': ...}", file=fname, line=ln, field="K1001")
    out = {
        "part_number": pn, "characteristic": per_char(c_key), "characteristic_name": per_char(c_name),
        "unit": per_char(c_unit), "value": value, "local_time": local_time, "status": status,
        "nominal": pa.array(c_nom).take(pa.array(cid)), "lower_limit": pa.array(c_lo).take(pa.array(cid)),
        "upper_limit": pa.array(c_hi).take(pa.array(cid)),
    }
    for c in ("nominal", "lower_limit", "upper_limit"):
        out[c] = pc.if_else(pc.is_nan(out[c]), pa.scalar(None, pa.float64()), out[c])
    for c in ("enterprise", "site", "stage", "zone"):
        if defaults.get(c):
            out[c] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([defaults[c]]))
    blocks = np.unique(block)

    def resolve(kk: int, text_of: int = 0) -> tuple[pa.Array | None, pa.Array | None]:
        """(resolved text, raw code) of a catalogue-backed value field, per row."""
        if kk not in cols:
            return None, None
        raw = _strip(cols[kk])
        enc = pc.dictionary_encode(raw)
        dic = enc.dictionary.to_pylist()
        if len(blocks) == 1:
            names, numbers = _resolver(catalogue, int(blocks[0]), kk)
            chosen = numbers if text_of else names
            mapped = pa.array([chosen.get(v, v) for v in dic], pa.string())
            return pc.take(mapped, enc.indices), raw
        res = [(_resolver(catalogue, int(b), kk)) for b in blocks]
        bpos = np.searchsorted(blocks, block)
        vals = raw.to_pylist()
        texts = [None if v is None else (res[p][1 if text_of else 0].get(v, v)) for v, p in zip(vals, bpos.tolist(),
                                                                                                   strict=True)]
        return pa.array(texts, pa.string()), raw

    out["operator"] = resolve(8)[0]
    out["machine"] = resolve(10)[0]
    if gauge_as_instrument and 12 in cols:
        out["instrument"] = resolve(12, text_of=1)[0]
    if serial in ("auto", "K0014") and 14 in cols:
        s14 = _strip(cols[14])
        if serial == "auto" and 6 in cols:
            s6 = _strip(cols[6])
            use14 = pc.is_valid(s14)
            out["serial"] = pc.if_else(use14, s14, _strip_hash(s6))
            serial_from_6 = pc.invert(use14)
        else:
            out["serial"], serial_from_6 = s14, None
    elif serial in ("auto", "K0006") and 6 in cols:
        out["serial"], serial_from_6 = _strip_hash(_strip(cols[6])), True
    else:
        serial_from_6 = None

    pieces = []
    for kk in keys_all:
        if kk in (1, 4, 8, 10) or (kk == 14 and serial in ("auto", "K0014")):
            continue
        col = _strip(cols[kk])
        if kk == 6 and serial_from_6 is not None:
            if serial_from_6 is True:
                continue
            col = pc.if_else(serial_from_6, pa.scalar(None, col.type), col)
        if kk == 12 and gauge_as_instrument:
            pass
        pieces.append((_kname(kk), col))
        spec = CATALOGUES.get(kk)
        if spec and spec[2]:
            text = resolve(kk)[0]
            differs = pc.fill_null(pc.not_equal(text, col.cast(pa.string())), False)
            pieces.append((spec[2], pc.if_else(differs, text, pa.scalar(None, pa.string()))))
    out["attributes"] = _json_attrs(pieces, n)
    fname_lines = line
    if len(err.source.files) > 1:  # values are in the last file (the .dfx): lines counted there
        before = sum(count for _f, count in err.source.files[:-1])
        fname_lines = np.where(line > before, line - before, line)
    out["line"] = pa.array(fname_lines, pa.int64())
    out["position"] = pa.array(np.arange(n), pa.int64())
    table = conform_input(pa.table({k: v for k, v in out.items() if v is not None}))
    if bad.any():
        table = table.filter(pa.array(~bad))
        table = table.set_column(table.column_names.index("position"), "position",
                                 pa.array(np.arange(table.num_rows), pa.int64()))
    if table.num_rows == 0:
        raise FormatError("every record was bad; nothing to read", file=main_name)
    return table, char_meta


def _strip_hash(col: pa.Array) -> pa.Array:
    """K0006 text may start with '#' (a batch written as text); the mark is not part of it."""
    return pc.if_else(pc.fill_null(pc.starts_with(col, "#"), False), pc.utf8_slice_codeunits(col, 1), col)


# -- writing ---------------------------------------------------------------------------------

def _fmt_number(v: float) -> str:
    s = repr(float(v))
    if "e" in s or "E" in s:
        s = np.format_float_positional(float(v), trim="-")
    return s[:-2] if s.endswith(".0") else s


def _local_times(table: pa.Table, zone: str | None) -> list:
    n = table.num_rows
    names = table.column_names
    local = table.column("local_time") if "local_time" in names else pa.nulls(n, pa.timestamp("us"))
    out = local.to_pylist() if n else []
    if "measured_at" in names and table.column("measured_at").null_count < n:
        utc = table.column("measured_at")
        zones = table.column("zone").to_pylist() if "zone" in names else [None] * n
        for z in {z or zone or "UTC" for z in zones}:
            conv = pc.local_timestamp(utc.cast(pa.timestamp("us", tz=z))).to_pylist()
            for i in range(n):
                if out[i] is None and (zones[i] or zone or "UTC") == z:
                    out[i] = conv[i]
    return out


def write(table: pa.Table, *, form: str = "kfield", encoding: str = "windows-1252", zone: str | None = None,
          characteristics: list[Mapping[str, str]] | None = None) -> bytes:
    """Write measurements (the input table, or lake rows) as an AQDEF DFQ.

    Parameters
    ----------
    table : pyarrow.Table
        Rows with ``part_number``, ``characteristic``, ``value`` and a time; nominal, limits, unit,
        serial, operator, machine, status and ``attributes`` (K-numbered fields, as the reader
        produces them) are written where present.
    form : {'kfield', 'valueline'}
        Values as K-lines (``K0001/i ...``) or as value lines (0x0F / 0x14 separated).
    encoding : str
        Text encoding of the file (Windows-1252 is what most Q-DAS readers expect; characters it
        cannot hold need ``'utf-8'`` or ``'gb18030'``).
    zone : str, optional
        Zone for K0004 of rows that have only a UTC time and no ``zone`` (default UTC).
    characteristics : list of dict, optional
        Further K2xxx/K8xxx fields per characteristic (as ``ReadResult.metadata['characteristics']``),
        matched by K2001.

    Notes
    -----
    K0004 holds whole seconds; the operator, machine and gauge are written through catalogues
    (K4090, K4060, K4070) so that K0008/K0010/K0012 stay numbers.
    """
    if form not in ("kfield", "valueline"):
        raise FormatError(f"form must be 'kfield' or 'valueline', got {form!r}", field="form")
    names = table.column_names
    for c in ("part_number", "characteristic", "value"):
        if c not in names:
            raise FormatError(f"the table has no {c!r} column", field=c)
    rows = table.to_pylist()
    times = _local_times(table, zone)
    extra = {str(m.get("K2001")): m for m in (characteristics or []) if m.get("K2001") is not None}
    # parts and characteristics in order of appearance
    part_order: dict[str, int] = {}
    char_order: dict[tuple[str, str], int] = {}
    char_rows: dict[int, list[int]] = {}
    for r in rows:
        p = r["part_number"]
        if p not in part_order:
            part_order[p] = len(part_order) + 1
    by_part = {p: [] for p in part_order}
    for i, r in enumerate(rows):
        by_part[r["part_number"]].append(i)
    for p in part_order:
        for i in by_part[p]:
            ck = (p, rows[i]["characteristic"])
            if ck not in char_order:
                char_order[ck] = len(char_order) + 1
            char_rows.setdefault(char_order[ck], []).append(i)
    attrs = [json.loads(r["attributes"]) if r.get("attributes") else {} for r in rows]
    # catalogues
    cats: dict[int, dict[str, tuple[str, str]]] = {8: {}, 10: {}, 12: {}}

    def code_for(kk: int, text: str | None, raw: str | None) -> str | None:
        if text is None and raw is None:
            return None
        entries = cats[kk]
        key = (text or "", raw or "")
        for code, k in entries.items():
            if k == key:
                return code
        code = raw if raw and raw.isdigit() and raw not in entries else str(len(entries) + 1)
        while code in entries:
            code = str(int(code) + 1) if code.isdigit() else str(len(entries) + 2)
        entries[code] = key
        return code

    rec_fields: list[dict[int, str]] = []
    for i, r in enumerate(rows):
        a = attrs[i]
        f: dict[int, str] = {1: _fmt_number(r["value"])}
        if "K0002" in a:
            f[2] = str(a["K0002"])
        elif r.get("status") == "invalid":
            f[2] = "255"
        t = times[i]
        if t is not None:
            f[4] = t.strftime("%d.%m.%Y/%H:%M:%S")
        for kk in (5, 7, 9, 11, 13):
            if _kname(kk) in a:
                f[kk] = str(a[_kname(kk)])
        serial = r.get("serial")
        if "K0006" in a:
            f[6] = str(a["K0006"])
            if serial is not None:
                f[14] = serial
        elif serial is not None:
            f[6] = ("#" + serial) if serial.startswith("#") else serial
        if r.get("operator") is not None or "K0008" in a:
            f[8] = code_for(8, r.get("operator"), a.get("K0008"))
        if r.get("machine") is not None or "K0010" in a:
            f[10] = code_for(10, r.get("machine"), a.get("K0010"))
        if "K0012" in a or r.get("instrument") is not None:
            f[12] = code_for(12, a.get("gauge") or r.get("instrument"), a.get("K0012"))
        for k, v in a.items():
            m = re.fullmatch(r"K00([0-9]{2})", k)
            if m and int(m.group(1)) not in f and int(m.group(1)) not in (1, 4):
                f[int(m.group(1))] = str(v)
        rec_fields.append(f)

    out: list[str] = [f"K0100 {len(char_order)}"]
    nchar_of_part = {p: 0 for p in part_order}
    for (p, _c) in char_order:
        nchar_of_part[p] += 1
    for p, pi in part_order.items():
        out.append(f"K1001/{pi} {_clean(p)}")
        for (pp, c), ci in char_order.items():
            if pp != p:
                continue
            r = rows[char_rows[ci][0]]
            spec = {}
            for col, kk in (("nominal", 2101), ("lower_limit", 2110), ("upper_limit", 2111)):
                vals = {rows[i].get(col) for i in char_rows[ci]}
                if len(vals) > 1:
                    raise FormatError(f"{col} varies within characteristic {c!r} of {p!r}; AQDEF holds one per "
                                      "characteristic", field=col)
                v = vals.pop()
                if v is not None:
                    spec[kk] = _fmt_number(v)
            out.append(f"K2001/{ci} {_clean(c)}")
            if r.get("characteristic_name"):
                out.append(f"K2002/{ci} {_clean(r['characteristic_name'])}")
            for kk, v in spec.items():
                out.append(f"K{kk}/{ci} {v}")
            if r.get("unit"):
                out.append(f"K2142/{ci} {_clean(r['unit'])}")
            for k, v in sorted((extra.get(str(c)) or {}).items()):
                m = re.fullmatch(r"K([0-9]{4})", k)
                if m and (2000 <= int(m.group(1)) < 4000 or 8000 <= int(m.group(1)) < 9000) \
                        and int(m.group(1)) not in (2001, 2002, 2101, 2110, 2111, 2142) and v not in (None, ""):
                    out.append(f"K{m.group(1)}/{ci} {_clean(str(v))}")
    for kk, (key_field, texts, _) in ((8, CATALOGUES[8]), (10, CATALOGUES[10]), (12, CATALOGUES[12])):
        name_field = 4092 if kk == 8 else texts[0]
        for n_, (code, (text, _raw)) in enumerate(cats[kk].items(), start=1):
            out.append(f"K{key_field}/{n_} {code}")
            if text:
                out.append(f"K{name_field}/{n_} {_clean(text)}")
    if form == "kfield":
        for i, f in enumerate(rec_fields):
            ci = char_order[(rows[i]["part_number"], rows[i]["characteristic"])]
            for kk in sorted(f):
                if f[kk] is not None:
                    out.append(f"K{kk:04d}/{ci} {_clean(f[kk])}")
    else:
        for f in rec_fields:
            bad = [k for k in f if k not in VALUE_LINE_FIELDS and f[k] is not None]
            if bad:
                raise FormatError(f"field K{bad[0]:04d} has no place in a value line; write form='kfield'",
                                  field=_kname(bad[0]))
        depth = max(len(v) for v in char_rows.values())
        nchar = len(char_order)
        for k in range(depth):
            portions = []
            for ci in range(1, nchar + 1):
                idx = char_rows[ci]
                if k >= len(idx):
                    portions.append("")
                    continue
                f = rec_fields[idx[k]]
                vals = [_clean_field(f.get(kk)) for kk in VALUE_LINE_FIELDS]
                while vals and vals[-1] == "":
                    vals.pop()
                portions.append(FIELD_SEP.join(vals))
            out.append(CHAR_SEP.join(portions))
    text = "\r\n".join(out) + "\r\n"
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise FormatError(f"{exc.object[exc.start:exc.end]!r} cannot be written in {encoding}; "
                          "write with encoding='utf-8' or 'gb18030'", field="encoding") from None


def _clean(text: str) -> str:
    return re.sub(r"[\x00-\x1f]", " ", str(text)).strip()


def _clean_field(text: str | None) -> str:
    return "" if text is None else _clean(text)


def sniff(head: bytes, name: str) -> bool:
    lower = name.lower()
    if head[:4] == b"PK\x03\x04":
        return lower.endswith(".zip") and any(e in head[:4096].lower() for e in (b".dfq", b".dfx", b".dfd"))
    text = head.decode("latin-1")
    return bool(re.match(r"\A(\ufeff|\xef\xbb\xbf)?K[0-9]{4}(/[0-9]+)? ", text)) or (
        lower.endswith((".dfq", ".dfd", ".dfx")) and ("\x0f" in text or "\x14" in text))


register(Format("aqdef", (".dfq", ".dfd", ".dfx", ".zip"), read, sniff, write,
                "Q-DAS AQDEF ASCII transfer format (DFQ, DFD + DFX) / Q-DAS AQDEF 传输格式"))

__all__ = ["decode", "parse_times", "read", "write"]
