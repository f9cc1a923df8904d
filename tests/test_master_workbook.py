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


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    out = tmp_path_factory.mktemp("master") / "master.xlsx"
    write_master(out, round_report(), second_unit_registry())
    return openpyxl.load_workbook(out)


def table(ws) -> list[dict]:
    rows = list(ws.iter_rows())
    head = [c.value for c in rows[0]]
    return [{h: c for h, c in zip(head, r)} for r in rows[1:]]


def test_sheets_in_their_contract_order(master):
    assert master.sheetnames == MASTER_SHEETS


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
    assert chart.title.tx.rich.p[0].r[0].t == "报送情况"
    series = [(s.tx.strRef.f, s.cat.strRef.f, s.val.numRef.f) for s in chart.series]
    assert series == [(f"概览!${col}$1", "概览!$B$2:$B$3", f"概览!${col}$2:${col}$3") for col in "DEF"]
    head = [c.value for c in master["概览"][1]]
    assert [head[ord(c) - ord("A")] for c in "BDEF"] == ["单位名称", "已通过", "已退回", "未报送"]


def test_unit_level_form_reaches_its_sheet(master):
    rows = table(master["部门整体目标"])
    assert rows and {r["单位编码"].value for r in rows} == {"201001"}
    assert all(r["来源文件"].value == "in/unit.xlsx" for r in rows)
