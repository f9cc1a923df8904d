"""The master workbook in-process, read back with openpyxl: what the LibreOffice tests also see (numbers are
numbers with their formats, the 未报送 states, the 概览 counts and its native chart), without LibreOffice."""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xlperf.master import MONEY_COLS, PERCENT_COLS, write_master
from xlperf.model import Issue
from xlperf.pipeline import Report
from xlperf.registry import Registry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inmemory import CODE, PLAN, REGISTRY, SPEC, make_return, make_unit_return  # noqa: E402

REJECTED = REGISTRY.rows[1]["项目编码"]
MASTER_SHEETS = ["项目汇总", "绩效指标", "问题清单", "未报送", "概览", "部门整体目标"]


def second_unit_registry() -> Registry:
    extra = [{"单位编码": "201002", "单位名称": "财政局", "项目编码": f"130304299{c * 12}", "项目名称": f"专项{c}",
              "预算数": Decimal("1.50"), "财政资金": Decimal("1.50"), "其他资金": Decimal("0.00"), "资金用途": "", "主管部门": ""} for c in "AB"]
    return Registry("two.csv", REGISTRY.rows + extra)


def round_report() -> Report:
    """One accepted project, one rejected, the unit-level form accepted; every other project missing."""
    bad = make_return(REJECTED, path="in/bad.xlsx")
    bad.add(Issue.make("E110", SPEC.sheet, "E10", found="≥**本"))
    bad.settle()
    return Report([make_return(path="in/ok.xlsx"), bad, make_unit_return("in/unit.xlsx")])


@pytest.fixture()  # per test, not per module: mutmut ties a function to the test during which it ran
def master(tmp_path):
    out = tmp_path / "master.xlsx"
    write_master(out, round_report(), second_unit_registry())
    return openpyxl.load_workbook(out)


def table(ws) -> list[dict]:
    rows = list(ws.iter_rows())
    head = [c.value for c in rows[0]]
    return [{h: c for h, c in zip(head, r)} for r in rows[1:]]


def test_sheets_in_their_contract_order(master):
    # the contract sheets in their order, then the master's own metadata, very hidden (xlperf.collection)
    assert master.sheetnames == MASTER_SHEETS + ["_xlperf_master"]
    assert [ws.sheet_state for ws in master.worksheets] == ["visible"] * len(MASTER_SHEETS) + ["veryHidden"]


def test_amounts_and_plan_are_numbers_with_formats(master):
    [row] = table(master["项目汇总"])
    assert row["项目编码"].value == CODE
    for col in MONEY_COLS & set(row):
        assert isinstance(row[col].value, (int, float)) and row[col].number_format == "#,##0.00", col
    assert row["预算数"].value == pytest.approx(float(REGISTRY.get(CODE)["预算数"]))
    plan = [row[p.name] for p in PLAN]
    assert [c.value for c in plan] == [0.25, 0.5, 0.75, 1] and {c.number_format for c in plan} == {"0.00%"}
    assert {p.name for p in PLAN} == PERCENT_COLS


def test_missing_sheet_names_rejected_and_missing(master):
    rows = table(master["未报送"])
    states = {r["项目编码"].value: r["情况"].value for r in rows}
    assert states[REJECTED] == "已退回" and CODE not in states
    assert set(states.values()) == {"已退回", "未报送"} and len(states) == len(REGISTRY.rows) + 1
    assert next(r for r in rows if r["项目编码"].value == REJECTED)["来源文件"].value == "in/bad.xlsx"
    for r in rows:
        assert isinstance(r["预算数"].value, (int, float)) and not isinstance(r["预算数"].value, bool)
    issues = table(master["问题清单"])
    assert [(r["代码"].value, r["单元格"].value, r["状态"].value) for r in issues] == [("E110", "E10", "退回")]


def test_overview_counts_per_unit_and_total(master):
    rows = [{k: c.value for k, c in r.items()} for r in table(master["概览"])]
    n = len(REGISTRY.rows)
    assert [(r["单位编码"], r["项目数"], r["已通过"], r["已退回"], r["未报送"]) for r in rows] == [
        ("201001", n, 1, 1, n - 2), ("201002", 2, 0, 0, 2), ("合计", n + 2, 1, 1, n)]
    assert isinstance(rows[0]["预算数合计"], float) and rows[2]["预算数合计"] == pytest.approx(226.42 + 3.0)
    assert rows[0]["已通过预算数"] == pytest.approx(float(REGISTRY.get(CODE)["预算数"]))


def test_overview_carries_the_one_native_stacked_column_chart(master):
    """What LibreOffice reads from the file: a stacked column chart of 已通过/已退回/未报送 per unit (not the
    total row), its value axis from 0 (else 13 of 15 is drawn as a sliver), on 概览 only."""
    for name in MASTER_SHEETS:
        assert len(master[name]._charts) == (1 if name == "概览" else 0), name
    (chart,) = master["概览"]._charts
    assert type(chart).__name__ == "BarChart" and chart.type == "col" and chart.grouping == "stacked"
    assert chart.y_axis.scaling.min == 0
    assert chart.title.tx.rich.p[0].r[0].t == "报送情况" and chart.y_axis.title.tx.rich.p[0].r[0].t == "项目数"
    assert (chart.anchor._from.row, chart.anchor._from.col) == (2 + 3, 0)  # below the two units and the total
    series = [(s.tx.strRef.f, s.cat.strRef.f, s.val.numRef.f) for s in chart.series]
    assert series == [(f"概览!${col}$1", "概览!$B$2:$B$3", f"概览!${col}$2:${col}$3") for col in "DEF"]
    head = [c.value for c in master["概览"][1]]
    assert [head[ord(c) - ord("A")] for c in "BDEF"] == ["单位名称", "已通过", "已退回", "未报送"]


def test_unit_level_form_reaches_its_sheet(master):
    rows = table(master["部门整体目标"])
    assert rows and {r["单位编码"].value for r in rows} == {"201001"}
    assert all(r["来源文件"].value == "in/unit.xlsx" for r in rows)


# ------------------------------------------------------------ layout and print setup ---------
def width(ws, col: int) -> float:
    """The width xlsxwriter set for a 0-based column (openpyxl groups equal neighbours into one range)."""
    for dim in ws.column_dimensions.values():
        if dim.min <= col + 1 <= dim.max:
            return round(dim.width - 0.7109375, 4)  # xlsxwriter stores the width plus its padding
    raise KeyError(col)


def test_every_sheet_prints_as_a_report(master):
    trailing = {"来源文件", "来源工作表", "来源单元格", "年度", "来源汇总表"}
    for ws in [ws for ws in master.worksheets if ws.sheet_state == "visible"]:  # not the hidden metadata
        ps = ws.page_setup
        assert (ps.orientation, str(ps.paperSize), ps.fitToWidth in (None, 1), ps.fitToHeight) == (
            "landscape", "9", True, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$1:$1"
        m = ws.page_margins
        assert (m.left, m.right, m.top, m.bottom) == (0.4, 0.4, 0.6, 0.6)
        assert (ws.oddHeader.left.text, ws.oddHeader.right.text) == ("绩效目标汇总", ws.title)
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert ws.freeze_panes == "A2"
        head = [c.value for c in ws[1]]
        last = openpyxl.utils.get_column_letter(len(head))
        assert ws.auto_filter.ref == f"A1:{last}{max(2, ws.max_row)}", ws.title
        printed = len(head)
        while printed > 1 and head[printed - 1] in trailing:
            printed -= 1
        expected = "" if printed == len(head) else \
            f"'{ws.title}'!$A$1:${openpyxl.utils.get_column_letter(printed)}${max(2, ws.max_row)}"
        assert (ws.print_area or "") == expected, ws.title
        cell = ws["A1"]
        assert cell.font.b and cell.fill.fgColor.rgb == "FFDDEBF7" and cell.alignment.wrap_text


def test_column_widths_follow_the_content(master):
    ws = master["项目汇总"]
    head = [c.value for c in ws[1]]
    assert width(ws, head.index("项目编码")) == 25  # 21 characters, capitals and digits a little wider
    assert width(ws, head.index("项目名称")) == 2 * len(REGISTRY.get(CODE)["项目名称"]) + 1  # CJK counts two
    assert width(ws, head.index("绩效目标")) == 24  # long text wraps at the cap
    assert width(ws, head.index("预算数")) == 8 and width(ws, head.index("涉密")) == 8  # never narrower than 8
    assert ws.cell(2, head.index("绩效目标") + 1).alignment.wrap_text


def test_widths_caps_and_odd_values_through_write_xlsx(tmp_path):
    from xlperf.master import write_xlsx

    long_path = "in/" + "a" * 100 + ".xlsx"
    tricky = ["a&b<c>", " lead", "trail ", "_x0041_", "ctl\x01\x1f", "\ufffe", "多行\n文本"]
    rows = [{"来源文件": long_path, "说明": t, "预算数": 2 / 3, "指标数": 10**15, "涉密": True,
             "x": float("nan")} for t in tricky]
    out = tmp_path / "t.xlsx"
    write_xlsx(out, {"问题清单": (["来源文件", "说明", "预算数", "指标数", "涉密", "x"], rows)}, title="A&B")
    wb = openpyxl.load_workbook(out)
    ws = wb["问题清单"]
    assert width(ws, 0) == 60 and width(ws, 1) <= 24
    # Excel reads _xHHHH_ as an escaped character (xlsxwriter escapes shared strings the same way);
    # openpyxl shows inline strings as stored, so the escapes are what it reads back
    stored = ["a&b<c>", " lead", "trail ", "_x005F_x0041_", "ctl_x0001__x001F_", "_xFFFE_", "多行\n文本"]
    assert [ws.cell(r, 2).value for r in range(2, len(tricky) + 2)] == stored
    assert ws.cell(2, 3).value == 2 / 3 and ws.cell(2, 3).number_format == "#,##0.00"
    assert ws.cell(2, 4).value == 10**15 and ws.cell(2, 5).value == "True" and ws.cell(2, 6).value == "nan"
    assert ws.oddHeader.left.text == "A&&B" and wb.properties.title == "A&B"  # & is a code in a header
    assert ws.print_area is None or ws.print_area == ""


def test_the_round_year_names_the_master(tmp_path, monkeypatch):
    from xlperf.master import master_title, round_year

    returns = [make_return(c, path=f"in/{c}.xlsx") for c in (CODE, REJECTED, REGISTRY.rows[2]["项目编码"])]
    for res, year in zip(returns, (2022, "2022", 2021)):
        res.data.meta["year"] = year
    report = Report(returns)
    assert round_year(report) == "2022" and master_title("2022") == "2022年绩效目标汇总"
    assert round_year(Report([make_return()])) == "" and master_title("") == "绩效目标汇总"
    blank = [make_return(path=f"in/{n}.xlsx") for n in range(3)]
    blank[0].data.meta["year"] = 2021
    assert round_year(Report(blank)) == "2021"  # returns that name no year do not outvote one that does
    returns[1].status = "rejected"
    assert round_year(Report(returns[1:])) == "2021"  # accepted returns only
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1650000000")
    out = tmp_path / "m.xlsx"
    write_master(out, report, REGISTRY)
    wb = openpyxl.load_workbook(out)
    assert wb.properties.title == "2022年绩效目标汇总" and wb["概览"].oddHeader.left.text == "2022年绩效目标汇总"
    assert wb.properties.created.isoformat() == "2022-04-15T05:20:00"
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")  # the stamp is UTC whatever the machine's zone
    time.tzset()
    try:
        write_master(out, report, REGISTRY)
        assert openpyxl.load_workbook(out).properties.created.isoformat() == "2022-04-15T05:20:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    write_master(out, report, REGISTRY)
    assert openpyxl.load_workbook(out).properties.created.isoformat() != "2022-04-15T05:20:00"  # not a time


def test_write_master_reports_what_it_wrote(tmp_path):
    out = tmp_path / "m.xlsx"
    info = write_master(out, round_report(), REGISTRY, formats=("xlsx", "csv"))
    assert info["written"][0] == str(out) and len(info["written"]) == 1 + 6
    assert {Path(p).name for p in info["written"][1:]} == {f"m_{s}.csv" for s in MASTER_SHEETS}
    assert info["projects"] == 1 and info["missing"] == len(REGISTRY.rows) - 1
    assert info["indicators"] == len(make_return().data.indicators) and info["budget_total"] == "2.70"
    assert info["truncated_xlsx"] is False


def test_a_round_too_big_for_excel_is_cut_and_written_whole_beside(tmp_path, monkeypatch):
    import xlperf.master as master

    monkeypatch.setattr(master, "EXCEL_MAX_ROWS", 6)  # 14 missing projects do not fit 5 data rows
    out = tmp_path / "m.xlsx"
    info = write_master(out, round_report(), REGISTRY)
    assert info["truncated_xlsx"] is True
    names = {Path(p).name for p in info["written"]}
    assert {f"m_未报送.csv", f"m_未报送.parquet"} <= names and "m.xlsx" in names
    ws = openpyxl.load_workbook(out)["未报送"]
    assert ws.max_row == 6 and ws.auto_filter.ref == "A1:G6" and ws.print_area == "'未报送'!$A$1:$F$6"


def test_display_widths():
    from xlperf.master import _display_len, _width

    assert [_display_len(v) for v in (None, "", "abc", "党史", "ＡＢ", "abcdefg")] == [0, 0, 3, 4, 4, 7]
    assert _display_len("ABCDEFG") == 8 and _display_len("ABCDEF") == 6 and _display_len("1234567") == 8
    assert _display_len("AB12345xyz") == 11 and _display_len(1234567.5) == 10  # numbers as shown
    assert _width("x", []) == 8 and _width("项目编码", []) == 10  # the header counts, plus 2 for the filter arrow
    assert _width("x", [{"x": "a" * 30}]) == 31 and _width("来源文件", [{"来源文件": "a" * 100}]) == 60
    assert _width("说明", [{"说明": "a" * 100}]) == 24  # a wrapped column stops at the wrap width
    sample = [{"x": "a"}] * 200 + [{"x": "a" * 40}]
    assert _width("x", sample) == 8  # the first 200 rows decide: the width costs nothing on a large round


def test_one_unit_chart_and_its_size(tmp_path):
    """One unit: the ranges are one row (not the total row below it); the chart is 1.4 × 1.2 the default
    size (480 × 288 px), so it spans to column H and 17 rows down with the one-unit column widths."""
    out = tmp_path / "m.xlsx"
    write_master(out, round_report(), REGISTRY)
    (chart,) = openpyxl.load_workbook(out)["概览"]._charts
    series = [(s.cat.strRef.f, s.val.numRef.f) for s in chart.series]
    assert series == [("概览!$B$2", f"概览!${col}$2") for col in "DEF"]
    a = chart.anchor
    assert (a._from.row, a._from.col, a.to.row - a._from.row, a.to.col) == (1 + 3, 0, 17, 7)


def test_print_area_leaves_out_only_trailing_provenance(tmp_path):
    from xlperf.master import write_xlsx

    out = tmp_path / "t.xlsx"
    rows = [{"a": "x", "来源文件": "f", "来源工作表": "s"}]
    write_xlsx(out, {"项目汇总": (["a", "来源文件", "来源工作表"], rows), "问题清单": (["来源文件"], rows),
                     "未报送": (["来源文件", "a"], rows)})
    wb = openpyxl.load_workbook(out)
    assert wb["项目汇总"].print_area == "'项目汇总'!$A$1:$A$2"
    assert not wb["问题清单"].print_area and not wb["未报送"].print_area  # a first column is always printed


def test_cell_and_column_formats(master):
    """概览 is written cell by cell (its chart caches the cells), the other sheets are streamed: both get
    the same formats, and empty cells of a column take the column's format (a value typed later)."""
    ws = master["概览"]
    head = [c.value for c in ws[1]]
    first, total = ws[2], ws[4]
    for i, col in enumerate(head):
        cell = first[i]
        if col in MONEY_COLS:
            assert cell.number_format == "#,##0.00" and total[i].number_format == "#,##0.00", col
        elif isinstance(cell.value, (int, float)):
            assert cell.number_format == "General", col
    name = first[head.index("单位名称")]
    assert name.alignment.wrap_text and name.alignment.vertical == "top"
    assert first[head.index("单位编码")].alignment.wrap_text is not True
    assert total[head.index("单位名称")].value is None  # the total row has no name: nothing is written
    for cell in ws[1]:
        assert cell.alignment.vertical == "center" and cell.border.left.style == "thin" and cell.border.bottom.style == "thin"
    summary = master["项目汇总"]
    head = [c.value for c in summary[1]]
    for col in head:
        letter = openpyxl.utils.get_column_letter(head.index(col) + 1)
        dim = next(d for d in summary.column_dimensions.values() if d.min <= head.index(col) + 1 <= d.max)
        fmt = "#,##0.00" if col in MONEY_COLS else "0.00%" if col in PERCENT_COLS else "General"
        assert dim.number_format == fmt, (col, letter)
        assert bool(dim.alignment.wrap_text) == (col in {"项目名称", "资金用途", "绩效目标", "单位名称"}), col


# ------------------------------------------------------------ rows, and the streamed sheet XML ---------
def test_project_row_carries_every_column():
    from xlperf.master import PROJECT_COLUMNS, project_rows

    res = make_return(path="in/ok.xlsx")
    res.data.meta.update(unit_code="201001", year="2022")
    res.data.fields["涉密"] = ""
    res.add(Issue.make("W201", SPEC.sheet, "C13"))
    unit = make_unit_return("in/unit.xlsx")
    [row] = project_rows(Report([unit, res]))  # a unit-level form first: skipped, not the end of the list
    f = res.data.fields
    assert set(row) == set(PROJECT_COLUMNS)
    assert row == {**row, "单位编码": "201001", "单位名称": REGISTRY.units["201001"], "项目编码": CODE,
                   "项目名称": f["项目名称"], "资金用途": f["资金用途"], "涉密": "否", "绩效目标": f["绩效目标"],
                   "指标数": len(res.data.indicators), "提示数": 1, "来源文件": "in/ok.xlsx", "来源工作表": SPEC.sheet,
                   "来源单元格": res.data.refs["项目编码"], "年度": "2022"}
    res.data.fields["涉密"] = "是"
    assert project_rows(Report([res]))[0]["涉密"] == "是"


def test_plan_cells_typed_as_percentages_and_gaps():
    from xlperf.master import project_rows

    res = make_return(path="in/ok.xlsx")
    res.data.fields.update({PLAN[0].name: 0.25, PLAN[1].name: None, PLAN[2].name: 0.75, PLAN[3].name: 1})
    res.data.number_formats.update({PLAN[0].cell: "0%", PLAN[2].cell: "0%", PLAN[3].cell: "0.00%"})
    res.data.fields["其他资金"] = ""
    [row] = project_rows(Report([res]))
    assert [row[p.name] for p in PLAN] == [0.25, None, 0.75, 1.0]  # 25 % as typed, stored as the fraction
    assert row["其他资金"] is None


def sheet_xml(path: Path, sheet: str) -> str:
    import re
    import zipfile

    with zipfile.ZipFile(path) as zf:
        wb = zf.read("xl/workbook.xml").decode()
        names = re.findall(r'<sheet name="([^"]+)"', wb)
        return zf.read(f"xl/worksheets/sheet{names.index(sheet) + 1}.xml").decode()


def test_streamed_rows_are_strict_xml(tmp_path):
    """openpyxl forgives stray text between cells; Excel does not. Every element of the streamed rows holds
    text only in <t> and <v>, the dimension covers the data, spaces at either end are preserved."""
    import xml.etree.ElementTree as ET

    from xlperf.master import write_xlsx

    rows = [{"说明": t, "代码": "E1"} for t in (" lead", "trail ", "mid dle", "a]]>b", "_x00ab_", "x" * 40000)]
    out = tmp_path / "t.xlsx"
    write_xlsx(out, {"问题清单": (["说明", "代码"], rows)})
    xml = sheet_xml(out, "问题清单")
    root = ET.fromstring(xml)
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    for el in root.find(f"{ns}sheetData").iter():
        if el.tag not in (f"{ns}t", f"{ns}v"):
            assert not (el.text or "").strip() and not (el.tail or "").strip(), el.tag
    assert root.find(f"{ns}dimension").get("ref") == f"A1:B{len(rows) + 1}"
    assert '<t xml:space="preserve"> lead</t>' in xml and '<t xml:space="preserve">trail </t>' in xml
    assert "<t>mid dle</t>" in xml and "<t>a]]&gt;b</t>" in xml and "<t>_x005F_x00ab_</t>" in xml
    ws = openpyxl.load_workbook(out)["问题清单"]
    assert len(ws["A7"].value) == 32767  # Excel's limit for one cell
    assert ws["B2"].font.b is not True and ws["B2"].number_format == "General"  # no style on a plain column


def test_many_rows_stream_in_batches(tmp_path):
    from xlperf.master import write_xlsx

    rows = [{"项目编码": f"P{i:05d}", "预算数": i / 4} for i in range(4500)]  # three batches of 2,000
    out = tmp_path / "t.xlsx"
    write_xlsx(out, {"项目汇总": (["项目编码", "预算数"], rows)})
    ws = openpyxl.load_workbook(out, read_only=True)["项目汇总"]
    got = [(a, b) for a, b in ws.iter_rows(min_row=2, values_only=True)]
    assert got == [(f"P{i:05d}", i / 4) for i in range(4500)]  # 0 is a number, not an empty cell


def test_every_part_is_deflated(tmp_path):
    import zipfile

    out = tmp_path / "m.xlsx"
    write_master(out, round_report(), REGISTRY)
    with zipfile.ZipFile(out) as zf:
        assert {zi.compress_type for zi in zf.infolist()} == {zipfile.ZIP_DEFLATED}


def test_indicator_rows_split_every_kind_of_value():
    from xlperf.master import INDICATOR_COLUMNS, indicator_rows
    from xlperf.values import QUALITATIVE

    res = make_return(path="in/ok.xlsx")
    res.data.fields["涉密"] = ""
    irs = res.data.indicators
    irs[0].values["指标值"] = "≥100本"
    irs[1].values["指标值"] = "达成预期指标"
    irs[2].values["指标值"] = "是否"  # not a value the parser reads: kept as typed, no symbol or unit
    irs[3].values["指标值"] = 0.95
    res.data.number_formats[irs[3].refs["指标值"]] = "0%"
    other = make_return(REJECTED, path="in/other.xlsx")
    other.data.fields["涉密"] = "是"
    rows = indicator_rows(Report([make_unit_return("in/u.xlsx"), other, res]))  # by project code, forms skipped
    assert [r["项目编码"] for r in rows] == [CODE] * len(irs) + [REJECTED] * len(other.data.indicators)
    assert all(set(r) == set(INDICATOR_COLUMNS) for r in rows)
    f, ir = res.data.fields, irs[0]
    assert rows[0] == {"项目编码": CODE, "项目名称": f["项目名称"], "一级指标": ir.level1, "二级指标": ir.level2,
                       "三级指标": ir.values["三级指标"], "绩效指标描述": ir.values["绩效指标描述"], "计算符号": "≥",
                       "指标值": 100.0, "计量单位": "本", "指标值确定依据": ir.values["指标值确定依据"], "涉密": "否",
                       "原始指标值": "≥100本", "来源文件": "in/ok.xlsx", "来源工作表": SPEC.sheet,
                       "来源单元格": f"{ir.refs['三级指标']}:{ir.refs['指标值确定依据']}", "来源汇总表": ""}
    split = [(r["计算符号"], r["指标值"], r["计量单位"], r["原始指标值"]) for r in rows[1:4]]
    assert split == [(QUALITATIVE, "达成预期指标", "", "达成预期指标"), ("", "是否", "", "是否"), ("＝", 95.0, "%", "0.95")]
    assert {r["涉密"] for r in rows[len(irs):]} == {"是"}


def test_unit_rows_one_per_paragraph():
    from xlperf.master import UNIT_COLUMNS, unit_rows

    unit = make_unit_return("in/unit.xlsx")
    d = unit.data
    d.fields["分项绩效目标概述"] = "  "  # an empty overview paragraph is no row
    rows = unit_rows(Report([make_return(path="in/p.xlsx"), unit]), REGISTRY)  # project returns skipped
    base = {"单位编码": "201001", "单位名称": REGISTRY.units["201001"], "来源文件": "in/unit.xlsx",
            "来源工作表": d.sheet, "来源汇总表": ""}
    expected = [{**base, "部分": part, "序号": 0, "标题": "", "内容": d.fields[part].strip(), "来源单元格": d.refs[part]}
                for part in ("总体绩效目标", "工作保障措施概述")]
    for sec, items in d.sections.items():
        expected += [{**base, "部分": sec, "序号": i, "标题": it["标题"], "内容": it["内容"], "来源单元格": it["ref"]}
                     for i, it in enumerate(items, start=1)]
    assert rows == expected and all(set(r) == set(UNIT_COLUMNS) for r in rows)
    d.meta["unit_code"] = "999999"
    assert {r["单位名称"] for r in unit_rows(Report([unit]), REGISTRY)} == {""}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_issue_rows_of_every_status_and_severity(lang):
    from xlperf.master import issue_rows

    bad = make_return(path="in/bad.xlsx")
    bad.add(Issue.make("E110", SPEC.sheet, "E10", found="x"))
    bad.add(Issue.make("W201", SPEC.sheet, "C13"))
    bad.settle()
    copy = make_return(path="in/copy.xlsx")
    copy.add(Issue.make("W207", other="in/bad.xlsx"))
    copy.settle()
    ok = make_return(path="in/ok.xlsx")
    ok.add(Issue.make("W201", SPEC.sheet, "C16"))
    ok.settle()
    rows = issue_rows(Report([bad, copy, ok]), lang)
    zh = lang == "zh"
    assert [(r["来源文件"], r["状态"], r["项目编码"], r["代码"], r["级别"], r["工作表"], r["单元格"]) for r in rows] == [
        ("in/bad.xlsx", "退回" if zh else "rejected", CODE, "E110", "错误" if zh else "error", SPEC.sheet, "E10"),
        ("in/bad.xlsx", "退回" if zh else "rejected", CODE, "W201", "提示" if zh else "warning", SPEC.sheet, "C13"),
        ("in/copy.xlsx", "跳过" if zh else "skipped", CODE, "W207", "跳过" if zh else "skip", "", ""),
        ("in/ok.xlsx", "通过" if zh else "accepted", CODE, "W201", "提示" if zh else "warning", SPEC.sheet, "C16")]
    assert rows[0]["说明"] == bad.issues[0].message(lang)


def test_missing_and_overview_rows():
    from xlperf.master import build_tables, missing_rows, overview_rows

    report = round_report()
    missing = {r["项目编码"]: r for r in missing_rows(report, REGISTRY)}
    reg_row = REGISTRY.get(REJECTED)
    assert missing[REJECTED] == {"单位编码": reg_row["单位编码"], "单位名称": reg_row["单位名称"], "项目编码": REJECTED,
                                 "项目名称": reg_row["项目名称"], "预算数": float(reg_row["预算数"]), "情况": "已退回",
                                 "来源文件": "in/bad.xlsx"}
    other = REGISTRY.rows[2]["项目编码"]
    assert missing[other]["情况"] == "未报送" and missing[other]["来源文件"] == ""
    [unit, total] = overview_rows(report, REGISTRY)
    assert unit["预算数合计"] == total["预算数合计"] == pytest.approx(226.42)
    assert unit["已通过预算数"] == total["已通过预算数"] == pytest.approx(2.7) and total["单位名称"] == ""
    tables = build_tables(report, REGISTRY, "en")
    assert list(tables) == MASTER_SHEETS and tables["问题清单"][1][0]["状态"] == "rejected"


def test_counts_and_joins_over_several_returns(tmp_path, monkeypatch):
    """Two accepted and two rejected projects in one unit, two rejected returns of one project, every
    unit-level paragraph, and a table of exactly Excel's last row: each counted, joined, kept."""
    import xlperf.master as master
    from xlperf.master import missing_rows, overview_rows, unit_rows

    codes = [r["项目编码"] for r in REGISTRY.rows[:4]]
    files = [make_return(c, path=f"in/{c}.xlsx") for c in codes]
    for res in files[2:]:
        res.add(Issue.make("E110", SPEC.sheet, "E10", found="x"))
        res.settle()
    again = make_return(codes[3], path="in/again.xlsx")
    again.add(Issue.make("E110", SPEC.sheet, "E10", found="x"))
    again.settle()
    report = Report([*files, again])
    unit = overview_rows(report, REGISTRY)[0]
    budgets = [float(REGISTRY.get(c)["预算数"]) for c in codes]
    assert (unit["已通过"], unit["已退回"], unit["已通过预算数"]) == (2, 2, pytest.approx(budgets[0] + budgets[1]))
    joined = {r["项目编码"]: r["来源文件"] for r in missing_rows(report, REGISTRY)}[codes[3]]
    assert joined == f"in/{codes[3]}.xlsx；in/again.xlsx"
    parts = {r["部分"] for r in unit_rows(Report([make_unit_return("in/u.xlsx")]), REGISTRY) if r["序号"] == 0}
    assert parts == {"总体绩效目标", "分项绩效目标概述", "工作保障措施概述"}
    largest = max(len(rows) for _cols, rows in master.build_tables(report, REGISTRY).values())
    monkeypatch.setattr(master, "EXCEL_MAX_ROWS", largest + 1)  # the largest table and its header fit exactly
    assert write_master(tmp_path / "m.xlsx", report, REGISTRY)["truncated_xlsx"] is False
    monkeypatch.setattr(master, "EXCEL_MAX_ROWS", largest)  # one row short
    assert write_master(tmp_path / "m.xlsx", report, REGISTRY)["truncated_xlsx"] is True


# ------------------------------------------------------------ a later round, sub-masters, languages ---------
def monitoring_report(year=None, lang_issue: bool = False) -> Report:
    """One accepted monitoring return, its checks run (the rates computed), and optionally a rejected one."""
    from inmemory import make_table_return
    from xlperf.checks import run_checks

    spec, res = make_table_return("monitoring")
    res.path = "in/mon.xlsx"
    run_checks(spec, res, REGISTRY)
    files = [res]
    if lang_issue:
        _, bad = make_table_return("monitoring", meta={"project_code": REJECTED})
        bad.path = "in/bad.xlsx"
        bad.add(Issue.make("E101", spec.sheet, "B3"))
        bad.settle()
        files.append(bad)
    return Report(files, year=year)


def test_a_later_round_master_has_its_declared_sheets_title_chart_and_formats(tmp_path):
    from xlperf.spec import load_spec

    spec = load_spec("monitoring")
    out = tmp_path / "mon.xlsx"
    info = write_master(out, monitoring_report(year=2022), REGISTRY)
    assert info["written"] == [str(out)] and info["round"] == "monitoring" and info["truncated_xlsx"] is False
    assert (info["projects"], info["indicators"], info["budget_total"]) == (1, 3, "30.00")
    wb = openpyxl.load_workbook(out)
    declared = [m["sheet"] for m in spec.masters]
    assert wb.sheetnames == declared + ["问题清单", "未报送", "概览", "_xlperf_master"]
    assert wb.properties.title == f"2022年{spec.round_name}汇总"
    # the master's own metadata (what a later consolidation reads back): one key and its value per row
    meta = [[c.value for c in r] for r in wb["_xlperf_master"].iter_rows()]
    assert all(len(r) == 2 and r[0] for r in meta) and "None" not in {r[1] for r in meta}
    assert dict(meta)["year"] == "2022" and dict(meta)["projects"] == "1" and dict(meta)["form_id"] == spec.id
    assert [len(ws._charts) for ws in wb.worksheets] == [0, 0, 0, 0, 1, 0]
    (chart,) = wb["概览"]._charts
    column = next(m["chart"] for m in spec.masters if m.get("chart"))
    assert chart.title.tx.rich.p[0].r[0].t == f"平均{column}"
    [row] = table(wb[declared[0]])
    assert row["年初预算数"].value == 30 and row["年初预算数"].number_format == "#,##0.00"  # money
    assert row[column].value == pytest.approx(0.7) and "%" in row[column].number_format  # a share
    rows = table(wb[declared[1]])
    assert [r["三级指标"].value for r in rows] == ["设备购置数量", "保密安全", "使用人员满意度"]
    # without a year checked against, the majority year of the returns (none here): the bare title
    write_master(out, monitoring_report(), REGISTRY)
    assert openpyxl.load_workbook(out).properties.title == f"{spec.round_name}汇总"


def test_a_later_round_master_only_in_the_formats_asked_for(tmp_path):
    out = tmp_path / "mon.xlsx"
    info = write_master(out, monitoring_report(), REGISTRY, formats=("csv",))
    assert not out.exists() and str(out) not in info["written"]
    assert [Path(p).name for p in info["written"]][:2] == ["mon_监控汇总.csv", "mon_监控指标.csv"]


@pytest.mark.parametrize("later", [False, True])
def test_the_issue_sheet_in_the_language_asked_for(tmp_path, later):
    report = monitoring_report(lang_issue=True) if later else round_report()
    bad = next(f for f in report.files if f.status == "rejected")
    for lang in ("zh", "en"):
        out = tmp_path / f"{lang}.xlsx"
        write_master(out, report, REGISTRY, lang=lang)
        [row] = table(openpyxl.load_workbook(out)["问题清单"])
        assert row["说明"].value == bad.issues[0].message(lang)


def test_rows_read_from_a_sub_master_keep_their_original_place_and_the_chain(tmp_path):
    """A record read from a sub-master carries where the return was first read and the masters it came through."""
    direct = make_return(path="in/sub.xlsx")
    direct.data.origin = {"file": "a/orig.xlsx", "file_sheet": "项目表", "file_cell": "C3", "via": ""}
    chained = make_return(REJECTED, path="in/sub2.xlsx")
    chained.data.origin = {"file": "b/orig.xlsx", "file_sheet": "项目表", "file_cell": "C3", "via": "town/m.xlsx"}
    third = REGISTRY.rows[2]["项目编码"]
    plain = make_return(third, path="in/plain.xlsx")  # read directly: its own place, no chain
    out = tmp_path / "m.xlsx"
    write_master(out, Report([direct, chained, plain]), REGISTRY)
    rows = {r["项目编码"].value: r for r in table(openpyxl.load_workbook(out)["项目汇总"])}
    assert (rows[CODE]["来源工作表"].value, rows[CODE]["来源单元格"].value) == ("项目表", "C3")
    assert (rows[third]["来源文件"].value, rows[third]["来源汇总表"].value) == ("in/plain.xlsx", None)
    assert (rows[CODE]["来源文件"].value, rows[CODE]["来源汇总表"].value) == ("a/orig.xlsx", "in/sub.xlsx")
    assert (rows[REJECTED]["来源文件"].value, rows[REJECTED]["来源汇总表"].value) == ("b/orig.xlsx",
                                                                                   "in/sub2.xlsx > town/m.xlsx")


def test_indicator_and_unit_rows_from_a_sub_master_keep_each_original_place(tmp_path):
    """Each indicator row and each paragraph of a unit-level form read from a sub-master carries the place that
    master recorded for it (nothing when it recorded none); rows read directly keep their own place."""
    rec = make_return(path="in/sub.xlsx")
    rec.data.origin = {"file": "a/orig.xlsx", "file_sheet": "项目表", "file_cell": "C3", "via": "town/m.xlsx",
                       "indicators": [("a/orig.xlsx", "项目表", "B20:H20")]}  # the first indicator row only
    direct_unit = make_unit_return("in/unit.xlsx")
    sub_unit = make_unit_return("in/sub.xlsx")
    sub_unit.data.meta["unit_code"] = "201002"
    out = tmp_path / "m.xlsx"
    write_master(out, Report([rec, direct_unit, sub_unit]), second_unit_registry())
    wb = openpyxl.load_workbook(out)
    place = ("来源文件", "来源工作表", "来源单元格", "来源汇总表")
    indicators = [tuple(r[c].value or "" for c in place) for r in table(wb["绩效指标"])]
    assert len(indicators) == len(rec.data.indicators) > 1
    assert indicators[0] == ("a/orig.xlsx", "项目表", "B20:H20", "in/sub.xlsx > town/m.xlsx")
    assert set(indicators[1:]) == {("", "", "", "in/sub.xlsx > town/m.xlsx")}
    rows = table(wb["部门整体目标"])
    direct = [r for r in rows if r["单位编码"].value == "201001"]
    via = [r for r in rows if r["单位编码"].value == "201002"]
    assert direct and len(direct) == len(via)
    assert {(r["来源文件"].value, r["来源汇总表"].value or "") for r in direct} == {("in/unit.xlsx", "")}
    assert all(r["来源单元格"].value for r in direct)  # each paragraph's own cell

    # the sub-master recorded the place of its first paragraph only
    first = (via[0]["部分"].value, via[0]["序号"].value)
    sub_unit.data.origin = {"file": "", "file_sheet": "", "file_cell": "", "via": "",
                            "parts": {first: ("u/orig.xlsx", "部门表", "B5")}}
    write_master(out, Report([rec, direct_unit, sub_unit]), second_unit_registry())
    rows = table(openpyxl.load_workbook(out)["部门整体目标"])
    via = [tuple(r[c].value or "" for c in place) for r in rows if r["单位编码"].value == "201002"]
    assert via[0] == ("u/orig.xlsx", "部门表", "B5", "in/sub.xlsx")
    assert set(via[1:]) == {("", "", "", "in/sub.xlsx")}
    assert {r["来源文件"].value for r in rows if r["单位编码"].value == "201001"} == {"in/unit.xlsx"}


def test_lazy_tables_count_and_sample_exactly_what_they_build():
    """The layout is made from each growing table's count and first rows; the rows are built later."""
    from inmemory import PROJECTS

    from xlperf.master import WIDTH_SAMPLE, build_tables, lazy_tables
    from xlperf.sheet_xml import LazyRows

    results = []
    for n, code in enumerate(sorted(PROJECTS) * 16):  # 240 returns: more than WIDTH_SAMPLE rows in each table
        res = make_return(code, path=f"in/{n:03}.xlsx")
        res.data.meta["unit_code"] = f"20100{4 - n % 5}"  # the units in another order than the codes
        for k in range(n % 9):
            res.add(Issue.make("W205", SPEC.sheet, f"C{k + 5}", found=str(k)))
        if n % 11 == 3:
            res.add(Issue.make("E110", SPEC.sheet, "E10", found="≥**本"))
        res.settle()
        results.append(res)
    report = Report([make_unit_return("in/unit.xlsx")] + results)
    lazy = lazy_tables(report, second_unit_registry())
    eager = build_tables(report, second_unit_registry())
    grown = {name: rows for name, (_cols, rows) in lazy.items() if isinstance(rows, LazyRows)}
    assert set(grown) == {"项目汇总", "绩效指标", "问题清单"}
    for name, rows in grown.items():
        built = eager[name][1]
        assert len(built) > WIDTH_SAMPLE and len(rows) == len(built), name
        assert rows[:WIDTH_SAMPLE] == built[:WIDTH_SAMPLE], name  # what the widths are worked out from
        assert rows._rows is None, name  # counting and sampling built nothing whole
        assert list(rows) == built, name
    assert {name: rows for name, (_cols, rows) in lazy.items() if name not in grown} == \
        {name: rows for name, (_cols, rows) in eager.items() if name not in grown}


def test_lazy_rows_refuse_a_count_they_do_not_build():
    from xlperf.sheet_xml import LazyRows

    rows = LazyRows(3, [{"a": 1}], lambda: [{"a": 1}, {"a": 2}])
    assert len(rows) == 3 and rows[:1] == [{"a": 1}]
    with pytest.raises(RuntimeError, match="counted 3 rows and built 2"):
        list(rows)
    few = LazyRows(2, [{"a": 1}, {"a": 2}], lambda: 1 / 0)
    assert few[:200] == [{"a": 1}, {"a": 2}]  # all of them are in the sample: nothing is built
