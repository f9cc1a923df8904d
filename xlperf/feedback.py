"""Feedback workbooks: a fresh template with the unit's values, problem cells marked, and a 问题清单 sheet."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from .atomic import atomic_path
from .model import FileResult
from .registry import Registry
from .report import cell_notes, file_rows
from .spec import load_spec, parse_ref
from .writer import FormValues, safe_filename, write_template


def _typed_formats(res: FileResult, refs: set[str]) -> dict[str, str]:
    """Number formats of the unit's numbers and dates, read again from the very bytes that were validated.

    The reader keeps the format of numeric 指标值 cells only (all validation needs); a feedback workbook
    needs every typed value's format, or a 25 % typed in the spending plan comes back as 0.25.
    """
    from .reader import scan_sheet_xml
    from .safety import Limits, read_checked

    formats = dict(res.data.number_formats)
    if not refs - formats.keys():
        return formats
    try:
        parts: dict = {}
        rej, raw, _st = read_checked(res.source, Limits.from_env(), parts)
        if rej is None and raw is not None and (not res.sha256 or hashlib.sha256(raw).hexdigest() == res.sha256):
            formats.update(scan_sheet_xml(raw, res.data.sheet, set(), refs, parts)[1])
    except Exception:  # the return moved or changed since it was validated: keep what the reader saw
        pass
    return formats


def form_values(res: FileResult) -> FormValues:
    """The unit's input values, each in the slot it was typed in, so cell references stay valid.

    Values keep their type and number format; a formula comes back as its text (never evaluated),
    so the unit sees what it typed next to the comment that explains why it is refused.
    """
    spec = load_spec(res.data.spec_name)
    d = res.data
    typed: set[str] = set()

    def value(ref: str, v):
        if ref in d.formulas:
            return d.formulas[ref]
        if v is None:
            return ""
        if not isinstance(v, str):
            typed.add(ref)
        return v

    fields = {}
    for f in spec.input_fields:
        v = value(f.cell, d.fields.get(f.name))
        if v != "":
            fields[f.name] = v
    indicators: dict[str, list] = {}
    for ir in d.indicators:
        slots = indicators.setdefault(ir.level2, [])
        while len(slots) <= ir.slot:
            slots.append({})
        slots[ir.slot] = {k: value(ir.refs.get(k, ""), v) for k, v in ir.values.items()}
    sections = {name: [{"标题": i["标题"], "内容": i["内容"]} for i in items] for name, items in d.sections.items()}
    formats = _typed_formats(res, typed) if typed else {}
    return FormValues(fields=fields, indicators=indicators, sections=sections,
                      formats={k: v for k, v in formats.items() if k in typed and v})


# Problems of a whole indicator or section row (empty where one is required, partly filled) or of the
# whole spending plan (E133: fractions and percentages mixed, reported at the first fraction): the unit
# fixes the row, not the one cell the message points at.
ROW_CODES = ("E107", "E108", "E118", "E133")


def _is_ref(cell: str) -> bool:
    try:
        parse_ref(cell)
        return True
    except ValueError:
        return False


def feedback_candidates(res: FileResult):
    """The names the feedback workbook of *res* may get, in order of preference: `{stem}_反馈.xlsx`, then
    with the project code (then a number) when another return of the batch has that stem."""
    stem = Path(res.path).stem
    yield safe_filename(f"{stem}_反馈.xlsx")
    yield safe_filename(f"{stem}_{res.project_code}_反馈.xlsx")
    for n in range(2, 10_000):
        yield safe_filename(f"{stem}_{res.project_code}_{n}_反馈.xlsx")


def feedback_name(res: FileResult, taken: set[str]) -> str:
    """The first of feedback_candidates not taken yet in this batch (and now taken)."""
    for name in feedback_candidates(res):
        if name.casefold() not in taken:  # casefold: Windows and macOS folders ignore case
            taken.add(name.casefold())
            return name
    raise RuntimeError("no free feedback file name")  # 10,000 returns of one stem and code: not a real round


def _round_spec(res: FileResult, year: int | None):
    """The return's form, for the round's year (else the year the return carries): a workbook of
    another year would be rejected again (E010) once its marked cells are fixed."""
    spec = load_spec(res.data.spec_name)
    year = year or res.data.year
    return replace(spec, year=year) if year else spec


def write_feedback(res: FileResult, registry: Registry, out_dir: Path, password: str, lang: str = "zh",
                   taken: set[str] | None = None, year: int | None = None) -> Path | None:
    """Write the feedback workbook for one rejected return; None when there is nothing to prefill.
    *year* is the round's year (default: the year the return carries)."""
    if res.data is None:
        return None
    spec = _round_spec(res, year)
    d = res.data
    row = registry.get(d.key) if spec.kind == "project" else next(
        (r for r in registry.rows if r["单位编码"] == d.meta.get("unit_code")), None)
    if row is None:
        return None
    if spec.engine == "table":
        from .table_form import input_refs as table_input_refs
        from .table_form import with_meta

        spec = with_meta(spec, d.meta)
        slots, input_refs = 0, table_input_refs(spec, len(d.indicators))
    else:
        from .reader import _input_refs, _slots_from_meta

        slots = _slots_from_meta(spec, d.meta)  # the metadata is the unit's file: never trust it unchecked
        input_refs = _input_refs(spec, slots)
    # the report's renderings of this file: its 问题清单, and a comment on each cell it names
    problems = file_rows(res, lang)
    notes = cell_notes(res, spec.sheet, lang)
    for i in res.issues:
        if i.sheet == spec.sheet and _is_ref(i.cell) and i.code in ROW_CODES:
            # the whole row is to fill in: shade all of it, the comment stays on one cell
            row_no = parse_ref(i.cell)[0]
            for ref in input_refs:
                if parse_ref(ref)[0] == row_no:
                    notes.setdefault(ref, [])
    notes = {ref: lines for ref, lines in notes.items() if _is_ref(ref)}
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / feedback_name(res, taken if taken is not None else set())
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        if spec.engine == "table":  # rebuilt from the return: its rows, the unit's entries, the original locks
            from .cycle import record_from_return, typed_values
            from .table_form import write_table_template

            write_table_template(spec, record_from_return(spec, d, registry), fh, password=password,
                                 values=typed_values(spec, d), notes={k: "\n".join(v) for k, v in notes.items()},
                                 problems=problems)
        else:
            write_template(spec, row, fh, password=password, slots=slots, values=form_values(res),
                           notes={k: "\n".join(v) for k, v in notes.items()}, problems=problems)
    return target


def wants_feedback(res: FileResult) -> bool:
    """Rejected and not set aside: a duplicate (W207) or superseded return (W208) gets none, its kept twin does."""
    return res.status == "rejected" and not any(i.severity == "skip" for i in res.issues) and not (
        res.data is not None and res.data.origin)  # a sub-master's row goes back to that master's sender, not here


def write_all_feedback(results: list, registry: Registry, out_dir: Path, password: str, lang: str = "zh",
                       year: int | None = None) -> list[Path]:
    """One feedback workbook per distinct rejected return: byte-identical copies (sent twice, kept in two
    folders) get one, for the newest copy."""
    wanted = [r for r in results if wants_feedback(r)]
    newest: dict[str, FileResult] = {}
    for r in wanted:
        if r.sha256:
            best = newest.get(r.sha256)
            if best is None or (r.mtime, r.path) > (best.mtime, best.path):
                newest[r.sha256] = r
    taken: set[str] = set()
    return [p for r in wanted if not r.sha256 or newest[r.sha256] is r
            for p in [write_feedback(r, registry, out_dir, password, lang, taken, year)] if p is not None]
