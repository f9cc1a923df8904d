"""A form added by one TOML file under tests/ runs the whole round with no code change."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from conftest import run_cli

TOY = Path(__file__).parent / "forms" / "contacts.toml"


def _fill(template: Path, dst: Path, cells: dict) -> Path:
    wb = openpyxl.load_workbook(template)
    ws = wb["项目联系人登记表"]
    for ref, value in cells.items():
        ws[ref] = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def test_a_form_declared_in_toml_alone_runs_the_whole_round(registry_path, tmp_path):
    out = tmp_path / "templates"
    proc = run_cli("generate", registry_path, "--form", TOY, "-o", out, "--password", "pw")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    templates = sorted(out.rglob("*_联系人.xlsx"))
    assert len(templates) == 15
    ws = openpyxl.load_workbook(templates[0])["项目联系人登记表"]
    assert ws["A1"].value == "项目联系人登记表" and ws["B2"].protection.locked and not ws["B3"].protection.locked

    returns = tmp_path / "returns"
    for i, template in enumerate(templates):
        _fill(template, returns / template.name, {"B3": f"张{i}", "D3": "0335-1234567", "B4": 3 + i, "D4": "是"})
    # two mistakes: an empty required cell, a value outside the list, a number out of range
    _fill(templates[0], returns / templates[0].name, {"B3": None, "D3": "0335", "B4": 900, "D4": "也许"})

    proc = run_cli("validate", returns, "-r", registry_path, "--form", TOY, "--json", tmp_path / "r.json",
                   "--feedback", tmp_path / "fb", "--password", "pw")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    [bad] = [f for f in report["files"] if f["status"] == "rejected"]
    assert {(i["code"], i["cell"]) for i in bad["issues"]} == {("E101", "B3"), ("E302", "B4"), ("E117", "D4")}
    assert report["summary"]["accepted"] == 14

    [feedback] = list((tmp_path / "fb").glob("*.xlsx"))
    wb = openpyxl.load_workbook(feedback)
    assert wb.sheetnames[0] == "问题清单"
    ws = wb["项目联系人登记表"]
    assert ws["D3"].value == "0335" and ws["B4"].value == 900  # the unit's entries come back as typed
    assert ws["B4"].comment is not None and "E302" in ws["B4"].comment.text
    # fixing the marked cells of the feedback workbook makes an accepted return
    fixed = _fill(feedback, returns / templates[0].name, {"B3": "李四", "B4": 9, "D4": "否"})
    wb = openpyxl.load_workbook(fixed)
    del wb["问题清单"]
    wb.save(fixed)

    master = tmp_path / "master.xlsx"
    proc = run_cli("consolidate", returns, "-r", registry_path, "--form", TOY, "-o", master)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    book = CalamineWorkbook.from_path(str(master))
    assert book.sheet_names[:2] == ["联系人汇总", "问题清单"]
    rows = book.get_sheet_by_name("联系人汇总").to_python()
    assert rows[0][:6] == ["项目编码", "项目名称", "联系人", "联系电话", "团队人数", "是否驻场"]
    assert len(rows) == 16 and "李四" in [r[2] for r in rows]

    proc = run_cli("status", returns, "-r", registry_path, "--form", TOY, "--json", tmp_path / "s.json")
    status = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert status["summary"]["accepted"] == 15, status["summary"]


def test_without_its_spec_the_toy_form_is_not_recognised(registry_path, tmp_path):
    proc = run_cli("generate", registry_path, "--form", TOY, "-o", tmp_path / "t", "--password", "pw")
    assert proc.returncode == 0
    template = next((tmp_path / "t").rglob("*.xlsx"))
    proc = run_cli("validate", template, "-r", registry_path)
    assert proc.returncode == 1 and "E001" in proc.stdout
