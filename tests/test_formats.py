"""Other spreadsheet formats are told by content and rejected with their name; macros by what is there;
a big part is "too large", a bomb is a bomb; no library English in a Chinese message."""
from __future__ import annotations

import io
import json
import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import run_cli
from xlperf.messages import ISSUES, PARAM_NAMES, issue_text
from xlperf.reader import discover, read_file
from xlperf.safety import CODES, Limits, precheck

HERE = Path(__file__).parent
FOREIGN = HERE / "foreign"
SHEETJS = HERE / "formats" / "sheetjs_resaved.xlsx"  # made by tests/formats/sheetjs_resave.js

# Real files written by other programs (from the public test suites in tests/foreign), by format.
REAL = {
    "ods": FOREIGN / "calamine__tests__any_sheets.ods",
    "fods": FOREIGN / "sheetjs__crlf__crlf.fods",
    "xls": FOREIGN / "calamine__tests__any_sheets.xls",
    "xlsb": FOREIGN / "calamine__tests__date.xlsb",
}
FORMAT_WORDS = {"ods": "OpenDocument 表格（.ods）", "fods": "平面 ODF 表格（.fods）", "xls": "Excel 97-2003（.xls）",
                "xlsb": "二进制工作簿（.xlsb）", "et": "WPS 表格（.et）"}
FIX = "请用 Excel、WPS 或 LibreOffice 另存为 .xlsx 后重新报送"


@pytest.fixture(scope="module")
def a_return(demo_dir) -> Path:
    return sorted((demo_dir / "returns").glob("*.xlsx"))[0]


def _rezip(src: Path, dst: Path, drop: tuple = (), add: dict | None = None, replace: dict | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            if zi.filename in drop:
                continue
            data = (replace or {}).get(zi.filename, zin.read(zi))
            zout.writestr(zi.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def _add_override(ct: bytes, part: str, ctype: str) -> bytes:
    return ct.replace(b"</Types>", f'<Override PartName="{part}" ContentType="{ctype}"/></Types>'.encode())


# --------------------------------------------------------------------------- formats by content


@pytest.mark.parametrize("fmt", sorted(REAL))
@pytest.mark.parametrize("named", ["own", "xlsx"])
def test_real_other_format_is_named_whatever_the_extension(fmt, named, tmp_path):
    src = REAL[fmt]
    p = tmp_path / (src.name if named == "own" else "返回表.xlsx")
    shutil.copy(src, p)
    r = precheck(p)
    assert (r.code, r.status, r.detail["format"]) == ("F005", "rejected", fmt)
    zh = issue_text(r.code, "zh", **r.detail)
    assert FORMAT_WORDS[fmt] in zh and FIX in zh, zh
    assert "save it as .xlsx" in issue_text(r.code, "en", **r.detail)


def test_wps_et_and_old_biff_are_named(tmp_path):
    et = tmp_path / "单位.et"
    shutil.copy(REAL["xls"], et)  # WPS writes .et in the OLE/BIFF container of Excel 97-2003
    r = precheck(et)
    assert (r.code, r.detail["format"]) == ("F005", "et")
    # BIFF2-4 files are a bare record stream, not an OLE container: BOF, one number cell, EOF
    biff2 = (struct.pack("<HHHH", 0x0009, 4, 0x0002, 0x0010) + struct.pack("<HH", 0x0003, 15)
             + struct.pack("<HHB3sd", 0, 0, 0, b"\0\0\0", 42.0) + struct.pack("<HH", 0x000A, 0))
    old = tmp_path / "old.xls"
    old.write_bytes(biff2)
    r = precheck(old)
    assert (r.code, r.detail["format"]) == ("F005", "xls")
    assert "unknown" not in issue_text(r.code, "zh", **r.detail)


def test_ods_is_told_from_an_opendocument_text(tmp_path):
    odt = tmp_path / "说明.xlsx"
    with zipfile.ZipFile(odt, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>")
    r = precheck(odt)
    assert (r.code, r.detail["kind"]) == ("F011", "odf")


def test_discover_picks_up_every_spreadsheet_format_in_any_case(tmp_path):
    names = ["a.FODS", "b.Xlsx", "c.ods", "d.xlsb", "e.et", "f.xls", "g.XLSX", "h.xlsm", "i.numbers", "j.txt"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    files, skipped = discover([tmp_path])
    assert sorted(f.name for f in files) == sorted(n for n in names if n != "j.txt")
    assert [Path(s.path).name for s in skipped] == ["j.txt"]


def test_cli_rejects_other_formats_never_skips(tmp_path, registry_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    for fmt, src in REAL.items():
        shutil.copy(src, folder / f"单位_{fmt}{src.suffix}")
    shutil.copy(REAL["xls"], folder / "单位_et.et")
    report = tmp_path / "r.json"
    proc = run_cli("validate", folder, "--registry", registry_path, "--json", report)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    files = {Path(f["path"]).name: f for f in json.loads(report.read_text(encoding="utf-8"))["files"]}
    assert len(files) == 5
    for name, f in files.items():
        fmt = name.split("_")[1].split(".")[0]
        assert f["status"] == "rejected", (name, f)
        msg = f["issues"][0]["message"]
        assert f["issues"][0]["code"] == "F005" and FORMAT_WORDS[fmt] in msg and FIX in msg, (name, msg)


# --------------------------------------------------------------------------- macros by what is there


def test_sheetjs_saved_return_is_not_a_macro_workbook():
    with zipfile.ZipFile(SHEETJS) as z:
        ct = z.read("[Content_Types].xml")
        assert b'Default Extension="bin"' in ct and b"macroEnabled" in ct  # what made it look like one
        assert not any(n.lower().endswith(".bin") for n in z.namelist())
    assert precheck(SHEETJS) is None
    res = read_file(SHEETJS)
    assert res.status == "accepted", [i.message() for i in res.issues]
    assert res.data.key


WB_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


@pytest.mark.parametrize("case", ["vba_odd_path", "intl_macrosheet", "dialogsheet", "macro_main", "macrosheet_dir"])
def test_synthetic_macro_workbooks_are_rejected(a_return, tmp_path, case):
    with zipfile.ZipFile(a_return) as z:
        ct = z.read("[Content_Types].xml")
    sheet = b'<?xml version="1.0"?><xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'
    if case == "vba_odd_path":
        kw = {"add": {"xl/macros/VbaProject.bin": b"\xd0\xcf\x11\xe0"}}
    elif case == "intl_macrosheet":
        kw = {"add": {"xl/intl/sheet9.xml": sheet}, "replace": {"[Content_Types].xml": _add_override(
            ct, "/xl/intl/sheet9.xml", "application/vnd.ms-excel.intlmacrosheet+xml")}}
    elif case == "dialogsheet":
        kw = {"add": {"xl/dialogsheets/sheet1.xml": sheet}, "replace": {"[Content_Types].xml": _add_override(
            ct, "/xl/dialogsheets/sheet1.xml", "application/vnd.ms-excel.dialogsheet+xml")}}
    elif case == "macro_main":
        kw = {"replace": {"[Content_Types].xml": ct.replace(
            WB_CT.encode(), b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")}}
        assert kw["replace"]["[Content_Types].xml"] != ct
    else:
        kw = {"add": {"xl/macrosheets/sheet1.xml": sheet}}
    p = _rezip(a_return, tmp_path / "m.xlsx", **kw)
    r = precheck(p)
    assert r is not None and r.code == "F012", (case, r)


def test_declared_but_absent_macro_parts_are_no_macro(a_return, tmp_path):
    with zipfile.ZipFile(a_return) as z:
        ct = z.read("[Content_Types].xml")
    ct = _add_override(ct, "/xl/vbaProject.bin", "application/vnd.ms-office.vbaProject")
    ct = ct.replace(b"<Override", b'<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.'
                    b'macroEnabled.main"/><Override', 1)
    p = _rezip(a_return, tmp_path / "clean.xlsx", replace={"[Content_Types].xml": ct})
    assert precheck(p) is None


# --------------------------------------------------------------------------- too large is not a bomb


def _raw_zip_with(a_return: Path, dst: Path, name: str, chunks) -> Path:
    """A copy of *a_return* plus one part *name* streamed from *chunks* (never held whole in memory)."""
    shutil.copy(a_return, dst)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED, compresslevel=6) as z, z.open(name, "w", force_zip64=True) as fh:
        for c in chunks:
            fh.write(c)
    return dst


def _real_xml(total: int):
    """Sheet XML with varied numbers and text, *total* bytes: deflates at a normal ratio (~10:1)."""
    rows = []
    for r in range(1, 4001):
        cells = "".join(f'<c r="{col}{r}" s="{i % 3 + 1}"><v>{(r * 7919 + i * 104729) % 10007}</v></c>'
                        for i, col in enumerate("ABCDEFGH"))
        rows.append(f'<row r="{r}">{cells}<c r="I{r}" t="inlineStr"><is><t>项目{r * 31 % 977}号说明</t></is></c></row>')
    block = "".join(rows).encode()
    yield b'<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData>'
    done = 0
    while done < total:
        yield block
        done += len(block)
    yield b"</sheetData></worksheet>"


def test_a_big_sheet_at_a_normal_ratio_is_too_large_not_a_bomb(a_return, tmp_path):
    p = _raw_zip_with(a_return, tmp_path / "big.xlsx", "xl/worksheets/sheet99.xml", _real_xml(112 * 2**20))
    r = precheck(p)
    assert r.code == "F019", r
    assert r.detail["size"] > 112 * 2**20 and r.detail["limit"] == Limits().max_entry_uncompressed
    zh = issue_text(r.code, "zh", **r.detail)
    assert "过大" in zh and "炸弹" not in zh and "MB" in zh and str(r.detail["limit_mb"]) in zh, zh


def test_a_high_ratio_part_is_a_bomb(a_return, tmp_path):
    p = _raw_zip_with(a_return, tmp_path / "bomb.xlsx", "xl/worksheets/sheet99.xml",
                      (b"<x/>" * 2**18 for _ in range(8)))
    r = precheck(p)
    assert (r.code, r.detail["reason"]) == ("F010", "ratio")
    assert "炸弹" in issue_text(r.code, "zh", **r.detail)


# --------------------------------------------------------------------------- no library English in Chinese


def test_calamine_failure_keeps_its_english_out_of_the_chinese_message(a_return, tmp_path):
    p = _rezip(a_return, tmp_path / "broken.xlsx", replace={"xl/workbook.xml": b"<workbook><sheets><sheet name="})
    res = read_file(p)
    assert [i.code for i in res.errors] == ["F016"]
    zh, en = res.issues[0].message("zh"), res.issues[0].message("en")
    assert not re.search(r"[A-Za-z]{4,}", zh.replace("Excel", "").replace("WPS", "").replace("xlsx", "")), zh
    assert len(en) > len(issue_text("F016", "en", error="")), en  # the library's detail stays in English


def test_every_key_like_parameter_the_precheck_emits_has_a_name():
    src = (Path(__file__).parents[1] / "xlperf" / "safety.py").read_text(encoding="utf-8")
    for key in ("format", "kind", "reason"):
        emitted = set(re.findall(key + r'\s*=\s*"([a-z_0-9]+)"', src))
        used_in = [c for c in CODES if "{" + key + "}" in ISSUES[c][1]]
        assert used_in, key
        emitted_for_messages = emitted - {"excel_lock", "libreoffice_lock", "appledouble", "encrypted_ooxml",
                                          "vba_project", "macro_sheet", "content_type", "oversized_prolog",
                                          "central_directory_size", "ratio", "entry_size", "total_size"}
        assert emitted_for_messages <= set(PARAM_NAMES[key]), emitted_for_messages - set(PARAM_NAMES[key])


def test_every_other_format_and_zip_kind_has_a_name():
    from xlperf import safety

    assert set(safety.OTHER_FORMATS) <= set(PARAM_NAMES["format"])
    src = Path(safety.__file__).read_text(encoding="utf-8")
    body = src[src.index("def _zip_kind"):src.index("OTHER_FORMATS =")]
    kinds = set(re.findall(r'return "([a-z]+)"', body))
    assert kinds - set(safety.OTHER_FORMATS) <= set(PARAM_NAMES["kind"])
    sniff = src[src.index("def _sniff"):src.index("def _decode_text")]
    assert set(re.findall(r'return "([a-z]+)"', sniff)) - set(safety.OTHER_FORMATS) <= set(PARAM_NAMES["kind"])


def test_safety_takes_its_texts_from_the_message_catalogue():
    for code, (status, en) in CODES.items():
        assert en == ISSUES[code][2]
        assert status == {"skip": "skipped", "error": "rejected"}[ISSUES[code][0]]
