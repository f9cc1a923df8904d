"""Next year's templates prefilled from last year's master: same project codes, goals and indicators."""
from __future__ import annotations

from pathlib import Path

from .publish import _t, read_master, value_display
from .writer import FormValues

# What carries over from one year to the next; amounts and the spending plan are new every year.
CARRY_FIELDS = ("绩效目标", "资金用途")


def prefill_values(master_path: Path) -> dict[str, FormValues]:
    """Project code -> FormValues for the input cells, taken from last year's master."""
    master = read_master(master_path)
    out: dict[str, FormValues] = {}
    for p in master["项目汇总"]:
        code = _t(p["项目编码"])
        out[code] = FormValues(fields={k: _t(p.get(k)) for k in CARRY_FIELDS if _t(p.get(k))})
    for ind in master["绩效指标"]:
        fv = out.get(_t(ind["项目编码"]))
        if fv is None:
            continue
        fv.indicators.setdefault(_t(ind["二级指标"]), []).append({
            "三级指标": _t(ind["三级指标"]), "绩效指标描述": _t(ind["绩效指标描述"]),
            "指标值": value_display(ind), "指标值确定依据": _t(ind["指标值确定依据"])})
    return out
