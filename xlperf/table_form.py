"""Table forms (engine = "table"): fixed cells above one row per prefilled record; layout, writer, reader."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .model import IndicatorRow, ReturnData, text
from .spec import FormSpec, make_ref, parse_ref
from .writer import (FormValues, _Formats, _put, _put_input, _text_height, _validation_for_field, finish_form_sheet,
                     format_source, generated_at, open_form_workbook, write_lists, write_text)

ROWS_KEY = "rows"  # FormValues.indicators[ROWS_KEY]: a table form's row values, in order


@dataclass
class Record:
    """What one template is made from: the project's values (registry + targets master) and its rows."""
    values: dict  # source column -> value (registry row merged with the targets master's project row)
    rows: list = field(default_factory=list)  # one dict per table row: source column -> value

    @property
    def key(self) -> str:
        return text(self.values.get("项目编码"))


# ------------------------------------------------------------------ layout ----
def col0(col: str) -> int:
    return parse_ref(col + "1")[1]


def header_text(spec: FormSpec, column) -> str:
    return spec.fill_text(column.label or column.name)


def total_row(spec: FormSpec, n_rows: int) -> int:
    """1-based row of the total line under the table (0: the form has none)."""
    return spec.first_row + n_rows if spec.total_label else 0


def last_row(spec: FormSpec, n_rows: int) -> int:
    """1-based last row the form uses: the table's end, else the lowest fixed cell or label."""
    fixed = max(parse_ref((x.merge or x.cell).split(":")[-1])[0] + 1 for x in (*spec.labels, *spec.fields))
    if not spec.header_row:
        return fixed
    return max(fixed, total_row(spec, n_rows) or spec.first_row + n_rows - 1)


def expected_labels(spec: FormSpec, n_rows: int) -> list[tuple[str, str]]:
    """(A1 ref, text) of every fixed text: labels, the table header, the total line."""
    out = [(lb.cell, spec.fill_text(lb.text)) for lb in spec.labels]
    out += [(make_ref(spec.header_row - 1, col0(c.col)), header_text(spec, c)) for c in spec.columns]
    if spec.total_label:
        out.append((f"A{total_row(spec, n_rows)}", spec.total_label))
    return out


def expected_merges(spec: FormSpec, n_rows: int) -> list[str]:
    out = [x.merge for x in (*spec.labels, *spec.fields) if x.merge]
    if spec.total_label:
        points = spec.role("points")
        end = col0(points.col) - 1 if points else 0
        if end > 0:
            out.append(f"A{total_row(spec, n_rows)}:{make_ref(total_row(spec, n_rows) - 1, end)}")
    return out


def row_refs(spec: FormSpec, n_rows: int) -> list[dict]:
    """Per table row: column name -> A1 ref."""
    return [{c.name: make_ref(spec.first_row - 1 + i, col0(c.col)) for c in spec.columns} for i in range(n_rows)]


def total_refs(spec: FormSpec, n_rows: int) -> dict:
    """Column name -> A1 ref on the total line, for the points and the typed score."""
    if not spec.total_label:
        return {}
    r = total_row(spec, n_rows) - 1
    return {c.name: make_ref(r, col0(c.col)) for c in spec.columns if c.role in ("points", "typed_score")}


def input_refs(spec: FormSpec, n_rows: int) -> list[str]:
    refs = [f.cell for f in spec.input_fields]
    for row in row_refs(spec, n_rows):
        refs += [row[c.name] for c in spec.columns if not c.locked]
    refs += [ref for name, ref in total_refs(spec, n_rows).items() if not spec.column(name).locked]
    return refs


# ---------------------------------------------------------------- prefill -----
def constant(spec: FormSpec, source: str):
    """A source written "=scoring.funds_points" (a value of the spec itself) or "=0" (a number)."""
    table, _, key = source[1:].partition(".")
    if not key:
        try:
            return float(table)
        except ValueError:
            return table
    return getattr(spec, table, {}).get(key, "") if table == "scoring" else ""


def source_value(spec: FormSpec, source: str, values: dict):
    """A locked cell's value: a constant, a column of the record, or a '{col}{col}' pattern."""
    return constant(spec, source) if source.startswith("=") else format_source(source, values)


def locked_field_values(spec: FormSpec, record: Record) -> dict:
    """Field name -> the value written into each locked cell (amounts as numbers, the rest as text)."""
    out = {}
    for f in spec.locked_fields:
        value = source_value(spec, f.source, record.values)
        if text(value) == "" and f.fallback:
            value = source_value(spec, f.fallback, record.values)
        out[f.name] = _number(value) if f.type in ("money", "number") else text(value)
    return out


def locked_row_values(spec: FormSpec, record: Record) -> list[dict]:
    return [{c.name: text(row.get(c.source)) for c in spec.columns if c.locked} for row in record.rows]


def locked_snapshot(spec: FormSpec, record: Record) -> dict:
    """A1 ref -> the text of every locked value, kept in the metadata: a changed cell is found by its ref."""
    snap = {spec.field(name).cell: canon(v) for name, v in locked_field_values(spec, record).items()}
    for refs, values in zip(row_refs(spec, len(record.rows)), locked_row_values(spec, record)):
        snap.update({refs[name]: canon(v) for name, v in values.items()})
    return snap


def canon(value) -> str:
    """A locked value as comparable text: numbers to 6 decimals without trailing zeros, text stripped."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out = f"{float(value):.6f}".rstrip("0").rstrip(".")
        return "0" if out in ("-0", "") else out
    return text(value)


def _number(value):
    """An amount as a number when it reads as one (the registry hands over Decimal or text)."""
    if value is None or value == "":
        return ""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def snapshot_digest(spec: FormSpec, snapshot: dict) -> str:
    parts = [spec.id, spec.version] + [f"{k}={snapshot[k]}" for k in sorted(snapshot)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


# ----------------------------------------------------------------- writer -----
def _column_validation(column, lists: dict) -> dict:
    title = column.name[:32]
    if column.choices:
        return {"validate": "list", "source": lists[column.name], "input_title": title,
                "input_message": column.prompt[:255], "error_title": "请从列表选择",
                "error_message": "只能填写：" + "、".join(column.choices)}
    if column.type == "number":
        return {"validate": "decimal", "criteria": ">=", "value": 0, "input_title": title,
                "input_message": column.prompt[:255], "error_title": "请填写数字", "error_message": "请填写不小于 0 的数字。"}
    if column.max_length:
        return {"validate": "length", "criteria": "<=", "value": column.max_length, "input_title": title,
                "input_message": column.prompt[:255], "error_title": "内容过长",
                "error_message": f"不超过 {column.max_length} 个字。"}
    return {"validate": "any", "input_title": title, "input_message": column.prompt[:255]}


def _field_style(f, fmt: _Formats):
    if f.locked:
        return fmt.locked_money if f.type in ("money", "number") else fmt.locked_text
    if f.type == "percent":
        return fmt.input_with("center", "0.00%")
    if f.type in ("money", "number"):
        return fmt.input_with("right", "0.00")
    return fmt.input_center if f.choices else fmt.input_text


def write_table_template(spec: FormSpec, record: Record, target, *, password: str, values: FormValues | None = None,
                         default_points: list | None = None, meta_extra: dict | None = None,
                         notes: dict | None = None, problems: list | None = None) -> None:
    """One table-form workbook: the form sheet, 填报说明, dropdown lists, metadata (and feedback extras)."""
    values = values or FormValues()
    n_rows = len(record.rows)
    wb, fmt, problems_ws, ws = open_form_workbook(spec, target, problems)
    _write_guide(wb, spec, fmt)
    lists = write_lists(wb, spec)
    for i, w in enumerate(spec.widths):
        ws.set_column(i, i, w)
    for lb in spec.labels:
        style = {"title": fmt.title, "unit": fmt.unit, "unit_line": fmt.unit_line}.get(lb.style, fmt.label)
        _put(ws, lb.cell, lb.merge, spec.fill_text(lb.text), style)
    locked = locked_field_values(spec, record)
    heights: dict[int, float] = {}
    for f in spec.fields:
        r, c = parse_ref(f.cell)
        width = _merged_width(spec, f.merge) if f.merge else spec.widths[c]
        value = locked[f.name] if f.locked else values.fields.get(f.name, "")
        if f.height:
            heights[r] = max(heights.get(r, 0), _text_height(text(value), width, f.height))
        if f.locked:
            _put(ws, f.cell, f.merge, value, _field_style(f, fmt))
            continue
        align = "center" if f.type == "percent" or f.choices else ("right" if f.type in ("money", "number") else "left")
        _put_input(ws, f.cell, f.merge, value, _field_style(f, fmt), fmt, align, values.formats.get(f.cell, ""))
        v = _field_validation(f, lists)
        if v:
            target_range = f.merge or f.cell
            ws.data_validation(target_range.split(":")[0] + ":" + target_range.split(":")[-1], v)
    for r, h in heights.items():
        ws.set_row(r, h)
    _write_table(ws, spec, record, values, default_points or [], fmt, lists, locked)
    _page_setup(ws, spec, n_rows)
    finish_form_sheet(wb, ws, fmt, password, notes, problems_ws, problems)
    _write_meta(wb, spec, record, meta_extra or {}, password)
    wb.close()


def _merged_width(spec: FormSpec, merge: str) -> int:
    first, last = (parse_ref(x)[1] for x in merge.split(":"))
    return sum(spec.widths[first:last + 1])


def _field_validation(f, lists: dict) -> dict | None:
    if f.type in ("money", "number"):
        return {"validate": "decimal", "criteria": ">=", "value": 0, "input_title": f.name[:32],
                "input_message": f.prompt[:255], "error_title": "请填写数字", "error_message": "请填写不小于 0 的数字（万元）。"}
    if f.type == "percent":
        return {"validate": "any", "input_title": f.name[:32], "input_message": f.prompt[:255]}
    return _validation_for_field(f, lists)


def _write_table(ws, spec: FormSpec, record: Record, values: FormValues, default_points: list, fmt: _Formats, lists,
                 locked: dict):
    if not spec.header_row:  # a form of fixed cells only
        return
    hr = spec.header_row - 1
    for c in spec.columns:
        write_text(ws, hr, col0(c.col), header_text(spec, c), fmt.label)
    typed_rows = values.indicators.get(ROWS_KEY, [])
    locked_rows = locked_row_values(spec, record)
    points_col = spec.role("points")
    written_points: list = []  # the 分值 of each row as written (typed back in a feedback workbook, else the default)
    first = spec.first_row - 1
    for i, row_locked in enumerate(locked_rows):
        r = first + i
        typed = typed_rows[i] if i < len(typed_rows) else {}
        for c in spec.columns:
            cc = col0(c.col)
            if c.locked:
                write_text(ws, r, cc, row_locked[c.name], fmt.locked_text)
                continue
            value = typed.get(c.name, "")
            if value in (None, "") and points_col is not None and c.name == points_col.name and i < len(default_points):
                value = default_points[i]
            if points_col is not None and c.name == points_col.name:
                written_points.append(value)
            style = fmt.input_with("right", "0.00") if c.type == "number" else (
                fmt.input_center if c.choices else fmt.input_text)
            if value is None or value == "":
                ws.write_blank(r, cc, None, style)
            elif value.__class__ is str:
                write_text(ws, r, cc, value, style)
            else:
                ref = make_ref(r, cc)
                _put_input(ws, ref, "", value, style, fmt, "left", values.formats.get(ref, ""))
    n_rows = len(locked_rows)
    if n_rows:
        for c in spec.columns:
            if not c.locked:
                cc = col0(c.col)
                ws.data_validation(first, cc, first + n_rows - 1, cc, _column_validation(c, lists))
    if spec.total_label:
        tr = total_row(spec, n_rows) - 1
        end = col0(points_col.col) - 1 if points_col else 0
        if end > 0:
            ws.merge_range(tr, 0, tr, end, spec.total_label, fmt.label)
        else:
            write_text(ws, tr, 0, spec.total_label, fmt.label)
        for name, ref in total_refs(spec, n_rows).items():
            column = spec.column(name)
            r, c = parse_ref(ref)
            typed = values.fields.get(f"{spec.total_label}{name}", "")
            if column.role == "points":
                # The total of the points as a live formula (the rows plus the fixed cells the sum check
                # adds), so a unit that moves points between rows sees whether they still make 100.
                plus = [spec.field(n).cell for n in _plus_names(spec, name)]
                rows_sum = f"SUM({make_ref(first, c)}:{make_ref(first + max(n_rows, 1) - 1, c)})"
                # the value shown until the sheet is recalculated (LibreOffice shows it as stored)
                cached = sum(_as_float(p) for p in written_points) + sum(
                    _as_float(locked.get(n, 0)) for n in _plus_names(spec, name))
                ws.write_formula(r, c, "=" + "+".join([rows_sum, *plus]), fmt.locked_money, cached)
            else:
                style = fmt.input_with("right", "0.00")
                _put_input(ws, ref, "", typed, style, fmt, "right", values.formats.get(ref, ""))


def _as_float(value) -> float:
    """A number a sum can take: what is not one (empty, text) counts 0, as in a spreadsheet's SUM."""
    if isinstance(value, bool):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _plus_names(spec: FormSpec, column: str) -> list[str]:
    return [name for check in spec.checks if check.get("kind") == "sum" and check.get("column") == column
            for name in check.get("plus", ())]


def _page_setup(ws, spec: FormSpec, n_rows: int):
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.print_area(0, 0, last_row(spec, n_rows) - 1, len(spec.widths) - 1)
    if spec.header_row:
        ws.repeat_rows(spec.header_row - 1)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _write_guide(wb, spec: FormSpec, fmt: _Formats):
    ws = wb.add_worksheet(spec.guide_sheet)
    ws.set_column(0, 0, 100)
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    for i, (kind, line) in enumerate(guide_lines(spec)):
        write_text(ws, i, 0, line, {"h": fmt.head, "b": fmt.bold}.get(kind, fmt.plain))
    ws.protect()


def guide_lines(spec: FormSpec) -> list[tuple[str, str]]:
    """The 填报说明 of a table form, from its spec: what to fill, what gets a form returned."""
    out = [("h", f"{spec.title} 填报说明（{spec.year} 年度）"), ("p", "")]
    locked = "、".join([f.name for f in spec.locked_fields] + [c.name for c in spec.columns if c.locked])
    out.append(("p", f"1. 只填写浅黄色底纹的单元格；其他内容（{locked}）来自已批复的绩效目标，已锁定，请勿修改。"))
    out.append(("p", "2. 不要插入、删除行或拆分合并单元格，不要更改工作表名称，不要删除隐藏的工作表。"))
    out.append(("p", f"3. 文件名可以修改，系统按表内的{spec.key}识别报表。"))
    out.append(("p", ""))
    out.append(("b", "需要填写的内容："))
    for f in spec.input_fields:
        out.append(("p", f"· {f.name}{'（必填）' if f.required else ''}：{f.prompt}"))
    for c in spec.columns:
        if not c.locked:
            out.append(("p", f"· {header_text(spec, c)}{'（必填）' if c.required else ''}：{c.prompt}"))
    if spec.examples:
        out.append(("p", ""))
        out.append(("b", "完成值的写法（示例）："))
        out.append(("p", "    " + "、".join(spec.examples)))
    return out


def _write_meta(wb, spec: FormSpec, record: Record, extra: dict, password: str):
    ws = wb.add_worksheet(spec.meta_sheet)
    snapshot = locked_snapshot(spec, record)
    meta = {
        "form_id": spec.id,
        "form_version": spec.version,
        "kind": spec.kind,
        "round": spec.round,
        "year": str(spec.year),
        "unit_code": text(record.values.get("单位编码")),
        "project_code": record.key,
        "rows": str(len(record.rows)),
        "through": str(spec.through or ""),
        "locked_digest": snapshot_digest(spec, snapshot),
        "locked": json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
        "tool_version": __version__,
        "generated_at": generated_at(),
        **{k: str(v) for k, v in extra.items()},
    }
    for i, (k, v) in enumerate(meta.items()):
        write_text(ws, i, 0, k)
        write_text(ws, i, 1, v[:32000])
    ws.protect(password)
    ws.very_hidden()


# ----------------------------------------------------------------- reader -----
def with_meta(spec: FormSpec, meta: dict) -> FormSpec:
    """The spec as the template was generated: the year and a monitoring round's month (in its labels) come
    from its metadata. Whether that year is the round's is checked later (E010), with its own message."""
    from dataclasses import replace

    changes = {}
    year = _meta_int(meta, "year")
    if year is not None and 1900 <= year <= 2999:
        changes["year"] = year
    through = _meta_int(meta, "through")
    if spec.through and through is not None and 1 <= through <= 12:
        changes["through"] = through
    return replace(spec, **changes) if changes else spec


def _meta_int(meta: dict, key: str) -> int | None:
    try:
        return int(meta.get(key, ""))
    except (TypeError, ValueError):
        return None


def rows_from_meta(spec: FormSpec, meta: dict) -> int | None:
    """The number of table rows the template was made with; None when the metadata says nothing usable."""
    try:
        n = int(meta.get("rows", ""))
    except ValueError:
        return None
    return n if 0 <= n <= (spec.max_rows or 1000) else None


def check_layout(spec: FormSpec, grid: list, merged: set, n_rows: int) -> tuple | None:
    """(code, ref, params) of the first label or merge that is not where the spec puts it; None if all are."""
    for ref, want in expected_labels(spec, n_rows):
        r, c = parse_ref(ref)
        found = text(grid[r][c] if r < len(grid) and c < len(grid[r]) else "")
        if found != want:
            return "E005", ref, {"expected": want, "found": found or "（空）"}
    for rng in expected_merges(spec, n_rows):
        if rng not in merged:
            return "E008", rng.split(":")[0], {"range": rng}
    return None


def _cell(grid: list, ref: str):
    r, c = parse_ref(ref)
    return grid[r][c] if r < len(grid) and c < len(grid[r]) else ""


def extract(spec: FormSpec, grid: list, meta: dict, n_rows: int) -> ReturnData:
    """The values of one table-form workbook, each with its cell."""
    fields = {f.name: _cell(grid, f.cell) for f in spec.fields}
    refs = {f.name: f.cell for f in spec.fields}
    for name, ref in total_refs(spec, n_rows).items():
        fields[f"{spec.total_label}{name}"] = _cell(grid, ref)
        refs[f"{spec.total_label}{name}"] = ref
    data = ReturnData(spec_name=Path(spec.path).stem, sheet=spec.sheet, meta=meta, fields=fields, refs=refs)
    level1, level2 = spec.role("level1"), spec.role("level2")
    for i, crefs in enumerate(row_refs(spec, n_rows)):
        vals = {name: _cell(grid, ref) for name, ref in crefs.items()}
        data.indicators.append(IndicatorRow(text(vals.get(level1.name)) if level1 else "",
                                            text(vals.get(level2.name)) if level2 else "", i,
                                            spec.first_row + i, vals, crefs))
    return data
