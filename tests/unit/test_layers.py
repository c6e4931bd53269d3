"""The layering of DESIGN.md is checked by import-linter (also run by `make test` itself)."""

import shutil
import subprocess
import sys
from pathlib import Path


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    proc = subprocess.run([exe], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kernels_import_without_heavy_dependencies():
    code = (
        "import sys, jingce.kernels, jingce.kernels._sums, jingce.kernels._validation;"
        "bad=[m for m in ('sqlalchemy','duckdb','pyarrow','pandas','fastapi','pyspark') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
