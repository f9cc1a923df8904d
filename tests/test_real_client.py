"""Real-client tests: generated templates as LibreOffice 7.4 sees, fills, saves and prints them.

Issue "Templates that look like the official form and survive Excel, WPS and LibreOffice".
Every test calls ``require_soffice()`` (skip without LibreOffice, FAIL with
XLPERF_REQUIRE_SOFFICE=1). The LibreOffice calls (~2-3 s each) run once per module in
fixtures: one inspect, two fills, one PDF export.

What is proved here:
1. protection, unlocked cells, validations and hidden sheets of a template, as LibreOffice reads them;
2. a return filled and saved by LibreOffice (veryHidden metadata sheet becomes plain hidden,
   fonts and validations rewritten) validates and is consolidated with no loss of any filled value;
3. the form prints one A4 page wide and looks like the seed's 项目绩效目标表 (docs/img/template_project.png);
4. tampering with a locked value (E102) and a renamed return (W206) are caught in a LibreOffice-saved file.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from xlperf.fill import input_cells, load_projects
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.spec import load_spec, make_ref, parse_ref
from xlperf.writer import generate

from soffice import (cells_of, pdf_page_count_and_sizes, pdf_to_png, require_soffice, sheet_of, to_pdf,
                     uno_fill, uno_inspect)

ROOT = Path(__file__).resolve().parents[1]
DOC_PNG = ROOT / "docs" / "img" / "template_project.png"
PASSWORD = "real-client-test"
CODE_A = "130304211DGTGIWENVORV"  # 党史宣传研究工作经费, not classified
CODE_B = "130304216Z9IPX6A6LYSU"  # 安可替代工程经费, classified (涉密)
# Locked cells a LibreOffice "user" tries to type into: title, 项目编码, 预算数, 一级指标 label.
LOCKED_TRIES = {"A1": "篡改标题", "B3": "130304211XXXXXXXXXXXX", "B5": 999, "A10": "篡改"}
A4_PT = (595.3, 841.9)


# --------------------------------------------------------------------- helpers

def xlperf_exe() -> list[str]:
    exe = Path(sys.executable).with_name("xlperf")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "xlperf.cli"]


def run_xlperf(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "XLPERF_LANG": "zh"}
    return subprocess.run([*xlperf_exe(), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def validate_json(path: Path, registry: Path, tmp: Path) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp / f"report_{path.stem}.json"
    proc = run_xlperf("validate", path, "--registry", registry, "--json", report)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc, json.loads(report.read_text(encoding="utf-8"))




def list_items(doc: dict, formula1: str) -> list[str]:
    """The choices of a LIST validation: an inline '"a";"b"' list or a '$Sheet.$A$1:$A$5' range."""
    if formula1.startswith('"'):
        return re.findall(r'"([^"]*)"', formula1)
    m = re.fullmatch(r"\$?'?([^.']+)'?\.\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", formula1)
    assert m, f"unexpected list source {formula1!r}"
    sheet = sheet_of(doc, m.group(1))
    col, first, last = m.group(2), int(m.group(3)), int(m.group(5))
    assert m.group(4) == col
    return [sheet["cells"].get(f"{col}{r}") for r in range(first, last + 1)]


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def pdf_page_text(pdf: Path, page: int) -> str:
    r = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


# --------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def projects():
    return load_projects()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    require_soffice()
    return tmp_path_factory.mktemp("real_client")


@pytest.fixture(scope="module")
def registry_rows():
    rows = {r["项目编码"]: r for r in load_registry(bundled_registry_path()).rows}
    return [rows[CODE_A], rows[CODE_B]]


@pytest.fixture(scope="module")
def small_registry(work) -> Path:
    """The bundled registry cut down to projects A and B, so that consolidating their two
    returns leaves nothing 未报送 (exit 0)."""
    src = bundled_registry_path()
    with src.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, [r for r in reader if r["项目编码"] in (CODE_A, CODE_B)]
    assert len(rows) == 2
    out = work / "registry_ab.csv"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    return out


@pytest.fixture(scope="module")
def templates(spec, registry_rows, work) -> dict[str, Path]:
    paths = generate(spec, registry_rows, work / "templates", password=PASSWORD)
    return {CODE_A: paths[0], CODE_B: paths[1]}


@pytest.fixture(scope="module")
def inspected(templates) -> dict:
    return uno_inspect(templates[CODE_A])


@pytest.fixture(scope="module")
def fill_values(spec, projects) -> dict[str, dict]:
    """A1 ref -> value a sub-unit types, per project. Project A gets two more rows in the second
    数量指标 slot, one of them text that looks like a formula (it must stay text)."""
    a = dict(input_cells(spec, projects[CODE_A]))
    slot2 = next(s for s in spec.slot_rows() if s.level2 == "数量指标" and s.index == 1)
    r = slot2.row0 + 1
    a.update({f"C{r}": "=出版册数（第二个三级指标）", f"D{r}": "+另行印制的党史宣传册数量",
              f"E{r}": "≥2000册", f"F{r}": "本单位印刷计划"})
    return {CODE_A: a, CODE_B: dict(input_cells(spec, projects[CODE_B]))}


@pytest.fixture(scope="module")
def filled(spec, templates, fill_values, work) -> dict[str, dict]:
    """Fill both templates through LibreOffice (unlocked cells only) and save as xlsx."""
    out = {}
    for code, tpl in templates.items():
        values = dict(fill_values[code])
        if code == CODE_A:
            values.update(LOCKED_TRIES)
        target = work / "returns" / tpl.name
        res = uno_fill(tpl, target, {spec.sheet: values})
        out[code] = {"path": target, "result": res}
    return out


@pytest.fixture(scope="module")
def consolidated(filled, small_registry, work) -> dict:
    returns = work / "returns"
    master = work / "master.xlsx"
    report = work / "consolidate.json"
    proc = run_xlperf("consolidate", returns, "--registry", small_registry, "-o", master,
                      "--json", report)
    return {"proc": proc, "master": master, "report": json.loads(report.read_text(encoding="utf-8"))
            if report.exists() else None}


@pytest.fixture(scope="module")
def template_pdf(templates, work) -> Path:
    require_soffice(need_poppler=True)
    return to_pdf(templates[CODE_A], work / "pdf")


# ------------------------------------------------------ 1. what LibreOffice sees

def test_sheets_visibility_and_protection(spec, inspected):
    require_soffice()
    names = [s["name"] for s in inspected["sheets"]]
    assert names[0] == spec.sheet  # the form opens first
    assert set(names) == {spec.sheet, spec.guide_sheet, spec.lists_sheet, spec.meta_sheet}
    form = sheet_of(inspected, spec.sheet)
    assert form["visible"] is True and form["protected"] is True
    guide = sheet_of(inspected, spec.guide_sheet)
    assert guide["visible"] is True and guide["protected"] is True
    assert guide["unlocked"] == []
    assert sheet_of(inspected, spec.lists_sheet)["visible"] is False
    meta = sheet_of(inspected, spec.meta_sheet)
    assert meta["visible"] is False  # veryHidden; LibreOffice only knows "hidden"
    assert meta["cells"]["A1"] == "form_id" and meta["cells"]["B1"] == spec.id


def test_unlocked_cells_are_exactly_the_input_cells(spec, inspected):
    require_soffice()
    form = sheet_of(inspected, spec.sheet)
    slot_cells = {make_ref(s.row0, parse_ref(c.col + "1")[1]) for s in spec.slot_rows() for c in spec.columns}
    assert len(slot_cells) == len(spec.level2s) * spec.slots * len(spec.columns)
    # What the reader reads: the input fields' cells (top-left of a merged input) + indicator slots.
    top_left = {f.cell for f in spec.input_fields} | slot_cells
    # LibreOffice reports every cell of a merged input range as unlocked (xlsxwriter formats
    # the whole range); the covered cells are not reachable on their own.
    whole = set(slot_cells)
    for f in spec.input_fields:
        whole |= cells_of(f.merge or f.cell)
    unlocked = set(form["unlocked"])
    assert len(form["unlocked"]) == len(unlocked)
    assert unlocked == whole, (sorted(unlocked - whole), sorted(whole - unlocked))
    covered = set()
    for rng in form["merged"]:
        covered |= cells_of(rng) - {rng.split(":")[0]}
    assert unlocked - covered == top_left
    merged = set(form["merged"])
    for f in spec.input_fields:
        if f.merge:
            assert f.merge in merged, f.merge
    # locked sample: title, 项目编码, 预算数, 一级指标, 项目名称, 二级指标, header row
    for ref in ("A1", "B3", "E3", "B5", "C5", "D5", "A10", "B10", "C9", "F9"):
        assert ref not in unlocked, ref


def test_locked_values_and_labels(spec, registry_rows, inspected):
    require_soffice()
    cells = sheet_of(inspected, spec.sheet)["cells"]
    row = registry_rows[0]
    assert cells["A1"] == spec.title
    assert cells["A2"] == f"{row['单位编码']}{row['单位名称']}"
    assert cells["E2"] == "单位：万元"
    assert cells["B3"] == CODE_A and cells["E3"] == row["项目名称"]
    assert cells["B5"] == pytest.approx(float(row["预算数"]))
    assert [cells[f"{c}9"] for c in "ABCDEF"] == list(spec.headers)
    assert cells["A10"] == "产出指标" and cells["B10"] == "数量指标"


def test_validations_and_chinese_prompts(spec, inspected):
    require_soffice()
    form = sheet_of(inspected, spec.sheet)
    by_range = {}
    for v in form["validations"]:
        for rng in v["ranges"]:
            by_range[rng] = v
    for name in ("3月底", "6月底", "10月底", "12月底"):
        f = spec.field(name)
        v = by_range[f.cell]
        assert (v["type"], v["operator"]) == ("DECIMAL", "BETWEEN"), v
        assert float(v["formula1"]) == 0 and float(v["formula2"]) == 100
        assert v["error_style"] == "STOP" and v["show_error_message"] is True
        assert v["show_input_message"] is True and v["input_title"] == name
        assert v["input_message"] == f.prompt and has_cjk(v["input_message"])
        assert has_cjk(v["error_message"])

    secret = spec.field("涉密")
    v = by_range[secret.cell]
    assert v["type"] == "LIST" and v["error_style"] == "STOP"
    assert list_items(inspected, v["formula1"]) == ["是", "否"]
    assert v["show_input_message"] is True and v["input_message"] == secret.prompt
    assert has_cjk(v["input_message"])

    basis = spec.column("指标值确定依据")
    slots = spec.slot_rows()
    rng = f"{basis.col}{slots[0].row0 + 1}:{basis.col}{slots[-1].row0 + 1}"
    v = by_range[rng]
    assert v["type"] == "LIST"
    assert v["formula1"].lstrip("$").startswith(spec.lists_sheet + "."), v["formula1"]
    items = list_items(inspected, v["formula1"])
    assert items == list(basis.suggest) and len(items) == 5
    # a suggestion list: other text is allowed after an information message
    assert v["error_style"] == "INFO"
    assert v["input_message"] == basis.prompt and has_cjk(v["input_message"])
    assert all(has_cjk(v["input_message"]) for v in form["validations"])


# ------------------------------------------- 2. LibreOffice fills, xlperf reads back

def test_libreoffice_fill_writes_inputs_and_refuses_locked(spec, filled, fill_values):
    require_soffice()
    res = filled[CODE_A]["result"]
    assert sorted(res["refused"]) == sorted(f"{spec.sheet}!{r}" for r in LOCKED_TRIES)
    assert set(res["refused_reasons"].values()) == {"locked"}
    assert res["written"] == [f"{spec.sheet}!{r}" for r in fill_values[CODE_A]]
    res_b = filled[CODE_B]["result"]
    assert res_b["refused"] == [] and len(res_b["written"]) == len(fill_values[CODE_B])

    wb = openpyxl.load_workbook(filled[CODE_A]["path"])
    ws = wb[spec.sheet]
    assert ws.protection.sheet is True  # protection survives LibreOffice's save
    assert ws["B5"].value == pytest.approx(2.7) and ws["A1"].value == spec.title
    assert wb[spec.meta_sheet].sheet_state == "hidden"  # veryHidden -> hidden
    assert wb[spec.lists_sheet].sheet_state == "hidden"
    assert ws["B7"].value == 25 and ws["B7"].data_type == "n"  # numbers stay numbers
    slot2 = next(s for s in spec.slot_rows() if s.level2 == "数量指标" and s.index == 1)
    cell = ws[f"C{slot2.row0 + 1}"]
    assert cell.data_type == "s" and cell.value.startswith("=")  # typed text is no formula


def test_validate_accepts_libreoffice_returns(filled, work):
    require_soffice()
    registry = bundled_registry_path()
    for code in (CODE_A, CODE_B):
        proc, report = validate_json(filled[code]["path"], registry, work)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (f,) = report["files"]
        assert f["status"] == "accepted", f["issues"]
        assert f["project_code"] == code
        assert not [i for i in f["issues"] if i["severity"] == "error"]


def test_consolidate_reads_back_every_filled_value(spec, consolidated, fill_values, projects, filled):
    require_soffice()
    proc = consolidated["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert consolidated["report"]["summary"]["accepted"] == 2
    wb = openpyxl.load_workbook(consolidated["master"], read_only=True)

    def table(name):
        rows = list(wb[name].iter_rows(values_only=True))
        header = rows[0]
        return [dict(zip(header, r)) for r in rows[1:] if any(v is not None for v in r)]

    summary = {r["项目编码"]: r for r in table("项目汇总")}
    assert set(summary) == {CODE_A, CODE_B}
    for code in (CODE_A, CODE_B):
        p, row = projects[code], summary[code]
        assert row["资金用途"] == p["资金用途"]
        assert row["绩效目标"] == p["绩效目标"]  # multi-line text, newlines kept
        assert row["涉密"] == ("是" if p["涉密"] else "否")
        for month, pct in p["资金支出计划"].items():
            assert row[month] == pct / 100, (code, month, row[month])
        assert Path(row["来源文件"]).name == filled[code]["path"].name
    assert summary[CODE_B]["涉密"] == "是"

    # every indicator cell that was typed, keyed by its source row
    expected = {}
    for code in (CODE_A, CODE_B):
        values = fill_values[code]
        for s in spec.slot_rows():
            refs = {c.name: make_ref(s.row0, parse_ref(c.col + "1")[1]) for c in spec.columns}
            if any(r in values for r in refs.values()):
                expected[(code, s.row0 + 1)] = (s, {n: values.get(r) for n, r in refs.items()})
    got = {}
    for r in table("绩效指标"):
        first = r["来源单元格"].split(":")[0]
        got[(r["项目编码"], parse_ref(first)[0] + 1)] = r
    assert set(got) == set(expected)
    assert len([k for k in got if k[0] == CODE_A]) == len(projects[CODE_A]["indicators"]) + 1
    for key, (slot, vals) in expected.items():
        r = got[key]
        assert (r["一级指标"], r["二级指标"]) == (slot.level1, slot.level2), key
        assert r["三级指标"] == vals["三级指标"], key
        assert r["绩效指标描述"] == vals["绩效指标描述"], key
        assert r["原始指标值"] == vals["指标值"], key
        assert r["指标值确定依据"] == vals["指标值确定依据"], key


# ------------------------------------------------------------- 3. print / picture

def test_form_prints_one_a4_page_wide(spec, template_pdf):
    require_soffice(need_poppler=True)
    info = pdf_page_count_and_sizes(template_pdf)
    assert info["pages"] == len(info["sizes"])
    for w, h in info["sizes"]:  # A4 portrait
        assert w == pytest.approx(A4_PT[0], abs=1) and h == pytest.approx(A4_PT[1], abs=1)
    texts = [pdf_page_text(template_pdf, i + 1) for i in range(info["pages"])]
    form_pages = [i for i, t in enumerate(texts) if spec.guide_sheet not in t]
    guide_pages = [i for i, t in enumerate(texts) if spec.guide_sheet in t]
    # the whole form (3 slots per 二级指标) is page 1; the visible 填报说明 prints after it
    assert form_pages == [0], [t[:200] for t in texts]
    assert guide_pages and guide_pages[0] == 1
    page1 = texts[0]
    lines = page1.splitlines()
    # all six columns side by side on one line: the table fits the page width
    header = [ln for ln in lines if "一级指标" in ln and "指标值确定依据" in ln]
    assert header, page1
    assert re.search(r"一级指标\s+二级指标\s+三级指标\s+绩效指标描述\s+指标值\s+指标值确定依据", header[0])
    assert any("3月底" in ln and "12月底" in ln and "是否涉密" in ln for ln in lines)
    for text in (spec.title, "单位：万元", "项目编码", CODE_A, "项目名称", "预算规模及资金", "资金用途",
                 "资金支出计划", "绩效目标", "满意度指标", "服务对象满意度指标"):
        assert text in page1, text
    # the last 二级指标 is on page 1 too: no row spilled onto a second form page
    assert page1.index("服务对象满意度指标") > page1.index("数量指标")


def test_template_picture(template_pdf, work):
    require_soffice(need_poppler=True)
    png = pdf_to_png(template_pdf, work / "template_project.png", dpi=100)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 10_000 < len(data) < 400_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == pytest.approx((round(A4_PT[0] / 72 * 100), round(A4_PT[1] / 72 * 100)), abs=2)
    # docs/img/template_project.png: created when missing, refreshed with XLPERF_UPDATE_DOCS=1
    # (a normal test run does not rewrite a committed file)
    if not DOC_PNG.exists() or os.environ.get("XLPERF_UPDATE_DOCS") == "1":
        DOC_PNG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, DOC_PNG)
    assert DOC_PNG.stat().st_size < 400_000


# ------------------------------------------------------------------ 4. tampering

def test_tampered_locked_budget_is_rejected(spec, filled, work):
    require_soffice()
    src = filled[CODE_A]["path"]
    # LibreOffice (like Excel) refuses the locked cell, see the fill test; a determined user
    # unprotects the sheet or edits the file with a script: do that with openpyxl.
    assert f"{spec.sheet}!B5" in filled[CODE_A]["result"]["refused"]
    tampered = work / "tampered" / src.name
    tampered.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.load_workbook(src)
    ws = wb[spec.sheet]
    ws.protection.sheet = False
    ws["B5"].value = 27
    wb.save(tampered)
    proc, report = validate_json(tampered, bundled_registry_path(), work)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (f,) = report["files"]
    assert f["status"] == "rejected" and f["project_code"] == CODE_A
    e102 = [i for i in f["issues"] if i["code"] == "E102"]
    assert [(i["sheet"], i["cell"]) for i in e102] == [(spec.sheet, "B5")], f["issues"]
    assert e102[0]["severity"] == "error" and "预算数" in e102[0]["message"]
    assert "27.00" in e102[0]["message"] and "2.70" in e102[0]["message"]
    assert f"{spec.sheet}!B5" in proc.stdout


def test_renamed_return_warns_and_keeps_identity(spec, filled, templates, work):
    require_soffice()
    renamed = work / "renamed" / templates[CODE_B].name  # project A's return, B's file name
    renamed.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(filled[CODE_A]["path"], renamed)
    assert renamed.name.startswith(CODE_B)
    proc, report = validate_json(renamed, bundled_registry_path(), work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (f,) = report["files"]
    assert f["status"] == "accepted" and f["project_code"] == CODE_A
    w206 = [i for i in f["issues"] if i["code"] == "W206"]
    assert len(w206) == 1, f["issues"]
    assert (w206[0]["sheet"], w206[0]["cell"]) == (spec.meta_sheet, "project_code")
    assert w206[0]["severity"] == "warning"
    assert CODE_A in w206[0]["message"] and CODE_B in w206[0]["message"]
