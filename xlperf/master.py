"""Build the master tables from accepted returns and write them as xlsx, CSV and Parquet."""
from __future__ import annotations

import csv
import heapq
import io
import os
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from .atomic import atomic_path
from .collection import META_SHEET, VIA_COLUMN
from .pipeline import Report
from .report import ISSUE_COLUMNS
from .registry import Registry, money
from .rules import parse_value, text
from .sheet_xml import LazyRows, splice_rows
from .spec import DEFAULT_FORM, UNIT_FORM, load_spec
from .values import QUALITATIVE

SHEETS = ("项目汇总", "绩效指标", "问题清单", "未报送", "概览", "部门整体目标")
EXCEL_MAX_ROWS = 1_048_576
WIDTH_SAMPLE = 200  # rows a column's width is worked out from
# The master's columns are the targets form's fields and indicator columns, found by their role
# (docs/forms.md): the names come from templates/project.toml, the order is the master's own (a contract).
TARGETS = load_spec(DEFAULT_FORM)
UNIT_TARGETS = load_spec(UNIT_FORM)
(KEY, NAME, UNIT, BUDGET, FISCAL, OTHER_FUNDS, USE_OF_FUNDS, SECRET, GOAL, INDICATOR, DESCRIPTION, TARGET,
 BASIS) = (TARGETS.role_name(r) for r in ("key", "name", "unit", "budget", "fiscal", "other_funds", "use_of_funds",
                                          "secret", "goal", "indicator", "description", "target", "basis"))
PLAN = tuple(f.name for f in TARGETS.roles("plan"))
RAW_TARGET = f"原始{TARGET}"  # the target as typed, beside its parsed 计算符号 / value / 计量单位
BUDGET_TOTAL, ACCEPTED_BUDGET = f"{BUDGET}合计", f"已通过{BUDGET}"
PROJECT_COLUMNS = ["单位编码", "单位名称", KEY, NAME, BUDGET, FISCAL, OTHER_FUNDS, USE_OF_FUNDS,
                   *PLAN, SECRET, GOAL, "指标数", "提示数", "来源文件", "来源工作表", "来源单元格", "年度",
                   VIA_COLUMN]
INDICATOR_COLUMNS = [KEY, NAME, "一级指标", "二级指标", INDICATOR, DESCRIPTION, "计算符号", TARGET,
                     "计量单位", BASIS, SECRET, RAW_TARGET, "来源文件", "来源工作表", "来源单元格",
                     VIA_COLUMN]
MISSING_COLUMNS = ["单位编码", "单位名称", KEY, NAME, BUDGET, "情况", "来源文件"]
UNIT_COLUMNS = ["单位编码", "单位名称", "部分", "序号", "标题", "内容", "来源文件", "来源工作表", "来源单元格",
                VIA_COLUMN]
OVERVIEW_COLUMNS = ["单位编码", "单位名称", "项目数", "已通过", "已退回", "未报送", BUDGET_TOTAL, ACCEPTED_BUDGET]
MONEY_COLS = {BUDGET, FISCAL, OTHER_FUNDS, BUDGET_TOTAL, ACCEPTED_BUDGET}
PERCENT_COLS = set(PLAN)
_MONEY_COLS, _PERCENT_COLS = MONEY_COLS, PERCENT_COLS


def _f(v) -> float | None:
    m = money(v)
    return float(m) if m is not None else None


def _registry_value(reg: dict, name: str):
    """A targets field's value in a registry row: the registry column its `source` names."""
    return reg[TARGETS.field(name).source]


def _plan_numbers(data) -> list:
    """The spending plan as numbers 0–100 (a cell typed as 25% counts as 25), as validation read it."""
    from .rules import _percent_values

    formats = [data.number_formats.get(data.refs.get(p, ""), "") for p in PLAN]
    return _percent_values([data.fields.get(p) for p in PLAN], formats)


def project_rows(report: Report) -> list[dict]:
    rows = []
    for res in sorted((r for r in report.accepted if r.kind == "project"), key=_project_order):
        d = res.data
        f = d.fields
        unit_code, unit_name = d.meta.get("unit_code", ""), text(f.get(UNIT))
        if unit_name.startswith(unit_code):
            unit_name = unit_name[len(unit_code):]
        row = {"单位编码": unit_code, "单位名称": unit_name, KEY: text(f.get(KEY)),
               NAME: text(f.get(NAME)), BUDGET: _f(f.get(BUDGET)), FISCAL: _f(f.get(FISCAL)),
               OTHER_FUNDS: _f(f.get(OTHER_FUNDS)), USE_OF_FUNDS: text(f.get(USE_OF_FUNDS))}
        for p, n in zip(PLAN, _plan_numbers(d)):
            row[p] = None if n is None else n / 100
        row.update({SECRET: text(f.get(SECRET)) or _not_secret(), GOAL: text(f.get(GOAL)),
                    "指标数": len(d.indicators), "提示数": len(res.warnings), "来源文件": res.path,
                    "来源工作表": d.sheet, "来源单元格": d.refs.get(KEY, ""),
                    "年度": text(d.meta.get("year")), VIA_COLUMN: ""})
        if d.origin:  # a sub-master's row: the original return's place as that master recorded it
            o = d.origin
            row.update({"来源文件": o["file"], "来源工作表": o["file_sheet"], "来源单元格": o["file_cell"],
                        VIA_COLUMN: _via(res.path, o)})
        rows.append(row)
    return rows


def _project_order(res) -> tuple:
    """Where a return's row goes in 项目汇总: by unit, then project code."""
    return res.data.meta.get("unit_code", ""), text(res.data.fields.get(KEY))


def indicator_rows(report: Report) -> list[dict]:
    rows = []
    for res in sorted(report.accepted, key=lambda r: r.project_code):
        if res.kind != "project":
            continue
        d = res.data
        secret = text(d.fields.get(SECRET)) or _not_secret()
        origins = d.origin.get("indicators", []) if d.origin else []
        for k, ir in enumerate(d.indicators):
            v = ir.values
            raw = v.get(TARGET)
            pr = parse_value(raw, number_format=d.number_formats.get(ir.refs.get(TARGET, ""), ""))
            symbol, value, unit = indicator_row_value(pr, raw)
            refs = list(ir.refs.values())
            rows.append({KEY: text(d.fields.get(KEY)), NAME: text(d.fields.get(NAME)),
                         "一级指标": ir.level1, "二级指标": ir.level2, INDICATOR: text(v.get(INDICATOR)),
                         DESCRIPTION: text(v.get(DESCRIPTION)), "计算符号": symbol, TARGET: value,
                         "计量单位": unit, BASIS: text(v.get(BASIS)), SECRET: secret,
                         RAW_TARGET: text(raw), "来源文件": res.path, "来源工作表": d.sheet,
                         "来源单元格": f"{refs[0]}:{refs[-1]}", VIA_COLUMN: ""})
            if d.origin:
                file, sheet, cell = origins[k] if k < len(origins) else ("", "", "")
                rows[-1].update({"来源文件": file, "来源工作表": sheet, "来源单元格": cell,
                                 VIA_COLUMN: _via(res.path, d.origin)})
    return rows


def _not_secret() -> str:
    """What an empty 涉密 cell counts as in the master: the choice that is not secret (the last)."""
    return TARGETS.role("secret").choices[-1]


def _via(path: str, origin: dict) -> str:
    """The sub-master a row came through; a chain when that master had it from one of its own."""
    return f"{path} > {origin['via']}" if origin.get("via") else path


def indicator_row_value(pr, raw) -> tuple:
    """(计算符号, 指标值, 计量单位) of the master's indicator row, from the parsed cell and its raw value."""
    iv = pr.value
    if iv is None:
        return "", text(raw), ""
    if iv.symbol == QUALITATIVE:
        return QUALITATIVE, iv.text, ""
    return iv.symbol, iv.number, iv.unit


def issue_rows(report: Report, lang: str = "zh") -> list[dict]:
    """The 问题清单 sheet: the report's own flat rendering."""
    return report.flatten(lang)


def missing_rows(report: Report, registry: Registry) -> list[dict]:
    accepted = {r.project_code for r in report.accepted if r.kind == "project"}
    rejected = defaultdict(list)
    for r in report.files:
        if r.status == "rejected" and r.project_code:
            rejected[r.project_code].append(r.path)
    rows = []
    for reg in registry.rows:
        code = _registry_value(reg, KEY)
        if code in accepted:
            continue
        state = "已退回" if code in rejected else "未报送"
        rows.append({"单位编码": reg["单位编码"], "单位名称": reg["单位名称"], KEY: code,
                     NAME: _registry_value(reg, NAME), BUDGET: float(_registry_value(reg, BUDGET)), "情况": state,
                     "来源文件": "；".join(rejected.get(code, []))})
    return rows


def overview_rows(report: Report, registry: Registry) -> list[dict]:
    accepted = {r.project_code for r in report.accepted if r.kind == "project"}
    rejected = {r.project_code for r in report.files if r.status == "rejected" and r.project_code}
    units: dict[str, dict] = {}
    for reg in registry.rows:
        u = units.setdefault(reg["单位编码"], {"单位编码": reg["单位编码"], "单位名称": reg["单位名称"], "项目数": 0,
                                              "已通过": 0, "已退回": 0, "未报送": 0, BUDGET_TOTAL: Decimal(0),
                                              ACCEPTED_BUDGET: Decimal(0)})
        code = _registry_value(reg, KEY)
        u["项目数"] += 1
        u[BUDGET_TOTAL] += _registry_value(reg, BUDGET)
        if code in accepted:
            u["已通过"] += 1
            u[ACCEPTED_BUDGET] += _registry_value(reg, BUDGET)
        elif code in rejected:
            u["已退回"] += 1
        else:
            u["未报送"] += 1
    rows = [units[k] for k in sorted(units)]
    total = {"单位编码": "合计", "单位名称": ""}
    for c in OVERVIEW_COLUMNS[2:]:
        total[c] = sum((r[c] for r in rows), Decimal(0) if c in MONEY_COLS else 0)
    rows.append(total)
    for r in rows:
        for c in MONEY_COLS & set(r):
            r[c] = float(r[c])
    return rows


def unit_rows(report: Report, registry: Registry) -> list[dict]:
    """Part 1 (部门整体绩效目标) from accepted unit-level forms, one row per paragraph item."""
    names = registry.units
    rows = []
    for res in sorted(report.accepted, key=lambda r: r.project_code):
        if res.kind != "unit":
            continue
        d = res.data
        code = d.meta.get("unit_code", "")
        base = {"单位编码": code, "单位名称": names.get(code, ""), "来源文件": res.path, "来源工作表": d.sheet,
                VIA_COLUMN: ""}
        start = len(rows)
        for part in (f.name for f in UNIT_TARGETS.input_fields):
            if text(d.fields.get(part)):
                rows.append({**base, "部分": part, "序号": 0, "标题": "", "内容": text(d.fields.get(part)),
                             "来源单元格": d.refs.get(part, "")})
        for sec, items in d.sections.items():
            for i, item in enumerate(items, start=1):
                rows.append({**base, "部分": sec, "序号": i, "标题": item["标题"], "内容": item["内容"],
                             "来源单元格": item["ref"]})
        if d.origin:  # a sub-master's unit: each row's original place as that master recorded it
            for row in rows[start:]:
                file, sheet, cell = d.origin["parts"].get((row["部分"], row["序号"]), ("", "", ""))
                row.update({"来源文件": file, "来源工作表": sheet, "来源单元格": cell, VIA_COLUMN: _via(res.path, d.origin)})
    return rows


def round_year(report: Report) -> str:
    """The round's budget year: the one the returns were checked against, else the year most accepted
    returns carry in their metadata ("" when none does)."""
    from .pipeline import majority_year

    year = report.year or majority_year(report.accepted)
    return str(year) if year else ""


def master_title(year: str) -> str:
    """The master's document title, with the round's year when known."""
    return f"{year}年{TARGETS.round_name}汇总" if year else f"{TARGETS.round_name}汇总"


def build_tables(report: Report, registry: Registry, lang: str = "zh") -> dict[str, tuple[list, list]]:
    """Sheet name -> (columns, rows). Sheet names are a contract (docs: README, the master workbook)."""
    return {name: (cols, list(rows)) for name, (cols, rows) in lazy_tables(report, registry, lang).items()}


def lazy_tables(report: Report, registry: Registry, lang: str = "zh") -> dict[str, tuple[list, list]]:
    """The tables of :func:`build_tables`; the three that grow with the round are :class:`LazyRows`, built
    when written (the biggest by the child process that writes its sheet)."""
    projects = [r for r in report.accepted if r.kind == "project"]
    by_code = sorted(projects, key=lambda r: r.project_code)  # the indicator sheet's order
    return {
        "项目汇总": (PROJECT_COLUMNS, LazyRows(
            len(projects), project_rows(Report(heapq.nsmallest(WIDTH_SAMPLE, projects, key=_project_order))),
            lambda: project_rows(report))),
        "绩效指标": (INDICATOR_COLUMNS, LazyRows(
            sum(len(r.data.indicators) for r in projects),
            indicator_rows(Report(_first_with(by_code, lambda r: len(r.data.indicators))))[:WIDTH_SAMPLE],
            lambda: indicator_rows(report))),
        "问题清单": (ISSUE_COLUMNS, LazyRows(
            sum(len(r.issues) for r in report.files),
            Report(_first_with(report.files, lambda r: len(r.issues))).flatten(lang)[:WIDTH_SAMPLE],
            lambda: report.flatten(lang))),
        "未报送": (MISSING_COLUMNS, missing_rows(report, registry)),
        "概览": (OVERVIEW_COLUMNS, overview_rows(report, registry)),
        "部门整体目标": (UNIT_COLUMNS, unit_rows(report, registry)),
    }


def _first_with(items: list, rows_of) -> list:
    """The first *items* that make at least WIDTH_SAMPLE rows between them (all of them if they make fewer)."""
    total = 0
    for i, item in enumerate(items):
        total += rows_of(item)
        if total >= WIDTH_SAMPLE:
            return items[:i + 1]
    return items


# ---------------------------------------------------------------- writers ------
# Long free-text columns wrap at a capped width so a printed page stays readable; provenance
# columns (来源…) stay on screen but out of the print area: the print fits one page wide.
WRAP_COLS = {NAME, USE_OF_FUNDS, GOAL, INDICATOR, DESCRIPTION, BASIS, "说明", "内容", "标题",
             RAW_TARGET, "单位名称", "情况"}
WRAP_WIDTH = 24
TRAILING_UNPRINTED = {"来源文件", "来源工作表", "来源单元格", "年度", VIA_COLUMN}  # (年度 is in every page header)
_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


def _display_len(v) -> int:
    """Width in Excel character units: CJK and full-width characters count two, capitals and digits
    a little over one (a 21-character project code needs ~24 units)."""
    s = str(v or "")
    return len(s) + len(_WIDE.findall(s)) + sum(1 for ch in s if ch.isupper() or ch.isdigit()) // 7


def _width(col: str, rows: list) -> int:
    sample = [_display_len(col) + 2] + [_display_len(r.get(col)) + 1 for r in rows[:WIDTH_SAMPLE]]
    cap = WRAP_WIDTH if col in WRAP_COLS else 60
    return max(8, min(cap, max(sample)))


def _print_setup(ws, name: str, cols: list, n_rows: int, title: str) -> None:
    """A4 landscape, one page wide, header row repeated, page numbers: the sheet prints as a report."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(0)
    last = len(cols)
    while last > 1 and cols[last - 1] in TRAILING_UNPRINTED:
        last -= 1
    if last < len(cols):  # 概览 has no trailing provenance, so its area stays open and its chart prints too
        ws.print_area(0, 0, max(1, min(n_rows, EXCEL_MAX_ROWS - 1)), last - 1)
    ws.set_header(f"&L{_hf(title)}&R{_hf(name)}")
    ws.set_footer("&C第 &P 页，共 &N 页")


def _hf(s: str) -> str:
    """Literal text in a header/footer: & starts a code there."""
    return s.replace("&", "&&")


def write_xlsx(path: Path, tables: dict, title: str = master_title(""), meta: dict | None = None, chart=None,
               money_cols: set | None = None, percent_cols: set | None = None) -> None:
    """Write the master with xlsxwriter: strings as strings, numbers as numbers, never a formula.

    xlsxwriter lays out the workbook (formats, widths, frozen headers, filters, the 概览 chart); the data
    rows of the table sheets are then streamed into their sheet XML (sheet_xml.splice_rows) at ~1 µs a cell
    instead of ~5 µs through xlsxwriter's cell API: 10,000 returns make ~2 million cells.
    """
    import xlsxwriter

    from .writer import write_text

    MONEY_COLS = money_cols if money_cols is not None else _MONEY_COLS  # noqa: N806  (the table's own columns)
    PERCENT_COLS = percent_cols if percent_cols is not None else _PERCENT_COLS  # noqa: N806
    fast: dict[str, tuple[list, list]] = {}  # sheet XML part -> (columns, rows) streamed in after close
    with atomic_path(path) as tmp:
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False, "strings_to_numbers": False})
        _props(wb, title)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
        fmt_money = wb.add_format({"num_format": "#,##0.00"})
        fmt_pct = wb.add_format({"num_format": "0.00%"})
        fmt_num = wb.add_format({"num_format": "General"})
        fmt_wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        for name, (cols, rows) in tables.items():
            ws = wb.add_worksheet(name)
            for ci, c in enumerate(cols):
                fmt = fmt_money if c in MONEY_COLS else fmt_pct if c in PERCENT_COLS else \
                    fmt_wrap if c in WRAP_COLS else None
                ws.set_column(ci, ci, _width(c, rows), fmt)
                ws.write_string(0, ci, c, head)
            rows_here = rows if len(rows) < EXCEL_MAX_ROWS else rows[: EXCEL_MAX_ROWS - 1]
            if name != "概览":  # the chart caches the 概览 cells, so xlsxwriter writes that sheet's rows
                fast[f"xl/worksheets/sheet{ws.index + 1}.xml"] = (cols, rows_here)
                rows_here = []
            for ri, row in enumerate(rows_here, start=1):
                for ci, c in enumerate(cols):
                    v = row.get(c)
                    if v is None or v == "":
                        continue
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        fmt = fmt_money if c in MONEY_COLS else fmt_pct if c in PERCENT_COLS else fmt_num
                        ws.write_number(ri, ci, v, fmt)
                    else:
                        write_text(ws, ri, ci, str(v), fmt_wrap if c in WRAP_COLS else None)
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(1, min(len(rows), EXCEL_MAX_ROWS - 1)), len(cols) - 1)
            _print_setup(ws, name, cols, len(rows), title)
            if name == "概览" and rows:
                (chart or _chart)(wb, ws, len(rows) - 1)
        if meta:  # after the tables: their sheet numbers, which splice_rows relies on, stay as they were
            ws = wb.add_worksheet(META_SHEET)
            for i, (k, v) in enumerate(meta.items()):
                write_text(ws, i, 0, k)
                write_text(ws, i, 1, str(v))
            ws.very_hidden()
        wb.close()
        styles = {c: fmt_money.xf_index or 0 for c in MONEY_COLS} | {c: fmt_pct.xf_index or 0 for c in PERCENT_COLS} \
            | {c: fmt_wrap.xf_index or 0 for c in WRAP_COLS}
        splice_rows(buf.getvalue(), tmp, fast, styles)


def _props(wb, title: str) -> None:
    props = {"title": title}
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        import datetime as dt

        props["created"] = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    wb.set_properties(props)


def _chart(wb, ws, n_units: int) -> None:
    """A native column chart of accepted / rejected / missing per unit (not the total row)."""
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    name = ws.get_name()
    for col, label in ((3, "已通过"), (4, "已退回"), (5, "未报送")):
        chart.add_series({"name": [name, 0, col], "categories": [name, 1, 1, max(1, n_units), 1],
                          "values": [name, 1, col, max(1, n_units), col]})
    chart.set_title({"name": "报送情况"})
    chart.set_y_axis({"name": "项目数", "min": 0})  # else LibreOffice (and Excel) may start at 12 of 15
    ws.insert_chart(n_units + 3, 0, chart, {"x_scale": 1.4, "y_scale": 1.2})


_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(v):
    """OWASP CSV injection: text a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(v, str) and v.startswith(_DANGEROUS):
        return "'" + v
    return v


def write_csv(path: Path, cols: list, rows: list) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else csv_safe(r.get(c)) for c in cols])


def write_parquet(path: Path, cols: list, rows: list) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for c in cols:
        vals = [r.get(c) for r in rows]
        kinds = {type(v) for v in vals if v is not None}
        if kinds and kinds <= {int, float} and c != TARGET:
            arrays[c] = pa.array([None if v is None else float(v) if float in kinds else v for v in vals])
        else:
            arrays[c] = pa.array([None if v is None else str(v) for v in vals], type=pa.string())
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(arrays), tmp, compression="zstd")


def write_master(out: Path, report: Report, registry: Registry, formats: tuple[str, ...] = ("xlsx",),
                 lang: str = "zh") -> dict:
    """Write the master in the formats asked for; returns what was written and the totals."""
    from .pipeline import gc_frozen

    with gc_frozen():  # the report is long-lived: no GC pass walks it again and again while the tables grow
        return _write_master(out, report, registry, formats, lang)


def _write_master(out: Path, report: Report, registry: Registry, formats: tuple[str, ...], lang: str) -> dict:
    from . import cycle_master

    spec = cycle_master.round_spec(report)
    if spec is not None:  # a later round (monitoring, self-evaluation): the sheets its spec declares
        tables = cycle_master.build_round_tables(spec, report, registry, lang)
    else:
        tables = lazy_tables(report, registry, lang)
    written = []
    too_big = any(len(rows) >= EXCEL_MAX_ROWS for _c, rows in tables.values())
    if "xlsx" in formats and spec is not None:
        from .collection import master_meta

        chart_column = next((d["chart"] for d in spec.masters if d.get("chart")), "")
        year = round_year(report)
        write_xlsx(out, tables, f"{year}年{spec.round_name}汇总" if year else f"{spec.round_name}汇总",
                   master_meta(report, registry, tables),
                   chart=cycle_master.chart(chart_column) if chart_column else None,
                   money_cols=cycle_master.money_columns(spec, tables), percent_cols=cycle_master.share_columns(tables))
        written.append(str(out))
    elif "xlsx" in formats:
        from .collection import master_meta

        write_xlsx(out, tables, master_title(round_year(report)), master_meta(report, registry, tables))
        written.append(str(out))
    extra = list(f for f in formats if f in ("csv", "parquet"))
    if too_big:
        extra = sorted(set(extra) | {"csv", "parquet"})
    for fmt in extra:
        for name, (cols, rows) in tables.items():
            p = out.with_name(f"{out.stem}_{name}.{fmt}")
            (write_csv if fmt == "csv" else write_parquet)(p, cols, rows)
            written.append(str(p))
    if spec is not None:
        return {"written": written, **cycle_master.round_info(spec, tables), "truncated_xlsx": too_big}
    projects = tables["项目汇总"][1]
    total = sum((money(r[BUDGET]) or Decimal(0) for r in projects), Decimal(0))
    return {"written": written, "projects": len(projects), "indicators": len(tables["绩效指标"][1]),
            "budget_total": f"{total:.2f}", "missing": len(tables["未报送"][1]), "truncated_xlsx": too_big}
