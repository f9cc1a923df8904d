"""Publish the master of a later round (monitoring, self-evaluation): one document per unit, from its spec."""
from __future__ import annotations

from pathlib import Path

from .atomic import atomic_path
from .model import text
from .spec import FormSpec, bundled_specs

# Columns a published table never shows: where a row came from, and the classification flag itself.
UNPUBLISHED = {"单位编码", "单位名称", "来源文件", "来源工作表", "来源单元格", "年度", "来源汇总表"}


def master_spec(sheet_names: list[str]) -> FormSpec | None:
    """The table form whose declared master sheets a workbook has (None: a targets master or none)."""
    for spec in bundled_specs():
        if spec.engine == "table" and spec.masters and all(m["sheet"] in sheet_names for m in spec.masters):
            return spec
    return None


def read_round_master(path: Path, spec: FormSpec) -> dict[str, list[dict]]:
    from python_calamine import CalamineWorkbook

    from .publish import PublishError

    try:
        wb = CalamineWorkbook.from_path(str(path))
        out = {}
        for name in [m["sheet"] for m in spec.masters] + ["未报送", "概览"]:
            rows = wb.get_sheet_by_name(name).to_python() if name in wb.sheet_names else []
            head = [str(h) for h in rows[0]] if rows else []
            out[name] = [dict(zip(head, r)) for r in rows[1:]]
    except Exception as exc:  # calamine has several error types; the message names the file
        raise PublishError("publish_unreadable", path=path, error=type(exc).__name__) from exc
    return out


def _secret(spec: FormSpec) -> tuple[str, str]:
    """The classification field and the value that marks a classified project (its first choice)."""
    item = spec.role("secret")
    return (item.name, item.choices[0]) if item is not None and item.choices else ("", "\0")


def publish_round(spec: FormSpec, master_path: Path, out: Path, pdf: bool = True, unit: str | None = None,
                  allow_incomplete: bool = False, year: str | int | None = None):
    """One document per unit: the per-project summary table, then each project's rows (classified: 涉密)."""
    from .publish import TOTAL_ROW, Gap, PublishError, UnitContent, publish_units
    from .writer import safe_filename

    master = read_round_master(master_path, spec)
    per_return = next(m for m in spec.masters if m.get("per") != "row")
    per_row = next((m for m in spec.masters if m.get("per") == "row"), None)
    projects = master[per_return["sheet"]]
    round_year = str(year) if year else next((text(p.get("年度")) for p in projects if text(p.get("年度"))), "")
    if not round_year:
        raise PublishError("publish_no_year", path=master_path)
    units: dict[str, UnitContent] = {}
    names = {text(r.get("单位编码")): text(r.get("单位名称")) for r in master["概览"]}
    for p in projects:
        code = text(p.get("单位编码"))
        units.setdefault(code, UnitContent(code, names.get(code, ""))).projects.append(p)
    for r in master["未报送"]:
        code = text(r.get("单位编码"))
        units.setdefault(code, UnitContent(code, text(r.get("单位名称")))).gaps.append(
            Gap("project", text(r.get("项目编码")), text(r.get("项目名称")), text(r.get("情况")), r))
    for r in master[per_row["sheet"]] if per_row else ():
        for u in units.values():
            if any(text(p.get("项目编码")) == text(r.get("项目编码")) for p in u.projects):
                u.indicators.setdefault(text(r.get("项目编码")), []).append(r)
                break
    chosen = sorted((u for k, u in units.items() if k and k != TOTAL_ROW), key=lambda u: u.code)
    title = f"{{name}}{round_year}年{spec.round_name}结果"
    # a sheet's `published` columns, when it declares them: the rest are there for the unit tree
    summary = per_return.get("published", per_return["columns"])
    details = per_row.get("published", per_row["columns"]) if per_row else []
    return publish_units(chosen, master_path, out, round_year, unit, allow_incomplete, pdf,
                         name=lambda u: safe_filename(f"{u.code}_{u.name}_{round_year}年{spec.round_name}结果.docx"),
                         write=lambda u, target: _write(spec, u, title.format(name=u.name), summary, details, target))


def _write(spec: FormSpec, u, title: str, summary_cols: list, row_cols: list, target: Path) -> None:
    import docx

    from .publish import _fixed_core, normalise_zip
    from .publish_doc import GAP, SECRET, _para, _set_cell, apply_styles

    doc = docx.Document()
    apply_styles(doc)
    _landscape(doc)
    doc.add_heading(title, level=0)
    secret, classified = _secret(spec)
    shown = [c for c in summary_cols if c not in UNPUBLISHED and c != secret]
    doc.add_heading(f"一、{spec.round_name}汇总", level=1)
    _para(doc, f"共 {len(u.projects) + len(u.gaps)} 个项目" + (f"（其中 {len(u.gaps)} 个未报送）" if u.gaps else "") + "。")
    table = doc.add_table(rows=1 + len(u.projects) + len(u.gaps), cols=len(shown))
    table.style = "Table Grid"
    _widths(table, shown)
    for ci, c in enumerate(shown):
        _set_cell(table.cell(0, ci), c, bold=True, center=True)
    entries = sorted([(text(p.get("项目编码")), p, False) for p in u.projects] +
                     [(g.code, g.row, True) for g in u.gaps], key=lambda e: e[0])
    for ri, (code, p, gap) in enumerate(entries, start=1):
        for ci, c in enumerate(shown):
            value = p.get(c) if not gap or c in ("项目编码", "项目名称") else (GAP if ci == 2 else "")
            _set_cell(table.cell(ri, ci), _shown(c, value))
    row_shown = [c for c in row_cols if c not in UNPUBLISHED and c not in ("项目编码", "项目名称")]
    if row_shown:
        doc.add_heading("二、项目明细", level=1)
        for n, (code, p, gap) in enumerate(entries, start=1):
            doc.add_heading(f"（{n}）{text(p.get('项目名称'))}", level=2)
            if gap:
                _para(doc, GAP)
                continue
            if text(p.get(secret)) == classified:  # a classified project: nothing beyond its name and amounts
                _para(doc, SECRET)
                continue
            rows = u.indicators.get(code, [])
            t = doc.add_table(rows=1 + len(rows), cols=len(row_shown))
            t.style = "Table Grid"
            _widths(t, row_shown)
            for ci, c in enumerate(row_shown):
                _set_cell(t.cell(0, ci), c, bold=True, center=True)
            for ri, r in enumerate(rows, start=1):
                for ci, c in enumerate(row_shown):
                    _set_cell(t.cell(ri, ci), _shown(c, r.get(c)))
    _fixed_core(doc, title)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        doc.save(str(tmp))
        normalise_zip(tmp)


TEXT_WIDTH_CM = 24.0  # A4 landscape less the margins
WIDE_COLUMNS = {"项目编码": 5.2, "项目名称": 3.6, "三级指标": 3.6, "偏差原因分析及改进措施": 4.0, "原因说明": 3.6}


def _landscape(doc) -> None:
    """A4 landscape: the summary has a dozen columns, and a 21-character code must not break."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.2)


def _widths(table, columns: list[str]) -> None:
    """Wide columns for codes and texts, the rest share what is left (fixed layout: Word, WPS, LibreOffice)."""
    from docx.shared import Cm

    wide = sum(WIDE_COLUMNS.get(c, 0) for c in columns)
    narrow = [c for c in columns if c not in WIDE_COLUMNS]
    rest = max(1.2, (TEXT_WIDTH_CM - wide) / len(narrow)) if narrow else 0
    table.autofit = False
    for column, cells in zip(columns, table.columns):
        width = Cm(WIDE_COLUMNS.get(column, rest))
        cells.width = width
        for cell in cells.cells:
            cell.width = width


def _shown(column: str, value) -> str:
    """A master value as the document prints it: rates as percentages, amounts with two decimals."""
    from .checks import fmt_number, fmt_percent
    from .cycle_master import SHARE_SUFFIXES

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_percent(value) if column.endswith(SHARE_SUFFIXES) else fmt_number(value)
    return text(value)
