"""Self-test of the LibreOffice real-client harness (tests/soffice.py + tests/lo/uno_tool.py).

Builds a small protected workbook with xlsxwriter and checks what LibreOffice sees in it,
that a LibreOffice "user" can type only into unlocked cells, and that it renders to PDF/PNG.
Skipped when LibreOffice is missing, failed instead when XLPERF_REQUIRE_SOFFICE=1.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

try:  # rootdir-relative import when tests/ becomes a package
    from tests.soffice import (pdf_page_count_and_sizes, pdf_to_png, require_soffice,
                               to_pdf, uno_fill, uno_inspect)
except ImportError:  # default pytest "prepend" import mode puts tests/ on sys.path
    from soffice import (pdf_page_count_and_sizes, pdf_to_png, require_soffice,
                         to_pdf, uno_fill, uno_inspect)

SHEET = "绩效目标"
HIDDEN = "选项"
UNLOCKED = ["B4", "B5", "C5"]
INPUT_TITLE = "请选择"
INPUT_MSG = "请从下拉列表中选择：是 或 否"


def build_workbook(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    title = wb.add_format({"bold": True})
    unlocked = wb.add_format({"locked": False, "border": 1})
    ws = wb.add_worksheet(SHEET)
    ws.set_column("A:A", 18)
    ws.set_column("B:C", 14)
    ws.write("A1", "项目绩效目标表", title)
    ws.write("A2", "单位名称")
    ws.write("B2", "示例单位")
    ws.write("A3", "年度")
    ws.write_number("B3", 2024)
    ws.write("A4", "是否完成")
    ws.write("A5", "完成值 / 备注")
    for ref in UNLOCKED:
        ws.write_blank(ref, None, unlocked)
    ws.data_validation("B4", {
        "validate": "list",
        "source": ["是", "否"],
        "input_title": INPUT_TITLE,
        "input_message": INPUT_MSG,
    })
    ws.write_comment("A4", "填写说明：只能选是或否")
    ws.protect("xlperf")

    hidden = wb.add_worksheet(HIDDEN)
    hidden.write("A1", "是")
    hidden.write("A2", "否")
    hidden.very_hidden()
    wb.close()
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    require_soffice()
    return build_workbook(tmp_path_factory.mktemp("lo") / "template.xlsx")


@pytest.fixture(scope="module")
def inspected(template) -> dict:
    return uno_inspect(template)


def _sheet(doc: dict, name: str) -> dict:
    by_name = {s["name"]: s for s in doc["sheets"]}
    assert name in by_name, list(by_name)
    return by_name[name]


def test_inspect_sheets_protection_and_visibility(inspected):
    assert [s["name"] for s in inspected["sheets"]] == [SHEET, HIDDEN]
    main = _sheet(inspected, SHEET)
    assert main["protected"] is True
    assert main["visible"] is True
    hidden = _sheet(inspected, HIDDEN)
    assert hidden["visible"] is False  # veryHidden: LibreOffice only knows "hidden"
    assert hidden["protected"] is False


def test_inspect_unlocked_cells_exactly(inspected):
    main = _sheet(inspected, SHEET)
    assert main["unlocked"] == UNLOCKED  # row-major order
    assert main["unlocked_ranges"] == ["B4", "B5:C5"]
    assert _sheet(inspected, HIDDEN)["unlocked"] == []


def test_inspect_list_validation(inspected):
    main = _sheet(inspected, SHEET)
    assert len(main["validations"]) == 1
    v = main["validations"][0]
    assert v["type"] == "LIST"
    assert v["ranges"] == ["B4"]
    # xlsx stores "是,否"; LibreOffice shows a literal list as quoted tokens joined by ';'
    assert v["formula1"] == '"是";"否"'
    assert v["input_title"] == INPUT_TITLE
    assert v["input_message"] == INPUT_MSG
    assert v["show_input_message"] is True


def test_inspect_values_and_comments(inspected):
    main = _sheet(inspected, SHEET)
    assert main["cells"]["A1"] == "项目绩效目标表"
    assert main["cells"]["B3"] == 2024
    assert "B4" not in main["cells"]
    assert main["comments"] == {"A4": "填写说明：只能选是或否"}
    # LibreOffice's used area counts blank cells with visible formatting (the bordered
    # unlocked C5) but not cells whose only attribute is protection
    assert main["used_range"] == "A1:C5"
    assert _sheet(inspected, HIDDEN)["cells"] == {"A1": "是", "A2": "否"}


def test_fill_writes_only_unlocked_cells(template, tmp_path):
    out = tmp_path / "filled.xlsx"
    res = uno_fill(template, out, {SHEET: {"B4": "是", "B5": 25, "C5": "备注文字",
                                           "B2": "篡改单位"}})
    assert res["written"] == [f"{SHEET}!B4", f"{SHEET}!B5", f"{SHEET}!C5"]
    assert res["refused"] == [f"{SHEET}!B2"]
    assert res["refused_reasons"] == {f"{SHEET}!B2": "locked"}

    wb = openpyxl.load_workbook(out)
    ws = wb[SHEET]
    assert ws["B4"].value == "是"
    assert ws["B5"].value == 25
    assert ws["C5"].value == "备注文字"
    assert ws["B2"].value == "示例单位"  # locked cell untouched
    assert ws.protection.sheet is True  # protection survives LibreOffice's save
    # LibreOffice has no veryHidden: it saves the sheet back as plain "hidden"
    assert wb[HIDDEN].sheet_state == "hidden"


def test_pdf_and_png(template, tmp_path):
    require_soffice(need_poppler=True)
    pdf = to_pdf(template, tmp_path / "pdf")
    assert pdf.is_file() and pdf.suffix == ".pdf"
    info = pdf_page_count_and_sizes(pdf)
    assert info["pages"] == 1  # the hidden sheet is not printed
    assert len(info["sizes"]) == 1 and all(d > 100 for d in info["sizes"][0])
    png = pdf_to_png(pdf, tmp_path / "page1.png")
    assert png.is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
