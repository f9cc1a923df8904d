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


# ------------------------------------------------------------------ the property over the broken corpus ----
# For every broken return that gets a feedback workbook: write the clean value into exactly the cells the
# feedback marks (comment or red shading, read from the feedback file itself) and nothing else; the
# result is accepted, and every cell it did not mark reads back as the unit typed it (value, type and
# number format: a 100 % typed as 1 formatted 0% must not come back as a plain 1).
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from openpyxl.utils.cell import range_boundaries  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from broken import BASE_CODE, PASSWORD, SHEET, SPEC, build_broken, registry_path, returns_dir  # noqa: E402
from xlperf.feedback import wants_feedback, write_feedback  # noqa: E402
from xlperf.fill import input_cells, load_projects  # noqa: E402
from xlperf.pipeline import run  # noqa: E402
from xlperf.reader import _input_refs, scan_sheet_xml  # noqa: E402
from xlperf.registry import load_registry  # noqa: E402
from xlperf.rules import Options  # noqa: E402
from xlperf.spec import make_ref  # noqa: E402


@pytest.fixture(scope="module")
def corpus_feedback(tmp_path_factory):
    out = tmp_path_factory.mktemp("broken_fb")
    cases = build_broken(out)
    registry = load_registry(registry_path(out))
    report = {Path(f.path).name: f for f in run([returns_dir(out)], registry, Options()).files}
    taken: set = set()
    written = {}
    for case in cases:
        res = report[case.path.name]
        path = write_feedback(res, registry, out / "feedback", PASSWORD, taken=taken) if wants_feedback(res) else None
        if path is not None:  # None: nothing to prefill (not the form, or a project the registry lacks)
            written[case.name] = path
    return out, cases, registry, report, written


def marked_cells(ws) -> set[str]:
    """The cells a feedback sheet marks: those with a comment or under a conditional (red) format."""
    marked = {c.coordinate for row in ws.iter_rows() for c in row if c.comment is not None}
    for cf in ws.conditional_formatting:
        for rng in str(cf.sqref).split():
            c1, r1, c2, r2 = range_boundaries(rng)
            marked |= {make_ref(r - 1, c - 1) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    return marked


def typed_cells(path: Path, res) -> dict:
    """Input cell -> (value, number format) as a return holds it (format only for numbers and dates)."""
    d = res.data
    values = {d.refs[f.name]: d.fields.get(f.name) for f in SPEC.input_fields}
    for ir in d.indicators:
        values.update({ir.refs[k]: v for k, v in ir.values.items()})
    values = {k: v for k, v in values.items() if v not in (None, "")}
    typed = {k for k, v in values.items() if not isinstance(v, str)}
    _f, formats = scan_sheet_xml(path, SHEET, set(), typed)
    return {k: (type(v).__name__, v, formats.get(k, "")) for k, v in values.items()}


def test_fixing_the_marked_cells_of_a_feedback_workbook_gives_an_accepted_return(corpus_feedback, tmp_path):
    out, cases, registry, report, written = corpus_feedback
    clean = input_cells(SPEC, load_projects()[BASE_CODE])
    inputs = set(_input_refs(SPEC, SPEC.slots))
    typed_cases = [c.name for c in cases if c.name.startswith("typed_")]
    assert set(typed_cases) <= set(written), "every typed case is rejected and gets a feedback workbook"
    assert len(written) >= 40
    failures = {}
    for name, fb in written.items():
        case = next(c for c in cases if c.name == name)
        res = report[case.path.name]
        wb = openpyxl.load_workbook(fb)
        ws = wb[SHEET]
        marked = marked_cells(ws)
        for ref in marked & inputs:  # locked cells already hold the registry's value, as a clean fill does
            ws[ref] = clean.get(ref)
        fixed = tmp_path / fb.name
        wb.save(fixed)
        (got,) = run([fixed], registry, Options()).files
        errors = [(i.code, i.cell) for i in got.errors]
        if got.status != "accepted":
            failures[name] = ("rejected", errors, sorted(marked))
            continue
        before, after = typed_cells(case.path, res), typed_cells(fixed, got)
        changed = {ref: (before.get(ref), after.get(ref)) for ref in (before.keys() | after.keys()) - marked
                   if before.get(ref) != after.get(ref)}
        if changed:
            failures[name] = ("changed", changed)
    assert not failures, failures


def test_feedback_of_a_percent_typed_value_keeps_the_percent(corpus_feedback):
    """The reported defect itself: 100% typed (1, format 0%) beside another error."""
    _out, _cases, _registry, _report, written = corpus_feedback
    ws = openpyxl.load_workbook(written["typed_percent_value_e104"])[SHEET]
    cell = ws["E13"]
    assert cell.value == 1 and "%" in cell.number_format and cell.comment is None
    plan = openpyxl.load_workbook(written["typed_plan_percent_e110"])[SHEET]
    assert [plan[r].value for r in ("B7", "C7", "D7", "E7")] == [0.25, 0.5, 0.75, 1]
    assert all(plan[r].number_format == "0%" for r in ("B7", "C7", "D7", "E7"))
    literal = openpyxl.load_workbook(written["typed_literal_percent_e117"])[SHEET]["E16"]
    assert literal.value == 95 and literal.number_format == '0.00"%"'  # shown 95.00%, no scaling
    formula = openpyxl.load_workbook(written["typed_formula_e116"])[SHEET]["D13"]
    assert formula.value == "=1+1" and formula.data_type == "s"  # shown as typed, never evaluated


def test_feedback_marks_a_whole_empty_required_row(corpus_feedback):
    _out, _cases, _registry, _report, written = corpus_feedback
    ws = openpyxl.load_workbook(written["e107_数量指标_empty"])[SHEET]
    row = SPEC.first_row
    assert {f"{c.col}{row}" for c in SPEC.columns} <= marked_cells(ws)
    assert ws[f"C{row}"].comment is not None and ws[f"D{row}"].comment is None


def test_no_feedback_for_copies_and_unique_names(corpus_feedback, tmp_path):
    """CLI round (--strict): a rejected return and its identical older copy, a return rejected for a
    warning and its identical older copy (W207, skipped), and another rejected return that shares a file
    name in another folder: one feedback workbook each for the three distinct returns, distinct names."""
    import os
    import shutil

    out, cases, _registry, _report, _written = corpus_feedback
    by = {c.name: c for c in cases}
    src = tmp_path / "in"
    for rel, name in (("a/return.xlsx", "typed_percent_value_e104"), ("b/return.xlsx", "typed_dates_e112"),
                      ("d/yesno.xlsx", "w201_yesno")):
        (src / rel).parent.mkdir(parents=True)
        shutil.copyfile(by[name].path, src / rel)
    for rel, original in (("c/copy.xlsx", "a/return.xlsx"), ("e/yesno_copy.xlsx", "d/yesno.xlsx")):
        (src / rel).parent.mkdir(parents=True)
        shutil.copyfile(src / original, src / rel)
        st = (src / original).stat()
        os.utime(src / rel, (st.st_atime - 3600, st.st_mtime - 3600))  # sent an hour earlier
    fb = tmp_path / "fb"
    proc = run_cli("validate", src, "--registry", registry_path(out), "--feedback", fb, "--password", "pw",
                   "--strict", "--json", tmp_path / "r.json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    report = {Path(f["path"]).name: f for f in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["files"]}
    assert any(i["code"] == "W207" for i in report["yesno_copy.xlsx"]["issues"])
    assert report["yesno_copy.xlsx"]["status"] == report["copy.xlsx"]["status"] == "rejected"
    files = sorted(p.name for p in fb.glob("*.xlsx"))
    assert len(files) == 3 and sum(n.startswith("return") for n in files) == 2, files
    assert "yesno_反馈.xlsx" in files and not any("copy" in n for n in files), files
    for name in files:
        wb = openpyxl.load_workbook(fb / name)
        assert wb.sheetnames[0] == "问题清单" and wb.active.title == "问题清单"
        assert SPEC.sheet in wb.sheetnames
        ws = wb["问题清单"]
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth in (None, 1)  # 1 is the default
        assert ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows.replace("$", "") == "1:1"
    codes = {c.value for n in files for c in list(openpyxl.load_workbook(fb / n)["问题清单"]["A"])[1:]}
    assert {"E104", "E112", "W201"} <= codes
