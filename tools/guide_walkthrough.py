"""Run the officer guide's two-unit 2022 rounds for real and capture their console output and screenshots.

Usage (from a checkout, in the venv):  python tools/guide_walkthrough.py [--work DIR] [--img docs/img] [--no-img]

Everything happens in a fresh work folder (a temp folder unless --work is given), with the paths an officer
would type (relative to that folder). Each command's real output goes to DIR/captures.md (and
captures.json); docs/guide.md quotes it. Screenshots are printed by LibreOffice headless and rendered at
70 dpi with pdftoppm into --img (docs/img by default).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tools", ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import openpyxl  # noqa: E402

from conftest import resave_return, xlperf_cmd  # noqa: E402  (the tests' re-submission helper)
from make_example_export import EXAMPLE_EXPORT, write_budget_export  # noqa: E402
from xlperf.fill import fill_project, fill_workbook, input_cells, load_projects, load_unit  # noqa: E402
from xlperf.spec import UNIT_FORM, load_spec  # noqa: E402

EXPORT = EXAMPLE_EXPORT.name
EXPORT_2023 = "预算系统导出示例_2023.xlsx"
RETURNS = "收到的报送"
MASTER = "汇总/2022年绩效目标汇总.xlsx"
MASTER_2023 = "汇总/2023年绩效目标汇总.xlsx"
DEADLINE = "2021-12-10"
WRONG = "130304211DGTGIWENVORV"      # 党史宣传研究工作经费: a changed locked amount and a placeholder 指标值
TWICE = "130304219DA0ZT1NYT6YG"      # 慰问经费: sent, then sent again with one indicator changed
MISSING = "13030421NIUYRKC6KUT7H"    # 密码通信设备升级改造及管理费: arrives only after the first consolidation
RENAMED_2023 = "130304218GZX5KD5HGG4I"  # 人事代理经费: next year one more person, a bigger budget
DROPPED_2023 = "13030421GBX2MPVPB5P8X"  # 暑办工作经费: not in next year's export
IMG_DPI = 70
# the later rounds of the same year, from the 2022 targets master
MONITORING_MASTER = "汇总/2022年绩效运行监控汇总.xlsx"
SELF_EVAL_MASTER = "汇总/2022年绩效自评汇总.xlsx"
FORECAST_SHORT = WRONG                # 党史宣传研究工作经费: 全年预计 80本 of ≥100本, no reason (E310)
SCORE_SHORT = RENAMED_2023            # 人事代理经费: 工作正常运行率 90% of ≥95%, no reason (E305), a typed 12.5 (W307)
SUB_UNIT = "201001"                   # the unit that collects as a 二级单位 and sends its master up
DIRECT_TOO = "130304216Z9IPX6A6LYSU"  # 安可替代工程经费: also sent straight to the 主管部门 (counted once)
TAMPERED = "130304213BQ28XLGKG7TX"    # 电子政务内网建设维护经费: its 预算数 changed in a copy of the sub-master


class Walk:
    """The work folder, the captured commands and the times the simulated units save their files at."""

    def __init__(self, work: Path):
        self.work = work
        self.captures: list[dict] = []

    def xlperf(self, name: str, *args: str, expect: set[int] = frozenset({0, 1})) -> dict:
        env = {**os.environ, "XLPERF_LANG": "zh", "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
        proc = subprocess.run([*xlperf_cmd(), *args], capture_output=True, text=True, cwd=self.work, env=env,
                              timeout=600)
        shown = " ".join(a if a and not any(ch in a for ch in " ()（）") else f"'{a}'" for a in args)
        cap = {"name": name, "cmd": f"xlperf {shown}", "rc": proc.returncode,
               "out": (proc.stdout + proc.stderr).rstrip()}
        self.captures.append(cap)
        print(f"[{name}] $ {cap['cmd']}  -> exit {proc.returncode}", flush=True)
        if proc.returncode not in expect or "Traceback" in cap["out"]:
            raise SystemExit(f"{name}: unexpected exit {proc.returncode}\n{cap['out']}")
        return cap

    def note(self, name: str, text: str) -> None:
        """A fact the guide states that is not a console output (e.g. what a prefilled cell holds)."""
        self.captures.append({"name": name, "cmd": "", "rc": 0, "out": text.rstrip()})
        print(f"[{name}] {text.splitlines()[0] if text else ''}", flush=True)

    def write(self) -> None:
        (self.work / "captures.json").write_text(json.dumps(self.captures, ensure_ascii=False, indent=1),
                                                 encoding="utf-8")
        parts = []
        for c in self.captures:
            parts.append(f"## {c['name']}\n\n```console\n" + (f"$ {c['cmd']}\n" if c["cmd"] else "")
                         + f"{c['out']}\n```\n" + (f"exit {c['rc']}\n" if c["cmd"] else ""))
        (self.work / "captures.md").write_text("\n".join(parts), encoding="utf-8")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day)


def fill_round(templates: Path, returns: Path, skip: set[str], saved: datetime) -> dict[str, Path]:
    """Every unit fills its templates (the bundled content) and saves at *saved*; returns code -> file."""
    spec, unit_spec = load_spec(), load_spec(UNIT_FORM)
    projects = load_projects()
    written = {}
    for folder in sorted(p for p in templates.iterdir() if p.is_dir()):
        for tpl in sorted(folder.glob("*.xlsx")):
            code = tpl.name.split("_", 1)[0]
            if code in skip:
                continue
            target = returns / folder.name / tpl.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if code in projects:
                refused = fill_project(tpl, target, projects[code], spec)
                sheet = spec.sheet
            else:  # the unit-level form
                refused = fill_workbook(tpl, target, input_cells(unit_spec, load_unit()), unit_spec.sheet)
                sheet = unit_spec.sheet
            assert refused == [], (tpl, refused)
            resave_return(target, target, saved, sheet=sheet)  # the time the unit saved it
            written[code] = target
    return written


def unprotect_and_change(path: Path, cells: dict, saved: datetime) -> None:
    """What a unit that removed the sheet protection does: change locked cells too."""
    wb = openpyxl.load_workbook(path)
    ws = wb[load_spec().sheet]
    ws.protection.sheet = False
    wb.save(path)
    resave_return(path, path, saved, cells)


def fill_table_round(templates: Path, returns: Path, form: str, saved: datetime) -> dict[str, Path]:
    """Every unit fills its monitoring or self-evaluation templates as the demo's units do; code -> file."""
    from xlperf.cycle_demo import fill_table_return

    spec = load_spec(form)
    written = {}
    for index, tpl in enumerate(sorted(templates.rglob("*.xlsx"))):
        target = returns / tpl.parent.name / tpl.name
        fill_table_return(tpl, target, spec, index)
        resave_return(target, target, saved, sheet=spec.sheet)
        written[tpl.name.split("_", 1)[0]] = target
    return written


def table_cells(path: Path, form: str) -> tuple[dict, dict]:
    """(column name -> letter, indicator name -> row) of a table-form workbook, read from its header and rows."""
    spec = load_spec(form)
    ws = openpyxl.load_workbook(path)[spec.sheet]
    header = {spec.fill_text(c.label or c.name): c.col for c in spec.columns}
    columns = {c.name: c.col for c in spec.columns}
    assert all(ws[f"{col}{spec.header_row}"].value == text for text, col in header.items()), header
    rows = {}
    for r in range(spec.first_row, ws.max_row + 1):
        name = ws[f"{columns['三级指标']}{r}"].value
        if name:
            rows.setdefault(name, r)
    return columns, rows


def sheet_rows(path: Path, sheet: str, columns: list[str], keep=lambda row: True) -> str:
    """Some columns of a master sheet as a Markdown table (what the guide shows of it)."""
    def shown(cell) -> str:
        value = cell.value
        if value is None:
            return ""
        if isinstance(value, (int, float)) and "%" in cell.number_format:
            return f"{value:.0%}"
        if isinstance(value, float):
            return f"{value:.2f}".rstrip("0").rstrip(".")
        return str(value)

    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows())
    head = [c.value for c in rows[0]]
    out = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows[1:]:
        record = dict(zip(head, row))
        if keep({k: c.value for k, c in record.items()}):
            out.append("| " + " | ".join(shown(record[c]) for c in columns) + " |")
    return "\n".join(out)


def registry_of_unit(src: Path, dst: Path, unit: str) -> None:
    """The 二级单位's own part of the budget export: the rows of its unit, same layout."""
    wb = openpyxl.load_workbook(src)
    ws = wb.active
    for r in range(ws.max_row, 4, -1):
        if str(ws.cell(r, 1).value) != unit:
            ws.delete_rows(r)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)


def master_columns_only(src: Path, dst: Path, sheet: str, keep: list[str]) -> None:
    """A copy of a master with the other columns of *sheet* hidden, for a readable screenshot of a few columns."""
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    for cell in ws[1]:
        ws.column_dimensions[cell.column_letter].hidden = cell.value not in keep
        if cell.value in keep:
            ws.column_dimensions[cell.column_letter].width = 60 if cell.value == "来源文件" else 24
    ws.print_area = f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"  # the provenance is out of print
    wb.save(dst)


# ------------------------------------------------------------------ screenshots

def render(src: Path, png: Path, *, sheet: str | None = None, page: int = 1) -> Path:
    """Print *src* (one sheet of a workbook, or a PDF) with LibreOffice and render *page* at IMG_DPI."""
    from soffice import to_pdf

    with tempfile.TemporaryDirectory(prefix="xlperf-guide-") as tmp:
        pdf = src if src.suffix == ".pdf" else to_pdf(src, tmp, sheet=sheet)
        root = Path(tmp) / "page"
        subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(IMG_DPI), "-f", str(page), "-l", str(page),
                        str(pdf), str(root)], check=True, timeout=120)
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root.with_suffix(".png"), png)
    size = png.stat().st_size
    print(f"[img] {png} ({size // 1024} KB)", flush=True)
    if size > 200_000:
        raise SystemExit(f"{png} is {size} bytes: keep screenshots under 200 KB")
    return png


# ------------------------------------------------------------------ the round

def walk(work: Path, img: Path | None) -> Walk:
    w = Walk(work)
    shutil.copyfile(EXAMPLE_EXPORT, work / EXPORT)
    spec = load_spec()

    # 1. templates from the export, one folder and one zip per unit
    w.xlperf("generate", "generate", EXPORT, "-o", "模板", "--zip")
    w.xlperf("generate_again", "generate", EXPORT, "-o", "模板", "--year", "2022")
    templates = work / "模板"
    w.note("template_tree", "\n".join(str(p.relative_to(work)) for p in sorted(templates.rglob("*"))))

    # 2. the units fill and send back (one project wrong, one missing, one sent twice)
    returns = work / RETURNS
    filled = fill_round(templates, returns, {MISSING}, at("2021-11-20T09:30:00"))
    unprotect_and_change(filled[WRONG], {"B5": 3.7, "E10": "≥**%"}, at("2021-11-20T09:30:00"))
    first = filled[TWICE]
    satisfaction = next(r for r in range(1, 80) if "满意度" in str(openpyxl.load_workbook(first)[spec.sheet]
                                                                  .cell(r, 2).value or ""))
    second = first.with_name(first.stem.split("_", 1)[1] + "（修改版）.xlsx")
    resave_return(first, second, at("2021-11-25T16:00:00"), {f"E{satisfaction}": "≥98%"})
    w.note("returns_tree", "\n".join(str(p.relative_to(work)) for p in sorted(returns.rglob("*.xlsx"))))

    # 3. where the round stands, the checks, the feedback
    w.xlperf("status", "status", RETURNS, "-r", EXPORT, "--deadline", DEADLINE)
    w.xlperf("validate", "validate", RETURNS, "-r", EXPORT)
    w.xlperf("validate_verbose", "validate", RETURNS, "-r", EXPORT, "--verbose")
    w.xlperf("validate_feedback", "validate", RETURNS, "-r", EXPORT, "--feedback", "反馈", "--json", "校验报告.json")
    report = json.loads((work / "校验报告.json").read_text(encoding="utf-8"))
    w.note("report_json", json.dumps(report, ensure_ascii=False, indent=1))
    w.xlperf("status_feedback", "status", RETURNS, "-r", EXPORT, "--deadline", DEADLINE, "--feedback", "反馈")
    feedback = sorted((work / "反馈").rglob(f"{WRONG}*.xlsx"))
    assert len(feedback) == 1, feedback
    fb = openpyxl.load_workbook(feedback[0])
    w.note("feedback_sheets", f"{feedback[0].relative_to(work)}\n工作表：{fb.sheetnames}\n"
           f"B5={fb[spec.sheet]['B5'].value} E10={fb[spec.sheet]['E10'].value}")

    # 4. the unit fixes only the marked cell of its feedback workbook and sends it back
    fixed = filled[WRONG].with_name(filled[WRONG].stem + "（改正）.xlsx")
    resave_return(feedback[0], fixed, at("2021-12-01T10:00:00"), {"E10": "≥100本"})
    rel = fixed.relative_to(work).as_posix()
    if w.xlperf("validate_fixed", "validate", rel, "-r", EXPORT)["rc"] != 0:
        # the feedback loop must close; when it does not, say so loudly and let the unit correct its own
        # return instead, so the rest of the round (and the guide's outputs) can still be captured
        print("PRODUCT BUG: the fixed feedback workbook is rejected (see validate_fixed_feedback in captures.md);"
              " the unit re-sends its own corrected return instead", file=sys.stderr, flush=True)
        w.captures[-1]["name"] = "validate_fixed_feedback"
        resave_return(filled[WRONG], fixed, at("2021-12-01T10:00:00"), {"B5": 2.7, "E10": "≥100本"})
        w.xlperf("validate_fixed", "validate", rel, "-r", EXPORT, expect={0})
    w.xlperf("status_fixed", "status", RETURNS, "-r", EXPORT, "--deadline", DEADLINE)
    w.xlperf("diff_returns", "diff", first.relative_to(work).as_posix(), second.relative_to(work).as_posix())

    # 5. consolidate with one project still missing; publish withholds that unit
    w.xlperf("consolidate_incomplete", "consolidate", RETURNS, "-r", EXPORT, "-o", MASTER)
    w.xlperf("publish_incomplete", "publish", MASTER, "-o", "公开", "--no-pdf")
    w.xlperf("publish_allow_incomplete", "publish", MASTER, "-o", "公开_缺项", "--allow-incomplete",
             "--unit", "201002", "--no-pdf")

    # 6. the last project arrives: everything is in
    fill_round(templates, returns, {c for c in load_projects() if c != MISSING} | {"201001", "201002"},
               at("2021-12-08T15:00:00"))
    w.xlperf("status_done", "status", RETURNS, "-r", EXPORT, "--deadline", DEADLINE)
    w.xlperf("consolidate", "consolidate", RETURNS, "-r", EXPORT, "-o", MASTER)
    wb = openpyxl.load_workbook(work / MASTER)
    w.note("master_sheets", f"工作表：{wb.sheetnames}\n标题：{wb.properties.title}")
    w.xlperf("publish", "publish", MASTER, "-o", "公开")
    w.xlperf("publish_unit", "publish", MASTER, "-o", "公开_201001", "--unit", "201001", "--no-pdf")

    # 7. next year: a 2023 export (one budget changed, one project dropped), prefilled from this year's master
    rows = write_budget_export(work / EXPORT_2023, 2023)
    wb = openpyxl.load_workbook(work / EXPORT_2023)
    ws = wb.active
    for r in range(ws.max_row, 4, -1):
        code = ws.cell(r, 3).value
        if code == DROPPED_2023:
            ws.delete_rows(r)
        elif code == RENAMED_2023:
            ws.cell(r, 5).value = ws.cell(r, 6).value = ws.cell(r, 5).value + 20000
    wb.save(work / EXPORT_2023)
    w.xlperf("generate_prefill", "generate", EXPORT_2023, "-o", "2023模板", "--prefill", MASTER, "--zip")
    t2023 = work / "2023模板"
    projects = load_projects()
    secret = []
    for tpl in sorted(t2023.rglob("1303*.xlsx")):
        code = tpl.name.split("_", 1)[0]
        value = openpyxl.load_workbook(tpl)[spec.sheet]["F7"].value
        secret.append(f"{code} {projects[code]['项目名称']}：上一年涉密={'是' if projects[code].get('涉密') else '否'}，"
                      f"2023 模板中 涉密 = {value if value else '（空，由单位选择）'}")
    w.note("prefill_secret", "\n".join(secret))
    returns_2023 = work / "2023收到的报送"
    filled = fill_round(t2023, returns_2023, set(), at("2022-11-20T09:30:00"))
    resave_return(filled[RENAMED_2023], filled[RENAMED_2023], at("2022-11-21T09:30:00"), {"E10": "3人"})
    w.xlperf("consolidate_2023", "consolidate", "2023收到的报送", "-r", EXPORT_2023, "-o", MASTER_2023, "-q")
    w.xlperf("diff_masters", "diff", MASTER, MASTER_2023)
    assert len(rows) == 10

    # 8. mid-year monitoring (绩效运行监控) of the same 2022 projects, prefilled from the targets master
    w.xlperf("monitoring_generate", "generate", EXPORT, "--form", "monitoring", "--through", "7", "--prefill", MASTER,
             "-o", "监控模板")
    mon_returns = work / "监控报送"
    mon = fill_table_round(work / "监控模板", mon_returns, "monitoring", at("2022-08-05T10:00:00"))
    columns, rows = table_cells(mon[FORECAST_SHORT], "monitoring")
    short_row = rows["完成送审稿字数、印刷册数"]
    target = openpyxl.load_workbook(mon[FORECAST_SHORT])[load_spec("monitoring").sheet][f"{columns['年度指标值']}{short_row}"].value
    resave_return(mon[FORECAST_SHORT], mon[FORECAST_SHORT], at("2022-08-05T10:00:00"),
                  {f"{columns['实际完成值']}{short_row}": "40本", f"{columns['全年预计完成值']}{short_row}": "80本",
                   f"{columns['偏差原因分析']}{short_row}": None, f"{columns['原因说明']}{short_row}": None,
                   f"{columns['完成目标可能性']}{short_row}": None}, sheet=load_spec("monitoring").sheet)
    w.note("monitoring_short", f"{mon[FORECAST_SHORT].relative_to(work)}：年度指标值 {target}，"
           f"1-7月实际完成值 40本，全年预计完成值 80本，偏差原因分析、完成目标可能性 未填")
    checked = w.xlperf("monitoring_validate", "validate", "监控报送", "-r", EXPORT, "--feedback", "监控反馈")
    if "E005" in checked["out"]:
        raise SystemExit("PRODUCT BUG: the 2022 monitoring returns are rejected with E005 (their labels are checked "
                         "against the form's default year, not the year in the template's metadata)\n"
                         + checked["out"])
    [mon_feedback] = sorted((work / "监控反馈").rglob(f"{FORECAST_SHORT}*.xlsx"))
    mon_fixed = mon[FORECAST_SHORT].with_name(mon[FORECAST_SHORT].stem + "（改正）.xlsx")
    resave_return(mon_feedback, mon_fixed, at("2022-08-08T10:00:00"),
                  {f"{columns['偏差原因分析']}{short_row}": "经费保障",
                   f"{columns['原因说明']}{short_row}": "印刷经费下半年到位，已与印刷厂约定 11 月交付。",
                   f"{columns['完成目标可能性']}{short_row}": "有可能"}, sheet=load_spec("monitoring").sheet)
    w.xlperf("monitoring_validate_fixed", "validate", mon_fixed.relative_to(work).as_posix(), "-r", EXPORT,
             expect={0})
    w.xlperf("monitoring_consolidate", "consolidate", "监控报送", "-r", EXPORT, "-o", MONITORING_MASTER)
    w.note("monitoring_master_sheets", f"工作表：{openpyxl.load_workbook(work / MONITORING_MASTER).sheetnames}")
    w.note("monitoring_master_rows", sheet_rows(work / MONITORING_MASTER, "监控汇总",
                                                ["项目编码", "项目名称", "年初预算数", "执行数", "执行率", "时间进度",
                                                 "全年预计执行数", "指标数", "预计未完成指标数"]))

    # 9. year-end self-evaluation (绩效自评): one indicator short without a reason, one typed score
    w.xlperf("self_generate", "generate", EXPORT, "--form", "self-evaluation", "--prefill", MASTER, "-o", "自评模板")
    ev_spec = load_spec("self-evaluation")
    ev_returns = work / "自评报送"
    ev = fill_table_round(work / "自评模板", ev_returns, "self-evaluation", at("2023-01-20T10:00:00"))
    columns, rows = table_cells(ev[SCORE_SHORT], "self-evaluation")
    first, short_row = rows["支付经费人数"], rows["工作正常运行率"]
    ws = openpyxl.load_workbook(ev[SCORE_SHORT])[ev_spec.sheet]
    def value(name: str, r: int):
        return ws[f"{columns[name]}{r}"].value

    w.note("self_points", "\n".join(f"{value('一级指标', r)} / {value('三级指标', r)}：年度指标值 {value('年度指标值', r)}，"
                                    f"分值 {value('分值', r)}" for r in sorted(set(rows.values()))))
    resave_return(ev[SCORE_SHORT], ev[SCORE_SHORT], at("2023-01-20T10:00:00"),
                  {f"{columns['实际完成值']}{first}": "2人", f"{columns['偏差原因分析及改进措施']}{first}": None,
                   f"{columns['实际完成值']}{short_row}": "90%", f"{columns['得分']}{short_row}": 12.5,
                   f"{columns['偏差原因分析及改进措施']}{short_row}": None}, sheet=ev_spec.sheet)
    w.note("self_short", f"{ev[SCORE_SHORT].relative_to(work)}：工作正常运行率 年度指标值 ≥95%，实际完成值 90%，"
           f"单位自填得分 12.5，偏差原因 未填")
    w.xlperf("self_validate", "validate", "自评报送", "-r", EXPORT, "--feedback", "自评反馈")
    w.xlperf("self_validate_verbose", "validate", ev[SCORE_SHORT].relative_to(work).as_posix(), "-r", EXPORT,
             "--verbose")
    [ev_feedback] = sorted((work / "自评反馈").rglob(f"{SCORE_SHORT}*.xlsx"))
    fb = openpyxl.load_workbook(ev_feedback)
    w.note("self_feedback_sheets", f"{ev_feedback.relative_to(work)}\n工作表：{fb.sheetnames}")
    total = f"{columns['分值']}{max(rows.values()) + 1}"
    cached = {path: next((c.value for c in openpyxl.load_workbook(path, data_only=True)[ev_spec.sheet][total:total][0]), None)
              for path in (next((work / "自评模板").rglob(f"{SCORE_SHORT}_*.xlsx")), ev_feedback)}
    if len(set(cached.values())) != 1:
        print(f"PRODUCT BUG: the feedback workbook's 总分 {total} shows {cached[ev_feedback]} where the template shows "
              f"{list(cached.values())[0]} (the formula's cached value)", file=sys.stderr, flush=True)
    ev_fixed = ev[SCORE_SHORT].with_name(ev[SCORE_SHORT].stem + "（改正）.xlsx")
    resave_return(ev_feedback, ev_fixed, at("2023-01-25T10:00:00"),
                  {f"{columns['偏差原因分析及改进措施']}{short_row}":
                   "两次系统升级期间停机；下一年度提前安排升级窗口，运行率目标不变。"}, sheet=ev_spec.sheet)
    w.xlperf("self_validate_fixed", "validate", ev_fixed.relative_to(work).as_posix(), "-r", EXPORT, "--verbose",
             expect={0})
    w.xlperf("self_status", "status", "自评报送", "-r", EXPORT, "--deadline", "2023-03-31")
    w.xlperf("self_consolidate", "consolidate", "自评报送", "-r", EXPORT, "-o", SELF_EVAL_MASTER)
    w.note("self_master_sheets", f"工作表：{openpyxl.load_workbook(work / SELF_EVAL_MASTER).sheetnames}")
    w.note("self_master_rows", sheet_rows(work / SELF_EVAL_MASTER, "自评汇总",
                                          ["项目编码", "项目名称", "全年预算数", "全年执行数", "执行率", "资金得分",
                                           "产出指标得分", "效益指标得分", "满意度指标得分", "总分", "等级"]))
    w.note("self_master_indicators", sheet_rows(work / SELF_EVAL_MASTER, "指标完成",
                                                ["三级指标", "年度指标值", "实际完成值", "分值", "得分",
                                                 "偏差原因分析及改进措施"], lambda r: r["项目编码"] == SCORE_SHORT))
    w.xlperf("self_publish", "publish", SELF_EVAL_MASTER, "-o", "自评公开")

    # 10. a 主管部门 collecting through a 二级单位: 201001 consolidates its own returns and sends its master up
    sub = work / f"二级单位{SUB_UNIT}"
    registry_of_unit(work / EXPORT, sub / "项目库.xlsx", SUB_UNIT)
    unit_returns = next(p for p in returns.iterdir() if p.is_dir() and p.name.startswith(f"{SUB_UNIT}_"))
    shutil.copytree(unit_returns, sub / "收到的报送")
    sub_master = f"二级单位{SUB_UNIT}/{SUB_UNIT}汇总.xlsx"
    w.xlperf("tree_sub_consolidate", "consolidate", f"二级单位{SUB_UNIT}/收到的报送", "-r",
             f"二级单位{SUB_UNIT}/项目库.xlsx", "-o", sub_master)
    inbox = work / "主管部门收件"
    inbox.mkdir()
    shutil.copy2(work / sub_master, inbox / f"{SUB_UNIT}汇总.xlsx")
    shutil.copy2(next(unit_returns.glob("*部门整体绩效目标.xlsx")), inbox)  # unit forms still go up directly
    shutil.copy2(next(unit_returns.glob(f"{DIRECT_TOO}_*.xlsx")), inbox)  # sent both ways: counted once
    other = next(p for p in returns.iterdir() if p.is_dir() and not p.name.startswith(f"{SUB_UNIT}_"))
    shutil.copytree(other, inbox / other.name)
    w.note("tree_inbox", "\n".join(str(p.relative_to(work)) for p in sorted(inbox.rglob("*.xlsx"))))
    tree_master = "汇总/2022年绩效目标汇总_主管部门.xlsx"
    w.xlperf("tree_consolidate", "consolidate", "主管部门收件", "-r", EXPORT, "-o", tree_master,
             "--json", "主管部门校验报告.json")
    tree_report = json.loads((work / "主管部门校验报告.json").read_text(encoding="utf-8"))
    w.note("tree_skipped", "\n".join(f"{i['code']} {f['path']}：{i['message']}" for f in tree_report["files"]
                                     if f["status"] == "skipped" for i in f["issues"] if i["severity"] == "skip"))
    w.xlperf("tree_status", "status", "主管部门收件", "-r", EXPORT)
    w.note("tree_master_rows", sheet_rows(work / tree_master, "项目汇总",
                                          ["单位编码", "项目编码", "项目名称", "来源文件", "来源单元格", "来源汇总表"]))
    tampered = work / "主管部门收件_改动"
    shutil.copytree(inbox, tampered)
    wb = openpyxl.load_workbook(tampered / f"{SUB_UNIT}汇总.xlsx")
    ws = wb["项目汇总"]
    head = [c.value for c in ws[1]]
    cell = next(ws.cell(r, head.index("预算数") + 1) for r in range(2, ws.max_row + 1)
                if ws.cell(r, head.index("项目编码") + 1).value == TAMPERED)
    w.note("tree_tampered", f"{tampered.name}/{SUB_UNIT}汇总.xlsx 项目汇总!{cell.coordinate}：预算数 {cell.value} → 9")
    cell.value = 9
    wb.save(tampered / f"{SUB_UNIT}汇总.xlsx")
    w.xlperf("tree_tampered_consolidate", "consolidate", tampered.name, "-r", EXPORT, "-o",
             "汇总/改动后的主管部门汇总.xlsx")

    # 11. screenshots
    if img is not None:
        unit_dir = next(p for p in sorted(templates.iterdir()) if p.is_dir() and p.name.startswith("201001_"))
        render(next(unit_dir.glob(f"{WRONG}_*.xlsx")), img / "template_project.png", sheet=spec.sheet)
        unit_return = next(p for p in returns.rglob("201001_*部门整体绩效目标.xlsx"))
        render(unit_return, img / "template_unit.png", sheet=load_spec(UNIT_FORM).sheet)
        render(feedback[0], img / "feedback_issues.png", sheet=fb.sheetnames[0])
        render(feedback[0], img / "feedback.png", sheet=spec.sheet)
        render(work / MASTER, img / "master_overview.png", sheet="概览")
        pdf = next((work / "公开").glob("201001_*.pdf"))
        render(pdf, img / "publish_page1.png", page=1)
        pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                               check=True, timeout=120).stdout.split("\f")
        first_table = next(i for i, text in enumerate(pages, 1) if "项目编码" in text)
        render(pdf, img / "publish_project.png", page=first_table)
        render(next((work / "自评模板").rglob(f"{SCORE_SHORT}_*.xlsx")), img / "self_template.png", sheet=ev_spec.sheet)
        render(next((work / "监控模板").rglob(f"{FORECAST_SHORT}_*.xlsx")), img / "monitoring_template.png",
               sheet=load_spec("monitoring").sheet)
        render(ev_feedback, img / "self_feedback.png", sheet=ev_spec.sheet)
        render(work / SELF_EVAL_MASTER, img / "self_master_summary.png", sheet="自评汇总")
        render(work / SELF_EVAL_MASTER, img / "self_master_overview.png", sheet="概览")
        pdf = next((work / "自评公开").glob(f"{SUB_UNIT}_*.pdf"))
        pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                               check=True, timeout=120).stdout.split("\f")
        project_page = next(i for i, text in enumerate(pages, 1) if "项目编码" in text)
        render(pdf, img / "self_publish.png", page=project_page)
        with tempfile.TemporaryDirectory(prefix="xlperf-guide-") as tmp:
            shown = Path(tmp) / "主管部门汇总_来源.xlsx"
            master_columns_only(work / tree_master, shown, "项目汇总", ["项目编码", "项目名称", "来源文件", "来源汇总表"])
            render(shown, img / "tree_master_via.png", sheet="项目汇总")
    w.write()
    return w


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, help="work folder (default: a new temp folder, kept)")
    ap.add_argument("--img", type=Path, default=ROOT / "docs" / "img", help="where the screenshots go")
    ap.add_argument("--no-img", action="store_true", help="skip LibreOffice and the screenshots")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="xlperf-guide-"))
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work} is not empty")
    work.mkdir(parents=True, exist_ok=True)
    walk(work, None if args.no_img else args.img)
    print(f"captured: {work / 'captures.md'}")


if __name__ == "__main__":
    main(sys.argv[1:])
