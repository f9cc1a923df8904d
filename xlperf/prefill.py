"""Next year's templates prefilled from last year's master: same project codes, goals and indicators."""
from __future__ import annotations

from pathlib import Path

from .model import text
from .publish import read_master, value_display
from .writer import FormValues

# What carries over from one year to the next; amounts and the spending plan are new every year.
CARRY_FIELDS = ("绩效目标", "资金用途", "涉密")
# Choices carried only in one direction: a classified project stays classified, while "not classified"
# is confirmed by the unit again each year (a carried 否 would let a project that became classified
# slip into the public document unnoticed).
CARRY_ONLY = {"涉密": ("是",)}


def _carried(name: str, value) -> str:
    v = text(value)
    return v if v and (name not in CARRY_ONLY or v in CARRY_ONLY[name]) else ""


def prefill_values(master_path: Path) -> dict[str, FormValues]:
    """Project code -> FormValues for the input cells, taken from last year's master."""
    master = read_master(master_path)
    out: dict[str, FormValues] = {}
    for p in master["项目汇总"]:
        code = text(p["项目编码"])
        out[code] = FormValues(fields={k: _carried(k, p.get(k)) for k in CARRY_FIELDS if _carried(k, p.get(k))})
    for ind in master["绩效指标"]:
        fv = out.get(text(ind["项目编码"]))
        if fv is None:
            continue
        fv.indicators.setdefault(text(ind["二级指标"]), []).append({
            "三级指标": text(ind["三级指标"]), "绩效指标描述": text(ind["绩效指标描述"]),
            "指标值": value_display(ind), "指标值确定依据": text(ind["指标值确定依据"])})
    return out
