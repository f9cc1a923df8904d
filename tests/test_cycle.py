"""The later rounds: monitoring and self-evaluation templates from the targets master, their rules and masters."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from conftest import run_cli
from xlperf.cycle import generate_round, plan_records, read_prefill
from xlperf.cycle_demo import fill_table_return
from xlperf.pipeline import run
from xlperf.registry import load_registry
from xlperf.rules import Options
from xlperf.spec import load_spec
from xlperf.table_form import row_refs

PASSWORD = "pw-cycle"


@pytest.fixture(scope="session")
def cycle_dir(demo_dir, tmp_path_factory) -> Path:
    """Monitoring and self-evaluation templates made from the demo's targets master, and demo returns."""
    out = tmp_path_factory.mktemp("cycle")
    registry = load_registry(demo_dir / "registry.csv")
    approved = read_prefill(demo_dir / "master.xlsx")
    for form in ("self-evaluation", "monitoring"):
        spec = load_spec(form)
        plan = plan_records(spec, registry.rows, approved)
        paths = generate_round(spec, plan.records, out / form / "templates", password=PASSWORD)
        for i, path in enumerate(paths):
            fill_table_return(path, out / form / "returns" / path.name, spec, i)
    return out


def _template(cycle_dir: Path, form: str, code: str) -> Path:
    return next((cycle_dir / form / "templates").glob(f"*/{code}_*.xlsx"))


def _return(cycle_dir: Path, form: str, code: str) -> Path:
    return next((cycle_dir / form / "returns").glob(f"{code}_*.xlsx"))


def _edit(src: Path, dst: Path, cells: dict, sheet: str) -> Path:
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    for ref, value in cells.items():
        ws[ref] = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def _check(path: Path, demo_dir: Path):
    report = run([path], load_registry(demo_dir / "registry.csv"), Options())
    [res] = report.files
    return res, {(i.code, i.cell) for i in res.issues}


FIRST = "130304211DGTGIWENVORV"  # 党史宣传研究工作经费: 9 indicator rows, 2.7 万元


# --------------------------------------------------------------------- templates ----
def test_self_evaluation_template_has_the_official_layout_prefilled_and_locked(cycle_dir, demo_dir):
    spec = load_spec("self-evaluation")
    wb = openpyxl.load_workbook(_template(cycle_dir, "self-evaluation", FIRST))
    ws = wb[spec.sheet]
    assert ws["A1"].value == "项目支出绩效自评表"
    assert [ws[f"A{r}"].value for r in range(6, 10)] == ["年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"]
    assert [ws[f"{c}5"].value for c in "CDEFGH"] == ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]
    assert (ws["B11"].value, ws["F11"].value) == ("预期目标", "实际完成情况")
    assert [ws[f"{c}13"].value for c in "ABCDEFGH"] == ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值",
                                                        "分值", "得分", "偏差原因分析及改进措施"]
    assert ws["E3"].value == "党史宣传研究工作经费" and ws["C6"].value == 2.7 and ws["F6"].value == 10
    assert ws.protection.sheet
    for ref in ("E3", "C6", "B12", "A14", "D14", "F6"):
        assert ws[ref].protection.locked, ref
    for ref in ("D6", "E6", "F12", "E14", "F14", "H14"):
        assert not ws[ref].protection.locked, ref
    # every approved indicator row, in the master's order, with its target as approved
    master = CalamineWorkbook.from_path(str(demo_dir / "master.xlsx")).get_sheet_by_name("绩效指标").to_python()
    approved = [r for r in master[1:] if r[0] == FIRST]
    rows = row_refs(spec, len(approved))
    assert [ws[r["三级指标"]].value for r in rows] == [r[4] for r in approved]
    # default 分值: 产出 50, 效益 30, 满意度 10 split within each 一级指标; with the funds' 10 they make 100
    points = [ws[r["分值"]].value for r in rows]
    assert round(sum(points), 2) == 90
    level1 = [ws[r["一级指标"]].value for r in rows]
    for name, total in (("产出指标", 50), ("效益指标", 30), ("满意度指标", 10)):
        assert round(sum(p for p, l1 in zip(points, level1) if l1 == name), 2) == total


def test_monitoring_template_labels_follow_through(demo_dir, tmp_path, registry_path):
    proc = run_cli("generate", registry_path, "--form", "monitoring", "--through", "9", "--prefill",
                   demo_dir / "master.xlsx", "-o", tmp_path / "mo", "--year", "2021")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "15" in proc.stdout and "项目支出绩效目标执行监控表" in proc.stdout
    path = next((tmp_path / "mo").glob(f"*/{FIRST}_*.xlsx"))
    ws = openpyxl.load_workbook(path)["项目支出绩效目标执行监控表"]
    assert ws["D5"].value == "1-9月执行数" and ws["E11"].value == "1-9月实际完成值"
    assert [ws[f"{c}11"].value for c in "FGHIJ"] == ["全年预计完成值", "偏差原因分析", "原因说明", "完成目标可能性", "备注"]


def test_generate_a_later_round_needs_the_targets_master(registry_path, tmp_path):
    proc = run_cli("generate", registry_path, "--form", "self-evaluation", "-o", tmp_path / "se")
    assert proc.returncode == 2
    assert "--prefill" in proc.stdout + proc.stderr and "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "se").exists() or not list((tmp_path / "se").rglob("*.xlsx"))


def test_projects_without_approved_targets_are_named(demo_dir, tmp_path, registry_path):
    reg = tmp_path / "registry.csv"
    text = registry_path.read_text(encoding="utf-8").splitlines()
    reg.write_text("\n".join(text + ["201001,中国共产党秦皇岛市北戴河区委员会办公室(本级),NEW0001,新项目,1,1,0"]) + "\n",
                   encoding="utf-8")
    proc = run_cli("generate", reg, "--form", "self-evaluation", "--prefill", demo_dir / "master.xlsx", "-o", tmp_path / "se")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NEW0001" in proc.stdout and len(list((tmp_path / "se").rglob("*.xlsx"))) == 15


# ------------------------------------------------------------- self-evaluation ----
def test_filled_demo_returns_are_accepted_and_scored(cycle_dir, demo_dir, tmp_path):
    out = tmp_path / "se.xlsx"
    proc = run_cli("consolidate", cycle_dir / "self-evaluation" / "returns", "-r", demo_dir / "registry.csv", "-o", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wb = CalamineWorkbook.from_path(str(out))
    assert wb.sheet_names[:5] == ["自评汇总", "指标完成", "问题清单", "未报送", "概览"]
    rows = wb.get_sheet_by_name("自评汇总").to_python()
    head = rows[0]
    assert head[:11] == ["项目编码", "项目名称", "全年预算数", "全年执行数", "执行率", "资金得分", "产出指标得分",
                         "效益指标得分", "满意度指标得分", "总分", "等级"]
    assert len(rows) == 16
    for r in rows[1:]:
        rec = dict(zip(head, r))
        parts = rec["资金得分"] + rec["产出指标得分"] + rec["效益指标得分"] + rec["满意度指标得分"]
        assert abs(parts - rec["总分"]) < 0.02
        assert rec["等级"] == ("优" if rec["总分"] >= 90 else "良" if rec["总分"] >= 80 else "中" if rec["总分"] >= 60 else "差")
        assert abs(rec["资金得分"] - 10 * min(rec["全年执行数"] / rec["全年预算数"], 1)) < 0.011


def _se(cycle_dir, tmp_path, cells: dict, code: str = FIRST) -> Path:
    spec = load_spec("self-evaluation")
    return _edit(_return(cycle_dir, "self-evaluation", code), tmp_path / f"{code}_edited.xlsx", cells, spec.sheet)


def test_an_indicator_that_loses_points_needs_its_reason(cycle_dir, demo_dir, tmp_path):
    # row 14: ≥100本 (12.5 points); 80本 loses points -> the reason cell H14 is required
    res, found = _check(_se(cycle_dir, tmp_path, {"E14": "80本"}), demo_dir)
    assert res.status == "rejected" and ("E305", "H14") in found
    res, found = _check(_se(cycle_dir, tmp_path, {"E14": "80本", "H14": "印刷厂停工，已改为下半年印刷。"}), demo_dir)
    assert res.status == "accepted", found
    [row] = [r for r in res.data.row_computed[:1]]
    assert row["得分"] == 10.0  # 80 / 100 × 12.5


def test_an_actual_far_above_a_minimum_target_warns(cycle_dir, demo_dir, tmp_path):
    res, found = _check(_se(cycle_dir, tmp_path, {"E14": "131本"}), demo_dir)
    assert ("W306", "E14") in found and res.status == "accepted"
    res, found = _check(_se(cycle_dir, tmp_path, {"E14": "130本"}), demo_dir)
    assert ("W306", "E14") not in found


def test_a_typed_score_is_never_trusted(cycle_dir, demo_dir, tmp_path):
    res, found = _check(_se(cycle_dir, tmp_path, {"E14": "80本", "H14": "原因", "G14": 12.5}), demo_dir)
    assert ("W307", "G14") in found
    [w307] = [i for i in res.issues if i.code == "W307"]
    assert "12.5" in w307.message() and "10" in w307.message()
    assert res.data.row_computed[0]["得分"] == 10.0


def test_low_execution_needs_a_reason(cycle_dir, demo_dir, tmp_path):
    # 2.7 budgeted, 2.4 spent: 88.89 % < 90 %
    res, found = _check(_se(cycle_dir, tmp_path, {"D6": 2.7, "E6": 2.4, "C10": None}), demo_dir)
    assert ("E308", "C10") in found
    res, found = _check(_se(cycle_dir, tmp_path, {"D6": 2.7, "E6": 2.43, "C10": None}), demo_dir)  # exactly 90 %
    assert ("E308", "C10") not in found and res.status == "accepted"


def test_points_must_total_100(cycle_dir, demo_dir, tmp_path):
    res, found = _check(_se(cycle_dir, tmp_path, {"F14": 20}), demo_dir)
    assert res.status == "rejected" and any(code == "E304" for code, _cell in found)


def test_locked_cells_are_checked_against_the_template_and_the_registry(cycle_dir, demo_dir, tmp_path):
    res, found = _check(_se(cycle_dir, tmp_path, {"D14": "≥50本"}), demo_dir)
    assert ("E313", "D14") in found
    res, found = _check(_se(cycle_dir, tmp_path, {"C6": 3.0}), demo_dir)
    assert ("E102", "C6") in found


def test_an_actual_that_cannot_be_compared_is_an_error_at_its_cell(cycle_dir, demo_dir, tmp_path):
    res, found = _check(_se(cycle_dir, tmp_path, {"E14": "很多"}), demo_dir)
    assert ("E309", "E14") in found and res.status == "rejected"


# ------------------------------------------------------------------ monitoring ----
def _mo(cycle_dir, tmp_path, cells: dict, code: str = FIRST) -> Path:
    spec = load_spec("monitoring")
    return _edit(_return(cycle_dir, "monitoring", code), tmp_path / f"{code}_mo.xlsx", cells, spec.sheet)


def test_monitoring_forecast_short_of_target_needs_cause_and_likelihood(cycle_dir, demo_dir, tmp_path):
    res, found = _check(_mo(cycle_dir, tmp_path, {"F12": "90本"}), demo_dir)
    assert {("E310", "G12"), ("E310", "I12")} <= found
    res, found = _check(_mo(cycle_dir, tmp_path, {"F12": "90本", "G12": "经费保障", "I12": "有可能"}), demo_dir)
    assert res.status == "accepted", found


def test_monitoring_spending_rules(cycle_dir, demo_dir, tmp_path):
    res, found = _check(_mo(cycle_dir, tmp_path, {"D6": 3.0}), demo_dir)  # above the 2.7 budget
    assert ("E303", "D6") in found
    res, found = _check(_mo(cycle_dir, tmp_path, {"D6": 0.1, "G6": None}), demo_dir)  # 3.7 % at the end of July
    assert ("W311", "D6") in found
    res, found = _check(_mo(cycle_dir, tmp_path, {"D6": 0.1, "G6": "设备采购在第四季度集中支付。"}), demo_dir)
    assert ("W311", "D6") not in found


def test_a_return_of_another_round_is_rejected_not_dropped(cycle_dir, demo_dir, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(cycle_dir / "self-evaluation" / "returns", folder)
    stray = shutil.copy(_return(cycle_dir, "monitoring", FIRST), folder / "stray_monitoring.xlsx")
    report = run([folder], load_registry(demo_dir / "registry.csv"), Options(duplicates="latest"))
    [res] = [f for f in report.files if f.path == str(stray)]
    assert res.status == "rejected" and [i.code for i in res.errors] == ["E315"]
    assert "绩效自评" in res.errors[0].message() and "绩效运行监控" in res.errors[0].message()
    assert report.count("accepted") == 15


def test_demo_cycle_runs_the_three_rounds(demo_dir):
    """demo_dir (tests/conftest.py) is `xlperf demo --cycle`, run as a subprocess; it exited 0."""
    stdout = (demo_dir / "demo_stdout.txt").read_text(encoding="utf-8")
    for folder, sheet in (("monitoring", "监控汇总"), ("self-evaluation", "自评汇总")):
        wb = CalamineWorkbook.from_path(str(demo_dir / folder / "master.xlsx"))
        assert len(wb.get_sheet_by_name(sheet).to_python()) == 16
        assert len(list((demo_dir / folder / "returns").glob("*.xlsx"))) == 15
    assert "绩效运行监控" in stdout and "自评得分" in stdout and "Traceback" not in stdout


# --------------------------------------------------------------------- publish ----
def test_publish_a_self_evaluation_master_redacts_classified_projects(cycle_dir, demo_dir, tmp_path):
    import docx

    master = tmp_path / "se.xlsx"
    assert run_cli("consolidate", cycle_dir / "self-evaluation" / "returns", "-r", demo_dir / "registry.csv",
                   "-o", master).returncode == 0
    proc = run_cli("publish", master, "-o", tmp_path / "pub", "--no-pdf")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [path] = list((tmp_path / "pub").glob("*.docx"))
    assert path.name.endswith("2021年绩效自评结果.docx")
    document = docx.Document(str(path))
    body = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    book = CalamineWorkbook.from_path(str(master))
    summary = book.get_sheet_by_name("自评汇总").to_python()
    head = summary[0]
    secret = {r[0] for r in summary[1:] if dict(zip(head, r))["涉密"] == "是"}
    assert secret, "the seed has classified projects"
    indicators = book.get_sheet_by_name("指标完成").to_python()
    for row in indicators[1:]:
        name = row[4]
        if row[0] in secret:
            assert name not in cells, name  # a classified project's indicators never reach the document
    assert body.count("涉密") >= len(secret)
    assert all(r[1] in cells for r in summary[1:])  # every project is in the summary table


# --------------------------------------------------------------- status and diff ----
def test_status_of_a_later_round_expects_no_unit_level_form(cycle_dir, demo_dir, tmp_path):
    folder = tmp_path / "se"
    shutil.copytree(cycle_dir / "self-evaluation" / "returns", folder)
    _edit(next(folder.glob(f"{FIRST}_*.xlsx")), next(folder.glob(f"{FIRST}_*.xlsx")), {"E14": "80本"},
          load_spec("self-evaluation").sheet)
    proc = run_cli("status", folder, "-r", demo_dir / "registry.csv", "--json", tmp_path / "s.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert data["summary"]["accepted"] == 14 and data["summary"]["rejected"] == 1
    assert data["unit_forms"] == [] and "部门整体" not in proc.stdout
    [item] = [p for p in data["projects"] if p["state"] == "rejected"]
    assert item["code"] == FIRST and any(e["code"] == "E305" for e in item["errors"])


def test_diff_of_two_self_evaluation_masters(cycle_dir, demo_dir, tmp_path):
    master = tmp_path / "se.xlsx"
    assert run_cli("consolidate", cycle_dir / "self-evaluation" / "returns", "-r", demo_dir / "registry.csv",
                   "-o", master).returncode == 0
    changed = tmp_path / "se2.xlsx"
    wb = openpyxl.load_workbook(master)
    head = [c.value for c in wb["指标完成"][1]]
    wb["指标完成"].cell(2, head.index("实际完成值") + 1).value = "90本"
    wb.save(changed)
    proc = run_cli("diff", master, changed, "--json", tmp_path / "d.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert [(c["sheet"], c["field"], c["old"], c["new"]) for c in data["changes"]] == [("指标完成", "实际完成值", "100本", "90本")]
    assert run_cli("diff", master, master).returncode == 0
    other = run_cli("diff", master, demo_dir / "master.xlsx")
    assert other.returncode == 2 and "Traceback" not in other.stdout + other.stderr


def test_feedback_of_a_self_evaluation_return_marks_the_cell_and_fixing_it_is_accepted(cycle_dir, demo_dir, tmp_path):
    inbox = tmp_path / "inbox"
    bad = _se(cycle_dir, inbox, {"E14": "80本", "G14": 12.5})
    proc = run_cli("validate", inbox, "-r", demo_dir / "registry.csv", "--feedback", tmp_path / "fb",
                   "--password", PASSWORD)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [feedback] = list((tmp_path / "fb").glob("*.xlsx"))
    wb = openpyxl.load_workbook(feedback)
    assert wb.sheetnames[0] == "问题清单"
    ws = wb[load_spec("self-evaluation").sheet]
    assert ws["E14"].value == "80本" and ws["G14"].value == 12.5  # the unit's entries, as typed
    assert ws["H14"].comment is not None and "E305" in ws["H14"].comment.text
    assert ws["G14"].comment is not None and "W307" in ws["G14"].comment.text
    assert ws["D14"].protection.locked and ws.protection.sheet  # still a locked template
    # the 总分 line's 分值 is a live formula whose stored value (what LibreOffice shows) is the rows' total
    shown = openpyxl.load_workbook(feedback, data_only=True)[load_spec("self-evaluation").sheet]
    assert ws["A23"].value == "总分" and ws["F23"].value.startswith("=SUM(F14:F22)")
    assert round(shown["F23"].value, 2) == 100
    ws["H14"] = "印刷厂停工，已改为下半年印刷。"
    wb.save(bad)  # the unit sends the corrected feedback workbook back under the old name
    res, found = _check(bad, demo_dir)
    assert res.status == "accepted", found
    assert ("W307", "G14") in found  # the typed score is still not xlperf's: a warning, not a rejection


# ------------------------------------------------------------ untrusted metadata ----
def _with_meta(src: Path, dst: Path, changes: dict) -> Path:
    wb = openpyxl.load_workbook(src)
    ws = wb["_xlperf_meta"]
    for row in ws.iter_rows(max_col=2):
        if row[0].value in changes:
            row[1].value = changes[row[0].value]
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


@pytest.mark.parametrize("changes, code", [
    ({"rows": "abc"}, "E314"),
    ({"rows": "-1"}, "E314"),
    ({"rows": "100000"}, "E314"),
    ({"rows": "3"}, "E005"),
    ({"locked": "[" * 20000}, "E007"),
    ({"locked": "{\"D14\": \"≥1本\"}"}, "E313"),
    ({"form_version": "1999.9"}, "E003"),
    ({"project_code": "130304213BQ28XLGKG7TX"}, "E006"),
])
def test_forged_metadata_of_a_table_form_is_a_clear_message(cycle_dir, demo_dir, tmp_path, changes, code):
    src = _return(cycle_dir, "self-evaluation", FIRST)
    forged = _with_meta(src, tmp_path / "in" / "forged.xlsx", changes)
    shutil.copy(_return(cycle_dir, "self-evaluation", "130304216Z9IPX6A6LYSU"), tmp_path / "in" / "ok.xlsx")
    report = run([tmp_path / "in"], load_registry(demo_dir / "registry.csv"), Options())
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["forged.xlsx"].status == "rejected"
    assert code in {i.code for i in by_name["forged.xlsx"].errors}, [(i.code, i.cell) for i in by_name["forged.xlsx"].issues]
    assert by_name["ok.xlsx"].status == "accepted"  # one bad file never stops the batch


def test_a_monitoring_month_out_of_range_in_the_metadata_falls_back_to_the_form(cycle_dir, demo_dir, tmp_path):
    forged = _with_meta(_return(cycle_dir, "monitoring", FIRST), tmp_path / "in" / "m.xlsx", {"through": "13"})
    [res] = run([forged], load_registry(demo_dir / "registry.csv"), Options()).files
    assert res.status == "accepted" and res.data.computed["时间进度"] == round(7 / 12, 4)


def test_a_later_round_takes_the_targets_year_and_its_returns_read_with_it(demo_dir, tmp_path, registry_path):
    """Without --year and a registry year, the templates carry the targets master's year (2021), in their
    labels too; a return of another year's template is E010 (not a moved label)."""
    proc = run_cli("generate", registry_path, "--form", "self-evaluation", "--prefill", demo_dir / "master.xlsx",
                   "-o", tmp_path / "se")
    assert proc.returncode == 0 and "2021" in proc.stdout, proc.stdout + proc.stderr
    template = next((tmp_path / "se").glob(f"*/{FIRST}_*.xlsx"))
    assert "2021" in openpyxl.load_workbook(template)["项目支出绩效自评表"]["A2"].value
    proc = run_cli("generate", registry_path, "--form", "self-evaluation", "--prefill", demo_dir / "master.xlsx",
                   "-o", tmp_path / "se22", "--year", "2022")
    assert proc.returncode == 0
    template22 = next((tmp_path / "se22").glob(f"*/{FIRST}_*.xlsx"))
    filled = tmp_path / "in" / template22.name
    fill_table_return(template22, filled, load_spec("self-evaluation"), 0)
    [res] = run([filled], load_registry(registry_path), Options(), year=2022).files
    assert res.status == "accepted", [(i.code, i.cell) for i in res.issues]
    [res] = run([filled], load_registry(registry_path), Options(), year=2021).files
    assert [i.code for i in res.errors] == ["E010"]
