"""Feedback workbooks: prefilled with the unit's values, problems marked, clean once fixed."""
from __future__ import annotations

import json

import openpyxl

from conftest import run_cli


def test_feedback_marks_problems_and_validates_clean_when_fixed(demo_dir, registry_path, tmp_path):
    src = sorted((demo_dir / "returns").glob("130304211*.xlsx"))[0]
    bad = tmp_path / "in" / "党史.xlsx"
    bad.parent.mkdir()
    wb = openpyxl.load_workbook(src)
    ws = wb["项目绩效目标表"]
    ws["E10"] = "≥**本"
    ws["C7"] = 20
    ws["B5"] = 99  # a locked value changed after removing protection
    wb.save(bad)
    fb = tmp_path / "fb"
    proc = run_cli("validate", bad, "--registry", registry_path, "--feedback", fb, "--password", "pw1")
    assert proc.returncode == 1
    [out] = list(fb.glob("*.xlsx"))
    assert out.name == "党史_反馈.xlsx"
    wb = openpyxl.load_workbook(out)
    ws = wb["项目绩效目标表"]
    assert ws.protection.sheet and wb["_xlperf_meta"].sheet_state in ("veryHidden", "hidden")
    assert ws["B5"].value == 2.7  # locked values come from the registry again
    assert ws["E10"].value == "≥**本" and ws["C7"].value == 20  # the unit's own values kept
    assert ws["C10"].value == "完成送审稿字数、印刷册数"
    assert "E110" in ws["E10"].comment.text and "E105" in ws["C7"].comment.text
    assert "E102" in ws["B5"].comment.text
    marked = {str(r.sqref) for r in ws.conditional_formatting}
    assert {"E10", "C7", "B5"} <= marked
    problems = [[c.value for c in row] for row in wb["问题清单"].iter_rows()]
    assert problems[0][:4] == ["代码", "级别", "工作表", "单元格"]
    assert {"E110", "E105", "E102"} <= {p[0] for p in problems[1:]}
    ws["E10"] = "≥100本"
    ws["C7"] = 50
    fixed = tmp_path / "fixed.xlsx"
    wb.save(fixed)
    proc = run_cli("validate", fixed, "--registry", registry_path, "--json", tmp_path / "r.json")
    assert proc.returncode == 0, proc.stdout
    issues = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["files"][0]["issues"]
    assert not [i for i in issues if i["severity"] == "error"]


def test_no_feedback_for_unidentifiable_files(registry_path, tmp_path):
    junk = tmp_path / "in" / "x.xlsx"
    junk.parent.mkdir()
    junk.write_text("not a workbook", encoding="utf-8")
    proc = run_cli("validate", junk, "--registry", registry_path, "--feedback", tmp_path / "fb")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert not list((tmp_path / "fb").glob("*.xlsx"))
