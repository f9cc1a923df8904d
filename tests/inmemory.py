"""Returns built in memory from the seed data, as the reader hands them to rules and master."""
from __future__ import annotations

from xlperf.fill import load_projects
from xlperf.model import FileResult, IndicatorRow, ReturnData
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.spec import load_spec
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
