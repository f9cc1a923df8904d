"""Feedback workbooks in-process: which returns get one, under which name, and what each one holds."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import openpyxl
import pytest

from xlperf.feedback import ROW_CODES, feedback_name, form_values, wants_feedback, write_all_feedback, write_feedback
from xlperf.model import FileResult, Issue
from xlperf.pipeline import run
from xlperf.rules import Options
from xlperf.status import feedback_name as status_feedback_name

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inmemory import (CODE, REGISTRY, SPEC, UNIT_SPEC, VALUE, make_return, make_unit_return, slot_ref,  # noqa: E402
                      write_return)

PW = "pw"


def rejected(path: str, cells=("E10",), code: str = CODE, mtime: float = 1.0, sha: str = "") -> FileResult:
    res = make_return(code, path=path)
    for cell in cells:
        res.add(Issue.make("E110", SPEC.sheet, cell, found="≥**本"))
    res.settle()
    res.mtime, res.sha256 = mtime, sha
    return res


def problems_of(path: Path) -> list[list]:
    return [[c.value for c in row] for row in openpyxl.load_workbook(path)["问题清单"].iter_rows()]


def comments_of(path: Path, sheet: str = SPEC.sheet) -> dict:
    ws = openpyxl.load_workbook(path)[sheet]
    return {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment is not None}


def shaded(path: Path, sheet: str = SPEC.sheet) -> set[str]:
    from openpyxl.utils.cell import range_boundaries

    from xlperf.spec import make_ref

    out = set()
    for cf in openpyxl.load_workbook(path)[sheet].conditional_formatting:
        for rng in str(cf.sqref).split():
            c1, r1, c2, r2 = range_boundaries(rng)
            out |= {make_ref(r - 1, c - 1) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    return out


# ------------------------------------------------------------ who gets a feedback workbook ---------
def test_rejected_gets_one_accepted_and_set_aside_get_none(tmp_path):
    bad = rejected("inbox/bad.xlsx")
    good = make_return(path="inbox/good.xlsx")
    copy = rejected("inbox/copy.xlsx")
    copy.add(Issue.make("W207", other=bad.path))
    superseded = rejected("inbox/old.xlsx")
    superseded.add(Issue.make("W208", other=bad.path))
    unread = FileResult(f"inbox/{CODE}.xlsx", status="rejected")
    unread.add(Issue.make("F003"))
    assert [wants_feedback(r) for r in (bad, good, copy, superseded, unread)] == [True, False, False, False, True]
    written = write_all_feedback([good, copy, superseded, unread, bad], REGISTRY, tmp_path / "fb", PW)
    assert written == [tmp_path / "fb" / "bad_反馈.xlsx"]
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == ["bad_反馈.xlsx"]
    assert write_feedback(unread, REGISTRY, tmp_path / "fb2", PW) is None and not (tmp_path / "fb2").exists()


def test_a_project_the_registry_lacks_gets_none(tmp_path):
    stranger = rejected("inbox/x.xlsx")
    stranger.data.fields["项目编码"] = "999999999XXXXXXXXXXXX"
    assert write_feedback(stranger, REGISTRY, tmp_path, PW) is None
    unit = make_unit_return("inbox/unit.xlsx")
    unit.data.meta["unit_code"] = "999999"
    unit.add(Issue.make("E109", UNIT_SPEC.sheet, "B9"))
    unit.settle()
    assert write_all_feedback([stranger, unit], REGISTRY, tmp_path, PW) == [] and list(tmp_path.iterdir()) == []


def test_the_unit_level_form_gets_its_feedback(tmp_path):
    unit = make_unit_return("inbox/单位.xlsx")
    cell = UNIT_SPEC.fields[-1].cell if UNIT_SPEC.fields else "B9"
    unit.add(Issue.make("E109", UNIT_SPEC.sheet, cell))
    unit.settle()
    [path] = write_all_feedback([unit], REGISTRY, tmp_path, PW)
    assert path.name == "单位_反馈.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "问题清单" and UNIT_SPEC.sheet in wb.sheetnames
    assert "[E109]" in comments_of(path, UNIT_SPEC.sheet)[cell]
    assert problems_of(path)[1][:4] == ["E109", "错误", UNIT_SPEC.sheet, cell]


def test_byte_identical_copies_get_one_for_the_newest(tmp_path):
    a = rejected("inbox/a/r.xlsx", mtime=1, sha="s1")
    b = rejected("inbox/b/r2.xlsx", mtime=2, sha="s1")
    c = rejected("inbox/c/r3.xlsx", mtime=2, sha="s1")  # same time: the path decides
    other = rejected("inbox/d/r4.xlsx", mtime=0, sha="s2")
    written = write_all_feedback([c, a, b, other], REGISTRY, tmp_path, PW, lang="en")
    assert [p.name for p in written] == ["r3_反馈.xlsx", "r4_反馈.xlsx"]  # not the copy seen last
    assert problems_of(written[0])[1][4] == c.issues[0].message("en")
    assert [p.name for p in write_all_feedback([a, b], REGISTRY, tmp_path / "2", PW)] == ["r2_反馈.xlsx"]
    no_sha = [rejected("inbox/e/x.xlsx"), rejected("inbox/f/y.xlsx")]
    assert len(write_all_feedback(no_sha, REGISTRY, tmp_path / "3", PW)) == 2


def test_two_returns_with_one_stem_get_unique_names(tmp_path):
    first, second, third = (rejected(f"inbox/{d}/return.xlsx") for d in "abc")
    upper = rejected("inbox/d/RETURN.xlsx")
    other = rejected("inbox/e/return.xlsx", code="130304213BQ28XLGKG7TX")
    written = write_all_feedback([first, second, third, upper, other], REGISTRY, tmp_path, PW)
    assert [p.name for p in written] == ["return_反馈.xlsx", f"return_{CODE}_反馈.xlsx",
                                         f"return_{CODE}_2_反馈.xlsx", f"RETURN_{CODE}_3_反馈.xlsx",
                                         "return_130304213BQ28XLGKG7TX_反馈.xlsx"]
    assert len({p.name.casefold() for p in tmp_path.iterdir()}) == 5
    taken = {f"return_{CODE}_{n}_反馈.xlsx".casefold() for n in range(2, 10_000)}
    taken |= {"return_反馈.xlsx", f"return_{CODE}_反馈.xlsx".casefold()}
    with pytest.raises(RuntimeError):
        feedback_name(first, taken)
    assert feedback_name(rejected("a/b:c?.xlsx"), set()) == "b_c__反馈.xlsx"  # illegal characters made safe
    assert status_feedback_name(first) == feedback_name(first, set())  # status finds what validate wrote


# ------------------------------------------------------------ what a feedback workbook holds ---------
def test_problems_are_listed_and_marked(tmp_path):
    level2 = SPEC.level2s[0].name
    row_cell = slot_ref(level2, 1, SPEC.columns[0].name)
    res = make_return(path="inbox/r.xlsx")
    res.add(Issue.make("E110", SPEC.sheet, "E10", found="≥**本"))
    res.add(Issue.make("W201", SPEC.sheet, "C13"))
    res.add(Issue.make("E108", SPEC.sheet, row_cell, missing="指标值"))
    res.add(Issue.make("E007", SPEC.meta_sheet, "locked_digest"))
    res.add(Issue.make("E001", "", "", title="x", form_sheet=SPEC.sheet))
    res.settle()
    path = write_feedback(res, REGISTRY, tmp_path / "new" / "dir", PW, lang="en")
    assert path == tmp_path / "new" / "dir" / "r_反馈.xlsx"
    problems = problems_of(path)
    assert problems[0][:5] == ["代码", "级别", "工作表", "单元格", "说明"]
    # the severity in the report's language, as in the master's 问题清单 (both are Report renderings)
    assert [p[:4] for p in problems[1:]] == [["E110", "error", SPEC.sheet, "E10"], ["W201", "warning", SPEC.sheet, "C13"],
                                             ["E108", "error", SPEC.sheet, row_cell],
                                             ["E007", "error", SPEC.meta_sheet, "locked_digest"], ["E001", "error", "", ""]]
    assert problems[1][4] == res.issues[0].message("en")
    comments = comments_of(path)
    assert set(comments) == {"E10", "C13", row_cell}
    assert comments["E10"] == f"[E110] {res.issues[0].message('en')}"
    row = int(row_cell[1:])
    assert {f"{c.col}{row}" for c in SPEC.columns} <= shaded(path)  # E108: the whole row to fill in
    assert {"E10", "C13"} <= shaded(path) and f"{SPEC.columns[1].col}{row - 1}" not in shaded(path)
    assert set(ROW_CODES) == {"E107", "E108", "E118", "E133"}


def test_a_mixed_scale_plan_marks_the_whole_plan_row(tmp_path):
    """E133 names the first fraction only; fixing that one cell would leave the next fraction (a second
    round trip for the unit): the whole plan row is shaded."""
    from inmemory import PLAN

    res = make_return(path="inbox/r.xlsx")
    first = PLAN[0].cell
    res.add(Issue.make("E133", SPEC.sheet, first, field=PLAN[0].name, fraction="0.25", percent="25", found="x"))
    res.settle()
    path = write_feedback(res, REGISTRY, tmp_path, PW)
    assert {p.cell for p in PLAN} <= shaded(path) and set(comments_of(path)) == {first}


def test_two_problems_in_one_cell_share_its_comment(tmp_path):
    res = rejected("inbox/r.xlsx", cells=("E10",))
    res.add(Issue.make("W201", SPEC.sheet, "E10"))
    comment = comments_of(write_feedback(res, REGISTRY, tmp_path, PW))["E10"]
    assert comment.splitlines()[0].startswith("[E110]") and comment.splitlines()[1].startswith("[W201]")


def test_the_units_values_come_back_as_typed(tmp_path):
    res = rejected("inbox/r.xlsx")
    ir = res.data.indicators[0]
    ir.values[VALUE] = None
    ir.values["指标值确定依据"] = 3.5
    res.data.formulas[ir.refs["三级指标"]] = "=1+1"
    res.data.fields["资金用途"] = None
    kept = next(f.name for f in SPEC.input_fields if f.name != "资金用途" and isinstance(res.data.fields[f.name], str))
    values = form_values(res)
    row = values.indicators[ir.level2][0]
    assert row[VALUE] == "" and row["指标值确定依据"] == 3.5 and row["三级指标"] == "=1+1"
    assert "资金用途" not in values.fields and values.fields[kept] == res.data.fields[kept]
    ws = openpyxl.load_workbook(write_feedback(res, REGISTRY, tmp_path, PW))[SPEC.sheet]
    assert ws[ir.refs["三级指标"]].value == "=1+1" and ws[ir.refs["三级指标"]].data_type == "s"
    assert ws[ir.refs["指标值确定依据"]].value == 3.5


def _typed_return(tmp_path, name="r.xlsx"):
    """A real rejected return with a number typed in a text column, formatted 0.00 (a format the reader
    does not keep), and a percent typed in a 指标值 cell (a format it keeps)."""
    l2 = next(l2.name for l2 in SPEC.level2s if not l2.cost)
    basis = slot_ref(l2, 0, "指标值确定依据")
    value = slot_ref(l2, 0, VALUE)
    bad = slot_ref(SPEC.level2s[1].name, 0, VALUE)

    def edit(v):
        v.indicators[l2][0]["指标值确定依据"] = 12.5
        v.formats[basis] = "0.00"
        v.indicators[l2][0][VALUE] = 0.95
        v.formats[value] = "0%"
        v.indicators[SPEC.level2s[1].name][0][VALUE] = "≥**本"

    path = write_return(tmp_path / "in" / name, edit)
    (res,) = run([path], REGISTRY, Options()).files
    assert res.status == "rejected" and [(i.code, i.cell) for i in res.errors] == [("E110", bad)]
    return path, res, basis, value


def test_number_formats_come_back_from_the_validated_bytes(tmp_path):
    path, res, basis, value = _typed_return(tmp_path)
    assert basis not in res.data.number_formats
    ws = openpyxl.load_workbook(write_feedback(res, REGISTRY, tmp_path / "fb", PW))[SPEC.sheet]
    assert (ws[basis].value, ws[basis].number_format) == (12.5, "0.00")
    assert (ws[value].value, ws[value].number_format) == (0.95, "0%")


@pytest.mark.parametrize("change", ["rewritten", "removed"])
def test_a_return_changed_since_validation_keeps_what_the_reader_saw(tmp_path, change):
    path, res, basis, value = _typed_return(tmp_path)
    if change == "rewritten":
        path.write_bytes(path.read_bytes() + b"\0")  # other bytes: their formats are not this return's
        assert hashlib.sha256(path.read_bytes()).hexdigest() != res.sha256
    else:
        path.unlink()
    ws = openpyxl.load_workbook(write_feedback(res, REGISTRY, tmp_path / "fb", PW))[SPEC.sheet]
    assert ws[basis].value == 12.5 and ws[basis].number_format == "General"
    assert ws[value].number_format == "0%"  # the reader kept this one


def test_formats_of_a_return_whose_name_is_not_utf8(tmp_path):
    """Defect: the bytes were read again from the printable path, which for a GBK name (\\xNN escapes) is
    no file, so a typed format was silently lost; the file system path is read."""
    import os

    name = os.fsdecode("党史".encode("gbk") + b".xlsx")
    path, res, basis, value = _typed_return(tmp_path, name)
    assert "\\x" in res.path and res.source == str(path)
    ws = openpyxl.load_workbook(write_feedback(res, REGISTRY, tmp_path / "fb", PW))[SPEC.sheet]
    assert (ws[basis].value, ws[basis].number_format) == (12.5, "0.00")


def test_feedback_is_made_for_the_rounds_year_not_the_returns(tmp_path):
    # a 2021 template sent into the 2022 round: its feedback workbook must be a 2022 form, or the
    # fixed return would be rejected again (E010)
    from xlperf.reader import read_file

    old = rejected("inbox/old_year.xlsx")
    old.data.meta["year"] = "2021"
    [for_round] = write_all_feedback([old], REGISTRY, tmp_path / "round", PW, year=2022)
    [own_year] = write_all_feedback([old], REGISTRY, tmp_path / "own", PW)
    assert read_file(for_round).data.year == 2022
    assert read_file(own_year).data.year == 2021
