"""AQDEF parsing: jingce.formats.aqdef against the PyPI package aqdefreader, side by side.

    .venv/bin/python bench/aqdef_parse.py generate bench/_work/big.dfq --mb 100
    .venv/bin/python bench/aqdef_parse.py compare bench/_work/big.dfq -n 3
    .venv/bin/python bench/aqdef_parse.py check          # what aqdefreader gets wrong

``compare`` alternates the two readers in one process (jingce, aqdefreader, jingce, ...), each
reading the file from disk into its own result, and prints the median times and their ratio.
aqdefreader 1.3.0 needs pandas, numpy, python-dateutil and chardet, none declared
(bench/requirements-aqdef.txt).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import statistics
import sys
import time

CHARS = [("D1", "Bearing seat diameter", 25.0, 24.98, 25.02), ("L1", "Overall length", 80.0, 79.95, 80.05),
         ("D2", "Journal diameter", 30.0, 29.99, 30.01), ("L2", "Shoulder distance", 42.0, 41.9, 42.1),
         ("R1", "Runout", 0.0, None, 0.02), ("D3", "Thread pitch diameter", 18.376, 18.3, 18.4),
         ("W1", "Keyway width", 6.0, 5.97, 6.0), ("D4", "Seal diameter", 35.0, 34.975, 35.0),
         ("L3", "Groove position", 12.5, 12.4, 12.6), ("F1", "Flatness", 0.0, None, 0.01)]


def header() -> list[str]:
    out = [f"K0100 {len(CHARS)}", "K1001/1 SHAFT-100", "K1002/1 Drive shaft"]
    for i, (key, name, nom, lo, hi) in enumerate(CHARS, start=1):
        out += [f"K2001/{i} {key}", f"K2002/{i} {name}", f"K2101/{i} {nom}", f"K2142/{i} mm", f"K8500/{i} 5"]
        if lo is not None:
            out.append(f"K2110/{i} {lo}")
        out.append(f"K2111/{i} {hi}")
    out += ["K4090/1 7", "K4092/1 Li", "K4093/1 Wei", "K4060/1 12", "K4062/1 M-12", "K4063/1 Grinder 12",
            "K4070/1 3", "K4072/1 G-3", "K4073/1 Air gauge 3"]
    return out


def generate(path: str, mb: float, *, valueline: bool = False) -> int:
    """Write a K-field (or value-line) DFQ of about ``mb`` megabytes; return the number of values."""
    target = int(mb * 1_000_000)
    t0 = dt.datetime(2025, 3, 10, 8, 0, 0)
    written, n, part = 0, 0, 0
    with open(path, "w", encoding="windows-1252", newline="") as f:
        head = "\r\n".join(header()) + "\r\n"
        f.write(head)
        written += len(head)
        while written < target:
            lines = []
            stamp = (t0 + dt.timedelta(minutes=part)).strftime("%d.%m.%Y/%H:%M:%S")
            serial = f"S{part:07d}"
            portions = []
            for i, (_k, _n, nom, _lo, _hi) in enumerate(CHARS, start=1):
                value = f"{nom + ((part * 7 + i * 13) % 41 - 20) * 0.0005:.4f}"
                if valueline:
                    portions.append("\x14".join([value, "0", stamp, "", serial, "", "7", "12", "", "3"]))
                else:
                    lines += [f"K0001/{i} {value}", f"K0002/{i} 0", f"K0004/{i} {stamp}", f"K0006/{i} {serial}",
                              f"K0008/{i} 7", f"K0010/{i} 12", f"K0012/{i} 3"]
                n += 1
            chunk = ("\x0f".join(portions) if valueline else "\r\n".join(lines)) + "\r\n"
            f.write(chunk)
            written += len(chunk)
            part += 1
    return n


def run_jingce(path: str):
    from jingce.formats import aqdef

    with open(path, "rb") as f:
        data = f.read()
    return aqdef.read(data, os.path.basename(path), defaults={"enterprise": "E"}).table


def run_aqdefreader(path: str):
    import aqdefreader

    with contextlib.redirect_stdout(io.StringIO()):
        return aqdefreader.read_dfq_file(path)


def compare(path: str, n: int) -> None:
    import gc

    times = {"jingce": [], "aqdefreader": []}
    cpu = {"jingce": [], "aqdefreader": []}
    rows = {}
    for _ in range(n):
        for name, fn in (("jingce", run_jingce), ("aqdefreader", run_aqdefreader)):
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            result = fn(path)
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
            if name == "jingce":
                rows[name] = result.num_rows
            else:
                rows[name] = sum(len(c.get_measurements()) for p in result.get_parts() for c in p.get_characteristics())
            del result
            print(f"  {name:12s} {times[name][-1]:8.2f} s wall {cpu[name][-1]:8.2f} s CPU ({rows[name]:,} values)",
                  flush=True)
    size = os.path.getsize(path) / 1e6
    mj, ma = statistics.median(times["jingce"]), statistics.median(times["aqdefreader"])
    print(f"file {size:.1f} MB; jingce median {mj:.2f} s ({size / mj:.1f} MB/s), aqdefreader median {ma:.2f} s "
          f"({size / ma:.1f} MB/s); ratio aqdefreader/jingce {ma / mj:.1f}x over {n} alternating runs")
    cj, ca = statistics.median(cpu["jingce"]), statistics.median(cpu["aqdefreader"])
    print(f"CPU time: jingce median {cj:.2f} s, aqdefreader median {ca:.2f} s; ratio {ca / cj:.1f}x")


def check(workdir: str) -> None:
    """What aqdefreader gets wrong on the project's fixtures."""
    import aqdefreader

    from jingce.formats import aqdef

    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = os.path.join(here, "..", "tests", "data", "aqdef")
    for fname in ("shaft_kfield.dfq", "shaft_valueline.dfq"):
        path = os.path.join(fixtures, fname)
        ours = aqdef.read(open(path, "rb").read(), fname, defaults={"enterprise": "E"}).table
        print(f"{fname}: jingce {ours.num_rows} values, first time {ours.column('local_time')[0].as_py()}")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                theirs = aqdefreader.read_dfq_file(path)
            ms = [m for p in theirs.get_parts() for c in p.get_characteristics() for m in c.get_measurements()]
            print(f"  aqdefreader: {len(ms)} values, first time {ms[0].datetime if ms else None}, "
                  f"batch/serial {ms[0].batch_no if ms else None!r}")
        except Exception as exc:  # noqa: BLE001 - recording what the other library does
            print(f"  aqdefreader fails: {type(exc).__name__}: {exc}")
    # a day above 12 is read day-first, a day up to 12 month-first: the same file mixes both
    path = os.path.join(workdir, "dates.dfq")
    with open(path, "w", newline="") as f:
        f.write("K0100 1\r\nK1001/1 P\r\nK2001/1 D1\r\nK2142/1 mm\r\n"
                "K0001/1 1.0\r\nK0004/1 10.03.2025/08:00:00\r\nK0001/1 2.0\r\nK0004/1 13.03.2025/08:00:00\r\n")
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = aqdefreader.read_dfq_file(path)
    got = [m.datetime for m in theirs.get_parts()[0].get_characteristics()[0].get_measurements()]
    print(f"dates 10.03.2025 and 13.03.2025: aqdefreader reads {[str(x) for x in got]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("path")
    g.add_argument("--mb", type=float, default=100)
    g.add_argument("--valueline", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("path")
    c.add_argument("-n", type=int, default=3)
    k = sub.add_parser("check")
    k.add_argument("--workdir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "_work"))
    one = sub.add_parser("one")
    one.add_argument("reader", choices=("jingce", "aqdefreader"))
    one.add_argument("path")
    args = ap.parse_args()
    if args.cmd == "generate":
        n = generate(args.path, args.mb, valueline=args.valueline)
        print(f"{args.path}: {os.path.getsize(args.path) / 1e6:.1f} MB, {n:,} values")
    elif args.cmd == "compare":
        compare(args.path, args.n)
    elif args.cmd == "check":
        os.makedirs(args.workdir, exist_ok=True)
        check(args.workdir)
    else:
        t = time.perf_counter()
        (run_jingce if args.reader == "jingce" else run_aqdefreader)(args.path)
        print(f"{args.reader}: {time.perf_counter() - t:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
