"""Feedback workbooks: a fresh template with the unit's values, problem cells marked, and a 问题清单 sheet."""
from __future__ import annotations

from pathlib import Path

from .atomic import atomic_path
from .model import FileResult
from .registry import Registry
from .spec import load_spec, parse_ref
from .writer import FormValues, safe_filename, write_template


def form_values(res: FileResult) -> FormValues:
    """The unit's input values, each in the slot it was typed in, so cell references stay valid."""
    spec = load_spec(res.data.spec_name)
    d = res.data
    fields = {f.name: d.fields.get(f.name) for f in spec.input_fields if d.fields.get(f.name) not in (None, "")}
    indicators: dict[str, list] = {}
    for ir in d.indicators:
        slots = indicators.setdefault(ir.level2, [])
        while len(slots) <= ir.slot:
            slots.append({})
        slots[ir.slot] = {k: ("" if v is None else v) for k, v in ir.values.items()}
    sections = {name: [{"标题": i["标题"], "内容": i["内容"]} for i in items] for name, items in d.sections.items()}
    return FormValues(fields=fields, indicators=indicators, sections=sections)


def _is_ref(cell: str) -> bool:
    try:
        parse_ref(cell)
        return True
    except ValueError:
        return False


def write_feedback(res: FileResult, registry: Registry, out_dir: Path, password: str, lang: str = "zh") -> Path | None:
    """Write the feedback workbook for one rejected return; None when there is nothing to prefill."""
    if res.data is None:
        return None
    spec = load_spec(res.data.spec_name)
    d = res.data
    row = registry.get(d.key) if spec.kind == "project" else next(
        (r for r in registry.rows if r["单位编码"] == d.meta.get("unit_code")), None)
    if row is None:
        return None
    notes: dict[str, list] = {}
    problems = []
    for i in res.issues:
        msg = i.message(lang)
        problems.append({"代码": i.code, "级别": {"error": "错误", "warning": "提示"}.get(i.severity, i.severity),
                         "工作表": i.sheet, "单元格": i.cell, "说明": msg})
        if i.sheet == spec.sheet and _is_ref(i.cell):
            notes.setdefault(i.cell, []).append(f"[{i.code}] {msg}")
    slots = int(d.meta.get("slots") or spec.slots)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / safe_filename(f"{Path(res.path).stem}_反馈.xlsx")
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        write_template(spec, row, fh, password=password, slots=slots, values=form_values(res),
                       notes={k: "\n".join(v) for k, v in notes.items()}, problems=problems)
    return target


def write_all_feedback(results: list, registry: Registry, out_dir: Path, password: str, lang: str = "zh") -> list[Path]:
    return [p for r in results if r.status == "rejected"
            for p in [write_feedback(r, registry, out_dir, password, lang)] if p is not None]
