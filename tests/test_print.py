"""What the printed forms show: a long project name in full, the 问题清单 one page wide, a guide per form."""
from __future__ import annotations

import re

import openpyxl

from soffice import pdf_page_count_and_sizes, pdf_text, require_soffice, to_pdf
from xlperf.feedback import write_feedback
from xlperf.fill import fill_workbook, input_cells, load_projects
from xlperf.guide import guide_lines
from xlperf.pipeline import run
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.rules import Options
from xlperf.spec import bundled_specs, load_spec
from xlperf.writer import generate

SPEC = load_spec()
LONG_NAME = "北戴河区新时代文明实践中心暨融媒体中心基层宣传思想文化阵地建设及理论宣讲志愿服务活动专项工作补助经费"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _long_name_round(tmp_path):
    """A registry row whose 项目名称 has 50 characters, its template and the seed fill of it."""
    registry = load_registry(bundled_registry_path())
    row = {**registry.rows[0], "项目名称": LONG_NAME}
    (tpl,) = generate(SPEC, [row], tmp_path / "templates", password="pw")
    return registry, row, tpl


def test_the_long_name_is_fifty_characters():
    assert len(LONG_NAME) == 50


def test_a_long_project_name_prints_in_full(tmp_path):
    require_soffice(need_poppler=True)
    _registry, _row, tpl = _long_name_round(tmp_path)
    ws = openpyxl.load_workbook(tpl)[SPEC.sheet]
    name_cell = SPEC.field("项目名称").cell
    assert ws[name_cell].alignment.wrap_text
    pdf = to_pdf(tpl, tmp_path / "pdf", sheet=SPEC.sheet)
    assert pdf_page_count_and_sizes(pdf)["pages"] == 1
    assert LONG_NAME in _cell_lines(pdf_text(pdf), LONG_NAME[:6])


def _cell_lines(layout: str, start: str, max_lines: int = 8) -> str:
    """The text of one wrapped cell in `pdftotext -layout` output: its lines begin in the same column,
    with the row's other cells (labels) left of it."""
    lines = layout.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    col = lines[first].index(start)
    return "".join(_squeeze(line[col:]) for line in lines[first:first + max_lines])


def test_the_problem_list_is_the_first_tab_and_prints_one_page_wide(tmp_path):
    require_soffice(need_poppler=True)
    registry = load_registry(bundled_registry_path())
    row = registry.rows[0]
    (tpl,) = generate(SPEC, [row], tmp_path / "templates", password="pw")
    project = load_projects()[row["项目编码"]]
    cells = input_cells(SPEC, project)
    value_cells = sorted(ref for ref in cells if ref.startswith("E") and int(ref[1:]) >= SPEC.first_row)
    for ref in value_cells[:6]:
        cells[ref] = "≥**%"  # six placeholders: six long messages
    cells[SPEC.field("3月底").cell] = 150
    ret = tmp_path / "returns" / tpl.name
    assert fill_workbook(tpl, ret, cells, SPEC.sheet) == []
    (res,) = run([ret], registry, Options()).files
    assert res.status == "rejected" and len(res.issues) >= 7
    fb = write_feedback(res, registry, tmp_path / "fb", "pw")
    wb = openpyxl.load_workbook(fb)
    assert wb.sheetnames[0] == "问题清单" and wb.active.title == "问题清单" and SPEC.sheet in wb.sheetnames
    pdf = to_pdf(fb, tmp_path / "pdf", sheet="问题清单")
    info = pdf_page_count_and_sizes(pdf)
    # LibreOffice prints a sheet with a print area even when it is hidden: the form may follow; the
    # problem list's own pages are those that carry its header
    pages = [_squeeze(pdf_text(pdf, n)) for n in range(1, info["pages"] + 1)]
    own = [i for i, t in enumerate(pages) if "代码级别工作表单元格" in t or ("代码" in t and "E104" in t)]
    assert own == [0], (info, pages)  # one page, the first: the 说明 column used to print on a page of its own
    width, height = info["sizes"][0]
    assert width > height  # landscape
    text = pages[0]
    assert "代码级别工作表单元格说明" in text
    for issue in res.issues:  # every message printed in full, wrapped inside its cell
        assert _squeeze(issue.message()) in text, issue.message()


def test_each_form_guide_speaks_only_of_its_own_fields():
    specs = {s.kind: s for s in bundled_specs()}
    project, unit = ("\n".join(t for _k, t in guide_lines(specs[k])) for k in ("project", "unit"))
    locked_project = [f.name for f in specs["project"].locked_fields if f.name not in {f.name for f in specs["unit"].fields}]
    assert locked_project and all(name in project for name in locked_project)
    assert not [name for name in locked_project if name in unit]
    assert "指标" not in unit  # no indicator table on the unit-level form
    assert all(sec.name in unit for sec in specs["unit"].sections)
    assert specs["unit"].key in unit and specs["project"].key in project


def test_the_guide_sheet_prints_one_page_wide(tmp_path):
    registry = load_registry(bundled_registry_path())
    (tpl,) = generate(SPEC, registry.rows[:1], tmp_path, password="pw")
    ws = openpyxl.load_workbook(tpl)[SPEC.guide_sheet]
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
