"""Write locked, fill-in templates (xlsxwriter) from a form spec and one registry row."""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from . import __version__
from .model import text
from .spec import FormSpec, make_ref, parse_ref

INPUT_BG = "#FFF2CC"
LABEL_BG = "#F2F2F2"
_ILLEGAL = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class FormValues:
    """Values of the input cells of one form: scalar fields by name, indicator rows by 二级指标."""
    fields: dict = field(default_factory=dict)
    indicators: dict = field(default_factory=dict)  # level2 -> list of {column name: value}
    sections: dict = field(default_factory=dict)  # section name -> list of {"标题", "内容"}
    # A1 ref -> number format code of a value as the unit typed it (a percent, a date): written back
    # with it, a number keeps its meaning (1 formatted 0% is 100%, not 1).
    formats: dict = field(default_factory=dict)


def format_source(template: str, row: dict) -> str:
    """Registry value for a locked field: a column name or a '{col}{col}' pattern."""
    if "{" not in template:
        value = row.get(template, "")
        return "" if value is None else str(value)
    return template.format(**{k: ("" if v is None else v) for k, v in row.items() if isinstance(k, str)})


def locked_values(spec: FormSpec, row: dict) -> dict[str, str]:
    return {f.name: format_source(f.source, row) for f in spec.locked_fields}


def canonical_locked(spec: FormSpec, values: dict) -> dict[str, str]:
    """Locked values as comparable text: amounts with two decimals, other text stripped."""
    from .registry import money

    out = {}
    for f in spec.locked_fields:
        v = values.get(f.name)
        if f.type == "money":
            m = money(v)
            out[f.name] = f"{m:.2f}" if m is not None else text(v)
        else:
            out[f.name] = text(v)
    return out


def locked_digest(spec: FormSpec, values: dict) -> str:
    """Digest binding the locked values to the form; recomputed from what a return holds."""
    return canonical_digest(spec, canonical_locked(spec, values))


def canonical_digest(spec: FormSpec, canon: dict[str, str]) -> str:
    """:func:`locked_digest` of values already made canonical by :func:`canonical_locked`."""
    parts = [spec.id, spec.version] + [f"{k}={canon[k]}" for k in sorted(canon)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def safe_filename(name: str, limit: int = 150) -> str:
    name = _ILLEGAL.sub("_", name).strip().strip(".")
    stem, dot, ext = name.rpartition(".")
    if len(name.encode("utf-8")) > limit and dot:
        stem = stem.encode("utf-8")[: limit - len(ext) - 1].decode("utf-8", "ignore")
        name = f"{stem}.{ext}"
    return name or "_"


def template_filename(spec: FormSpec, row: dict) -> str:
    return safe_filename(format_source(spec.file_name, row))


def generated_at() -> str:
    """ISO timestamp, fixed by SOURCE_DATE_EPOCH for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def new_password() -> str:
    return secrets.token_urlsafe(9)


class _Formats:
    """The cell formats of one workbook (xlsxwriter binds formats to a workbook)."""

    def __init__(self, wb, font: str):
        base = {"font_name": font, "font_size": 11, "valign": "vcenter", "text_wrap": True, "border": 1}
        self.label = wb.add_format({**base, "bold": True, "align": "center", "bg_color": LABEL_BG})
        self.title = wb.add_format({"font_name": font, "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"})
        self.unit = wb.add_format({"font_name": font, "font_size": 10, "align": "right", "valign": "vcenter"})
        self.unit_line = wb.add_format({"font_name": font, "font_size": 11, "align": "left", "valign": "vcenter"})
        self.locked_text = wb.add_format({**base, "align": "left"})
        self.locked_money = wb.add_format({**base, "align": "right", "num_format": "0.00"})
        inp = {**base, "locked": False, "bg_color": INPUT_BG}
        self.input_text = wb.add_format({**inp, "align": "left"})
        self.input_center = wb.add_format({**inp, "align": "center"})
        self.input_percent = wb.add_format({**inp, "align": "center", "num_format": '0.00"%"'})
        self.group = wb.add_format({**base, "bold": True, "align": "center"})
        self.plain = wb.add_format({"font_name": font, "font_size": 11, "text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"font_name": font, "font_size": 11, "bold": True, "valign": "top"})
        self.head = wb.add_format({"font_name": font, "font_size": 14, "bold": True})
        self.cell = wb.add_format({**base, "align": "left", "valign": "top"})
        self._wb, self._inp, self._variants = wb, inp, {}

    def input_with(self, align: str, num_format: str):
        """An input cell format carrying a returned value's own number format (made once per workbook)."""
        key = (align, num_format)
        if key not in self._variants:
            self._variants[key] = self._wb.add_format({**self._inp, "align": align, "num_format": num_format})
        return self._variants[key]


def write_text(ws, row: int, col: int, value: str, fmt=None) -> None:
    """Write text as text. xlsxwriter copies a string that starts with <r> and ends with </r> into
    sharedStrings.xml unescaped (it takes it for rich-string XML of its own), so such a registry or unit
    text could inject XML into the workbook: it is written as a rich string of plain runs instead, which
    xlsxwriter escapes; the cell's value is the same text."""
    if value.startswith("<r>") and value.endswith("</r>"):
        ws.write_rich_string(row, col, value[:1], value[1:2], value[2:], *([fmt] if fmt is not None else []))
    else:
        ws.write_string(row, col, value, fmt)


def _put(ws, ref: str, merge: str, value, fmt):
    """Write one value (text always as a string, never a formula) into a cell or merged range."""
    if merge and merge.split(":")[0] != merge.split(":")[-1]:
        (r1, c1), (r2, c2) = (parse_ref(x) for x in merge.split(":"))
        ws.merge_range(r1, c1, r2, c2, "", fmt)
    r, c = parse_ref(ref)
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(r, c, value, fmt)
    else:
        write_text(ws, r, c, str(value), fmt)


_DATE_FORMAT = {"datetime": "yyyy-mm-dd hh:mm:ss", "date": "yyyy-mm-dd", "time": "hh:mm:ss"}


def _put_input(ws, ref: str, merge: str, value, fmt, formats: _Formats, align: str, num_format: str = ""):
    """Write a unit's value with its type: numbers and dates stay numbers and dates, in the number format
    they were typed with, so the template reads back exactly as the return did."""
    import datetime as dt

    if isinstance(value, bool):  # TRUE/FALSE typed into a cell: back as the same boolean
        if merge and merge.split(":")[0] != merge.split(":")[-1]:
            _put(ws, ref, merge, "", fmt)
        r, c = parse_ref(ref)
        ws.write_boolean(r, c, value, fmt)
        return
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        kind = "datetime" if isinstance(value, dt.datetime) else ("date" if isinstance(value, dt.date) else "time")
        style = formats.input_with(align, num_format or _DATE_FORMAT[kind])
        if merge and merge.split(":")[0] != merge.split(":")[-1]:
            _put(ws, ref, merge, "", style)
        r, c = parse_ref(ref)
        ws.write_datetime(r, c, value, style)
        return
    if isinstance(value, dt.timedelta):
        value = value.total_seconds() / 86400  # a duration is a number of days to a spreadsheet
        num_format = num_format or "[h]:mm:ss"
    if num_format and isinstance(value, (int, float)):
        fmt = formats.input_with(align, num_format)
    _put(ws, ref, merge, value, fmt)


def _number_or_text(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _list_ref(spec: FormSpec, col: int, n: int) -> str:
    letter = chr(65 + col)
    return f"='{spec.lists_sheet}'!${letter}$1:${letter}${n}"


def write_lists(wb, spec: FormSpec) -> dict[str, str]:
    """Dropdown sources on a hidden sheet: WPS and Excel cap inline lists at 255 characters."""
    lists: dict[str, tuple[str, ...]] = {}
    for f in spec.fields:
        if f.choices:
            lists[f.name] = f.choices
    for c in spec.columns:
        if c.suggest or c.choices:  # a suggestion list (targets) or the allowed values (table forms)
            lists[c.name] = c.suggest or c.choices
    refs = {}
    if not lists:
        return refs
    ws = wb.add_worksheet(spec.lists_sheet)
    for col, (name, items) in enumerate(lists.items()):
        for i, item in enumerate(items):
            write_text(ws, i, col, item)
        refs[name] = _list_ref(spec, col, len(items))
    ws.hide()
    return refs


def _validation_for_field(f, lists: dict[str, str]) -> dict | None:
    title = f.name[:32]
    if f.type == "percent":
        return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                "input_title": title, "input_message": f.prompt[:255],
                "error_title": "数值超出范围", "error_message": "请填写 0–100 之间的数字（百分比）。"}
    if f.choices:
        return {"validate": "list", "source": lists[f.name], "input_title": title,
                "input_message": f.prompt[:255], "error_title": "请从列表选择",
                "error_message": "只能填写：" + "、".join(f.choices)}
    if f.prompt:
        v = {"validate": "any", "input_title": title, "input_message": f.prompt[:255]}
        if f.max_length:
            v = {"validate": "length", "criteria": "<=", "value": f.max_length, "input_title": title,
                 "input_message": f.prompt[:255], "error_title": "内容过长",
                 "error_message": f"不超过 {f.max_length} 个字。"}
        return v
    return None


def _validation_for_column(c, lists: dict[str, str]) -> dict:
    title = c.name[:32]
    if c.suggest:
        # "information" lets an office type its own basis: the list is a suggestion.
        return {"validate": "list", "source": lists[c.name], "error_type": "information",
                "input_title": title, "input_message": c.prompt[:255],
                "error_title": "不在列表中", "error_message": "不在推荐列表中，确认使用本单位的依据吗？"}
    if c.max_length and c.type != "indicator_value":
        return {"validate": "length", "criteria": "<=", "value": c.max_length, "input_title": title,
                "input_message": c.prompt[:255], "error_title": "内容过长",
                "error_message": f"不超过 {c.max_length} 个字。"}
    return {"validate": "any", "input_title": title, "input_message": c.prompt[:255]}


def _write_form_sheet(wb, ws, spec: FormSpec, row: dict, values: FormValues, slots: int, fmt: _Formats, lists):
    for i, w in enumerate(spec.widths):
        ws.set_column(i, i, w)
    for lb in spec.labels:
        style = {"title": fmt.title, "unit": fmt.unit}.get(lb.style, fmt.label)
        _put(ws, lb.cell, lb.merge, lb.text.format(title=spec.title), style)
    locked = locked_values(spec, row)
    heights: dict[int, float] = {}  # row -> height that shows every text of the row, on screen and printed
    for f in spec.fields:
        r, c = parse_ref(f.cell)
        width = sum(spec.widths[parse_ref(f.merge.split(":")[0])[1]:parse_ref(f.merge.split(":")[-1])[1] + 1]) if f.merge else spec.widths[c]
        if f.height:
            v = values.fields.get(f.name, "")
            heights[r] = max(heights.get(r, 0), _text_height(str(v), width, f.height) if v else f.height)
        elif f.locked and f.type != "money" and f.style != "unit_line" and _lines(locked[f.name], width) > 1:
            # a long project name wraps; without the row height it prints cut to its first line
            heights[r] = max(heights.get(r, 0), _text_height(locked[f.name], width, base=0))
        if f.locked:
            style = fmt.locked_money if f.type == "money" else (fmt.unit_line if f.style == "unit_line" else fmt.locked_text)
            value = _number_or_text(locked[f.name]) if f.type == "money" else locked[f.name]
            _put(ws, f.cell, f.merge, value, style)
            continue
        value = values.fields.get(f.name, f.default or row.get(f.name) or "")
        style = fmt.input_percent if f.type == "percent" else (fmt.input_center if f.choices else fmt.input_text)
        if f.type == "percent" and isinstance(value, str):
            value = _number_or_text(value)
        align = "center" if f.type == "percent" or f.choices else "left"
        _put_input(ws, f.cell, f.merge, value, style, fmt, align, values.formats.get(f.cell, ""))
        v = _validation_for_field(f, lists)
        if v:
            target = f.merge or f.cell
            ws.data_validation(target.split(":")[0] + ":" + target.split(":")[-1], v)
    for r, h in heights.items():
        ws.set_row(r, h)
    if spec.groups:
        _write_indicator_table(ws, spec, values, slots, fmt, lists)
    for sec in spec.sections:
        _write_section(ws, spec, sec, values, fmt)


def _write_indicator_table(ws, spec: FormSpec, values: FormValues, slots: int, fmt: _Formats, lists):
    hr = spec.header_row - 1
    for i, h in enumerate(spec.headers):
        write_text(ws, hr, i, h, fmt.label)
    rows = spec.slot_rows(slots)
    c1, c2 = (parse_ref(spec.level1_col + "1")[1], parse_ref(spec.level2_col + "1")[1])
    for g in spec.groups:
        g_rows = [s.row0 for s in rows if s.level1 == g.name]
        _merge_or_write(ws, g_rows[0], g_rows[-1], c1, g.name, fmt.group)
        for l2 in g.level2:
            l2_rows = [s.row0 for s in rows if s.level2 == l2.name]
            _merge_or_write(ws, l2_rows[0], l2_rows[-1], c2, l2.name, fmt.group)
    by_l2: dict[str, list] = {}
    col_idx = [(col, parse_ref(col.col + "1")[1]) for col in spec.columns]  # once, not once per slot
    for s in rows:
        filled = values.indicators.get(s.level2, [])
        item = filled[s.index] if s.index < len(filled) else {}
        by_l2.setdefault(s.level2, []).append(s.row0)
        for col, cc in col_idx:
            v = item.get(col.name, "")
            if v is None or v == "":
                ws.write_blank(s.row0, cc, None, fmt.input_text)
            elif v.__class__ is str:
                write_text(ws, s.row0, cc, v, fmt.input_text)
            else:  # a number or a date as the unit typed it (a feedback workbook)
                ref = make_ref(s.row0, cc)
                _put_input(ws, ref, "", v, fmt.input_text, fmt, "left",
                           values.formats.get(ref, ""))
    first, last = rows[0].row0, rows[-1].row0
    for col in spec.columns:
        cc = parse_ref(col.col + "1")[1]
        ws.data_validation(first, cc, last, cc, _validation_for_column(col, lists))


def _merge_or_write(ws, r1, r2, c, text, fmt):
    if r2 > r1:
        ws.merge_range(r1, c, r2, c, text, fmt)
    else:
        write_text(ws, r1, c, text, fmt)


def _write_section(ws, spec, sec, values: FormValues, fmt: _Formats):
    items = values.sections.get(sec.name, [])
    tc, xc = parse_ref(sec.title_col + "1")[1], parse_ref(sec.text_col + "1")[1]
    end = parse_ref(sec.text_merge_to + "1")[1]
    for i in range(sec.slots):
        r = sec.first_row - 1 + i
        item = items[i] if i < len(items) else {}
        write_text(ws, r, 0, f"（{_CN_NUM[i] if i < len(_CN_NUM) else i + 1}）", fmt.label) if tc != 0 else None
        title = item.get("标题", "")
        write_text(ws, r, tc, title, fmt.input_text) if title else ws.write_blank(r, tc, None, fmt.input_text)
        text = item.get("内容", "")
        if end > xc:
            ws.merge_range(r, xc, r, end, "", fmt.input_text)
        write_text(ws, r, xc, text, fmt.input_text) if text else ws.write_blank(r, xc, None, fmt.input_text)
        ws.set_row(r, _text_height(text, sum(spec.widths[xc:end + 1]), base=90))
    ws.data_validation(sec.first_row - 1, xc, sec.first_row - 2 + sec.slots, xc,
                       {"validate": "any", "input_title": sec.name[:32], "input_message": f"{sec.name}：每行一项，左侧填标题，右侧填内容。"})


_CN_NUM = "一二三四五六七八九十"


def _lines(text: str, width_chars: int) -> int:
    """Lines a wrapped text takes in a cell `width_chars` wide (CJK characters count two columns)."""
    per_line = max(4, int(width_chars * 0.9))  # a CJK glyph is a little over two columns, and cells have padding
    return sum(max(1, -(-sum(2 if ord(ch) > 0x2E7F else 1 for ch in part) // per_line))
               for part in (text or "").splitlines() or [""])


def _text_height(text: str, width_chars: int, base: int = 60) -> int:
    """Row height (points) that shows a prefilled text: spreadsheets never auto-fit merged cells."""
    return max(base, min(409, 15 * _lines(text, width_chars) + 6))


def _page_setup(ws, spec: FormSpec, slots: int):
    last_col = len(spec.widths) - 1
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_area(0, 0, spec.last_row(slots) - 1, last_col)
    if spec.header_row:
        ws.repeat_rows(spec.header_row - 1)
    ws.freeze_panes(3, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _write_meta(wb, spec: FormSpec, row: dict, slots: int, extra: dict, password: str):
    ws = wb.add_worksheet(spec.meta_sheet)
    locked = locked_values(spec, row)
    meta = {
        "form_id": spec.id,
        "form_version": spec.version,
        "kind": spec.kind,
        "year": str(spec.year),
        "unit_code": str(row.get("单位编码", "")),
        "project_code": str(row.get(spec.key, "")) if spec.kind == "project" else "",
        "slots": str(slots),
        "locked_digest": locked_digest(spec, locked),
        "tool_version": __version__,
        "generated_at": generated_at(),
        **{k: str(v) for k, v in extra.items()},
    }
    for i, (k, v) in enumerate(meta.items()):
        write_text(ws, i, 0, k)
        write_text(ws, i, 1, v)
    ws.protect(password)
    ws.very_hidden()


def _write_guide(wb, spec: FormSpec, fmt: _Formats):
    from .guide import guide_lines

    ws = wb.add_worksheet(spec.guide_sheet)
    ws.set_column(0, 0, 100)
    ws.set_paper(9)  # A4, one page wide: the long lines wrap instead of running onto a second page
    ws.fit_to_pages(1, 0)
    for i, (kind, line) in enumerate(guide_lines(spec)):
        write_text(ws, i, 0, line, {"h": fmt.head, "b": fmt.bold}.get(kind, fmt.plain))
    ws.protect()


def write_template(spec: FormSpec, row: dict, target, *, password: str, slots: int | None = None,
                   values: FormValues | None = None, meta_extra: dict | None = None,
                   notes: dict | None = None, problems: list | None = None) -> None:
    """Write one template to `target` (a path or a binary file object).

    `notes` (A1 ref -> text) highlight cells with a comment and `problems` (rows of
    问题清单) add a sheet: together they make the feedback workbook sent back to a unit.
    """
    slots = slots or spec.slots
    wb, fmt, problems_ws, ws = open_form_workbook(spec, target, problems)
    _write_guide(wb, spec, fmt)
    lists = write_lists(wb, spec)
    _write_form_sheet(wb, ws, spec, row, values or FormValues(), slots, fmt, lists)
    _page_setup(ws, spec, slots)
    finish_form_sheet(wb, ws, fmt, password, notes, problems_ws, problems)
    _write_meta(wb, spec, row, slots, meta_extra or {}, password)
    wb.close()


def open_form_workbook(spec: FormSpec, target, problems: list | None):
    """(workbook, formats, 问题清单 sheet or None, form sheet) of a new template or feedback workbook."""
    wb = xlsxwriter.Workbook(target, {"in_memory": True})
    _set_properties(wb, spec)
    fmt = _Formats(wb, spec.font)
    # The problem list is the first tab and opens first: it is what the unit reads before anything else.
    problems_ws = wb.add_worksheet(PROBLEMS_SHEET) if problems else None
    return wb, fmt, problems_ws, wb.add_worksheet(spec.sheet)


def finish_form_sheet(wb, ws, fmt: "_Formats", password: str, notes: dict | None, problems_ws, problems: list | None):
    """Mark the noted cells, lock the form sheet, and put the 问题清单 first when there is one (feedback)."""
    if notes:
        _highlight(wb, ws, notes)
    ws.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True, "format_rows": True})
    if problems_ws is not None:
        _write_problems(problems_ws, problems, fmt)
    else:
        ws.activate()


def _highlight(wb, ws, notes: dict) -> None:
    """Red fill (a conditional format, so cell values and merges stay as written) plus a comment."""
    red = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    for ref, note in notes.items():
        ws.conditional_format(ref, {"type": "formula", "criteria": "=TRUE", "format": red})
        if note:  # an empty note shades a cell that belongs to a marked row, without a comment of its own
            ws.write_comment(ref, note[:2000], {"x_scale": 2.5, "y_scale": 2, "author": "xlperf"})


PROBLEMS_SHEET = "问题清单"
# Column widths of the 问题清单 (characters); the message column takes what an A4 landscape page leaves.
_PROBLEM_WIDTHS = {"代码": 7, "级别": 6, "工作表": 16, "单元格": 9}
_MESSAGE_WIDTH = 88


def _write_problems(ws, problems: list, fmt: _Formats) -> None:
    """One row per issue, printed on A4 landscape one page wide, the header repeated on every page."""
    cols = list(problems[0].keys())
    widths = [_PROBLEM_WIDTHS.get(c, _MESSAGE_WIDTH) for c in cols]
    for ci, c in enumerate(cols):
        write_text(ws, 0, ci, c, fmt.label)
        ws.set_column(ci, ci, widths[ci])
    for ri, p in enumerate(problems, start=1):
        lines = 1
        for ci, c in enumerate(cols):
            v = str(p.get(c, ""))
            write_text(ws, ri, ci, v, fmt.cell)
            lines = max(lines, _lines(v, widths[ci]))
        if lines > 1:  # spreadsheets do not grow a row for wrapped text they did not type themselves
            ws.set_row(ri, 15 * lines + 4)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(0)
    ws.freeze_panes(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.activate()
    ws.set_first_sheet()


def _set_properties(wb, spec: FormSpec):
    props = {"title": spec.title, "comments": f"{spec.id} {spec.version}"}
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        import datetime as dt

        props["created"] = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    wb.set_properties(props)


def template_bytes(spec: FormSpec, row: dict, **kw) -> bytes:
    buf = io.BytesIO()
    write_template(spec, row, buf, **kw)
    return buf.getvalue()


def unit_rows(rows: list[dict]) -> list[dict]:
    """One row per unit of the registry, in first-seen order (for the unit-level form)."""
    seen: dict[str, dict] = {}
    for r in rows:
        seen.setdefault(r["单位编码"], r)
    return list(seen.values())


def unit_folder(row: dict) -> str:
    """The folder of one unit's templates: {单位编码}_{单位名称}, ready to zip and mail."""
    return safe_filename(f"{row.get('单位编码', '')}_{row.get('单位名称', '')}")


def generate(spec: FormSpec, rows: list[dict], out_dir: Path, *, password: str, slots: int | None = None,
             prefill: dict[str, FormValues] | None = None, progress=None, jobs: int = 1,
             per_unit: bool = False) -> list[Path]:
    """One template per registry row; returns the written paths in registry order.

    *per_unit* puts each template into its unit's folder under *out_dir* (see unit_folder).
    With jobs > 1 (and enough rows to pay for starting them) templates are written by that many
    processes: xlsxwriter is pure Python, ~5 ms a template, so one core makes ~200 a second.
    Each file appears complete or not at all, also when the run is interrupted.
    """
    from .atomic import atomic_path

    out_dir.mkdir(parents=True, exist_ok=True)
    if jobs > 1 and len(rows) >= 50 * jobs:
        return _generate_parallel(spec, rows, out_dir, password, slots, prefill, progress, jobs, per_unit)
    from .template_patch import fast_template

    paths = []
    for row in rows:
        folder = out_dir / unit_folder(row) if per_unit else out_dir
        path = folder / template_filename(spec, row)
        values = (prefill or {}).get(row.get(spec.key, ""))
        # Without prefilled values a template is the form's skeleton with the row's cells patched in
        # (template_patch); None means this one needs xlsxwriter.
        data = None if values else fast_template(spec, row, password=password, slots=slots)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            if data is not None:
                fh.write(data)
            else:
                write_template(spec, row, fh, password=password, slots=slots, values=values)
        paths.append(path)
        if progress:
            progress()
    return paths


def _generate_chunk(spec: FormSpec, rows: list[dict], out_dir: Path, password: str, slots: int | None,
                    prefill: dict | None, per_unit: bool) -> list[Path]:
    return generate(spec, rows, out_dir, password=password, slots=slots, prefill=prefill, per_unit=per_unit)


def _generate_parallel(spec, rows, out_dir, password, slots, prefill, progress, jobs, per_unit) -> list[Path]:
    """generate() over chunks of rows in `jobs` processes (forkserver: safe beside a progress thread)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    size = max(1, min(100, -(-len(rows) // (jobs * 4))))
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
    paths: list[Path] = []
    with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        futures = [pool.submit(_generate_chunk, spec, chunk, out_dir, password, slots,
                               {r.get(spec.key, ""): prefill[r.get(spec.key, "")] for r in chunk
                                if r.get(spec.key, "") in prefill} if prefill else None, per_unit)
                   for chunk in chunks]
        for fut, chunk in zip(futures, chunks):
            paths += fut.result()
            for _ in chunk if progress else ():
                progress()
    return paths


def zip_unit_folders(out_dir: Path, folders: list[Path]) -> list[Path]:
    """One .zip per unit folder, beside it, holding that folder's templates (never the password)."""
    import zipfile

    from .atomic import atomic_path

    written = []
    for folder in folders:
        target = out_dir / f"{folder.name}.zip"
        with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(folder.iterdir()):
                if f.is_file() and f.suffix.lower() == ".xlsx":
                    zf.write(f, f"{folder.name}/{f.name}")
        written.append(target)
    return written
