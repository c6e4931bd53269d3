"""CSV mapping profiles: table exports of CMM software read into the measurement table.

A profile names which column of an export is what (characteristic key, actual value, nominal,
tolerances or limits, unit, part number, serial, time ...), how the file is delimited, whether
numbers use a decimal comma, and whether the tolerance columns are relative to the nominal
(``nominal + upper_tol``) or absolute limits. Choose one by name as a reader option
(``csv.read(data, name, profile="calypso")``, or the registered formats ``calypso-chr`` and
``pcdmis-csv``), or give your own as a mapping or a small YAML/JSON file::

    name: plant7
    delimiter: ";"
    decimal: ","
    tolerances: relative          # or: limits
    unit: mm                      # when the file has no unit column
    columns:
      characteristic: Merkmal     # a header name, or a list of candidates
      value: Istwert
      nominal: Sollwert
      upper_tol: [OT, "Obere Tol."]
      lower_tol: UT

Built-in profiles and what they rest on (tests/data/csv_profiles/README.md has the sources):

``calypso``
    ZEISS CALYPSO table file (``*_chr.txt``): tab separated, header ``planid partnb id type
    idsymbol actual nominal uppertol lowertol deviation exceed ...  unit ...``; ``uppertol`` and
    ``lowertol`` are relative to ``nominal``. Column names confirmed from a published sample
    export; the run's date and time are in the separate ``*_hdr.txt``, so give ``defaults={"time":
    ...}`` (or a ``time`` column if your export adds one).
``pcdmis``
    Hexagon PC-DMIS dimension table exported as CSV, with the column labels of PC-DMIS dimension
    reports (``Dimension``, ``AX``, ``NOMINAL``, ``+TOL``, ``-TOL``, ``MEAS``, ``DEV``, ``OUTTOL``);
    the key is ``Dimension.AX``. The exact CSV layout of a vendor export could not be confirmed
    from public documentation: the fixture was written from those documented report labels, and
    ``-TOL`` is read as a signed offset from the nominal when it is negative and as a magnitude
    below the nominal when it is positive (PC-DMIS shows both).
``generic``
    ``key,actual,nominal,upper tol,lower tol`` (plus optional ``unit``, ``part``, ``serial``,
    ``time``), tolerances relative to the nominal.

No Mitutoyo MCOSMOS profile is built in: its CSV layout could not be confirmed from public
material; define it as a user profile from an export at hand.
"""

from __future__ import annotations

import csv as _stdcsv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from jingce.errors import FormatError
from jingce.formats.registry import Format, ReadResult, register
from jingce.model.batch import conform_input

TARGETS = ("characteristic", "value", "nominal", "upper_tol", "lower_tol", "upper_limit", "lower_limit", "unit",
           "part_number", "serial", "time", "characteristic_name", "operator", "machine")


@dataclass(frozen=True)
class Profile:
    """Which column of a CMM table export is what (see the module docstring)."""

    name: str
    columns: Mapping[str, tuple[str, ...]]
    key_columns: tuple[str, ...] = ()  # several columns joined with key_separator make the key
    key_separator: str = "."
    delimiter: str | None = None  # None: detected from the header line
    decimal: str = "."
    tolerances: str = "relative"  # relative | limits
    lower_tol_sign: str = "signed"  # signed | magnitude | auto (negative: signed, positive: magnitude)
    unit: str | None = None
    source: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)  # column -> attribute name

    def __post_init__(self) -> None:
        bad = [k for k in self.columns if k not in TARGETS]
        if bad:
            raise FormatError(f"profile {self.name!r}: unknown target {bad[0]!r}; expected some of {', '.join(TARGETS)}",
                              field=bad[0])
        if "value" not in self.columns:
            raise FormatError(f"profile {self.name!r} names no 'value' column", field="value")
        if "characteristic" not in self.columns and not self.key_columns:
            raise FormatError(f"profile {self.name!r} names no 'characteristic' column", field="characteristic")
        if self.tolerances not in ("relative", "limits"):
            raise FormatError(f"tolerances must be 'relative' or 'limits', got {self.tolerances!r}", field="tolerances")
        if self.decimal not in (".", ","):
            raise FormatError(f"decimal must be '.' or ',', got {self.decimal!r}", field="decimal")
        if self.lower_tol_sign not in ("signed", "magnitude", "auto"):
            raise FormatError(f"lower_tol_sign must be signed, magnitude or auto, got {self.lower_tol_sign!r}",
                              field="lower_tol_sign")


PROFILES: dict[str, Profile] = {
    "calypso": Profile(
        "calypso", {"characteristic": ("id",), "value": ("actual",), "nominal": ("nominal",),
                    "upper_tol": ("uppertol",), "lower_tol": ("lowertol",), "unit": ("unit",),
                    "part_number": ("partnb",), "time": ("time", "date"), "characteristic_name": ("comment",)},
        delimiter="\t", source="ZEISS CALYPSO table file (chr.txt)",
        extra={"planid": "plan", "type": "type", "idsymbol": "symbol", "groupname": "group"}),
    "pcdmis": Profile(
        "pcdmis", {"value": ("MEAS", "MEASURED"), "nominal": ("NOMINAL", "NOM"), "upper_tol": ("+TOL", "PLUS TOL"),
                   "lower_tol": ("-TOL", "MINUS TOL"), "unit": ("UNITS", "UNIT"), "part_number": ("PART NAME", "PART"),
                   "serial": ("SERIAL NUMBER", "SERIAL"), "time": ("DATE TIME", "TIME")},
        key_columns=("DIMENSION", "AX"), lower_tol_sign="auto", source="Hexagon PC-DMIS dimension table (CSV)",
        extra={"FEATURE": "feature", "OUTTOL": "outtol"}),
    "generic": Profile(
        "generic", {"characteristic": ("key",), "value": ("actual",), "nominal": ("nominal",),
                    "upper_tol": ("upper tol", "upper_tol"), "lower_tol": ("lower tol", "lower_tol"),
                    "unit": ("unit",), "part_number": ("part", "part_number"), "serial": ("serial",),
                    "time": ("time",)},
        source="key,actual,nominal,upper tol,lower tol"),
}


def profile_from_mapping(spec: Mapping) -> Profile:
    """A :class:`Profile` from a mapping (as loaded from YAML or JSON)."""
    if not isinstance(spec, Mapping):
        raise FormatError("a profile is a mapping with 'columns'", field="profile")
    cols = spec.get("columns")
    if not isinstance(cols, Mapping):
        raise FormatError("the profile needs 'columns': a mapping of target -> header name(s)", field="columns")
    columns = {}
    for target, names in cols.items():
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list | tuple) or not names or not all(isinstance(x, str) for x in names):
            raise FormatError(f"column {target!r}: expected a header name or a list of them", field=str(target))
        columns[str(target)] = tuple(names)
    key_columns = spec.get("key_columns", ())
    if isinstance(key_columns, str):
        key_columns = (key_columns,)
    try:
        return Profile(name=str(spec.get("name", "custom")), columns=columns, key_columns=tuple(key_columns),
                       key_separator=str(spec.get("key_separator", ".")), delimiter=spec.get("delimiter"),
                       decimal=str(spec.get("decimal", ".")), tolerances=str(spec.get("tolerances", "relative")),
                       lower_tol_sign=str(spec.get("lower_tol_sign", "signed")), unit=spec.get("unit"),
                       source=str(spec.get("source", "user profile")),
                       extra={str(k): str(v) for k, v in (spec.get("extra") or {}).items()})
    except TypeError as exc:
        raise FormatError(f"bad profile: {exc}", field="profile") from None


def load_profile(path: str | Path) -> Profile:
    """Read a user profile from a ``.yaml``/``.yml`` or ``.json`` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise FormatError(f"cannot read the profile: {exc.strerror}", file=str(p)) from None
    try:
        if p.suffix.lower() == ".json":
            spec = json.loads(text)
        else:
            import yaml

            spec = yaml.safe_load(text)
    except Exception as exc:  # yaml and json raise their own error types
        raise FormatError(f"cannot parse the profile: {exc}", file=str(p)) from None
    return profile_from_mapping(spec)


def get_profile(profile: str | Mapping | Profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, Mapping):
        return profile_from_mapping(profile)
    if isinstance(profile, str):
        if profile in PROFILES:
            return PROFILES[profile]
        if profile.lower().endswith((".yaml", ".yml", ".json")):
            return load_profile(profile)
    raise FormatError(f"unknown profile {profile!r}; built in: {', '.join(PROFILES)}, or a .yaml/.json file",
                      field="profile")


_NUM = re.compile(r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$")
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
                 "%Y/%m/%d %H:%M:%S", "%d.%m.%Y/%H:%M:%S")


def _number(text: str, decimal: str) -> float:
    t = text.strip().replace("\u2212", "-")
    if decimal == ",":
        t = t.replace(".", "").replace(",", ".") if re.fullmatch(r"[+-]?[0-9.]+,[0-9]*", t) and t.count(".") else \
            t.replace(",", ".")
    if not _NUM.match(t):
        raise ValueError(text)
    v = float(t)
    if not math.isfinite(v):
        raise ValueError(text)
    return v


def _time(text: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(UTC time, wall-clock time) of a time field: exact with an offset, else wall clock."""
    t = text.strip()
    try:
        value = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        value = None
        for f in _TIME_FORMATS:
            try:
                value = dt.datetime.strptime(t, f)
                break
            except ValueError:
                continue
        if value is None:
            raise ValueError(text) from None
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC), None
    return None, value


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().strip('"').lower() for h in header]
    for n in names:
        if n.lower() in low:
            return low.index(n.lower())
    return None


def read(data: bytes, name: str = "<csv>", *, profile: str | Mapping | Profile = "generic",
         encoding: str | None = None, decimal: str | None = None, defaults: Mapping[str, str] | None = None,
         skip_bad: bool = False) -> ReadResult:
    """Read a CMM software table export through a profile into the measurement table.

    Parameters
    ----------
    data : bytes
        The file content.
    name : str
        File name used in error messages.
    profile : str, mapping or Profile
        A built-in profile name (``calypso``, ``pcdmis``, ``generic``), a path to a .yaml/.json
        profile, a mapping, or a :class:`Profile`.
    encoding : str, optional
        Default UTF-8 (BOM allowed), else GB18030.
    decimal : {'.', ','}, optional
        Overrides the profile's decimal separator.
    defaults : dict, optional
        Columns the export lacks (``enterprise``, ``part_number``, ``time``, ``unit``, ``site`` ...).
    skip_bad : bool
        Skip rows with bad fields (each reported) instead of refusing the file.

    Raises
    ------
    FormatError
        Naming the file, line and column of the first bad field.
    """
    from jingce.formats.csv import _decode  # the jingce CSV layout's decoding rules

    prof = get_profile(profile)
    dec = decimal if decimal and decimal != "." else prof.decimal
    if dec not in (".", ","):
        raise FormatError(f"decimal must be '.' or ',', got {dec!r}", field="decimal")
    defaults = dict(defaults or {})
    if b"\x00" in data:
        raise FormatError("NUL characters: not a text file", file=name)
    text = _decode(data, name, encoding)
    lines = text.splitlines()
    wanted = [n for names in prof.columns.values() for n in names] + list(prof.key_columns)
    header_at = None
    for i, ln in enumerate(lines[:50]):
        delim = prof.delimiter or max((",", ";", "\t"), key=ln.count)
        cells = next(_stdcsv.reader([ln], delimiter=delim), [])
        if sum(_find(cells, (w,)) is not None for w in wanted) >= 2:
            header_at = i
            break
    if header_at is None:
        raise FormatError(f"no header line with the {prof.name!r} profile's columns in the first 50 lines",
                          file=name, line=1)
    delim = prof.delimiter or max((",", ";", "\t"), key=lines[header_at].count)
    for ln in lines[:header_at]:  # a preamble of "label<delimiter>value" lines (PART NAME,SHAFT-100)
        cells = next(_stdcsv.reader([ln], delimiter=delim), [])
        if len(cells) >= 2 and cells[1].strip():
            for t in ("part_number", "serial", "time", "operator", "machine"):
                if t in prof.columns and _find(cells[:1], prof.columns[t]) is not None:
                    defaults.setdefault(t, cells[1].strip())
    try:
        rows = list(_stdcsv.reader(io.StringIO("\n".join(lines[header_at:])), delimiter=delim))
    except _stdcsv.Error as exc:
        raise FormatError(f"malformed CSV: {exc}", file=name) from None
    header = rows[0]
    col = {t: _find(header, names) for t, names in prof.columns.items()}
    key_idx = [_find(header, (k,)) for k in prof.key_columns]
    if prof.key_columns and any(i is None for i in key_idx):
        missing = prof.key_columns[key_idx.index(None)]
        raise FormatError(f"missing key column {missing!r}", file=name, line=header_at + 1, field=missing)
    for t in ("value",) + (() if prof.key_columns else ("characteristic",)):
        if col.get(t) is None:
            raise FormatError(f"missing column {prof.columns[t][0]!r} ({t})", file=name, line=header_at + 1,
                              field=prof.columns[t][0])
    for t in ("enterprise", "part_number", "time"):
        if col.get(t) is None and t not in defaults:
            raise FormatError(f"no {t!r}: the export has no such column; give defaults={{'{t}': ...}}",
                              file=name, line=header_at + 1, field=t)
    extra_idx = {a: _find(header, (c,)) for c, a in prof.extra.items()}
    default_time = _time(defaults["time"]) if "time" in defaults and col.get("time") is None else None

    out: dict[str, list] = {c: [] for c in ("characteristic", "value", "nominal", "lower_limit", "upper_limit",
                                            "unit", "part_number", "serial", "measured_at", "local_time",
                                            "characteristic_name", "operator", "machine", "line", "attributes")}
    skipped: list[FormatError] = []
    for r_i, row in enumerate(rows[1:], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue

        def cell(t: str, row=row) -> str | None:
            i = col.get(t)
            if i is None or i >= len(row):
                return None
            v = row[i].strip()
            return v or None

        try:
            if prof.key_columns:
                parts = [row[i].strip() if i < len(row) else "" for i in key_idx]
                key = prof.key_separator.join(p for p in parts if p) or None
            else:
                key = cell("characteristic")
            if key is None:
                raise _Bad("characteristic", "a value is required", None)
            fields = {}
            for t in ("value", "nominal", "upper_tol", "lower_tol", "upper_limit", "lower_limit"):
                v = cell(t)
                if v is None:
                    if t == "value":
                        raise _Bad(prof.columns[t][0], "a value is required", None)
                    fields[t] = None
                    continue
                try:
                    fields[t] = _number(v, dec)
                except ValueError:
                    raise _Bad(prof.columns[t][0], "expected a number", v) from None
            nom = fields["nominal"]
            lo, hi = fields["lower_limit"], fields["upper_limit"]
            if prof.tolerances == "relative" and nom is not None:
                if fields["upper_tol"] is not None:
                    hi = nom + fields["upper_tol"]
                lt = fields["lower_tol"]
                if lt is not None:
                    magnitude = prof.lower_tol_sign == "magnitude" or (prof.lower_tol_sign == "auto" and lt > 0)
                    lo = nom - lt if magnitude else nom + lt
            if lo is not None and hi is not None and lo == hi:  # a zero-width band is no specification
                lo = hi = None
            utc = local = None
            t = cell("time")
            if t is not None:
                try:
                    utc, local = _time(t)
                except ValueError:
                    raise _Bad(prof.columns["time"][0], "expected a date and time", t) from None
            elif default_time is not None:
                utc, local = default_time
        except _Bad as bad:
            err = FormatError(f"{bad.message}, got {bad.value!r}" if bad.value is not None else bad.message,
                              file=name, line=r_i, field=bad.field)
            if not skip_bad:
                raise err from None
            skipped.append(err)
            continue
        out["characteristic"].append(key)
        out["value"].append(fields["value"])
        out["nominal"].append(nom)
        out["lower_limit"].append(lo)
        out["upper_limit"].append(hi)
        out["unit"].append(cell("unit") or prof.unit or defaults.get("unit"))
        out["part_number"].append(cell("part_number") or defaults.get("part_number"))
        out["serial"].append(cell("serial") or defaults.get("serial"))
        out["measured_at"].append(utc)
        out["local_time"].append(local)
        out["characteristic_name"].append(cell("characteristic_name"))
        out["operator"].append(cell("operator") or defaults.get("operator"))
        out["machine"].append(cell("machine") or defaults.get("machine"))
        out["line"].append(r_i)
        attrs = {a: row[i].strip() for a, i in extra_idx.items() if i is not None and i < len(row) and row[i].strip()}
        out["attributes"].append(json.dumps(attrs, ensure_ascii=False) if attrs else None)
    n = len(out["value"])
    if n == 0:
        raise FormatError("no measured values", file=name, line=header_at + 2)
    cols = {k: pa.array(v, pa.string() if k not in ("value", "nominal", "lower_limit", "upper_limit", "line",
                                                     "measured_at", "local_time") else None)
            for k, v in out.items()}
    cols["measured_at"] = pa.array(out["measured_at"], pa.timestamp("us", tz="UTC"))
    cols["local_time"] = pa.array(out["local_time"], pa.timestamp("us"))
    for c in ("value", "nominal", "lower_limit", "upper_limit"):
        cols[c] = pa.array(out[c], pa.float64())
    cols["line"] = pa.array(out["line"], pa.int64())
    cols["position"] = pa.array(range(n), pa.int64())
    for c in ("enterprise", "site", "stage", "zone", "instrument"):
        if defaults.get(c):
            cols[c] = pa.array([defaults[c]] * n, pa.string())
    return ReadResult(conform_input(pa.table(cols)), tuple(skipped), {"profile": prof.name})


class _Bad(Exception):
    def __init__(self, field: str, message: str, value: str | None) -> None:
        self.field, self.message, self.value = field, message, value


def _sniffer(prof: Profile, first_names: tuple[str, ...]):
    def sniff(head: bytes, name: str) -> bool:
        lines = head.decode("utf-8", errors="ignore").lstrip("\ufeff").lower().split("\n")[:12]
        return any(all(n.lower() in ln for n in first_names) for ln in lines)
    return sniff


def _reader(prof_name: str):
    def read_with(data: bytes, name: str = "<csv>", **options) -> ReadResult:
        options.pop("profile", None)
        return read(data, name, profile=prof_name, **options)
    read_with.__doc__ = f"Read a table export with the built-in {prof_name!r} profile (see :func:`read`)."
    return read_with


register(Format("calypso-chr", ("_chr.txt",), _reader("calypso"),
                _sniffer(PROFILES["calypso"], ("planid", "partnb", "actual", "nominal", "uppertol")), None,
                "ZEISS CALYPSO table file (chr.txt) / 蔡司 CALYPSO 表格文件"))
register(Format("pcdmis-csv", (), _reader("pcdmis"),
                _sniffer(PROFILES["pcdmis"], ("dimension", "nominal", "+tol", "-tol", "meas")), None,
                "Hexagon PC-DMIS dimension table as CSV / 海克斯康 PC-DMIS 尺寸表 CSV"))

__all__ = ["PROFILES", "Profile", "get_profile", "load_profile", "profile_from_mapping", "read"]
