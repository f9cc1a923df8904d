"""A real office's round end to end: a budget-system export (title row, 元) with two units, year 2022,
generate → fill → validate → consolidate → publish, one A4 document per unit."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import run_cli, write_budget_export
from xlperf.fill import fill_project, fill_workbook, input_cells, load_projects, load_unit
from xlperf.spec import UNIT_FORM, load_spec


@pytest.fixture(scope="module")
def office_round(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("office")
    export = root / "2022年项目支出预算.xlsx"
    rows = write_budget_export(export, 2022)
    out = root / "模板"
    gen = run_cli("generate", export, "-o", out, "--zip")
    assert gen.returncode == 0, gen.stderr
    spec, unit_spec = load_spec(), load_spec(UNIT_FORM)
    projects = load_projects()
    returns = root / "收回"
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        for tpl in sorted(folder.glob("*.xlsx")):
            target = returns / folder.name / tpl.name
            target.parent.mkdir(parents=True, exist_ok=True)
            code = tpl.name.split("_", 1)[0]
            if code in projects:
                assert fill_project(tpl, target, projects[code], spec) == []
            else:  # the unit-level form
                assert fill_workbook(tpl, target, input_cells(unit_spec, load_unit()), unit_spec.sheet) == []
    return {"root": root, "export": export, "rows": rows, "templates": out, "returns": returns,
            "generate": gen}


def test_generate_reads_the_export_and_makes_unit_folders(office_round):
    out, rows = office_round["templates"], office_round["rows"]
    assert "万元" in office_round["generate"].stdout  # the 元 → 万元 conversion is said
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == 2 and folders[0].startswith("201001_")
    zips = sorted(p.name for p in out.glob("*.zip"))
    assert zips == sorted(f + ".zip" for f in folders)
    assert (out / "password.txt").exists() and not list(out.glob("*/password.txt"))
    for folder in folders:
        assert len(list((out / folder).glob("*.xlsx"))) == 6  # five projects + the unit-level form
    half_cent = next(r for r in rows if r["元"]["预算数"] == 25050)
    tpl = next(out.rglob(f"{half_cent['项目编码']}_*.xlsx"))
    ws = openpyxl.load_workbook(tpl)["项目绩效目标表"]
    assert float(ws["B5"].value) == pytest.approx(2.51)  # 25050 元 rounded half up to 万元
    meta = openpyxl.load_workbook(tpl)["_xlperf_meta"]
    assert {r[0].value: r[1].value for r in meta.iter_rows()}["year"] == "2022"


def test_validate_and_consolidate_the_round(office_round, tmp_path):
    export, returns = office_round["export"], office_round["returns"]
    proc = run_cli("validate", returns, "-r", export, "--json", tmp_path / "r.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["summary"]["accepted"] == 12 and report["summary"]["rejected"] == 0
    master = tmp_path / "master.xlsx"
    proc = run_cli("consolidate", returns, "-r", export, "-o", master)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wb = openpyxl.load_workbook(master)
    projects = list(wb["项目汇总"].iter_rows(min_row=2, values_only=True))
    assert len(projects) == 10
    header = [c.value for c in wb["项目汇总"][1]]
    total = sum(float(r[header.index("预算数")]) for r in projects)
    expected = sum(float(r["万元"]["预算数"]) for r in office_round["rows"])
    assert total == pytest.approx(expected)
    # what the tool itself writes (headers, the overview) names the round's year, never 2021;
    # the units' own texts may mention any year
    own = " ".join(str(c.value) for ws in wb.worksheets if ws.sheet_state == "visible"
                   for row in ws.iter_rows(max_row=1) for c in row if c.value is not None)
    own += " ".join(str(c.value) for row in wb["概览"].iter_rows() for c in row if c.value is not None)
    assert "2021" not in own.replace(str(returns), "") and "2022" in own


def test_publish_one_a4_document_per_unit(office_round, tmp_path):
    from docx import Document

    export, returns = office_round["export"], office_round["returns"]
    master = tmp_path / "master.xlsx"
    assert run_cli("consolidate", returns, "-r", export, "-o", master).returncode == 0
    docs = tmp_path / "公开"
    proc = run_cli("publish", master, "-o", docs, "--no-pdf")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = sorted(p.name for p in docs.glob("*.docx"))
    assert len(written) == 2
    assert written[0].startswith("201001_") and written[0].endswith("_2022年部门预算绩效目标.docx")
    for name in written:
        doc = Document(docs / name)
        section = doc.sections[0]
        assert abs(section.page_width.mm - 210) < 1 and abs(section.page_height.mm - 297) < 1
        title = next(p.text for p in doc.paragraphs if p.text.strip())
        assert "2022" in title and "2021" not in title  # the units' own texts may mention other years
        codes = [r["项目编码"] for r in office_round["rows"] if name.startswith(r["单位编码"])]
        others = [r["项目编码"] for r in office_round["rows"] if not name.startswith(r["单位编码"])]
        cells = " ".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
        assert all(code in cells for code in codes) and not any(code in cells for code in others)


def test_a_missing_project_withholds_only_its_unit(office_round, tmp_path):
    export = office_round["export"]
    returns = tmp_path / "returns"
    shutil.copytree(office_round["returns"], returns)
    second_unit = sorted(p for p in returns.iterdir() if p.is_dir())[1]
    gone = sorted(second_unit.glob("*.xlsx"))[0]
    gone.unlink()
    master = tmp_path / "master.xlsx"
    assert run_cli("consolidate", returns, "-r", export, "-o", master).returncode == 1
    proc = run_cli("publish", master, "-o", tmp_path / "docs", "--no-pdf")
    assert proc.returncode == 1
    assert gone.name.split("_", 1)[0] in proc.stdout + proc.stderr
    written = [p.name for p in (tmp_path / "docs").glob("*.docx")]
    assert len(written) == 1 and written[0].startswith("201001_")
    proc = run_cli("publish", master, "-o", tmp_path / "docs2", "--no-pdf", "--allow-incomplete")
    assert proc.returncode == 0
    assert len(list((tmp_path / "docs2").glob("*.docx"))) == 2
