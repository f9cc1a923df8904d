"""Fill a generated template the way a sub-unit does: openpyxl, input cells only, then save."""
from __future__ import annotations

import json
from pathlib import Path

from .spec import FormSpec, data_dir, load_spec, make_ref, parse_ref


def load_projects(path: Path | None = None) -> dict:
    """The bundled seed content (workbooks/projects.json): project code -> filled table."""
    path = path or data_dir("workbooks") / "projects.json"
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    key = load_spec().role_name("key")
    return {p[key]: p for p in data["projects"]}


def load_unit(path: Path | None = None) -> dict:
    path = path or data_dir("workbooks") / "unit.json"
    return json.loads(Path(path).read_text(encoding="utf-8"))


def input_cells(spec: FormSpec, project: dict, slots: int | None = None) -> dict[str, object]:
    """A1 ref -> value for every input cell the project's content fills."""
    cells: dict[str, object] = {}
    for f in spec.input_fields:
        if f.group:  # the seed nests a group's fields under the group's name
            v = project.get(f.group, {}).get(f.name)
        elif f.role == "secret":  # a flag in the seed; the form's choices are (yes, no)
            v = f.choices[0] if project.get(f.name) else f.choices[-1]
        else:
            v = project.get(f.name)
        if v not in (None, ""):
            cells[f.cell] = v
    by_l2: dict[str, list] = {}
    for ind in project.get("indicators", []):
        by_l2.setdefault(ind["二级指标"], []).append(ind)
    for s in spec.slot_rows(slots):
        items = by_l2.get(s.level2, [])
        if s.index < len(items):
            for c in spec.columns:
                v = items[s.index].get(c.name)
                if v not in (None, ""):
                    cells[make_ref(s.row0, parse_ref(c.col + "1")[1])] = v
    for sec in spec.sections:
        for i, item in enumerate(project.get(sec.name, [])[: sec.slots]):
            cells[f"{sec.title_col}{sec.first_row + i}"] = item.get("标题", "")
            cells[f"{sec.text_col}{sec.first_row + i}"] = item.get("内容", "")
    return cells


def fill_workbook(template: Path, out: Path, cells: dict[str, object], sheet: str) -> list[str]:
    """Write `cells` into the unlocked cells of `sheet` with openpyxl; returns refs it refused (locked)."""
    import openpyxl

    wb = openpyxl.load_workbook(template)
    ws = wb[sheet]
    refused = []
    for ref, value in cells.items():
        cell = ws[ref]
        if cell.protection.locked:
            refused.append(ref)
            continue
        cell.value = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return refused


def template_slots(template: Path, spec: FormSpec) -> int:
    """Indicator rows per 二级指标 of a generated template, from its metadata sheet."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(template))
    if spec.meta_sheet in wb.sheet_names:
        for row in wb.get_sheet_by_name(spec.meta_sheet).to_python():
            if len(row) > 1 and row[0] == "slots" and str(row[1]).isdigit():
                return int(row[1])
    return spec.slots


def fill_project(template: Path, out: Path, project: dict, spec: FormSpec | None = None) -> list[str]:
    spec = spec or load_spec()
    return fill_workbook(template, out, input_cells(spec, project, template_slots(template, spec)), spec.sheet)
