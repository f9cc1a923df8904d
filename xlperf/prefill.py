"""Next year's templates prefilled from last year's master: same project codes, goals and indicators."""
from __future__ import annotations

from pathlib import Path

from .master import (BASIS, DESCRIPTION, GOAL, INDICATOR, KEY, SECRET, SHEETS, TARGET, TARGETS, USE_OF_FUNDS)
from .model import text
from .publish import read_master, value_display
from .writer import FormValues

# What carries over from one year to the next; amounts and the spending plan are new every year.
CARRY_FIELDS = (GOAL, USE_OF_FUNDS, SECRET)
# Choices carried only in one direction: a classified project (the first choice, 是) stays classified,
# while "not classified" is confirmed by the unit again each year (a carried 否 would let a project
# that became classified slip into the public document unnoticed).
CARRY_ONLY = {SECRET: TARGETS.role("secret").choices[:1]}


def _carried(name: str, value) -> str:
    v = text(value)
    return v if v and (name not in CARRY_ONLY or v in CARRY_ONLY[name]) else ""


def prefill_values(master_path: Path) -> dict[str, FormValues]:
    """Project code -> FormValues for the input cells, taken from last year's master."""
    master = read_master(master_path)
    out: dict[str, FormValues] = {}
    projects, indicators = SHEETS[0], SHEETS[1]
    for p in master[projects]:
        code = text(p[KEY])
        out[code] = FormValues(fields={k: _carried(k, p.get(k)) for k in CARRY_FIELDS if _carried(k, p.get(k))})
    for ind in master[indicators]:
        fv = out.get(text(ind[KEY]))
        if fv is None:
            continue
        fv.indicators.setdefault(text(ind["二级指标"]), []).append({
            INDICATOR: text(ind[INDICATOR]), DESCRIPTION: text(ind[DESCRIPTION]),
            TARGET: value_display(ind), BASIS: text(ind[BASIS])})
    return out
