"""Shared fixtures: the bundled registry, a demo round run once, and the CLI as a subprocess."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xlperf.registry import bundled_registry_path

ROOT = Path(__file__).resolve().parents[1]


def xlperf_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("xlperf")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "xlperf.cli"]


def run_cli(*args, env: dict | None = None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "XLPERF_LANG": "zh", **(env or {})}
    return subprocess.run([*xlperf_cmd(), *map(str, args)], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session")
def registry_path() -> Path:
    return bundled_registry_path()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    # the whole year at once (targets, then monitoring and self-evaluation in subfolders): one demo run
    # serves the targets tests and tests/test_cycle.py
    proc = run_cli("demo", "--cycle", "-o", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    (out / "demo_stdout.txt").write_text(proc.stdout, encoding="utf-8")
    return out


# ------------------------------------------------------------ registry exports ----
# The budget-system export is built by tools/make_example_export.py, which also writes the
# example the officer guide uses (workbooks/预算系统导出示例_2022.xlsx): one builder for both.
sys.path.insert(0, str(ROOT / "tools"))
from make_example_export import (BUDGET_EXPORT_HEADERS, SECOND_UNIT, budget_export_rows,  # noqa: E402,F401
                                 write_budget_export)


def resave_return(src: Path, dst: Path, modified, cells: dict | None = None, sheet: str = "项目绩效目标表") -> Path:
    """A sub-unit's re-submission: *src* with *cells* (A1 ref -> value) changed, saved as *dst* with the
    saved time *modified* in docProps/core.xml (openpyxl would stamp "now"), which orders returns."""
    import re
    import zipfile

    import openpyxl

    wb = openpyxl.load_workbook(src)
    for ref, value in (cells or {}).items():
        wb[sheet][ref] = value
    wb.properties.modified = modified
    wb.save(dst)
    tmp = dst.with_suffix(".tmp")
    with zipfile.ZipFile(dst) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:modified([^>]*)>[^<]*<", b"<dcterms:modified\\1>" +
                              modified.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + b"<", data)
            zout.writestr(item, data)
    tmp.replace(dst)
    return dst


# ------------------------------------------------------------ a unit tree ----
# A 主管部门 with three units over the seed's 15 projects (tests/test_unit_tree*.py).
TREE_DEPARTMENT = "201 区委办"
TREE_UNITS = {"A": ("201001", "二级单位甲"), "B": ("201002", "二级单位乙"), "C": ("201003", "直报单位丙")}
TREE_PLAN = ["A"] * 7 + ["B"] * 7 + ["C"]  # two 二级单位 of 7 projects, one unit that reports directly


def write_registry_csv(path: Path, rows: list[dict]) -> Path:
    """A registry CSV with the rows' own columns."""
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def tree_sub_masters(root: Path, rows: list[dict]) -> dict[str, Path]:
    """The masters of the tree's two 二级单位 (A and B), each made by the CLI from its own returns
    (root/returns/A, …) against a registry of its own projects (*rows*, in TREE_PLAN order)."""
    masters = {}
    for unit in "AB":
        sub_registry = write_registry_csv(root / f"registry_{unit}.csv",
                                          [r for r, u in zip(rows, TREE_PLAN) if u == unit])
        masters[unit] = root / f"sub_{unit}" / f"master_{unit}.xlsx"
        proc = run_cli("consolidate", root / "returns" / unit, "-r", sub_registry, "-o", masters[unit], "-q")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return masters


def tree_status(folder: Path, registry: Path, out: Path) -> dict:
    """`xlperf status --json` of a 主管部门's inbox of the unit tree (sub-masters of A and B, C's own return),
    with the roll-up every round must show: one department of 3 units and 15 projects, all accepted."""
    proc = run_cli("status", folder, "-r", registry, "--json", out)
    assert "Traceback" not in proc.stdout + proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    [dept] = data["by_department"]
    assert (dept["department"], dept["units"], dept["projects"], dept["accepted"], dept["missing"]) == (
        TREE_DEPARTMENT, 3, 15, 15, 0)
    by_unit = {u["unit_code"]: u for u in data["by_unit"]}
    assert [(by_unit[TREE_UNITS[u][0]]["projects"], by_unit[TREE_UNITS[u][0]]["accepted"]) for u in "ABC"] == [
        (7, 7), (7, 7), (1, 1)]
    data["_stdout"] = proc.stdout
    return data


def inbox(root: Path, name: str, *files: Path) -> Path:
    """A fresh folder *root/name* holding copies of *files* (the originals stay untouched)."""
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for f in files:
        shutil.copy2(f, folder / f.name)
    return folder
