"""The registry import: header row, budget-system headers and units, the checks and their messages."""
from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from conftest import budget_export_rows, run_cli, write_budget_export
from xlperf.registry import MAX_AMOUNT, RegistryError, load_registry, money

HEAD = ["单位编码", "单位名称", "项目编码", "项目名称", "预算数", "财政资金", "其他资金"]
UNIT = ["201001", "办公室(本级)"]


def write_xlsx(path: Path, rows: list[list], merges: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def project(code: str, total, fiscal, other, unit=UNIT, name: str | None = None) -> list:
    return [*unit, code, name or f"项目{code}", total, fiscal, other]


def problems(path: Path, lang: str = "zh") -> RegistryError:
    with pytest.raises(RegistryError) as info:
        load_registry(path, lang=lang)
    return info.value


def has_latin_words(s: str) -> bool:
    return re.search(r"[A-Za-z]{3,}", s) is not None


# ---------------------------------------------------------------- the header row ----
def test_title_unit_line_and_blank_above_the_header(tmp_path):
    rows = [["2022年部门预算项目表"], ["单位：万元"], [], HEAD, project("P1", 10, 10, 0)]
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", rows, merges=("A1:G1",)))
    assert [r["项目编码"] for r in reg.rows] == ["P1"]
    assert reg.rows[0]["_row"] == 5
    assert "表头在第 4 行" in "\n".join(reg.note_lines())


def test_header_on_the_first_row_needs_no_note(tmp_path):
    reg = load_registry(write_csv(tmp_path / "r.csv", [HEAD, project("P1", 10, 10, 0)]))
    assert reg.notes == [] and reg.year is None


def test_no_header_anywhere_is_refused_in_chinese(tmp_path):
    rows = [["科室", "人数"], ["办公室", 5]]
    err = problems(write_xlsx(tmp_path / "r.xlsx", rows))
    assert err.problems[0].code == "R007"
    assert "找不到表头" in str(err) and not has_latin_words(str(err))


def test_missing_columns_are_named_with_the_header_row_found(tmp_path):
    rows = [["标题"], ["单位代码", "单位名称", "项目代码", "金额说明"], ["201001", "办公室", "P1", "x"]]
    err = problems(write_xlsx(tmp_path / "r.xlsx", rows))
    assert err.problems[0].code == "R006"
    msg = str(err)
    assert "第2行" in msg and "项目名称" in msg and "预算数" in msg and "单位代码" in msg


# ------------------------------------------------------ the budget system's headers ----
@pytest.mark.parametrize("headers", [
    ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（万元）", "其中：财政拨款", "其他资金"],
    ["预算单位代码", "预算单位", "项目编号", "项目名称", "预算数 (万元)", "其中:财政拨款（万元）", "非财政拨款资金"],
    ["单位编码", "项目单位", "项目代码", "项目名称", "预算金额\n（万元）", "财政拨款资金", "其他来源资金"],
    ["unit_code", "unit_name", "project_code", "project_name", "budget", "fiscal", "other"],
])
def test_budget_system_header_names(tmp_path, headers):
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", [headers, project("P1", 12.5, 10, 2.5)]))
    row = reg.rows[0]
    assert (row["单位编码"], row["项目编码"], row["预算数"], row["财政资金"], row["其他资金"]) == \
        ("201001", "P1", Decimal("12.50"), Decimal("10.00"), Decimal("2.50"))
    assert not any("元为单位" in n for n in reg.note_lines())


def test_department_code_and_name_columns(tmp_path):
    head = ["主管部门代码", "主管部门名称", *HEAD]
    reg = load_registry(write_csv(tmp_path / "r.csv", [head, ["101", "区委", *project("P1", 1, 1, 0)]]))
    assert reg.rows[0]["主管部门"] == "区委" and reg.rows[0]["主管部门编码"] == "101"


def test_two_columns_of_the_same_kind_are_refused(tmp_path):
    rows = [[*HEAD, "预算数"], [*project("P1", 1, 1, 0), 2]]
    err = problems(write_csv(tmp_path / "r.csv", rows))
    assert [(p.code, p.row, p.col) for p in err.problems] == [("R021", 1, "H")]
    assert "“预算数”与“预算数”" in str(err)


def test_the_more_specific_header_wins(tmp_path):
    rows = [["单位编码", "预算单位", "单位名称", *HEAD[2:]], ["201001", "区委", *project("P1", 1, 1, 0)[1:]]]
    assert load_registry(write_csv(tmp_path / "r.csv", rows)).rows[0]["单位名称"] == "办公室(本级)"


def test_two_row_header_with_a_merged_group(tmp_path):
    rows = [["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", None, None],
            [None, None, None, None, "合计", "财政拨款", "其他资金"],
            project("P1", 150000, 100000, 50000)]
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", rows, merges=("E1:G1",)))
    assert reg.rows[0]["预算数"] == Decimal("15.00") and reg.rows[0]["其他资金"] == Decimal("5.00")


def test_unit_name_merged_down_over_its_projects(tmp_path):
    rows = [HEAD, project("P1", 1, 1, 0), [None, None, "P2", "项目P2", 2, 2, 0]]
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", rows, merges=("A2:A3", "B2:B3")))
    assert [r["单位名称"] for r in reg.rows] == ["办公室(本级)"] * 2


def test_total_rows_are_not_projects(tmp_path):
    rows = [HEAD, ["", "合计", "", "", 3, 3, 0], project("P1", 1, 1, 0), project("P2", 2, 2, 0)]
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", rows))
    assert [r["项目编码"] for r in reg.rows] == ["P1", "P2"]


def test_a_missing_other_funds_column_is_computed(tmp_path):
    rows = [HEAD[:6], project("P1", 12, 10, 0)[:6]]
    reg = load_registry(write_csv(tmp_path / "r.csv", rows))
    assert reg.rows[0]["其他资金"] == Decimal("2.00")
    assert any("其他资金" in n for n in reg.note_lines())
    rows = [HEAD[:6], project("P1", 12, 15, 0)[:6]]
    assert problems(write_csv(tmp_path / "r.csv", rows)).problems[0].code == "R022"


# ------------------------------------------------------------------------- units ----
def test_amounts_in_yuan_become_wanyuan_with_one_note(tmp_path):
    head = ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", "财政拨款（元）", "其他资金（元）"]
    rows = [head, project("P1", 123400, 100000, 23400), project("P2", 10050, 10050, 0)]
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", rows))
    assert [r["预算数"] for r in reg.rows] == [Decimal("12.34"), Decimal("1.01")]
    assert reg.rows[0]["其他资金"] == Decimal("2.34")
    notes = [n for n in reg.notes if n.code == "R102"]
    assert len(notes) == 1 and "预算数（元）" in notes[0].message()
    assert "converted to 万元" in notes[0].message("en")


def test_a_unit_line_says_yuan_for_plain_headers(tmp_path):
    rows = [["项目表"], ["金额单位：元"], HEAD, project("P1", 50000, 50000, 0)]
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", rows))
    assert reg.rows[0]["预算数"] == Decimal("5.00")


def test_rounding_to_wanyuan_keeps_the_sum(tmp_path):
    head = ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", "财政拨款（元）", "其他资金（元）"]
    rows = [head, project("P1", 15000, 5050, 9950)]  # 1.50 = 0.505 + 0.995 exactly; rounded 0.51 + 1.00
    reg = load_registry(write_xlsx(tmp_path / "r.xlsx", rows))
    r = reg.rows[0]
    assert (r["预算数"], r["财政资金"], r["其他资金"]) == (Decimal("1.50"), Decimal("0.51"), Decimal("0.99"))
    assert any(n.code == "R103" for n in reg.notes)


def test_money_rounds_half_up():
    assert money("1.005") == Decimal("1.01")
    assert money(1.005) == Decimal("1.01")
    assert money(2.675) == Decimal("2.68")
    assert money("1.004") == Decimal("1.00")
    assert money("1,234.565") == Decimal("1234.57")
    assert money("abc") is None


def test_half_cent_in_a_wanyuan_registry_rounds_up(tmp_path):
    reg = load_registry(write_csv(tmp_path / "r.csv", [HEAD, project("P1", "1.005", "1.005", "0")]))
    assert reg.rows[0]["预算数"] == Decimal("1.01")


# --------------------------------------------------------------------- the checks ----
def test_sum_check_gives_row_and_the_three_amounts(tmp_path):
    err = problems(write_csv(tmp_path / "r.csv", [HEAD, project("P1", 10, 10, 0), project("P2", "12.50", 10, 2)]))
    [p] = err.problems
    assert p.code == "R016" and p.row == 3
    msg = str(err)
    assert "第3行" in msg and "12.50" in msg and "10.00" in msg and "2.00" in msg and "0.50" in msg


def test_sum_check_in_yuan_names_the_yuan_amounts(tmp_path):
    head = ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", "财政拨款（元）", "其他资金（元）"]
    err = problems(write_xlsx(tmp_path / "r.xlsx", [head, project("P1", 100000, 90000, 5000)]))
    msg = str(err)
    assert "预算数（元）" in msg and "100000" in msg and "90000" in msg and "5000" in msg and "元" in msg


def test_empty_unit_name(tmp_path):
    err = problems(write_csv(tmp_path / "r.csv", [HEAD, project("P1", 1, 1, 0, unit=["201001", ""])]))
    [p] = err.problems
    assert (p.code, p.row, p.col, p.header) == ("R010", 2, "B", "单位名称")
    assert str(err) == "第2行 B列“单位名称”：不能为空"


def test_one_unit_code_with_two_names(tmp_path):
    rows = [HEAD, project("P1", 1, 1, 0), project("P2", 1, 1, 0, unit=["201001", "办公室"])]
    err = problems(write_csv(tmp_path / "r.csv", rows))
    [p] = err.problems
    assert p.code == "R011" and p.row == 3
    assert "办公室(本级)" in str(err) and "“办公室”" in str(err) and "第 2 行" in str(err)


def test_two_units_with_their_own_names_pass(tmp_path):
    rows = [HEAD, project("P1", 1, 1, 0), project("P2", 1, 1, 0, unit=["201002", "财政局"])]
    assert load_registry(write_csv(tmp_path / "r.csv", rows)).units == {"201001": "办公室(本级)", "201002": "财政局"}


def test_duplicated_project_code(tmp_path):
    err = problems(write_csv(tmp_path / "r.csv", [HEAD, project("P1", 1, 1, 0), project("P1", 2, 2, 0)]))
    assert [(p.code, p.row) for p in err.problems] == [("R012", 3)]


@pytest.mark.parametrize("value,code", [("-5", "R014"), ("abc", "R013"), ("1e9", "R015"), ("100000001", "R015")])
def test_bad_amounts(tmp_path, value, code):
    err = problems(write_csv(tmp_path / "r.csv", [HEAD, project("P1", value, value, 0)]))
    assert {p.code for p in err.problems} == {code}
    p = err.problems[0]
    assert p.row == 2 and p.header in ("预算数", "财政资金")
    assert "第2行" in str(err) and not has_latin_words(str(err).replace("abc", ""))


def test_the_amount_limit_itself_passes(tmp_path):
    reg = load_registry(write_csv(tmp_path / "r.csv", [HEAD, project("P1", MAX_AMOUNT, MAX_AMOUNT, 0)]))
    assert reg.rows[0]["预算数"] == MAX_AMOUNT


def test_amount_limit_is_in_wanyuan_after_conversion(tmp_path):
    head = ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", "财政拨款（元）", "其他资金（元）"]
    big = 10**12  # one trillion 元 = 1e8 万元: allowed; one 元 more is not
    assert load_registry(write_xlsx(tmp_path / "a.xlsx", [head, project("P1", big, big, 0)])).rows
    err = problems(write_xlsx(tmp_path / "b.xlsx", [head, project("P1", big + 10000, big + 10000, 0)]))
    assert err.problems[0].code == "R015"


def test_empty_other_funds_mean_zero_but_an_empty_budget_is_an_error(tmp_path):
    reg = load_registry(write_csv(tmp_path / "r.csv", [HEAD, project("P1", 3, 3, "")]))
    assert reg.rows[0]["其他资金"] == Decimal("0.00")
    err = problems(write_csv(tmp_path / "r.csv", [HEAD, project("P1", "", 3, 0)]))
    assert [(p.code, p.header) for p in err.problems] == [("R010", "预算数")]


def test_long_code_stored_as_a_number(tmp_path):
    rows = [HEAD, [201001, "办公室", 130304211000000123456, "项目", 1, 1, 0]]
    err = problems(write_xlsx(tmp_path / "r.xlsx", rows))
    assert [p.code for p in err.problems] == ["R019"]
    assert load_registry(write_xlsx(tmp_path / "ok.xlsx", [HEAD, [201001, "办公室", "P1", "项目", 1, 1, 0]])).rows[0][
        "单位编码"] == "201001"


def test_every_problem_is_listed_up_to_the_limit(tmp_path):
    rows = [HEAD] + [project(f"P{i}", 3, 1, 1) for i in range(25)]
    err = problems(write_csv(tmp_path / "r.csv", rows))
    assert len(err.problems) == 25
    msg = str(err)
    assert msg.count("≠") == 20 and "另有 5 条" in msg
    assert "第2行" in msg and "第21行" in msg and "第22行" not in msg


# ---------------------------------------------------------------- language ----
def test_problems_in_english(tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEAD, project("P1", "abc", 1, 0)])
    msg = str(problems(path, lang="en"))
    assert "row 2" in msg and "not a number" in msg and "第" not in msg


def test_language_follows_xlperf_lang(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "r.csv", [HEAD, project("P1", "abc", 1, 0)])
    monkeypatch.setenv("XLPERF_LANG", "en")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert "row 2" in str(info.value)


def test_problems_as_data(tmp_path):
    err = problems(write_csv(tmp_path / "r.csv", [HEAD, project("P1", "-1", "-1", 0)]))
    j = err.problems[0].to_json()
    assert j["code"] == "R014" and j["row"] == 2 and j["column"] == "预算数" and j["cell"] == "E2"
    assert j["params"] == {"value": "-1.00"}


# ------------------------------------------------------------------------ year ----
@pytest.mark.parametrize("header", ["年度", "预算年度"])
def test_year_column(tmp_path, header):
    rows = [[*HEAD, header], [*project("P1", 1, 1, 0), 2022], [*project("P2", 1, 1, 0), "2022"]]
    assert load_registry(write_xlsx(tmp_path / "r.xlsx", rows)).year == 2022


def test_years_that_disagree(tmp_path):
    rows = [[*HEAD, "年度"], [*project("P1", 1, 1, 0), 2022], [*project("P2", 1, 1, 0), 2023]]
    err = problems(write_xlsx(tmp_path / "r.xlsx", rows))
    [p] = err.problems
    assert p.code == "R018" and p.row == 3 and "2023" in str(err) and "2022" in str(err)


def test_a_year_that_is_not_a_year(tmp_path):
    rows = [[*HEAD, "年度"], [*project("P1", 1, 1, 0), "明年"]]
    assert problems(write_xlsx(tmp_path / "r.xlsx", rows)).problems[0].code == "R017"


def test_year_from_the_title(tmp_path):
    write_budget_export(tmp_path / "e.xlsx", 2023)
    assert load_registry(tmp_path / "e.xlsx").year == 2023


# ----------------------------------------------------------------- files ----
def test_missing_file(tmp_path):
    err = problems(tmp_path / "nope.xlsx")
    assert err.problems[0].code == "R001" and "不存在" in str(err)


@pytest.mark.parametrize("name", ["r.xls", "r.ods", "r.txt", "r"])
def test_other_formats_are_refused_by_name(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"x")
    err = problems(path)
    assert err.problems[0].code == "R002" and ".xlsx" in str(err) and ".csv" in str(err)


def test_a_broken_xlsx_is_refused_in_chinese(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 definitely not a workbook")
    msg = str(problems(path))
    assert msg and not has_latin_words(msg.replace("xlsx", ""))


def test_gb18030_csv(tmp_path):
    reg = load_registry(write_csv(tmp_path / "r.csv", [HEAD, project("P1", 1, 1, 0)], encoding="gb18030"))
    assert reg.rows[0]["单位名称"] == "办公室(本级)"


def test_undecodable_csv(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("单位编码".encode("utf-16"))
    assert problems(path).problems[0].code == "R004"


def test_the_budget_export_fixture(tmp_path):
    path = tmp_path / "export.xlsx"
    expected = write_budget_export(path)
    reg = load_registry(path)
    assert reg.year == 2022 and len(reg.units) == 2
    assert [(r["项目编码"], r["预算数"], r["财政资金"], r["其他资金"]) for r in reg.rows] == \
        [(e["项目编码"], e["万元"]["预算数"], e["万元"]["财政资金"], e["万元"]["其他资金"]) for e in expected]
    assert budget_export_rows()[6]["万元"]["预算数"] == Decimal("2.51")


# ------------------------------------------------------------------ the CLI ----
def _cell(path: Path, ref: str):
    from xlperf.spec import load_spec, parse_ref

    spec = load_spec()
    r, c = parse_ref(spec.field(ref).cell)
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(spec.sheet).to_python(skip_empty_area=False)[r][c]


def test_cli_generates_from_a_budget_export(tmp_path):
    export = tmp_path / "export.xlsx"
    expected = write_budget_export(export)
    proc = run_cli("generate", export, "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "已换算为万元" in proc.stdout
    e = expected[6]
    [tpl] = list((tmp_path / "out").rglob(f"{e['项目编码']}*.xlsx"))
    assert Decimal(str(_cell(tpl, "预算数"))) == e["万元"]["预算数"] == Decimal("2.51")


def _bad_export(tmp_path) -> Path:
    head = ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", "财政拨款（元）", "其他资金（元）"]
    return write_xlsx(tmp_path / "bad.xlsx", [["2022年项目表"], head, project("P1", 100000, 90000, 5000),
                                               project("P2", "十万", 0, 0)])


def test_cli_bad_registry_exits_2_with_rows_and_columns(tmp_path):
    proc = run_cli("generate", _bad_export(tmp_path), "-o", tmp_path / "out")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out
    assert "第3行 E列“预算数（元）”" in out and "100000" in out and "90000" in out
    assert "第4行 E列“预算数（元）”" in out and "十万" in out
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.xlsx"))


def test_cli_bad_registry_in_english(tmp_path):
    proc = run_cli("--lang", "en", "generate", _bad_export(tmp_path), "-o", tmp_path / "out")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "row 3, column E" in out and "not a number" in out and "不能" not in out and "第3行" not in out
