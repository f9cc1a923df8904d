"""The targets forms as data: roles find the fields, the cross-field checks and their parameters are the
spec's [[checks]], and the master's column names (a contract) come out of the spec unchanged."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from xlperf import master, rules
from xlperf.rules import Options, frame_rows

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inmemory import COST, PLAN, REGISTRY, SPEC, UNIT_SPEC, VALUE, make_return  # noqa: E402


def run(spec, res, **opts) -> list[str]:
    """The codes the spec's declared checks file on one return."""
    return [i.code for i in rules._cross_field(spec, res, REGISTRY, Options(**opts), frame_rows(spec, res)[0])]


def with_check(kind: str, **params):
    """The project spec with one declared check's parameters changed."""
    checks = tuple({**c, **params} if c["kind"] == kind else c for c in SPEC.checks)
    return replace(SPEC, checks=checks)


def test_every_declared_check_kind_is_registered():
    for spec in (SPEC, UNIT_SPEC):
        kinds = [c["kind"] for c in spec.checks]
        assert kinds and set(kinds) <= set(rules.RULES), kinds


def test_the_master_columns_are_exactly_the_contract():
    assert master.PROJECT_COLUMNS[:16] == [
        "单位编码", "单位名称", "项目编码", "项目名称", "预算数", "财政资金", "其他资金", "资金用途",
        "3月底", "6月底", "10月底", "12月底", "涉密", "绩效目标", "指标数", "提示数"]
    assert master.INDICATOR_COLUMNS[:12] == [
        "项目编码", "项目名称", "一级指标", "二级指标", "三级指标", "绩效指标描述", "计算符号", "指标值", "计量单位",
        "指标值确定依据", "涉密", "原始指标值"]
    assert master.MISSING_COLUMNS == ["单位编码", "单位名称", "项目编码", "项目名称", "预算数", "情况", "来源文件"]
    assert master.OVERVIEW_COLUMNS[-2:] == ["预算数合计", "已通过预算数"]
    assert master.PLAN == tuple(f.name for f in PLAN)


def test_roles_name_the_targets_fields():
    assert [f.name for f in SPEC.roles("plan")] == [f.name for f in PLAN]
    assert SPEC.role_name("target") == VALUE
    assert SPEC.role_name("nonexistent") == ""
    assert SPEC.label_covering(4, 0) == SPEC.label_covering(3, 0) != ""  # a label merged down over two rows


def test_the_plan_final_value_is_the_specs():
    res = make_return()
    assert "E106" not in run(SPEC, res)
    assert "E106" in run(with_check("plan", final=90), res)


def test_the_cost_direction_limit_is_the_specs():
    res = make_return()
    ir = next(ir for ir in res.data.indicators if ir.level2 == COST)
    ir.values[VALUE] = "≥95%"
    assert "W204" not in run(SPEC, res)
    assert "W204" in run(with_check("cost-direction", limit=90), res)


def test_the_amounts_fields_are_the_specs():
    res = make_return()
    total = SPEC.checks_of("amounts")[0]["total"]
    res.data.fields[total] = "999999"
    assert "E103" in run(SPEC, res)
    # the same check declared over other fields no longer looks at the total
    assert "E103" not in run(with_check("amounts", total="nonexistent"), res)


def test_a_check_not_declared_does_not_run():
    res = make_return()
    res.data.fields[SPEC.checks_of("short-text")[0]["field"]] = "印"
    assert "W205" in run(SPEC, res)
    without = replace(SPEC, checks=tuple(c for c in SPEC.checks if c["kind"] != "short-text"))
    assert "W205" not in run(without, res)


def test_an_unknown_check_kind_is_refused():
    spec = replace(SPEC, checks=(*SPEC.checks, {"kind": "no-such-rule"}))
    with pytest.raises(ValueError, match="no-such-rule"):
        run(spec, make_return())
