"""Run the officer guide's two-unit 2022 round for real and capture its console output and screenshots.

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

    # 8. screenshots
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
