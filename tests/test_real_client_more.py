"""More real-client tests (LibreOffice 7.4 headless): the unit-level form, the master workbook
and the feedback workbook, as LibreOffice reads, fills, saves and prints them.

Every test calls ``require_soffice()`` (skip without LibreOffice, FAIL with
XLPERF_REQUIRE_SOFFICE=1). LibreOffice calls cost ~2-3 s each, so they run once per module in
fixtures: 3 inspects, 2 fills, 3 PDF exports. One collection round is built from the bundled
seed (like ``xlperf demo``, but with one return broken and one project missing, so the master
shows every state):

1. the unit-level form 部门整体绩效目标 (spec ``unit``): protection, unlocked cells and
   hidden metadata as LibreOffice sees them; filled through LibreOffice with the seed's Part 1,
   it validates and every paragraph reaches the master's 部门整体目标 sheet unchanged;
   printed to ``docs/img/template_unit.png``;
2. the master workbook: numbers are numbers, LibreOffice sees the native chart on 概览, and the
   概览 sheet prints on one A4 landscape page with the chart (``docs/img/master_overview.png``);
3. the feedback workbook of a rejected return: comments and 问题清单 as LibreOffice reads them,
   the form still protected; a LibreOffice "user" fixes the marked cells (unlocked cells only)
   and the fixed file is accepted; printed to ``docs/img/feedback.png``.

Pictures under docs/img are written when missing, refreshed with XLPERF_UPDATE_DOCS=1
(a normal test run does not rewrite a committed file):
``XLPERF_UPDATE_DOCS=1 python -m pytest tests/test_real_client_more.py -k picture``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from xlperf.fill import fill_project, input_cells, load_projects, load_unit
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.spec import load_spec, parse_ref
from xlperf.writer import generate, unit_rows

from soffice import (cells_of, pdf_page_count_and_sizes, pdf_to_png, require_soffice, sheet_of, to_pdf,
                     uno_fill, uno_inspect)

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
PASSWORD = "real-client-more"
UNIT_CODE = "201001"
CODE_BROKEN = "130304211DGTGIWENVORV"   # 党史宣传研究工作经费: E10 ≥100本, C7 (6月底) 50
CODE_MISSING = "13030421ZDOCLUKTOABUF"  # 保密工作经费: never returned
BROKEN = {"E10": "≥**%", "C7": 20}      # E110 placeholder, E105 plan decreasing
A4_PT = (595.3, 841.9)
MASTER_SHEETS = ("项目汇总", "绩效指标", "问题清单", "未报送", "概览", "部门整体目标")


# --------------------------------------------------------------------- helpers

def xlperf_exe() -> list[str]:
    exe = Path(sys.executable).with_name("xlperf")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "xlperf.cli"]


def run_xlperf(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "XLPERF_LANG": "zh"}
    proc = subprocess.run([*xlperf_exe(), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def validate_json(path: Path, tmp: Path, *extra) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp / f"report_{path.stem}.json"
    proc = run_xlperf("validate", path, "--registry", bundled_registry_path(), "--json", report, *extra)
    return proc, json.loads(report.read_text(encoding="utf-8"))




def table(cells: dict, first_row: int = 1) -> list[dict]:
    """The rows of a header + rows sheet as UNO ``inspect`` reports it: [{header: value}]."""
    cols: dict[str, str] = {}
    rows: dict[int, dict] = {}
    for ref, value in cells.items():
        row, col = parse_ref(ref)
        letters = ref.rstrip("0123456789")
        if row + 1 == first_row:
            cols[letters] = value
        elif row + 1 > first_row:
            rows.setdefault(row, {})[letters] = value
    return [{cols[c]: v for c, v in r.items() if c in cols} for _, r in sorted(rows.items())]


def pdf_text(pdf: Path, page: int | None = None) -> str:
    rng = ["-f", str(page), "-l", str(page)] if page else []
    r = subprocess.run(["pdftotext", "-layout", *rng, str(pdf), "-"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def count_colour(pdf: Path, rgb: tuple[int, int, int], tol: int = 12, dpi: int = 50) -> int:
    """Pixels of page 1 within *tol* of *rgb* (rendered with pdftoppm as PPM; no Pillow needed)."""
    r = subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", str(dpi), str(pdf)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    data = r.stdout
    assert data[:2] == b"P6", data[:20]
    parts = data.split(maxsplit=4)  # P6, width, height, maxval, pixels
    w, h = int(parts[1]), int(parts[2])
    px = parts[4][: w * h * 3]
    n = 0
    for i in range(0, len(px), 3):
        if (abs(px[i] - rgb[0]) <= tol and abs(px[i + 1] - rgb[1]) <= tol
                and abs(px[i + 2] - rgb[2]) <= tol):
            n += 1
    return n


def png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def publish_picture(png: Path, name: str) -> Path:
    """Copy a rendered picture to docs/img/NAME when missing or XLPERF_UPDATE_DOCS=1."""
    target = IMG / name
    if not target.exists() or os.environ.get("XLPERF_UPDATE_DOCS") == "1":
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, target)
    assert target.stat().st_size < 400_000
    return target


# --------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    require_soffice()
    return tmp_path_factory.mktemp("real_client_more")


@pytest.fixture(scope="module")
def pspec():
    return load_spec()


@pytest.fixture(scope="module")
def uspec():
    return load_spec("unit")


@pytest.fixture(scope="module")
def unit():
    return load_unit()


@pytest.fixture(scope="module")
def registry_rows():
    return load_registry(bundled_registry_path()).rows


@pytest.fixture(scope="module")
def unit_template(uspec, registry_rows, work) -> Path:
    [path] = generate(uspec, unit_rows(registry_rows), work / "templates", password=PASSWORD)
    return path


@pytest.fixture(scope="module")
def unit_inspected(unit_template) -> dict:
    return uno_inspect(unit_template)


@pytest.fixture(scope="module")
def unit_filled(uspec, unit, unit_template, work) -> dict:
    """The seed's Part 1 typed through LibreOffice (plus one try at the locked unit line)."""
    values = dict(input_cells(uspec, unit))
    values["A2"] = "篡改单位"
    target = work / "returns" / unit_template.name
    res = uno_fill(unit_template, target, {uspec.sheet: values})
    return {"path": target, "result": res}


@pytest.fixture(scope="module")
def broken_return(pspec, registry_rows, work) -> Path:
    """Project A filled with the seed values by openpyxl, then two cells broken."""
    row = next(r for r in registry_rows if r["项目编码"] == CODE_BROKEN)
    [tpl] = generate(pspec, [row], work / "broken_tpl", password=PASSWORD)
    out = work / "broken" / tpl.name
    assert fill_project(tpl, out, load_projects()[CODE_BROKEN], pspec) == []
    wb = openpyxl.load_workbook(out)
    ws = wb[pspec.sheet]
    for ref, value in BROKEN.items():
        ws[ref].value = value
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def round_master(pspec, registry_rows, unit_filled, broken_return, work) -> dict:
    """A round like the demo's: 13 good returns (openpyxl), the broken one, one project missing,
    and the unit form filled by LibreOffice; consolidated with the bundled registry."""
    returns = work / "returns"
    projects = load_projects()
    rows = [r for r in registry_rows if r["项目编码"] not in (CODE_BROKEN, CODE_MISSING)]
    for tpl in generate(pspec, rows, work / "templates", password=PASSWORD):
        assert fill_project(tpl, returns / tpl.name, projects[tpl.name[:21]], pspec) == []
    shutil.copyfile(broken_return, returns / broken_return.name)
    master = work / "master.xlsx"
    report = work / "consolidate.json"
    proc = run_xlperf("consolidate", returns, "--registry", bundled_registry_path(), "-o", master,
                      "--json", report)
    return {"proc": proc, "master": master, "report": json.loads(report.read_text(encoding="utf-8")),
            "accepted": sorted(r["项目编码"] for r in rows)}


@pytest.fixture(scope="module")
def master_inspected(round_master) -> dict:
    return uno_inspect(round_master["master"])


@pytest.fixture(scope="module")
def feedback(broken_return, work) -> dict:
    fb_dir = work / "feedback"
    proc, report = validate_json(broken_return, work, "--feedback", fb_dir)
    files = sorted(fb_dir.glob("*.xlsx"))
    return {"proc": proc, "report": report, "dir": fb_dir, "files": files}


@pytest.fixture(scope="module")
def feedback_inspected(feedback) -> dict:
    assert len(feedback["files"]) == 1, feedback["proc"].stdout
    return uno_inspect(feedback["files"][0])


@pytest.fixture(scope="module")
def feedback_fixed(pspec, feedback, work) -> dict:
    """The unit fixes the marked error cells in LibreOffice (and tries a locked one)."""
    good = input_cells(pspec, load_projects()[CODE_BROKEN])
    values = {ref: good[ref] for ref in BROKEN}
    values["B5"] = 99  # 预算数: locked
    src = feedback["files"][0]
    target = work / "fixed" / src.name
    return {"path": target, "values": values, "result": uno_fill(src, target, {pspec.sheet: values})}


# ------------------------------------------------------- 1. the unit-level form

def test_unit_form_protection_and_sheets(uspec, unit_inspected):
    require_soffice()
    names = [s["name"] for s in unit_inspected["sheets"]]
    assert names[0] == uspec.sheet == "部门整体绩效目标"
    form = sheet_of(unit_inspected, uspec.sheet)
    assert form["visible"] is True and form["protected"] is True
    guide = sheet_of(unit_inspected, uspec.guide_sheet)
    assert guide["protected"] is True and guide["unlocked"] == []
    meta = sheet_of(unit_inspected, uspec.meta_sheet)
    assert meta["visible"] is False
    assert meta["cells"]["B1"] == uspec.id and meta["cells"]["B3"] == "unit"
    assert str(meta["cells"]["B5"]) == UNIT_CODE
    cells = form["cells"]
    assert cells["A1"] == "部门整体绩效目标"
    assert cells["A2"].startswith(UNIT_CODE) and "北戴河区委员会办公室" in cells["A2"]
    assert (cells["A3"], cells["A4"], cells["A17"]) == ("总体绩效目标", "分项绩效目标", "工作保障措施")


def test_unit_form_unlocked_cells(uspec, unit_inspected):
    require_soffice()
    form = sheet_of(unit_inspected, uspec.sheet)
    expected: set[str] = set()
    for f in uspec.input_fields:  # 总体绩效目标 B3:D3, the two 概述 B5:D5, B18:D18
        expected |= cells_of(f.merge or f.cell)
    assert {f.merge for f in uspec.input_fields} == {"B3:D3", "B5:D5", "B18:D18"}
    assert [(s.first_row, s.slots) for s in uspec.sections] == [(7, 10), (20, 10)]
    for sec in uspec.sections:  # title in B, text in C merged to D, one row per item
        for r in range(sec.first_row, sec.first_row + sec.slots):
            expected |= {f"{sec.title_col}{r}"} | cells_of(f"{sec.text_col}{r}:{sec.text_merge_to}{r}")
    unlocked = set(form["unlocked"])
    assert unlocked == expected, (sorted(unlocked - expected), sorted(expected - unlocked))
    merged = set(form["merged"])
    assert {"B3:D3", "B5:D5", "B18:D18", "C7:D7", "C16:D16", "C20:D20", "C29:D29"} <= merged
    for ref in ("A1", "A2", "A3", "A7", "A17", "B6", "C6", "A29"):  # labels and the unit line
        assert ref not in unlocked, ref


def test_unit_form_filled_by_libreoffice_validates(uspec, unit, unit_filled, work):
    require_soffice()
    res = unit_filled["result"]
    assert res["refused"] == [f"{uspec.sheet}!A2"] and res["refused_reasons"] == {f"{uspec.sheet}!A2": "locked"}
    assert len(res["written"]) == len(input_cells(uspec, unit))
    proc, report = validate_json(unit_filled["path"], work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (f,) = report["files"]
    assert f["status"] == "accepted", f["issues"]
    assert f.get("kind", "unit") == "unit"
    assert not [i for i in f["issues"] if i["severity"] == "error"]
    wb = openpyxl.load_workbook(unit_filled["path"])
    assert wb[uspec.sheet].protection.sheet is True
    assert wb[uspec.meta_sheet].sheet_state == "hidden"  # veryHidden -> hidden


def test_unit_paragraphs_reach_the_master_exactly(unit, unit_filled, round_master):
    require_soffice()
    proc = round_master["proc"]
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one rejected, one missing
    wb = openpyxl.load_workbook(round_master["master"], read_only=True)
    rows = list(wb["部门整体目标"].iter_rows(values_only=True))
    header, body = rows[0], [dict(zip(rows[0], r)) for r in rows[1:] if any(v is not None for v in r)]
    assert {"单位编码", "部分", "序号", "标题", "内容", "来源文件", "来源单元格"} <= set(header)
    got = {}
    for r in body:
        assert str(r["单位编码"]) == UNIT_CODE
        assert Path(r["来源文件"]).name == unit_filled["path"].name
        got[(r["部分"], int(r["序号"] or 0))] = (r["标题"] or "", r["内容"])
    expected = {}
    for part in ("总体绩效目标", "分项绩效目标概述", "工作保障措施概述"):
        expected[(part, 0)] = ("", unit[part])
    for part in ("分项绩效目标", "工作保障措施"):
        for i, item in enumerate(unit[part], start=1):
            expected[(part, i)] = (item["标题"], item["内容"])
    assert set(got) == set(expected)
    for key, (title, text) in expected.items():
        assert got[key] == (title, text), key  # multi-line text, every character kept
    assert len(body) == 3 + len(unit["分项绩效目标"]) + len(unit["工作保障措施"])


@pytest.fixture(scope="module")
def unit_pdf(uspec, unit_filled, work) -> Path:
    require_soffice(need_poppler=True)
    return to_pdf(unit_filled["path"], work / "pdf_unit", sheet=uspec.sheet)


def test_unit_form_picture(unit, unit_pdf, work):
    require_soffice(need_poppler=True)
    info = pdf_page_count_and_sizes(unit_pdf)
    for w, h in info["sizes"]:  # A4 portrait
        assert (w, h) == pytest.approx(A4_PT, abs=1)
    text = pdf_text(unit_pdf)
    assert "填报说明" not in text  # only the form sheet was printed
    for s in ("部门整体绩效目标", "总体绩效目标", "分项绩效目标", "工作保障措施",
              unit["分项绩效目标"][0]["标题"], unit["工作保障措施"][0]["标题"]):
        assert s in text, s
    png = pdf_to_png(unit_pdf, work / "template_unit.png", dpi=90)  # dense text: keep it < 400 KB
    assert png_size(png) == pytest.approx((round(A4_PT[0] / 72 * 90), round(A4_PT[1] / 72 * 90)), abs=2)
    assert 10_000 < png.stat().st_size < 400_000
    publish_picture(png, "template_unit.png")


# ------------------------------------------------------------ 2. the master workbook

def test_master_sheets_and_numbers(master_inspected, round_master, registry_rows):
    require_soffice()
    names = [s["name"] for s in master_inspected["sheets"] if s["visible"]]
    assert names == list(MASTER_SHEETS)
    # the master's own metadata (collection up a unit tree) is last and hidden from the officer
    assert [(s["name"], s["visible"]) for s in master_inspected["sheets"]][-1] == ("_xlperf_master", False)
    summary = table(sheet_of(master_inspected, "项目汇总")["cells"])
    assert sorted(r["项目编码"] for r in summary) == round_master["accepted"]
    budget = {r["项目编码"]: r for r in registry_rows}
    for r in summary:
        for col in ("预算数", "财政资金", "其他资金", "3月底", "6月底", "10月底", "12月底"):
            assert isinstance(r[col], (int, float)) and not isinstance(r[col], bool), (col, r[col])
        assert r["预算数"] == pytest.approx(float(budget[r["项目编码"]]["预算数"]))
        assert r["12月底"] == pytest.approx(1.0)  # 100 %, stored as a fraction shown as 100.00%
    indicators = table(sheet_of(master_inspected, "绩效指标")["cells"])
    assert {r["项目编码"] for r in indicators} == set(round_master["accepted"])
    missing = table(sheet_of(master_inspected, "未报送")["cells"])
    assert {r["项目编码"]: r["情况"] for r in missing} == {CODE_BROKEN: "已退回", CODE_MISSING: "未报送"}
    assert all(isinstance(r["预算数"], (int, float)) for r in missing)
    issues = table(sheet_of(master_inspected, "问题清单")["cells"])
    assert {("E105", "C7"), ("E110", "E10")} <= {(r.get("代码"), r.get("单元格")) for r in issues}


def test_master_overview_chart_seen_by_libreoffice(master_inspected):
    require_soffice()
    ov = sheet_of(master_inspected, "概览")
    (row, total) = table(ov["cells"])
    assert str(row["单位编码"]) == UNIT_CODE and total["单位编码"] == "合计"
    assert (row["项目数"], row["已通过"], row["已退回"], row["未报送"]) == (15, 13, 1, 1)
    assert isinstance(row["预算数合计"], float)
    assert len(ov["charts"]) == 1, ov["charts"]
    (chart,) = ov["charts"]
    assert chart["type"] == "com.sun.star.chart.BarDiagram"  # a column chart is a vertical bar chart
    assert chart["ranges"] and all(r.startswith("概览.") for r in chart["ranges"])
    # the series 已通过 / 已退回 / 未报送 (D..F) and the unit names (B) as categories
    covered = set().union(*(cells_of(r.split(".", 1)[1]) for r in chart["ranges"]))
    assert {"B2", "D2", "E2", "F2"} <= covered
    for s in master_inspected["sheets"]:
        if s["name"] != "概览":
            assert s["charts"] == [], s["name"]


@pytest.fixture(scope="module")
def master_pdf(round_master, work) -> Path:
    require_soffice(need_poppler=True)
    return to_pdf(round_master["master"], work / "pdf_master", sheet="概览")


def test_master_overview_picture(master_pdf, work):
    require_soffice(need_poppler=True)
    info = pdf_page_count_and_sizes(master_pdf)
    assert info["pages"] == 1  # table + chart on one page
    (w, h), = info["sizes"]
    assert (w, h) == pytest.approx((A4_PT[1], A4_PT[0]), abs=1)  # A4 landscape
    text = pdf_text(master_pdf)
    for s in ("单位编码", "已通过预算数", "合计", "报送情况", "项目数"):
        assert s in text, s
    # the chart is drawn: the stacked columns in LibreOffice's colours for xlsxwriter's
    # default series (已通过 blue, 已退回 red, 未报送 green), more than the legend's squares
    blue, red, green = (count_colour(master_pdf, rgb) for rgb in
                        ((0x4F, 0x81, 0xBD), (0xC0, 0x50, 0x4D), (0x9B, 0xBB, 0x59)))
    assert min(blue, red, green) > 100, (blue, red, green)
    # the value axis starts at 0: 13 accepted draw ~13 times as tall as 1 rejected
    assert blue > 8 * red, (blue, red)
    png = pdf_to_png(master_pdf, work / "master_overview.png", dpi=100)
    assert png_size(png) == pytest.approx((round(A4_PT[1] / 72 * 100), round(A4_PT[0] / 72 * 100)), abs=2)
    publish_picture(png, "master_overview.png")


# ----------------------------------------------------------- 3. the feedback workbook

def test_feedback_written_for_the_rejected_return(feedback):
    require_soffice()
    proc, report = feedback["proc"], feedback["report"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (f,) = report["files"]
    assert f["status"] == "rejected" and f["project_code"] == CODE_BROKEN
    errors = {(i["code"], i["cell"]) for i in f["issues"] if i["severity"] == "error"}
    assert errors == {("E105", "C7"), ("E110", "E10")}, f["issues"]
    assert len(feedback["files"]) == 1 and feedback["files"][0].name.endswith("_反馈.xlsx")
    assert (feedback["dir"] / "password.txt").is_file()


def test_feedback_as_libreoffice_sees_it(pspec, feedback, feedback_inspected):
    require_soffice()
    (f,) = feedback["report"]["files"]
    form = sheet_of(feedback_inspected, pspec.sheet)
    # the problem list is the first tab (what the unit reads first); the form keeps its name
    assert [s["name"] for s in feedback_inspected["sheets"][:2]] == ["问题清单", pspec.sheet]
    assert form["protected"] is True and form["visible"] is True
    assert sheet_of(feedback_inspected, pspec.meta_sheet)["visible"] is False
    # the unit's values are prefilled where they were typed, including the wrong ones
    assert form["cells"]["C7"] == 20 and form["cells"]["E10"] == "≥**%"
    assert form["cells"]["B3"] == CODE_BROKEN
    # one comment per marked cell, carrying the code and the Chinese message of every issue there
    by_cell: dict[str, list] = {}
    for i in f["issues"]:
        by_cell.setdefault(i["cell"], []).append(i)
    assert set(form["comments"]) == set(by_cell)
    for cell, issues in by_cell.items():
        for i in issues:
            assert f"[{i['code']}]" in form["comments"][cell] and i["message"] in form["comments"][cell]
    assert "资金支出计划应逐期累计不减少" in form["comments"]["C7"]
    assert "占位符" in form["comments"]["E10"]
    # the problem cells stay input cells, the locked ones stay locked
    unlocked = set(form["unlocked"])
    assert {"C7", "E10", "D16", "E16"} <= unlocked
    assert not {"A1", "B3", "B5", "C5", "A10", "B10"} & unlocked
    # 问题清单 lists every issue, in the report's order
    problems = table(sheet_of(feedback_inspected, "问题清单")["cells"])
    assert [(p["代码"], p["工作表"], p["单元格"], p["说明"]) for p in problems] == \
        [(i["code"], i["sheet"], i["cell"], i["message"]) for i in f["issues"]]
    assert {p["级别"] for p in problems} == {"错误", "提示"}


def test_feedback_highlight_is_a_conditional_format(pspec, feedback):
    require_soffice()
    wb = openpyxl.load_workbook(feedback["files"][0])
    ws = wb[pspec.sheet]
    marked = {str(cf.sqref) for cf in ws.conditional_formatting}
    (f,) = feedback["report"]["files"]
    assert {i["cell"] for i in f["issues"]} <= marked


def test_feedback_fixed_in_libreoffice_is_accepted(pspec, feedback_fixed, work):
    require_soffice()
    res = feedback_fixed["result"]
    assert res["refused"] == [f"{pspec.sheet}!B5"]
    assert sorted(res["written"]) == sorted(f"{pspec.sheet}!{r}" for r in BROKEN)
    proc, report = validate_json(feedback_fixed["path"], work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (f,) = report["files"]
    assert f["status"] == "accepted" and f["project_code"] == CODE_BROKEN
    assert [i for i in f["issues"] if i["severity"] == "error"] == []
    wb = openpyxl.load_workbook(feedback_fixed["path"], read_only=True)
    ws = wb[pspec.sheet]
    assert ws["C7"].value == 50 and ws["E10"].value == "≥100本"


@pytest.fixture(scope="module")
def feedback_pdf(pspec, feedback, work) -> Path:
    require_soffice(need_poppler=True)
    return to_pdf(feedback["files"][0], work / "pdf_feedback", sheet=pspec.sheet)


def test_feedback_picture(pspec, feedback_pdf, work):
    require_soffice(need_poppler=True)
    info = pdf_page_count_and_sizes(feedback_pdf)
    assert info["pages"] == 1 and info["sizes"][0] == pytest.approx(A4_PT, abs=1)
    text = pdf_text(feedback_pdf)
    assert pspec.title in text and CODE_BROKEN in text and "≥**%" in text
    # the marked cells print with the light red fill of the conditional format (#FFC7CE)
    assert count_colour(feedback_pdf, (0xFF, 0xC7, 0xCE), tol=6) > 200
    png = pdf_to_png(feedback_pdf, work / "feedback.png", dpi=100)
    assert png_size(png) == pytest.approx((round(A4_PT[0] / 72 * 100), round(A4_PT[1] / 72 * 100)), abs=2)
    publish_picture(png, "feedback.png")
