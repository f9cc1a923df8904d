"""The check engine of table forms: runs the [[checks]] a spec declares, in order, on one return."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from .model import FileResult, Issue, text
from .registry import money, parse_amount, project_row_of
from .spec import FormSpec
from .table_form import canon, row_refs

CHECKS: dict[str, Callable] = {}
# Kinds a record read from a sub-master skips (xlperf.collection): a master keeps no template snapshot of the
# locked cells (its values are checked against the registry by `identity` instead) and no cell formulas (so
# the `cells` check finds none there: only the sub-master's own returns could have had them).
NOT_FOR_RECORDS = {"locked"}


def check(kind: str):
    """Register the code that runs one kind of declared check (the instances are data in the spec)."""
    def register(fn):
        CHECKS[kind] = fn
        return fn
    return register


@dataclass
class Context:
    """One return under check: its values, where they sit, and what the checks work out."""
    spec: FormSpec
    res: FileResult
    registry: object
    issues: list = field(default_factory=list)
    reported: set = field(default_factory=set)  # refs with an error already: later checks do not pile on

    @property
    def data(self):
        return self.res.data

    def add(self, code: str, cell: str = "", **params) -> None:
        self.issues.append(Issue.make(code, self.spec.sheet, cell, **params))
        if code.startswith("E"):
            self.reported.add(cell)

    def field_number(self, name: str) -> Decimal | None:
        """A fixed cell as a number (None when empty or not a number: the cells check reports that)."""
        return money(self.data.fields.get(name))  # None for a bool too

    def ref(self, name: str) -> str:
        return self.data.refs.get(name, "")


def output(declared: dict, key: str, **fill) -> str:
    """The name a computed value has in the master, as the check's `outputs` table declares it."""
    try:
        return declared["outputs"][key].format(**fill)
    except (KeyError, AttributeError) as exc:
        raise ValueError(f"check {declared.get('kind')!r} needs outputs.{key} in its spec") from exc


def run_checks(spec: FormSpec, res: FileResult, registry) -> list[Issue]:
    """Every declared check on one read return; its issues. Fills res.data.computed on the way."""
    ctx = Context(spec, res, registry)
    res.data.computed = {}
    res.data.row_computed = [{} for _ in res.data.indicators]
    for declared in spec.checks:
        if res.data.origin and declared.get("kind") in NOT_FOR_RECORDS:
            continue
        runner = CHECKS.get(declared.get("kind"))
        if runner is None:  # the spec names a kind this version does not know: the form cannot be checked
            raise ValueError(f"unknown check kind {declared.get('kind')!r} in {spec.path}")
        runner(ctx, declared)
    return ctx.issues


def _share(value: float | None) -> float | None:
    """A rate as the master shows it: 4 decimals (0.8601 = 86.01 %)."""
    return None if value is None else round(value, 4)


def fmt_number(value) -> str:
    if value is None:
        return "（空）"
    d = Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{d:f}".rstrip("0").rstrip(".")  # quantized to 0.01: the text always has a decimal point


def fmt_percent(value) -> str:
    """A share as a percentage with two decimals (0.9303 -> 93.03%, 1 -> 100.00%): a column reads evenly."""
    if value is None:
        return "—"
    return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP):f}%"


# ------------------------------------------------------------------ cells -----
def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_cells(ctx: Context, declared: dict) -> None:
    """What each input cell declares: required, a number where a number goes, a list, a length; no formula."""
    spec, data = ctx.spec, ctx.data
    for f in spec.input_fields:
        _check_cell(ctx, f.name, f, data.fields.get(f.name), f.cell)
    for row in data.indicators:
        for c in spec.columns:
            if not c.locked:
                _check_cell(ctx, spec.fill_text(c.label or c.name), c, row.values.get(c.name), row.refs[c.name])


def _check_cell(ctx: Context, name: str, item, value, ref: str) -> None:
    formula = ctx.data.formulas.get(ref)
    if formula:
        ctx.add("E116", ref, found=formula[:50])
        return
    if _is_empty(value):
        if item.required:
            ctx.add("E101", ref, field=name)
        return
    if item.type in ("money", "number") and (isinstance(value, bool) or money(value) is None):
        ctx.add("E301", ref, field=name, found=text(value)[:50])
    elif item.choices and text(value) not in item.choices:
        ctx.add("E117", ref, field=name, choices="、".join(item.choices), found=text(value)[:50])
    elif item.max_length and len(text(value)) > item.max_length:
        ctx.add("E113", ref, field=name, limit=item.max_length, length=len(text(value)))


# ----------------------------------------------------------- identity, locks --
def check_identity(ctx: Context, declared: dict) -> None:
    """The project is in the registry, and the locked cells the registry holds agree with it."""
    spec, data = ctx.spec, ctx.data
    row, found = project_row_of(spec, data, ctx.registry)  # E006, E114
    ctx.issues += found
    ctx.reported.update(i.cell for i in found if i.sheet == spec.sheet)  # the key cell (E114), as ctx.add marks it
    if row is None:
        return
    for f in spec.locked_fields:
        if not f.source or f.source.startswith("=") or "{" in f.source or text(row.get(f.source)) == "":
            continue  # not a registry column (or empty there): the locked check compares it with the template
        expected, found = _comparable(f, row.get(f.source)), _comparable(f, data.fields.get(f.name))
        if expected != found:
            ctx.add("E102", f.cell, field=f.name, found=found or "（空）", expected=expected)


def _comparable(f, value) -> str:
    if f.type in ("money", "number"):
        m = money(value)
        return f"{m:.2f}" if m is not None else text(value)
    return text(value)


def check_locked(ctx: Context, declared: dict) -> None:
    """Every locked cell still holds what the template was generated with (kept in its metadata)."""
    spec, data = ctx.spec, ctx.data
    try:
        snapshot = json.loads(data.meta.get("locked") or "{}")
    except (ValueError, RecursionError):  # the metadata is the unit's file: any text can arrive
        snapshot = None
    if not isinstance(snapshot, dict):
        ctx.issues.append(Issue.make("E007", spec.meta_sheet, "locked"))
        return
    names = {f.cell: f.name for f in spec.locked_fields}
    values = {f.cell: data.fields.get(f.name) for f in spec.locked_fields}
    for row, refs in zip(data.indicators, row_refs(spec, len(data.indicators))):
        for c in spec.columns:
            if c.locked:
                names[refs[c.name]] = c.name
                values[refs[c.name]] = row.values.get(c.name)
    for ref, want in snapshot.items():
        if ref not in names or ref in ctx.reported:
            continue
        found = canon(values[ref])
        if found != text(want):
            ctx.add("E313", ref, field=names[ref], expected=text(want)[:100], found=found[:100] or "（空）")


# ----------------------------------------------------------------- numbers ----
def check_range(ctx: Context, declared: dict) -> None:
    low, high = declared.get("min"), declared.get("max")
    cells = [(name, ctx.data.fields.get(name), ctx.ref(name)) for name in declared.get("fields", ())]
    for column in declared.get("columns", ()):
        cells += [(column, row.values.get(column), row.refs.get(column, "")) for row in ctx.data.indicators]
    for name, value, ref in cells:
        number = money(value)
        if number is None or ref in ctx.reported:
            continue
        if (low is not None and number < Decimal(str(low))) or (high is not None and number > Decimal(str(high))):
            ctx.add("E302", ref, field=name, found=fmt_number(number),
                    low=fmt_number(low) if low is not None else "", high=fmt_number(high) if high is not None else "∞")


def check_le(ctx: Context, declared: dict) -> None:
    """One fixed cell not above another (e.g. spending not above the budget)."""
    left, right = declared["left"], declared["right"]
    a, b = ctx.field_number(left), ctx.field_number(right)
    if a is None or b is None or a <= b:
        return
    code = "W303" if declared.get("severity") == "warning" else "E303"
    ctx.add(code, ctx.ref(left), left=left, left_value=fmt_number(a), right=right, right_value=fmt_number(b))


def check_sum(ctx: Context, declared: dict) -> None:
    """A column's rows, plus some fixed cells, add up to a total (the points make 100)."""
    column, total = declared["column"], Decimal(str(declared["total"]))
    numbers = [money(row.values.get(column)) for row in ctx.data.indicators]
    plus = [ctx.field_number(name) for name in declared.get("plus", ())]
    if any(n is None for n in numbers + plus):
        return  # an empty or wrong cell is already reported by the cells check
    found = sum(numbers, Decimal(0)) + sum(plus, Decimal(0))
    if abs(found - total) > Decimal("0.01"):
        refs = [row.refs.get(column, "") for row in ctx.data.indicators]
        ctx.add("E304", refs[0] if refs else "", field=column, expected=fmt_number(total), found=fmt_number(found),
                plus="、".join(declared.get("plus", ())) or "—")


# ----------------------------------------------------------------- scoring ----
def _rules(spec: FormSpec):
    from .scoring import ScoringRules

    return ScoringRules.from_table(spec.scoring)


def _indicator_name(spec: FormSpec, row) -> str:
    third = next((c for c in spec.columns if c.locked and c.role == ""), None)
    return text(row.values.get(third.name)) if third else f"{row.level2}"


def _format_of(data, ref: str) -> str:
    return data.number_formats.get(ref, "")


def check_score(ctx: Context, declared: dict) -> None:
    """Score the return as the spec's [scoring] says, never trusting a typed score; the reason rules."""
    from .scoring import grade, score_funds, total_score

    spec, data = ctx.spec, ctx.data
    rules = _rules(spec)
    computed, per_row = data.computed, data.row_computed
    plan, spent = spec.role("plan_total"), spec.role("spent_total")
    budget = ctx.field_number(plan.name) if plan else None
    executed = ctx.field_number(spent.name) if spent else None
    funds_points = Decimal(str(rules.funds_points))
    if budget is not None and budget == 0 and plan.cell not in ctx.reported:
        ctx.add("E312", plan.cell, field=plan.name)
    funds = score_funds(float(budget) if budget is not None else None,
                        float(executed) if executed is not None else None, float(funds_points))
    computed.update({output(declared, "rate"): _share(funds.rate), output(declared, "funds_score"): funds.score})
    _typed_rate(ctx, funds.rate)
    typed_funds = spec.role("typed_funds_score")
    if typed_funds is not None:
        _typed_score(ctx, typed_funds, data.fields.get(typed_funds.name), ctx.ref(typed_funds.name), funds.score)
    reason_field = spec.role("spent_reason")
    if (funds.rate is not None and funds.rate < rules.execution_reason_below and reason_field is not None
            and _is_empty(data.fields.get(reason_field.name))):
        ctx.add("E308", reason_field.cell, rate=fmt_percent(funds.rate), limit=fmt_percent(rules.execution_reason_below),
                field=reason_field.name)
    target_col, actual_col = spec.role("target"), spec.role("actual")
    points_col, reason_col, typed_col = spec.role("points"), spec.role("reason"), spec.role("typed_score")
    scores, by_level1 = [], {}
    for row, extra in zip(data.indicators, per_row):
        points = money(row.values.get(points_col.name)) if points_col else None
        actual_ref = row.refs.get(actual_col.name, "")
        if points is None or actual_ref in ctx.reported:
            continue
        target, actual = row.values.get(target_col.name), row.values.get(actual_col.name)
        result = scored(target, actual, float(points), rules, declared.get("yes_no", ()),
                                 target_format=_format_of(data, row.refs.get(target_col.name, "")),
                                 actual_format=_format_of(data, actual_ref))
        name = _indicator_name(spec, row)
        if result.score is None:  # unscorable
            ctx.add("E309", actual_ref, indicator=name, field=actual_col.name, found=text(actual)[:50] or "（空）",
                    target=text(target), example=_example(spec, target))
            continue
        extra[output(declared, "row_score")] = result.score
        scores.append(result)
        by_level1[row.level1] = by_level1.get(row.level1, 0.0) + result.score
        if result.score < float(points) - 0.005 and reason_col is not None and _is_empty(row.values.get(reason_col.name)):
            ctx.add("E305", row.refs.get(reason_col.name, ""), indicator=name, target=text(target),
                    actual=text(actual), score=fmt_number(result.score), points=fmt_number(points), field=reason_col.name)
        if result.overshoot:
            ctx.add("W306", actual_ref, indicator=name, actual=text(actual), target=text(target),
                    percent=fmt_number(rules.overshoot * 100))
        if typed_col is not None:
            _typed_score(ctx, typed_col, row.values.get(typed_col.name), row.refs.get(typed_col.name, ""), result.score)
    for level1 in rules.level1_points:
        computed[output(declared, "level1_score", level1=level1)] = round(by_level1.get(level1, 0.0), 2)
    if len(scores) == len(data.indicators) and funds.rate is not None:
        total = total_score(funds, scores)
        computed.update({output(declared, "total"): total, output(declared, "grade"): grade(total, rules)})
        if spec.total_label and typed_col is not None:
            key = f"{spec.total_label}{typed_col.name}"
            _typed_score(ctx, typed_col, data.fields.get(key), data.refs.get(key, ""), total,
                         label=spec.total_label)


def scored(target, actual, points: float, rules, yes_no=(), target_format: str = "", actual_format: str = ""):
    """score_indicator, with a yes/no target (是否, kept from the targets round with a warning) read as a
    qualitative one: the check's first yes_no answer is the first grade of the spec, the second the last."""
    from .scoring import score_indicator
    from .values import QUALITATIVE_TEXTS, ValueStatus, parse_indicator_value

    if parse_indicator_value(target).status == ValueStatus.YESNO:
        grades = list(rules.qualitative)
        target = QUALITATIVE_TEXTS[0]
        answer = text(actual)
        answers = dict(zip(yes_no, (grades[0], grades[-1])))
        actual = answers.get(answer, answer)
    return score_indicator(target, actual, points, rules, target_format=target_format, actual_format=actual_format)


def _example(spec: FormSpec, target) -> str:
    from .values import QUALITATIVE, parse_indicator_value

    parsed = parse_indicator_value(target).value
    if parsed is None:
        return "、".join(spec.examples[:2])
    if parsed.symbol == QUALITATIVE:
        return "、".join(_rules(spec).qualitative)
    return f"{fmt_number(parsed.number)}{parsed.unit}"


def _typed_rate(ctx: Context, rate) -> None:
    typed_field = ctx.spec.role("typed_rate")
    if typed_field is None or rate is None:
        return
    value = ctx.data.fields.get(typed_field.name)
    # as typed, not to the cent: 95.6 % in the percent-formatted cell arrives as 0.956 (an amount would read 0.96)
    number = parse_amount(value)  # None for a bool too
    if number is None:
        return
    typed = float(number)
    fmt = ctx.data.number_formats.get(typed_field.cell, "")
    if "%" not in fmt and typed > 1.5:  # 85 typed into a plain cell means 85 %
        typed /= 100
    if abs(typed - rate) > 0.0051:
        ctx.add("W307", typed_field.cell, field=typed_field.name, typed=fmt_percent(typed), computed=fmt_percent(rate))


def _typed_score(ctx: Context, item, value, ref: str, score: float, label: str = "") -> None:
    if item is None or not ref:
        return
    number = money(value)  # None for a bool too
    if number is None:
        return
    if abs(number - Decimal(str(score))) > Decimal("0.01"):  # in decimals: a cent off is a cent at any size
        ctx.add("W307", ref, field=f"{label}{item.name}", typed=fmt_number(number), computed=fmt_number(score))


# -------------------------------------------------------------- monitoring ----
def check_pace(ctx: Context, declared: dict) -> None:
    """Spending far behind the share of the year elapsed warns; the rates go to the master."""
    spec, data = ctx.spec, ctx.data
    spent, budget = ctx.field_number(declared["spent"]), ctx.field_number(declared["budget"])
    through = _through(data.meta, spec)
    elapsed = through / 12
    rate = float(spent / budget) if spent is not None and budget else None
    forecast_field = spec.role("forecast_total")
    forecast = ctx.field_number(forecast_field.name) if forecast_field else None
    data.computed.update({output(declared, "rate"): _share(rate), output(declared, "elapsed"): _share(elapsed),
                          output(declared, "forecast_rate"):
                              _share(float(forecast / budget)) if forecast is not None and budget else None})
    _typed_rate(ctx, rate)
    if rate is not None and rate < float(declared.get("behind", 0.5)) * elapsed:
        reason = spec.role("spent_reason")
        if reason is None or _is_empty(data.fields.get(reason.name)):
            ctx.add("W311", ctx.ref(declared["spent"]), rate=fmt_percent(rate), elapsed=fmt_percent(elapsed),
                    through=through, field=reason.name if reason else "")


def _through(meta: dict, spec: FormSpec) -> int:
    try:
        n = int(meta.get("through", ""))
    except ValueError:
        n = spec.through
    return n if 1 <= n <= 12 else (spec.through or 12)


def check_forecast(ctx: Context, declared: dict) -> None:
    """An expected value short of the target needs its reasons (each named column, at its cell)."""
    spec, data = ctx.spec, ctx.data
    rules = _rules(spec)
    target_col, forecast_name = spec.role("target"), declared["actual"]
    short = 0
    for row, extra in zip(data.indicators, data.row_computed):
        ref = row.refs.get(forecast_name, "")
        if ref in ctx.reported:
            continue
        target, forecast = row.values.get(target_col.name), row.values.get(forecast_name)
        result = scored(target, forecast, 1.0, rules, declared.get("yes_no", ()),
                        target_format=_format_of(data, row.refs.get(target_col.name, "")),
                                 actual_format=_format_of(data, ref))
        name = _indicator_name(spec, row)
        if result.outcome == "unscorable":
            ctx.add("E309", ref, indicator=name, field=forecast_name, found=text(forecast)[:50] or "（空）",
                    target=text(target), example=_example(spec, target))
            continue
        met = result.ratio is not None and result.ratio >= 1  # reached, not merely rounded to full marks
        yes, no = declared.get("yes_no", ("", ""))[:2]
        extra[output(declared, "met")] = yes if met else no
        if met:
            continue
        short += 1
        for reason in declared.get("reasons", ()):
            if _is_empty(row.values.get(reason)) and row.refs.get(reason, "") not in ctx.reported:
                ctx.add("E310", row.refs.get(reason, ""), indicator=name, forecast=text(forecast), target=text(target),
                        field=reason)
    data.computed.update({output(declared, "rows"): len(data.indicators), output(declared, "short"): short})


# The kinds this engine knows. Registered here rather than with @check on each function: mutmut does not
# mutate decorated functions, and the mutation score of this engine is a measured figure (docs/testing.md).
for _kind, _runner in {"cells": check_cells, "identity": check_identity, "locked": check_locked, "range": check_range,
                       "le": check_le, "sum": check_sum, "score": check_score, "pace": check_pace,
                       "forecast": check_forecast}.items():
    check(_kind)(_runner)
