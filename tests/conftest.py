"""Shared fixtures: the bundled registry, a demo round run once, and the CLI as a subprocess."""
from __future__ import annotations

import os
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
    proc = run_cli("demo", "-o", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    (out / "demo_stdout.txt").write_text(proc.stdout, encoding="utf-8")
    return out


# ------------------------------------------------------------ registry exports ----
BUDGET_EXPORT_HEADERS = ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", "财政拨款（元）", "其他资金（元）"]
SECOND_UNIT = ("201002", "秦皇岛市北戴河区财政局(本级)")


def budget_export_rows(year: int = 2022) -> list[dict]:
    """The two-unit round of write_budget_export: the first ten bundled projects (so the bundled
    content can fill them), five under the bundled unit and five under a second unit, amounts in 元.
    Each row also carries the amounts the registry must hold in 万元 (key "万元")."""
    import csv as _csv
    from decimal import ROUND_HALF_UP, Decimal

    with open(bundled_registry_path(), encoding="utf-8-sig", newline="") as fh:
        bundled = list(_csv.DictReader(fh))[:10]
    rows = []
    for i, b in enumerate(bundled):
        unit = (b["单位编码"], b["单位名称"]) if i < 5 else SECOND_UNIT
        total = Decimal(b["预算数"]) * 10000
        fiscal, other = total, Decimal(0)
        if i == 1:  # a project with other funds
            fiscal, other = total - 12000, Decimal(12000)
        if i == 6:  # 元 amounts that end in a half cent of 万元: 25050 元 = 2.505 万元 -> 2.51
            total = fiscal = Decimal(25050)
        amounts = {"预算数": total, "财政资金": fiscal, "其他资金": other}
        rows.append({"单位编码": unit[0], "单位名称": unit[1], "项目编码": b["项目编码"], "项目名称": b["项目名称"],
                     "元": amounts, "年度": year,
                     "万元": {k: (v / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP) for k, v in amounts.items()}})
    return rows


def write_budget_export(path: Path, year: int = 2022, *, year_column: bool = False) -> list[dict]:
    """Write a registry as a budget system exports it: a merged title row naming the year, a unit line
    (单位：元), a blank row, then the header (单位代码, 项目代码, 预算数（元）, 财政拨款（元）…) and two
    units of five projects each, codes as text, amounts in 元. Returns budget_export_rows(year)."""
    import openpyxl

    rows = budget_export_rows(year)
    headers = BUDGET_EXPORT_HEADERS + (["预算年度"] if year_column else [])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目支出预算"
    ws.append([f"{year}年部门预算项目支出明细表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append(["单位：元"])
    ws.append([])
    ws.append(headers)
    for r in rows:
        a = r["元"]
        ws.append([r["单位编码"], r["单位名称"], r["项目编码"], r["项目名称"], float(a["预算数"]), float(a["财政资金"]),
                   float(a["其他资金"])] + ([year] if year_column else []))
    for row in ws.iter_rows(min_row=5, max_col=3):
        for c in row:
            c.number_format = "@"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return rows
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
