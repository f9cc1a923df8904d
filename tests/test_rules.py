"""Tests for xlperf.rules in process: every comparison rule in both directions and at its boundary,
every kind of 指标值, and the schema and duplicate handling, on returns built from the seed data."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlperf import rules
from xlperf.model import FileResult, IndicatorRow, Issue, text
from xlperf.rules import Options, check_amounts, check_plan, frame_rows, validate_results
from xlperf.spec import load_spec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inmemory import (  # noqa: E402
    CODE, COST, NOT_COST, PLAN, PROJECTS, REGISTRY, SPEC, UNIT_SPEC, VALUE, make_return, make_unit_return,
)


def indicator(res: FileResult, level2: str) -> IndicatorRow:
    return next(ir for ir in res.data.indicators if ir.level2 == level2)


def validate(*results: FileResult, **opts) -> None:
    validate_results(list(results), REGISTRY, Options(**opts))


def cross_field(res: FileResult, **opts) -> FileResult:
    """The cross-field rules alone, without the checks of each cell."""
    spec = load_spec(res.data.spec_name)
    res.issues.extend(rules._cross_field(spec, res, REGISTRY, Options(**opts), frame_rows(spec, res)[0]))
    return res


def codes(res: FileResult, cell: str | None = None) -> list[str]:
    """Issue codes of a return, or of one cell (the seed has warnings of its own elsewhere)."""
    return [i.code for i in res.issues if cell is None or i.cell == cell]


def value_codes(res: FileResult, level2: str = NOT_COST) -> list[str]:
    return codes(res, indicator(res, level2).refs[VALUE])


def issue(res: FileResult, code: str) -> Issue:
    found = [i for i in res.issues if i.code == code]
    assert len(found) == 1, res.issues
    return found[0]


def with_value(value, level2: str = NOT_COST, number_format: str = "", schema: bool = True, **columns) -> FileResult:
    res = make_return()
    ir = indicator(res, level2)
    ir.values[VALUE] = value
    ir.values.update(columns)
    if number_format:
        res.data.number_formats[ir.refs[VALUE]] = number_format
    if schema:
        validate(res)
    else:
        cross_field(res)
    return res


def test_the_seed_return_is_accepted():
    res = make_return()
    validate(res)
    assert res.status == "accepted", res.issues
    assert not res.errors


# ---------------------------------------------------------------- E103: amounts --------
def amounts(total, fiscal, other) -> FileResult:
    res = make_return()
    res.data.fields.update({"预算数": total, "财政资金": fiscal, "其他资金": other})
    check_amounts(SPEC, res)
    return res


@pytest.mark.parametrize(("total", "fiscal", "other"), [
    ("2.71", "2.70", "0"), ("2.69", "2.70", "0"), ("10", "4", "5"), ("8", "4", "5"), ("0", "0", "0.01"),
])
def test_budget_above_or_below_the_sum_is_e103(total, fiscal, other):
    res = amounts(total, fiscal, other)
    assert issue(res, "E103") == Issue.make("E103", SPEC.sheet, SPEC.field("预算数").cell, total=f"{float(total):.2f}",
                                            fiscal=f"{float(fiscal):.2f}", other=f"{float(other):.2f}")


@pytest.mark.parametrize(("total", "fiscal", "other"), [
    ("0.3", "0.1", "0.2"), (2.7, 2.7, 0), ("9", "4", "5"), ("0", "0", "0"), ("1,000.00", "999.99", "0.01"),
])
def test_budget_equal_to_the_sum_passes(total, fiscal, other):
    assert amounts(total, fiscal, other).issues == []


def test_amounts_not_checked_when_one_is_unreadable():
    assert amounts("abc", "1", "1").issues == []
    assert amounts("2", "", "1").issues == []


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**8), st.integers(0, 10**8), st.integers(-10**6, 10**6))
def test_e103_exactly_when_the_cents_differ(fiscal_cents, other_cents, delta):
    total = fiscal_cents + other_cents + delta
    res = amounts(f"{total / 100:.2f}", f"{fiscal_cents / 100:.2f}", f"{other_cents / 100:.2f}")
    assert ("E103" in codes(res)) == (delta != 0)


# ---------------------------------------------------------------- spending plan --------
def plan(*values, formats=()) -> FileResult:
    res = make_return()
    for f, v in zip(PLAN, values):
        res.data.fields[f.name] = v
    for f, fmt in zip(PLAN, formats):
        res.data.number_formats[f.cell] = fmt
    validate(res)
    return res


def plan_only(*values) -> FileResult:
    """The plan rule alone (no pandera pass), for the property tests."""
    res = make_return()
    for f, v in zip(PLAN, values):
        res.data.fields[f.name] = v
    check_plan(SPEC, res, frame_rows(SPEC, res)[0])
    return res


def plan_codes(res: FileResult) -> list[str]:
    return [c for c in codes(res) if c in ("E101", "E104", "E105", "E106", "E133")]


@pytest.mark.parametrize("values", [
    (25, 50, 75, 100), (25, 50, 50, 100), (0, 0, 0, 100), (100, 100, 100, 100), (0.5, 10, 50, 100),
    ("25%", "50%", "75%", "100%"), ("25", "50", "75", "100"), (0.25, 0.5, 0.75, 1), (0, 0.5, 0.5, 1),
    (25.5, 50.25, 75, 100.0), ("25％", "50 %", " 75 ", "100"),
])
def test_valid_plans_pass(values):
    res = plan(*values)
    assert plan_codes(res) == [], res.issues


def test_equal_periods_are_not_decreasing():
    assert plan_codes(plan(25, 50, 50, 100)) == []


@pytest.mark.parametrize(("values", "cell", "found", "previous"), [
    ((25, 50, 49, 100), "10月底", "49", "50"),
    ((50, 25, 75, 100), "6月底", "25", "50"),
    ((25, 50, 75, 74.99), "12月底", "74.99", "75"),
    ((60, "", 40, 100), "10月底", "40", "60"),  # an empty period does not hide a decrease
])
def test_a_decrease_is_e105_at_the_lower_period(values, cell, found, previous):
    res = plan(*values)
    e = issue(res, "E105")
    assert e.cell == SPEC.field(cell).cell
    assert dict(e.params) == {"field": cell, "found": found, "previous": previous}


@pytest.mark.parametrize(("last", "found"), [(99.99, "99.99"), (90, "90"), (0, "0"), (99.999, "99.999")])
def test_december_below_100_is_e106(last, found):
    res = plan(0, 0, 0, last)
    assert dict(issue(res, "E106").params) == {"found": found}
    assert issue(res, "E106").cell == PLAN[-1].cell


@pytest.mark.parametrize(("values", "code"), [
    ((25, 150, 150, 150), "E104"), ((-5, 50, 75, 100), "E104"), ((25, "abc", 75, 100), "E104"),
    ((25, 50, 75, 100.5), "E104"), ((25, True, 75, 100), "E104"), ((25, "", 75, 100), "E101"),
])
def test_plan_values_out_of_range_or_not_numbers(values, code):
    assert code in plan_codes(plan(*values))


@pytest.mark.parametrize(("values", "cell", "fraction", "percent"), [
    ((0.25, 0.5, 0.75, 100), "3月底", "0.25", "25"),
    ((25, 50, 0.75, 100), "10月底", "0.75", "75"),
    ((0.3, 0.6, 0.9, 100), "3月底", "0.3", "30"),
])
def test_fractions_mixed_with_percentages_are_e133(values, cell, fraction, percent):
    res = plan(*values)
    codes = plan_codes(res)
    # one E133 at every fraction cell, so fixing the marked cells of the feedback fixes the plan
    assert set(codes) == {"E133"} and len(codes) == sum(1 for v in values if 0 < v <= 1)
    assert [i.cell for i in res.issues if i.code == "E133"] == [
        SPEC.field(name).cell for name, v in zip(("3月底", "6月底", "10月底", "12月底"), values) if 0 < v <= 1]
    e = next(i for i in res.issues if i.code == "E133")
    assert e.cell == SPEC.field(cell).cell
    assert dict(e.params)["fraction"] == fraction and dict(e.params)["percent"] == percent
    assert "25" in e.message() or percent in e.message()


def test_percent_formatted_plan_cells_are_rescaled():
    # What Excel stores when 25% is typed: 0.25 with a 0% format, next to a plain 100.
    res = plan(0.25, 0.5, 0.75, 100, formats=("0%", "0%", "0.00%", "General"))
    assert plan_codes(res) == []
    prow, _rows = frame_rows(SPEC, res)
    assert [prow[f"{f.name}__num"] for f in PLAN] == [25, 50, 75, 100]


def test_a_literal_percent_sign_format_does_not_rescale():
    res = plan(25, 50, 75, 100, formats=('0"%"',) * 4)
    assert plan_codes(res) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 100).map(lambda x: round(x, 2)), min_size=3, max_size=3))
def test_non_decreasing_plans_ending_at_100_pass(first):
    # a fraction of a percent is written "0.5%", as a bare 0.5 next to 100 is E133
    values = [f"{v}%" if 0 < v < 1 else v for v in sorted(first)] + [100]
    assert plan_only(*values).issues == []


def test_a_fraction_of_a_percent_typed_with_its_sign_is_not_mixed_scale():
    assert codes(plan_only(0, 0, 0.5, 100)) == ["E133"]
    assert codes(plan_only(0, 0, "0.5%", 100)) == []
    assert codes(plan_only(0, 0, "0.5％", 100)) == []
    assert "0.5%" in issue(plan_only(0, 0, 0.5, 100), "E133").message()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(2, 100), min_size=4, max_size=4))
def test_e105_exactly_at_each_decrease(values):
    res = plan_only(*values)
    expected = [PLAN[i].cell for i in range(1, 4) if values[i] < values[i - 1]]
    assert [i.cell for i in res.issues if i.code == "E105"] == expected
    assert ("E106" in codes(res)) == (values[-1] != 100)


# ---------------------------------------------------------------- 指标值 kinds --------
@pytest.mark.parametrize(("value", "fmt", "expected", "absent"), [
    ("≥95%", "", [], ["E109", "E110", "E111", "E112"]),
    ("达成预期指标", "", [], ["E112", "E111"]),
    ("部分达成预期指标并具有一定效果", "", [], ["E112"]),
    ("≥95", "", ["E112"], ["E111"]),
    (2, "", ["E112"], []),
    (0.95, "0%", [], ["E112", "W231"]),  # a percent cell reads as ＝95%
    (1, "0.00%", [], ["E112"]),
    ("", "", ["E109"], ["E108"]),
    ("   ", "", ["E109"], ["E108"]),
    ("≥**%", "", ["E110"], ["E111"]),
    ("__人", "", ["E110"], []),
    ("良好", "", ["E111"], ["E131", "E132"]),
    ("90%-95%", "", ["E131"], ["E111"]),
    ("95%−100%", "", ["E131"], ["E111"]),
    ("2021年12月31日前", "", ["E132"], ["E111", "E112"]),
    ("12月31日前", "", ["E132"], ["E111"]),
    ("12月底前", "", [], ["E111", "E112", "E132"]),
    ("年底前", "", [], ["E111", "E112"]),
])
def test_value_kinds(value, fmt, expected, absent):
    res = with_value(value, number_format=fmt)
    found = value_codes(res)
    for code in expected:
        assert code in found, res.issues
    for code in absent:
        assert code not in found, res.issues


def test_a_value_error_names_the_value_cell():
    res = with_value("90%-95%")
    ir = indicator(res, NOT_COST)
    e = issue(res, "E131")
    assert e.cell == ir.refs[VALUE]
    assert dict(e.params)["found"] == "90%-95%"
    assert "≥" in e.message() and "≥" in e.message("en")


def test_deadline_parsed_as_at_most_december():
    res = make_return()
    ir = indicator(res, NOT_COST)
    ir.values[VALUE] = "12月底前"
    _prow, irows = frame_rows(SPEC, res)
    names, _ = rules._frame_columns(SPEC)
    row = dict(zip(names, next(r for r in irows if r[0] == ir.row)))
    assert (row["_symbol"], row["_number"], row["_unit"], row["_display"]) == ("≤", 12.0, "月", "≤12月")


@pytest.mark.parametrize(("value", "fmt", "name", "meant"), [
    ("0.95", "", "群众满意度", "95%"),
    ("≥0.9", "", "验收合格率", "≥90%"),
    ("≥0.95%", "", "培训人数", "≥95%"),
    (0.95, "", "达标率", "95%"),
])
def test_fraction_in_a_percent_row_gets_w231(value, fmt, name, meant):
    res = with_value(value, number_format=fmt, schema=False, 三级指标=name)
    w = issue(res, "W231")
    assert dict(w.params) == {"found": str(value), "meant": meant}
    assert w.cell == indicator(res, NOT_COST).refs[VALUE]
    assert meant in w.message() and meant in w.message("en")


@pytest.mark.parametrize(("value", "name"), [("0.95", "印刷册数"), ("≥95%", "满意度"), ("≤0.5%", "差错率")])
def test_no_w231_for_plausible_values(value, name):
    assert "W231" not in value_codes(with_value(value, schema=False, 三级指标=name, 绩效指标描述=name + "说明"))


# ---------------------------------------------------------------- W204: cost with ≥ --------
@pytest.mark.parametrize(("value", "flagged"), [
    ("≥100%", True), ("＞100%", True), (">100%", True), ("≥150%", True), ("不低于100%", True),
    ("≥99.9%", False), ("＞99%", False), ("≤100%", False), ("＜100%", False), ("100%", False),
    ("≥100万元", False), ("达成预期指标", False),
])
def test_w204_cost_indicator_at_or_above_100_percent(value, flagged):
    assert ("W204" in value_codes(with_value(value, level2=COST, schema=False), COST)) is flagged


def test_w204_only_for_cost_indicators():
    assert "W204" not in value_codes(with_value("≥100%", level2=NOT_COST, schema=False))


def test_w204_names_the_value():
    res = with_value("＞100%", level2=COST, schema=False)
    w = issue(res, "W204")
    assert (w.cell, dict(w.params)) == (indicator(res, COST).refs[VALUE], {"found": "＞100%"})


# ---------------------------------------------------------------- W205, W201/E120, W202, W203 --------
def fields(schema: bool = True, **values) -> FileResult:
    res = make_return()
    res.data.fields.update(values)
    if schema:
        validate(res)
    else:
        cross_field(res)
    return res


def test_w205_boundary_at_the_minimum_length():
    limit = SPEC.field("资金用途").min_length
    assert "W205" in codes(fields(False, 资金用途="印" * (limit - 1)))
    assert "W205" not in codes(fields(False, 资金用途="印" * limit))
    assert "W205" not in codes(fields(False, 资金用途="印" * (limit + 1)))
    short = fields(False, 资金用途="印刷")
    assert issue(short, "W205") == Issue.make("W205", SPEC.sheet, SPEC.field("资金用途").cell, found="印刷")


def test_empty_use_of_funds_is_e101_not_w205():
    res = fields(资金用途="")
    assert "E101" in codes(res) and "W205" not in codes(res)


def test_yesno_is_a_warning_or_with_the_option_an_error():
    res = with_value("是否")
    assert "W201" in codes(res) and "E120" not in codes(res) and res.status == "accepted"
    res = make_return()
    indicator(res, NOT_COST).values[VALUE] = "是/否"
    validate(res, reject_yesno=True)
    assert "E120" in codes(res) and "W201" not in codes(res) and res.status == "rejected"


def test_strict_rejects_on_warnings():
    res = make_return()
    indicator(res, NOT_COST).values[VALUE] = "是否"
    validate(res, strict=True)
    assert res.status == "rejected"


def test_w202_duplicate_goal_lines_ignore_numbering():
    res = fields(False, 绩效目标="1.完成印刷\n2、完成印刷。\n3.其他")
    assert dict(issue(res, "W202").params) == {"line": "完成印刷"}
    assert "W202" not in codes(fields(False, 绩效目标="1.完成印刷\n2.完成校对"))
    assert "W202" not in codes(fields(False, 绩效目标="涉密\n涉密"))


def test_w203_description_equal_to_the_name():
    def w203(name, desc):
        res = with_value("≥95%", schema=False, 三级指标=name, 绩效指标描述=desc)
        return "W203" in codes(res, indicator(res, NOT_COST).refs["绩效指标描述"])

    assert w203("印刷册数", "印刷册数")
    assert not w203("涉密", "涉密")
    assert not w203("印刷册数", "印刷册数及质量")


# ---------------------------------------------------------------- rows, structure, schema --------
def test_partly_filled_row_names_every_missing_column():
    res = make_return()
    ir = indicator(res, NOT_COST)
    names = [c.name for c in SPEC.columns if c.type != "indicator_value"]
    for name in names[:2]:
        ir.values[name] = " "  # a space is not content
    validate(res)
    e = issue(res, "E108")
    assert dict(e.params)["missing"] == "、".join(names[:2])
    assert e.cell == f"{SPEC.columns[0].col}{ir.row}"


def test_required_second_level_missing_is_e107():
    res = make_return()
    res.data.indicators = [ir for ir in res.data.indicators if ir.level2 != COST]
    cross_field(res)
    assert dict(issue(res, "E107").params) == {"level2": COST}


def test_formula_in_an_input_cell_is_e116():
    res = make_return()
    res.data.formulas = {"E5": "SUM(A1:A2)"}
    cross_field(res)
    assert issue(res, "E116") == Issue.make("E116", SPEC.sheet, "E5", found="SUM(A1:A2)")


@pytest.mark.parametrize(("value", "code"), [("也许", "E117"), ("", "E101")])
def test_choice_field(value, code):
    choice = next(f for f in SPEC.fields if f.choices)
    assert code in codes(fields(**{choice.name: value}))


def test_too_long_text_is_e113_with_both_lengths():
    f = next(f for f in SPEC.fields if f.max_length and not f.locked)
    res = fields(**{f.name: "字" * (f.max_length + 1)})
    assert dict(issue(res, "E113").params)["length"] == f.max_length + 1
    assert "E113" not in codes(fields(**{f.name: "字" * f.max_length}))


def test_locked_value_changed_is_e102_and_unknown_project_e114():
    res = fields(项目名称="别的项目")
    assert dict(issue(res, "E102").params)["expected"] == PROJECTS[CODE]["项目名称"]
    res = make_return()
    res.data.fields["项目编码"] = "X" * 21
    res.data.meta["project_code"] = "X" * 21
    validate(res)
    assert "E114" in codes(res)


def test_file_named_after_another_project_is_w206():
    other = next(c for c in PROJECTS if c != CODE)
    res = make_return(path=f"returns/{other}_x.xlsx")
    cross_field(res)
    assert dict(issue(res, "W206").params) == {"name_code": other, "found": CODE}
    res = make_return(path=f"returns/{CODE}_x.xlsx")
    cross_field(res)
    assert "W206" not in codes(res)


# ---------------------------------------------------------------- duplicates --------
def test_identical_copies_are_skipped_and_different_ones_rejected():
    a, b = make_return(path="a.xlsx"), make_return(path="b.xlsx")
    a.mtime, b.mtime = 1.0, 2.0
    validate(a, b)
    assert (b.status, a.status) == ("accepted", "skipped")
    assert dict(issue(a, "W207").params) == {"other": "b.xlsx"}
    a, b = make_return(path="a.xlsx"), make_return(path="b.xlsx")
    a.data.fields["资金用途"] = "另一种用途说明"
    validate(a, b)
    assert (a.status, b.status) == ("rejected", "rejected")
    assert dict(issue(a, "E115").params)["other"] == "b.xlsx"


def test_latest_wins_when_asked():
    old, new = make_return(path="old.xlsx"), make_return(path="new.xlsx")
    old.mtime, new.mtime = 1.0, 2.0
    new.data.fields["资金用途"] = "更新后的资金用途"
    validate(old, new, duplicates="latest")
    assert (new.status, old.status) == ("accepted", "skipped")
    assert dict(issue(old, "W208").params) == {"other": "new.xlsx"}


# ---------------------------------------------------------------- order, prepare --------
def test_errors_come_first_in_row_order():
    res = make_return()
    res.data.fields["资金用途"] = "印刷"
    irs = res.data.indicators
    irs[-1].values[VALUE] = "良好"
    irs[0].values[VALUE] = "≥**%"
    validate(res)
    errors = [i for i in res.issues if i.severity == "error"]
    assert res.issues[:len(errors)] == errors
    rows = [int("".join(ch for ch in i.cell if ch.isdigit())) for i in errors]
    assert rows == sorted(rows) and len(rows) == 2


def test_prepared_validation_gives_the_same_issues():
    direct, early = make_return(), make_return()
    for res in (direct, early):
        indicator(res, NOT_COST).values[VALUE] = "0.95"
        res.data.fields[PLAN[1].name] = 10
    validate(direct)
    pre = rules.prepare(early, REGISTRY, Options())
    validate_results([early], REGISTRY, Options(), [pre])
    assert early.issues == direct.issues and direct.issues


def test_check_plan_reads_only_the_numbers_it_is_given():
    res = make_return()
    check_plan(SPEC, res, {f"{f.name}__num": v for f, v in zip(PLAN, (10, float("nan"), 5, 100))})
    assert [i.code for i in res.issues] == ["E105"]  # NaN counts as empty; 5 is below 10


# ---------------------------------------------------------------- identity --------
def test_metadata_code_differs_from_the_sheet_is_e006():
    res = make_return()
    other = next(c for c in PROJECTS if c != CODE)
    res.data.meta["project_code"] = other
    cross_field(res)
    e = issue(res, "E006")
    assert (e.sheet, e.cell, dict(e.params)) == (SPEC.meta_sheet, "project_code", {"meta": other, "found": CODE})


def test_locked_code_typed_over_is_judged_against_the_template_project():
    res = make_return()
    res.data.fields["项目编码"] = "Y" * 21  # not in the registry; the metadata still names the project
    cross_field(res)
    assert "E114" not in codes(res)
    e = next(i for i in res.issues if i.code == "E102" and dict(i.params)["field"] == "项目编码")
    assert dict(e.params)["expected"] == CODE and e.cell == SPEC.field("项目编码").cell


def test_unknown_project_without_metadata_names_what_was_found():
    res = make_return()
    res.data.fields["项目编码"] = ""
    res.data.meta["project_code"] = "Z" * 21
    cross_field(res)
    assert dict(issue(res, "E114").params) == {"found": "Z" * 21}
    res = make_return()
    res.data.fields["项目编码"] = ""
    res.data.meta["project_code"] = ""
    cross_field(res)
    assert dict(issue(res, "E114").params) == {"found": "（空）"}


def test_digest_mismatch_without_a_registry_difference_is_e007():
    res = make_return()
    res.data.meta["locked_digest"] = "0" * 64
    cross_field(res)
    assert issue(res, "E007") == Issue.make("E007", SPEC.meta_sheet, "locked_digest")
    res = make_return()
    res.data.meta["locked_digest"] = "0" * 64
    res.data.fields["项目名称"] = "改过的名称"
    cross_field(res)
    assert "E007" not in codes(res) and "E102" in codes(res)  # the changed cell is named instead
    res = make_return()
    res.data.meta["locked_digest"] = ""
    cross_field(res)
    assert "E007" not in codes(res)


def test_changed_amount_is_e102_with_both_values():
    res = make_return()
    res.data.fields["预算数"] = 3.7
    cross_field(res)
    e = next(i for i in res.issues if i.code == "E102")
    assert dict(e.params) == {"field": "预算数", "found": "3.70", "expected": "2.70"}


def test_unit_form_accepted_and_unknown_unit_is_e119():
    res = make_unit_return()
    validate(res)
    assert res.status == "accepted", res.issues
    res = make_unit_return()
    res.data.meta["unit_code"] = "999999"
    validate(res)
    e = issue(res, "E119")
    assert (e.cell, dict(e.params)) == ("", {"found": "999999"})


def test_unit_sections_minimum_and_partly_filled_items():
    sec = UNIT_SPEC.sections[0]
    res = make_unit_return()
    res.data.sections[sec.name] = []
    cross_field(res)
    e = issue(res, "E118")
    assert (e.cell, dict(e.params)) == (f"{sec.title_col}{sec.first_row}", {"level1": sec.name, "count": sec.min_filled})
    res = make_unit_return()
    item = res.data.sections[sec.name][0]
    item["内容"] = ""
    cross_field(res)
    e = issue(res, "E108")
    assert (e.cell, dict(e.params)) == (item["text_ref"], {"missing": "内容"})
    res = make_unit_return()
    item = res.data.sections[sec.name][0]
    item["标题"] = ""
    cross_field(res)
    e = issue(res, "E108")
    assert (e.cell, dict(e.params)) == (item["ref"], {"missing": "标题"})


def test_required_unit_field_empty_is_e101():
    res = make_unit_return()
    required = next(f for f in UNIT_SPEC.fields if f.required and not f.locked)
    res.data.fields[required.name] = "  "
    validate(res)
    e = issue(res, "E101")
    assert (e.cell, dict(e.params)["field"]) == (required.cell, required.name)


# ---------------------------------------------------------------- structure, schema details --------
def test_minimum_per_first_level_is_e118():
    group = next(g for g in SPEC.groups if g.min_filled)
    res = make_return()
    names = {l2.name for l2 in group.level2}
    res.data.indicators = [ir for ir in res.data.indicators if ir.level2 not in names]
    cross_field(res)
    e = issue(res, "E118")
    assert dict(e.params) == {"level1": group.name, "count": group.min_filled}


def test_empty_value_names_the_value_cell_and_long_column_text_is_e113():
    res = make_return()
    ir = indicator(res, NOT_COST)
    ir.values[VALUE] = None
    column = next(c for c in SPEC.columns if c.max_length and c.type != "indicator_value")
    ir.values[column.name] = "字" * (column.max_length + 1)
    validate(res)
    assert issue(res, "E109").cell == ir.refs[VALUE]
    e = issue(res, "E113")
    assert e.cell == ir.refs[column.name]
    assert dict(e.params)["limit"] == column.max_length and dict(e.params)["length"] == column.max_length + 1


def test_plan_value_error_names_the_field_and_what_was_found():
    res = plan(25, "abc", 75, 100)
    e = issue(res, "E104")
    assert (e.sheet, e.cell, dict(e.params)) == (SPEC.sheet, PLAN[1].cell, {"field": PLAN[1].name, "found": "abc"})
    res = plan(25, 150, 150, 150)
    assert {i.cell for i in res.issues if i.code == "E104"} == {PLAN[1].cell, PLAN[2].cell, PLAN[3].cell}


def test_plan_boundaries_0_and_100_are_valid():
    assert plan_codes(plan(0, 0, 100, 100)) == []
    assert "E104" in plan_codes(plan(-0.01, 0, 100, 100))
    assert "E104" in plan_codes(plan(0, 0, 100, 100.01))


def test_issues_sort_by_row_then_column_and_drop_duplicates():
    res = FileResult("x.xlsx")
    for cell, code in (("B10", "E104"), ("A9", "E104"), ("AA9", "E104"), ("", "E001"), ("C2", "W205"), ("A9", "E104")):
        res.add(Issue.make(code, "s", cell))
    rules._order(res)
    assert [(i.code, i.cell) for i in res.issues] == [("E001", ""), ("E104", "A9"), ("E104", "AA9"), ("E104", "B10"),
                                                      ("W205", "C2")]


def test_skip_sorts_between_errors_and_warnings():
    res = FileResult("x.xlsx")
    for code in ("W205", "W207", "E104"):
        res.add(Issue.make(code, "s", "A1"))
    rules._order(res)
    assert [i.code for i in res.issues] == ["E104", "W207", "W205"]


# ---------------------------------------------------------------- frames and memo --------
def test_cell_issues_of_a_return_without_indicator_rows():
    res = make_return()
    res.data.indicators = []
    prow, irows = frame_rows(SPEC, res)
    assert irows == [] and rules.cell_issues(SPEC, res, prow, irows) == []
    f = next(f for f in SPEC.fields if f.required and not f.locked and f.type != "percent")
    res.data.fields[f.name] = "  "
    prow, irows = frame_rows(SPEC, res)
    assert rules.cell_issues(SPEC, res, prow, irows) == [Issue.make("E101", SPEC.sheet, f.cell, field=f.name, found="")]


@pytest.mark.parametrize("typed", ["nan", "NaN", "inf", "-inf"])
def test_a_plan_period_that_is_not_a_finite_number_is_e104(typed):
    # float() reads these spellings; a pandera pass took NaN for an empty cell and let it through
    res = plan(25, typed, 75, 100)
    assert issue(res, "E104").cell == PLAN[1].cell


def test_parse_memo_is_bounded():
    rules._PARSED.clear()
    rules._PARSED.update({str(i): None for i in range(50_000)})
    assert rules.parse_value("≥95%").value.number == 95
    assert list(rules._PARSED) == ["≥95%"]
    long_text = "≥95%" + " " * 300
    assert rules.parse_value(long_text).ok and long_text not in rules._PARSED
    assert rules.parse_value(2).value.number == 2 and 2 not in rules._PARSED
    rules._PARSED.clear()


def test_frame_columns_of_a_value():
    res = make_return()
    ir = indicator(res, NOT_COST)
    ir.values[VALUE] = 0.95
    res.data.number_formats[ir.refs[VALUE]] = "0%"
    _prow, irows = frame_rows(SPEC, res)
    names, _ = rules._frame_columns(SPEC)
    row = dict(zip(names, next(r for r in irows if r[0] == ir.row)))
    assert (row["_status"], row["_symbol"], row["_number"], row["_unit"], row["_display"], row["_unit_missing"]) == \
        ("ok", "＝", 95.0, "%", "95%", False)
    assert row["_missing"] == ""


# ---------------------------------------------------------------- prepare, duplicates, file names --------
def test_prepare_skips_what_is_not_validated():
    res = make_return()
    res.add(Issue.make("E004", SPEC.sheet))
    assert rules.prepare(res, REGISTRY) is None
    assert rules.prepare(FileResult("x.xlsx"), REGISTRY) is None
    pre = rules.prepare(make_return(), REGISTRY)
    assert pre.spec_name == "project_2021" and pre.issues  # the seed return has warnings of its own
    assert not any(i.severity == "error" for i in pre.issues)


def test_a_prepared_entry_for_another_form_is_redone():
    res = make_return()
    indicator(res, NOT_COST).values[VALUE] = "良好"
    stale = rules.Prepared("unit_2021", [])
    validate_results([res], REGISTRY, Options(), [stale])
    assert "E111" in codes(res)


def test_prepare_leaves_the_result_unchanged():
    res = make_return()
    indicator(res, NOT_COST).values[VALUE] = "0.95"
    rules.prepare(res, REGISTRY)
    assert res.issues == []


def test_duplicates_need_a_key_and_two_returns():
    a, b = make_return(path="a.xlsx"), make_return(path="b.xlsx")
    for r in (a, b):
        r.data.fields["项目编码"] = ""
        r.data.meta["project_code"] = ""
    rules.check_duplicates([a, b], Options())
    assert a.issues == [] and b.issues == []


def test_three_returns_of_one_project():
    a, b, c = (make_return(path=p) for p in ("a.xlsx", "b.xlsx", "c.xlsx"))
    a.mtime, b.mtime, c.mtime = 1.0, 2.0, 3.0
    b.data.fields["资金用途"] = "另一种用途说明"
    validate(a, b, c, duplicates="latest")
    assert (c.status, b.status, a.status) == ("accepted", "skipped", "skipped")
    assert dict(issue(a, "W207").params) == {"other": "c.xlsx"}
    assert dict(issue(b, "W208").params) == {"other": "c.xlsx"}
    a, b, c = (make_return(path=p) for p in ("a.xlsx", "b.xlsx", "c.xlsx"))
    b.data.fields["资金用途"] = "另一种用途说明"
    c.data.fields["资金用途"] = "第三种用途说明"
    validate(a, b, c)
    assert dict(issue(a, "E115").params)["other"] in ("b.xlsx、c.xlsx", "c.xlsx、b.xlsx")
    assert dict(issue(a, "E115").params)["project"] == CODE


def _saved(path, when: str | None) -> str:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        if when is not None:
            zf.writestr("docProps/core.xml", f'<cp:coreProperties><dcterms:modified xsi:type="dcterms:W3CDTF">'
                                             f'{when}</dcterms:modified></cp:coreProperties>')
    return str(path)


def test_saved_at_reads_the_workbook_properties(tmp_path):
    assert rules.saved_at(_saved(tmp_path / "a.xlsx", "2021-03-01T10:00:00Z")) == "2021-03-01T10:00:00Z"
    assert rules.saved_at(_saved(tmp_path / "b.xlsx", None)) == ""
    assert rules.saved_at(str(tmp_path / "missing.xlsx")) == ""
    (tmp_path / "c.xlsx").write_bytes(b"not a zip")
    assert rules.saved_at(str(tmp_path / "c.xlsx")) == ""
    import zipfile

    with zipfile.ZipFile(tmp_path / "d.xlsx", "w") as zf:
        zf.writestr("docProps/core.xml", "<cp:coreProperties/>")
    assert rules.saved_at(str(tmp_path / "d.xlsx")) == ""


def test_the_newest_save_wins_over_the_file_time(tmp_path):
    # A copy made later (newer mtime) of an older save must not win over the newer save.
    newer = make_return(path=_saved(tmp_path / "newer.xlsx", "2021-03-02T00:00:00Z"))
    older = make_return(path=_saved(tmp_path / "older.xlsx", "2021-03-01T00:00:00Z"))
    newer.mtime, older.mtime = 1.0, 2.0
    newer.data.fields["资金用途"] = "更新后的资金用途"
    validate(older, newer, duplicates="latest")
    assert (newer.status, older.status) == ("accepted", "skipped")


@pytest.mark.parametrize(("name", "warned"), [
    ("{other}_x.xlsx", True), ("{other}.xlsx", True), ("{other} x.xlsx", True), ("{other}-x.xlsx", True),
    ("{other}X.xlsx", False), ("x_{other}.xlsx", False), ("{code}_x.xlsx", False), ("return.xlsx", False),
])
def test_w206_file_name_code(name, warned):
    other = next(c for c in PROJECTS if c != CODE)
    res = make_return(path="returns/" + name.format(other=other, code=CODE))
    cross_field(res)
    assert ("W206" in codes(res)) is warned


@pytest.mark.parametrize(("goals", "line"), [
    ("一、完成印刷\n二、完成印刷", "完成印刷"), ("(1)完成印刷\n2) 完成印刷；", None), ("1：完成印刷\n2:完成印刷;", "完成印刷"),
    ("完成印刷\n\n完成印刷", "完成印刷"), ("1.\n2.", None),
])
def test_w202_numbering_styles(goals, line):
    res = fields(False, 绩效目标=goals)
    found = [dict(i.params)["line"] for i in res.issues if i.code == "W202"]
    assert found == ([line] if line else [])


# ---------------------------------------------------------------- more boundaries --------
def test_memo_keeps_text_up_to_200_characters():
    rules._PARSED.clear()
    at, over = "≥95%" + " " * 196, "≥95%" + " " * 197
    rules.parse_value(at), rules.parse_value(over)
    assert at in rules._PARSED and over not in rules._PARSED
    rules._PARSED.clear()


def test_choice_error_lists_the_choices_and_long_field_gives_the_limit():
    choice = next(f for f in SPEC.fields if f.choices)
    e = issue(fields(**{choice.name: "也许"}), "E117")
    assert dict(e.params) == {"field": choice.name, "found": "也许", "choices": "、".join(choice.choices)}
    f = next(f for f in SPEC.fields if f.max_length and not f.locked)
    e = issue(fields(**{f.name: "字" * (f.max_length + 1)}), "E113")
    assert (e.cell, dict(e.params)["limit"], dict(e.params)["field"]) == (f.cell, f.max_length, f.name)


def test_no_e006_when_the_sheet_code_is_empty():
    res = make_return()
    res.data.fields["项目编码"] = ""
    cross_field(res)
    assert "E006" not in codes(res)


@pytest.mark.parametrize(("values", "expected"), [
    ((0.25, 0.5, 1, 100), ["E133"] * 3),      # 1 next to 100 is 100 % too: all three cells are marked
    ((0.25, 0.5, 0.75, 150), ["E106"]),       # rescaled beyond 100: not a mixed scale (E104 says the rest)
    ((0.25, "", 0.75, 1), ["E106"]),           # a gap: the fractions are not rescaled as a whole
    ((10, 20, 30, float("nan")), []),
])
def test_plan_scale_edges(values, expected):
    assert codes(plan_only(*values)) == expected


def test_mixed_scale_names_the_plan_as_read():
    e = next(i for i in plan_only(0.25, 0.5, 0.75, 100).issues if i.code == "E133")
    assert dict(e.params) == {"field": PLAN[0].name, "fraction": "0.25", "percent": "25", "found": "0.25、0.5、0.75、100"}


def test_slots_from_the_spec_when_the_metadata_has_none():
    res = make_return()
    res.data.meta.pop("slots")
    res.data.indicators = [ir for ir in res.data.indicators if ir.level2 != COST]
    cross_field(res)
    first = next(s for s in SPEC.slot_rows(None) if s.level2 == COST)
    assert issue(res, "E107").cell == f"{SPEC.columns[0].col}{first.row0 + 1}"


def test_exactly_the_minimum_per_first_level_passes():
    group = next(g for g in SPEC.groups if g.min_filled)
    names = {l2.name for l2 in group.level2}
    res = make_return()
    keep = [ir for ir in res.data.indicators if ir.level2 in names][:group.min_filled]
    res.data.indicators = [ir for ir in res.data.indicators if ir.level2 not in names] + keep
    cross_field(res)
    assert "E118" not in codes(res)


def test_long_formula_is_cut_at_80_characters():
    res = make_return()
    res.data.formulas = {"E5": "A" * 100, "B7": "1+1"}
    cross_field(res)
    assert [dict(i.params)["found"] for i in res.issues if i.code == "E116"] == ["1+1", "A" * 80]


def test_no_w203_when_both_texts_are_empty():
    res = with_value("≥95%", schema=False, 三级指标="", 绩效指标描述="")
    assert "W203" not in codes(res, indicator(res, NOT_COST).refs["绩效指标描述"])


def test_returns_differing_only_in_an_indicator_or_a_section_are_not_copies():
    a, b = make_return(path="a.xlsx"), make_return(path="b.xlsx")
    indicator(b, NOT_COST).values[VALUE] = "≥96%"
    validate(a, b)
    assert "E115" in codes(a) and "W207" not in codes(a)
    a, b = make_unit_return(path="a.xlsx"), make_unit_return(path="b.xlsx")
    b.data.sections[UNIT_SPEC.sections[0].name][0]["内容"] += "。"
    validate(a, b)
    assert "E115" in codes(a)


def test_a_return_the_reader_rejected_is_no_duplicate():
    a, b = make_return(path="a.xlsx"), make_return(path="b.xlsx")
    b.add(Issue.make("E004", SPEC.sheet))
    validate(a, b)
    assert a.status == "accepted" and "W207" not in codes(a) and "W207" not in codes(b)


def test_saved_at_strips_the_value(tmp_path):
    assert rules.saved_at(_saved(tmp_path / "a.xlsx", " 2021-03-01T10:00:00Z ")) == "2021-03-01T10:00:00Z"


@pytest.mark.parametrize("slots", [None, 5])
def test_first_rows_follow_the_templates_slot_count(slots):
    rules._FIRST_ROWS.clear()  # compute, not reuse what an earlier test left
    res = make_return(slots=slots)
    res.data.indicators = [ir for ir in res.data.indicators if ir.level2 != COST]
    cross_field(res)
    first = next(s for s in SPEC.slot_rows(slots) if s.level2 == COST)
    assert issue(res, "E107").cell == f"{SPEC.columns[0].col}{first.row0 + 1}"
    if slots:
        assert first.row0 != next(s for s in SPEC.slot_rows(None) if s.level2 == COST).row0


def test_frame_plan_is_computed_afresh():
    rules._PLANS.clear()
    res = plan(25, "abc", 75, 100)
    assert issue(res, "E104").cell == PLAN[1].cell


def test_large_plan_numbers_print_in_full():
    assert dict(issue(plan_only(0, 0, 0, 1000000), "E106").params) == {"found": "1000000"}


def test_saved_at_survives_non_ascii(tmp_path):
    assert rules.saved_at(_saved(tmp_path / "a.xlsx", "2021-03-01T10:00:00Zé")).startswith("2021-03-01T10:00:00Z")


# ---------------------------------------------------------------- mutation review (docs/testing.md) --------
# Each test below pins a behaviour a surviving mutant of rules.py changed: the whole issue (sheet, cell,
# parameters), the other direction of a rule, a boundary, or a declared parameter the rule must read.
from dataclasses import replace  # noqa: E402


def with_params(kind: str, spec=SPEC, **params):
    """*spec* with the parameters of its declared check *kind* changed (a None value removes one)."""
    checks = []
    for c in spec.checks:
        if c["kind"] == kind:
            c = {k: v for k, v in {**c, **params}.items() if v is not None}
        checks.append(c)
    return replace(spec, checks=tuple(checks))


def cross_field_as(spec, res: FileResult, **opts) -> FileResult:
    res.issues.extend(rules._cross_field(spec, res, REGISTRY, Options(**opts), frame_rows(spec, res)[0]))
    return res


def value_cell(res: FileResult, level2: str = NOT_COST) -> str:
    return indicator(res, level2).refs[VALUE]


@pytest.mark.parametrize(("value", "code"), [
    ("", "E109"), ("≥**%", "E110"), ("良好", "E111"), ("90%-95%", "E131"), ("2021年12月31日前", "E132"),
])
def test_a_value_issue_is_whole(value, code):
    res = with_value(value)
    assert issue(res, code) == Issue.make(code, SPEC.sheet, value_cell(res), found=value, missing="", field="_status")


def test_a_unit_missing_and_a_partly_filled_row_are_whole_issues():
    res = with_value("≥95")
    assert issue(res, "E112") == Issue.make("E112", SPEC.sheet, value_cell(res), found="≥95", missing="",
                                            field="_unit_missing")
    res = make_return()
    ir = indicator(res, NOT_COST)
    ir.values["三级指标"] = ""
    validate(res)
    assert issue(res, "E108") == Issue.make("E108", SPEC.sheet, f"C{ir.row}", found=text(ir.values[VALUE]),
                                            missing="三级指标", field="_missing")


def test_a_column_at_its_length_limit_passes_and_one_over_is_a_whole_e113():
    column = next(c for c in SPEC.columns if c.max_length and c.type != "indicator_value")
    res = with_value("≥95%", **{column.name: "字" * column.max_length})
    assert "E113" not in codes(res)
    res = with_value("≥95%", **{column.name: "字" * (column.max_length + 1)})
    ir = indicator(res, NOT_COST)
    assert issue(res, "E113") == Issue.make("E113", SPEC.sheet, ir.refs[column.name], found="≥95%", missing="",
                                            field=column.name, limit=column.max_length, length=column.max_length + 1)


def test_a_number_in_a_text_column_is_content():
    res = with_value("≥95%", 三级指标=5)
    assert "E108" not in codes(res)


def test_an_empty_plan_period_is_e101_only():
    res = plan(25, "", 75, 100)
    assert plan_codes(res) == ["E101"]


def test_a_form_without_an_indicator_value_column_still_checks_its_rows():
    columns = tuple(replace(c, type="text") if c.type == "indicator_value" else c for c in SPEC.columns)
    spec = replace(SPEC, columns=columns)
    res = make_return()
    ir = indicator(res, NOT_COST)
    ir.values["三级指标"] = ""
    prow, irows = frame_rows(spec, res)
    found = rules.cell_issues(spec, res, prow, irows)
    assert found == [Issue.make("E108", spec.sheet, f"C{ir.row}", found="", missing="三级指标", field="_missing")]


def test_the_frame_columns_read_by_the_benchmarks_naive_stack():
    # benchmarks/naive_schema.py builds its DataFrames from these names and rows
    names, vcol = rules._frame_columns(SPEC)
    assert names == ["_row", "一级指标", "二级指标", *(c.name for c in SPEC.columns), "_missing",
                     "_status", "_symbol", "_number", "_unit", "_display", "_unit_missing"]
    assert vcol == VALUE
    assert rules._frame_columns(UNIT_SPEC) == (["_row", "一级指标", "二级指标", *(c.name for c in UNIT_SPEC.columns),
                                                "_missing"], None)


@pytest.mark.parametrize(("value", "columns"), [
    ("良好", ("unparseable", "", None, "", "", False)),
    ("", ("empty", "", None, "", "", False)),
    ("≥95", ("ok", "≥", 95.0, "", "≥95", True)),
    ("达成预期指标", ("ok", "定性", None, "", "达成预期指标", False)),
])
def test_the_value_columns_of_a_row(value, columns):
    rules._PARSED.clear()  # parse afresh, not from what an earlier test left
    res = make_return()
    ir = indicator(res, NOT_COST)
    ir.values[VALUE] = value
    names, _ = rules._frame_columns(SPEC)
    row = dict(zip(names, next(r for r in frame_rows(SPEC, res)[1] if r[0] == ir.row)))
    assert tuple(row[n] for n in rules._VALUE_COLUMNS) == columns
    rules._PARSED.clear()


def test_the_frame_plan_computed_afresh_knows_the_required_columns():
    rules._PLANS.clear()  # the plan is cached per form: compute it under test
    res = make_return()
    ir = indicator(res, NOT_COST)
    ir.values["三级指标"] = ""
    ir.values[VALUE] = ""
    validate(res)
    assert dict(issue(res, "E108").params)["missing"] == "三级指标"  # the value is E109, not a missing column
    assert issue(res, "E109").cell == ir.refs[VALUE]


# ---------------------------------------------------------------- plan numbers --------
def test_percent_values_without_formats_and_with_fewer_formats_than_cells():
    assert rules._percent_values([25, "50", 75.0, 100]) == [25.0, 50.0, 75.0, 100.0]
    assert rules._percent_values([0.25, 50], ["0%"]) == [25.0, 50.0]


def test_percent_values_keep_six_decimals():
    assert rules._percent_values([0.1234567891, 50], ["0.00%", ""]) == [12.345679, 50.0]
    assert rules._percent_values([0.1234567891, 0.5, 1]) == [12.345679, 50.0, 100.0]


@pytest.mark.parametrize(("raw", "expected"), [
    ([0.5, 1.5, 1], [0.5, 1.5, 1.0]),       # not every period a fraction: read as written
    ([0.25, 0.5, 0.75, 1], [25.0, 50.0, 75.0, 100.0]),
    (["50X", "x", "", "25%"], [None, None, None, 25.0]),
])
def test_percent_values_scale_only_a_whole_plan_of_fractions(raw, expected):
    assert rules._percent_values(raw) == expected


def test_the_declared_final_value_is_the_one_checked():
    res = make_return()
    check_plan(SPEC, res, {f"{f.name}__num": v for f, v in zip(PLAN, (0, 0, 0, 50))}, {"group": PLAN[0].group, "final": 50})
    assert res.issues == []
    res = make_return()
    check_plan(SPEC, res, {f"{f.name}__num": v for f, v in zip(PLAN, (0, 0, 0, 100))}, {"group": PLAN[0].group, "final": 50})
    assert res.issues == [Issue.make("E106", SPEC.sheet, PLAN[-1].cell, found="100")]
    res = make_return()  # a group no field has: nothing to check, even with a final value
    check_plan(SPEC, res, {}, {"group": "没有的分组", "final": 100})
    assert res.issues == []


def test_the_final_value_tolerance_is_one_millionth():
    def e106(last):
        res = make_return()
        check_plan(SPEC, res, {f"{f.name}__num": v for f, v in zip(PLAN, (0, 0, 0, last))},
                   {"group": PLAN[0].group, "final": 0})
        return codes(res)

    assert e106(1e-6) == [] and e106(2e-6) == ["E106"]


def test_the_plan_rule_runs_with_the_declared_parameters():
    res = make_return()
    for f, v in zip(PLAN, (0, 0, 0, 50)):
        res.data.fields[f.name] = v
    assert "E106" not in codes(cross_field_as(with_params("plan", final=50), res))
    res = make_return()
    for f, v in zip(PLAN, (0, 0, 0, 50)):
        res.data.fields[f.name] = v
    assert "E106" in codes(cross_field_as(SPEC, res))


def test_e105_and_e106_are_whole_issues():
    res = plan_only(50, 25, 75, 90)
    assert [i for i in res.issues if i.code in ("E105", "E106")] == [
        Issue.make("E105", SPEC.sheet, PLAN[1].cell, field=PLAN[1].name, found="25", previous="50"),
        Issue.make("E106", SPEC.sheet, PLAN[-1].cell, found="90")]


@pytest.mark.parametrize(("values", "expected"), [
    ((0, 0, "0.5%", 90), ["E106"]),           # a % sign says what it means: the plan is read as typed
    ((25, 50, 1, 100), ["E105"]),             # 1 is no fraction of a percent: 1 % after 50 % decreases
    ((1.5, 50, 75, 90), ["E106"]),
    ((0, 0, 0.01, 2), ["E133"]),              # 0.01 next to 2: read as 1 % and 2 %
    ((0.01, 1.5, 100, 100), ["E133"]),
    ((0.25, 0.5, 0.75, 100.5), ["E106"]),     # read as percentages the plan would pass 100: not a scale slip
])
def test_mixed_scale_boundaries(values, expected):
    assert codes(plan_only(*values)) == expected


def test_e133_is_a_whole_issue_and_its_percent_is_rounded_to_six_decimals():
    res = plan_only(0.123, 0.5, 0.75, 100)
    assert res.issues[0] == Issue.make("E133", SPEC.sheet, PLAN[0].cell, field=PLAN[0].name, fraction="0.123",
                                       percent="12.3", found="0.123、0.5、0.75、100")
    tiny = plan_only(1.234e-7, 0.5, 0.75, 100)
    assert dict(tiny.issues[0].params)["percent"] == "1.2e-05"


# ---------------------------------------------------------------- amounts --------
def test_the_amounts_rule_reads_its_declared_fields():
    res = make_return()
    res.data.fields.update({"预算数": "9", "财政资金": "4", "其他资金": "5"})
    assert "E103" not in codes(cross_field_as(SPEC, res))
    # declared the other way round: 财政资金 must be 预算数 + 其他资金
    res = make_return()
    res.data.fields.update({"预算数": "9", "财政资金": "4", "其他资金": "5"})
    swapped = with_params("amounts", total="财政资金", fiscal="预算数")
    assert issue(cross_field_as(swapped, res), "E103").cell == SPEC.field("财政资金").cell
    res = make_return()
    res.data.fields.update({"预算数": "9", "财政资金": "4", "其他资金": "5"})
    check_amounts(SPEC, res, {"total": "财政资金", "fiscal": "预算数", "other": "其他资金"})
    assert dict(issue(res, "E103").params) == {"total": "4.00", "fiscal": "9.00", "other": "5.00"}


def test_a_form_that_declares_no_amounts_rule_checks_none():
    spec = replace(SPEC, checks=tuple(c for c in SPEC.checks if c["kind"] != "amounts"))
    res = make_return()
    res.data.fields.update({"预算数": "10", "财政资金": "4", "其他资金": "5"})
    check_amounts(spec, res)
    assert res.issues == []


# ---------------------------------------------------------------- the rule kinds, whole --------
def test_yesno_names_only_the_yesno_cell():
    res = make_return()
    for ir in res.data.indicators:
        ir.values[VALUE] = "≥95%"
    indicator(res, NOT_COST).values[VALUE] = "是否"
    cross_field(res)
    assert [i for i in res.issues if i.code in ("W201", "E120")] == [
        Issue.make("W201", SPEC.sheet, value_cell(res), found="是否")]


def test_differs_from_is_a_whole_issue_and_needs_no_exceptions():
    res = with_value("≥95%", schema=False, 三级指标="印刷册数", 绩效指标描述="印刷册数")
    cell = indicator(res, NOT_COST).refs["绩效指标描述"]
    assert [i for i in res.issues if i.cell == cell] == [Issue.make("W203", SPEC.sheet, cell, found="印刷册数")]
    res = make_return()
    indicator(res, NOT_COST).values.update({"三级指标": "涉密", "绩效指标描述": "涉密"})
    assert "W203" in codes(cross_field_as(with_params("differs-from", **{"except": None}), res),
                           indicator(res, NOT_COST).refs["绩效指标描述"])


def test_cost_direction_limit_defaults_to_100_and_the_issue_is_whole():
    def w204(value, spec):
        res = make_return()
        indicator(res, COST).values[VALUE] = value
        return [i for i in cross_field_as(spec, res).issues if i.code == "W204"]

    undeclared = with_params("cost-direction", limit=None)
    assert w204("≥100%", undeclared) and not w204("≥99.9%", undeclared)
    assert w204("≥80%", with_params("cost-direction", limit=80)) and not w204("≥80%", SPEC)
    res = with_value("≥100%", level2=COST, schema=False)
    assert issue(res, "W204") == Issue.make("W204", SPEC.sheet, value_cell(res, COST), found="≥100%")


def test_the_target_rules_read_the_value_cells_format():
    # 0.95 in a 0% cell is 95 %: no fraction, no W231; the same number unformatted is one
    res = with_value(0.95, number_format="0%", schema=False, 三级指标="达标率")
    assert "W231" not in codes(res)
    assert "W231" in codes(with_value(0.95, schema=False, 三级指标="达标率"))


def test_probable_percent_at_1_and_on_a_later_row():
    res = with_value(1, schema=False, 三级指标="达标率")
    assert issue(res, "W231") == Issue.make("W231", SPEC.sheet, value_cell(res), found="1", meant="100%")
    res = make_return()
    last = res.data.indicators[-1]
    last.values.update({VALUE: "0.9", "三级指标": "满意度"})
    cross_field(res)
    assert [i.cell for i in res.issues if i.code == "W231"] == [last.refs[VALUE]]


def test_distinct_lines_whole_issue_letters_and_no_exceptions():
    res = fields(False, 绩效目标="1.完成印刷\n2.完成印刷")
    assert issue(res, "W202") == Issue.make("W202", SPEC.sheet, SPEC.field("绩效目标").cell, line="完成印刷")
    assert "W202" not in codes(fields(False, 绩效目标="购买X\n购买"))
    res = make_return()
    res.data.fields["绩效目标"] = "涉密\n涉密"
    assert "W202" in codes(cross_field_as(with_params("distinct-lines", **{"except": None}), res))


def test_short_text_reads_a_declared_minimum():
    def w205(value, spec):
        res = make_return()
        res.data.fields["资金用途"] = value
        return "W205" in codes(cross_field_as(spec, res))

    three = with_params("short-text", min_length=3)
    assert w205("印刷", three) and not w205("印刷品", three)
    assert w205("印刷品", SPEC)  # the field's own minimum is 4


def test_sections_missing_from_a_return_are_no_partly_filled_rows():
    res = make_unit_return()
    res.data.sections = {}
    cross_field(res)
    assert "E108" not in codes(res)
    assert [i.code for i in res.issues] == ["E118", "E118"]


def test_unit_issues_are_whole():
    sec = UNIT_SPEC.sections[0]
    res = make_unit_return()
    res.data.sections[sec.name] = []
    cross_field(res)
    assert issue(res, "E118") == Issue.make("E118", UNIT_SPEC.sheet, f"{sec.title_col}{sec.first_row}",
                                            level1=sec.name, count=sec.min_filled)
    res = make_unit_return()
    item = res.data.sections[sec.name][0]
    item["内容"] = ""
    cross_field(res)
    assert issue(res, "E108") == Issue.make("E108", UNIT_SPEC.sheet, item["text_ref"], missing="内容")


def test_exactly_the_minimum_of_section_items_passes():
    sec = UNIT_SPEC.sections[0]
    res = make_unit_return()
    res.data.sections[sec.name] = res.data.sections[sec.name][:sec.min_filled]
    cross_field(res)
    assert "E118" not in codes(res)


def two_rows_minimum():
    """The project form with every indicator group that has a minimum asking for two filled rows."""
    return replace(SPEC, groups=tuple(replace(g, min_filled=2) if g.min_filled else g for g in SPEC.groups))


def test_group_minimum_counts_every_filled_row():
    spec = two_rows_minimum()
    group = next(g for g in spec.groups if g.min_filled)
    names = [l2.name for l2 in group.level2]
    res = make_return()
    kept = [ir for ir in res.data.indicators if ir.level2 in names][:1]
    res.data.indicators = [ir for ir in res.data.indicators if ir.level2 not in names] + kept
    assert "E118" in codes(cross_field_as(spec, res))  # one row of two
    res = make_return()
    base = [ir for ir in res.data.indicators if ir.level2 not in names]
    twice = next(ir for ir in res.data.indicators if ir.level2 in names)
    second = IndicatorRow(twice.level1, twice.level2, twice.slot + 1, twice.row + 1, dict(twice.values),
                          {k: f"{v[0]}{twice.row + 1}" for k, v in twice.refs.items()})
    res.data.indicators = base + [twice, second]
    assert "E118" not in codes(cross_field_as(spec, res))  # two rows of one 二级指标 count twice


@pytest.mark.parametrize("slots", [None, 5])
def test_group_minimum_and_required_level2_issues_are_whole(slots):
    group = next(g for g in SPEC.groups if g.min_filled)
    names = {l2.name for l2 in group.level2}
    res = make_return(slots=slots)
    res.data.indicators = [ir for ir in res.data.indicators if ir.level2 not in names and ir.level2 != COST]
    cross_field(res)
    rows = {s.level2: s.row0 + 1 for s in reversed(SPEC.slot_rows(slots))}
    first_col = SPEC.columns[0].col
    assert issue(res, "E118") == Issue.make("E118", SPEC.sheet, f"{first_col}{rows[group.level2[0].name]}",
                                            level1=group.name, count=group.min_filled)
    assert issue(res, "E107") == Issue.make("E107", SPEC.sheet, f"{first_col}{rows[COST]}", level2=COST)


def test_file_code_warning_is_whole():
    other = next(c for c in PROJECTS if c != CODE)
    res = cross_field(make_return(path=f"returns/{other}_x.xlsx"))
    assert issue(res, "W206") == Issue.make("W206", SPEC.meta_sheet, "project_code", name_code=other, found=CODE)


# ---------------------------------------------------------------- identity, whole --------
def test_identity_issues_are_whole():
    res = make_return()
    res.data.fields["项目编码"] = "X" * 21
    res.data.meta["project_code"] = "X" * 21
    cross_field(res)
    assert issue(res, "E114") == Issue.make("E114", SPEC.sheet, SPEC.field("项目编码").cell, found="X" * 21)
    res = make_return()
    res.data.fields["项目名称"] = ""
    cross_field(res)
    assert issue(res, "E102") == Issue.make("E102", SPEC.sheet, SPEC.field("项目名称").cell, field="项目名称",
                                            found="（空）", expected=PROJECTS[CODE]["项目名称"])


def test_a_unit_return_of_an_unknown_or_blank_code():
    res = make_unit_return()
    res.data.meta["unit_code"] = "999999"
    cross_field(res)
    assert issue(res, "E119") == Issue.make("E119", UNIT_SPEC.sheet, "", found="999999")


def test_a_blank_unit_code_is_reported_as_empty():
    # before: the metadata's raw text was the "found" value, so a code of spaces read as “  ”
    res = make_unit_return()
    res.data.meta["unit_code"] = "  "
    cross_field(res)
    assert dict(issue(res, "E119").params) == {"found": "（空）"}


def test_a_changed_locked_value_and_a_bad_digest_give_only_e102():
    res = make_return()
    res.data.fields["项目名称"] = "改过的名称"
    res.data.meta["locked_digest"] = "0" * 64
    cross_field(res)
    assert [i.code for i in res.issues if i.code in ("E102", "E007")] == ["E102"]


# ---------------------------------------------------------------- the driver --------
def ordered(*issues: Issue) -> list[tuple[str, str]]:
    res = FileResult("x.xlsx")
    res.issues = list(issues)
    rules._order(res)
    return [(i.code, i.cell) for i in res.issues]


def test_issues_sort_by_row_number_not_by_text():
    assert ordered(Issue.make("E104", "s", "A10"), Issue.make("E104", "s", "B9")) == [("E104", "B9"), ("E104", "A10")]
    assert ordered(Issue.make("E104", "s", "D5"), Issue.make("E104", "s", "C5")) == [("E104", "C5"), ("E104", "D5")]


def test_cells_that_are_not_a1_refs_sort_before_cells_and_by_name():
    assert ordered(Issue.make("W205", "s", "A1"), Issue.make("W205", "s", "locked_digest"),
                   Issue.make("W205", "s", "AB"), Issue.make("W205", "s", "")) == [
        ("W205", ""), ("W205", "AB"), ("W205", "locked_digest"), ("W205", "A1")]


def test_an_error_without_a_cell_comes_before_a_skip():
    assert ordered(Issue.make("W207", other="a.xlsx"), Issue.make("E104", "s", "B2")) == [("E104", "B2"), ("W207", "")]


def test_duplicates_of_several_projects_are_each_judged():
    other = next(c for c in PROJECTS if c != CODE)
    lone = make_return(other, path="lone.xlsx")
    same_a, same_b = make_return(path="s1.xlsx"), make_return(path="s2.xlsx")
    same_a.mtime, same_b.mtime = 1.0, 2.0
    rules.check_duplicates([lone, same_a, same_b], Options())
    assert codes(same_a) == ["W207"] and codes(lone) == []
    # a group of identical copies first, then one of different returns
    copy_a, copy_b = make_return(path="c1.xlsx"), make_return(path="c2.xlsx")
    copy_a.mtime, copy_b.mtime = 1.0, 2.0
    diff_a, diff_b = make_return(other, path="d1.xlsx"), make_return(other, path="d2.xlsx")
    diff_b.data.fields["资金用途"] = "另一种用途说明"
    rules.check_duplicates([copy_a, copy_b, diff_a, diff_b], Options())
    assert codes(copy_a) == ["W207"] and codes(diff_a) == ["E115"] and codes(diff_b) == ["E115"]


def settled(path: str, status: str, mtime: float, code: str = CODE) -> FileResult:
    res = make_return(code, path=path)
    res.status, res.mtime = status, mtime
    return res


def test_supersede_sets_aside_a_rejected_return_older_than_the_accepted_one():
    old, new = settled("old.xlsx", "rejected", 1.0), settled("new.xlsx", "accepted", 2.0)
    rules.supersede_fixed([old, new], Options(duplicates="latest"))
    assert (old.status, new.status) == ("skipped", "accepted")
    assert old.issues == [Issue.make("W208", other="new.xlsx")] and new.issues == []


def test_supersede_only_with_latest_and_only_older_rejected_returns():
    old, new = settled("old.xlsx", "rejected", 1.0), settled("new.xlsx", "accepted", 2.0)
    rules.supersede_fixed([old, new], Options())
    assert (old.status, old.issues) == ("rejected", [])
    newer, accepted = settled("newer.xlsx", "rejected", 3.0), settled("acc.xlsx", "accepted", 2.0)
    rules.supersede_fixed([newer, accepted], Options(duplicates="latest"))
    assert (newer.status, newer.issues) == ("rejected", [])


def test_supersede_names_the_newest_accepted_return():
    first, oldest, latest = (settled("first.xlsx", "accepted", 2.0), settled("bad.xlsx", "rejected", 1.0),
                             settled("latest.xlsx", "accepted", 3.0))
    rules.supersede_fixed([first, oldest, latest], Options(duplicates="latest"))
    assert oldest.issues == [Issue.make("W208", other="latest.xlsx")]
    first, oldest, latest = (settled("latest.xlsx", "accepted", 3.0), settled("bad.xlsx", "rejected", 1.0),
                             settled("first.xlsx", "accepted", 2.0))
    rules.supersede_fixed([first, oldest, latest], Options(duplicates="latest"))
    assert oldest.issues == [Issue.make("W208", other="latest.xlsx")]


def test_supersede_keeps_to_one_form_of_one_project():
    other = next(c for c in PROJECTS if c != CODE)
    bad, fixed_other = settled("bad.xlsx", "rejected", 1.0), settled("o.xlsx", "accepted", 2.0, other)
    unit = make_unit_return(path="unit.xlsx")
    unit.status, unit.mtime = "accepted", 3.0
    unit.data.meta["project_code"] = CODE
    rules.supersede_fixed([bad, fixed_other, unit], Options(duplicates="latest"))
    assert (bad.status, bad.issues) == ("rejected", [])
    keyless, fixed = settled("k.xlsx", "rejected", 1.0), settled("f.xlsx", "accepted", 2.0)
    keyless.data.fields["项目编码"], keyless.data.meta["project_code"] = "", ""
    unread = FileResult("u.xlsx", kind=SPEC.kind)
    unread.status = "rejected"
    rules.supersede_fixed([keyless, unread, fixed], Options(duplicates="latest"))
    assert keyless.status == "rejected" and unread.status == "rejected" and fixed.status == "accepted"


def test_supersede_goes_by_the_saved_time_before_the_file_time(tmp_path):
    bad = make_return(path=_saved(tmp_path / "bad.xlsx", "2021-03-02T00:00:00Z"))
    fixed = make_return(path=_saved(tmp_path / "fixed.xlsx", "2021-03-01T00:00:00Z"))
    bad.status, bad.mtime, fixed.status, fixed.mtime = "rejected", 1.0, "accepted", 2.0
    rules.supersede_fixed([bad, fixed], Options(duplicates="latest"))
    assert bad.status == "rejected"  # saved after the accepted one: still open


def test_validate_goes_on_after_a_return_the_reader_rejected():
    unread = FileResult("u.xlsx")
    unread.add(Issue.make("E004", SPEC.sheet))
    res = make_return()
    indicator(res, NOT_COST).values[VALUE] = "良好"
    validate(unread, res)
    assert "E111" in codes(res) and res.status == "rejected"


def test_validate_uses_the_prepared_issues():
    res = make_return()
    marked = rules.Prepared(res.data.spec_name, [Issue.make("W205", SPEC.sheet, "Z99", found="x")])
    validate_results([res], REGISTRY, Options(), [marked])
    assert res.issues == [Issue.make("W205", SPEC.sheet, "Z99", found="x")]


def test_prepare_of_a_table_form_runs_its_checks():
    from inmemory import make_table_return

    spec, res = make_table_return("monitoring", fields={"执行数": "abc"})
    pre = rules.prepare(res, REGISTRY)
    expected = run_checks_of(spec, res)
    assert pre == rules.Prepared(res.data.spec_name, expected) and expected


def run_checks_of(spec, res):
    from xlperf.checks import run_checks

    return run_checks(spec, res, REGISTRY)


def test_cross_field_returns_only_its_own_issues_and_keeps_the_others():
    res = make_return()
    earlier = Issue.make("W205", SPEC.sheet, "Z99", found="x")
    res.add(earlier)
    res.data.formulas = {"E5": "1+1"}
    found = rules._cross_field(SPEC, res, REGISTRY, Options(), frame_rows(SPEC, res)[0])
    assert earlier not in found and Issue.make("E116", SPEC.sheet, "E5", found="1+1") in found
    assert res.issues == [earlier]


def test_a_kind_registered_with_rule_runs_when_declared():
    def flag(ctx, params):
        ctx.res.add(Issue.make("W205", ctx.spec.sheet, params["cell"], found="x"))

    try:
        assert rules.rule("test-flag")(flag) is flag
        spec = replace(SPEC, checks=({"kind": "test-flag", "cell": "B2"},))
        assert rules._cross_field(spec, make_return(), REGISTRY, Options(), {}) == [
            Issue.make("W205", SPEC.sheet, "B2", found="x")]
    finally:
        rules.RULES.pop("test-flag", None)
    with pytest.raises(ValueError, match="test-flag"):
        rules._cross_field(spec, make_return(), REGISTRY, Options(), {})


def test_each_declared_instance_of_a_kind_runs_with_its_own_parameters():
    amounts_twice = replace(SPEC, checks=(*SPEC.checks, {"kind": "amounts", "total": "财政资金", "fiscal": "预算数",
                                                         "other": "其他资金"}))
    res = make_return()
    res.data.fields.update({"预算数": "9", "财政资金": "4", "其他资金": "5"})
    assert [i.cell for i in cross_field_as(amounts_twice, res).issues if i.code == "E103"] == [
        SPEC.field("财政资金").cell]
    plan_twice = replace(SPEC, checks=(*SPEC.checks, {"kind": "plan", "group": PLAN[0].group, "final": 50}))
    res = make_return()
    for f, v in zip(PLAN, (25, 50, 75, 100)):
        res.data.fields[f.name] = v
    assert [i for i in cross_field_as(plan_twice, res).issues if i.code == "E106"] == [
        Issue.make("E106", SPEC.sheet, PLAN[-1].cell, found="100")]


def test_supersede_needs_an_accepted_return():
    old, new = settled("old.xlsx", "rejected", 1.0), settled("new.xlsx", "rejected", 2.0)
    rules.supersede_fixed([old, new], Options(duplicates="latest"))
    assert (old.status, new.status) == ("rejected", "rejected") and old.issues == []


def test_a_sheet_code_of_another_registered_project_is_judged_against_that_project():
    other = next(c for c in PROJECTS if c != CODE and PROJECTS[c]["项目名称"] != PROJECTS[CODE]["项目名称"])
    res = make_return()
    res.data.fields["项目编码"] = other  # the metadata still names the template's project
    cross_field(res)
    assert "E006" in codes(res)
    e102 = {dict(i.params)["field"]: dict(i.params)["expected"] for i in res.issues if i.code == "E102"}
    assert e102["项目名称"] == PROJECTS[other]["项目名称"] and "项目编码" not in e102
