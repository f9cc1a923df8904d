"""The reader on real .xlsx files written in-process: discovery by extension, blank slots, percent cells."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from xlperf.master import indicator_rows
from xlperf.pipeline import Report, run
from xlperf.reader import discover
from xlperf.rules import Options

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inmemory import CODE, REGISTRY, SPEC, VALUE, slot_ref, write_return  # noqa: E402

COLUMNS = [c.name for c in SPEC.columns]


def validate(path: Path):
    """The file read and checked as `validate` does (the reader alone runs no rules)."""
    (res,) = run([path], REGISTRY, Options()).files
    return res


# ------------------------------------------------------------ discovery ---------
def test_upper_case_extensions_are_spreadsheets(tmp_path):
    """`X.XLSX` (Windows shares, old mail clients) is a return like x.xlsx, never a skipped non-spreadsheet."""
    inbox = tmp_path / "inbox"
    write_return(inbox / "UPPER.XLSX")
    write_return(inbox / "sub" / "Mixed.XlSx")
    (inbox / "NOTE.TXT").write_text("a note", encoding="utf-8")
    (inbox / "noext").write_text("x", encoding="utf-8")
    files, skipped = discover([inbox])
    assert sorted(p.name for p in files) == ["Mixed.XlSx", "UPPER.XLSX"]
    assert sorted((Path(r.path).name, r.status, [i.code for i in r.issues]) for r in skipped) == [
        ("NOTE.TXT", "skipped", ["F015"]), ("noext", "skipped", ["F015"])]
    assert {Path(r.path).name: dict(r.issues[0].params)["ext"] for r in skipped} == {"NOTE.TXT": ".TXT",
                                                                                     "noext": "（无）"}
    report = run([inbox], REGISTRY, Options(duplicates="latest"))
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["UPPER.XLSX"].project_code == CODE
    assert {by_name["UPPER.XLSX"].status, by_name["Mixed.XlSx"].status} == {"accepted", "skipped"}  # twins
    assert by_name["NOTE.TXT"].status == "skipped"


def test_lock_files_are_taken_for_what_they_are(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "~$UPPER.xlsx").write_bytes(b"\x00" * 165)
    (inbox / ".~lock.x.xlsx#").write_text("lock", encoding="utf-8")
    files, skipped = discover([inbox])
    assert sorted(p.name for p in files) == [".~lock.x.xlsx#", "~$UPPER.xlsx"] and skipped == []
    report = run([inbox], REGISTRY, Options())
    assert all(f.status == "skipped" and f.issues[0].code == "F001" for f in report.files)


def test_a_file_named_twice_is_read_once(tmp_path):
    path = write_return(tmp_path / "r.xlsx")
    files, _ = discover([path, tmp_path, path])
    assert files == [path]


# ------------------------------------------------------------ blank slots ---------
@pytest.mark.parametrize("blank", [" ", "   ", "\u3000", " \t"])
def test_a_slot_holding_only_spaces_is_empty(tmp_path, blank):
    """A space typed over an unused slot (to "clear" it) is not a partly filled row: no E108, no E109."""
    level2 = SPEC.level2s[0].name

    def edit(values):
        values.indicators[level2].append({c: blank for c in COLUMNS})

    res = validate(write_return(tmp_path / "r.xlsx", edit))
    assert res.status == "accepted", [(i.code, i.cell) for i in res.issues]
    assert [ir.slot for ir in res.data.indicators if ir.level2 == level2] == [0]


def test_a_space_in_one_column_of_a_filled_slot_is_missing(tmp_path):
    """The other direction: a space is nothing, so a row with only a space as its value lacks the value."""
    level2 = SPEC.level2s[0].name

    def edit(values):
        values.indicators[level2][0][VALUE] = " "

    res = validate(write_return(tmp_path / "r.xlsx", edit))
    assert res.status == "rejected"
    assert [(i.code, i.cell) for i in res.errors] == [("E109", slot_ref(level2, 0, VALUE))]


# ------------------------------------------------------------ percent cells ---------
@pytest.mark.parametrize(("number", "fmt", "shown"), [(0.95, "0%", 95.0), (1, "0.00%", 100.0), (0.955, "0.0%", 95.5)])
def test_a_number_in_a_percent_cell_reads_as_that_percentage(tmp_path, number, fmt, shown):
    """0.95 typed in a cell formatted 0% is what the unit sees: ＝95%, in validation and in the master."""
    level2 = next(l2.name for l2 in SPEC.level2s if not l2.cost)
    ref = slot_ref(level2, 0, VALUE)

    def edit(values):
        values.indicators[level2][0][VALUE] = number
        values.formats[ref] = fmt

    res = validate(write_return(tmp_path / "r.xlsx", edit))
    assert res.status == "accepted", [(i.code, i.cell) for i in res.issues]
    assert res.data.number_formats[ref] == fmt
    row = next(r for r in indicator_rows(Report([res])) if r["来源单元格"].split(":")[0][1:] == ref[1:])
    assert (row["计算符号"], row["指标值"], row["计量单位"]) == ("＝", shown, "%")


def test_the_same_number_without_a_percent_format_has_no_unit(tmp_path):
    level2 = next(l2.name for l2 in SPEC.level2s if not l2.cost)
    ref = slot_ref(level2, 0, VALUE)

    def edit(values):
        values.indicators[level2][0][VALUE] = 0.95

    res = validate(write_return(tmp_path / "r.xlsx", edit))
    assert res.data.number_formats.get(ref, "General") in ("General", "")
    assert [(i.code, i.cell) for i in res.errors] == [("E112", ref)]
