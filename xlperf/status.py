"""Collection tracking (who has returned what) and cell-by-cell diffs between two returns."""
from __future__ import annotations

from dataclasses import dataclass

from .model import FileResult
from .pipeline import Report
from .registry import Registry
from .rules import text

STATE_ZH = {"accepted": "已通过", "rejected": "退回", "missing": "未报送"}
STATE_EN = {"accepted": "accepted", "rejected": "rejected", "missing": "missing"}


@dataclass
class ProjectState:
    unit_code: str
    unit_name: str
    code: str
    name: str
    state: str  # accepted | rejected | missing
    files: list
    problems: list  # short texts of the errors, for the reminder


def project_states(report: Report, registry: Registry, lang: str = "zh") -> list[ProjectState]:
    by_code: dict[str, list[FileResult]] = {}
    for f in report.files:
        if f.project_code:
            by_code.setdefault(f.project_code, []).append(f)
    out = []
    for row in registry.rows:
        files = [f for f in by_code.get(row["项目编码"], []) if f.kind == "project"]
        accepted = [f for f in files if f.status == "accepted"]
        rejected = [f for f in files if f.status == "rejected"]
        state = "accepted" if accepted else "rejected" if rejected else "missing"
        problems = []
        if state == "rejected":
            for f in rejected:
                problems += [f"{i.cell or i.sheet}: {i.message(lang)}" if i.cell else i.message(lang) for i in f.errors]
        out.append(ProjectState(row["单位编码"], row["单位名称"], row["项目编码"], row["项目名称"], state,
                                [f.path for f in (accepted or rejected)], problems))
    return out


def unit_states(report: Report, registry: Registry) -> dict[str, str]:
    """State of each unit's unit-level form."""
    states = {}
    for code in registry.units:
        files = [f for f in report.files if f.kind == "unit" and f.project_code == code]
        states[code] = ("accepted" if any(f.status == "accepted" for f in files)
                        else "rejected" if files else "missing")
    return states


def reminders(states: list[ProjectState], units: dict[str, str], registry: Registry, lang: str = "zh") -> list[str]:
    """One line per unit with what is missing or wrong, ready to paste into a message."""
    lines = []
    for unit_code, unit_name in registry.units.items():
        mine = [s for s in states if s.unit_code == unit_code and s.state != "accepted"]
        unit_state = units.get(unit_code, "missing")
        if not mine and unit_state == "accepted":
            continue
        if lang == "en":
            parts = [f"{s.code} {s.name}: " + ("not returned" if s.state == "missing" else "rejected — " + "; ".join(s.problems[:3]))
                     for s in mine]
            if unit_state != "accepted":
                parts.append("unit-level form: " + ("not returned" if unit_state == "missing" else "rejected"))
            lines.append(f"{unit_code} {unit_name}: " + " | ".join(parts))
        else:
            parts = [f"{s.code}「{s.name}」" + ("尚未报送" if s.state == "missing" else "被退回：" + "；".join(s.problems[:3]))
                     for s in mine]
            if unit_state != "accepted":
                parts.append("部门整体绩效目标表" + ("尚未报送" if unit_state == "missing" else "被退回"))
            lines.append(f"{unit_code}{unit_name}：请尽快处理 — " + "；".join(parts))
    return lines


def status_json(states: list[ProjectState], units: dict[str, str], lines: list[str]) -> dict:
    counts = {k: sum(1 for s in states if s.state == k) for k in ("accepted", "rejected", "missing")}
    return {"projects": [s.__dict__ for s in states], "units": units, "summary": counts, "reminders": lines}


# ---------------------------------------------------------------- diff ---------
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
    import re

    m = re.match(r"([A-Z]+)(\d+)", ref)
    return (int(m.group(2)), m.group(1)) if m else (0, ref)
