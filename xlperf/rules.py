"""Validation rules of the targets forms: the checks each field and column declares of its cells, plus cross-field rules."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from .model import FileResult, Issue, text
from .registry import Registry, money, project_row_of
from .spec import FormSpec, load_spec
from .values import QUALITATIVE, ValueStatus, is_percent_format, parse_indicator_value, probable_percent
from .writer import canonical_digest

_STATUS_CODE = {"empty": "E109", "placeholder": "E110", "unparseable": "E111", "range": "E131", "deadline": "E132"}
# Reasons of an unparseable value that have advice of their own; they take the place of the status.
_OWN_ADVICE = ("range", "deadline")
_GOAL_NUMBER = re.compile(r"^\s*(?:\d+|[一二三四五六七八九十]+)\s*[.、．)）:：]\s*")
_FILE_CODE = re.compile(r"^([0-9A-Z]{21})(?=[_\-\s.]|$)")


@dataclass
class Options:
    strict: bool = False  # warnings reject too
    reject_yesno: bool = False  # 是否 as an indicator value is an error
    duplicates: str = "error"  # error | latest


# ---------------------------------------------------------------- frames --------
_PARSED: dict = {}


def _parsed(raw, number_format: str = "") -> tuple:
    """(ParseResult, frame columns) of one 指标值 cell; text is memoised, as a round repeats a few
    hundred spellings across 100,000 cells (parsing and display() are the costly part per row)."""
    hit = _PARSED.get(raw) if isinstance(raw, str) else None
    if hit is None:
        pr = parse_indicator_value(raw, number_format=number_format)
        v = pr.value
        status = pr.reason if pr.reason in _OWN_ADVICE else pr.status.value
        hit = (pr, (status, v.symbol, v.number, v.unit, v.display(), v.symbol != QUALITATIVE and not v.unit) if v
               else (status, "", None, "", "", False))
        if isinstance(raw, str) and len(raw) <= 200:
            if len(_PARSED) >= 50_000:
                _PARSED.clear()
            _PARSED[raw] = hit
    return hit


_VALUE_COLUMNS = ("_status", "_symbol", "_number", "_unit", "_display", "_unit_missing")  # what _parsed()[1] holds


def parse_value(raw, number_format: str = ""):
    """parse_indicator_value of a cell as read (text is stripped first), memoised for text."""
    return _parsed(raw, number_format)[0]


def _percent_values(raw: list, formats: list | tuple = ()) -> list:
    """Spending-plan cells as numbers 0–100; a cell typed as 25% arrives as 0.25 (with a % format,
    when *formats*, aligned with *raw*, gives the cells' number formats)."""
    nums = []
    for i, v in enumerate(raw):
        if isinstance(v, bool):
            nums.append(None)
        elif isinstance(v, (int, float)):
            scaled = i < len(formats) and is_percent_format(formats[i])
            nums.append(round(v * 100, 6) if scaled else float(v))
        else:
            t = text(v).replace("％", "%").rstrip("%").strip()
            try:
                nums.append(float(t))  # "" too is a ValueError: an empty period
            except ValueError:
                nums.append(None)
    vals = [n for n in nums if n is not None]
    if vals and all(0 <= n <= 1 for n in vals) and vals[-1] == 1 and len(vals) == len(nums):
        nums = [round(n * 100, 6) for n in nums]
    return nums


def _frame_columns(spec: FormSpec) -> tuple[list[str], str | None]:
    """Names of the indicator frame's columns (without _fi) and the 指标值 column, if the form has one."""
    vcol = next((c.name for c in spec.columns if c.type == "indicator_value"), None)
    return ["_row", "一级指标", "二级指标", *(c.name for c in spec.columns), "_missing",
            *(_VALUE_COLUMNS if vcol else ())], vcol


_PLANS: dict = {}


def _frame_plan(spec: FormSpec) -> tuple:
    """What frame_rows needs to know of a form, worked out once per form."""
    hit = _PLANS.get(id(spec))
    if hit is None or hit[0] is not spec:
        names, vcol = _frame_columns(spec)
        plan = (tuple(f.name for f in spec.fields), tuple(f.name for f in spec.fields if f.type == "percent"),
                names, vcol, tuple((c.name, c.type != "indicator_value") for c in spec.columns))
        hit = _PLANS[id(spec)] = (spec, plan)
    return hit[1]


def frame_rows(spec: FormSpec, res: FileResult) -> tuple[dict, list]:
    """One return's cells as the checks read them: its scalar row (a field's text, a plan period's number)
    and its indicator rows (a list per filled slot, in the order of ``_frame_columns``, the 指标值 parsed).
    Needs nothing but the return."""
    d = res.data
    fields, percent, _names, vcol, cols = _frame_plan(spec)
    get = d.fields.get
    prow = {}
    for name in fields:
        prow[name] = text(get(name))
    formats = d.number_formats
    plan_formats = [formats.get(d.refs.get(name)) for name in percent]  # None: no format, as for ""
    for name, n in zip(percent, _percent_values([get(name) for name in percent], plan_formats)):
        prow[f"{name}__num"] = n
        prow[f"{name}__bad"] = n is None and prow[name] != ""
    irows = []
    for ir in d.indicators:  # ~100,000 rows for 10,000 returns
        vals = ir.values
        row = [ir.row, ir.level1, ir.level2]
        missing = ""
        for name, required in cols:
            v = vals.get(name)
            t = v.strip() if v.__class__ is str else text(v)
            row.append(t)
            if required and not t:
                missing = f"{missing}、{name}" if missing else name
        row.append(missing)
        if vcol:
            row.extend(_parsed(vals.get(vcol), formats.get(ir.refs[vcol]))[1])  # _VALUE_COLUMNS order
        irows.append(row)
    return prow, irows


# ---------------------------------------------------------------- cell checks --------
# What every field and column declares of its own cells (required, length, choices, the plan's
# percent range, the 指标值 grammar), checked one return at a time as soon as it is read. A plain
# loop: a pandera pass over all returns did the same but cost ~1 s a run in imports and frames.

def cell_issues(spec: FormSpec, res: FileResult, prow: dict, irows: list) -> list[Issue]:
    """The issues of one return's own cells, given its :func:`frame_rows`; each names its cell."""
    issues = []

    def filed(code, f, value, **extra):
        issues.append(Issue.make(code, spec.sheet, f.cell, field=f.name, found=value, **extra))
    for f in spec.fields:
        if f.locked:
            continue
        value = prow[f.name]  # the cell as text (frame_rows)
        if f.type == "percent":
            number = prow[f"{f.name}__num"]
            if prow[f"{f.name}__bad"] or (number is not None and not 0 <= number <= 100):
                filed("E104", f, value)
            if f.required:  # a required plan period: filled is all that is asked of its text
                if not value:
                    filed("E101", f, value)
                continue
        elif f.required and not value:
            filed("E101", f, value)
        if f.max_length and len(value) > f.max_length:
            filed("E113", f, value, limit=f.max_length, length=len(value))
        if f.choices and value and value not in f.choices:
            filed("E117", f, value, choices="、".join(f.choices))
    if irows:
        issues.extend(_row_issues(spec, irows))
    return issues


def _row_issues(spec: FormSpec, irows: list) -> list[Issue]:
    """The issues of the indicator rows' own cells (a form with rows has columns)."""
    issues = []
    names, vcol = _frame_columns(spec)
    at = {name: i for i, name in enumerate(names)}
    first_col = spec.columns[0].col
    value_col = spec.column(vcol).col if vcol else first_col
    limited = [(c.name, c.col, c.max_length, at[c.name]) for c in spec.columns if c.max_length]

    def filed(code, col, row, field, **extra):
        issues.append(Issue.make(code, spec.sheet, f"{col}{row[0]}", found=row[at[vcol]] if vcol else "",
                                 missing=row[at["_missing"]], field=field, **extra))
    for row in irows:
        for name, col, limit, i in limited:
            if len(row[i]) > limit:
                filed("E113", col, row, name, limit=limit, length=len(row[i]))
        if vcol:
            code = _STATUS_CODE.get(row[at["_status"]])
            if code:
                filed(code, value_col, row, "_status")
            if row[at["_unit_missing"]]:
                filed("E112", value_col, row, "_unit_missing")
        if row[at["_missing"]]:
            filed("E108", first_col, row, "_missing")
    return issues


# ---------------------------------------------------------------- cross-field rules ----
# The kinds of cross-field rule the targets forms (engine "slots") run. The kinds are code; which fields
# each applies to and its parameters are the spec's [[checks]] (templates/project.toml, unit.toml).
RULES: dict[str, Callable] = {}


def rule(kind: str):
    """Register the code of one kind of declared targets check."""
    def register(fn):
        RULES[kind] = fn
        return fn
    return register


@dataclass
class RuleContext:
    """One return under the cross-field rules, and what they need besides it."""
    spec: FormSpec
    res: FileResult
    registry: Registry | None = None
    opts: Options | None = None
    prow: dict | None = None  # the return's row of the scalar frame (frame_rows)


def _declared(spec: FormSpec, kind: str) -> dict:
    """The spec's instance of a check kind, for the callers that run one rule alone."""
    found = spec.checks_of(kind)
    return found[0] if found else {}


def _identity(ctx: RuleContext, params: dict) -> None:
    check_identity(ctx.spec, ctx.res, ctx.registry)


def check_identity(spec: FormSpec, res: FileResult, registry: Registry) -> None:
    """Registry match of locked values, metadata consistency and the locked-values digest."""
    d = res.data
    sheet = spec.sheet
    if spec.kind == "project":
        row, found = project_row_of(spec, d, registry)  # E006, E114
        for issue in found:
            res.add(issue)
    else:  # a unit's code is in its metadata only
        code = text(d.meta.get("unit_code"))
        row = _unit_row(registry, code)
        if row is None:
            res.add(Issue.make("E119", sheet, "", found=code or "（空）"))
    if row is None:
        return
    from .writer import canonical_locked, locked_values

    expected = canonical_locked(spec, locked_values(spec, row))
    found = canonical_locked(spec, d.fields)  # computed once: the digest below is taken of it too
    changed = [f for f in spec.locked_fields if found[f.name] != expected[f.name]]
    for f in changed:
        res.add(Issue.make("E102", sheet, f.cell, field=f.name, found=found[f.name] or "（空）", expected=expected[f.name]))
    digest = d.meta.get("locked_digest")
    # A registry mismatch already names the changed cell; the digest matters when values agree
    # with the registry but not with the template they were written into (a swapped template).
    if digest and not changed and digest != canonical_digest(spec, found):
        res.add(Issue.make("E007", spec.meta_sheet, "locked_digest"))


def _unit_row(registry: Registry, unit_code: str) -> dict | None:
    for r in registry.rows:
        if r["单位编码"] == unit_code:
            return r
    return None


def _amounts(ctx: RuleContext, params: dict) -> None:
    check_amounts(ctx.spec, ctx.res, params)


def check_amounts(spec: FormSpec, res: FileResult, params: dict | None = None) -> None:
    """The total equals its two parts (params: total, fiscal, other: field names), E103 at the total."""
    params = params if params is not None else _declared(spec, "amounts")
    names = tuple(params.get(k) for k in ("total", "fiscal", "other"))
    f = res.data.fields
    if not all(names) or not all(n in f for n in names):
        return
    total, fiscal, other = (money(f[n]) for n in names)
    if None not in (total, fiscal, other) and total != fiscal + other:
        res.add(Issue.make("E103", spec.sheet, spec.field(names[0]).cell, total=f"{total:.2f}",
                           fiscal=f"{fiscal:.2f}", other=f"{other:.2f}"))


def _plan(ctx: RuleContext, params: dict) -> None:
    check_plan(ctx.spec, ctx.res, ctx.prow, params)


def check_plan(spec: FormSpec, res: FileResult, prow: dict, params: dict | None = None) -> None:
    """Cumulative spending plan (params: group, the fields' group; final, the last period's value): one
    scale, never decreasing (an empty period is E101 and skipped), *final* at the end."""
    params = params if params is not None else _declared(spec, "plan")
    group = params.get("group")
    plan = [f for f in spec.fields if group and f.group == group]
    nums = [prow.get(f"{f.name}__num") for f in plan]
    nums = [None if n is None or n != n else n for n in nums]
    if _mixed_scale(spec, res, plan, nums, prow):
        return
    prev = None
    for f, n in zip(plan, nums):
        if n is None:
            continue
        if prev is not None and n < prev:
            res.add(Issue.make("E105", spec.sheet, f.cell, field=f.name, found=_num(n), previous=_num(prev)))
        prev = n
    final = params.get("final")
    if plan and final is not None:
        last = prow.get(f"{plan[-1].name}__num")
        if last is not None and last == last and abs(last - final) > 1e-6:
            res.add(Issue.make("E106", spec.sheet, plan[-1].cell, found=_num(last)))


def _mixed_scale(spec: FormSpec, res: FileResult, plan: list, nums: list, prow: dict) -> bool:
    """25% typed in one period (arriving as 0.25) and 100 in another: E133 rather than a plan that
    reads as 0.25 % spent by March. Only when reading the fractions as percentages gives a valid plan,
    so a real 0.5 % (0.5, 10, 50, 100) still reads as written, and "0.5%" typed as text always does."""
    known = [n for n in nums if n is not None]
    # "0.5%" typed as text says what it means; only a bare fraction is ambiguous
    bare = [(f, n) for f, n in zip(plan, nums) if n is not None and "%" not in str(prow.get(f.name, "")).replace("％", "%")]
    if not any(0 < n < 1 for _f, n in bare) or not any(n > 1 for n in known):
        return False
    rescaled = [n * 100 if 0 < n <= 1 else n for n in known]
    if any(b < a for a, b in zip(rescaled, rescaled[1:])) or max(rescaled) > 100:
        return False
    # one issue per cell the rescale changes (1 next to 100 is 100 % too): each is marked in the
    # feedback workbook, so fixing the marked cells fixes the plan
    changed = [(f, n) for f, n in bare if 0 < n <= 1]
    for f, n in changed:
        res.add(Issue.make("E133", spec.sheet, f.cell, field=f.name, fraction=_num(n),
                           percent=_num(round(n * 100, 6)), found="、".join(_num(k) for k in known)))
    return True


def _num(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


_FIRST_ROWS: dict = {}


def _first_rows(spec: FormSpec, slots: int) -> dict:
    """二级指标 -> first sheet row of its slots; once per (form, slot count), not once per return."""
    hit = _FIRST_ROWS.get((id(spec), slots))
    if hit is None or hit[0] is not spec:
        first_row = {}
        for s in spec.slot_rows(slots):
            first_row.setdefault(s.level2, s.row0 + 1)
        hit = _FIRST_ROWS[(id(spec), slots)] = (spec, first_row)
    return hit[1]


def _filled(res: FileResult) -> dict:
    filled = defaultdict(int)
    for ir in res.data.indicators:
        filled[ir.level2] += 1
    return filled


def _level2_required(ctx: RuleContext, params: dict) -> None:
    """E107: a 二级指标 the spec marks required has no filled row."""
    spec, res = ctx.spec, ctx.res
    if not spec.groups:
        return
    filled = _filled(res)
    first_row = _first_rows(spec, int(res.data.meta.get("slots") or spec.slots))
    for g in spec.groups:
        for l2 in g.level2:
            if l2.required and not filled[l2.name]:
                res.add(Issue.make("E107", spec.sheet, f"{spec.columns[0].col}{first_row[l2.name]}", level2=l2.name))


def _group_min(ctx: RuleContext, params: dict) -> None:
    """E118: fewer filled rows than an indicator group's or a section's min_filled."""
    spec, res = ctx.spec, ctx.res
    d = res.data
    if spec.groups:
        filled = _filled(res)
        first_row = _first_rows(spec, int(d.meta.get("slots") or spec.slots))
        for g in spec.groups:
            if g.min_filled and sum(filled[l2.name] for l2 in g.level2) < g.min_filled:
                res.add(Issue.make("E118", spec.sheet, f"{spec.columns[0].col}{first_row[g.level2[0].name]}",
                                   level1=g.name, count=g.min_filled))
    for sec in spec.sections:
        if sec.min_filled and len(d.sections.get(sec.name, [])) < sec.min_filled:
            res.add(Issue.make("E118", spec.sheet, f"{sec.title_col}{sec.first_row}", level1=sec.name,
                               count=sec.min_filled))


def _section_rows(ctx: RuleContext, params: dict) -> None:
    """E108: a section row with a title and no text, or text and no title."""
    spec, d = ctx.spec, ctx.res.data
    for sec in spec.sections:
        for item in d.sections.get(sec.name, []):
            if not item["标题"] or not item["内容"]:
                ctx.res.add(Issue.make("E108", spec.sheet, item["ref"] if not item["标题"] else item["text_ref"],
                                       missing="标题" if not item["标题"] else "内容"))


def _formulas(ctx: RuleContext, params: dict) -> None:
    """E116: a formula in an input cell."""
    for ref, formula in sorted(ctx.res.data.formulas.items()):
        ctx.res.add(Issue.make("E116", ctx.spec.sheet, ref, found=formula[:80]))


def _distinct_lines(ctx: RuleContext, params: dict) -> None:
    """W202: a line repeated in a multi-line field (params: field; except, lines that may repeat)."""
    d = ctx.res.data
    name = params.get("field")
    goals = text(d.fields.get(name))
    allowed = set(params.get("except", ()))
    seen = set()
    for line in goals.splitlines():
        core = _GOAL_NUMBER.sub("", line).strip().rstrip("。；;")
        if not core:
            continue
        if core in seen and core not in allowed:
            ctx.res.add(Issue.make("W202", ctx.spec.sheet, d.refs[name], line=core))
        seen.add(core)


def _short_text(ctx: RuleContext, params: dict) -> None:
    """W205: a text field filled with fewer characters than its min_length (params: field; min_length, when
    not the field's own)."""
    d = ctx.res.data
    name = params.get("field")
    if name in d.fields:
        use = text(d.fields[name])
        if use and len(use) < params.get("min_length", ctx.spec.field(name).min_length):
            ctx.res.add(Issue.make("W205", ctx.spec.sheet, d.refs[name], found=use))


def _target_value(ctx: RuleContext, ir, column: str):
    """(raw, parsed) of an indicator row's target cell."""
    raw = ir.values.get(column)
    return raw, parse_value(raw, ctx.res.data.number_formats.get(ir.refs.get(column)))


def _yesno(ctx: RuleContext, params: dict) -> None:
    """W201 (E120 with --reject-yesno): 是否 as a target (params: column)."""
    column = params.get("column")
    code = "E120" if ctx.opts is not None and ctx.opts.reject_yesno else "W201"
    for ir in ctx.res.data.indicators:
        raw, pr = _target_value(ctx, ir, column)
        if pr.status is ValueStatus.YESNO:
            ctx.res.add(Issue.make(code, ctx.spec.sheet, ir.refs[column], found=text(raw)))


def _differs_from(ctx: RuleContext, params: dict) -> None:
    """W203: a column repeats another one of its row (params: column, other; except, values allowed)."""
    column, other = params.get("column"), params.get("other")
    allowed = set(params.get("except", ()))
    for ir in ctx.res.data.indicators:
        name, desc = text(ir.values.get(other)), text(ir.values.get(column))
        if name and desc and name == desc and name not in allowed:
            ctx.res.add(Issue.make("W203", ctx.spec.sheet, ir.refs[column], found=desc))


def _cost_direction(ctx: RuleContext, params: dict) -> None:
    """W204: a cost indicator (Level2.cost) set as ≥ a percentage of at least `limit` (params: column, limit)."""
    column, limit = params.get("column"), params.get("limit", 100)
    cost = {l2.name for l2 in ctx.spec.level2s if l2.cost}
    for ir in ctx.res.data.indicators:
        if ir.level2 not in cost:
            continue
        raw, pr = _target_value(ctx, ir, column)
        if pr.value and pr.value.unit == "%" and pr.value.symbol in ("≥", "＞") \
                and pr.value.number is not None and pr.value.number >= limit:
            ctx.res.add(Issue.make("W204", ctx.spec.sheet, ir.refs[column], found=text(raw)))


def _probable_percent(ctx: RuleContext, params: dict) -> None:
    """W231: a target that reads as a percentage written as a fraction, judged with its row's other text
    (params: column)."""
    column = params.get("column")
    for ir in ctx.res.data.indicators:
        raw, pr = _target_value(ctx, ir, column)
        number = pr.value.number if pr.value is not None else None
        if number is None or not 0 < number <= 1:  # only a fraction can be a percentage written as one
            continue
        meant = probable_percent(pr.value, " ".join(text(x) for k, x in ir.values.items() if k != column))
        if meant is not None:
            ctx.res.add(Issue.make("W231", ctx.spec.sheet, ir.refs[column], found=text(raw), meant=meant.display()))


def _file_code(ctx: RuleContext, params: dict) -> None:
    file_code_warning(ctx.spec, ctx.res)


def file_code_warning(spec: FormSpec, res: FileResult) -> None:
    """A return renamed to another project's file name: the content counts, but say so."""
    from pathlib import Path

    m = _FILE_CODE.match(Path(res.path).name)
    code = res.data.key
    if m and code and m.group(1) != code:
        res.add(Issue.make("W206", spec.meta_sheet, "project_code", name_code=m.group(1), found=code))


# The kinds this engine knows. Registered here rather than with @rule on each function: mutmut does not
# mutate decorated functions, and the mutation score of this engine is a measured figure (docs/testing.md).
for _kind, _runner in {"identity": _identity, "amounts": _amounts, "plan": _plan, "level2-required": _level2_required,
                       "group-min": _group_min, "section-rows": _section_rows, "formulas": _formulas,
                       "distinct-lines": _distinct_lines, "short-text": _short_text, "yesno": _yesno,
                       "differs-from": _differs_from, "cost-direction": _cost_direction,
                       "probable-percent": _probable_percent, "file-code": _file_code}.items():
    rule(_kind)(_runner)


# ---------------------------------------------------------------- driver --------
def _content_key(res: FileResult) -> tuple:
    d = res.data
    inds = tuple((ir.level2, ir.slot, tuple(sorted((k, text(v)) for k, v in ir.values.items()))) for ir in d.indicators)
    fields = tuple(sorted((k, text(v)) for k, v in d.fields.items()))
    secs = tuple(sorted((k, tuple((i["标题"], i["内容"]) for i in v)) for k, v in d.sections.items()))
    return fields, inds, secs


def saved_at(path: str) -> str:
    """When the workbook was last saved, from docProps/core.xml (Excel, WPS and LibreOffice write it).

    Read only for returns that compete for one project, so the common case pays nothing.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            core = zf.read("docProps/core.xml")[:65536]
    except (OSError, KeyError, zipfile.BadZipFile):
        return ""
    m = re.search(rb"<dcterms:modified[^>]*>([^<]{1,40})</dcterms:modified>", core)
    return m.group(1).decode("ascii", "replace").strip() if m else ""


def check_duplicates(results: list[FileResult], opts: Options) -> None:
    """Identical copies are skipped; different returns of one project are an error, or the newest wins."""
    groups = defaultdict(list)
    for res in results:
        if res.data is not None:
            groups[(res.kind, res.data.key)].append(res)
    for (_kind, key), items in groups.items():
        if len(items) < 2 or not key:
            continue
        items.sort(key=lambda r: (saved_at(r.source), r.mtime, r.path), reverse=True)
        first_by_content = {}
        distinct = []
        for r in items:
            k = _content_key(r)
            if k in first_by_content:
                r.add(Issue.make("W207", other=first_by_content[k].path))
            else:
                first_by_content[k] = r
                distinct.append(r)
        if len(distinct) < 2:
            continue
        if opts.duplicates == "latest":
            for r in distinct[1:]:
                r.add(Issue.make("W208", other=distinct[0].path))
        else:
            for r in distinct:
                others = "、".join(o.path for o in distinct if o is not r)
                r.add(Issue.make("E115", project=key, other=others))


def _cross_field(spec: FormSpec, res: FileResult, registry: Registry, opts: Options, prow: dict) -> list[Issue]:
    """The rules that need one return and its registry row; their issues, in the order they are filed."""
    before = len(res.issues)
    ctx = RuleContext(spec, res, registry, opts, prow)
    try:
        for declared in spec.checks:
            runner = RULES.get(declared.get("kind"))
            if runner is None:  # the spec names a kind this version does not know: the form cannot be checked
                raise ValueError(f"unknown check kind {declared.get('kind')!r} in {spec.path}")
            runner(ctx, declared)
        return res.issues[before:]
    finally:
        del res.issues[before:]


@dataclass(frozen=True)
class Prepared:
    """The per-return part of validation, done as soon as the return is read (e.g. while the workers
    read on): the form it was checked as, and the issues of its cells and of the cross-field rules."""
    spec_name: str
    issues: list


def prepare(res: FileResult, registry: Registry, opts: Options | None = None) -> Prepared | None:
    """Everything :func:`validate_results` does for one return that needs no other return: the checks of
    its cells and the cross-field rules. None for a result that is not validated (nothing read, or
    already rejected by the reader). Does not change *res*."""
    if res.data is None or res.errors:
        return None
    spec = load_spec(res.data.spec_name)
    if spec.engine == "table":
        from .checks import run_checks

        return Prepared(res.data.spec_name, run_checks(spec, res, registry))
    prow, irows = frame_rows(spec, res)
    return Prepared(res.data.spec_name,
                    cell_issues(spec, res, prow, irows) + _cross_field(spec, res, registry, opts or Options(), prow))


def validate_results(results: list[FileResult], registry: Registry, opts: Options | None = None,
                     prepared: list | None = None) -> None:
    """Apply every rule to the parsed returns, in place, then settle each file's status.

    *prepared*, aligned with *results*, may hold :func:`prepare` of each (made with the same registry
    and options, e.g. while the other files were still being read); None entries are done here.
    """
    opts = opts or Options()
    for i, res in enumerate(results):
        if res.data is None or res.errors:
            continue
        pre = prepared[i] if prepared is not None else None
        if pre is None or pre.spec_name != res.data.spec_name:
            pre = prepare(res, registry, opts)
        res.issues.extend(pre.issues)
    from .collection import relocate, set_aside_copies

    check_duplicates(set_aside_copies([r for r in results if r.data is not None and not r.errors]), opts)
    relocate(results)  # a sub-master's record: its issues name the master's cells
    for res in results:
        _order(res)
        res.settle(strict=opts.strict)
    supersede_fixed(results, opts)


def _saved_order(res: FileResult) -> tuple:
    return saved_at(res.source), res.mtime, res.path


def supersede_fixed(results: list[FileResult], opts: Options) -> None:
    """When the newest valid return wins (--duplicates latest), a rejected return older than an accepted
    return of the same form is history, not an open problem: it is set aside (W208) like an older valid
    one, so a round whose every project has an accepted fix ends with nothing rejected."""
    if opts.duplicates != "latest":
        return
    rejected = defaultdict(list)
    for res in results:
        if res.status == "rejected" and res.data is not None and res.data.key:
            rejected[(res.kind, res.data.key)].append(res)
    if not rejected:
        return
    # the saved times (a zip read each) only of forms that have a rejected return: not of every return
    newest_accepted: dict[tuple, tuple] = {}
    for res in results:
        key = (res.kind, res.data.key) if res.status == "accepted" and res.data is not None else None
        if key in rejected:
            order = _saved_order(res)
            if key not in newest_accepted or order > newest_accepted[key][0]:
                newest_accepted[key] = (order, res)
    for key, (order, accepted) in newest_accepted.items():
        for res in rejected[key]:
            if _saved_order(res) < order:
                res.add(Issue.make("W208", other=accepted.path))
                res.status = "skipped"


_SEVERITY_ORDER = {"error": 0, "skip": 1, "warning": 2}
_A1 = re.compile(r"^([A-Z]+)(\d+)$")


def _order(res: FileResult) -> None:
    """Each issue once: errors first, then by row and column, then code (runs for every file of a round)."""
    issues = list(dict.fromkeys(res.issues))
    if len(issues) > 1:
        issues.sort(key=_issue_order)
    res.issues = issues


def _issue_order(i: Issue) -> tuple:
    return _SEVERITY_ORDER[i.severity], _cell_sort(i.cell), i.code


def _cell_sort(ref: str):
    m = _A1.match(ref or "")
    return (int(m.group(2)), m.group(1)) if m else (0, ref or "")
