"""One report type, rendered by itself: JSON, the 问题清单, a file's notes and the console agree."""
from __future__ import annotations

import io

from rich.console import Console

from xlperf.model import FileResult, Issue
from xlperf.report import ISSUE_COLUMNS, REJECTED_SHOWN, Report, cell_notes, file_rows


def _report() -> Report:
    bad = FileResult("in/bad.xlsx")
    bad.add(Issue.make("E101", "项目绩效目标表", "E5", field="资金用途"))
    bad.add(Issue.make("W205", "项目绩效目标表", "E5", found="印刷"))
    bad.add(Issue.make("E007", "_xlperf_meta", "locked_digest"))
    bad.settle()
    ok = FileResult("in/ok.xlsx")
    ok.add(Issue.make("W202", "项目绩效目标表", "B8", line="1.x"))
    ok.settle()
    copy = FileResult("in/copy.xlsx")
    copy.add(Issue.make("W207", other="in/ok.xlsx"))
    copy.settle()
    return Report([bad, ok, copy], year=2021)


def test_every_rendering_carries_the_same_issues():
    report = _report()
    for lang in ("zh", "en"):
        described = [(f["path"], i["code"], i["cell"], i["message"]) for f in report.to_descriptor(lang)["files"]
                     for i in f["issues"]]
        flat = report.flatten(lang)
        assert all(set(row) == set(ISSUE_COLUMNS) for row in flat)
        assert [(r["来源文件"], r["代码"], r["单元格"], r["说明"]) for r in flat] == described
    assert [r["状态"] for r in report.flatten("zh")] == ["退回"] * 3 + ["通过", "跳过"]
    assert [r["级别"] for r in report.flatten("en")] == ["error", "warning", "error", "warning", "skip"]
    assert report.to_descriptor()["summary"] == report.summary() == {
        "files": 3, "accepted": 1, "rejected": 1, "skipped": 1, "errors": 2, "warnings": 2}
    assert report.to_json("zh", {"master": {"x": 1}})["summary"]["master"] == {"x": 1}


def test_a_files_rows_and_notes():
    bad = _report().files[0]
    rows = file_rows(bad, "zh")
    assert [r["代码"] for r in rows] == ["E101", "W205", "E007"] and rows[0]["级别"] == "错误"
    notes = cell_notes(bad, "项目绩效目标表", "zh")
    assert list(notes) == ["E5"] and len(notes["E5"]) == 2 and notes["E5"][0].startswith("[E101] ")
    assert "资金用途" in notes["E5"][0]


def _console_text(report: Report, **kw) -> str:
    buf = io.StringIO()
    report.render_console(Console(file=buf, width=200, highlight=False), "zh", **kw)
    return buf.getvalue()


def test_console_default_quiet_and_verbose():
    report = _report()
    default = _console_text(report)
    assert "in/bad.xlsx" in default and "in/ok.xlsx" not in default  # only rejected files by default
    assert "E101" in default and "W205" not in default  # a rejected file's errors first
    assert default.strip().splitlines()[-1].startswith("每个文件的全部问题")
    quiet = _console_text(report, quiet=True)
    assert quiet.strip() == report.to_summary("zh")
    verbose = _console_text(report, verbose=True)
    assert all(name in verbose for name in ("in/bad.xlsx", "in/ok.xlsx", "in/copy.xlsx")) and "W205" in verbose


def test_console_cost_does_not_grow_with_the_round():
    files = []
    for n in range(REJECTED_SHOWN + 5):
        f = FileResult(f"in/{n}.xlsx")
        for _ in range(10):
            f.add(Issue.make("E101", "项目绩效目标表", "E5", field="资金用途"))
        f.settle()
        files.append(f)
    text = _console_text(Report(files))
    assert text.count("退回 in/") == REJECTED_SHOWN and "另有 5 个退回的文件" in text
    assert text.count("E101") == REJECTED_SHOWN * 3
