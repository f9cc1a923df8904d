"""The demo's later rounds: fill monitoring and self-evaluation templates as a sub-unit plausibly would."""
from __future__ import annotations

from pathlib import Path

from .model import text
from .spec import FormSpec
from .table_form import row_refs
from .values import GE, GT, LE, LT, QUALITATIVE, ValueStatus, format_number, parse_indicator_value

# The demo's story, project by project (cycled): how much of the budget was spent by the end of the
# round, and whether the first indicator fell short (a reason is then given, as the rules require).
SPENT_SHARES = (1.0, 0.97, 0.93, 0.86, 1.0, 0.99)
SHORT_EVERY = 4
DEMO_REASON = "受疫情影响部分活动延期，已调整计划，下一年度优先安排。"
DEMO_PROGRESS = "按计划推进，各项工作有序开展。"


def _actual(target: str, share: float, qualitative: tuple[str, ...]) -> str:
    """An actual value written like the target: the target met (share 1.0) or a share of it."""
    result = parse_indicator_value(target)
    parsed = result.value
    if result.status == ValueStatus.YESNO:  # a yes/no target (是否): answered 是 or 否
        return "是" if share >= 1 else "否"
    if parsed is None:
        return target
    if parsed.symbol == QUALITATIVE:
        return qualitative[0] if share >= 1 else qualitative[min(1, len(qualitative) - 1)]
    number = parsed.number or 0
    if parsed.symbol in (GE, GT):
        value = number * share if share < 1 else number
    elif parsed.symbol in (LE, LT):
        value = number / share if share < 1 and number else number
    else:
        value = number * share
    return f"{format_number(round(value, 2))}{parsed.unit}"


def fill_table_return(template: Path, out: Path, spec: FormSpec, index: int) -> None:
    """Fill one table-form template the way the demo's unit does; writes *out* (the template is untouched)."""
    import openpyxl

    from .scoring import ScoringRules

    wb = openpyxl.load_workbook(template)
    ws = wb[spec.sheet]
    meta = {row[0].value: row[1].value for row in wb[spec.meta_sheet].iter_rows(max_col=2)}
    n_rows = int(meta.get("rows") or 0)
    through = int(meta.get("through") or 0) or 12
    share = SPENT_SHARES[index % len(SPENT_SHARES)]
    qualitative = tuple(ScoringRules.from_table(spec.scoring).qualitative) if spec.scoring else ("达成",)
    budget = float(ws[spec.role("budget").cell].value or 0)
    spent_field, plan_field = spec.role("spent_total"), spec.role("plan_total")
    elapsed = through / 12 if spec.through else 1.0
    if plan_field is not None:
        ws[plan_field.cell] = budget
    if spent_field is not None:
        ws[spent_field.cell] = round(budget * share * elapsed, 2)
    forecast_total = spec.role("forecast_total")
    if forecast_total is not None:
        ws[forecast_total.cell] = round(budget * share, 2)
    reason_field = spec.role("spent_reason")
    if reason_field is not None and share < 0.9:
        ws[reason_field.cell] = DEMO_REASON
    for f in spec.input_fields:
        if f.required and f.type == "text" and ws[f.cell].value in (None, ""):
            ws[f.cell] = DEMO_PROGRESS
    target_col, actual_col = spec.role("target"), spec.role("actual")
    forecast_col, reason_col = spec.role("forecast"), spec.role("reason")
    likelihood = spec.role("likelihood")
    for i, refs in enumerate(row_refs(spec, n_rows)):
        target = text(ws[refs[target_col.name]].value)
        short = i == 0 and index % SHORT_EVERY == SHORT_EVERY - 1
        row_share = 0.9 if short else 1.0
        ws[refs[actual_col.name]] = _actual(target, row_share * (elapsed if spec.through else 1.0), qualitative) \
            if parse_indicator_value(target).value is None or parse_indicator_value(target).value.symbol != QUALITATIVE \
            else _actual(target, row_share, qualitative)
        if forecast_col is not None:
            ws[refs[forecast_col.name]] = _actual(target, row_share, qualitative)
        if short and reason_col is not None:
            column = spec.column(reason_col.name)
            ws[refs[reason_col.name]] = column.choices[0] if column.choices else DEMO_REASON
            if likelihood is not None:
                ws[refs[likelihood.name]] = spec.column(likelihood.name).choices[1]
            explain = next((c for c in spec.columns if not c.locked and c.type == "text" and not c.role), None)
            if explain is not None and column.choices:
                ws[refs[explain.name]] = DEMO_REASON
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
