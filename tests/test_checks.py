"""The check engine of table forms (xlperf/checks.py) on returns built in memory from the bundled forms."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from xlperf import checks
from xlperf.checks import Context, fmt_number, fmt_percent, output, run_checks, scored
from xlperf.scoring import ScoringRules
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.spec import load_spec

from inmemory import REGISTRY  # noqa: E402
from inmemory import TABLE_CODE as CODE  # noqa: E402
from inmemory import TABLE_OTHER_CODE as OTHER_CODE  # noqa: E402
from inmemory import TABLE_TARGETS as TARGETS  # noqa: E402
from inmemory import make_table_return as make  # noqa: E402

SE, MON = "self-evaluation", "monitoring"


def issues_of(form: str, **kw) -> set:
    spec, res = make(form, **kw)
    return {(i.code, i.cell) for i in run_checks(spec, res, REGISTRY)}


def full(form: str, **kw):
    """(issues, computed, row_computed) of one return run through every declared check."""
    spec, res = make(form, **kw)
    issues = run_checks(spec, res, REGISTRY)
    return issues, res.data.computed, res.data.row_computed


def one(form: str, kind: str, declared: dict | None = None, reported=(), **kw) -> list:
    """The issues of one check kind alone (its declaration from the spec unless given)."""
    spec, res = make(form, **kw)
    res.data.computed, res.data.row_computed = {}, [{} for _ in res.data.indicators]
    ctx = Context(spec, res, REGISTRY)
    ctx.reported.update(reported)
    declared = declared or next(d for d in spec.checks if d["kind"] == kind)
    checks.CHECKS[kind](ctx, declared)
    return ctx.issues


def ctx_of(form: str, reported=(), **kw) -> Context:
    spec, res = make(form, **kw)
    res.data.computed, res.data.row_computed = {}, [{} for _ in res.data.indicators]
    ctx = Context(spec, res, REGISTRY)
    ctx.reported.update(reported)
    return ctx


def params(issue) -> dict:
    return dict(issue.params)


def by_code(issues, code: str) -> list:
    return [i for i in issues if i.code == code]


def declared_of(form: str, kind: str) -> dict:
    return next(d for d in load_spec(form).checks if d["kind"] == kind)


# ------------------------------------------------------------ the engine -----
def test_a_clean_self_evaluation_has_no_issue_and_its_scores():
    issues, computed, per_row = full(SE)
    assert issues == []
    assert computed == {"执行率": 0.95, "资金得分": 9.5, "产出指标得分": 50.0, "效益指标得分": 30.0,
                        "满意度指标得分": 10.0, "总分": 99.5, "等级": "优"}
    assert per_row == [{"得分": 50.0}, {"得分": 30.0}, {"得分": 10.0}]


def test_a_clean_monitoring_return_has_no_issue_and_its_rates():
    issues, computed, per_row = full(MON)
    assert issues == []
    assert computed == {"执行率": 0.7, "时间进度": 0.5833, "全年预计执行率": 1.0, "指标数": 3, "预计未完成指标数": 0}
    assert per_row == [{"预计完成": "是"}, {"预计完成": "是"}, {"预计完成": "是"}]


def test_run_checks_starts_from_empty_computed_values():
    spec, res = make(SE)
    res.data.computed = {"总分": 1, "forged": 2}
    res.data.row_computed = [{"得分": 0, "forged": 1}]
    run_checks(spec, res, REGISTRY)
    assert "forged" not in res.data.computed and res.data.computed["总分"] == 99.5
    assert res.data.row_computed == [{"得分": 50.0}, {"得分": 30.0}, {"得分": 10.0}]


def test_run_checks_refuses_a_kind_it_does_not_know():
    spec, res = make(SE)
    for declared in ({"kind": "telepathy"}, {}):
        odd = replace(spec, checks=(*spec.checks, declared))
        with pytest.raises(ValueError, match=f"unknown check kind {declared.get('kind')!r} in .*self-evaluation"):
            run_checks(odd, res, REGISTRY)


def test_run_checks_runs_the_declared_checks_in_order_and_only_those():
    spec, res = make(SE, fields={"全年执行数": -1})
    assert {i.code for i in run_checks(replace(spec, checks=()), res, REGISTRY)} == set()
    only_range = replace(spec, checks=tuple(d for d in spec.checks if d["kind"] == "range"))
    assert [(i.code, i.cell) for i in run_checks(only_range, res, REGISTRY)] == [("E302", "E6")]


def test_issues_name_the_form_sheet():
    spec, res = make(SE, fields={"全年预算数": None})
    [issue] = [i for i in run_checks(spec, res, REGISTRY) if i.code == "E101"]
    assert (issue.sheet, issue.cell, params(issue)) == (spec.sheet, "D6", {"field": "全年预算数"})


def test_an_error_is_remembered_so_later_checks_do_not_pile_on_but_a_warning_is_not():
    ctx = ctx_of(SE)
    ctx.add("E101", "D6", field="x")
    ctx.add("W307", "G6", field="y")
    assert ctx.reported == {"D6"}
    assert [i.code for i in ctx.issues] == ["E101", "W307"]


def test_context_reads_fixed_cells_as_numbers():
    ctx = ctx_of(SE, fields={"全年预算数": "1,234.565", "全年执行数": True, "财政拨款全年预算数": "abc"})
    assert str(ctx.field_number("全年预算数")) == "1234.57"
    assert ctx.field_number("全年执行数") is None
    assert ctx.field_number("财政拨款全年预算数") is None
    assert ctx.field_number("no such field") is None
    assert ctx.ref("全年执行数") == "E6" and ctx.ref("no such field") == ""


# ------------------------------------------------------- outputs, numbers -----
def test_output_names_come_from_the_declaration():
    declared = {"kind": "score", "outputs": {"rate": "执行率", "level1_score": "{level1}得分"}}
    assert output(declared, "rate") == "执行率"
    assert output(declared, "level1_score", level1="产出指标") == "产出指标得分"


@pytest.mark.parametrize("declared", [{"kind": "score"}, {"kind": "score", "outputs": {}},
                                      {"kind": "score", "outputs": {"rate": 5}}])
def test_a_missing_output_name_is_a_clear_spec_error(declared):
    with pytest.raises(ValueError, match=r"check 'score' needs outputs\.rate in its spec"):
        output(declared, "rate")


def test_a_check_without_its_outputs_cannot_run():
    spec, res = make(MON)
    pace = {k: v for k, v in declared_of(MON, "pace").items() if k != "outputs"}
    with pytest.raises(ValueError, match="outputs.rate"):
        run_checks(replace(spec, checks=(pace,)), res, REGISTRY)


@pytest.mark.parametrize("value, shown", [(None, "（空）"), (3, "3"), (100, "100"), (10.5, "10.5"), (2.675, "2.68"),
                                          (1.005, "1.01"), (0.004, "0"), (-1, "-1"), (12.3456, "12.35"),
                                          ("7.10", "7.1"), (0.1, "0.1"), (200.0, "200")])
def test_fmt_number_shows_two_decimals_at_most(value, shown):
    assert fmt_number(value) == shown


@pytest.mark.parametrize("value, shown", [(None, "—"), (0.9, "90.00%"), (0.8601, "86.01%"), (1, "100.00%"),
                                          (0.12345, "12.35%"), (0, "0.00%"), (0.125, "12.50%")])
def test_fmt_percent(value, shown):
    assert fmt_percent(value) == shown


def test_rates_reach_the_master_with_four_decimals():
    _, computed, _ = full(SE, fields={"全年预算数": 30, "全年执行数": 25.80301})
    assert computed["执行率"] == 0.86  # 25.80 (amounts are read to the cent) / 30
    _, computed, _ = full(SE, fields={"全年预算数": 7, "全年执行数": 6})
    assert computed["执行率"] == 0.8571


# ------------------------------------------------------------------ cells -----
def test_a_required_cell_empty_or_blank_is_e101_and_an_optional_one_is_not():
    for blank in (None, "", "   "):
        assert ("E101", "D6") in issues_of(SE, fields={"全年预算数": blank})
    assert issues_of(SE, fields={"财政拨款全年预算数": None}) == set()
    assert issues_of(SE, fields={"执行率": ""}) == set()


def test_a_required_table_cell_names_its_header_as_the_sheet_shows_it():
    issues = one(MON, "cells", rows=[{"实际完成值": ""}, {}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [("E101", "E12", {"field": "1-7月实际完成值"})]
    issues = one(SE, "cells", rows=[{}, {"实际完成值": None}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [("E101", "E15", {"field": "实际完成值"})]


def test_locked_cells_are_not_the_cells_check_s_business():
    # an emptied locked cell is the locked check's E313, never E101 from the cells check
    assert one(SE, "cells", targets=[{**TARGETS[0], "三级指标": ""}, *TARGETS[1:]]) == []
    spec, res = make(SE)
    res.data.fields["项目名称"] = ""
    ctx = Context(spec, res, REGISTRY)
    checks.check_cells(ctx, {"kind": "cells"})
    assert ctx.issues == []


def test_a_formula_in_an_input_cell_is_e116_and_nothing_else_there():
    long = "=SUM(" + "A1," * 30 + "A2)"
    issues = one(SE, "cells", fields={"全年预算数": None}, formulas={"D6": long, "F14": "=25+25"})
    assert [(i.code, i.cell, params(i)) for i in issues] == [("E116", "D6", {"found": long[:50]}),
                                                             ("E116", "F14", {"found": "=25+25"})]
    assert one(SE, "cells", formulas={"D6": ""}) == []


@pytest.mark.parametrize("value, found", [(True, "True"), (False, "False"), ("abc", "abc"), ("1O0", "1O0"),
                                          ("x" * 80, "x" * 50)])
def test_a_number_cell_holding_no_number_is_e301(value, found):
    issues = one(SE, "cells", fields={"全年执行数": value})
    assert [(i.code, i.cell, params(i)) for i in issues] == [("E301", "E6", {"field": "全年执行数", "found": found})]


def test_a_number_column_holding_text_is_e301_and_numbers_pass():
    issues = one(SE, "cells", rows=[{"分值": "五十"}, {}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [("E301", "F14", {"field": "分值", "found": "五十"})]
    assert one(SE, "cells", fields={"全年执行数": "28.5", "全年预算数": 30.0}, rows=[{"分值": "50"}, {}, {}]) == []


def test_a_choice_outside_its_list_is_e117():
    issues = one(MON, "cells", rows=[{"偏差原因分析": "其它"}, {"完成目标可能性": "有可能"}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E117", "G12", {"field": "偏差原因分析", "choices": "经费保障、制度保障、人员保障、硬件条件保障、其他",
                         "found": "其它"})]
    assert one(MON, "cells", rows=[{"偏差原因分析": " 其他 "}, {}, {}]) == []  # read as stripped text


def test_a_text_longer_than_its_limit_is_e113_at_the_limit_it_is_not():
    assert one(SE, "cells", fields={"执行偏差原因": "因" * 500}) == []
    issues = one(SE, "cells", fields={"执行偏差原因": "因" * 501})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E113", "C10", {"field": "执行偏差原因", "limit": 500, "length": 501})]
    issues = one(MON, "cells", rows=[{}, {}, {"备注": "备" * 201}])
    assert [(i.code, i.cell) for i in issues] == [("E113", "J14")]


def test_a_text_cell_takes_any_text_and_a_number_any_amount():
    assert one(SE, "cells", fields={"实际完成情况": 12345, "全年预算数": "¥30"}) == []


# --------------------------------------------------------------- identity -----
def test_identity_of_a_registered_project_is_silent():
    assert one(SE, "identity") == []
    assert one(MON, "identity") == []


def test_a_project_not_in_the_registry_is_e114_at_the_key_cell():
    issues = one(SE, "identity", fields={"项目编码": "NOPE"}, meta={"project_code": "NOPE"})
    assert [(i.code, i.sheet, i.cell, params(i)) for i in issues] == [("E114", "项目支出绩效自评表", "B3",
                                                                       {"found": "NOPE"})]


def test_an_empty_code_is_e114_naming_the_metadata_code_or_empty():
    issues = one(SE, "identity", fields={"项目编码": ""}, meta={"project_code": ""})
    assert [(i.code, params(i)) for i in issues] == [("E114", {"found": "（空）"})]
    issues = one(SE, "identity", fields={"项目编码": ""}, meta={"project_code": "NOPE"})
    assert [(i.code, params(i)) for i in issues] == [("E114", {"found": "NOPE"})]


def test_an_empty_code_cell_is_found_by_the_metadata_code():
    # the key cell is locked: emptied, the project is still known by its metadata, and the cell differs from it
    issues = one(SE, "identity", fields={"项目编码": ""})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E102", "B3", {"field": "项目编码", "found": "（空）", "expected": CODE})]


def test_a_metadata_code_other_than_the_sheet_s_is_e006_on_the_metadata_sheet():
    issues = one(SE, "identity", fields={"项目编码": OTHER_CODE}, meta={"project_code": CODE})
    e006 = by_code(issues, "E006")
    assert [(i.sheet, i.cell, params(i)) for i in e006] == [("_xlperf_meta", "project_code",
                                                             {"meta": CODE, "found": OTHER_CODE})]
    assert by_code(issues, "E114") == []  # the sheet's code is registered


def test_a_sheet_code_unknown_but_a_registered_metadata_code_is_e006_only():
    issues = one(SE, "identity", fields={"项目编码": "NOPE"})
    assert [(i.code, i.cell) for i in issues] == [("E006", "project_code"), ("E102", "B3")]


def test_no_metadata_code_takes_the_sheet_code_alone():
    assert one(SE, "identity", meta={"project_code": ""}) == []
    assert one(SE, "identity", meta={"project_code": "  "}) == []


def test_a_locked_cell_other_than_the_registry_is_e102():
    issues = one(SE, "identity", fields={"项目名称": "别的项目"})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E102", "E3", {"field": "项目名称", "found": "别的项目", "expected": "机要局升级改造资金"})]
    issues = one(SE, "identity", fields={"项目名称": ""})
    assert [params(i)["found"] for i in issues] == ["（空）"]


def test_amounts_are_compared_with_the_registry_to_the_cent():
    assert one(SE, "identity", fields={"年初预算数": "30.00"}) == []
    assert one(SE, "identity", fields={"年初预算数": 30.004}) == []
    issues = one(SE, "identity", fields={"年初预算数": 30.01})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E102", "C6", {"field": "年初预算数", "found": "30.01", "expected": "30.00"})]
    issues = one(SE, "identity", fields={"年初财政拨款": "三十"})
    assert [(i.cell, params(i)["found"], params(i)["expected"]) for i in issues] == [("C7", "三十", "30.00")]


def test_locked_cells_the_registry_does_not_hold_are_left_to_the_locked_check():
    # 实施单位 is a pattern, 资金分值 a constant of the spec, 主管部门 empty in the registry (the unit's name
    # falls back into it): none of them is compared with the registry
    assert one(SE, "identity", fields={"实施单位": "x", "资金分值": 99, "主管部门": "y"}) == []
    # 绩效目标 and 涉密 come from the targets master, not the registry
    assert one(SE, "identity", fields={"预期目标": "x", "涉密": "是"}) == []


def test_a_registry_value_present_is_compared_even_when_the_field_has_a_fallback():
    registry = load_registry(bundled_registry_path())
    registry.get(CODE)["主管部门"] = "秦皇岛市北戴河区委"
    spec, res = make(SE)
    ctx = Context(spec, res, registry)
    checks.check_identity(ctx, {"kind": "identity"})
    assert [(i.code, i.cell, params(i)["expected"]) for i in ctx.issues] == [("E102", "B4", "秦皇岛市北戴河区委")]


# ----------------------------------------------------------------- locked -----
def test_every_locked_cell_unchanged_is_silent():
    assert one(SE, "locked") == []
    assert one(MON, "locked") == []


def test_a_changed_locked_field_is_e313_with_both_values():
    issues = one(SE, "locked", fields={"项目名称": "别的项目"})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E313", "E3", {"field": "项目名称", "expected": "机要局升级改造资金", "found": "别的项目"})]


def test_a_changed_locked_table_cell_is_e313_at_its_cell():
    issues = one(SE, "locked", targets=TARGETS)
    assert issues == []
    spec, res = make(SE)
    res.data.indicators[1].values["三级指标"] = ""
    res.data.indicators[2].values["年度指标值"] = "≥90%"
    ctx = Context(spec, res, REGISTRY)
    checks.check_locked(ctx, {"kind": "locked"})
    assert [(i.code, i.cell, params(i)) for i in ctx.issues] == [
        ("E313", "C15", {"field": "三级指标", "expected": "保密安全", "found": "（空）"}),
        ("E313", "D16", {"field": "年度指标值", "expected": "≥95%", "found": "≥90%"})]


def test_locked_values_are_compared_as_canonical_text():
    assert one(SE, "locked", fields={"年初预算数": "30"}) == []
    assert one(SE, "locked", fields={"年初预算数": 30}) == []
    assert one(SE, "locked", fields={"资金分值": 10.0000001}) == []
    issues = one(SE, "locked", fields={"年初预算数": 30.5})
    assert [(i.cell, params(i)["expected"], params(i)["found"]) for i in issues] == [("C6", "30", "30.5")]


def test_long_locked_values_are_cut_in_the_message():
    issues = one(SE, "locked", fields={"预期目标": "改" * 150}, meta={"locked": json.dumps({"B12": "目" * 150})})
    assert [(params(i)["expected"], params(i)["found"]) for i in issues] == [("目" * 100, "改" * 100)]


def test_a_cell_with_an_error_already_is_not_reported_again():
    assert one(SE, "locked", fields={"项目名称": "别的项目"}, reported={"E3"}) == []


def test_snapshot_entries_for_cells_the_form_does_not_lock_are_ignored():
    snap = json.dumps({"D6": "1", "Z99": "x", "E14": "5台"})
    assert one(SE, "locked", meta={"locked": snap}) == []


@pytest.mark.parametrize("locked", ["", None])
def test_no_snapshot_means_nothing_to_compare(locked):
    spec, res = make(SE, fields={"项目名称": "别的项目"})
    res.data.meta.pop("locked") if locked is None else res.data.meta.update(locked=locked)
    ctx = Context(spec, res, REGISTRY)
    checks.check_locked(ctx, {"kind": "locked"})
    assert ctx.issues == []


@pytest.mark.parametrize("locked", ["{", "[1, 2]", '"text"', "3", "null", "[" * 100000 + "]" * 100000, "{'a': 1}"])
def test_a_snapshot_that_is_not_a_json_object_is_e007(locked):
    issues = one(SE, "locked", meta={"locked": locked})
    assert [(i.code, i.sheet, i.cell, i.params) for i in issues] == [("E007", "_xlperf_meta", "locked", ())]


def test_a_snapshot_value_of_another_type_is_read_as_text():
    assert one(SE, "locked", meta={"locked": json.dumps({"C6": 30, "F6": 10})}) == []
    issues = one(SE, "locked", meta={"locked": json.dumps({"C6": 31})})
    assert [(i.cell, params(i)["expected"]) for i in issues] == [("C6", "31")]


# ------------------------------------------------------------------ range -----
def test_an_amount_below_zero_is_e302_zero_is_not():
    assert one(SE, "range", fields={"全年执行数": 0}) == []
    issues = one(SE, "range", fields={"全年执行数": -0.01})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E302", "E6", {"field": "全年执行数", "found": "-0.01", "low": "0", "high": "∞"})]


def test_points_within_0_and_100_and_beyond():
    declared = load_spec(SE).checks[4]
    assert declared["columns"] == ["分值"]
    assert one(SE, "range", declared=declared, rows=[{"分值": 0}, {"分值": 100}, {}]) == []
    issues = one(SE, "range", declared=declared, rows=[{"分值": 100.01}, {"分值": -1}, {}])
    assert [(i.cell, params(i)) for i in issues] == [
        ("F14", {"field": "分值", "found": "100.01", "low": "0", "high": "100"}),
        ("F15", {"field": "分值", "found": "-1", "low": "0", "high": "100"})]


def test_range_skips_cells_without_a_number_and_cells_already_reported():
    assert one(SE, "range", fields={"全年执行数": True, "全年预算数": "abc"}) == []
    assert one(SE, "range", fields={"全年执行数": -5}, reported={"E6"}) == []


def test_range_with_only_an_upper_bound():
    declared = {"kind": "range", "fields": ["全年执行数"], "max": 28}
    assert one(SE, "range", declared=declared, fields={"全年执行数": -100}) == []
    issues = one(SE, "range", declared=declared, fields={"全年执行数": 28.01})
    assert [params(i) for i in issues] == [{"field": "全年执行数", "found": "28.01", "low": "", "high": "28"}]
    assert one(SE, "range", declared={"kind": "range"}) == []


# --------------------------------------------------------------------- le -----
def test_spending_equal_to_the_budget_passes_above_it_is_e303():
    assert one(MON, "le", fields={"执行数": 30}) == []
    issues = one(MON, "le", fields={"执行数": 30.01})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E303", "D6", {"left": "执行数", "left_value": "30.01", "right": "年初预算数", "right_value": "30"})]


def test_a_forecast_above_the_budget_is_a_warning():
    warning = [d for d in load_spec(MON).checks if d["kind"] == "le"][1]
    assert one(MON, "le", declared=warning, fields={"全年预计执行数": 30}) == []
    issues = one(MON, "le", declared=warning, fields={"全年预计执行数": 31})
    assert [(i.code, i.cell, i.severity) for i in issues] == [("W303", "F6", "warning")]
    assert [i.code for i in one(MON, "le", declared={**warning, "severity": "error"},
                                fields={"全年预计执行数": 31})] == ["E303"]


def test_le_needs_both_numbers():
    assert one(MON, "le", fields={"执行数": None}) == []
    assert one(MON, "le", fields={"执行数": 99, "年初预算数": "abc"}) == []


# -------------------------------------------------------------------- sum -----
def test_points_making_100_with_the_funds_points_pass():
    assert one(SE, "sum") == []
    assert one(SE, "sum", rows=[{"分值": 50.01}, {}, {}]) == []  # off by 0.01: within the tolerance
    assert one(SE, "sum", rows=[{"分值": 49.99}, {}, {}]) == []


def test_points_off_by_more_than_a_cent_are_e304_at_the_first_row():
    issues = one(SE, "sum", rows=[{"分值": 50.02}, {}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E304", "F14", {"field": "分值", "expected": "100", "found": "100.02", "plus": "资金分值"})]
    issues = one(SE, "sum", rows=[{}, {}, {"分值": 9.98}])
    assert [(i.cell, params(i)["found"]) for i in issues] == [("F14", "99.98")]


def test_sum_waits_for_every_number():
    assert one(SE, "sum", rows=[{"分值": ""}, {"分值": 1}, {}]) == []
    assert one(SE, "sum", fields={"资金分值": "x"}, rows=[{"分值": 1}, {}, {}]) == []


def test_sum_without_fixed_cells_and_without_rows():
    declared = {"kind": "sum", "column": "分值", "total": 90}
    assert one(SE, "sum", declared=declared) == []
    issues = one(SE, "sum", declared={**declared, "total": 100})
    assert [(i.cell, params(i)["plus"], params(i)["found"]) for i in issues] == [("F14", "—", "90")]
    issues = one(SE, "sum", targets=[])
    assert [(i.code, i.cell, params(i)["found"]) for i in issues] == [("E304", "", "10")]


# ------------------------------------------------------------------ score -----
def test_execution_at_exactly_90_percent_needs_no_reason():
    issues, computed, _ = full(SE, fields={"全年预算数": 30, "全年执行数": 27})
    assert issues == [] and computed["执行率"] == 0.9 and computed["资金得分"] == 9


def test_execution_below_90_percent_needs_its_reason():
    issues, computed, _ = full(SE, fields={"全年执行数": 26.99})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E308", "C10", {"rate": "89.97%", "limit": "90.00%", "field": "执行偏差原因"})]
    assert computed["执行率"] == 0.8997
    assert full(SE, fields={"全年执行数": 26.99, "执行偏差原因": "采购延期"})[0] == []
    assert [i.code for i in full(SE, fields={"全年执行数": 0, "执行偏差原因": " "})[0]] == ["E308"]


def test_a_zero_budget_is_e312_and_leaves_no_total():
    issues, computed, per_row = full(SE, fields={"全年预算数": 0})
    assert [(i.code, i.cell, params(i)) for i in issues] == [("E312", "D6", {"field": "全年预算数"})]
    assert computed["执行率"] is None and computed["资金得分"] == 0.0
    assert "总分" not in computed and "等级" not in computed
    assert computed["产出指标得分"] == 50.0 and per_row[0] == {"得分": 50.0}


def test_e312_is_not_piled_on_a_cell_already_in_error():
    issues = one(SE, "score", fields={"全年预算数": 0}, reported={"D6"})
    assert by_code(issues, "E312") == []


def test_an_empty_budget_leaves_the_rate_unknown_without_e312():
    issues = one(SE, "score", fields={"全年预算数": None})
    assert issues == []


def test_spending_above_the_budget_scores_the_funds_points_at_most():
    _, computed, _ = full(SE, fields={"全年执行数": 45})
    assert computed["执行率"] == 1.5 and computed["资金得分"] == 10.0 and computed["总分"] == 100.0


def test_an_indicator_short_of_its_target_needs_its_reason():
    issues, computed, per_row = full(SE, rows=[{"实际完成值": "9台"}, {}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E305", "H14", {"indicator": "设备购置数量", "target": "≥10台", "actual": "9台", "score": "45",
                         "points": "50", "field": "偏差原因分析及改进措施"})]
    assert per_row[0] == {"得分": 45.0} and computed["产出指标得分"] == 45.0 and computed["总分"] == 94.5
    assert full(SE, rows=[{"实际完成值": "9台", "偏差原因分析及改进措施": "供货延迟"}, {}, {}])[0] == []


def test_one_cent_short_of_full_points_needs_a_reason():
    targets = [{**TARGETS[0], "指标值": "≥5000台"}, *TARGETS[1:]]
    issues, _, per_row = full(SE, targets=targets, rows=[{"实际完成值": "4999台"}, {}, {}])
    assert per_row[0] == {"得分": 49.99}
    assert [(i.code, params(i)["score"]) for i in issues] == [("E305", "49.99")]


def test_a_qualitative_indicator_partly_met_loses_half():
    issues, computed, _ = full(SE, rows=[{}, {"实际完成值": "部分达成"}, {}])
    assert [(i.code, i.cell, params(i)["score"]) for i in issues] == [("E305", "H15", "15")]
    assert computed["效益指标得分"] == 15.0


def test_an_actual_at_exactly_130_percent_does_not_warn_above_it_does():
    assert full(SE, rows=[{"实际完成值": "13台"}, {}, {}])[0] == []
    issues, _, per_row = full(SE, rows=[{"实际完成值": "13.01台"}, {}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("W306", "E14", {"indicator": "设备购置数量", "actual": "13.01台", "target": "≥10台", "percent": "130"})]
    assert per_row[0] == {"得分": 50.0}


def test_an_actual_that_cannot_be_compared_is_e309_with_an_example_like_the_target():
    issues, computed, per_row = full(SE, rows=[{"实际完成值": "很多"}, {"实际完成值": "大概"}, {"实际完成值": "5天"}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E309", "E14", {"indicator": "设备购置数量", "field": "实际完成值", "found": "很多", "target": "≥10台",
                         "example": "10台"}),
        ("E309", "E15", {"indicator": "保密安全", "field": "实际完成值", "found": "大概", "target": "达成预期指标",
                         "example": "达成、部分达成、未达成"}),
        ("E309", "E16", {"indicator": "使用人员满意度", "field": "实际完成值", "found": "5天", "target": "≥95%",
                         "example": "95%"})]
    assert per_row == [{}, {}, {}]
    assert "总分" not in computed and "等级" not in computed
    assert computed["产出指标得分"] == 0.0


def test_a_target_that_cannot_be_read_gives_the_form_s_examples():
    targets = [{**TARGETS[0], "指标值": "见附件"}, *TARGETS[1:]]
    issues = one(SE, "score", targets=targets)
    assert [(i.code, params(i)["example"]) for i in issues] == [("E309", "96%、120本")]


def test_an_empty_actual_is_e101_once_not_e309_as_well():
    issues = full(SE, rows=[{"实际完成值": ""}, {}, {}])[0]
    assert [(i.code, i.cell) for i in issues] == [("E101", "E14")]
    # alone, the score check names it as empty
    issues = one(SE, "score", rows=[{"实际完成值": ""}, {}, {}])
    assert [(i.code, params(i)["found"]) for i in issues] == [("E309", "（空）")]


def test_a_row_without_points_is_not_scored_and_an_empty_points_cell_is_e101():
    # 分值 was not required: emptied, its row went unscored and the return had no total, without any issue
    issues, computed, per_row = full(SE, rows=[{"分值": ""}, {}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [("E101", "F14", {"field": "分值"})]
    assert per_row[0] == {} and "总分" not in computed
    issues = one(SE, "score", rows=[{"分值": ""}, {}, {}])
    assert issues == []
    spec, res = make(SE, rows=[{"分值": "x"}, {}, {}])
    run_checks(spec, res, REGISTRY)
    assert res.data.row_computed[0] == {} and "总分" not in res.data.computed


def test_an_actual_in_a_percent_cell_is_read_with_its_format():
    # 0.96 typed into a cell formatted as a percentage is 96 %: full marks against ≥95%
    issues, _, per_row = full(SE, rows=[{}, {}, {"实际完成值": 0.96}], formats={"E16": "0%"})
    assert issues == [] and per_row[2] == {"得分": 10.0}
    issues, _, per_row = full(SE, rows=[{}, {}, {"实际完成值": 0.96}])
    assert per_row[2] == {"得分": 0.1} and [i.code for i in issues] == ["E305"]


def test_a_target_in_a_percent_cell_is_read_with_its_format():
    ctx = ctx_of(SE, formats={"D16": "0%"})
    ctx.data.indicators[2].values["年度指标值"] = 0.95
    ctx.data.indicators[2].values["实际完成值"] = "95%"
    checks.check_score(ctx, declared_of(SE, "score"))
    assert ctx.issues == [] and ctx.data.row_computed[2] == {"得分": 10.0}


def test_the_level1_scores_add_the_rows_of_each_level1():
    targets = [TARGETS[0], {**TARGETS[0], "三级指标": "软件数量", "指标值": "≥4套"}, *TARGETS[1:]]
    issues, computed, per_row = full(SE, targets=targets,
                                     rows=[{"分值": 25.5, "实际完成值": "10台"}, {"分值": 24.5, "实际完成值": "2套"},
                                           {"实际完成值": "达成", "分值": 30}, {"实际完成值": "96%", "分值": 10}])
    assert [i.code for i in issues] == ["E305"]
    assert [r["得分"] for r in per_row] == [25.5, 12.25, 30.0, 10.0]
    assert computed["产出指标得分"] == 37.75 and computed["总分"] == 87.25 and computed["等级"] == "良"


def test_a_level1_without_rows_scores_0_and_unknown_level1_rows_count_only_in_the_total():
    targets = [TARGETS[0], {**TARGETS[1], "一级指标": "成本指标"}]
    _, computed, _ = full(SE, targets=targets, rows=[{"分值": 60}, {"实际完成值": "达成", "分值": 30}])
    assert computed["效益指标得分"] == 0.0 and computed["满意度指标得分"] == 0.0
    assert "成本指标得分" not in computed
    assert computed["产出指标得分"] == 60.0 and computed["总分"] == 99.5


def test_level1_scores_are_rounded_to_the_cent():
    targets = [TARGETS[0], {**TARGETS[0], "三级指标": "b"}, {**TARGETS[0], "三级指标": "c"}]
    _, computed, per_row = full(SE, targets=targets, rows=[{"分值": 30, "实际完成值": "10台"},
                                                           {"分值": 30, "实际完成值": "10台"},
                                                           {"分值": 30, "实际完成值": "10台"}])
    assert computed["产出指标得分"] == 90.0 and per_row == [{"得分": 30.0}] * 3


@pytest.mark.parametrize("spent, grade", [(30, "优"), (0, "优")])
def test_the_grade_of_the_total(spent, grade):
    _, computed, _ = full(SE, fields={"全年执行数": spent, "执行偏差原因": "x"})
    assert computed["等级"] == grade


def test_the_grade_follows_the_total_down():
    _, computed, _ = full(SE, fields={"全年执行数": 0, "执行偏差原因": "x"},
                          rows=[{"实际完成值": "0台", "偏差原因分析及改进措施": "x"}, {}, {}])
    assert computed["总分"] == 40.0 and computed["等级"] == "差"


# -- typed rates and scores: compared with what xlperf computes, never trusted --
@pytest.mark.parametrize("typed, fmt", [(95, ""), (0.95, ""), (0.95, "0%"), (95.5, ""), (94.5, ""), (0.9549, "0.00%"),
                                        ("95", ""), (None, ""), ("九五", ""), (True, "")])
def test_a_typed_rate_within_half_a_point_or_unreadable_is_silent(typed, fmt):
    assert full(SE, fields={"执行率": typed}, formats={"G6": fmt})[0] == []


@pytest.mark.parametrize("typed, fmt, shown", [(96, "", "96.00%"), (0.96, "", "96.00%"), (95.52, "", "95.52%"),
                                               (1.5, "", "150.00%"), (1.51, "", "1.51%"), (95, "0.00%", "9500.00%"),
                                               (0.9448, "0%", "94.48%")])
def test_a_typed_rate_off_by_more_is_w307(typed, fmt, shown):
    issues = full(SE, fields={"执行率": typed}, formats={"G6": fmt})[0]
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("W307", "G6", {"field": "执行率", "typed": shown, "computed": "95.00%"})]


def test_a_rate_typed_in_its_percent_cell_is_read_as_typed_not_to_the_cent():
    # the template formats 执行率 as 0.00%: 95.6 % typed there arrives as 0.956. xlperf computes 28.56 / 30 = 95.2 %,
    # within half a point; the rate was read as an amount (to the cent: 0.96) and warned "typed 96 %"
    assert full(SE, fields={"全年执行数": 28.56, "执行率": 0.956}, formats={"G6": "0.00%"})[0] == []
    assert full(SE, fields={"全年执行数": 28.56, "执行率": 95.6})[0] == []  # the same typed into a plain cell
    issues = full(SE, fields={"全年执行数": 28.56, "执行率": 0.9445}, formats={"G6": "0.00%"})[0]
    assert [(i.code, params(i)) for i in issues] == [("W307", {"field": "执行率", "typed": "94.45%",
                                                               "computed": "95.20%"})]


def test_no_rate_no_comparison_of_the_typed_rate():
    issues = full(SE, fields={"全年预算数": 0, "执行率": 50})[0]
    assert [i.code for i in issues] == ["E312"]


@pytest.mark.parametrize("typed", [9.5, 9.51, 9.49, "9.5", None, True, "九点五"])
def test_a_typed_funds_score_within_a_cent_or_unreadable_is_silent(typed):
    assert one(SE, "score", fields={"资金得分": typed}) == []  # text or a bool there is the cells check's E301


def test_a_typed_funds_score_off_by_more_than_a_cent_is_w307():
    issues = full(SE, fields={"资金得分": 9.52})[0]
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("W307", "H6", {"field": "资金得分", "typed": "9.52", "computed": "9.5"})]
    assert [i.cell for i in full(SE, fields={"资金得分": 9.48})[0]] == ["H6"]


def test_a_typed_row_score_is_compared_with_the_computed_one():
    assert one(SE, "score", rows=[{"得分": 50}, {"得分": "30"}, {"得分": True}]) == []
    issues = full(SE, rows=[{"得分": 49}, {}, {}])[0]
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("W307", "G14", {"field": "得分", "typed": "49", "computed": "50"})]


def test_a_typed_total_is_compared_with_the_computed_total():
    assert full(SE, fields={"总分得分": 99.5})[0] == []
    issues = full(SE, fields={"总分得分": 98})[0]
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("W307", "G17", {"field": "总分得分", "typed": "98", "computed": "99.5"})]


def test_typed_values_are_not_compared_where_the_form_has_no_cell_for_them():
    spec, res = make(SE, fields={"资金得分": 1})
    ctx = Context(spec, res, REGISTRY)
    checks._typed_score(ctx, spec.role("typed_funds_score"), 1, "", 9.5)
    checks._typed_score(ctx, None, 1, "H6", 9.5)
    assert ctx.issues == []
    no_total = replace(spec, total_label="")
    res.data.fields["总分得分"] = 1
    issues = [i for i in run_checks(no_total, res, REGISTRY) if i.cell == "G17"]
    assert issues == []


def test_the_score_check_reads_only_the_roles_the_form_has():
    spec, res = make(SE, fields={"执行率": 1, "资金得分": 1, "全年执行数": 1})
    keep = ("plan_total", "spent_total")
    bare = replace(spec, fields=tuple(f if f.role in keep else replace(f, role="") for f in spec.fields),
                   columns=tuple(c if c.role in ("points", "target", "actual", "level1") else replace(c, role="")
                                 for c in spec.columns))
    ctx = Context(bare, res, REGISTRY)
    res.data.computed, res.data.row_computed = {}, [{} for _ in res.data.indicators]
    checks.check_score(ctx, declared_of(SE, "score"))
    assert ctx.issues == []
    assert res.data.computed["资金得分"] == round(10 * 1 / 30, 2) and res.data.computed["总分"] == 90.33


def test_without_budget_roles_the_funds_are_unscored():
    spec, res = make(SE)
    bare = replace(spec, fields=tuple(replace(f, role="") if f.role in ("plan_total", "spent_total") else f
                                      for f in spec.fields))
    res.data.computed, res.data.row_computed = {}, [{} for _ in res.data.indicators]
    ctx = Context(bare, res, REGISTRY)
    checks.check_score(ctx, declared_of(SE, "score"))
    assert res.data.computed["执行率"] is None and "总分" not in res.data.computed


def test_a_row_whose_actual_cell_is_in_error_is_not_scored():
    issues = one(SE, "score", rows=[{"实际完成值": "很多"}, {}, {}], reported={"E14"})
    assert issues == []


def test_the_indicator_is_named_by_its_third_level_or_else_its_second():
    spec = load_spec(SE)
    _, res = make(SE)
    row = res.data.indicators[0]
    assert checks._indicator_name(spec, row) == "设备购置数量"
    no_third = replace(spec, columns=tuple(replace(c, role="x") if c.name == "三级指标" else c for c in spec.columns))
    assert checks._indicator_name(no_third, row) == "数量指标"


# -- yes/no targets --
@pytest.mark.parametrize("answer, score, outcome", [("是", 30.0, "full"), ("否", 0.0, "zero"), ("达成", 30.0, "full"),
                                                    ("部分达成", 15.0, "partial"), ("也许", None, "unscorable")])
def test_a_yes_no_target_is_scored_as_a_qualitative_one(answer, score, outcome):
    rules = ScoringRules.from_table(load_spec(SE).scoring)
    result = scored("是否", answer, 30.0, rules, ("是", "否"))
    assert (result.score, result.outcome) == (score, outcome)


def test_yes_no_answers_come_from_the_check_s_declaration():
    rules = ScoringRules.from_table(load_spec(SE).scoring)
    assert scored("是否", "Y", 30.0, rules, ("Y", "N")).score == 30.0
    assert scored("是否", "N", 30.0, rules, ("Y", "N")).score == 0.0
    assert scored("是否", "是", 30.0, rules, ()).outcome == "unscorable"
    assert scored("是/否", " 是 ", 30.0, rules, ("是", "否")).score == 30.0


def test_scored_passes_the_formats_on():
    rules = ScoringRules.from_table(load_spec(SE).scoring)
    assert scored("≥95%", 0.96, 10.0, rules, actual_format="0%").score == 10.0
    assert scored(0.95, "95%", 10.0, rules, target_format="0%").score == 10.0
    assert scored("≥10台", "9台", 10.0, rules).score == 9.0


def test_a_yes_no_row_in_a_return():
    targets = [TARGETS[0], {**TARGETS[1], "指标值": "是否"}, TARGETS[2]]
    issues, _, per_row = full(SE, targets=targets, rows=[{}, {"实际完成值": "否"}, {}])
    assert [(i.code, i.cell, params(i)["score"]) for i in issues] == [("E305", "H15", "0")]
    assert per_row[1] == {"得分": 0.0}
    issues = full(SE, targets=targets, rows=[{}, {"实际完成值": "可能"}, {}])[0]
    assert [(i.code, params(i)["example"]) for i in issues] == [("E309", "96%、120本")]


# -------------------------------------------------------------- pace (monitoring) -----
def test_spending_exactly_at_half_the_elapsed_share_does_not_warn():
    issues, computed, _ = full(MON, fields={"执行数": 8.75})  # 8.75 / 30 = 0.5 × 7/12
    assert issues == [] and computed["执行率"] == 0.2917


def test_spending_far_behind_the_year_warns_w311():
    issues, computed, _ = full(MON, fields={"执行数": 8.74})
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("W311", "D6", {"rate": "29.13%", "elapsed": "58.33%", "through": 7, "field": "执行进度说明"})]
    assert full(MON, fields={"执行数": 8.74, "执行进度说明": "采购在第三季度"})[0] == []
    assert [i.code for i in full(MON, fields={"执行数": 0, "执行进度说明": "  "})[0]] == ["W311"]


def test_the_month_comes_from_the_metadata_within_1_to_12():
    issues, computed, _ = full(MON, fields={"执行数": 3.7}, meta={"through": "3"})  # 3.7/30 < 0.5 × 3/12
    assert computed["时间进度"] == 0.25
    assert [params(i)["through"] for i in issues] == [3]
    assert full(MON, fields={"执行数": 3.75}, meta={"through": "3"})[0] == []
    assert full(MON, meta={"through": "12"})[1]["时间进度"] == 1.0
    assert full(MON, meta={"through": "1"})[1]["时间进度"] == 0.0833


@pytest.mark.parametrize("through", ["13", "0", "-1", "abc", "", "7.5"])
def test_a_month_out_of_range_or_unreadable_falls_back_to_the_form(through):
    assert full(MON, meta={"through": through})[1]["时间进度"] == 0.5833


def test_a_form_without_a_month_counts_the_whole_year():
    spec, res = make(SE)
    assert spec.through == 0
    assert checks._through({"through": ""}, spec) == 12
    assert checks._through({"through": "99"}, spec) == 12
    assert checks._through({"through": "4"}, spec) == 4
    assert checks._through({}, load_spec(MON)) == 7


def test_the_behind_share_is_declared_with_half_by_default():
    declared = declared_of(MON, "pace")
    assert one(MON, "pace", declared={**declared, "behind": 0.8}, fields={"执行数": 14}) != []  # 0.467 < 0.8×0.583
    assert one(MON, "pace", declared={**declared, "behind": 0.8}, fields={"执行数": 14.5}) == []
    no_behind = {k: v for k, v in declared.items() if k != "behind"}
    assert one(MON, "pace", declared=no_behind, fields={"执行数": 8.74}) != []
    assert one(MON, "pace", declared=no_behind, fields={"执行数": 8.75}) == []


def test_pace_without_a_budget_or_spending_has_no_rate():
    for fields in ({"年初预算数": 0}, {"年初预算数": None}, {"执行数": None}):
        issues = one(MON, "pace", fields=fields)
        assert issues == []
    ctx = ctx_of(MON, fields={"年初预算数": 0})
    checks.check_pace(ctx, declared_of(MON, "pace"))
    assert ctx.data.computed == {"执行率": None, "时间进度": 0.5833, "全年预计执行率": None}


def test_the_forecast_rate_reaches_the_master():
    _, computed, _ = full(MON, fields={"全年预计执行数": 28})
    assert computed["全年预计执行率"] == 0.9333
    _, computed, _ = full(MON, fields={"全年预计执行数": "abc"})
    assert computed["全年预计执行率"] is None


def test_pace_compares_a_typed_rate():
    assert full(MON, fields={"执行率": 70})[0] == []
    issues = full(MON, fields={"执行率": 0.8})[0]
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("W307", "E6", {"field": "执行率", "typed": "80.00%", "computed": "70.00%"})]


def test_pace_without_a_reason_cell_still_warns():
    spec, res = make(MON, fields={"执行数": 1})
    bare = replace(spec, fields=tuple(replace(f, role="") if f.role in ("spent_reason", "forecast_total") else f
                                      for f in spec.fields))
    res.data.computed = {}
    ctx = Context(bare, res, REGISTRY)
    checks.check_pace(ctx, declared_of(MON, "pace"))
    assert [(i.code, params(i)["field"]) for i in ctx.issues] == [("W311", "")]
    assert res.data.computed["全年预计执行率"] is None


# ------------------------------------------------------------ forecast -----
def test_a_forecast_short_of_its_target_needs_each_reason():
    issues, computed, per_row = full(MON, rows=[{"全年预计完成值": "9台"}, {}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E310", "G12", {"indicator": "设备购置数量", "forecast": "9台", "target": "≥10台", "field": "偏差原因分析"}),
        ("E310", "I12", {"indicator": "设备购置数量", "forecast": "9台", "target": "≥10台",
                         "field": "完成目标可能性"})]
    assert per_row == [{"预计完成": "否"}, {"预计完成": "是"}, {"预计完成": "是"}]
    assert computed["预计未完成指标数"] == 1 and computed["指标数"] == 3


def test_a_forecast_short_with_its_reasons_passes_and_still_counts_as_short():
    issues, computed, per_row = full(MON, rows=[{}, {"全年预计完成值": "部分达成", "偏差原因分析": "其他",
                                                     "完成目标可能性": "有可能"}, {}])
    assert issues == []
    assert per_row[1] == {"预计完成": "否"} and computed["预计未完成指标数"] == 1
    issues = full(MON, rows=[{"全年预计完成值": "9台", "偏差原因分析": "经费保障"}, {}, {}])[0]
    assert [(i.code, i.cell) for i in issues] == [("E310", "I12")]


def test_a_forecast_equal_to_the_target_is_met():
    _, computed, per_row = full(MON, rows=[{"全年预计完成值": "10台"}, {}, {"全年预计完成值": "95%"}])
    assert computed["预计未完成指标数"] == 0 and per_row[2] == {"预计完成": "是"}


def test_a_forecast_that_cannot_be_compared_is_e309_and_not_counted():
    issues, computed, per_row = full(MON, rows=[{"全年预计完成值": "很多"}, {"全年预计完成值": "9台"}, {}])
    assert [(i.code, i.cell, params(i)) for i in issues] == [
        ("E309", "F12", {"indicator": "设备购置数量", "field": "全年预计完成值", "found": "很多", "target": "≥10台",
                         "example": "10台"}),
        ("E309", "F13", {"indicator": "保密安全", "field": "全年预计完成值", "found": "9台", "target": "达成预期指标",
                         "example": "达成、部分达成、未达成"})]
    assert per_row == [{}, {}, {"预计完成": "是"}]
    assert computed == {**computed, "指标数": 3, "预计未完成指标数": 0}


def test_an_empty_forecast_is_e101_once():
    issues = full(MON, rows=[{"全年预计完成值": ""}, {}, {}])[0]
    assert [(i.code, i.cell) for i in issues] == [("E101", "F12")]
    issues = one(MON, "forecast", rows=[{"全年预计完成值": ""}, {}, {}])
    assert [(i.code, params(i)["found"]) for i in issues] == [("E309", "（空）")]


def test_a_reason_cell_already_in_error_is_not_asked_for_again():
    issues = full(MON, rows=[{"全年预计完成值": "9台", "偏差原因分析": "其它"}, {}, {}])[0]
    assert [(i.code, i.cell) for i in issues] == [("E117", "G12"), ("E310", "I12")]


def test_a_forecast_in_a_percent_cell_is_read_with_its_format():
    _, _, per_row = full(MON, rows=[{}, {}, {"全年预计完成值": 0.96}], formats={"F14": "0%"})
    assert per_row[2] == {"预计完成": "是"}
    issues, _, per_row = full(MON, rows=[{}, {}, {"全年预计完成值": 0.96}])
    assert per_row[2] == {"预计完成": "否"} and {i.code for i in issues} == {"E310"}


def test_a_forecast_target_in_a_percent_cell_is_read_with_its_format():
    ctx = ctx_of(MON, formats={"D14": "0%"})
    ctx.data.indicators[2].values["年度指标值"] = 0.95
    ctx.data.indicators[2].values["全年预计完成值"] = "95%"
    checks.check_forecast(ctx, declared_of(MON, "forecast"))
    assert ctx.issues == [] and ctx.data.row_computed[2] == {"预计完成": "是"}


def test_a_yes_no_target_is_met_by_the_first_answer():
    targets = [TARGETS[0], {**TARGETS[1], "指标值": "是否"}, TARGETS[2]]
    _, computed, per_row = full(MON, targets=targets)
    assert computed["预计未完成指标数"] == 0
    _, computed, per_row = full(MON, targets=targets, rows=[{}, {"全年预计完成值": "是"}, {}])
    assert per_row[1] == {"预计完成": "是"}
    issues, computed, per_row = full(MON, targets=targets, rows=[{}, {"全年预计完成值": "否"}, {}])
    assert per_row[1] == {"预计完成": "否"} and [i.cell for i in issues] == ["G13", "I13"]


def test_forecast_rows_already_in_error_are_skipped():
    ctx = ctx_of(MON, rows=[{"全年预计完成值": "很多"}, {}, {}], reported={"F12"})
    checks.check_forecast(ctx, declared_of(MON, "forecast"))
    assert ctx.issues == [] and ctx.data.row_computed[0] == {}
    assert ctx.data.computed == {"指标数": 3, "预计未完成指标数": 0}


def test_forecast_answers_and_reasons_are_declared():
    declared = {**declared_of(MON, "forecast"), "yes_no": ["Y", "N"], "reasons": ["原因说明"]}
    ctx = ctx_of(MON, rows=[{"全年预计完成值": "9台"}, {}, {}])
    checks.check_forecast(ctx, declared)
    assert [(i.cell, params(i)["field"]) for i in ctx.issues] == [("H12", "原因说明")]
    assert [r["预计完成"] for r in ctx.data.row_computed] == ["N", "Y", "Y"]
    bare = {k: v for k, v in declared.items() if k not in ("yes_no", "reasons")}
    ctx = ctx_of(MON, rows=[{"全年预计完成值": "9台"}, {}, {}])
    checks.check_forecast(ctx, bare)
    assert ctx.issues == [] and [r["预计完成"] for r in ctx.data.row_computed] == ["", "", ""]


# ------------------------------------------- what a mutation run found untested -----
def test_a_new_kind_registers_with_check():
    seen = []
    try:
        @checks.check("test-kind")
        def _runner(ctx, declared):
            seen.append(declared["n"])
            ctx.add("W307", "A1", field="f", typed="1", computed="2")

        spec, res = make(SE)
        issues = run_checks(replace(spec, checks=({"kind": "test-kind", "n": 7},)), res, REGISTRY)
        assert seen == [7] and [(i.code, i.cell) for i in issues] == [("W307", "A1")]
    finally:
        checks.CHECKS.pop("test-kind", None)
    assert set(checks.CHECKS) == {"cells", "identity", "locked", "range", "le", "sum", "score", "pace", "forecast"}


def test_an_issue_without_a_cell_has_an_empty_cell():
    ctx = ctx_of(SE)
    ctx.add("E304", field="分值")
    assert [(i.code, i.cell) for i in ctx.issues] == [("E304", "")] and ctx.reported == {""}


def test_a_long_wrong_choice_is_cut_in_the_message():
    issues = one(MON, "cells", rows=[{"偏差原因分析": "因" * 80}, {}, {}])
    assert [params(i)["found"] for i in issues] == ["因" * 50]


def test_a_form_without_a_key_role_finds_the_project_by_its_key_field():
    spec, res = make(SE, fields={"项目编码": "NOPE"}, meta={"project_code": ""})
    no_role = replace(spec, fields=tuple(replace(f, role="") if f.role == "key" else f for f in spec.fields))
    ctx = Context(no_role, res, REGISTRY)
    checks.check_identity(ctx, {"kind": "identity"})
    assert [(i.code, i.cell, params(i)) for i in ctx.issues] == [("E114", "B3", {"found": "NOPE"})]


def test_a_locked_number_field_is_compared_with_the_registry_as_an_amount():
    spec, res = make(SE, fields={"年初预算数": 30})
    as_number = replace(spec, fields=tuple(replace(f, type="number") if f.name == "年初预算数" else f
                                           for f in spec.fields))
    ctx = Context(as_number, res, REGISTRY)
    checks.check_identity(ctx, {"kind": "identity"})
    assert ctx.issues == []  # 30 in the sheet is the registry's 30.00


def test_locked_entries_skipped_do_not_end_the_comparison():
    snap = json.dumps({"A0": "x", "E3": "机要局升级改造资金", "C14": "设备购置数量", "C6": "30"})
    issues = one(SE, "locked", fields={"年初预算数": 31}, meta={"locked": snap}, reported={"E3"},
                 targets=[{**TARGETS[0], "三级指标": "改过"}, *TARGETS[1:]])
    assert [(i.code, i.cell) for i in issues] == [("E313", "C14"), ("E313", "C6")]
    spec, res = make(SE, fields={"项目名称": "改过", "年初预算数": 31})
    ctx = Context(spec, res, REGISTRY)
    ctx.reported.add("E3")
    checks.check_locked(ctx, {"kind": "locked"})
    assert [i.cell for i in ctx.issues] == ["C6"]


def test_range_checks_fields_and_columns_together_past_empty_cells():
    declared = {"kind": "range", "fields": ["财政拨款全年预算数", "其他资金全年执行数"], "columns": ["分值"], "min": 0}
    issues = one(SE, "range", declared=declared, fields={"其他资金全年执行数": -1}, rows=[{}, {"分值": -2}, {}])
    assert [(i.cell, params(i)["found"]) for i in issues] == [("E9", "-1"), ("F15", "-2")]
    issues = one(SE, "range", fields={"其他资金全年执行数": -1})
    assert [i.cell for i in issues] == ["E9"]


def test_sum_names_every_fixed_cell_it_adds():
    declared = {"kind": "sum", "column": "分值", "plus": ["资金分值", "全年预算数"], "total": 100}
    issues = one(SE, "sum", declared=declared)
    assert [(params(i)["plus"], params(i)["found"]) for i in issues] == [("资金分值、全年预算数", "130")]


def test_a_form_without_points_scores_no_row():
    spec, res = make(SE)
    no_points = replace(spec, columns=tuple(replace(c, role="") if c.role == "points" else c for c in spec.columns))
    res.data.computed, res.data.row_computed = {}, [{} for _ in res.data.indicators]
    ctx = Context(no_points, res, REGISTRY)
    checks.check_score(ctx, declared_of(SE, "score"))
    assert ctx.issues == [] and res.data.row_computed == [{}, {}, {}] and "总分" not in res.data.computed


def test_a_row_without_points_does_not_stop_the_rows_after_it():
    issues = one(SE, "score", rows=[{"分值": ""}, {"实际完成值": "很好"}, {"实际完成值": "90%"}])
    assert [(i.code, i.cell) for i in issues] == [("E309", "E15"), ("E305", "H16")]


def test_a_yes_no_target_without_declared_answers_cannot_be_scored():
    targets = [TARGETS[0], {**TARGETS[1], "指标值": "是否"}, TARGETS[2]]
    declared = {k: v for k, v in declared_of(SE, "score").items() if k != "yes_no"}
    issues = one(SE, "score", declared=declared, targets=targets, rows=[{}, {"实际完成值": "是"}, {}])
    assert [(i.code, i.cell) for i in issues] == [("E309", "E15")]
    declared = {k: v for k, v in declared_of(MON, "forecast").items() if k != "yes_no"}
    issues = one(MON, "forecast", declared=declared, targets=targets, rows=[{}, {"全年预计完成值": "是"}, {}])
    assert [(i.code, i.cell) for i in issues] == [("E309", "F13")]


def test_long_actuals_and_forecasts_are_cut_in_the_message():
    issues = one(SE, "score", rows=[{"实际完成值": "很" * 80}, {}, {}])
    assert [params(i)["found"] for i in issues] == ["很" * 50]
    issues = one(MON, "forecast", rows=[{"全年预计完成值": "很" * 80}, {}, {}])
    assert [params(i)["found"] for i in issues] == ["很" * 50]


def test_a_cent_off_a_typed_score_is_tolerated_at_any_size():
    # a cent is a cent: 0.51 against 0.5 (0.010000000000000009 in floats) as 9.51 against 9.5
    ctx = ctx_of(SE)
    item = load_spec(SE).role("typed_score")
    for typed, computed in ((0.51, 0.5), (9.51, 9.5), (50.01, 50.0), (0.49, 0.5), (1.23, 1.22)):
        checks._typed_score(ctx, item, typed, "G14", computed)
    assert ctx.issues == []
    checks._typed_score(ctx, item, 0.52, "G14", 0.5)
    assert [(i.code, params(i)["typed"], params(i)["computed"]) for i in ctx.issues] == [("W307", "0.52", "0.5")]


def test_forecast_rows_after_one_in_error_are_still_checked():
    ctx = ctx_of(MON, rows=[{"全年预计完成值": "很多"}, {"全年预计完成值": "部分达成"}, {"全年预计完成值": "90%"}],
                 reported={"F12"})
    checks.check_forecast(ctx, declared_of(MON, "forecast"))
    assert [i.cell for i in ctx.issues] == ["G13", "I13", "G14", "I14"]
    assert ctx.data.computed == {"指标数": 3, "预计未完成指标数": 2}


def test_an_empty_reason_cell_already_in_error_is_not_asked_for_again():
    issues = full(MON, rows=[{"全年预计完成值": "9台"}, {}, {}], formulas={"G12": "=A1"})[0]
    assert [(i.code, i.cell) for i in issues] == [("E116", "G12"), ("E310", "I12")]


def test_a_forecast_just_short_of_a_minimum_target_is_not_met():
    """9.96台 against ≥10台 rounds to full marks, but it does not reach the target: its reasons are needed."""
    issues, computed, per_row = full(MON, rows=[{"全年预计完成值": "9.96台"}, {}, {}])
    assert [(i.code, i.cell) for i in issues] == [("E310", "G12"), ("E310", "I12")]
    assert per_row[0] == {"预计完成": "否"} and computed["预计未完成指标数"] == 1
