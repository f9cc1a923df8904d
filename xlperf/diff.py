"""Differences: the cells a re-submission changed, and year over year between two masters."""
from __future__ import annotations

import html
import re
import zipfile
from decimal import Decimal
from pathlib import Path

from .model import FileResult, text
from .registry import money

_WORKBOOK_XML_LIMIT = 1 << 20  # the sheet list of a workbook; a master's is a few hundred bytes


# ---------------------------------------------------------------- two returns ---------
def diff_returns(old: FileResult, new: FileResult) -> list[dict]:
    """Changed cells between two returns of one form: sheet, cell, field, old and new value."""
    a, b = old.data, new.data
    out = []
    for name in sorted(set(a.fields) | set(b.fields), key=lambda n: (a.refs.get(n) or b.refs.get(n) or "")):
        va, vb = text(a.fields.get(name)), text(b.fields.get(name))
        if va != vb:
            out.append({"sheet": a.sheet, "cell": a.refs.get(name) or b.refs.get(name), "field": name, "old": va, "new": vb})
    cells_a = _indicator_cells(a)
    cells_b = _indicator_cells(b)
    for ref in sorted(set(cells_a) | set(cells_b), key=_ref_key):
        (fa, va), (fb, vb) = cells_a.get(ref, ("", "")), cells_b.get(ref, ("", ""))
        if va != vb:
            out.append({"sheet": a.sheet, "cell": ref, "field": fa or fb, "old": va, "new": vb})
    for sec in sorted(set(a.sections) | set(b.sections)):
        ia, ib = a.sections.get(sec, []), b.sections.get(sec, [])
        for i in range(max(len(ia), len(ib))):
            x = ia[i] if i < len(ia) else {"标题": "", "内容": "", "ref": ib[i]["ref"]}
            y = ib[i] if i < len(ib) else {"标题": "", "内容": "", "ref": ia[i]["ref"]}
            for key in ("标题", "内容"):
                if x[key] != y[key]:
                    out.append({"sheet": a.sheet, "cell": x["ref"], "field": f"{sec}/{key}", "old": x[key], "new": y[key]})
    return out


def _indicator_cells(d) -> dict:
    cells = {}
    for ir in d.indicators:
        for name, ref in ir.refs.items():
            cells[ref] = (f"{ir.level2}/{name}", text(ir.values.get(name)))
    return cells


def _ref_key(ref: str):
    m = re.match(r"([A-Z]+)(\d+)", ref)
    return (int(m.group(2)), m.group(1)) if m else (0, ref)


# ---------------------------------------------------------------- two masters ---------
def sheet_names(path: Path) -> list[str]:
    """The sheet names listed in xl/workbook.xml, read without opening any other part (the file may be a
    return, which is untrusted); [] when it is not a readable xlsx."""
    try:
        with zipfile.ZipFile(path) as zf, zf.open("xl/workbook.xml") as fh:
            xml = fh.read(_WORKBOOK_XML_LIMIT).decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError):
        return []
    return [html.unescape(m) for m in re.findall(r"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"", xml)]


def is_master(path: Path) -> bool:
    """A consolidate output: it holds the project and indicator sheets of the master."""
    from .master import SHEETS

    return set(SHEETS[:2]) <= set(sheet_names(path))


def _indicator_layout():
    """The indicator key and the compared columns, from the form spec (the master uses the form's words)."""
    from .spec import load_spec

    spec = load_spec()
    level2 = spec.headers[1]
    level3 = spec.columns[0].name
    compared = [c for c in spec.columns[1:]]
    return spec.key, level2, level3, compared


def _amount(v) -> Decimal | None:
    return money(v) if v not in (None, "") else None


def _num(d: Decimal | None):
    return None if d is None else float(d)


def _indicators_by_key(rows: list[dict], layout) -> dict:
    from .publish import value_display

    code_col, level2, level3, compared = layout
    out: dict[str, dict] = {}
    for row in rows:
        code = text(row.get(code_col))
        mine = out.setdefault(code, {})
        base = (text(row.get(level2)), text(row.get(level3)))
        n = 0
        while (*base, n) in mine:  # the same indicator twice under one 二级指标: keep both, in order
            n += 1
        mine[(*base, n)] = {c.name: (value_display(row) if c.type == "indicator_value" else text(row.get(c.name)))
                            for c in compared}
    return out


def diff_masters(old: dict, new: dict) -> dict:
    """Year over year, per project: budget old/new/delta, projects added and dropped, indicators added,
    dropped or changed (key: 项目编码 + 二级指标 + 三级指标). *old*/*new* are publish.read_master output."""
    from .master import BUDGET, NAME, SHEETS

    layout = _indicator_layout()
    code_col = layout[0]
    project_sheet, indicator_sheet = SHEETS[0], SHEETS[1]
    pa = {text(r.get(code_col)): r for r in old[project_sheet] if text(r.get(code_col))}
    pb = {text(r.get(code_col)): r for r in new[project_sheet] if text(r.get(code_col))}
    ia = _indicators_by_key(old[indicator_sheet], layout)
    ib = _indicators_by_key(new[indicator_sheet], layout)
    projects = []
    totals = {"indicators_added": 0, "indicators_dropped": 0, "indicators_changed": 0}
    for code in sorted(set(pa) | set(pb)):
        ra, rb = pa.get(code), pb.get(code)
        row = rb or ra
        ba = _amount(ra.get(BUDGET)) if ra else None
        bb = _amount(rb.get(BUDGET)) if rb else None
        delta = (bb or Decimal(0)) - (ba or Decimal(0))
        change = "added" if ra is None else "dropped" if rb is None else "same"
        entry = {"code": code, "name": text(row.get(NAME)), "unit_code": text(row.get("单位编码")),
                 "unit_name": text(row.get("单位名称")), "change": change,
                 "budget_old": _num(ba), "budget_new": _num(bb), "budget_delta": float(delta),
                 "indicators_added": [], "indicators_dropped": [], "indicators_changed": []}
        if change == "same":
            if ra.get(NAME) != rb.get(NAME):
                entry["name_old"] = text(ra.get(NAME))
            old_ind, new_ind = ia.get(code, {}), ib.get(code, {})
            for key in new_ind.keys() - old_ind.keys():
                entry["indicators_added"].append(_indicator(key, new_ind[key]))
            for key in old_ind.keys() - new_ind.keys():
                entry["indicators_dropped"].append(_indicator(key, old_ind[key]))
            for key in old_ind.keys() & new_ind.keys():
                for col, va in old_ind[key].items():
                    vb = new_ind[key].get(col, "")
                    if va != vb:
                        entry["indicators_changed"].append({**_indicator(key, {}), "field": col, "old": va, "new": vb})
            for k in ("indicators_added", "indicators_dropped", "indicators_changed"):
                entry[k].sort(key=lambda i: (i["level2"], i["level3"], i.get("field", "")))
                totals[k] += len(entry[k])
            if delta or any(entry[k] for k in totals) or "name_old" in entry:
                entry["change"] = "changed"
        else:
            entry["indicator_count"] = len((ib if rb else ia).get(code, {}))
        projects.append(entry)
    ta = sum((_amount(r.get(BUDGET)) or Decimal(0) for r in pa.values()), Decimal(0))
    tb = sum((_amount(r.get(BUDGET)) or Decimal(0) for r in pb.values()), Decimal(0))
    summary = {"old_projects": len(pa), "new_projects": len(pb),
               "added": sum(1 for p in projects if p["change"] == "added"),
               "dropped": sum(1 for p in projects if p["change"] == "dropped"),
               "changed": sum(1 for p in projects if p["change"] == "changed"),
               "unchanged": sum(1 for p in projects if p["change"] == "same"),
               "budget_old": float(ta), "budget_new": float(tb), "budget_delta": float(tb - ta), **totals}
    return {"projects": projects, "summary": summary}


def _indicator(key: tuple, values: dict) -> dict:
    level2, level3, n = key
    out = {"level2": level2, "level3": level3}
    if n:
        out["occurrence"] = n + 1
    out.update(values)
    return out


def has_changes(result: dict) -> bool:
    return any(p["change"] != "same" for p in result["projects"])


def print_masters(con, result: dict, old: Path, new: Path, lang: str = "zh") -> None:
    """Console tables of a year-over-year comparison: changed projects, then changed indicators."""
    from rich.markup import escape as esc
    from rich.table import Table

    from .messages import ui
    from .model import printable_path

    def amount(v) -> str:
        return "" if v is None else f"{v:,.2f}"

    t = Table(title=esc(ui("diff_master_title", lang, old=printable_path(str(old)), new=printable_path(str(new)))), title_justify="left")
    for key in ("col_project_code", "col_project_name", "col_change", "col_budget_old", "col_budget_new",
                "col_budget_delta", "col_indicators"):
        t.add_column(ui(key, lang), overflow="fold", no_wrap=key == "col_project_code")  # a code stays whole
    for p in result["projects"]:
        if p["change"] == "same":
            continue
        counts = "" if p["change"] in ("added", "dropped") else "/".join(
            str(len(p[k])) for k in ("indicators_added", "indicators_dropped", "indicators_changed"))
        t.add_row(esc(p["code"]), esc(p["name"]), ui(f"change_{p['change']}", lang), amount(p["budget_old"]),
                  amount(p["budget_new"]), f"{p['budget_delta']:+,.2f}", counts)
    con.print(t)
    rows = [(p["code"], kind, i) for p in result["projects"] for kind in ("added", "dropped", "changed")
            for i in p[f"indicators_{kind}"]]
    if rows:
        it = Table(title=ui("diff_indicator_title", lang), title_justify="left")
        for key in ("col_project_code", "col_level2", "col_level3", "col_change", "field", "old", "new"):
            it.add_column(ui(key, lang), overflow="fold", no_wrap=key == "col_project_code")
        compared = _indicator_layout()[3]
        value_col = next(c.name for c in compared if c.type == "indicator_value")
        label = {c.name: (c.name_en if lang == "en" else c.name) for c in compared}
        for code, kind, i in rows:
            # a changed indicator shows the field; an added or dropped one its target value
            field = i["field"] if kind == "changed" else value_col
            old = i["old"] if kind == "changed" else i[value_col] if kind == "dropped" else ""
            new = i["new"] if kind == "changed" else i[value_col] if kind == "added" else ""
            it.add_row(esc(code), esc(i["level2"]), esc(i["level3"]), ui(f"ind_{kind}", lang), esc(label.get(field, field)),
                       esc(old), esc(new))
        con.print(it)
    s = result["summary"]
    con.print(ui("diff_master_summary", lang, **{**s, "budget_old": amount(s["budget_old"]),
                                                  "budget_new": amount(s["budget_new"]),
                                                  "budget_delta": f"{s['budget_delta']:+,.2f}"}),
              markup=False, soft_wrap=True)


# ------------------------------------------------------------ masters of the later rounds ----
def round_row_key(spec, declared: dict, row: dict) -> tuple:
    """What identifies a row of a declared master sheet: the project, and for per-row sheets its indicator
    (the spec's 二级指标 role and its first locked column without a role: 三级指标)."""
    key = [text(row.get(spec.key))]
    if declared.get("per") == "row":
        level2 = spec.role("level2")
        third = next((c for c in spec.columns if c.locked and not c.role), None)
        key += [text(row.get(c.name)) for c in (level2, third) if c is not None]
    return tuple(key)


def diff_round_masters(spec, old: dict, new: dict) -> list[dict]:
    """Cell by cell over the sheets the spec declares: rows added, dropped, and every changed value
    (provenance columns aside: where a row came from is no change of content)."""
    from .publish_round import UNPUBLISHED

    changes = []
    for declared in spec.masters:
        sheet = declared["sheet"]
        rows_old = {round_row_key(spec, declared, r): r for r in old.get(sheet, [])}
        rows_new = {round_row_key(spec, declared, r): r for r in new.get(sheet, [])}
        for key in sorted(rows_old.keys() | rows_new.keys()):
            a, b = rows_old.get(key), rows_new.get(key)
            if a is None or b is None:
                changes.append({"sheet": sheet, "key": "/".join(key), "field": "", "old": "" if a is None else "✓",
                                "new": "" if b is None else "✓"})
                continue
            for column in declared["columns"]:
                if column in UNPUBLISHED:
                    continue
                va, vb = text(a.get(column)), text(b.get(column))
                if va != vb:
                    changes.append({"sheet": sheet, "key": "/".join(key), "field": column, "old": va, "new": vb})
    return changes
