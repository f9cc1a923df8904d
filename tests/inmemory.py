"""Returns built in memory from the seed data, as the reader hands them to rules, checks and master."""
from __future__ import annotations

import json

from xlperf.fill import load_projects
from xlperf.model import FileResult, IndicatorRow, ReturnData
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.spec import load_spec, parse_ref
from xlperf.table_form import (Record, extract, last_row, locked_field_values, locked_row_values, locked_snapshot,
                               row_refs, total_refs)
from xlperf.writer import locked_digest, locked_values

SPEC_NAME = "project_2021"
SPEC = load_spec(SPEC_NAME)
REGISTRY = load_registry(bundled_registry_path())
PROJECTS = load_projects()
CODE = "130304211DGTGIWENVORV"
PLAN = [f for f in SPEC.fields if f.group == "资金支出计划"]
VALUE = next(c.name for c in SPEC.columns if c.type == "indicator_value")
COST = next(l2.name for l2 in SPEC.level2s if l2.cost)
NOT_COST = next(l2.name for l2 in SPEC.level2s if not l2.cost)


def make_return(code: str = CODE, path: str = "return.xlsx", slots: int | None = None) -> FileResult:
    """A return as the reader would hand it over: the seed project's content in the template's cells."""
    project = PROJECTS[code]
    fields = dict(locked_values(SPEC, REGISTRY.get(code)))
    for f in SPEC.input_fields:
        if f.group:
            fields[f.name] = project[f.group][f.name]
        elif f.type == "choice":
            fields[f.name] = f.choices[-1]
        else:
            fields[f.name] = project.get(f.name, "")
    refs = {f.name: f.cell for f in SPEC.fields}
    by_l2: dict = {}
    for ind in project["indicators"]:
        by_l2.setdefault(ind["二级指标"], []).append(ind)
    indicators = []
    for s in SPEC.slot_rows(slots):
        items = by_l2.get(s.level2, [])
        if s.index < len(items):
            row = s.row0 + 1
            values = {c.name: items[s.index].get(c.name, "") for c in SPEC.columns}
            indicators.append(IndicatorRow(s.level1, s.level2, s.index, row, values,
                                           {c.name: f"{c.col}{row}" for c in SPEC.columns}))
    meta = {"project_code": code, "slots": slots or SPEC.slots, "locked_digest": locked_digest(SPEC, fields)}
    data = ReturnData(SPEC_NAME, SPEC.sheet, meta, fields, refs, indicators)
    return FileResult(path, kind=SPEC.kind, data=data)


UNIT_SPEC_NAME = "unit_2021"
UNIT_SPEC = load_spec(UNIT_SPEC_NAME)


def make_unit_return(path: str = "unit.xlsx") -> FileResult:
    """The bundled unit-level form's content, as the reader would hand it over."""
    from xlperf.fill import load_unit

    unit = load_unit()
    code = unit["unit_code"]
    row = next(r for r in REGISTRY.rows if r["单位编码"] == code)
    fields = dict(locked_values(UNIT_SPEC, row))
    for f in UNIT_SPEC.input_fields:
        fields[f.name] = unit.get(f.name, "")
    refs = {f.name: f.cell for f in UNIT_SPEC.fields}
    sections = {}
    for sec in UNIT_SPEC.sections:
        sections[sec.name] = [{"标题": item["标题"], "内容": item["内容"], "ref": f"{sec.title_col}{sec.first_row + i}",
                               "text_ref": f"{sec.text_col}{sec.first_row + i}"}
                              for i, item in enumerate(unit.get(sec.name, []))]
    meta = {"unit_code": code, "locked_digest": locked_digest(UNIT_SPEC, fields)}
    data = ReturnData(UNIT_SPEC_NAME, UNIT_SPEC.sheet, meta, fields, refs, sections=sections)
    return FileResult(path, kind=UNIT_SPEC.kind, data=data)


def write_return(path, edit=None):
    """A filled return as a unit saves it, on disk: the seed project in a real template (xlsxwriter,
    as `generate` writes it); *edit(values)* changes the FormValues first (values, number formats)."""
    from pathlib import Path

    from xlperf.feedback import form_values
    from xlperf.writer import write_template

    values = form_values(make_return())
    if edit is not None:
        edit(values)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(SPEC, REGISTRY.get(CODE), str(path), password="pw", values=values)
    return path


def slot_ref(level2: str, index: int, column: str) -> str:
    """The A1 reference of one column of one indicator slot of the project form."""
    s = next(s for s in SPEC.slot_rows(None) if s.level2 == level2 and s.index == index)
    col = next(c.col for c in SPEC.columns if c.name == column)
    return f"{col}{s.row0 + 1}"


# ---------------------------------------------------------------- table forms (monitoring, self-evaluation) ----
TABLE_CODE = "130304218QM7GADSDSG29"  # 机要局升级改造资金: 预算数 30.00 in the bundled registry
TABLE_OTHER_CODE = "13030421XVRUR16MROFUW"  # another project of the registry (预算数 32.90)

# The approved indicators of the project (the targets master's rows), one per 一级指标 of [scoring].
TABLE_TARGETS = [
    {"一级指标": "产出指标", "二级指标": "数量指标", "三级指标": "设备购置数量", "指标值": "≥10台"},
    {"一级指标": "效益指标", "二级指标": "社会效益指标", "三级指标": "保密安全", "指标值": "达成预期指标"},
    {"一级指标": "满意度指标", "二级指标": "服务对象满意度指标", "三级指标": "使用人员满意度", "指标值": "≥95%"},
]
# What a unit types into a clean return (every check passes).
TABLE_TYPED = {
    "self-evaluation": ({"全年预算数": 30, "全年执行数": 28.5, "实际完成情况": "完成机要局升级改造"},
                        [{"实际完成值": "10台", "分值": 50}, {"实际完成值": "达成", "分值": 30},
                         {"实际完成值": "96%", "分值": 10}]),
    "monitoring": ({"执行数": 21, "全年预计执行数": 30, "执行情况": "设备已采购"},
                   [{"实际完成值": "6台", "全年预计完成值": "10台"}, {"实际完成值": "达成", "全年预计完成值": "达成"},
                    {"实际完成值": "95%", "全年预计完成值": "96%"}]),
}


def make_table_return(form: str, fields: dict | None = None, rows: list | None = None, targets: list | None = None,
         meta: dict | None = None, formats: dict | None = None, formulas: dict | None = None):
    """(spec, FileResult) of one return as the reader hands it over: the template's locked values with the
    unit's typed values (name -> value; rows: per row column -> value) laid on a grid and extracted."""
    spec = load_spec(form)
    targets = TABLE_TARGETS if targets is None else targets
    record = Record({**REGISTRY.get(TABLE_CODE), "绩效目标": "完成机要局升级改造", "涉密": "否"}, [dict(t) for t in targets])
    n = len(record.rows)
    grid = [[""] * len(spec.widths) for _ in range(last_row(spec, n))]

    def put(ref: str, value) -> None:
        r, c = parse_ref(ref)
        grid[r][c] = value

    for name, value in locked_field_values(spec, record).items():
        put(spec.field(name).cell, value)
    all_refs = row_refs(spec, n)
    for refs, values in zip(all_refs, locked_row_values(spec, record)):
        for name, value in values.items():
            put(refs[name], value)
    typed_fields, typed_rows = TABLE_TYPED[form]
    totals = total_refs(spec, n)
    for name, value in {**typed_fields, **(fields or {})}.items():
        column = name.removeprefix(spec.total_label) if spec.total_label else ""
        put(totals[column] if column in totals and name != column else spec.field(name).cell, value)
    for i, refs in enumerate(all_refs):
        typed = {**(typed_rows[i] if i < len(typed_rows) else {}), **((rows or [{}] * n)[i] if rows else {})}
        for name, value in typed.items():
            put(refs[name], value)
    meta = {"project_code": TABLE_CODE, "rows": str(n), "through": str(spec.through or ""),
            "locked": json.dumps(locked_snapshot(spec, record), ensure_ascii=False, sort_keys=True), **(meta or {})}
    data = extract(spec, grid, meta, n)
    data.formulas, data.number_formats = dict(formulas or {}), dict(formats or {})
    return spec, FileResult("x.xlsx", kind=spec.kind, data=data)
