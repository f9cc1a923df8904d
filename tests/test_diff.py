"""diff: the cells a re-submission changed, and year over year between two masters made by consolidate."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from conftest import run_cli
from xlperf.fill import fill_project, load_projects

RAISED = "130304211DGTGIWENVORV"  # budget 2.70 → 3.20, one indicator value changed
DROPPED = "130304213BQ28XLGKG7TX"
REWORDED = "130304218GZX5KD5HGG4I"  # one description and one basis changed
RENAMED = "130304216Z9IPX6A6LYSU"  # one 三级指标 renamed: dropped + added
ADDED = "130304299NEWPROJECT01"
ADDED_LIKE = "13030421SQEN215CB1PG7"  # the new project is filled with this one's content


def test_diff_lists_changed_cells(demo_dir, tmp_path):
    old = sorted((demo_dir / "returns").glob("130304211*.xlsx"))[0]
    new = tmp_path / "new.xlsx"
    wb = openpyxl.load_workbook(old)
    ws = wb["项目绩效目标表"]
    ws["E10"] = "≥120本"
    ws["E5"] = "党史资料印刷及出版费"
    wb.save(new)
    proc = run_cli("diff", old, new, "--json", tmp_path / "d.json")
    assert proc.returncode == 1
    changes = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))["changes"]
    assert {(c["cell"], c["old"], c["new"]) for c in changes} == {
        ("E10", "≥100本", "≥120本"), ("E5", "党史资料印刷费", "党史资料印刷及出版费")}
    same = run_cli("diff", old, old)
    assert same.returncode == 0


@pytest.fixture(scope="module")
def second_round(demo_dir, tmp_path_factory) -> Path:
    """This year's round after last year's demo: a new registry (one budget raised, one project dropped,
    one added), templates generated from it, filled with last year's content with a few changes, and
    consolidated. Returns this year's master."""
    root = tmp_path_factory.mktemp("round2")
    with open(demo_dir / "registry.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    head = list(rows[0])
    rows = [r for r in rows if r["项目编码"] != DROPPED]
    for r in rows:
        if r["项目编码"] == RAISED:
            r.update(预算数="3.20", 财政资金="3.20")
    like = next(r for r in rows if r["项目编码"] == ADDED_LIKE)
    rows.append({**like, "项目编码": ADDED, "项目名称": "党史馆布展经费"})
    registry = root / "registry.csv"
    with open(registry, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, head)
        w.writeheader()
        w.writerows(rows)
    proc = run_cli("generate", registry, "-o", root / "templates", "--password", "pw", "--no-unit-form")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seed = load_projects()
    seed[ADDED] = seed[ADDED_LIKE]
    seed[RAISED]["indicators"][0]["指标值"] = "≥120本"
    seed[REWORDED]["indicators"][0]["绩效指标描述"] += "（含派遣人员）"
    seed[REWORDED]["indicators"][0]["指标值确定依据"] = "行业标准"
    seed[RENAMED]["indicators"][0]["三级指标"] += "（新）"
    templates = sorted((root / "templates").rglob("*.xlsx"))
    assert len(templates) == len(rows)
    for tpl in templates:
        fill_project(tpl, root / "returns" / tpl.name, seed[tpl.name.split("_")[0]])
    master = root / "master.xlsx"
    proc = run_cli("consolidate", root / "returns", "--registry", registry, "-o", master, "-q")
    assert master.is_file(), proc.stdout + proc.stderr
    assert "退回 0" in proc.stdout, proc.stdout
    return master


def test_two_masters_year_over_year(demo_dir, second_round, tmp_path):
    proc = run_cli("diff", demo_dir / "master.xlsx", second_round, "--json", tmp_path / "d.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert data["kind"] == "masters"
    by_code = {p["code"]: p for p in data["projects"]}
    assert by_code[DROPPED]["change"] == "dropped" and by_code[DROPPED]["budget_new"] is None
    assert by_code[ADDED]["change"] == "added" and by_code[ADDED]["budget_old"] is None
    assert by_code[ADDED]["indicator_count"] > 0 and by_code[ADDED]["name"] == "党史馆布展经费"
    raised = by_code[RAISED]
    assert (raised["change"], raised["budget_old"], raised["budget_new"], raised["budget_delta"]) == (
        "changed", 2.7, 3.2, 0.5)
    assert [(c["field"], c["old"], c["new"]) for c in raised["indicators_changed"]] == [("指标值", "≥100本", "≥120本")]
    reworded = by_code[REWORDED]["indicators_changed"]
    assert {c["field"] for c in reworded} == {"绩效指标描述", "指标值确定依据"}
    assert next(c for c in reworded if c["field"] == "指标值确定依据")["new"] == "行业标准"
    assert by_code[REWORDED]["budget_delta"] == 0
    renamed = by_code[RENAMED]
    assert len(renamed["indicators_added"]) == len(renamed["indicators_dropped"]) == 1
    assert renamed["indicators_added"][0]["level3"] == renamed["indicators_dropped"][0]["level3"] + "（新）"
    assert renamed["indicators_added"][0]["level2"] == renamed["indicators_dropped"][0]["level2"]
    s = data["summary"]
    assert (s["old_projects"], s["new_projects"], s["added"], s["dropped"], s["changed"], s["unchanged"]) == (
        15, 15, 1, 1, 3, 11)
    assert (s["indicators_added"], s["indicators_dropped"], s["indicators_changed"]) == (1, 1, 3)
    assert s["budget_old"] == 226.42 and s["budget_delta"] == round(3.2 - 2.7 - 5.0 + by_code[ADDED]["budget_new"], 2)
    out = proc.stdout
    assert "年度对比" in out and "新增" in out and "取消" in out and "+0.50" in out and "≥120本" in out


def test_same_master_has_no_difference(demo_dir):
    proc = run_cli("diff", demo_dir / "master.xlsx", demo_dir / "master.xlsx")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "新增 0，取消 0，调整 0，不变 15" in proc.stdout


def test_masters_in_english(demo_dir, second_round):
    proc = run_cli("--lang", "en", "diff", demo_dir / "master.xlsx", second_round)
    assert proc.returncode == 1
    assert "year over year" in proc.stdout and "1 added, 1 dropped, 3 changed" in proc.stdout
    for zh in ("年度对比", "新增", "取消", "预算数"):
        assert zh not in proc.stdout


def test_master_against_a_return_is_a_usage_error(demo_dir):
    ret = next((demo_dir / "returns").glob(f"{RAISED}_*.xlsx"))
    proc = run_cli("diff", demo_dir / "master.xlsx", ret)
    assert proc.returncode == 2
    assert "汇总表" in proc.stderr and ret.name in proc.stderr and "Traceback" not in proc.stderr
