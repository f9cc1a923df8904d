"""The checked parts handed to calamine stored (``safety.shared_zip``) read exactly as the file itself.

Also the two shortcuts of the reader that skip work on ordinary returns: the huge-cell scan (skipped
when no inflated part is longer than a cell may be) and the formula regex (skipped when every ``<f``
of the sheet XML is a data validation's ``<formula1>``).
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from xlperf.reader import EXCEL_CELL_MAX, _cells_fit, _has_formula, discover, parse_workbook, read_file
from xlperf.safety import Limits, read_checked, shared_zip


def _png() -> bytes:
    """A valid 1×1 PNG, made here (no fixture file)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _sheets(book: bytes) -> dict:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(book))
    return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}


def _checked(path: Path):
    parts: dict = {}
    entries: list = []
    rej, raw, _st = read_checked(path, Limits(), parts, entries)
    assert rej is None, rej
    return raw, parts, entries


@pytest.fixture(scope="module")
def returns(demo_dir) -> list[Path]:
    files, _skipped = discover([demo_dir / "returns"])
    assert len(files) >= 15
    return files


def test_calamine_reads_the_shared_copy_as_the_file(returns):
    for f in returns:
        raw, parts, entries = _checked(f)
        shared = shared_zip(raw, entries, parts)
        assert _sheets(shared) == _sheets(raw), f.name
        with zipfile.ZipFile(io.BytesIO(shared)) as zf:
            assert zf.testzip() is None  # every CRC right
            original = zipfile.ZipFile(io.BytesIO(raw))
            for zi in zf.infolist():
                if zi.filename in parts:
                    assert zi.compress_type == zipfile.ZIP_STORED
                else:
                    assert zi.compress_type == original.getinfo(zi.filename).compress_type
                assert zf.read(zi) == original.read(zi.filename)
            assert [zi.filename for zi in zf.infolist()] == [zi.filename for zi in entries]
            stored = [zi.filename for zi in zf.infolist() if zi.compress_type == zipfile.ZIP_STORED]
            assert "xl/workbook.xml" in stored and len(stored) == len(parts)


def test_parts_not_inflated_are_copied_as_they_were(tmp_path):
    path = tmp_path / "with_image.xlsx"
    (tmp_path / "dot.png").write_bytes(_png())
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_string(0, 0, "项目")
    ws.write_number(1, 0, 12.5)
    ws.insert_image("C3", str(tmp_path / "dot.png"))
    wb.close()
    raw, parts, entries = _checked(path)
    media = [zi for zi in entries if zi.filename.startswith("xl/media/")]
    assert media and all(zi.filename not in parts for zi in media)
    shared = shared_zip(raw, entries, parts)
    with zipfile.ZipFile(io.BytesIO(shared)) as zf:
        assert zf.testzip() is None
        assert zf.read("xl/media/image1.png") == _png()
        assert zf.getinfo("xl/media/image1.png").compress_type == media[0].compress_type
    assert _sheets(shared) == _sheets(raw) == {"S": [["项目"], [12.5]]}


def test_read_file_gives_what_parsing_the_file_gives(returns):
    for f in returns:
        assert read_file(f).data == parse_workbook(f).data, f.name


def test_cells_fit_only_when_every_part_is_known_and_short(returns):
    raw, parts, entries = _checked(returns[0])
    assert _cells_fit(entries, parts)
    assert not _cells_fit(entries, {})
    assert not _cells_fit([], parts)
    some = dict(parts)
    some.pop("xl/workbook.xml")  # a part calamine would inflate itself: its length is only claimed
    assert not _cells_fit(entries, some)
    longer = dict(parts)
    longer["xl/workbook.xml"] = b" " * (EXCEL_CELL_MAX + 1)
    assert not _cells_fit(entries, longer)


@pytest.mark.parametrize("xml,found", [
    (b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
     b'<dataValidations><dataValidation><formula1>"a,b"</formula1></dataValidation></dataValidations>', False),
    (b'<sheetData><row r="1"><c r="A1"><f>1/0</f><v>1</v></c></row></sheetData>', True),
    (b'<sheetData><row r="1"><c r="A1"><f t="shared" si="0"/></c></row></sheetData>', True),
    (b'<x:sheetData><x:row r="1"><x:c r="A1"><x:f>SUM(B1)</x:f></x:c></x:row></x:sheetData>', True),
    (b'<sheetData><row r="1"><c r="A1"><f>1</f></c></row></sheetData><formula1>1</formula1>', True),
    (b'<x:dataValidation><x:formula1>1</x:formula1></x:dataValidation>', False),
])
def test_has_formula(xml, found):
    assert _has_formula(xml) is found
