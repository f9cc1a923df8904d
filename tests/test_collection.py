"""Issue 5: publish, prefill, exports, reproducible outputs and the newest-return rule of consolidate."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import docx
import openpyxl
import pyarrow.parquet as pq

from conftest import resave_return, run_cli
from xlperf.fill import load_projects, load_unit


def _docx_text(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    d = docx.Document(str(path))
    paras = [p.text for p in d.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    return paras, tables


def test_publish_rebuilds_the_seed_document(demo_dir):
    doc = demo_dir / "绩效目标公开文本.docx"
    assert doc.exists()
    paras, tables = _docx_text(doc)
    seed = list(load_projects().values())
    titles = [p for p in paras if p.endswith("绩效目标表")]
    assert titles == [f"{i}.{p['项目名称']}绩效目标表" for i, p in enumerate(seed, start=1)]
    assert any("226.42" in p for p in paras)
    assert len(tables) == 15
    for project, table in zip(seed, tables):
        body = table[8:]
        assert len(body) == 9
        for want, row in zip(project["indicators"], body):
            assert row[4] == want["指标值"]
            # 涉密 exactly where the seed shows it (the seed text is what projects.json holds)
            assert row[2] == want["三级指标"] and row[3] == want["绩效指标描述"]
            assert row[5] == want["指标值确定依据"]
        goals = table[6][1]
        if project["涉密"]:
            assert re.fullmatch(r"(\d\.涉密\n?)+", goals) and goals == project["绩效目标"]
        else:
            assert goals == project["绩效目标"].strip()
        assert table[1][1] == project["项目编码"]
    unit = load_unit()
    assert "第一部分 部门整体绩效目标" in paras
    assert unit["总体绩效目标"].splitlines()[0] in paras
    assert all(any(item["标题"] in p for p in paras) for item in unit["工作保障措施"])


def test_secret_counts_match_the_seed(demo_dir):
    _paras, tables = _docx_text(demo_dir / "绩效目标公开文本.docx")
    published = sum(cell == "涉密" for t in tables for row in t[8:] for cell in row)
    seed = sum(v == "涉密" for p in load_projects().values() for i in p["indicators"]
               for v in (i["三级指标"], i["绩效指标描述"], i["指标值确定依据"]))
    assert published == seed == 7 * 18 + 2 * 9


def test_exports_csv_parquet(demo_dir):
    csv_path = demo_dir / "master_绩效指标.csv"
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert len(raw.decode("utf-8-sig").strip().splitlines()) == 136
    table = pq.read_table(demo_dir / "master_绩效指标.parquet")
    assert table.num_rows == 135 and "计算符号" in table.column_names
    summary = pq.read_table(demo_dir / "master_项目汇总.parquet").to_pydict()
    assert round(sum(summary["预算数"]), 2) == 226.42


def test_master_numbers_are_numbers_and_formatted(demo_dir):
    wb = openpyxl.load_workbook(demo_dir / "master.xlsx")
    ws = wb["项目汇总"]
    head = [c.value for c in ws[1]]
    b = ws.cell(2, head.index("预算数") + 1)
    assert isinstance(b.value, (int, float)) and b.number_format == "#,##0.00"
    p = ws.cell(2, head.index("3月底") + 1)
    assert p.value == 0.25 and p.number_format == "0.00%"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert wb["概览"]._charts, "概览 carries a native chart"


def test_csv_neutralises_formula_text():
    from xlperf.master import csv_safe

    assert csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_safe("-5") == "'-5" and csv_safe("@x") == "'@x" and csv_safe("\tx") == "'\tx"
    assert csv_safe("≥95%") == "≥95%" and csv_safe(3.5) == 3.5


def _digests(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_consolidate_is_reproducible_with_source_date_epoch(demo_dir, registry_path, tmp_path):
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    outs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        proc = run_cli("consolidate", demo_dir / "returns", "--registry", registry_path, "-o", out / "master.xlsx",
                       "--format", "xlsx,csv,parquet", env=env)
        assert proc.returncode == 0, proc.stderr
        proc = run_cli("publish", out / "master.xlsx", "-o", out / "doc.docx", "--no-pdf", env=env)
        assert proc.returncode == 0, proc.stderr
        outs.append(_digests(out))
    assert outs[0] == outs[1] and len(outs[0]) == 14  # xlsx, docx, 6 tables × (csv, parquet)


def test_prefill_next_year(demo_dir, registry_path, tmp_path):
    out = tmp_path / "next"
    proc = run_cli("generate", registry_path, "-o", out, "--prefill", demo_dir / "master.xlsx")
    assert proc.returncode == 0, proc.stderr
    tpl = next(out.rglob("130304211*.xlsx"))
    ws = openpyxl.load_workbook(tpl)["项目绩效目标表"]
    seed = load_projects()["130304211DGTGIWENVORV"]
    assert ws["B8"].value == seed["绩效目标"]
    assert ws["C10"].value == seed["indicators"][0]["三级指标"] and ws["E10"].value == "≥100本"
    assert ws["C10"].protection.locked is False and ws["B8"].protection.locked is False
    assert ws["B7"].value in (None, "")  # the spending plan is new every year


def test_resubmission_newest_wins_and_older_is_superseded(demo_dir, registry_path, tmp_path):
    import datetime as dt

    src = sorted((demo_dir / "returns").glob("130304211*.xlsx"))[0]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # the file saved later (metadata time) wins even though its file time is older
    resave_return(src, inbox / "第一次.xlsx", dt.datetime(2021, 3, 1, 9, 0, 0), {"E10": "≥100本"})
    resave_return(src, inbox / "第二次.xlsx", dt.datetime(2021, 3, 5, 9, 0, 0), {"E10": "≥150本"})
    import os

    os.utime(inbox / "第二次.xlsx", (1_000_000_000, 1_000_000_000))
    out = tmp_path / "m.xlsx"
    proc = run_cli("consolidate", inbox, "--registry", registry_path, "-o", out, "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert by_name["第二次.xlsx"]["status"] == "accepted"
    assert by_name["第一次.xlsx"]["status"] == "skipped"
    superseded = [i for i in by_name["第一次.xlsx"]["issues"] if i["code"] == "W208"]
    assert len(superseded) == 1 and "第二次.xlsx" in superseded[0]["message"]
    assert not any(i["code"] == "W208" for i in by_name["第二次.xlsx"]["issues"])
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb["绩效指标"].iter_rows(values_only=True))
    head = rows[0]
    first = dict(zip(head, rows[1]))
    assert first["原始指标值"] == "≥150本" and first["来源文件"].endswith("第二次.xlsx")
    assert proc.returncode == 1  # the other 14 projects are missing
    # validate's default treats two different returns as an error naming the other file
    proc = run_cli("validate", inbox, "--registry", registry_path, "--json", tmp_path / "v.json")
    files = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))["files"]
    assert proc.returncode == 1 and all(f["status"] == "rejected" for f in files)
    assert all(f["issues"][0]["code"] == "E115" for f in files)


def test_report_json_matches_the_documented_schema(demo_dir):
    import jsonschema

    from conftest import ROOT

    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads((demo_dir / "report.json").read_text(encoding="utf-8")), schema)


def test_every_issue_code_is_documented():
    from conftest import ROOT
    from xlperf.messages import ISSUES

    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert all(f"| {code} |" in doc for code in ISSUES)
