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
    assert (r.code, r.detail["reason"]) == ("F002", "unreadable")


def test_nul_in_path_does_not_raise(tmp_path):
    assert precheck(str(tmp_path / "a\0b.xlsx")).code == "F002"


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
