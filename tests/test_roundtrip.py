"""The walking skeleton end to end: demo, master contents against the seed, CLI contract."""
from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from conftest import run_cli
from xlperf.fill import fill_project, load_projects
from xlperf.registry import load_registry
from xlperf.spec import load_spec
from xlperf.writer import generate


def sheet_rows(path: Path, name: str) -> list[dict]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb[name].iter_rows(values_only=True))
    wb.close()
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:]]


def test_demo_master_totals(demo_dir):
    master = demo_dir / "master.xlsx"
    assert master.exists()
    wb = openpyxl.load_workbook(master, read_only=True)
    assert wb.sheetnames[:5] == ["项目汇总", "绩效指标", "问题清单", "未报送", "概览"]
    wb.close()
    projects = sheet_rows(master, "项目汇总")
    assert len(projects) == 15
    assert sum(Decimal(str(p["预算数"])) for p in projects) == Decimal("226.42")
    assert all(isinstance(p["预算数"], (int, float)) for p in projects)
    indicators = sheet_rows(master, "绩效指标")
    assert len(indicators) == 135
    assert sheet_rows(master, "未报送") == []
    out = (demo_dir / "demo_stdout.txt").read_text(encoding="utf-8")
    assert "226.42" in out and "135" in out and str(master) in out


def test_every_indicator_row_matches_the_seed(demo_dir):
    seed = load_projects()
    rows = sheet_rows(demo_dir / "master.xlsx", "绩效指标")
    by_project: dict[str, list] = {}
    for r in rows:
        by_project.setdefault(r["项目编码"], []).append(r)
    assert set(by_project) == set(seed)
    secret_rows = yesno_rows = 0
    for code, project in seed.items():
        got = by_project[code]
        assert len(got) == len(project["indicators"]) == 9
        for want, have in zip(project["indicators"], got):
            assert have["一级指标"] == want["一级指标"]
            assert have["二级指标"] == want["二级指标"]
            assert have["三级指标"] == want["三级指标"]
            assert have["绩效指标描述"] == want["绩效指标描述"]
            assert have["原始指标值"] == want["指标值"]
            assert have["指标值确定依据"] == want["指标值确定依据"]
            assert have["涉密"] == ("是" if project["涉密"] else "否")
            assert have["来源文件"].endswith(".xlsx") and ":" in have["来源单元格"]
            secret_rows += have["三级指标"] == "涉密"
            yesno_rows += have["原始指标值"] == "是否"
    assert secret_rows == 63  # 7 classified projects × 9 rows
    assert yesno_rows == 35


def test_indicator_values_are_split_for_the_budget_system(demo_dir):
    rows = sheet_rows(demo_dir / "master.xlsx", "绩效指标")
    first = rows[0]
    assert (first["计算符号"], first["指标值"], first["计量单位"]) == ("≥", 100, "本")
    two = next(r for r in rows if r["原始指标值"] == "2人")
    assert (two["计算符号"], two["指标值"], two["计量单位"]) == ("＝", 2, "人")


def test_project_summary_keeps_source_and_plan(demo_dir):
    projects = {p["项目编码"]: p for p in sheet_rows(demo_dir / "master.xlsx", "项目汇总")}
    p = projects["130304211DGTGIWENVORV"]
    assert p["项目名称"] == "党史宣传研究工作经费"
    assert p["资金用途"] == "党史资料印刷费"
    assert [p[k] for k in ("3月底", "6月底", "10月底", "12月底")] == [0.25, 0.5, 0.75, 1.0]
    assert p["来源单元格"] == "B3" and p["来源文件"].endswith("党史宣传研究工作经费.xlsx")


def test_demo_report_json_accounts_for_every_file(demo_dir):
    report = json.loads((demo_dir / "report.json").read_text(encoding="utf-8"))
    s = report["summary"]
    assert s["files"] == 16 == s["accepted"] + s["rejected"] + s["skipped"]  # 15 projects + the unit form
    assert all(f["status"] == "accepted" for f in report["files"])
    assert sorted(f["kind"] for f in report["files"]).count("project") == 15


@pytest.fixture()
def one_return(tmp_path, registry_path):
    spec = load_spec()
    reg = load_registry(registry_path)
    [tpl] = generate(spec, reg.rows[:1], tmp_path / "tpl", password="pw")
    out = tmp_path / "returns" / tpl.name
    refused = fill_project(tpl, out, load_projects()[reg.rows[0]["项目编码"]], spec)
    assert refused == []
    return out


def test_filled_template_is_accepted(one_return, registry_path):
    proc = run_cli("validate", one_return, "--registry", registry_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "通过" in proc.stdout


def test_changed_budget_is_rejected_naming_sheet_and_cell(one_return, registry_path, tmp_path):
    wb = openpyxl.load_workbook(one_return)
    wb["项目绩效目标表"]["B5"] = 9.99
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    proc = run_cli("validate", bad, "--registry", registry_path, "--json", tmp_path / "r.json")
    assert proc.returncode == 1
    assert "项目绩效目标表!B5" in proc.stdout and "预算数" in proc.stdout
    issues = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["files"][0]["issues"]
    hit = [i for i in issues if i["code"] == "E102"]
    assert hit and hit[0]["sheet"] == "项目绩效目标表" and hit[0]["cell"] == "B5"
    assert "9.99" in hit[0]["message"] and "2.70" in hit[0]["message"]


def test_folder_with_junk_rejects_junk_and_keeps_the_15(demo_dir, registry_path, tmp_path):
    folder = tmp_path / "inbox"
    shutil.copytree(demo_dir / "returns", folder)
    (folder / "notes.xlsx").write_text("这不是工作簿\n", encoding="utf-8")
    other = openpyxl.Workbook()
    other.active["A1"] = "工资表"
    other.save(folder / "工资表.xlsx")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    proc = run_cli("validate", folder, "--registry", registry_path, "--json", tmp_path / "v.json")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    status = {Path(f["path"]).name: f for f in report["files"]}
    assert len(status) == 18  # 15 project returns, the unit-level form, 2 junk files
    assert status["notes.xlsx"]["status"] == "rejected"
    assert status["notes.xlsx"]["issues"][0]["code"] == "F007"
    assert status["工资表.xlsx"]["status"] == "rejected"
    assert status["工资表.xlsx"]["issues"][0]["code"] == "E001"
    assert sum(f["status"] == "accepted" and f["kind"] == "project" for f in report["files"]) == 15
    assert "notes.xlsx" in proc.stdout and "不是 Excel 工作簿" in proc.stdout
    master = tmp_path / "m.xlsx"
    proc = run_cli("consolidate", folder, "--registry", registry_path, "-o", master)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert len(sheet_rows(master, "项目汇总")) == 15
    issues = sheet_rows(master, "问题清单")
    assert {Path(i["来源文件"]).name for i in issues if i["级别"] == "错误"} == {"notes.xlsx", "工资表.xlsx"}
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # inputs untouched


def test_help_is_chinese_by_default_and_english_on_request():
    zh = run_cli("--help")
    assert zh.returncode == 0 and "校验" in zh.stdout and "命令" in zh.stdout
    for cmd in ("generate", "validate", "consolidate", "demo"):
        out = run_cli(cmd, "--help").stdout
        assert any("\u4e00" <= ch <= "\u9fff" for ch in out), cmd
        en = run_cli(cmd, "--help", "--lang", "en").stdout
        assert "registry" in en or "demo" in en or "bundled" in en, cmd
    en = run_cli("--help", env={"XLPERF_LANG": "en"})
    assert "validate returned workbooks" in en.stdout
    assert "校验" not in en.stdout


def test_bad_registry_is_a_usage_error(tmp_path, demo_dir):
    bad = tmp_path / "reg.csv"
    bad.write_text("单位编码,项目编码\n1,2\n", encoding="utf-8")
    proc = run_cli("validate", demo_dir / "returns", "--registry", bad)
    assert proc.returncode == 2
    assert "缺少列" in proc.stderr and "Traceback" not in proc.stderr


def test_generate_names_files_and_writes_password(tmp_path, registry_path):
    out = tmp_path / "t"
    proc = run_cli("generate", registry_path, "-o", out)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.rglob("*.xlsx"))
    assert len(names) == 16 and "130304211DGTGIWENVORV_党史宣传研究工作经费.xlsx" in names
    assert "201001_中国共产党秦皇岛市北戴河区委员会办公室(本级)_部门整体绩效目标.xlsx" in names
    pw = (out / "password.txt").read_text(encoding="utf-8").strip()
    assert len(pw) >= 8
    for p in out.rglob("*.xlsx"):
        assert pw.encode() not in p.read_bytes()


def test_more_slots_round_trip_and_empty_slots_ignored(tmp_path, registry_path):
    out = tmp_path / "t"
    proc = run_cli("generate", registry_path, "-o", out, "--slots", "5", "--password", "pw", "--no-unit-form")
    assert proc.returncode == 0, proc.stderr
    spec = load_spec()
    tpl = next(out.rglob("130304211*.xlsx"))
    project = json.loads(json.dumps(load_projects()["130304211DGTGIWENVORV"]))
    extra = {"一级指标": "产出指标", "二级指标": "数量指标", "三级指标": "印刷批次", "绩效指标描述": "分批印刷的次数",
             "指标值": "≤3次", "指标值确定依据": "计划标准"}
    project["indicators"].insert(1, extra)
    ret = tmp_path / "r" / tpl.name
    assert fill_project(tpl, ret, project, spec) == []
    ws = openpyxl.load_workbook(ret)["项目绩效目标表"]
    assert ws["B10"].value == "数量指标" and ws["C11"].value == "印刷批次"  # 5 rows per 二级指标
    assert ws["B15"].value == "质量指标"
    master = tmp_path / "m.xlsx"
    proc = run_cli("consolidate", ret, "--registry", registry_path, "-o", master)
    assert "Traceback" not in proc.stderr
    rows = sheet_rows(master, "绩效指标")
    assert len(rows) == 10
    got = next(r for r in rows if r["三级指标"] == "印刷批次")
    assert (got["计算符号"], got["指标值"], got["计量单位"], got["来源单元格"]) == ("≤", 3, "次", "C11:F11")
