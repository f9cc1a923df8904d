"""Tests for xlperf.safety.precheck against the hostile corpus from tests/hostile.py."""

from __future__ import annotations

import os
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlperf.safety import CODES, Limits, Rejection, precheck, safe_parse_xml

try:  # pytest's default rootdir/prepend import puts tests/ on sys.path
    from hostile import EXPECTED, EXPECTED_KIND, Case, build_corpus, zeros_deflate
except ImportError:  # pragma: no cover - importlib mode / running from the repo root
    from tests.hostile import EXPECTED, EXPECTED_KIND, Case, build_corpus, zeros_deflate


def _check(case: Case) -> Rejection | None:
    return precheck(case.path, case.limits or Limits())


def _outcome(r: Rejection | None) -> tuple[str | None, str | None]:
    return (r.code, r.status) if r else (None, None)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Case]:
    out = tmp_path_factory.mktemp("hostile")
    return {c.name: c for c in build_corpus(out)}


def _xlsxwriter_workbook(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("项目绩效目标表")
    bold = wb.add_format({"bold": True, "border": 1})
    ws.merge_range("A1:D1", "项目支出绩效目标申报表", bold)
    ws.write_row(1, 0, ["项目名称", "一级指标", "二级指标", "指标值"], bold)
    for r in range(2, 300):
        ws.write_row(r, 0, [f"项目{r}", "产出指标", "数量指标", r * 1.5])
    ws.data_validation("B3:B300", {"validate": "list", "source": ["产出指标", "效益指标", "满意度指标"]})
    ws.write_comment("A2", "请填写项目全称")
    ws.write_url("F1", "https://example.org/guide")
    wb.define_name("指标值", "='项目绩效目标表'!$D$3:$D$300")
    ws.protect()
    wb.close()
    return path


def _openpyxl_workbook(path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "项目绩效目标表"
    ws.append(["项目名称", "一级指标", "二级指标", "指标值"])
    for r in range(200):
        ws.append([f"项目{r}", "产出指标", "数量指标", r])
    ws.merge_cells("F1:H1")
    ws["A1"].comment = Comment("填报说明", "xlperf")
    dv = DataValidation(type="list", formula1='"是,否"')
    ws.add_data_validation(dv)
    dv.add("E2:E201")
    wb.create_sheet("说明")["A1"] = "说明"
    wb.save(path)
    return path


# --------------------------------------------------------------------------- corpus


def test_codes_table_complete():
    assert sorted(CODES) == [f"F{i:03d}" for i in (*range(1, 15), 18, 19)]  # F015-F017 are the reader's
    assert {s for s, _ in CODES.values()} == {"skipped", "rejected"}
    assert CODES["F001"][0] == "skipped"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_case(corpus, name):
    case = corpus[name]
    result = _check(case)
    assert _outcome(result) == (case.expected_code, case.expected_status), f"{name}: {result}"
    if result is not None:
        assert CODES[result.code][0] == result.status
        assert isinstance(result.detail, dict)
        str(result)  # formats without error
    if name in EXPECTED_KIND:
        assert result.detail.get("format", result.detail.get("kind")) == EXPECTED_KIND[name]


def test_corpus_details(corpus):
    bomb = _check(corpus["zip_bomb"])
    assert bomb.detail["entry"] == "xl/media/image1.png"
    assert bomb.detail["size"] == 300 * 2**20
    assert _check(corpus["ratio_bomb"]).detail["reason"] == "ratio"
    assert _check(corpus["xxe_shared_strings"]).detail["entry"] == "xl/sharedStrings.xml"
    assert _check(corpus["billion_laughs_workbook"]).detail["entry"] == "xl/workbook.xml"
    assert _check(corpus["xxe_odd_extension"]).detail["entry"] == "xl/worksheets/sheet1.dat"
    assert _check(corpus["overlapping_entries"]).detail["reason"] == "overlapping_entries"
    assert _check(corpus["broken_symlink"]).detail["reason"] == "broken_symlink"
    assert _check(corpus["many_entries"]).detail == {"entries": 5000, "limit": 2000}
    over = _check(corpus["oversize"])
    assert over.detail["size"] > over.detail["limit"]
    # the oversize file is a clean workbook: it only fails because of the tiny limit
    assert precheck(corpus["oversize"].path) is None


def test_corpus_checked_fast(corpus):
    t0 = time.perf_counter()
    for _ in range(3):
        for case in corpus.values():
            _check(case)
    assert (time.perf_counter() - t0) / 3 < 2.0


def test_corpus_generation_fast(tmp_path):
    t0 = time.perf_counter()
    cases = build_corpus(tmp_path)
    assert time.perf_counter() - t0 < 3.0
    assert len(cases) == len(EXPECTED)
    assert (tmp_path / "zip_bomb.xlsx").stat().st_size < 2 * 2**20


@pytest.mark.parametrize("maker", [_xlsxwriter_workbook, _openpyxl_workbook])
def test_corpus_from_template(tmp_path, maker):
    template = maker(tmp_path / "template.xlsx")
    cases = build_corpus(tmp_path / "corpus", template=template)
    wrong = {c.name: str(_check(c)) for c in cases
             if _outcome(_check(c)) != (c.expected_code, c.expected_status)}
    assert not wrong


def test_zeros_deflate_is_valid():
    raw, crc = zeros_deflate(8 * 2**20)
    data = zlib.decompress(raw, -15)
    assert len(data) == 8 * 2**20 and not data.strip(b"\0")
    assert zlib.crc32(data) == crc
    assert len(raw) < 16 * 1024


# --------------------------------------------------------------------------- clean workbooks


def test_clean_xlsxwriter_workbook_passes(tmp_path):
    assert precheck(_xlsxwriter_workbook(tmp_path / "clean.xlsx")) is None


def test_clean_openpyxl_workbook_passes(tmp_path):
    path = _openpyxl_workbook(tmp_path / "clean.xlsx")
    assert precheck(path) is None
    assert precheck(str(path)) is None  # str paths accepted


def test_openpyxl_resaved_xlsxwriter_workbook_passes(tmp_path):
    from openpyxl import load_workbook

    src = _xlsxwriter_workbook(tmp_path / "src.xlsx")
    wb = load_workbook(src)
    wb.save(tmp_path / "resaved.xlsx")
    assert precheck(tmp_path / "resaved.xlsx") is None


# --------------------------------------------------------------------------- other file-system cases


def test_missing_file(tmp_path):
    r = precheck(tmp_path / "nope.xlsx")
    assert (r.code, r.detail["reason"]) == ("F002", "missing")


def test_fifo_does_not_block(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    r = precheck(fifo)
    assert (r.code, r.detail["reason"]) == ("F002", "not_regular_file")


def test_unreadable_file(tmp_path, monkeypatch):
    p = _xlsxwriter_workbook(tmp_path / "locked.xlsx")
    if os.geteuid() == 0:
        # root ignores file modes (CI runs as root): make the open itself fail as it would for a user
        real_open = os.open

        def denied(path, *a, **kw):
            if os.fspath(path) == os.fspath(p):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_open(path, *a, **kw)

        monkeypatch.setattr(os, "open", denied)
    p.chmod(0)
    try:
        r = precheck(p)
    finally:
        p.chmod(0o600)
    assert r.detail == {"reason": "unreadable", "error": "Permission denied"} if os.geteuid() == 0 else (
        r.detail["reason"] == "unreadable")


def test_nul_in_path_does_not_raise(tmp_path):
    r = precheck(str(tmp_path / "a\0b.xlsx"))
    assert (r.code, r.detail) == ("F002", {"reason": "unreadable", "error": "embedded null byte"})


def test_ole_with_unwalkable_directory_falls_back_to_scan(corpus, tmp_path):
    data = bytearray(corpus["encrypted_ooxml"].path.read_bytes())
    data[0x1E:0x20] = b"\x07\x00"  # invalid sector shift: the directory cannot be walked
    p = tmp_path / "enc.xlsx"
    p.write_bytes(bytes(data))
    assert precheck(p).code == "F006"
    xls = bytearray(corpus["legacy_xls"].path.read_bytes())
    xls[0x1E:0x20] = b"\x07\x00"
    p.write_bytes(bytes(xls))
    assert precheck(p).code == "F005"


def test_custom_limits(corpus):
    clean = corpus["clean"].path
    assert precheck(clean, Limits(max_entries=3)).code == "F009"
    assert precheck(clean, Limits(max_total_uncompressed=1000)).code == "F019"  # big at a normal ratio: too large
    assert precheck(clean, Limits(max_entry_uncompressed=1000)).code == "F019"


# --------------------------------------------------------------------------- Limits.from_env


def test_limits_from_env(monkeypatch):
    for var in ("XLPERF_MAX_FILE_MB", "XLPERF_MAX_ENTRIES", "XLPERF_MAX_UNCOMPRESSED_MB", "XLPERF_MAX_RATIO"):
        monkeypatch.delenv(var, raising=False)
    assert Limits.from_env() == Limits()
    monkeypatch.setenv("XLPERF_MAX_FILE_MB", "5")
    monkeypatch.setenv("XLPERF_MAX_ENTRIES", "100")
    monkeypatch.setenv("XLPERF_MAX_UNCOMPRESSED_MB", "50")
    monkeypatch.setenv("XLPERF_MAX_RATIO", "80.5")
    lim = Limits.from_env()
    assert lim == Limits(max_file_bytes=5 * 2**20, max_entries=100, max_total_uncompressed=50 * 2**20,
                         max_entry_uncompressed=25 * 2**20, max_ratio=80.5)


def test_limits_from_mapping_and_errors():
    assert Limits.from_env({"XLPERF_MAX_FILE_MB": "0.5", "XLPERF_MAX_ENTRIES": " "}) == Limits(
        max_file_bytes=2**19)
    for bad in ("abc", "0", "-3", "inf", "nan"):
        with pytest.raises(ValueError, match="XLPERF_MAX_RATIO"):
            Limits.from_env({"XLPERF_MAX_RATIO": bad})


# --------------------------------------------------------------------------- safe_parse_xml


def test_safe_parse_xml_ok():
    root = safe_parse_xml(b'<?xml version="1.0" encoding="UTF-8"?><sst><si><t>\xe9\xa1\xb9\xe7\x9b\xae</t></si></sst>')
    assert root.tag == "sst" and root.find("si/t").text == "项目"


@pytest.mark.parametrize("doc", [
    b'<?xml version="1.0"?><!DOCTYPE a><a/>',
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;">]><a>&l2;</a>',
])
def test_safe_parse_xml_rejects_dtd(doc):
    with pytest.raises(ValueError, match="unsafe XML"):
        safe_parse_xml(doc)


def test_safe_parse_xml_rejects_malformed():
    with pytest.raises(ValueError, match="malformed XML"):
        safe_parse_xml(b"<a><b></a>")


# --------------------------------------------------------------------------- fuzzing: never raises

_PREFIXES = st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"<?xml", b"\xef\xbb\xbf"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=_PREFIXES, body=st.binary(max_size=4096))
def test_precheck_never_raises_on_random_bytes(tmp_path_factory, prefix, body):
    p = tmp_path_factory.getbasetemp() / "fuzz_random.xlsx"
    p.write_bytes(prefix + body)
    r = precheck(p)
    assert r is None or (isinstance(r, Rejection) and r.code in CODES and r.status == CODES[r.code][0])


@pytest.fixture(scope="session")
def template_bytes(corpus) -> bytes:
    return corpus["clean"].path.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_precheck_never_raises_on_mutated_xlsx(tmp_path_factory, template_bytes, data):
    buf = bytearray(template_bytes)
    for _ in range(data.draw(st.integers(0, 8))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(buf)))
    p = tmp_path_factory.getbasetemp() / "fuzz_mutated.xlsx"
    p.write_bytes(bytes(buf[:cut]))
    r = precheck(p)
    assert r is None or (isinstance(r, Rejection) and r.code in CODES)


def test_precheck_statuses_agree_with_the_message_table():
    # safety.CODES (status per file code) and messages.ISSUES (severity + texts) describe the same
    # codes; a file the precheck skips must not be reported as an error, and every code needs texts.
    from xlperf.messages import ISSUES

    severity = {"skipped": "skip", "rejected": "error"}
    assert {c: severity[s] for c, (s, _m) in CODES.items()} == {c: ISSUES[c][0] for c in CODES}


# ======================================================================================================
# The helpers of the check, one by one, in process (mutation testing measures these): both sides of
# every bound, every kind a file can be told to be, every field of a rejection.
import io  # noqa: E402
import re  # noqa: E402
import struct  # noqa: E402
import zipfile  # noqa: E402

from xlperf import safety  # noqa: E402
from xlperf.messages import issue_text  # noqa: E402
from xlperf.safety import read_checked, shared_zip, unquote_part  # noqa: E402

_MiB = 2**20


def test_rejection_text():
    r = Rejection("F003", "rejected", {"size": 0})
    assert str(r) == f"F003 (rejected): {issue_text('F003', 'en', size=0)} [size=0]"
    r = Rejection("F005", "rejected", {"format": "xls", "directory": "unparsed"})
    assert str(r) == f"F005 (rejected): {issue_text('F005', 'en', format='xls')} [format=xls, directory=unparsed]"
    assert str(Rejection("F001", "skipped")) == f"F001 (skipped): {issue_text('F001', 'en')}"
    assert str(Rejection("X999", "rejected", {"a": 1})) == "X999 (rejected): unknown problem [a=1]"


def test_megabytes_for_messages():
    assert [safety._mb(n) for n in (0, 1, 50_000, _MiB, int(1.26 * _MiB), 300 * _MiB + 1)] == [
        0.1, 0.1, 0.1, 1.0, 1.3, 300.0]


def _reader(data: bytes) -> io.BufferedReader:
    return io.BufferedReader(io.BytesIO(data))


def test_ole_names_found_by_scanning_the_first_and_last_mib():
    def name(n: str) -> bytes:
        return (n + "\0").encode("utf-16-le")
    size = 3 * _MiB
    blob = bytearray(size)
    blob[100:100 + len(name("Workbook"))] = name("Workbook")
    blob[int(1.5 * _MiB):int(1.5 * _MiB) + len(name("WordDocument"))] = name("WordDocument")  # the middle: not read
    end = size - 200
    blob[end:end + len(name("EncryptionInfo"))] = name("EncryptionInfo")
    assert safety._ole_scan_names(_reader(bytes(blob)), size) == ["EncryptionInfo", "Workbook"]
    small = bytearray(int(1.6 * _MiB))  # between one and two MiB: the rest after the first MiB is read
    at = int(1.5 * _MiB)
    small[at:at + len(name("PowerPoint Document"))] = name("PowerPoint Document")
    small[10:10 + len(name("Book"))] = name("Book")
    assert safety._ole_scan_names(_reader(bytes(small)), len(small)) == ["Book", "PowerPoint Document"]
    edge = bytearray(_MiB + 20)  # the two reads are kept apart: a name across the first MiB's end is not made up
    edge[_MiB - 4:_MiB - 4 + len(name("Book"))] = name("Book")
    assert safety._ole_scan_names(_reader(bytes(edge)), len(edge)) == []
    edge[_MiB + 2:_MiB + 2 + len(name("Book"))] = name("Book")
    assert safety._ole_scan_names(_reader(bytes(edge)), len(edge)) == ["Book"]

    class Broken(io.BytesIO):
        def seek(self, *a):
            raise OSError(5, "I/O error")
    assert safety._ole_scan_names(Broken(bytes(blob)), size) == []
    other = bytearray(4096)
    for at, n in ((0, "WordDocument"), (1000, "EncryptedPackage")):
        other[at:at + len(name(n))] = name(n)
    assert safety._ole_scan_names(_reader(bytes(other)), len(other)) == ["EncryptedPackage", "WordDocument"]


def test_unquote_part():
    assert unquote_part("xl/worksheets/sheet%201.xml") == "xl/worksheets/sheet 1.xml"
    assert unquote_part("xl/a+b.xml") == "xl/a+b.xml" and unquote_part("/xl/%E8%A1%A8.xml") == "/xl/表.xml"


def test_safe_parse_xml_messages():
    with pytest.raises(ValueError, match=r"^unsafe XML rejected \(DOCTYPE/entity/external reference\): ") as e:
        safe_parse_xml(b"<!DOCTYPE a><a/>")
    assert e.value.__cause__ is not None
    with pytest.raises(ValueError, match=r"^malformed XML: mismatched tag") as e:
        safe_parse_xml(b"<a><b></a>")
    assert e.value.__cause__ is not None
    with pytest.raises(ValueError, match="unsafe XML"):
        safe_parse_xml(b'<!DOCTYPE a SYSTEM "http://example.org/a.dtd"><a/>')


def test_limits_from_env_every_variable():
    env = {"XLPERF_MAX_SHEET_ROWS": "500", "XLPERF_MAX_SHEET_CELLS": "9000", "XLPERF_READ_TIMEOUT": "2.5",
           "XLPERF_READ_MEM_MB": "300", "XLPERF_MAX_RATIO": "50"}
    assert Limits.from_env(env) == Limits(max_sheet_rows=500, max_sheet_cells=9000, read_timeout_s=2.5,
                                          read_mem_mb=300, max_ratio=50.0)
    tiny = {"XLPERF_MAX_FILE_MB": "1e-9", "XLPERF_MAX_ENTRIES": "0.5", "XLPERF_MAX_UNCOMPRESSED_MB": "1e-9",
            "XLPERF_MAX_SHEET_ROWS": "0.1", "XLPERF_MAX_SHEET_CELLS": "0.1", "XLPERF_READ_MEM_MB": "1"}
    assert Limits.from_env(tiny) == Limits(max_file_bytes=1, max_entries=1, max_total_uncompressed=1,
                                           max_entry_uncompressed=1, max_sheet_rows=1, max_sheet_cells=1,
                                           read_mem_mb=64)  # each at least 1 (the memory limit 64 MiB)
    assert Limits.from_env({"XLPERF_MAX_UNCOMPRESSED_MB": "3"}).max_entry_uncompressed == 3 * _MiB // 2
    assert Limits.from_env({"XLPERF_MAX_ENTRIES": "2.9"}).max_entries == 2
    assert Limits.from_env({"XLPERF_READ_MEM_MB": "64.9"}).read_mem_mb == 64
    assert Limits.from_env({"XLPERF_READ_MEM_MB": "65"}).read_mem_mb == 65
    assert Limits.from_env({}) == Limits() and Limits.from_env({"XLPERF_READ_TIMEOUT": ""}) == Limits()
    with pytest.raises(ValueError) as e:
        Limits.from_env({"XLPERF_READ_TIMEOUT": "soon"})
    assert str(e.value) == "XLPERF_READ_TIMEOUT must be a positive number, got 'soon'"
    with pytest.raises(ValueError) as e:
        Limits.from_env({"XLPERF_MAX_SHEET_CELLS": "-1"})
    assert str(e.value) == "XLPERF_MAX_SHEET_CELLS must be a positive number, got '-1'"
    for var in ("XLPERF_MAX_FILE_MB", "XLPERF_MAX_ENTRIES", "XLPERF_MAX_UNCOMPRESSED_MB", "XLPERF_MAX_SHEET_ROWS",
                "XLPERF_READ_MEM_MB"):
        with pytest.raises(ValueError, match=var):
            Limits.from_env({var: "0"})


def test_limits_from_the_process_environment(monkeypatch):
    monkeypatch.setenv("XLPERF_MAX_SHEET_ROWS", "77")
    assert Limits.from_env().max_sheet_rows == 77
    assert Limits.from_env({}).max_sheet_rows == 10_000  # a mapping given: the environment is not read


@pytest.mark.parametrize(("sample", "kind"), [
    (b"\x09\x08\x10\x00\x00\x06\x05\x00", "xls"), (b"\x09\x00\x04\x00\x02\x00\x10\x00", "xls"),
    (b"\x09\x02\x20\x00\x00\x00\x00\x00", "xls"), (b"\x09\x04\x06\x00\x00\x00\x10\x00", "xls"),
    (b"\x09\x08\x03\x00\x00\x06\x05\x00", "unknown"), (b"\x09\x08\x21\x00\x00\x06\x05\x00", "unknown"),
    (b"\x09\x01\x10\x00\x00\x06\x05\x00", "unknown"), (b"\x09\x08\x10\x00\x00\x06\x05", "unknown"),
    (b"%PDF-1.7\n", "pdf"), (b"Rar!\x1a\x07", "archive"), (b"7z\xbc\xaf\x27\x1c\x00", "archive"),
    (b"\x1f\x8b\x08\x00", "archive"), (b"BZh91AY", "archive"), (b"{\\rtf1\\ansi", "rtf"),
    (b"  \n<HTML><body>", "html"), (b"<!DOCTYPE html><p>", "html"), (b"x <table>", "html"),
    (b"<meta charset=utf-8>", "html"), (b"<head>", "html"),
    (b'<?xml version="1.0"?><Workbook>', "xml"), (b'\r\n  <?xml version="1.0"?><Workbook>', "xml"), (b"<body>", "html"), (b'<Workbook xmlns="urn:x">', "xml"), (b"<a>b</a>", "text"),
    (b'<?xml version="1.0"?><office:document xmlns:office="o" office:mimetype='
     b'"application/vnd.oasis.opendocument.spreadsheet">', "fods"),
    (b'<?xml version="1.0"?><office:document office:mimetype="application/vnd.oasis.opendocument.text">', "xml"),
    (b"\xef\xbb\xbf\xe9\xa1\xb9\xe7\x9b\xae,2021\r\n", "text"), ("项目,预算".encode("gb18030"), "text"),
    ("<html>".encode("utf-16"), "html"), (b"\x00\x01\x02\x03binary", "unknown"), (b"", "unknown"),
])
def test_sniff(sample, kind):
    assert safety._sniff(sample) == kind


def test_decode_text_tells_text_from_binary():
    text = b"a" * 99 + b"\x01"  # 1 % control characters: still text
    assert safety._decode_text(text) == text.decode()
    assert safety._decode_text(b"a" * 98 + b"\x01\x7f") is None  # 2 %: binary
    assert safety._decode_text(b"a\tb\nc\rd\x0ce") == "a\tb\nc\rd\x0ce"  # tabs and line ends are text
    assert safety._decode_text(b"\xef\xbb\xbfabc") == "abc"
    assert safety._decode_text("表".encode("utf-16-be").join([b"\xfe\xff", b""])) == "表"
    assert safety._decode_text("预算".encode("gb18030")) == "预算"
    assert safety._decode_text(b"\xe9\xa1") is None  # a cut character and nothing else
    assert safety._decode_text(b"ok\xe9\xa1") == "ok"  # a sample may cut the last character
    assert safety._decode_text(b"\xff\xff\xff\xff") is None


@pytest.mark.parametrize(("data", "state"), [
    (b"", "more"), (b" \r\n\t", "more"), (b"<root/>", "root"), (b'<?xml version="1.0"?>\n<root>', "root"),
    (b"<?xml version", "more"), (b"<!-- note --><r/>", "root"), (b"<!-- note", "more"), (b"<!DOCTYPE r>", "dtd"),
    (b'<?xml version="1.0"?><!-- c --> <!ENTITY x "y">', "dtd"), (b"text<r/>", "root"), (b"<!-", "more"),
    (b"<ab", "more"), (b"<abc", "root"), (b"\xef\xbb\xbf<!DOCTYPE r>", "dtd"), (b"\xff\xfe<\x00!\x00D\x00", "more"),
    ("<!DOCTYPE r>".encode("utf-16-le"), "dtd"), ("\ufeff<!DOCTYPE r>".encode("utf-16-be"), "dtd"),
    (b"\xef\xbb\xbf<root>", "root"), (b"<!---->" + b"<!DOCTYPE r>", "dtd"),
])
def test_prolog_state(data, state):
    assert safety._prolog_state(data) == state


def _zip_of(parts: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_zip_kind():
    def kind(parts):
        data = _zip_of(parts)
        zf = zipfile.ZipFile(io.BytesIO(data))
        return safety._zip_kind({zi.filename: zi for zi in zf.infolist()}, zf)
    assert kind({"xl/workbook.bin": b""}) == "xlsb" and kind({"workbook.bin": b""}) == "xlsb"
    assert kind({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet\n", "content.xml": b""}) == "ods"
    assert kind({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b""}) == "odf"
    assert kind({"mimetype": b"", "content.xml": b""}) == "odf"
    assert kind({"mimetype": b"x" * 257, "content.xml": b""}) == "odf"  # too long to be a mimetype: not read
    assert kind({"mimetype": b"application/x", "content.xml": b""}) == "zip"
    ods = b"application/vnd.oasis.opendocument.spreadsheet"
    assert kind({"mimetype": ods.ljust(256, b" ")}) == "ods" and kind({"mimetype": ods.ljust(257, b" ")}) == "zip"
    damaged = bytearray(_zip_of({"mimetype": ods, "content.xml": b"<c/>"}, zipfile.ZIP_STORED))
    damaged[damaged.index(ods) + 3] ^= 0xFF  # the mimetype entry fails its CRC: judged by the other entries
    zf = zipfile.ZipFile(io.BytesIO(bytes(damaged)))
    assert safety._zip_kind({zi.filename: zi for zi in zf.infolist()}, zf) == "odf"
    assert kind({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet" + b" " * 200}) == "ods"
    assert kind({"word/document.xml": b""}) == "docx" and kind({"ppt/presentation.xml": b""}) == "pptx"
    assert kind({"index/document.iwa": b""}) == "numbers" and kind({"index/Tables/x.iwa": b""}) == "numbers"
    assert kind({"index/x.txt": b"", "a.iwa": b""}) == "zip" and kind({}) == "zip"
    assert safety._zip_kind({"mimetype": object(), "content.xml": None}) == "odf"  # no zip to read it from


def test_macro_override():
    names = {"xl/vbaproject.bin": 1, "xl/macrosheets/sheet 1.xml": 1, "xl/workbook.xml": 1}
    ct = (b'<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
          b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats.main+xml"/>'
          b'<Override PartName="/xl/macrosheets/sheet%201.xml" ContentType="application/vnd.ms-excel.MacroSheet+xml"/>'
          b"</Types>")
    assert safety._macro_override(ct, names) == ("xl/macrosheets/sheet 1.xml", "application/vnd.ms-excel.MacroSheet+xml")
    assert safety._macro_override(ct, {"xl/workbook.xml": 1}) is None  # declared, but not in the zip
    only_default = ct.split(b"<Override")[0] + b"</Types>"
    assert safety._macro_override(only_default, names) is None  # a Default says what a .bin would be
    vba = b"<Types><x:Override ContentType='application/vnd.ms-office.vbaProject' PartName='/xl/vbaProject.bin'/>"
    assert safety._macro_override(vba, names) == ("xl/vbaproject.bin", "application/vnd.ms-office.vbaProject")
    main = b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
    assert safety._macro_override(main, names)[0] == "xl/workbook.xml"
    no_type = b'<Override PartName="/xl/vbaProject.bin"/><Default ContentType="vbaProject"/>'
    assert safety._macro_override(no_type, names) is None
    no_part = b'<Override ContentType="application/vnd.ms-office.vbaProject"/>'
    assert safety._macro_override(no_part, names) is None
    assert safety._macro_override(b"<Types/>", names) is None


# ------------------------------------------------------------------- the used range of a sheet (F018) ----
_WB = (b'<workbook><sheets><sheet name="Data &amp; &quot;more&quot;" sheetId="1" r:id="rId2"/>'
       b'<sheet name="Other" sheetId="2" r:id="rId1"/></sheets></workbook>')
_RELS = (b'<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
         b'<Relationship Id="rId2" Target="/xl/worksheets/sheet2.xml"/></Relationships>')


def _dimension_zip(**extra) -> zipfile.ZipFile:
    parts = {"xl/workbook.xml": _WB, "xl/_rels/workbook.xml.rels": _RELS, "xl/worksheets/sheet1.xml": b"<w/>",
             "xl/worksheets/sheet2.xml": b"<w/>", **extra}
    return zipfile.ZipFile(io.BytesIO(_zip_of(parts)))


@pytest.mark.parametrize(("head", "limits", "rejected"), [
    (b'<worksheet><dimension ref="A1:F10000"/>', Limits(), False),
    (b'<worksheet><dimension ref="A1:F10001"/>', Limits(), True),
    (b'<worksheet><dimension ref="A1:J10"/>', Limits(max_sheet_cells=100), False),
    (b'<worksheet><dimension ref="A1:K10"/>', Limits(max_sheet_cells=100), True),
    (b'<worksheet><dimension ref="A1:Z2"/>', Limits(max_sheet_cells=52), False),
    (b'<worksheet><dimension ref="A1:AA2"/>', Limits(max_sheet_cells=53), True),  # AA is column 27
    (b"<x:worksheet><x:dimension ref = '$A$1:$b$20'/>", Limits(max_sheet_rows=19), True),
    (b'<worksheet><dimension ref="B3"/>', Limits(max_sheet_rows=2), True),
    (b'<worksheet><dimension ref="A1:XFD1048576"/>', Limits(), True),
    (b'<worksheet><dimension ref="A1:"/>', Limits(max_sheet_rows=1), False),  # nothing to read: not judged
    (b'<worksheet><dimension ref="A1:5"/>', Limits(max_sheet_rows=1), False),
    (b'<worksheet><sheetPr/><c r="A100000"/>', Limits(), False),  # no <dimension>: the worker's limits apply
    ('<worksheet><dimension ref="A1:F10001"/>'.encode("utf-16-le"), Limits(), True),
])
def test_dimension_limits(head, limits, rejected):
    zf = _dimension_zip()
    zi = zf.getinfo("xl/worksheets/sheet1.xml")
    r = safety._check_dimension(zf, zi, head, limits)
    assert (r is not None) == rejected, r
    if r is not None:
        assert (r.code, r.status, r.detail["entry"], r.detail["sheet_name"]) == (
            "F018", "rejected", "xl/worksheets/sheet1.xml", "Other")
        assert (r.detail["limit_rows"], r.detail["limit_cells"]) == (limits.max_sheet_rows, limits.max_sheet_cells)


def test_dimension_details():
    zf = _dimension_zip()
    r = safety._check_dimension(zf, zf.getinfo("xl/worksheets/sheet2.xml"), b'<dimension ref=" A1:AB20001 "/>',
                                Limits())
    assert r.detail == {"sheet_name": 'Data & "more"', "entry": "xl/worksheets/sheet2.xml", "ref": "A1:AB20001",
                        "rows": 20001, "cells": 20001 * 28, "limit_rows": 10_000, "limit_cells": 1_000_000}


def test_sheet_name_for_messages():
    zf = _dimension_zip()
    assert safety._sheet_name(zf, "xl/worksheets/sheet1.xml") == "Other"
    assert safety._sheet_name(zf, "xl/worksheets/sheet2.xml") == 'Data & "more"'
    assert safety._sheet_name(zf, "xl/worksheets/sheet9.xml") == "xl/worksheets/sheet9.xml"
    dotted = _dimension_zip(**{"xl/_rels/workbook.xml.rels": b'<Relationships><Relationship Id="rId1" '
                                                            b'Target="./worksheets/../worksheets/sheet1.xml"/>'
                                                            b'</Relationships>'})
    assert safety._sheet_name(dotted, "xl/worksheets/sheet1.xml") == "Other"
    no_name = _dimension_zip(**{"xl/workbook.xml": b'<workbook><sheet sheetId="1" r:id="rId1"/></workbook>'})
    assert safety._sheet_name(no_name, "xl/worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    unlinked = _dimension_zip(**{"xl/workbook.xml": b'<workbook><sheet name="X" r:id="rId7"/></workbook>'})
    assert safety._sheet_name(unlinked, "xl/worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    odd = _dimension_zip(**{
        "xl/_rels/workbook.xml.rels": b'<Relationships><Relationship Id="rId9"/><Relationship Id="rId8" '
                                      b'Target="\xff\xfe.xml"/><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
                                      b'</Relationships>',
        "xl/workbook.xml": b'<workbook><sheet name="it&apos;s \xff" r:id="rId1"/></workbook>'})
    assert safety._sheet_name(odd, "xl/worksheets/sheet1.xml") == "it's \ufffd"  # odd tags and bytes are skipped
    no_rels = zipfile.ZipFile(io.BytesIO(_zip_of({"xl/workbook.xml": _WB})))
    assert safety._sheet_name(no_rels, "xl/worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"


def test_a_sheet_with_a_huge_used_range_is_f018(tmp_path):
    src = _xlsxwriter_workbook(tmp_path / "src.xlsx")
    with zipfile.ZipFile(src) as zf:
        parts = {zi.filename: zf.read(zi) for zi in zf.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    assert b'<dimension ref="A1:F300"/>' in sheet
    for ref, code in ((b"A1:F10000", None), (b"A1:F10001", "F018")):
        parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"A1:F300", ref)
        path = tmp_path / f"{ref.decode().replace(':', '_')}.xlsx"
        path.write_bytes(_zip_of(parts))
        r = precheck(path)
        assert (r.code if r else None) == code
        if r:
            assert (r.detail["sheet_name"], r.detail["rows"], r.detail["cells"]) == ("项目绩效目标表", 10001, 60006)


# ------------------------------------------------------------------- the checked zip, stored (shared_zip) ----
def test_shared_zip_stores_the_checked_parts_and_copies_the_rest(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    src = tmp_path / "book.xlsx"
    wb_path = _xlsxwriter_workbook(tmp_path / "src.xlsx")
    with zipfile.ZipFile(wb_path) as zin, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            zout.writestr(zi.filename, zin.read(zi))
        info = zipfile.ZipInfo("xl/media/图片1.png")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.extra = b"\xca\xfe\x04\x00abcd"  # an extra field (some zip tools write one): skipped, not copied
        zout.writestr(info, png)
    parts: dict = {}
    entries: list = []
    rej, data, _st = read_checked(src, Limits(), parts, entries)
    assert rej is None and "xl/workbook.xml" in parts and "xl/media/图片1.png" not in parts
    copy = shared_zip(data, entries, parts)
    with zipfile.ZipFile(io.BytesIO(data)) as orig, zipfile.ZipFile(io.BytesIO(copy)) as zf:
        assert zf.testzip() is None
        assert [zi.filename for zi in zf.infolist()] == [zi.filename for zi in orig.infolist()]
        for zi in zf.infolist():
            assert zf.read(zi) == orig.read(zi.filename), zi.filename
            want = zipfile.ZIP_STORED if zi.filename in parts else orig.getinfo(zi.filename).compress_type
            assert zi.compress_type == want, zi.filename
            assert zi.flag_bits & 0x800 and zi.CRC == orig.getinfo(zi.filename).CRC
        assert zf.getinfo("xl/media/图片1.png").compress_type == zipfile.ZIP_DEFLATED
    assert shared_zip(data, [], {}) == b"PK\x05\x06" + bytes(18)  # nothing to copy: an empty zip
    assert precheck(_write(tmp_path / "copy.xlsx", copy)) is None  # the copy passes the check itself


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------- names, containers, entries ----
@pytest.mark.parametrize(("name", "kind"), [("~$book.xlsx", "excel_lock"), (".~lock.book.xlsx#", "libreoffice_lock"),
                                            ("._book.xlsx", "appledouble")])
def test_lock_and_metadata_files_by_name(tmp_path, name, kind):
    r, data, st_ = read_checked(_write(tmp_path / name, b"PK\x03\x04 whatever"))
    assert (r, data, st_) == (Rejection("F001", "skipped", {"kind": kind}), None, None)


def test_empty_directory_and_missing(tmp_path):
    r, data, st_ = read_checked(_write(tmp_path / "e.xlsx", b""))
    assert (r.code, r.detail, data, st_) == ("F003", {"size": 0}, None, None)
    r, _d, _s = read_checked(tmp_path)
    assert (r.code, r.detail) == ("F002", {"reason": "not_regular_file"})
    r, _d, _s = read_checked(tmp_path / "missing.xlsx")
    assert (r.code, r.detail["reason"]) == ("F002", "missing") and r.detail["error"]


def test_file_size_limit_at_its_edge(tmp_path):
    path = _xlsxwriter_workbook(tmp_path / "b.xlsx")
    size = path.stat().st_size
    assert read_checked(path, Limits(max_file_bytes=size))[0] is None
    r, data, st_ = read_checked(path, Limits(max_file_bytes=size - 1))
    assert (r.code, r.detail, data, st_) == ("F004", {"size": size, "limit": size - 1}, None, None)


def test_stored_zip_passes_and_its_parts_are_handed_over(tmp_path):
    src = _xlsxwriter_workbook(tmp_path / "src.xlsx")
    with zipfile.ZipFile(src) as zf:
        parts_in = {zi.filename: zf.read(zi) for zi in zf.infolist()}
    path = _write(tmp_path / "stored.xlsx", _zip_of(parts_in, zipfile.ZIP_STORED))
    parts: dict = {}
    entries: list = []
    rej, data, st_ = read_checked(path, Limits(), parts, entries)
    assert rej is None and data == path.read_bytes() and st_.st_size == len(data)
    assert parts == {k: v for k, v in parts_in.items() if k.endswith((".xml", ".rels", ".vml"))}
    assert [zi.filename for zi in entries] == list(parts_in)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_damaged_small_part_is_f008(tmp_path, method):
    src = _xlsxwriter_workbook(tmp_path / "src.xlsx")
    with zipfile.ZipFile(src) as zf:
        parts_in = {zi.filename: zf.read(zi) for zi in zf.infolist()}
    data = bytearray(_zip_of(parts_in, method))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        zi = zf.getinfo("xl/styles.xml")
    start = zi.header_offset + 30 + len(zi.filename.encode()) + len(zi.extra)
    data[start + zi.compress_size - 3] ^= 0xFF  # near the end of the part: after the head the scan reads
    parts: dict = {}
    r, out, _st = read_checked(_write(tmp_path / "bad.xlsx", bytes(data)), Limits(), parts)
    assert (r.code, r.detail["reason"], r.detail["entry"], out) == ("F008", "bad_entry", "xl/styles.xml", None)
    assert parts == {}  # nothing handed over from a file that did not pass


def test_a_prolog_longer_than_allowed_is_f013(tmp_path):
    src = _xlsxwriter_workbook(tmp_path / "src.xlsx")
    with zipfile.ZipFile(src) as zf:
        parts_in = {zi.filename: zf.read(zi) for zi in zf.infolist()}
    for size, code in ((60 * 1024, None), (70 * 1024, "F013")):
        parts = dict(parts_in)
        parts["xl/styles.xml"] = b'<?xml version="1.0"?><!--' + b"x" * size + b'--><styleSheet/>'
        r = precheck(_write(tmp_path / f"p{size}.xlsx", _zip_of(parts)))
        assert (r.code if r else None) == code
        if r:
            assert r.detail == {"entry": "xl/styles.xml", "reason": "oversized_prolog"}


@pytest.mark.parametrize(("names", "detail"), [
    ({"xl/workbook.xml": b"<w/>"}, {"missing": "[Content_Types].xml", "kind": "zip"}),
    ({"[Content_Types].xml": b"<Types/>"}, {"missing": "xl/workbook.xml", "kind": "zip"}),
    ({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<d/>"}, {"missing": "xl/workbook.xml", "kind": "docx"}),
])
def test_a_zip_that_is_no_workbook_is_f011(tmp_path, names, detail):
    r = precheck(_write(tmp_path / "z.xlsx", _zip_of(names)))
    assert (r.code, r.detail) == ("F011", detail)


@pytest.mark.parametrize(("name", "reason"), [("xl/vbaProject.bin", "vba_project"), ("VBAPROJECT.BIN", "vba_project"),
                                              ("xl\\vbaProject.bin", "vba_project"),
                                              ("xl/macrosheets/sheet1.xml", "macro_sheet")])
def test_macros_by_part_name_are_f012(tmp_path, name, reason):
    parts = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>", name: b"<x/>"}
    r = precheck(_write(tmp_path / "m.xlsx", _zip_of(parts)))
    assert (r.code, r.detail) == ("F012", {"reason": reason, "entry": name})


def test_entry_and_total_size_limits_name_the_entry(tmp_path):
    parts = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook>" + b" " * 5000 + b"</workbook>"}
    path = _write(tmp_path / "s.xlsx", _zip_of(parts))
    wb_size = len(parts["xl/workbook.xml"])
    r = precheck(path, Limits(max_entry_uncompressed=wb_size - 1))
    assert (r.code, r.detail["reason"], r.detail["entry"], r.detail["size"]) == ("F019", "entry_size",
                                                                                "xl/workbook.xml", wb_size)
    assert precheck(path, Limits(max_entry_uncompressed=wb_size)) is None
    total = wb_size + len(parts["[Content_Types].xml"])
    r = precheck(path, Limits(max_total_uncompressed=total - 1))
    assert (r.code, r.detail["reason"], r.detail["size"], r.detail["limit"]) == ("F019", "total_size", total, total - 1)
    assert precheck(path, Limits(max_total_uncompressed=total)) is None
    assert precheck(path, Limits(max_entries=2)) is None
    assert precheck(path, Limits(max_entries=1)).detail == {"entries": 2, "limit": 1}


def test_entry_names_differing_only_in_case_are_f008(tmp_path):
    parts = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>", "XL/Workbook.xml": b"<w/>"}
    r = precheck(_write(tmp_path / "d.xlsx", _zip_of(parts)))
    assert (r.code, r.detail) == ("F008", {"reason": "duplicate_entry", "entry": "XL/Workbook.xml"})


# ------------------------------------------------------------------- OLE2 containers (.xls, encrypted, Word) ----
try:
    from hostile import _ole2
except ImportError:  # pragma: no cover
    from tests.hostile import _ole2

_DIR = 1024  # the directory sector of hostile._ole2's files: after the header and the one FAT sector


def test_ole_directory_is_walked():
    xls = _ole2({"Workbook": b"\x09\x08"})
    assert safety._ole_names(_reader(xls), len(xls)) == ["Root Entry", "Workbook"]
    enc = _ole2({"EncryptionInfo": b"i", "EncryptedPackage": b"p"})
    assert safety._ole_names(_reader(enc), len(enc)) == ["Root Entry", "EncryptionInfo", "EncryptedPackage"]
    longest = "N" * 31  # 64 bytes with its NUL: the longest name an entry holds
    f = _ole2({longest: b"x"})
    assert safety._ole_names(_reader(f), len(f)) == ["Root Entry", longest]


@pytest.mark.parametrize(("offset", "value", "names"), [
    (0x42, b"\x00", ["Root Entry"]),  # an unused entry
    (0x42, b"\x01", ["Root Entry", "Workbook"]),  # a storage
    (0x40, b"\x13\x00", ["Root Entry"]),  # an odd name length
    (0x40, b"\x42\x00", ["Root Entry"]),  # longer than an entry holds
    (0x40, b"\x02\x00", ["Root Entry", ""]),  # just the NUL
    (0x40, b"\x00\x00", ["Root Entry"]),
])
def test_ole_directory_entries_that_are_not_streams(offset, value, names):
    data = bytearray(_ole2({"Workbook": b"\x09\x08"}))
    at = _DIR + 128 + offset
    data[at:at + len(value)] = value
    assert safety._ole_names(_reader(bytes(data)), len(data)) == names


def test_ole_headers_that_cannot_be_walked():
    good = _ole2({"Workbook": b"\x09\x08"})
    assert safety._ole_names(_reader(good[:511]), 511) is None  # no whole header
    bad_shift = bytearray(good)
    bad_shift[0x1E:0x20] = b"\x0a\x00"
    assert safety._ole_names(_reader(bytes(bad_shift)), len(good)) is None
    too_many_fat = bytearray(good)
    too_many_fat[0x2C:0x30] = struct.pack("<L", len(good) // 512 + 1)
    assert safety._ole_names(_reader(bytes(too_many_fat)), len(good)) is None
    dir_out_of_range = bytearray(good)
    dir_out_of_range[0x30:0x34] = struct.pack("<L", 5000)
    with pytest.raises(ValueError):
        safety._ole_names(_reader(bytes(dir_out_of_range)), len(good))
    loop = bytearray(good)  # the directory's FAT entry points at itself: walked once
    loop[512 + 4:512 + 8] = struct.pack("<L", 1)
    assert safety._ole_names(_reader(bytes(loop)), len(good)) == ["Root Entry", "Workbook"]
    fat_in_chain_end = bytearray(good)  # the header names no FAT sector: the chain cannot be followed
    fat_in_chain_end[0x4C:0x50] = struct.pack("<L", 0xFFFFFFFE)
    with pytest.raises(ValueError, match="FAT index"):
        safety._ole_names(_reader(bytes(fat_in_chain_end)), len(good))


def _ole_file(tmp_path, name: str, streams: dict) -> Path:
    return _write(tmp_path / name, _ole2(streams))


@pytest.mark.parametrize(("name", "streams", "code", "detail"), [
    ("a.xls", {"Workbook": b"x"}, "F005", {"format": "xls"}),
    ("a.xlsx", {"Workbook": b"x"}, "F005", {"format": "xls"}),
    ("a.xlsx", {"Book": b"x"}, "F005", {"format": "xls"}),  # BIFF5 (Excel 95)
    ("a.et", {"Workbook": b"x"}, "F005", {"format": "et"}),  # WPS: the same container, told by its name
    ("a.ETT", {"Other": b"x"}, "F005", {"format": "et"}),
    ("a.xlt", {"Other": b"x"}, "F005", {"format": "xls"}),
    ("a.xls", {"Other": b"x"}, "F005", {"format": "xls"}),
    ("a.xlsx", {"Other": b"x"}, "F007", {"kind": "ole"}),
    ("a.xls", {"WordDocument": b"x"}, "F007", {"kind": "doc"}),  # a Word file renamed .xls
    ("a.xlsx", {"PowerPoint Document": b"x"}, "F007", {"kind": "ppt"}),
    ("a.et", {"PowerPoint Document": b"x"}, "F007", {"kind": "ppt"}),
    ("a.xlsx", {"EncryptionInfo": b"i", "EncryptedPackage": b"p"}, "F006", {"kind": "encrypted_ooxml"}),
    ("a.xlsx", {"EncryptedPackage": b"p"}, "F006", {"kind": "encrypted_ooxml"}),
    ("a.xlsx", {"EncryptionInfo": b"i"}, "F006", {"kind": "encrypted_ooxml"}),
    ("a.et", {"Other": b"x"}, "F005", {"format": "et"}),
])
def test_ole_containers_by_their_streams_and_name(tmp_path, name, streams, code, detail):
    r = precheck(_ole_file(tmp_path, name, streams))
    assert (r.code, r.detail) == (code, detail)  # the directory was walked: no "directory": "unparsed"


def test_an_ole_directory_that_cannot_be_walked_is_scanned_and_said_so(tmp_path):
    data = bytearray(_ole2({"WordDocument": b"x"}))
    data[0x1E:0x20] = b"\x07\x00"
    r = precheck(_write(tmp_path / "a.xlsx", bytes(data)))
    assert (r.code, r.detail) == ("F007", {"kind": "doc", "directory": "unparsed"})
    data = bytearray(_ole2({"Other": b"x"}))
    data[0x1E:0x20] = b"\x07\x00"
    assert precheck(_write(tmp_path / "b.xlsx", bytes(data))).detail == {"kind": "ole", "directory": "unparsed"}
    data = bytearray(_ole2({"Workbook": b"x"}))
    data[0x1E:0x20] = b"\x07\x00"
    assert precheck(_write(tmp_path / "c.et", bytes(data))).detail == {"format": "et", "directory": "unparsed"}


def test_ole_fat_sectors_beyond_the_header_are_found_through_the_difat():
    """Over 109 FAT sectors (files over about 7 MB), the rest are listed in DIFAT sectors: a directory
    continued in a sector the 110th FAT sector describes is walked to its end."""
    ss, per = 512, 128
    far = 109 * per + 5  # a sector whose FAT entry is in the 110th FAT sector
    size = (far + 2) * ss
    data = bytearray(size)
    end, free = 0xFFFFFFFE, 0xFFFFFFFF
    header = struct.pack("<8s16s5H6s9L", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE,
                         9, 6, b"\0" * 6, 0, 110, 1, 0, 4096, end, 0, 2, 1)
    header += struct.pack("<109L", *([0] * 109))  # the header's 109 FAT sectors (all the same one here)
    data[:512] = header
    fat0 = [free] * per
    fat0[1] = far  # sector 0 (file offset 512): the directory goes on from sector 1 to the far one
    data[512:1024] = struct.pack(f"<{per}L", *fat0)
    data[3 * ss + ss:4 * ss + ss] = struct.pack(f"<{per}L", *[free] * per)  # sector 3: the 110th FAT sector
    data[3 * ss + ss + 4 * 5:3 * ss + ss + 4 * 6] = struct.pack("<L", end)  # ... ends the chain at far
    data[2 * ss + ss:3 * ss + ss] = struct.pack(f"<{per}L", 3, *[free] * (per - 2), end)  # sector 2: the DIFAT

    def entry(name, typ):
        raw = (name + "\0").encode("utf-16-le")
        return struct.pack("<64sHBB3L16sL2QLQ", raw, len(raw), typ, 1, free, free, free, b"\0" * 16, 0, 0, 0, end, 0)
    data[2 * ss - ss + ss:2 * ss - ss + ss + 128] = entry("Root Entry", 5)  # sector 1
    data[(far + 1) * ss:(far + 1) * ss + 128] = entry("Workbook", 2)
    assert safety._ole_names(_reader(bytes(data)), size) == ["Root Entry", "Workbook"]


def test_a_short_last_ole_sector_is_read_as_padded():
    """A file cut inside its directory sector (the last one read): the part that is there is read, the
    rest counts as empty entries."""
    good = _ole2({"Workbook": b"\x09\x08"})
    cut = good[:_DIR + 300]  # the root and the first stream entry, and part of the next
    assert safety._ole_names(_reader(cut), len(cut)) == ["Root Entry", "Workbook"]


# ------------------------------------------------------------------- the end-of-central-directory record ----
def _eocd(count: int, cd_size: int, comment: bytes = b"") -> bytes:
    return b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, cd_size, 0, len(comment)) + comment


def _zip64_tail(z64_off: int, count: int = 7, cd_size: int = 1234, sig: bytes = b"PK\x06\x06") -> bytes:
    """A zip64 end record (56 bytes) and its locator (20 bytes), pointing at *z64_off*."""
    record = sig + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, count, count, cd_size, 0)
    return record + b"PK\x06\x07" + struct.pack("<IQI", 0, z64_off, 1)


def test_the_end_record_is_the_last_one_that_fits():
    assert safety._find_eocd(b"x" * 40 + _eocd(3, 150)) == (3, 150)
    assert safety._find_eocd(_eocd(3, 150)) == (3, 150)  # the record alone, from offset 0
    # a signature in the comment too close to the end to be a record is passed over, one that fits is taken
    assert safety._find_eocd(b"x" * 40 + _eocd(3, 150, b"PK\x05\x06" + bytes(17))) == (3, 150)
    assert safety._find_eocd(b"x" * 40 + _eocd(3, 150, b"PK\x05\x06" + bytes(18))) == (0, 0)
    assert safety._find_eocd(_eocd(3, 150)[:-1]) is None  # 21 bytes: no room for a record
    assert safety._find_eocd(b"PK\x05\x06" + bytes(10)) is None
    assert safety._find_eocd(b"PK\x03\x04" + bytes(100)) is None
    assert safety._find_eocd(b"") is None


def test_the_end_record_is_looked_for_within_the_longest_comment():
    comment = bytes(65535)
    assert safety._find_eocd(b"x" * 30 + _eocd(3, 150, comment)) == (3, 150)
    # a record further back than the longest comment allows (and the zip64 locator) is not searched for
    assert safety._find_eocd(_eocd(3, 150) + bytes(65535 + 20)) == (3, 150)
    assert safety._find_eocd(_eocd(3, 150) + bytes(65535 + 21)) is None


@pytest.mark.parametrize(("count", "cd_size"), [(0xFFFF, 0xFFFFFFFF), (0xFFFF, 500), (5, 0xFFFFFFFF)])
def test_a_zip64_end_record_gives_the_count_and_size(count, cd_size):
    body = b"x" * 100
    assert safety._find_eocd(body + _zip64_tail(100) + _eocd(count, cd_size)) == (7, 1234)


def test_a_zip64_end_record_is_read_only_when_the_end_record_asks_for_it():
    body = b"x" * 100
    assert safety._find_eocd(body + _zip64_tail(100) + _eocd(5, 500)) == (5, 500)


@pytest.mark.parametrize("tail", [
    _zip64_tail(100, sig=b"PK\x06\x05"),        # no zip64 record where the locator points
    _zip64_tail(101),                           # the locator points one byte off
    _zip64_tail(10**12),                        # beyond the end of the file
    _zip64_tail(100)[:56] + b"PK\x06\x08" + _zip64_tail(100)[60:],  # no locator signature
    _zip64_tail(100)[:56] + bytes(20),          # no locator
])
def test_a_zip64_record_that_is_not_there_leaves_the_end_record_as_it_is(tail):
    assert safety._find_eocd(b"x" * 100 + tail + _eocd(0xFFFF, 0xFFFFFFFF)) == (0xFFFF, 0xFFFFFFFF)


def test_a_zip64_record_is_read_up_to_the_very_end_of_the_file():
    # the locator at offset 0, the zip64 record last: every bound at its edge
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 20 + 22, 1)
    record = _zip64_tail(0)[:56]
    data = locator + _eocd(0xFFFF, 0xFFFFFFFF) + record
    assert safety._find_eocd(data) == (7, 1234)
    assert safety._find_eocd(data[:-1]) == (0xFFFF, 0xFFFFFFFF)  # the record cut short
    # a locator that would start before the file (the end record near its start) is no locator
    wrapped = _eocd(0xFFFF, 0xFFFFFFFF) + record + b"PK\x06\x07" + struct.pack("<IQI", 0, 22, 1)
    assert safety._find_eocd(wrapped) == (0xFFFF, 0xFFFFFFFF)


# ------------------------------------------------------------------- one entry, inflated as far as asked ----
_SST = b'<?xml version="1.0"?><sst>' + b"".join(b"<si><t>%d</t></si>" % i for i in range(3000)) + b"</sst>"


def _deflated(body: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(body) + c.flush()


def _entry(name: str, body: bytes, method: int = zipfile.ZIP_DEFLATED, *, size: int | None = None,
           flags: int = 0, local_flags: int | None = None, extra: bytes = b"", local_name: bytes | None = None,
           lead: bytes = b"", packed: bytes | None = None):
    """A local header and its data after *lead*, and the ZipInfo a central directory would give it."""
    if packed is None:
        packed = _deflated(body) if method == zipfile.ZIP_DEFLATED else body
    raw_name = name.encode("utf-8") if local_name is None else local_name
    lf = flags if local_flags is None else local_flags
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, lf, method, 0, 0, zlib.crc32(body), len(packed),
                        len(body), len(raw_name), len(extra)) + raw_name + extra
    zi = zipfile.ZipInfo(name)
    zi.header_offset, zi.compress_type, zi.flag_bits = len(lead), method, flags
    zi.compress_size, zi.file_size, zi.CRC = len(packed), len(body) if size is None else size, zlib.crc32(body)
    return lead + local + packed, zi


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_an_entry_is_inflated_only_as_far_as_asked(method):
    data, zi = _entry("xl/sharedStrings.xml", _SST, method, lead=b"lead" * 10, extra=b"\xca\xfe\x02\x00ab")
    part = safety._Inflater(data, zi)
    assert (part.head(1), part.out, part.done) == (_SST[:1], _SST[:1], False)
    assert (part.head(100), part.out, part.done) == (_SST[:100], _SST[:100], False)
    assert part.head(50) == _SST[:50] and part.out == _SST[:100]  # what is there already is not inflated again
    assert (part.head(len(_SST)), part.done) == (_SST, True)
    assert part.whole() == _SST and part.head(len(_SST) + 10) == _SST
    part.check_crc()
    fresh = safety._Inflater(data, zi)
    assert (fresh.whole(), fresh.done) == (_SST, True)
    fresh.check_crc()
    assert (safety._Inflater(data, zi).head(len(_SST) + 1), safety._Inflater(data, zi).head(4)) == (_SST, _SST[:4])
    empty_data, empty = _entry("xl/empty.xml", b"", method)
    assert (safety._Inflater(empty_data, empty).head(10), safety._Inflater(empty_data, empty).whole()) == (b"", b"")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_an_entry_is_cut_at_the_size_the_directory_gives_it(method):
    data, zi = _entry("xl/a.xml", _SST, method, size=1000)
    part = safety._Inflater(data, zi)
    assert (part.head(5000), part.done) == (_SST[:1000], True)
    assert safety._Inflater(data, zi).whole() == _SST[:1000]
    with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32 for file 'xl/a.xml'"):
        part.check_crc()


def test_a_deflated_entry_cut_short_gives_what_it_holds():
    data, zi = _entry("xl/a.xml", _SST)
    cut = len(data) - zi.compress_size // 2
    zi.compress_size -= zi.compress_size // 2
    part = safety._Inflater(data[:cut], zi)
    got = part.head(len(_SST))
    assert 1000 < len(got) < len(_SST) and _SST.startswith(got) and part.done
    whole = safety._Inflater(data[:cut], zi)
    # what the whole inflater gives before the data ends (zlib: all of it, isal: up to its last full block),
    # never more than is there, and never passing as the part
    assert 0 < len(whole.whole()) <= len(got) and got.startswith(whole.out)
    with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        whole.check_crc()


@pytest.mark.parametrize(("kw", "error"), [
    ({"lead": b"", "local_name": b""}, "File name in directory 'xl/a.xml' and header b'' differ."),
    ({"local_name": b"xl/b.xml"}, "File name in directory 'xl/a.xml' and header b'xl/b.xml' differ."),
    ({"flags": 0x20}, "compressed patched data (flag bit 5)"),
    ({"flags": 0x40}, "strong encryption (flag bit 6)"),
])
def test_a_local_header_that_does_not_match_is_a_bad_entry(kw, error):
    data, zi = _entry("xl/a.xml", b"<a/>", **kw)
    problem, kept = safety._scan_xml(data, zi, [_MiB16], {}, keep=10)
    assert (problem.code, problem.detail, kept) == ("F008", {"reason": "bad_entry", "entry": "xl/a.xml",
                                                             "error": error}, b"")


_MiB16 = 16 * 2**20


def test_a_local_header_cut_short_or_without_its_signature_is_a_bad_entry():
    data, zi = _entry("xl/a.xml", b"<a/>")
    problem, _ = safety._scan_xml(data[:29], zi, [_MiB16], {}, keep=10)
    assert problem.detail["error"] == "Truncated file header"
    problem, _ = safety._scan_xml(b"PK\x03\x05" + data[4:], zi, [_MiB16], {}, keep=10)
    assert problem.detail["error"] == "Bad magic number for file header"


def test_local_names_are_read_as_utf8_only_when_flagged():
    name = "xl/工作表.xml"
    data, zi = _entry(name, b"<a/>", flags=0x800)
    assert safety._scan_xml(data, zi, [_MiB16], {}, keep=10) == (None, b"<a/>")
    # the same bytes without the flag are a code page 437 name (what zipfile reads in the directory)
    cp437 = name.encode("utf-8").decode("cp437")
    data, zi = _entry(cp437, b"<a/>", local_name=name.encode("utf-8"), local_flags=0x1)
    zi.flag_bits = 0
    assert safety._scan_xml(data, zi, [_MiB16], {}, keep=10) == (None, b"<a/>")


def test_small_xml_parts_are_checked_whole_within_the_budget():
    big = b"<a>" + b"x" * (256 * 1024 - 7) + b"</a>"
    assert len(big) == 256 * 1024
    for name, body, budget, whole in (("xl/a.xml", big, len(big), True), ("xl/a.xml", big + b" ", 10**9, False),
                                      ("xl/a.xml", big, len(big) - 1, False), ("xl/a.rels", b"<r/>", 4, True),
                                      ("xl/a.VML", b"<v/>", 4, True), ("xl/a.bin", b"<b/>", 100, False)):
        data, zi = _entry(name, body)
        parts: dict = {}
        left = [budget]
        assert safety._scan_xml(data, zi, left, parts, keep=3) == (None, body[:3])
        assert (parts, left) == (({name: body}, [budget - len(body)]) if whole else ({}, [budget])), (name, budget)


def test_a_damaged_part_is_reported_as_the_inflater_found_it():
    def damaged(body: bytes) -> bytes:  # a block of a reserved type after the data: past the head
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(body) + c.flush(zlib.Z_SYNC_FLUSH) + b"\x07"

    data, zi = _entry("xl/a.xml", _SST, packed=damaged(_SST))
    problem, _ = safety._scan_xml(data, zi, [_MiB16], {}, keep=10)
    assert (problem.code, problem.detail["reason"]) == ("F008", "bad_entry")
    # the inflater's own error (zlib: "Error -3 while decompressing data…", isal: "Error -1 Invalid deflate
    # block…"), not a CRC error
    assert problem.detail["error"].startswith("Error -") and "CRC" not in problem.detail["error"]
    # the head is still scanned first: a declaration there is F013, whatever comes later
    data, zi = _entry("xl/a.xml", b"<!DOCTYPE a>" + _SST, packed=damaged(b"<!DOCTYPE a>" + _SST))
    problem, _ = safety._scan_xml(data, zi, [_MiB16], {}, keep=10)
    assert (problem.code, problem.detail) == ("F013", {"entry": "xl/a.xml"})


@pytest.mark.parametrize("body", [
    b"<root><!DOCTYPE x></root>", b"<root/><!ENTITY x 'y'>", b"<root><!DocType x>",
    "<root><!DOCTYPE x></root>".encode("utf-16-le"), b"<?xml version='1.0'?><!DOCTYPE root><root/>",
    b"<?xml version='1.0'?><!ELEMENT root ANY><root/>",  # any declaration before the root, not only these two
])
def test_a_declaration_anywhere_in_the_head_is_f013(body):
    data, zi = _entry("xl/worksheets/sheet1.xml", body)
    problem, kept = safety._scan_xml(data, zi, [_MiB16], {}, keep=10)
    assert (problem.code, problem.detail, kept) == ("F013", {"entry": "xl/worksheets/sheet1.xml"}, b"")


@pytest.mark.parametrize(("prolog", "rejected"), [(65_000, False), (66_000, True)])
def test_the_prolog_may_be_up_to_64_kib(prolog, rejected):
    body = b"<?xml version='1.0'?><!--" + b"x" * (prolog - 28) + b"--><root/>"
    assert body.index(b"<root/>") == prolog
    data, zi = _entry("xl/worksheets/sheet1.xml", body)
    problem, kept = safety._scan_xml(data, zi, [_MiB16], {}, keep=5)
    if rejected:
        assert (problem.detail, kept) == ({"entry": "xl/worksheets/sheet1.xml", "reason": "oversized_prolog"}, b"")
    else:
        assert (problem, kept) == (None, body[:5])


def test_a_part_that_is_all_prolog_is_left_to_the_parser():
    body = b"<?xml version='1.0'?><!-- never closed " + b"x" * 5000
    data, zi = _entry("xl/worksheets/sheet1.xml", body)
    assert safety._scan_xml(data, zi, [_MiB16], {}, keep=5) == (None, body[:5])


# ------------------------------------------------------------------- the zip's directory, before zipfile opens it ----
def _eocd_only(count: int, cd_size: int) -> bytes:
    return b"PK\x03\x04" + bytes(100) + _eocd(count, cd_size)


def test_a_zip_without_an_end_record_is_f008():
    assert safety._check_zip(b"PK\x03\x04" + bytes(200), Limits(), {}) == Rejection(
        "F008", "rejected", {"reason": "no_central_directory"})


@pytest.mark.parametrize(("limits", "largest"), [(Limits(), 2000 * 1024), (Limits(max_entries=100), 2**20)])
def test_a_central_directory_larger_than_the_entries_allow_is_f009(limits, largest):
    assert safety._check_zip(_eocd_only(1, largest), limits, {}).detail == {
        "reason": "bad_zip", "error": "Bad offset for central directory"}  # allowed: zipfile is asked, and refuses
    assert safety._check_zip(_eocd_only(1, largest + 1), limits, {}) == Rejection(
        "F009", "rejected", {"reason": "central_directory_size", "entries": 1, "size": largest + 1,
                             "limit": limits.max_entries})


def test_a_directory_zipfile_cannot_read_is_f008_with_its_words():
    assert safety._check_zip(_eocd_only(1, 46), Limits(), {}) == Rejection(
        "F008", "rejected", {"reason": "bad_zip", "error": "Bad magic number for central directory"})


def test_entries_are_counted_in_the_directory_not_only_in_the_end_record():
    data = _zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>", "c.xml": b"<c/>"})
    pos = data.rfind(b"PK\x05\x06")
    lying = data[:pos + 8] + struct.pack("<HH", 1, 1) + data[pos + 12:]  # the end record says one entry
    assert safety._check_zip(lying, Limits(max_entries=2), {}) == Rejection(
        "F009", "rejected", {"entries": 3, "limit": 2})
    assert safety._check_zip(lying, Limits(max_entries=3), {}) is None


def test_error_texts_for_details():
    assert safety._err(OSError(2, "No such file or directory")) == "No such file or directory"
    assert safety._err(OSError("no strerror")) == "no strerror"
    assert safety._err(ValueError("bad value")) == "bad value"
    assert safety._err(ValueError()) == "ValueError"
    assert safety._err(ValueError("x" * 250)) == "x" * 200


@pytest.mark.parametrize(("data", "state"), [
    (b"<??><root/>", "root"),                                  # a processing instruction ends at its first ?>
    (b"<?xml?><?mso-application progid='Excel.Sheet'?><root/>", "root"),
    (b"<?xml?><!DOCTYPE x><?pi?><root/>", "dtd"),              # ...not at the last one
    (b"<!-- a --><!-- b --><root/>", "root"),
    (b"<!-- a --><!DOCTYPE x><!-- b --><root/>", "dtd"),
    (b"<?xml?><!-", "more"),                                   # too few bytes left to tell
    (b"X<!DOCTYPE x>", "root"),                                # text first: no prolog at all
    (b"x", "root"), (b"", "more"), (b"  ", "more"),
])
def test_prolog_state_after_the_first_declaration(data, state):
    assert safety._prolog_state(data) == state


def test_a_used_range_with_bytes_that_are_not_ascii_is_still_judged():
    zf = _dimension_zip()
    r = safety._check_dimension(zf, zf.getinfo("xl/worksheets/sheet1.xml"), b'<dimension ref="\xe9A1:F20000"/>',
                                Limits())
    assert (r.detail["ref"], r.detail["rows"]) == ("\ufffdA1:F20000", 20000)


def test_macro_override_reads_past_odd_tags_and_bytes():
    names = {"xl/vbaproject.bin": 1, "xl/\ufffd.bin": 1}
    no_part = b'<Override ContentType="application/vnd.ms-office.vbaProject"/>'
    vba = b'<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    assert safety._macro_override(no_part + vba, names) == ("xl/vbaproject.bin", "application/vnd.ms-office.vbaProject")
    every = b"<!-- macrosheet dialogsheet macroenabled.main+xml -->" + vba
    assert safety._macro_override(every, names)[0] == "xl/vbaproject.bin"
    odd = b'<Override PartName="/xl/\xff.bin" ContentType="application/vnd.ms-office.vbaProject\xe9"/>'
    assert safety._macro_override(odd, names) == ("xl/\ufffd.bin", "application/vnd.ms-office.vbaProject\ufffd")


# ------------------------------------------------------------------- each check of the zip's entries, in full ----
_CD_FIELDS = ("sig", "made", "needed", "flags", "method", "time", "date", "crc", "csize", "usize", "nlen", "elen",
              "clen", "disk", "iattr", "eattr", "offset")


def _patched(data: bytes, name: str, **fields) -> bytes:
    """*data* with fields of the central-directory header of entry *name* replaced (names as _CD_FIELDS)."""
    cd = struct.Struct("<4sHHHHHHIIIHHHHHII")
    pos = data.index(b"PK\x01\x02")
    while True:
        values = dict(zip(_CD_FIELDS, cd.unpack_from(data, pos)))
        entry = data[pos + 46:pos + 46 + values["nlen"]].decode()
        if entry == name:
            values.update(fields)
            return data[:pos] + cd.pack(*values.values()) + data[pos + 46:]
        pos += 46 + values["nlen"] + values["elen"] + values["clen"]


_BOOK = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def _checked(data: bytes, limits: Limits = Limits()):
    return safety._check_zip(data, limits, {})


def test_an_entry_of_an_unsupported_method_is_f008():
    data = _patched(_zip_of(_BOOK), "xl/workbook.xml", method=12)
    assert _checked(data) == Rejection("F008", "rejected", {"reason": "unsupported_compression",
                                                           "entry": "xl/workbook.xml", "method": 12})


def test_an_entry_that_would_end_beyond_the_file_is_f008_at_that_edge():
    data = _zip_of(_BOOK)
    first = "[Content_Types].xml"
    assert _checked(_patched(data, first, csize=len(data) - 30 + 1)) == Rejection(
        "F008", "rejected", {"reason": "entry_beyond_end", "entry": first})
    # up to the last byte of the file it is not beyond the end (it overlaps the next entry instead)
    assert _checked(_patched(data, first, csize=len(data) - 30)).detail == {
        "reason": "overlapping_entries", "entry": first}


def test_a_stored_entry_whose_sizes_differ_is_f008_unless_encrypted():
    data = _zip_of(_BOOK, zipfile.ZIP_STORED)
    size = len(_BOOK["xl/workbook.xml"])
    assert _checked(_patched(data, "xl/workbook.xml", usize=size + 1)) == Rejection(
        "F008", "rejected", {"reason": "size_mismatch", "entry": "xl/workbook.xml"})
    # an encrypted stored entry carries its encryption header in its data: F014, not a size mismatch
    assert _checked(_patched(data, "xl/workbook.xml", usize=size + 1, flags=1)) == Rejection(
        "F014", "rejected", {"entry": "xl/workbook.xml"})


def test_the_compression_ratio_is_judged_above_one_mib_and_above_the_limit():
    def bomb(size: int) -> bytes:
        return _zip_of({**_BOOK, "xl/media/zeros.png": bytes(size)})

    data = bomb(2**20 + 1)
    zi = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/media/zeros.png")
    ratio = zi.file_size / zi.compress_size
    assert ratio > 200 and round(ratio, 2) != round(ratio, 1)
    assert _checked(data) == Rejection("F010", "rejected", {
        "reason": "ratio", "entry": "xl/media/zeros.png", "size": 2**20 + 1, "compressed": zi.compress_size,
        "ratio": round(ratio, 1), "limit": 200.0})
    assert _checked(data, Limits(max_ratio=ratio)) is None  # at the limit: allowed
    assert _checked(bomb(2**20)) is None  # one MiB exactly: not judged by its ratio
    one_byte = _patched(data, "xl/media/zeros.png", csize=1)
    assert _checked(one_byte).detail["ratio"] == float(2**20 + 1)


def test_size_limits_give_every_detail():
    data = _zip_of({**_BOOK, "xl/big.bin": bytes(3 * 2**20)})
    zi = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/big.bin")
    limits = Limits(max_entry_uncompressed=2 * 2**20, max_total_uncompressed=5 * 2**20, max_ratio=10**6)
    assert _checked(data, limits) == Rejection("F019", "rejected", {
        "reason": "entry_size", "entry": "xl/big.bin", "size": 3 * 2**20, "compressed": zi.compress_size,
        "limit": 2 * 2**20, "size_mb": 3.0, "limit_mb": 2.0})
    total = 3 * 2**20 + len(_BOOK["[Content_Types].xml"]) + len(_BOOK["xl/workbook.xml"])
    limits = Limits(max_total_uncompressed=3 * 2**20, max_ratio=10**6)
    assert _checked(data, limits) == Rejection("F019", "rejected", {
        "reason": "total_size", "entry": "xl/big.bin", "size": total, "limit": 3 * 2**20, "size_mb": 3.0,
        "limit_mb": 3.0})


def test_an_encrypted_entry_is_f014_naming_it():
    data = _patched(_zip_of(_BOOK), "xl/workbook.xml", flags=0x40)
    assert _checked(data) == Rejection("F014", "rejected", {"entry": "xl/workbook.xml"})


def test_an_open_document_without_a_workbook_is_told_by_its_mimetype():
    data = _zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<c/>"})
    assert _checked(data) == Rejection("F005", "rejected", {"format": "ods"})


def test_a_local_header_before_the_start_of_the_file_is_f008(tmp_path):
    data = _zip_of(_BOOK)
    eocd = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", data, eocd + 16)[0]
    shifted = data[:eocd + 16] + struct.pack("<I", cd_offset + 100) + data[eocd + 20:]  # directory "moved" by 100
    r, out, _st = read_checked(_write(tmp_path / "neg.xlsx", shifted))
    assert (r.code, r.detail, out) == ("F008", {"reason": "unreadable_zip", "error": "Invalid argument"}, None)


# ------------------------------------------------------------------- a file that changes while it is checked ----
def _stat_like(real: os.stat_result, **changes) -> os.stat_result:
    fields = list(real)
    for name, value in changes.items():
        fields[("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size").index(name)] = value
    return os.stat_result(fields)


@pytest.mark.parametrize(("changes", "code", "detail"), [
    ({"st_mode": 0o40755}, "F002", {"reason": "not_regular_file"}),   # swapped for a directory
    ({"st_size": 0}, "F003", {"size": 0}),                              # emptied
    ({"st_size": 10**9}, "F004", {"size": 10**9, "limit": 20 * 2**20}),  # grown past the limit
])
def test_the_file_is_judged_by_what_was_opened_not_by_its_name(tmp_path, monkeypatch, changes, code, detail):
    path = _xlsxwriter_workbook(tmp_path / "b.xlsx")
    opened = _stat_like(os.stat(path), **changes)
    with monkeypatch.context() as m:
        m.setattr(os, "fstat", lambda fd: opened)
        r, data, st_ = read_checked(path)
    assert (r, data, st_) == (Rejection(code, "rejected" if code != "F003" else CODES["F003"][0], detail), None,
                              opened)


def test_a_file_that_cannot_be_read_once_opened_is_f002(tmp_path, monkeypatch):
    path = _xlsxwriter_workbook(tmp_path / "b.xlsx")

    def failing(fd):
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as m:
        m.setattr(os, "fstat", failing)
        r, data, st_ = read_checked(path)
    assert (r, data, st_) == (Rejection("F002", "rejected", {"reason": "unreadable", "error": "Input/output error"}),
                              None, None)


def test_a_file_that_grew_since_its_size_was_taken_is_read_whole_up_to_the_limit(tmp_path, monkeypatch):
    path = _xlsxwriter_workbook(tmp_path / "b.xlsx")
    whole = path.read_bytes()
    n = len(whole)
    earlier = _stat_like(os.stat(path), st_size=n - 10)
    with monkeypatch.context() as m:
        m.setattr(os, "stat", lambda p, *a, **kw: earlier)
        m.setattr(os, "fstat", lambda fd: earlier)
        r, data, st_ = read_checked(path)
        assert (r, data, st_) == (None, whole, earlier)  # the bytes checked are all the bytes there are
        r, data, st_ = read_checked(path, Limits(max_file_bytes=n - 5))
        assert (r, data, st_) == (Rejection("F004", "rejected", {"size": n - 4, "limit": n - 5}), None, earlier)


def test_files_starting_as_any_zip_are_checked_as_zips(tmp_path):
    empty = read_checked(_write(tmp_path / "empty.xlsx", b"PK\x05\x06" + bytes(18)))[0]
    assert empty == Rejection("F011", "rejected", {"missing": "[Content_Types].xml", "kind": "zip"})
    spanned = b"PK\x07\x08" + bytes(12) + _zip_of(_BOOK)  # the marker of a split archive, then the zip
    assert read_checked(_write(tmp_path / "spanned.xlsx", spanned))[0] is None


class _FailingReader:
    """The opened file, failing its *fail_at*-th read as a disk or network share can."""

    def __init__(self, f, fail_at: int):
        self.f, self.reads, self.fail_at = f, 0, fail_at

    def read(self, n=-1):
        self.reads += 1
        if self.reads == self.fail_at:
            raise OSError(5, "Input/output error")
        return self.f.read(n)

    def seek(self, *a):
        return self.f.seek(*a)

    def fileno(self):
        return self.f.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize(("content", "fail_at", "stat_known"), [
    ("zip", 1, False),   # the first bytes
    ("zip", 2, True),    # the whole file
    ("text", 2, True),   # the sample of a file that is no zip
])
def test_a_read_that_fails_is_f002_unreadable(tmp_path, monkeypatch, content, fail_at, stat_known):
    path = _xlsxwriter_workbook(tmp_path / "b.xlsx") if content == "zip" else _write(tmp_path / "t.xlsx", b"a,b\n1,2\n")
    real_fdopen = os.fdopen
    with monkeypatch.context() as m:
        m.setattr(os, "fdopen", lambda fd, mode: _FailingReader(real_fdopen(fd, mode), fail_at))
        r, data, st_ = read_checked(path)
    assert (r, data) == (Rejection("F002", "rejected", {"reason": "unreadable", "error": "Input/output error"}), None)
    assert (st_ is not None) == stat_known


def test_a_file_that_cannot_be_wrapped_once_opened_is_f002_and_its_descriptor_closed(tmp_path, monkeypatch):
    path = _xlsxwriter_workbook(tmp_path / "b.xlsx")
    closed = []
    real_close = os.close

    def failing(fd, mode):
        raise OSError(24, "Too many open files")

    with monkeypatch.context() as m:
        m.setattr(os, "fdopen", failing)
        m.setattr(os, "close", lambda fd: (closed.append(fd), real_close(fd)))
        r, data, st_ = read_checked(path)
    assert (r, data, st_) == (Rejection("F002", "rejected", {"reason": "unreadable", "error": "Too many open files"}),
                              None, None)
    assert len(closed) == 1 and isinstance(closed[0], int)


def test_zip64_offsets_and_counts_are_unsigned():
    body = b"x" * 100
    record = _zip64_tail(0, count=2**64 - 1, cd_size=2**63)[:56]
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 100, 1)
    assert safety._find_eocd(body + record + locator + _eocd(0xFFFF, 0xFFFFFFFF)) == (2**64 - 1, 2**63)
    # an offset read as signed would point back from the end of the file, at the record
    from_end = 56 + 20 + 22
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 2**64 - from_end, 1)
    assert safety._find_eocd(body + _zip64_tail(0)[:56] + locator + _eocd(0xFFFF, 0xFFFFFFFF)) == (0xFFFF, 0xFFFFFFFF)


def test_macro_override_part_names_in_any_case():
    upper = b'<Override PartName="/XL/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    assert safety._macro_override(upper, {"xl/vbaproject.bin": 1}) == (
        "xl/vbaproject.bin", "application/vnd.ms-office.vbaProject")


def _local_field(data: bytes, entry_index: int, offset: int, value: int) -> bytes:
    """*data* with a 16-bit field of the *entry_index*-th local header replaced."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        at = zf.infolist()[entry_index].header_offset + offset
    return data[:at] + struct.pack("<H", value) + data[at + 2:]


def test_local_headers_must_be_where_the_directory_says_and_hold_their_data():
    data = _zip_of(_BOOK)
    assert _checked(data) is None  # entries end exactly where the next begins
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        first = zf.infolist()[0].header_offset
    bad_sig = data[:first] + b"PK\x03\x05" + data[first + 4:]
    assert _checked(bad_sig) == Rejection("F008", "rejected", {"reason": "bad_local_header",
                                                              "entry": "[Content_Types].xml"})
    # a local extra field one byte longer than there is room for: the data runs into the next entry
    assert _checked(_local_field(data, 0, 28, 1)) == Rejection(
        "F008", "rejected", {"reason": "overlapping_entries", "entry": "[Content_Types].xml"})
    assert _checked(_local_field(data, 1, 28, 0xFFFF)) == Rejection(
        "F008", "rejected", {"reason": "entry_beyond_end", "entry": "xl/workbook.xml"})


def test_a_macro_content_type_on_a_part_that_is_there_is_f012():
    ct = (b'<Types><Override PartName="/xl/workbook.xml" '
          b'ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>')
    data = _zip_of({"[Content_Types].xml": ct, "xl/workbook.xml": b"<workbook/>"})
    assert _checked(data) == Rejection("F012", "rejected", {
        "reason": "content_type", "entry": "xl/workbook.xml",
        "marker": "application/vnd.ms-excel.sheet.macroEnabled.main+xml"})


def test_another_format_told_by_its_content_is_f005(tmp_path):
    fods = (b'<?xml version="1.0"?><office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
            b' office:mimetype="application/vnd.oasis.opendocument.spreadsheet">')
    r, data, st_ = read_checked(_write(tmp_path / "flat.xlsx", fods))
    assert (r, data, st_ is not None) == (Rejection("F005", "rejected", {"format": "fods"}), None, True)


def test_a_zip_emptied_between_its_first_bytes_and_the_rest_is_f003(tmp_path, monkeypatch):
    path = _xlsxwriter_workbook(tmp_path / "b.xlsx")

    class Emptied(_FailingReader):
        def read(self, n=-1):
            self.reads += 1
            return self.f.read(n) if self.reads == 1 else b""

    real_fdopen = os.fdopen
    with monkeypatch.context() as m:
        m.setattr(os, "fdopen", lambda fd, mode: Emptied(real_fdopen(fd, mode), 0))
        r, data, st_ = read_checked(path)
    assert (r, data, st_ is not None) == (Rejection("F003", CODES["F003"][0], {"size": 0}), None, True)
