"""Collection up a unit tree: a master's hidden metadata, its rows read back as returns, copies counted once."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from .model import FileResult, IndicatorRow, Issue, ReturnData, text
from .spec import FormSpec, col_letter

META_SHEET = "_xlperf_master"  # veryHidden key/value sheet of every master `consolidate` writes
KIND = "master"
META_KEYS = ("kind", "form_id", "form_version", "year", "units", "departments", "tool_version", "created_at",
             "projects", "indicators", "unit_form_id", "through")
VIA_COLUMN = "来源汇总表"  # provenance column added at the end of the master's tables: the sub-master a row came from
_PATTERN = re.compile(r"\{([^{}]+)\}")
_RECORD_ROW0 = 10_000  # indicator rows of a record get template rows no real form uses, so each maps to its master cell


# ---------------------------------------------------------------- writing --------
def master_meta(report, registry, tables: dict) -> dict:
    """The metadata a master carries about itself (written to META_SHEET as key/value rows)."""
    from . import __version__
    from .master import round_year
    from .spec import DEFAULT_FORM, UNIT_FORM, load_spec
    from .writer import generated_at

    spec = next((load_spec(r.data.spec_name) for r in report.accepted if r.kind == "project" and r.data is not None),
                None) or load_spec(DEFAULT_FORM)
    names = list(tables)
    departments = sorted({text(r.get("主管部门")) for r in registry.rows} - {""})
    unit_spec = next((load_spec(r.data.spec_name) for r in report.accepted if r.kind == "unit" and r.data is not None),
                     None) or load_spec(UNIT_FORM)
    # a monitoring round's month: the records of its master are checked against the same elapsed share
    through = Counter(text(r.data.meta.get("through")) for r in report.accepted
                      if r.data is not None and r.data.spec_name == _spec_name(spec))
    through.pop("", None)
    return {"kind": KIND, "form_id": spec.id, "form_version": spec.version,
            "year": round_year(report),
            "units": ",".join(sorted(registry.units)), "departments": ",".join(departments),
            "tool_version": __version__, "created_at": generated_at(),
            "projects": str(len(tables[names[0]][1])), "indicators": str(len(tables[names[1]][1])),
            "unit_form_id": unit_spec.id if spec.engine != "table" else "",
            "through": through.most_common(1)[0][0] if through else ""}


# ---------------------------------------------------------------- reading --------
def is_master(sheet_names) -> bool:
    """A workbook that says it is a master (its metadata sheet); what it says is still checked."""
    return META_SHEET in sheet_names


def looks_like_master(sheet_names) -> bool:
    """A workbook with a master's two table sheets (and no metadata of its own)."""
    from .master import SHEETS

    return SHEETS[0] in sheet_names and SHEETS[1] in sheet_names


def _meta_cells(rows: list) -> dict:
    """key -> (value text, A1 ref of the value), from the key/value rows of the metadata sheet."""
    out = {}
    for i, row in enumerate(rows[:200]):
        if len(row) >= 1 and text(row[0]) and text(row[0]) not in out:
            out[text(row[0])] = (text(row[1]) if len(row) >= 2 else "", f"B{i + 1}")
    return out


def _table(wb, sheet: str, wanted: list, res: FileResult) -> tuple[list, dict] | None:
    """Data rows and column -> index of one master sheet; None (with the issue filed) when a column is missing."""
    rows = wb.get_sheet_by_name(sheet).to_python()
    head = [text(v) for v in rows[0]] if rows else []
    index = {}
    for i, name in enumerate(head):
        index.setdefault(name, i)
    for col in wanted:
        if col not in index:
            res.add(Issue.make("E144", sheet, "", sheet_name=sheet, column=col))
            return None
    return rows[1:], index


def _source_columns(f) -> list[str]:
    """The registry columns a locked field is made of ('{单位编码}{单位名称}' -> both)."""
    return _PATTERN.findall(f.source) if "{" in f.source else [f.source]


def parse_master(path, wb, names: list, specs: list[FormSpec], res: FileResult) -> FileResult:
    """A master read as a container of records, one FileResult per project row (res.records).

    The master is untrusted like any return: a missing or forged metadata sheet, a missing sheet or column
    is an issue on *res* naming the sheet and cell, and no record is made from it."""
    from .master import PROJECT_COLUMNS, RAW_TARGET, SHEETS

    res.kind = KIND
    if not is_master(names):
        res.add(Issue.make("E141", "", "", meta_sheet=META_SHEET, sheets="、".join(SHEETS[:2])))
        return res
    meta = _meta_cells(wb.get_sheet_by_name(META_SHEET).to_python())

    def bad(key: str, expected: str) -> FileResult:
        found, ref = meta.get(key, ("", ""))
        res.add(Issue.make("E142", META_SHEET, ref, key=key, found=found or "（空）", expected=expected))
        return res

    if meta.get("kind", ("",))[0] != KIND:
        return bad("kind", KIND)
    by_id = {s.id: s for s in specs if s.kind == "project"}
    spec = by_id.get(meta.get("form_id", ("",))[0])
    if spec is None:
        return bad("form_id", "、".join(sorted(by_id)))
    year, year_ref = meta.get("year", ("", ""))
    if not re.fullmatch(r"\d{4}", year):
        return bad("year", "YYYY")
    if spec.engine == "table":  # the master of a later round: the sheets its spec declares
        return _round_master(wb, names, spec, meta, (year, year_ref), res)
    for sheet in SHEETS[:2]:
        if sheet not in names:
            res.add(Issue.make("E143", sheet, "", sheet_name=sheet))
            return res
    summary, indicators = SHEETS[0], SHEETS[1]
    key = spec.key
    locked_cols = [c for f in spec.locked_fields for c in _source_columns(f)]
    wanted = list(dict.fromkeys([key, *locked_cols, *(f.name for f in spec.input_fields if f.name in PROJECT_COLUMNS)]))
    got = _table(wb, summary, wanted, res)
    if got is None:
        return res
    prows, pidx = got
    vcol = next((c for c in spec.columns if c.type == "indicator_value"), None)
    raw_col = RAW_TARGET
    iwanted = [key, "一级指标", "二级指标", *(c.name for c in spec.columns if c is not vcol)]
    if vcol is not None:
        iwanted += [raw_col, vcol.name]
    got = _table(wb, indicators, iwanted, res)
    if got is None:
        return res
    irows, iidx = got
    by_project = _rows_by_key(irows, iidx[key])
    seen_codes = set()
    for n, row in enumerate(prows, start=2):
        if not any(text(v) for v in row):
            continue
        code = text(_at(row, pidx[key]))
        seen_codes.add(code)
        res.records.append(_record(spec, res, (year, year_ref), summary, pidx, n, row, indicators, iidx,
                                   by_project.get(code, []) if code else [], vcol, raw_col))
    for code in sorted(set(by_project) - seen_codes):  # indicator rows of no project row: lost, so say so
        n = by_project[code][0][0]
        res.add(Issue.make("W242", indicators, f"{col_letter(iidx[key])}{n}", project=code, sheet_name=summary))
    _unit_records(wb, names, specs, meta, (year, year_ref), res)
    if not res.records:
        res.add(Issue.make("W243", summary, "", sheet_name=summary))
    return res


def _unit_spec(specs: list[FormSpec], meta: dict, res: FileResult) -> FormSpec | None:
    """The unit-level form of a master's unit rows: the one its metadata names (a master of an older xlperf
    names none: the bundled one). None, with E142 filed, when the metadata names a form this run does not know."""
    from .spec import UNIT_FORM, load_spec

    by_id = {s.id: s for s in specs if s.kind == "unit"}
    form_id, ref = meta.get("unit_form_id", ("", ""))
    if form_id:
        if form_id not in by_id:
            res.add(Issue.make("E142", META_SHEET, ref, key="unit_form_id", found=form_id,
                               expected="、".join(sorted(by_id)) or "—"))
        return by_id.get(form_id)
    bundled = load_spec(UNIT_FORM)
    return by_id.get(bundled.id) or next(iter(by_id.values()), None)


def _unit_records(wb, names: list, specs: list[FormSpec], meta: dict, year: tuple, res: FileResult) -> None:
    """The unit-level forms a master carries (one row per paragraph in its unit sheet) as one record per unit,
    judged like a unit-level return. A master without that sheet carries none."""
    from .master import SHEETS, UNIT_COLUMNS

    sheet = SHEETS[5]
    if sheet not in names:
        return
    spec = _unit_spec(specs, meta, res)
    if spec is None:
        return
    part, _number, title, body = UNIT_COLUMNS[2:6]
    locked_cols = [c for f in spec.locked_fields for c in _source_columns(f)]
    got = _table(wb, sheet, list(dict.fromkeys([spec.key, *locked_cols, part, title, body])), res)
    if got is None:
        return
    rows, idx = got
    by_unit = _rows_by_key(rows, idx[spec.key])
    for code, unit_rows in by_unit.items():
        res.records.append(_unit_record(spec, res, year, sheet, idx, unit_rows, (part, title, body)))


def _unit_record(spec: FormSpec, res: FileResult, year: tuple, sheet: str, idx: dict, rows: list,
                 columns: tuple) -> FileResult:
    """One unit's rows of a master's unit sheet as the unit-level return they were made from: a row per
    input field (its text in the body column) and a row per section item (title and body), in order."""
    from .writer import locked_values

    part, title, body = columns
    first_n, first = rows[0]
    cell = lambda column, n: (sheet, f"{col_letter(idx[column])}{n}")  # noqa: E731
    values = {name: _at(first, i) for name, i in idx.items()}
    reg_row = {k: text(v) for k, v in values.items()}
    fields, refs, cells = {}, {}, {}
    locked = locked_values(spec, reg_row)
    for f in spec.fields:
        refs[f.name] = f.cell
        if f.locked:
            fields[f.name] = locked[f.name]
            cells[f.cell] = cell(_source_columns(f)[-1], first_n)
        else:
            fields[f.name] = ""
    origin = {"master": res.path, "row": first_n, "home": cell(spec.key, first_n), "cells": cells,
              "year_cell": (META_SHEET, year[1]), "file": text(values.get("来源文件")),
              "file_sheet": text(values.get("来源工作表")), "file_cell": text(values.get("来源单元格")),
              "via": text(values.get(VIA_COLUMN)), "parts": {}}
    code = text(values.get(spec.key))
    meta = {"form_id": spec.id, "form_version": spec.version, "kind": spec.kind, "year": year[0], "unit_code": code}
    data = ReturnData(spec_name=_spec_name(spec), sheet=spec.sheet, meta=meta, fields=fields, refs=refs, origin=origin)
    rec = FileResult(res.path, kind=spec.kind, mtime=res.mtime, sha256=res.sha256, source=res.source)
    sections = {sec.name: sec for sec in spec.sections}
    inputs = {f.name: f for f in spec.input_fields}
    data.sections = {name: [] for name in sections}
    seen_fields = set()
    for n, row in rows:
        name = text(_at(row, idx[part]))
        provenance = tuple(text(_at(row, idx[c])) if c in idx else "" for c in ("来源文件", "来源工作表", "来源单元格"))
        if name in inputs and name not in seen_fields:
            seen_fields.add(name)
            f = inputs[name]
            fields[name] = _at(row, idx[body])
            cells[f.cell] = cell(body, n)
            origin["parts"][(name, 0)] = provenance
        elif name in sections:
            sec, items = sections[name], data.sections[name]
            r = sec.first_row + len(items)  # the item's place in a template, mapped to its master row
            item = {"标题": text(_at(row, idx[title])), "内容": text(_at(row, idx[body])),
                    "ref": f"{sec.title_col}{r}", "text_ref": f"{sec.text_col}{r}"}
            cells[item["ref"]], cells[item["text_ref"]] = cell(title, n), cell(body, n)
            items.append(item)
            origin["parts"][(name, len(items))] = provenance
        else:  # a part the form does not have, or a field twice: the master was edited
            rec.add(Issue.make("E145", *cell(part, n), column=part, found=name or "（空）",
                               expected="、".join([*inputs, *sections])))
    rec.data = data
    return rec


def _at(row, i: int):
    return row[i] if i < len(row) else ""


def _record(spec: FormSpec, res: FileResult, year: tuple, sheet: str, idx: dict, n: int, row: list,
            isheet: str, iidx: dict, irows: list, vcol, raw_col: str) -> FileResult:
    """One project row of a master (and its indicator rows) as the return it was made from."""
    from .writer import locked_values

    values = {name: _at(row, i) for name, i in idx.items()}
    reg_row = {k: ("" if v is None else v.strip() if isinstance(v, str) else text(v) if isinstance(v, bool) else v)
               for k, v in values.items()}
    fields, refs, cells = {}, {}, {}
    locked = locked_values(spec, reg_row)
    for f in spec.fields:
        refs[f.name] = f.cell
        if f.locked:
            fields[f.name] = locked[f.name]
            col = _source_columns(f)[0]
        else:
            v = values.get(f.name, "")
            if f.type == "percent" and isinstance(v, (int, float)) and not isinstance(v, bool):
                v = round(v * 100, 6)  # the master stores the plan as a fraction shown in %
            fields[f.name] = v
            col = f.name
        if col in idx:
            cells[f.cell] = (sheet, f"{col_letter(idx[col])}{n}")
    code_ref = f"{col_letter(idx[spec.key])}{n}"
    rec = FileResult(res.path, kind=spec.kind, mtime=res.mtime, sha256=res.sha256, source=res.source)
    origin = {"master": res.path, "row": n, "home": (sheet, code_ref), "cells": cells,
              "year_cell": (META_SHEET, year[1]), "file": text(values.get("来源文件")),
              "file_sheet": text(values.get("来源工作表")), "file_cell": text(values.get("来源单元格")),
              "via": text(values.get(VIA_COLUMN)), "indicators": []}
    code = text(values.get(spec.key))
    meta = {"form_id": spec.id, "form_version": spec.version, "kind": spec.kind, "year": year[0],
            "unit_code": text(values.get("单位编码")), "project_code": code}
    data = ReturnData(spec_name=_spec_name(spec), sheet=spec.sheet, meta=meta, fields=fields, refs=refs, origin=origin)
    groups = {(g.name, l2.name) for g in spec.groups for l2 in g.level2}
    slot_of: dict = defaultdict(int)
    for k, (m, irow) in enumerate(irows):
        level1, level2 = text(_at(irow, iidx["一级指标"])), text(_at(irow, iidx["二级指标"]))
        if (level1, level2) not in groups:
            ref = f"{col_letter(iidx['二级指标'])}{m}"
            rec.add(Issue.make("E145", isheet, ref, column="二级指标", found=f"{level1}/{level2}",
                               expected=spec.title))
            continue
        row_no = _RECORD_ROW0 + k
        vals, crefs = {}, {}
        for c in spec.columns:
            src = raw_col if c is vcol else c.name
            v = _at(irow, iidx[src])
            vals[c.name] = v
            crefs[c.name] = f"{c.col}{row_no}"
            cells[crefs[c.name]] = (isheet, f"{col_letter(iidx[src])}{m}")
        if vcol is not None:
            problem = _value_matches(vals, vcol.name, irow, iidx, data, crefs[vcol.name])
            if problem:
                rec.add(Issue.make("E145", isheet, f"{col_letter(iidx[vcol.name])}{m}", column=vcol.name,
                                   found=problem[0], expected=problem[1]))
        data.indicators.append(IndicatorRow(level1, level2, slot_of[level2], row_no, vals, crefs))
        slot_of[level2] += 1
        origin["indicators"].append((text(_at(irow, iidx["来源文件"])) if "来源文件" in iidx else "",
                                     text(_at(irow, iidx["来源工作表"])) if "来源工作表" in iidx else "",
                                     text(_at(irow, iidx["来源单元格"])) if "来源单元格" in iidx else ""))
    rec.data = data
    return rec


def _rows_by_key(rows: list, key_index: int) -> defaultdict:
    """A table's rows grouped by the code in one column: code -> [(sheet row number, row), ...] (row 1 is
    the header); rows without a code belong to no group."""
    groups = defaultdict(list)
    for n, row in enumerate(rows, start=2):
        code = text(_at(row, key_index))
        if code:
            groups[code].append((n, row))
    return groups


def _spec_name(spec: FormSpec) -> str:
    from pathlib import Path

    return Path(spec.path).stem


def _value_matches(vals: dict, name: str, irow: list, iidx: dict, data: ReturnData, ref: str) -> tuple | None:
    """The master's 指标值 column holds what consolidate parsed from the raw text beside it; a master edited
    by hand may disagree. A number typed in a percent cell is recorded as its bare number (0.95 for 95%):
    then the raw value is read with a percent format, as the return's cell was. (found, expected) when
    the two still differ, else None."""
    from .master import indicator_row_value
    from .rules import parse_value

    recorded = text(_at(irow, iidx[name]))
    raw = vals[name]
    candidates = [(raw, "")]
    try:
        candidates.append((float(text(raw)), "0%"))
    except ValueError:
        pass
    for value, fmt in candidates:
        if text(indicator_row_value(parse_value(value, number_format=fmt), value)[1]) == recorded:
            if fmt:
                vals[name] = value
                data.number_formats[ref] = fmt
            return None
    return recorded or "（空）", text(indicator_row_value(parse_value(raw), raw)[1]) or "（空）"


def expand(results: list, prepared: list | None = None) -> tuple[list, list | None]:
    """Masters replaced by their records. A master with an error of its own stays alone (and is rejected:
    nothing of it is used); one with warnings of its own stays beside its records, to carry them."""
    if not any(r.kind == KIND for r in results):
        return results, prepared
    out, pre = [], [] if prepared is not None else None
    for i, res in enumerate(results):
        if res.kind != KIND:
            out.append(res)
            if pre is not None:
                pre.append(prepared[i])
            continue
        records, res.records = ([] if res.errors else res.records), []
        if res.issues:
            out.append(res)
            if pre is not None:
                pre.append(None)
        for rec in records:
            rec.mtime, rec.sha256, rec.source = res.mtime, res.sha256, res.source
            out.append(rec)
            if pre is not None:
                pre.append(None)
    return out, pre


# ---------------------------------------------------------------- later rounds --------
def _carried(spec: FormSpec, items) -> list:
    """The fields or table columns a record takes from a master: never what the unit typed as a rate or a score
    (a master's column of that name holds xlperf's own figure, and the checks compute it again), never a
    value of the spec itself (rebuilt from the spec)."""
    return [x for x in items if not x.role.startswith("typed_") and not (x.locked and x.source.startswith("="))]


def _round_master(wb, names: list, spec: FormSpec, meta: dict, year: tuple, res: FileResult) -> FileResult:
    """A table-form master ([[master]] sheets of its spec) as records: each project row with its table rows.

    The columns the spec declares are found by name; each is a field or table column of the form (the
    checks' own figures — rates, scores, grades — are not read back: the checks compute them again)."""
    per_return = next((d for d in spec.masters if d.get("per") != "row"), None)
    per_row = next((d for d in spec.masters if d.get("per") == "row"), None)
    for declared in (per_return, per_row):
        if declared is not None and declared["sheet"] not in names:
            res.add(Issue.make("E143", declared["sheet"], "", sheet_name=declared["sheet"]))
            return res
    if per_return is None:
        return res
    summary = per_return["sheet"]
    fields = [f for f in _carried(spec, spec.fields) if f.name in per_return["columns"]]
    got = _table(wb, summary, list(dict.fromkeys([spec.key, *(f.name for f in fields)])), res)
    if got is None:
        return res
    prows, pidx = got
    columns, irows, iidx, isheet = [], [], {}, ""
    if per_row is not None:
        isheet = per_row["sheet"]
        columns = [c for c in _carried(spec, spec.columns) if c.name in per_row["columns"]]
        got = _table(wb, isheet, list(dict.fromkeys([spec.key, *(c.name for c in columns)])), res)
        if got is None:
            return res
        irows, iidx = got
    by_project = _rows_by_key(irows, iidx[spec.key]) if irows else defaultdict(list)
    seen = set()
    through = meta.get("through", ("",))[0]
    for n, row in enumerate(prows, start=2):
        if not any(text(v) for v in row):
            continue
        code = text(_at(row, pidx[spec.key]))
        seen.add(code)
        res.records.append(_round_record(spec, res, year, through, (summary, pidx, n, row, fields),
                                         (isheet, iidx, by_project.get(code, []) if code else [], columns)))
    for code in sorted(set(by_project) - seen):
        n = by_project[code][0][0]
        res.add(Issue.make("W242", isheet, f"{col_letter(iidx[spec.key])}{n}", project=code, sheet_name=summary))
    if not res.records:
        res.add(Issue.make("W243", summary, "", sheet_name=summary))
    return res


def _round_record(spec: FormSpec, res: FileResult, year: tuple, through: str, project: tuple, table: tuple) -> FileResult:
    """One project of a table-form master as the return it was made from: the fields the master carries at
    their template cells, its table rows in order, each cell mapped to the master's own."""
    from .cycle_master import PROVENANCE
    from .table_form import constant, row_refs

    sheet, idx, n, row, fields = project
    isheet, iidx, irows, columns = table
    unit_col, file_col, file_sheet_col, file_cell_col = PROVENANCE[:4]
    values = {name: _at(row, i) for name, i in idx.items()}
    carried = {f.name for f in fields}
    data_fields, refs, cells = {}, {}, {}
    for f in spec.fields:
        refs[f.name] = f.cell
        if f.name in carried:
            data_fields[f.name] = values.get(f.name, "")
            cells[f.cell] = (sheet, f"{col_letter(idx[f.name])}{n}")
        elif f.locked and f.source.startswith("="):
            data_fields[f.name] = constant(spec, f.source)
        elif f.locked and "{" in f.source:  # a pattern of registry columns: from the ones the master has
            data_fields[f.name] = _PATTERN.sub(lambda m: text(values.get(m.group(1), "")), f.source)
        else:  # not carried (what the unit typed as a rate or score; a value the checks do not need)
            data_fields[f.name] = ""
    code = text(values.get(spec.key))
    origin = {"master": res.path, "row": n, "home": (sheet, f"{col_letter(idx[spec.key])}{n}"), "cells": cells,
              "year_cell": (META_SHEET, year[1]), "file": text(values.get(file_col)),
              "file_sheet": text(values.get(file_sheet_col)), "file_cell": text(values.get(file_cell_col)),
              "via": text(values.get(VIA_COLUMN)), "indicators": []}
    meta = {"form_id": spec.id, "form_version": spec.version, "kind": spec.kind, "round": spec.round,
            "year": year[0], "unit_code": text(values.get(unit_col)), "project_code": code,
            "rows": str(len(irows)), "through": through}
    data = ReturnData(spec_name=_spec_name(spec), sheet=spec.sheet, meta=meta, fields=data_fields, refs=refs,
                      origin=origin)
    level1, level2 = spec.role("level1"), spec.role("level2")
    carried_columns = {c.name for c in columns}
    for k, ((m, irow), crefs) in enumerate(zip(irows, row_refs(spec, len(irows)))):
        vals = {}
        for c in spec.columns:
            if c.name in carried_columns:
                vals[c.name] = _at(irow, iidx[c.name])
                cells[crefs[c.name]] = (isheet, f"{col_letter(iidx[c.name])}{m}")
            else:
                vals[c.name] = ""
        data.indicators.append(IndicatorRow(text(vals.get(level1.name)) if level1 else "",
                                            text(vals.get(level2.name)) if level2 else "", k,
                                            spec.first_row + k, vals, crefs))
        origin["indicators"].append(tuple(text(_at(irow, iidx[c])) if c in iidx else ""
                                          for c in (file_col, file_sheet_col, file_cell_col)))
    rec = FileResult(res.path, kind=spec.kind, mtime=res.mtime, sha256=res.sha256, source=res.source)
    rec.data = data
    return rec


# ---------------------------------------------------------------- validating --------
def set_aside_copies(results: list) -> list:
    """A project carried by a sub-master and returned directly (or carried by two sub-masters) counts once.

    The direct return counts (the original beats a copy; several direct returns are then judged among
    themselves as always); without one, the newest sub-master (saved time, then file time). Every other
    copy is set aside with W241, naming both places. Returns the results still competing."""
    from .rules import saved_at

    groups = defaultdict(list)
    for res in results:
        if res.data is not None and res.data.key:
            groups[(res.kind, res.data.key)].append(res)
    out_of_play = set()
    for (_kind, key), items in groups.items():
        copies = [r for r in items if r.data.origin]
        if not copies or len(items) < 2:
            continue
        direct = [r for r in items if not r.data.origin]
        if direct:
            winner = max(direct, key=lambda r: (saved_at(r.source), r.mtime, r.path))
            losers = copies
        else:
            copies.sort(key=lambda r: (saved_at(r.source), r.mtime, r.path, -r.data.origin["row"]), reverse=True)
            winner, losers = copies[0], copies[1:]
        for r in losers:
            if r.kind == "project":
                r.add(Issue.make("W241", *r.data.origin["home"], project=key, here=_place(r), other=_place(winner)))
            else:  # a unit-level form: named by its unit and its title
                from .spec import load_spec

                r.add(Issue.make("W244", *r.data.origin["home"], unit=key, form=load_spec(r.data.spec_name).title,
                                 here=_place(r), other=_place(winner)))
            out_of_play.add(id(r))
    return [r for r in results if id(r) not in out_of_play]


def _place(res: FileResult) -> str:
    o = res.data.origin if res.data is not None else {}
    return f"{res.path}（{o['home'][0]}!{o['home'][1]}）" if o else res.path


def relocate(results: list) -> None:
    """Issues of a record name the master's sheet and cell, not the template cell the rules know."""
    for res in results:
        o = res.data.origin if res.data is not None else None
        if not o or not res.issues:
            continue
        from .spec import load_spec

        spec = load_spec(res.data.spec_name)
        moved = []
        for i in res.issues:
            if i.sheet in (spec.sheet, spec.meta_sheet, ""):
                if i.code == "E010":
                    sheet, cell = o["year_cell"]
                else:
                    sheet, cell = o["cells"].get(i.cell) or o["home"]
                i = Issue(i.code, sheet, cell, i.params)
            moved.append(i)
        res.issues = moved
