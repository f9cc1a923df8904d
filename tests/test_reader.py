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


# ======================================================================================================
# The reader itself, in process: read_file / parse_workbook and their helpers, called directly (the
# pipeline reads in worker processes, which mutation testing cannot follow), with the caches cleared so
# each test computes what it checks.
import hashlib  # noqa: E402
import io  # noqa: E402
import zipfile  # noqa: E402

import openpyxl  # noqa: E402

from xlperf import reader  # noqa: E402
from xlperf.model import Issue  # noqa: E402
from xlperf.reader import (EXCEL_CELL_MAX, _cells_fit, _check_layout, _extract, _filled, _grid_get,  # noqa: E402
                           _has_formula, _huge_cell, _meta_dict, _num_formats, _Parts, _slots_from_meta,
                           file_digest, identify, parse_workbook, read_file, scan_sheet_xml)
from xlperf.safety import Limits, read_checked  # noqa: E402

from inmemory import COST, NOT_COST, UNIT_SPEC, make_return, make_unit_return  # noqa: E402


@pytest.fixture(autouse=True)
def cold_reader_caches():
    """Each test works the layouts, styles and sheet paths out again (no answer kept from another test)."""
    def clear():
        reader._LAYOUTS.clear()
        reader._MERGED.clear()
        reader._BUNDLED.clear()
        reader._resolve_sheet_path.cache_clear()
        reader._styles_formats.cache_clear()
        reader._cell_tag.cache_clear()
    clear()
    yield
    clear()


def _edited(path: Path, edit) -> Path:
    """The return at *path* changed with openpyxl (what a unit's own tool might do), saved in place."""
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    return path


def _codes(res) -> list:
    return [(i.code, i.sheet, i.cell, dict(i.params)) for i in res.issues]


def test_read_file_gives_every_value_with_its_cell(tmp_path):
    path = write_return(tmp_path / "r.xlsx")
    res = read_file(path)
    want = make_return().data
    assert (res.status, res.kind, res.issues, res.path, res.source) == ("accepted", "project", [], str(path), str(path))
    assert res.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert res.mtime == path.stat().st_mtime
    d = res.data
    assert (d.spec_name, d.sheet) == ("project", SPEC.sheet)
    assert d.meta["project_code"] == CODE and d.meta["slots"] == "3" and d.meta["form_id"] == SPEC.id
    assert d.refs == want.refs
    assert {k: v for k, v in d.fields.items() if k not in ("预算数", "财政资金", "其他资金")} == \
        {k: v for k, v in want.fields.items() if k not in ("预算数", "财政资金", "其他资金")}
    assert (d.fields["预算数"], d.fields["其他资金"]) == (2.7, 0.0)  # numbers stay numbers
    assert [(i.level1, i.level2, i.slot, i.row, i.values, i.refs) for i in d.indicators] == \
        [(i.level1, i.level2, i.slot, i.row, i.values, i.refs) for i in want.indicators]
    plan = {f.cell for f in SPEC.fields if f.type == "percent"}
    assert d.number_formats == {ref: '0.00"%"' for ref in plan}  # the plan cells are numbers: their format
    assert d.formulas == {} and d.sections == {}
    assert parse_workbook(path).data == d  # the same without the checked bytes (the file read again)
    assert parse_workbook(path, [SPEC]).data == d


def test_parse_workbook_of_the_checked_bytes_and_parts(tmp_path):
    path = write_return(tmp_path / "r.xlsx")
    parts: dict = {}
    entries: list = []
    rej, raw, _st = read_checked(path, Limits(), parts, entries)
    assert rej is None and parts and entries
    plain = parse_workbook(path)
    for kwargs in ({"raw": raw}, {"raw": raw, "parts": parts}, {"raw": raw, "parts": parts, "entries": entries}):
        res = parse_workbook(path, **kwargs)
        assert (res.issues, res.data, res.kind, res.sha256) == (plain.issues, plain.data, plain.kind, plain.sha256)


def test_read_file_hands_the_checked_parts_to_the_parser(tmp_path, monkeypatch):
    """The file is read and inflated once: the parser gets the zip the check built from its own parts."""
    from xlperf import safety

    calls = []
    real = safety.shared_zip

    def spy(data, entries, parts):
        calls.append((len(entries), sorted(parts)))
        return real(data, entries, parts)
    monkeypatch.setattr(safety, "shared_zip", spy)
    path = write_return(tmp_path / "r.xlsx")
    res = read_file(path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert res.status == "accepted" and calls == [(len(names), sorted(n for n in names if n.endswith((".xml", ".rels"))))]


def test_read_file_reports_what_the_safety_check_refuses(tmp_path, monkeypatch):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    res = read_file(empty)
    assert (res.status, _codes(res), res.data, res.mtime) == ("rejected", [("F003", "", "", {"size": 0})], None, 0.0)
    assert res.path == str(empty)
    lock = write_return(tmp_path / "~$r.xlsx")
    assert (read_file(lock).status, read_file(lock).issues[0].code) == ("skipped", "F001")
    big = write_return(tmp_path / "r.xlsx")
    res = read_file(big, limits=Limits(max_file_bytes=1000))  # the limits given are the limits applied
    assert (res.status, res.issues[0].code, dict(res.issues[0].params)["limit"]) == ("rejected", "F004", 1000)
    monkeypatch.setenv("XLPERF_MAX_FILE_MB", "0.001")  # no limits given: those of the environment
    assert read_file(big).issues[0].code == "F004"
    monkeypatch.delenv("XLPERF_MAX_FILE_MB")
    assert read_file(big).status == "accepted"


def test_a_file_that_is_no_workbook_is_f016_never_a_raise(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    res = parse_workbook(path)
    assert [i.code for i in res.issues] == ["F016"] and res.data is None
    error = dict(res.issues[0].params)["error"]
    assert error.split(":")[0].isidentifier() and len(error) <= 200 + 50
    assert res.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # the digest is of what was read


def test_a_workbook_of_no_known_form_is_e001(tmp_path):
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.save(path)
    first = reader._bundled_specs()[0]  # the message names the first form the reader knows
    res = parse_workbook(path)
    assert _codes(res) == [("E001", "", "", {"title": first.title, "form_sheet": first.sheet})]
    assert res.kind == "" and res.data is None and res.path == str(path)
    res = parse_workbook(path, [UNIT_SPEC, SPEC])
    assert _codes(res) == [("E001", "", "", {"title": UNIT_SPEC.title, "form_sheet": UNIT_SPEC.sheet})]


def test_the_error_of_an_unreadable_workbook_is_cut_at_200_characters(tmp_path, monkeypatch):
    import python_calamine

    def broken(_fh):
        raise ValueError("x" * 300)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", broken)
    res = parse_workbook(write_return(tmp_path / "r.xlsx"))
    assert _codes(res) == [("F016", "", "", {"error": "ValueError: " + "x" * 200})]


def test_parts_the_check_did_not_inflate_reach_the_parser_as_they_were(tmp_path):
    """A picture (not inflated by the check) is copied into the parser's zip compressed, from the file's bytes."""
    base = write_return(tmp_path / "base.xlsx")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
    path = tmp_path / "with_picture.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            zout.writestr(zi.filename, zin.read(zi))
        zout.writestr("xl/media/image1.png", png)
    res = read_file(path)
    assert res.status == "accepted" and res.issues == []
    assert res.data == read_file(base).data


def test_an_empty_title_cell_is_reported_where_it_is(tmp_path):
    """The grid starts at A1 even when the first rows are empty: the title cell is named, not a shifted one."""
    res = parse_workbook(_edited(write_return(tmp_path / "r.xlsx"), lambda wb: wb[SPEC.sheet].__setitem__("A1", None)))
    assert _codes(res) == [("E005", SPEC.sheet, "A1", {"expected": SPEC.title, "found": "（空）"})]


def test_a_form_sheet_without_its_metadata_is_e002(tmp_path):
    path = _edited(write_return(tmp_path / "r.xlsx"), lambda wb: wb.remove(wb[SPEC.meta_sheet]))
    res = parse_workbook(path)
    assert _codes(res) == [("E002", SPEC.sheet, "", {})]


def test_metadata_of_an_unknown_form_is_e001_even_with_the_form_sheet(tmp_path):
    def edit(wb):
        ws = wb[SPEC.meta_sheet]
        for row in ws.iter_rows():
            if row[0].value == "form_id":
                row[1].value = "someone.elses-form"
    res = parse_workbook(_edited(write_return(tmp_path / "r.xlsx"), edit))
    assert [i.code for i in res.issues] == ["E001"]
    unit = tmp_path / "unit.xlsx"
    _write_unit(unit)
    assert [i.code for i in parse_workbook(unit, [SPEC]).issues] == ["E001"]  # a form the reader was not given
    assert parse_workbook(unit, [SPEC, UNIT_SPEC]).kind == "unit"


def test_another_version_of_the_form_is_e003(tmp_path):
    def edit(wb):
        ws = wb[SPEC.meta_sheet]
        for row in ws.iter_rows():
            if row[0].value == "form_version":
                row[1].value = "1999.9"
    res = parse_workbook(_edited(write_return(tmp_path / "r.xlsx"), edit))
    assert _codes(res) == [("E003", SPEC.meta_sheet, "", {"found": "1999.9", "expected": SPEC.version})]
    assert res.kind == ""


def test_identify():
    meta = {"form_id": SPEC.id, "form_version": SPEC.version}
    assert identify(meta, [UNIT_SPEC, SPEC]) == (SPEC, None)
    assert identify({"form_id": SPEC.id, "form_version": "0"}, [SPEC]) == (
        None, Issue.make("E003", SPEC.meta_sheet, "", found="0", expected=SPEC.version))
    assert identify({"form_id": SPEC.id}, [SPEC]) == (
        None, Issue.make("E003", SPEC.meta_sheet, "", found="?", expected=SPEC.version))
    assert identify({"form_id": "x", "form_version": SPEC.version}, [SPEC]) == (None, None)
    assert identify({}, [SPEC]) == (None, None)


def test_a_renamed_form_sheet_is_e004(tmp_path):
    def edit(wb):
        wb[SPEC.sheet].title = "Sheet9"
    res = parse_workbook(_edited(write_return(tmp_path / "r.xlsx"), edit))
    assert _codes(res) == [("E004", SPEC.sheet, "", {"form_sheet": SPEC.sheet})]
    assert res.kind == "project" and res.data is None


def test_a_moved_label_is_one_e005_and_stops_there(tmp_path):
    first, second = SPEC.labels[2], SPEC.labels[3]

    def edit(wb):
        ws = wb[SPEC.sheet]
        ws[first.cell] = "别的"
        ws[second.cell] = None
        ws.unmerge_cells("B10:B12")  # a lost merge too: the moved label is what is reported
    res = parse_workbook(_edited(write_return(tmp_path / "r.xlsx"), edit))
    assert _codes(res) == [("E005", SPEC.sheet, first.cell, {"expected": first.text, "found": "别的"})]
    assert res.data is None


def test_an_emptied_label_is_e005_found_empty(tmp_path):
    label = SPEC.labels[3]
    res = parse_workbook(_edited(write_return(tmp_path / "r.xlsx"), lambda wb: wb[SPEC.sheet].__setitem__(
        label.cell, None)))
    assert _codes(res) == [("E005", SPEC.sheet, label.cell, {"expected": label.text, "found": "（空）"})]


def test_check_layout_on_a_grid_shorter_than_the_form():
    for grid in ([], [[]], [["x"]]):
        issues: list = []
        _check_layout(SPEC, grid, set(), 3, issues)
        label = SPEC.labels[0]
        found = "x" if grid == [["x"]] else "（空）"
        assert issues == [Issue.make("E005", SPEC.sheet, label.cell, expected=SPEC.title, found=found)]


def _write_slots(path: Path, slots: int) -> Path:
    from xlperf.feedback import form_values
    from xlperf.writer import write_template

    write_template(SPEC, REGISTRY.get(CODE), str(path), password="pw", slots=slots,
                   values=form_values(make_return(slots=slots)))
    return path


@pytest.mark.parametrize("slots", [1, 2, 10])
def test_every_slot_count_reads_back(tmp_path, slots):
    res = read_file(_write_slots(tmp_path / "r.xlsx", slots))
    assert res.status == "accepted" and res.issues == [], _codes(res)
    assert res.data.meta["slots"] == str(slots)
    want = make_return(slots=slots).data.indicators
    assert [(i.level2, i.slot, i.row, i.values) for i in res.data.indicators] == \
        [(i.level2, i.slot, i.row, i.values) for i in want]


def test_a_lost_merge_is_e008_at_its_first_cell(tmp_path):
    """Two slots per indicator: the second-level names are merged over B10:B11 ...; one undone is E008."""
    path = _write_slots(tmp_path / "r.xlsx", 2)
    res = parse_workbook(_edited(path, lambda wb: wb[SPEC.sheet].unmerge_cells("B12:B13")))
    assert _codes(res) == [("E008", SPEC.sheet, "B12", {"range": "B12:B13"})]
    res = parse_workbook(_edited(write_return(tmp_path / "t.xlsx"), lambda wb: wb[SPEC.sheet].unmerge_cells("E2:F2")))
    assert _codes(res) == [("E008", SPEC.sheet, "E2", {"range": "E2:F2"})]


@pytest.mark.parametrize(("meta", "slots"), [({}, 3), ({"slots": "1"}, 1), ({"slots": "10"}, 10), ({"slots": 7}, 7),
                                             ({"slots": "0"}, 3), ({"slots": "11"}, 3), ({"slots": "-1"}, 3),
                                             ({"slots": "abc"}, 3), ({"slots": "2.5"}, 3)])
def test_slots_from_meta(meta, slots):
    assert (SPEC.slots, SPEC.max_slots) == (3, 10)
    assert _slots_from_meta(SPEC, meta) == slots


def test_meta_dict():
    rows = [["form_id", "x", "ignored"], ["short"], [], ["", "no key"], [None, "no key"], [" k ", 2.0], [3, None]]
    assert _meta_dict(rows) == {"form_id": "x", "k": "2", "3": ""}


def test_grid_get():
    grid = [["a", "b"], ["c"]]
    assert [_grid_get(grid, r) for r in ("A1", "B1", "A2", "B2", "C1", "A3")] == ["a", "b", "c", "", "", ""]


def test_filled():
    assert not _filled([]) and not _filled(["", " ", "\u3000\t", None])
    assert _filled(["", " x"]) and _filled([None, 0]) and _filled([0.0]) and _filled(["", "a", ""])


def test_huge_cell_and_its_boundary():
    fits = "x" * EXCEL_CELL_MAX
    assert _huge_cell([["a", fits], [1, None]]) is None
    assert _huge_cell([["a", fits], [1, fits + "y", fits + "yy"], ["z" * 40000]]) == (1, 1, EXCEL_CELL_MAX + 1)


def test_a_cell_beyond_what_excel_holds_is_e009(tmp_path):
    """Excel (and openpyxl) cut a cell at 32,767 characters; a crafted inline string is not cut, and is refused."""
    from hostile_content import _rewrite, _set_cell

    ref = slot_ref(SPEC.level2s[0].name, 0, "指标值确定依据")
    base = write_return(tmp_path / "base.xlsx")
    for length, codes in ((EXCEL_CELL_MAX, []), (EXCEL_CELL_MAX + 1, ["E009"])):
        path = _rewrite(base, tmp_path / f"r{length}.xlsx", "xl/worksheets/sheet1.xml",
                        lambda xml: _set_cell(xml, ref, "据".encode() * length))
        res = read_file(path)
        assert [i.code for i in res.errors] == codes
        if codes:
            assert _codes(res) == [("E009", SPEC.sheet, ref, {"length": length, "limit": EXCEL_CELL_MAX})]
            assert res.data is None
        else:
            assert res.data.indicators[0].values["指标值确定依据"] == "据" * length


def test_cells_fit():
    def zi(name):
        return zipfile.ZipInfo(name)
    small, big = b"x" * EXCEL_CELL_MAX, b"x" * (EXCEL_CELL_MAX + 1)
    assert _cells_fit([zi("a.xml"), zi("xl/")], {"a.xml": small}) is True
    assert _cells_fit([zi("a.xml")], {"a.xml": big}) is False
    assert _cells_fit([zi("a.xml"), zi("b.png")], {"a.xml": small}) is False  # a part not inflated by the check
    assert _cells_fit([zi("xl/")], {"a.xml": small}) is False  # no part at all: nothing known
    assert _cells_fit([], {"a.xml": small}) is False and _cells_fit(None, None) is False
    assert _cells_fit([zi("a.xml")], {}) is False


def test_has_formula():
    assert _has_formula(b"<c r='A1'><f>B1+1</f></c>") is True
    assert _has_formula(b"<x:c><x:f>B1</x:f></x:c>") is True
    assert _has_formula(b"<dataValidation><formula1>1</formula1></dataValidation><c><f/></c>") is True
    assert _has_formula(b"<dataValidation><formula1>1</formula1><formula2>2</formula2></dataValidation>") is False
    assert _has_formula(b"<x:dataValidation><x:formula1>1</x:formula1></x:dataValidation>") is False
    assert _has_formula(b"<c><v>1</v></c>") is False


def test_file_digest(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 9000  # over 2 MiB: several chunks
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- the sheet XML -----
def _zip(parts: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


_WB = (b'<workbook xmlns:r="r"><sheets><sheet name="Other" sheetId="2" r:id="rId10"/>'
       b'<sheet name="A&amp;B &quot;q&quot;" sheetId="1" r:id="rId1"/></sheets></workbook>')
_RELS = (b'<Relationships><Relationship Id="rId10" Target="worksheets/other.xml"/>'
         b'<Relationship Id="rId1" Type="t" Target="/xl/worksheets/s.xml"/></Relationships>')
_STYLES = (b'<styleSheet><numFmts><numFmt numFmtId="164" formatCode="0.00&quot;%&quot;"/>'
           b'<numFmt numFmtId="165" formatCode="#,##0"/></numFmts>'
           b'<cellStyleXfs><xf numFmtId="9"/></cellStyleXfs>'
           b'<cellXfs count="5"><xf numFmtId="165"/><xf numFmtId="9" applyNumberFormat="1"/><xf numFmtId="164"/>'
           b'<xf fontId="1"/><xf numFmtId="10"/></cellXfs></styleSheet>')
_CELLS = (b'<c r="A10" s="4"><v>1</v></c><c r="A1" s="1"><v>0.5</v></c><c s="2" r="B1"><v>3</v></c>'
          b'<c r="C1"><v>1</v></c><c r="D1" s="9"><v>1</v></c><c r="E1" s="3"><v>2</v></c>')


def _book(cells: bytes = _CELLS, styles: bytes | None = _STYLES, **extra) -> bytes:
    parts = {"xl/workbook.xml": _WB, "xl/_rels/workbook.xml.rels": _RELS,
             "xl/worksheets/s.xml": b"<worksheet><sheetData><row>" + cells + b"</row></sheetData></worksheet>",
             "xl/worksheets/other.xml": b'<worksheet><sheetData><row><c r="A1" s="2"><f>9</f></c></row></sheetData>'
                                        b'</worksheet>'}
    if styles is not None:
        parts["xl/styles.xml"] = styles
    parts.update(extra)
    return _zip(parts)


NAME = 'A&B "q"'
NUMERIC = {"A1", "B1", "C1", "D1", "E1", "F1"}
FORMATS = {"A1": "0%", "B1": '0.00"%"', "C1": "#,##0", "D1": "", "E1": ""}


def test_number_formats_of_numeric_cells_without_formulas():
    assert scan_sheet_xml(_book(), NAME, {"A1", "B1"}, NUMERIC) == ({}, FORMATS)
    assert scan_sheet_xml(_book(), NAME, {"A1"}, {"A1"}) == ({}, {"A1": "0%"})  # A10 is not A1
    assert scan_sheet_xml(_book(), NAME, {"A1"}, set()) == ({}, {})
    assert scan_sheet_xml(_book(), "Other", set(), {"A1"}) == ({}, {"A1": '0.00"%"'})
    assert scan_sheet_xml(_book(styles=None), NAME, set(), NUMERIC) == ({}, {})  # no styles: no formats known


def test_formulas_and_formats_when_the_sheet_has_formulas():
    cells = _CELLS + (b'<c r="F1" s="2"><f>SUM(A1:B1)&amp;&quot;x&quot;</f><v>1</v></c>'
                      b'<c r="G1"><f t="shared" si="0"/><v>2</v></c><c r="H1"><f>1+1</f></c>')
    formulas, formats = scan_sheet_xml(_book(cells), NAME, {"A1", "F1", "G1"}, NUMERIC)
    assert formulas == {"F1": '=SUM(A1:B1)&"x"', "G1": "=(shared formula)"}  # H1 is not an input cell
    assert formats == {**FORMATS, "F1": '0.00"%"'}
    assert scan_sheet_xml(_book(cells, styles=None), NAME, {"F1"}, NUMERIC) == ({"F1": '=SUM(A1:B1)&"x"'}, {})
    assert scan_sheet_xml(_book(cells), NAME, {"H1"}, set()) == ({"H1": "=1+1"}, {})


def test_a_sheet_the_workbook_does_not_name_or_link_gives_nothing():
    assert scan_sheet_xml(_book(), "Missing", {"A1"}, {"A1"}) == ({}, {})
    no_rel = _book(**{"xl/_rels/workbook.xml.rels": b'<Relationships><Relationship Id="rId7" Target="x.xml"/>'
                                                   b'</Relationships>'})
    assert scan_sheet_xml(no_rel, NAME, {"A1"}, {"A1"}) == ({}, {})
    no_id = _book(**{"xl/workbook.xml": b'<workbook><sheets><sheet name="S" sheetId="1"/></sheets></workbook>'})
    assert scan_sheet_xml(no_id, "S", {"A1"}, {"A1"}) == ({}, {})
    plain_id = _book(**{"xl/workbook.xml": b'<workbook><sheets><sheet name="S" id="rId1"/></sheets></workbook>'})
    assert scan_sheet_xml(plain_id, "S", set(), {"A1"}) == ({}, {"A1": "0%"})


def test_big_workbook_and_styles_parts_are_read_the_same():
    pad = b"<!--" + b"x" * 300_000 + b"-->"
    big = _book(styles=_STYLES.replace(b"<cellXfs", pad + b"<cellXfs"),
                **{"xl/workbook.xml": _WB.replace(b"<sheets>", pad + b"<sheets>")})
    assert scan_sheet_xml(big, NAME, {"A1"}, NUMERIC) == ({}, FORMATS)
    with _Parts(big, None) as zf:
        assert _num_formats(zf) == ["#,##0", "0%", '0.00"%"', "", "0%"]
    assert reader._resolve_sheet_path.cache_info().currsize == 0  # big parts are not kept
    assert reader._styles_formats.cache_info().currsize == 0


def test_relative_targets_are_under_xl(tmp_path):
    rels = b'<Relationships><Relationship Id="rId1" Target="worksheets/s.xml"/></Relationships>'
    path = tmp_path / "b.xlsx"
    path.write_bytes(_book(**{"xl/_rels/workbook.xml.rels": rels}))
    assert scan_sheet_xml(path, NAME, set(), {"B1"}) == ({}, {"B1": '0.00"%"'})  # a path, not bytes, also works


def test_parts_come_from_the_check_before_the_zip():
    book = _book()
    with _Parts(b"not a zip", {"xl/styles.xml": _STYLES}) as zf:
        assert zf.read("xl/styles.xml") == _STYLES and zf.zf is None  # the zip is not even opened
        with pytest.raises(zipfile.BadZipFile):
            zf.read("xl/workbook.xml")
    with _Parts(book, {}) as zf:
        assert zf.read("xl/workbook.xml") == _WB
        opened = zf.zf
    assert opened is not None and opened.fp is None  # closed on leaving
    other = _WB.replace(b'name="A&amp;B &quot;q&quot;"', b'name="Renamed"')
    assert scan_sheet_xml(book, "Renamed", set(), {"A1"}, {"xl/workbook.xml": other}) == ({}, {"A1": "0%"})


# ---------------------------------------------------------------- values by kind -----
def test_numeric_cells_carry_their_format_and_text_cells_do_not(tmp_path):
    value_ref = slot_ref(NOT_COST, 0, VALUE)
    text_ref = slot_ref(COST, 0, VALUE)
    plan = [f for f in SPEC.fields if f.type == "percent"]

    def edit(values):
        values.indicators[NOT_COST][0][VALUE] = 0.95
        values.formats[value_ref] = "0%"
        values.fields[plan[0].name] = "约25"  # text: no format to read

    res = read_file(write_return(tmp_path / "r.xlsx", edit))
    fmts = res.data.number_formats
    assert fmts[value_ref] == "0%" and text_ref not in fmts
    assert plan[0].cell not in fmts and all(fmts[f.cell] == '0.00"%"' for f in plan[1:])


def test_a_formula_in_an_input_cell_is_read_as_its_text(tmp_path):
    ref = slot_ref(NOT_COST, 0, VALUE)
    plan = next(f for f in SPEC.fields if f.type == "percent")

    def edit(wb):
        ws = wb[SPEC.sheet]
        ws[ref] = "=1+1"
        ws[plan.cell] = "=10*2.5"
        ws["H1"] = "=2+2"  # outside the input cells: not read
    res = read_file(_edited(write_return(tmp_path / "r.xlsx"), edit))
    assert res.data.formulas == {ref: "=1+1", plan.cell: "=10*2.5"}


def _write_unit(path: Path, edit=None) -> Path:
    from xlperf.feedback import form_values
    from xlperf.writer import write_template

    unit = make_unit_return()
    values = form_values(unit)
    row = next(r for r in REGISTRY.rows if r["单位编码"] == unit.data.meta["unit_code"])
    write_template(UNIT_SPEC, row, str(path), password="pw", values=values)
    if edit is not None:
        _edited(path, edit)
    return path


def test_sections_of_the_unit_form(tmp_path):
    sec = UNIT_SPEC.sections[0]
    r0 = sec.first_row

    def edit(wb):
        ws = wb[UNIT_SPEC.sheet]
        ws[f"{sec.title_col}{r0}"] = None  # the first item: a body without a title
        ws[f"{sec.title_col}{r0 + 1}"] = "只有标题"  # the second: a title without a body
        ws[f"{sec.text_col}{r0 + 1}"] = None
        last = r0 + sec.slots - 1
        ws[f"{sec.title_col}{last}"] = "末项"  # the last slot
        ws[f"{sec.text_col}{last}"] = "  末项内容 "
    res = read_file(_write_unit(tmp_path / "u.xlsx", edit))
    assert res.kind == "unit" and res.data.indicators == []
    items = res.data.sections[sec.name]
    body = make_unit_return().data.sections[sec.name][0]["内容"]
    assert items[0] == {"标题": "", "内容": body, "ref": f"{sec.title_col}{r0}", "text_ref": f"{sec.text_col}{r0}"}
    assert items[1] == {"标题": "只有标题", "内容": "", "ref": f"{sec.title_col}{r0 + 1}",
                        "text_ref": f"{sec.text_col}{r0 + 1}"}
    assert items[-1] == {"标题": "末项", "内容": "末项内容", "ref": f"{sec.title_col}{last_row(sec)}",
                         "text_ref": f"{sec.text_col}{last_row(sec)}"}
    assert set(res.data.sections) == {s.name for s in UNIT_SPEC.sections}
    assert all(i["标题"] or i["内容"] for s in res.data.sections.values() for i in s)


def last_row(sec) -> int:
    return sec.first_row + sec.slots - 1


def test_extract_from_a_grid_cut_short():
    """A grid ends where the workbook's last value is: what lies beyond is empty, never an IndexError."""
    from python_calamine import CalamineWorkbook

    buf = io.BytesIO()
    from xlperf.feedback import form_values
    from xlperf.writer import write_template

    write_template(SPEC, REGISTRY.get(CODE), buf, password="pw", values=form_values(make_return()))
    grid = CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_name(SPEC.sheet).to_python(
        skip_empty_area=False)
    first = make_return().data.indicators[0]
    cut = [list(r) for r in grid[:first.row]]
    cut[first.row - 1] = cut[first.row - 1][:4]  # the first slot row without its last two columns
    cut[4] = cut[4][:2]  # 预算数 (B5) kept, 财政资金 (C5) cut off
    data = _extract(SPEC, cut, {}, 3)
    assert [(i.level2, i.slot) for i in data.indicators] == [(first.level2, 0)]
    assert data.indicators[0].values == {**{k: v for k, v in first.values.items()}, "指标值": "", "指标值确定依据": ""}
    assert (data.fields["预算数"], data.fields["财政资金"], data.fields["3月底"]) == (2.7, "", 25.0)
    assert _extract(SPEC, [], {}, 3).fields == {f.name: "" for f in SPEC.fields}
    assert _extract(SPEC, [["x"]], {}, 3).fields == {f.name: "" for f in SPEC.fields}  # A2 is the row after the last
    short = _extract(SPEC, [["x"]] * 3, {}, 3).fields  # row 3 too short for B3
    assert (short["单位"], short["项目编码"]) == ("x", "")


@pytest.mark.parametrize("which", [0, -1])
def test_a_changed_first_level_name_is_e005(tmp_path, which):
    """The first-level names (产出指标 …) sit at the first row of their group: a changed one is a moved label."""
    slot = [s for s in SPEC.slot_rows(None) if s.index == 0]
    first_of = {}
    for s in slot:
        first_of.setdefault(s.level1, s)
    s = list(first_of.values())[which]
    ref = f"{SPEC.level1_col}{s.row0 + 1}"
    res = parse_workbook(_edited(write_return(tmp_path / "r.xlsx"), lambda wb: wb[SPEC.sheet].__setitem__(ref, "其他指标")))
    assert _codes(res) == [("E005", SPEC.sheet, ref, {"expected": s.level1, "found": "其他指标"})]


def test_read_file_uses_the_forms_it_is_given(tmp_path):
    unit = _write_unit(tmp_path / "unit.xlsx")
    assert read_file(unit).kind == "unit"
    res = read_file(unit, [SPEC])
    assert _codes(res) == [("E001", "", "", {"title": SPEC.title, "form_sheet": SPEC.sheet})]


def test_read_file_parses_the_bytes_it_checked_without_reading_the_file_again(tmp_path, monkeypatch):
    path = write_return(tmp_path / "r.xlsx")
    want = read_file(path).data

    def no_second_read(self):
        raise AssertionError(f"{self} read a second time")
    monkeypatch.setattr(Path, "read_bytes", no_second_read)
    res = read_file(path)
    assert res.status == "accepted" and res.data == want


def test_a_formula_in_the_last_of_ten_slots_is_read(tmp_path):
    s = next(s for s in SPEC.slot_rows(10) if s.level2 == NOT_COST and s.index == 9)
    ref = f"{next(c.col for c in SPEC.columns if c.name == VALUE)}{s.row0 + 1}"
    path = _edited(_write_slots(tmp_path / "r.xlsx", 10), lambda wb: wb[SPEC.sheet].__setitem__(ref, "=40+60"))
    assert read_file(path).data.formulas == {ref: "=40+60"}


def test_a_formula_below_the_table_of_one_slot_is_not_an_input(tmp_path):
    """Input cells follow the slot count of the file: under a one-slot table, row 19 is no slot (it would be
    with three slots), so a formula there is not read as a value."""
    rows = [s.row0 + 1 for s in SPEC.slot_rows(1)]
    ref = f"C{max(rows) + 1}"
    path = _edited(_write_slots(tmp_path / "r.xlsx", 1), lambda wb: wb[SPEC.sheet].__setitem__(ref, "=1+1"))
    res = read_file(path)
    assert res.status == "accepted" and res.data.formulas == {}, _codes(res)
    inside = f"C{max(rows)}"
    path = _edited(_write_slots(tmp_path / "s.xlsx", 1), lambda wb: wb[SPEC.sheet].__setitem__(inside, "=1+1"))
    assert read_file(path).data.formulas == {inside: "=1+1"}
