"""Collection up a unit tree in the later rounds: 二级单位 send self-evaluation masters up, the 主管部门 scores them itself."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import TREE_DEPARTMENT as DEPARTMENT
from conftest import TREE_PLAN as PLAN
from conftest import TREE_UNITS as UNITS
from conftest import inbox, run_cli, tree_status, tree_sub_masters
from conftest import write_registry_csv as _write_registry
from xlperf.collection import META_SHEET, VIA_COLUMN


FORM = "self-evaluation"


@pytest.fixture(scope="module")
def rounds(demo_dir, tmp_path_factory) -> dict:
    """Self-evaluation templates from the demo's targets master for a 主管部门 with three units, the demo's
    filled returns (some indicators short, some spending low), and each 二级单位's master made by the CLI."""
    from xlperf.cycle import generate_round, plan_records, read_prefill
    from xlperf.cycle_demo import fill_table_return
    from xlperf.registry import bundled_registry_path, load_registry
    from xlperf.spec import load_spec

    root = tmp_path_factory.mktemp("rounds")
    rows = list(csv.DictReader(open(bundled_registry_path(), encoding="utf-8-sig")))
    for row, unit in zip(rows, PLAN):
        row["单位编码"], row["单位名称"] = UNITS[unit]
        row["主管部门"] = DEPARTMENT
    registry = _write_registry(root / "registry.csv", rows)
    spec = load_spec(FORM)
    plan = plan_records(spec, load_registry(registry).rows, read_prefill(demo_dir / "master.xlsx"))
    templates = generate_round(spec, plan.records, root / "templates", password="pw")
    returns: dict[str, dict[str, Path]] = {u: {} for u in UNITS}
    for i, (record, tpl, unit) in enumerate(zip(plan.records, templates, PLAN)):
        assert record.values["单位编码"] == UNITS[unit][0]
        out = root / "returns" / unit / tpl.name
        fill_table_return(tpl, out, spec, i)
        returns[unit][record.key] = out
    masters = tree_sub_masters(root, rows)
    [direct] = returns["C"].values()
    return {"root": root, "registry": registry, "returns": returns, "masters": masters, "direct": direct, "spec": spec}


def _folder(rounds: dict, name: str, *files: Path) -> Path:
    """The 主管部门's inbox: copies of the files given (the sub-masters and the originals stay untouched)."""
    return inbox(rounds["root"], name, *files)


def _consolidate(rounds: dict, folder: Path) -> tuple:
    out = folder.parent / f"{folder.name}_out"
    shutil.rmtree(out, ignore_errors=True)
    proc = run_cli("consolidate", folder, "-r", rounds["registry"], "-o", out / "master.xlsx", "--json", out / "report.json")
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc, json.loads((out / "report.json").read_text(encoding="utf-8")), out / "master.xlsx"


def _table(path: Path, sheet: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _scores(master: Path, spec) -> dict:
    """Per project: the 自评汇总 figures xlperf computes, and per indicator row its 得分."""
    summary, per_row = (d["sheet"] for d in spec.masters)
    computed = ["执行率", "资金得分", "产出指标得分", "效益指标得分", "满意度指标得分", "总分", "等级"]
    out = {r["项目编码"]: tuple(r[c] for c in computed) for r in _table(master, summary)}
    for r in _table(master, per_row):
        out.setdefault((r["项目编码"], "rows"), []).append((r["三级指标"], r["实际完成值"], r["得分"]))
    return out


def _edit(src: Path, dst: Path, sheet: str, code: str, column: str, value) -> str:
    """A copy of a master with one cell of one project's row changed; the cell's A1 ref."""
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    head = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, head.index("项目编码") + 1).value == code)
    cell = ws.cell(row, head.index(column) + 1)
    cell.value = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return cell.coordinate


def test_a_round_master_describes_itself_and_carries_what_the_checks_need(rounds):
    spec = rounds["spec"]
    wb = openpyxl.load_workbook(rounds["masters"]["A"])
    meta = {k: v for k, v in wb[META_SHEET].iter_rows(values_only=True)}
    assert meta["kind"] == "master" and meta["form_id"] == spec.id and meta["projects"] == "7"
    summary = spec.masters[0]["sheet"]
    head = [c.value for c in wb[summary][1]]
    for f in spec.fields:  # every entry the checks read is a column (typed rates and scores are not trusted)
        if not f.role.startswith("typed_") and not f.source.startswith(("=", "{")) and f.source != "绩效目标":
            assert f.name in head, f.name
    assert head[-1] == VIA_COLUMN


def test_department_consolidates_round_masters_and_scores_them_itself(rounds):
    spec = rounds["spec"]
    all_returns = [p for unit in UNITS for p in rounds["returns"][unit].values()]
    _proc, _report, direct_master = _consolidate(rounds, _folder(rounds, "direct", *all_returns))
    folder = _folder(rounds, "inbox", rounds["masters"]["A"], rounds["masters"]["B"], rounds["direct"])
    proc, report, master = _consolidate(rounds, folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["summary"]["accepted"] == 15 and report["summary"]["errors"] == 0
    summary = _table(master, spec.masters[0]["sheet"])
    assert sorted(r["项目编码"] for r in summary) == sorted(c for u in UNITS for c in rounds["returns"][u])
    # the same figures as a direct consolidation of every return, project by project, row by row
    expected = _scores(direct_master, spec)
    assert _scores(master, spec) == expected
    totals = [v[5] for k, v in expected.items() if not isinstance(k, tuple)]
    assert len(set(totals)) > 1 and min(totals) < 100  # some projects lose points: the scores are not trivial
    for r in summary:
        unit = next(u for u in UNITS if r["项目编码"] in rounds["returns"][u])
        original = rounds["returns"][unit][r["项目编码"]]
        if unit == "C":
            assert r[VIA_COLUMN] is None and r["来源文件"].endswith(f"inbox/{original.name}")
        else:
            assert r[VIA_COLUMN].endswith(f"inbox/master_{unit}.xlsx") and r["单位编码"] == UNITS[unit][0]
            assert r["来源文件"].endswith(f"returns/{unit}/{original.name}") and r["来源单元格"] == "B3"
    rows = _table(master, spec.masters[1]["sheet"])
    via_a = [r for r in rows if (r[VIA_COLUMN] or "").endswith("master_A.xlsx")]
    assert via_a and all("returns/A/" in r["来源文件"] and ":" in r["来源单元格"] for r in via_a)
    assert len(rows) == len(_table(direct_master, spec.masters[1]["sheet"]))


def test_a_total_edited_in_a_sub_master_does_not_count(rounds):
    spec = rounds["spec"]
    summary = spec.masters[0]["sheet"]
    original = min(_table(rounds["masters"]["A"], summary), key=lambda r: r["总分"])
    code = original["项目编码"]
    assert original["总分"] < 99  # the demo leaves it short of full marks
    edited = rounds["root"] / "edited" / "master_A.xlsx"
    _edit(rounds["masters"]["A"], edited, summary, code, "总分", 100)
    _edit(edited, edited, spec.masters[1]["sheet"], code, "得分", 99)  # a row's 得分 too
    folder = _folder(rounds, "inbox_edited", edited, rounds["masters"]["B"], rounds["direct"])
    proc, report, master = _consolidate(rounds, folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = next(r for r in _table(master, summary) if r["项目编码"] == code)
    assert row["总分"] == original["总分"] and row["等级"] == original["等级"]  # xlperf's score, not the edit
    first = next(r for r in _table(master, spec.masters[1]["sheet"]) if r["项目编码"] == code)
    assert first["得分"] != 99


def test_a_budget_edited_in_a_sub_master_is_an_error_at_its_cell(rounds):
    spec = rounds["spec"]
    summary = spec.masters[0]["sheet"]
    code = sorted(rounds["returns"]["B"])[0]
    budget = spec.role("budget").name
    tampered = rounds["root"] / "tampered" / "master_B.xlsx"
    ref = _edit(rounds["masters"]["B"], tampered, summary, code, budget, 999.0)
    folder = _folder(rounds, "inbox_tampered", rounds["masters"]["A"], tampered, rounds["direct"])
    proc, report, master = _consolidate(rounds, folder)
    assert proc.returncode == 1
    [rec] = [f for f in report["files"] if f["project_code"] == code]
    assert rec["status"] == "rejected" and rec["path"].endswith("inbox_tampered/master_B.xlsx")
    e102 = next(i for i in rec["issues"] if i["code"] == "E102")
    assert (e102["sheet"], e102["cell"]) == (summary, ref) and "999.00" in e102["message"]
    codes = {r["项目编码"] for r in _table(master, summary)}
    assert code not in codes and len(codes) == 14  # the master's other projects still count
    assert f"{summary}!{ref}" in proc.stdout


def test_a_project_in_a_round_master_and_returned_directly_counts_once(rounds):
    spec = rounds["spec"]
    code = sorted(rounds["returns"]["A"])[0]
    again = rounds["returns"]["A"][code]
    folder = _folder(rounds, "inbox_twice", rounds["masters"]["A"], rounds["masters"]["B"], rounds["direct"], again)
    proc, report, master = _consolidate(rounds, folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [copy] = [f for f in report["files"] if f["project_code"] == code and f["path"].endswith("master_A.xlsx")]
    assert copy["status"] == "skipped" and any(i["code"] == "W241" for i in copy["issues"])
    rows = [r for r in _table(master, spec.masters[0]["sheet"]) if r["项目编码"] == code]
    assert len(rows) == 1 and rows[0][VIA_COLUMN] is None


def test_a_percent_typed_as_a_number_scores_the_same_through_a_sub_master(rounds):
    """96% typed as 0.96 in a percent cell: the master has no cell formats, so it keeps "96%" (not 0.96)."""
    from xlperf.table_form import row_refs

    spec = rounds["spec"]
    target, actual = spec.role("target").name, spec.role("actual").name
    folder = rounds["root"] / "returns_pct" / "A"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(rounds["root"] / "returns" / "A", folder)
    changed = None
    for path in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        ws = wb[spec.sheet]
        n_rows = int({r[0].value: r[1].value for r in wb[spec.meta_sheet].iter_rows(max_col=2)}["rows"])
        for refs in row_refs(spec, n_rows):
            typed = str(ws[refs[actual]].value or "")
            if "%" in str(ws[refs[target]].value) and typed.endswith("%") and "≥" in str(ws[refs[target]].value):
                ws[refs[actual]].value = float(typed[:-1]) / 100
                ws[refs[actual]].number_format = "0%"
                changed = (path, ws[refs[target]].value, typed)
                break
        if changed:
            wb.save(path)
            break
    assert changed, "no percent indicator in the demo returns"
    sub_registry = rounds["root"] / "registry_A.csv"
    sub_master = rounds["root"] / "sub_pct" / "master_A.xlsx"
    proc = run_cli("consolidate", folder, "-r", sub_registry, "-o", sub_master, "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = changed[0].name.split("_")[0]
    shown = [r[actual] for r in _table(sub_master, spec.masters[1]["sheet"]) if r["项目编码"] == code]
    assert changed[2] in shown  # the text the unit saw, not 0.96
    direct_files = [*folder.glob("*.xlsx"), *rounds["returns"]["B"].values(), rounds["direct"]]
    _p, _r, direct_master = _consolidate(rounds, _folder(rounds, "direct_pct", *direct_files))
    proc, _report, master = _consolidate(rounds, _folder(rounds, "inbox_pct", sub_master, rounds["masters"]["B"],
                                                         rounds["direct"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _scores(master, spec) == _scores(direct_master, spec)


def test_status_of_a_later_round_rolls_up_sub_masters(rounds):
    folder = _folder(rounds, "inbox_status", rounds["masters"]["A"], rounds["masters"]["B"], rounds["direct"])
    data = tree_status(folder, rounds["registry"], rounds["root"] / "status.json")
    carried = [p for p in data["projects"] if p["unit_code"] == UNITS["B"][0]]
    assert carried and all(p["file"].endswith("master_B.xlsx") and p["state"] == "accepted" for p in carried)
    # a later round asks for no unit-level form: none is expected, no one is reminded of anything
    assert data["unit_forms"] == [] and data["reminders"] == []


def test_diff_of_a_department_master_against_the_direct_one_is_empty_then_names_a_change(rounds):
    all_returns = [p for unit in UNITS for p in rounds["returns"][unit].values()]
    _proc, _report, direct_master = _consolidate(rounds, _folder(rounds, "direct_diff", *all_returns))
    folder = _folder(rounds, "inbox_diff", rounds["masters"]["A"], rounds["masters"]["B"], rounds["direct"])
    _proc, _report, tree_master = _consolidate(rounds, folder)
    same = run_cli("diff", direct_master, tree_master)
    assert same.returncode == 0, same.stdout + same.stderr
    spec = rounds["spec"]
    code = next(iter(rounds["returns"]["C"]))
    changed = rounds["root"] / "changed.xlsx"
    _edit(tree_master, changed, spec.masters[0]["sheet"], code, "总分", 1)
    proc = run_cli("diff", direct_master, changed, "--json", rounds["root"] / "diff.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    changes = json.loads((rounds["root"] / "diff.json").read_text(encoding="utf-8"))["changes"]
    assert [(c["sheet"], c["key"], c["field"], c["new"]) for c in changes] == [(spec.masters[0]["sheet"], code, "总分", "1")]
