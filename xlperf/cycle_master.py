"""The master of a table-form round: the sheets its spec declares, plus 问题清单, 未报送 and 概览."""
from __future__ import annotations

from decimal import Decimal

from .master import MISSING_COLUMNS, OVERVIEW_COLUMNS, missing_rows, overview_rows
from .model import text
from .registry import money
from .report import ISSUE_COLUMNS
from .spec import FormSpec, load_spec

from .collection import VIA_COLUMN

# The last one, 来源汇总表: the sub-master a row came through (xlperf.collection), empty for a direct return.
PROVENANCE = ["单位编码", "来源文件", "来源工作表", "来源单元格", "年度", VIA_COLUMN]
# What the checks compute as shares (0.85 = 85 %): shown as percentages in the master.
SHARE_SUFFIXES = ("率", "进度")


def round_spec(report) -> FormSpec | None:
    """The table form a report's accepted returns were made from (None for the targets round)."""
    names = {r.data.spec_name for r in report.accepted if r.data is not None}
    for name in sorted(names):
        spec = load_spec(name)
        if spec.engine == "table":
            return spec
    return None


def _value(name: str, data, computed: dict, row=None, row_computed: dict | None = None):
    """A master column's value: what xlperf computed first (never the typed score), then the cells."""
    if row_computed and name in row_computed:
        return row_computed[name]
    if name in computed:
        return computed[name]
    if row is not None and name in row.values:
        return _cell(row.values.get(name))
    return _cell(data.fields.get(name))


def _cell(value):
    if isinstance(value, bool) or value is None:
        return text(value)
    if isinstance(value, (int, float)):
        return float(value)
    m = money(value) if isinstance(value, str) and value.strip() else None
    return float(m) if m is not None else text(value)


def _provenance(res, ref: str, row: int | None = None) -> dict:
    """Where a master row came from; for a record of a sub-master, the original return's place as that master
    recorded it (per table row when *row* is given) and the sub-master itself."""
    from .master import _via

    data = res.data
    out = {"单位编码": text(data.meta.get("unit_code")), "来源文件": res.path, "来源工作表": data.sheet,
           "来源单元格": ref, "年度": text(data.meta.get("year")), VIA_COLUMN: ""}
    o = data.origin
    if o:
        rows = o.get("indicators", [])
        file, sheet, cell = (rows[row] if row is not None and row < len(rows) else
                             ("", "", "") if row is not None else (o["file"], o["file_sheet"], o["file_cell"]))
        out.update({"来源文件": file, "来源工作表": sheet, "来源单元格": cell, VIA_COLUMN: _via(res.path, o)})
    return out


def _as_entered(spec: FormSpec, data, row, name: str, value):
    """A number typed into a percent cell (0.96 shown as 96%) as the text the unit saw: the master has no
    cell formats, and a sub-master read back must give the same value to score."""
    from .values import format_number

    column = spec.column(name) if any(c.name == name for c in spec.columns) else None
    if (column is None or column.type != "indicator_value" or isinstance(value, bool)
            or not isinstance(value, (int, float)) or "%" not in data.number_formats.get(row.refs.get(name, ""), "")):
        return value
    return f"{format_number(round(value * 100, 10))}%"


def declared_tables(spec: FormSpec, report) -> dict[str, tuple[list, list]]:
    """Sheet name -> (columns, rows) for each [[master]] table of the spec."""
    accepted = sorted((r for r in report.accepted if r.data is not None and r.data.spec_name == _stem(spec)),
                      key=lambda r: (text(r.data.meta.get("unit_code")), r.project_code))
    tables = {}
    for declared in spec.masters:
        cols = list(declared["columns"])
        rows = []
        for res in accepted:
            data = res.data
            if declared.get("per") == "row":
                for k, (row, extra) in enumerate(zip(data.indicators, data.row_computed or [{}] * len(data.indicators))):
                    out = {c: _as_entered(spec, data, row, c, _value(c, data, {}, row, extra)) if c not in data.fields
                           else _cell(data.fields.get(c)) for c in cols}
                    refs = list(row.refs.values())
                    out.update(_provenance(res, f"{refs[0]}:{refs[-1]}" if refs else "", k))
                    rows.append(out)
            else:
                out = {c: _value(c, data, data.computed) for c in cols}
                out.update(_provenance(res, data.refs.get(spec.key, "")))
                rows.append(out)
        tables[declared["sheet"]] = (cols + [c for c in PROVENANCE if c not in cols], rows)
    return tables


def _stem(spec: FormSpec) -> str:
    from pathlib import Path

    return Path(spec.path).stem


def overview(spec: FormSpec, report, registry, tables: dict) -> tuple[list, list]:
    """概览: the round's counts per unit (as for targets) and the mean of the spec's chart column."""
    rows = overview_rows(report, registry)
    chart_table = next((d for d in spec.masters if d.get("chart")), None)
    if chart_table is None:
        return OVERVIEW_COLUMNS, rows
    column = chart_table["chart"]
    label = f"平均{column}"
    per_unit: dict[str, list] = {}
    for row in tables[chart_table["sheet"]][1]:
        value = row.get(column)
        if isinstance(value, (int, float)):
            per_unit.setdefault(row["单位编码"], []).append(float(value))
    every = [v for values in per_unit.values() for v in values]
    for row in rows:
        values = every if row["单位编码"] == "合计" else per_unit.get(row["单位编码"], [])
        row[label] = round(sum(values) / len(values), 4) if values else None
    return OVERVIEW_COLUMNS + [label], rows


def build_round_tables(spec: FormSpec, report, registry, lang: str = "zh") -> dict[str, tuple[list, list]]:
    tables = declared_tables(spec, report)
    tables["问题清单"] = (ISSUE_COLUMNS, report.flatten(lang))
    tables["未报送"] = (MISSING_COLUMNS, missing_rows(report, registry))
    tables["概览"] = overview(spec, report, registry, tables)
    return tables


def share_columns(tables: dict) -> set[str]:
    return {c for cols, _rows in tables.values() for c in cols if c.endswith(SHARE_SUFFIXES) or c.startswith("平均执行率")}


def money_columns(spec: FormSpec, tables: dict) -> set[str]:
    money_names = {f.name for f in spec.fields if f.type == "money"} | {"预算数", "预算数合计", "已通过预算数"}
    return {c for cols, _rows in tables.values() for c in cols if c in money_names}


def round_info(spec: FormSpec, tables: dict) -> dict:
    """The totals the CLI prints: projects, rows, the budget of the accepted projects, what is missing."""
    first = tables[spec.masters[0]["sheet"]][1]  # one row per project
    second = tables[spec.masters[1]["sheet"]][1] if len(spec.masters) > 1 else []  # one per indicator row
    present = [f.name for f in (spec.role("budget"), spec.role("plan_total")) if f is not None and first
               and f.name in first[0]]
    total = sum((money(r.get(present[0])) or Decimal(0) for r in first), Decimal(0)) if present else Decimal(0)
    info = {"projects": len(first), "indicators": len(second),
            "budget_total": f"{total:.2f}", "missing": len(tables["未报送"][1]), "round": spec.round}
    score_check = next((c for c in spec.checks if c.get("kind") == "score"), None)
    if score_check is not None:
        from .checks import output

        total, grade = output(score_check, "total"), output(score_check, "grade")
        scores = [r.get(total) for r in first if isinstance(r.get(total), (int, float))]
        if scores:
            info["score_mean"] = round(sum(scores) / len(scores), 2)
            info["grades"] = {g: sum(1 for r in first if r.get(grade) == g) for g, _min in _grades(spec)}
    return info


def _grades(spec: FormSpec):
    from .scoring import ScoringRules

    return ScoringRules.from_table(spec.scoring).grades


def chart(column: str):
    """The 概览 chart of a round: the mean of the spec's chart column per unit."""
    def draw(wb, ws, n_units: int) -> None:
        chart_obj = wb.add_chart({"type": "column"})
        name = ws.get_name()
        col = len(OVERVIEW_COLUMNS)
        chart_obj.add_series({"name": [name, 0, col], "categories": [name, 1, 1, max(1, n_units), 1],
                              "values": [name, 1, col, max(1, n_units), col]})
        chart_obj.set_title({"name": f"平均{column}"})
        chart_obj.set_y_axis({"min": 0})
        chart_obj.set_legend({"none": True})
        ws.insert_chart(n_units + 3, 0, chart_obj, {"x_scale": 1.4, "y_scale": 1.2})
    return draw
