"""The rows streamed into the master's sheet XML, and the biggest sheet written by a forked child."""
from __future__ import annotations

import io
import os
import threading
import zipfile

import pytest
from python_calamine import CalamineWorkbook

from xlperf import sheet_xml
from xlperf.master import write_xlsx
from xlperf.sheet_xml import splice_rows, write_overlapped

BIG = "绩效指标"


def tables(n_big: int = 300) -> dict:
    """Three table sheets; the second is the biggest, as the indicator sheet of a real master is."""
    return {
        "项目汇总": (["项目编码", "预算数"], [{"项目编码": f"P{i:03}", "预算数": i + 0.5} for i in range(20)]),
        BIG: (["项目编码", "三级指标", "指标值"], [{"项目编码": f"P{i % 20:03}", "三级指标": f"指标 & <{i}>",
                                                 "指标值": i if i % 3 else f" 文本{i} "} for i in range(n_big)]),
        "问题清单": (["来源文件", "说明"], [{"来源文件": "in/a.xlsx", "说明": "x"}]),
    }


def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every CRC checks
        return {zi.filename: zf.read(zi) for zi in zf.infolist()}


def order(path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [zi.filename for zi in zf.infolist()]


def sheet_rows(path, name: str) -> list:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


@pytest.fixture()
def fork_small(monkeypatch):
    """Any sheet of 100 cells or more goes to a child."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # same bytes from both writers
    monkeypatch.setattr(sheet_xml, "FORK_MIN_CELLS", 100)
    assert threading.active_count() == 1, "these tests need a process without other threads"


def serial_copy(tmp_path, monkeypatch) -> dict[str, bytes]:
    monkeypatch.setattr(sheet_xml, "FORK_MIN_CELLS", 10**12)
    out = tmp_path / "serial.xlsx"
    write_xlsx(out, tables())
    return parts(out)


def test_the_biggest_sheet_written_by_a_child_is_the_same_sheet(tmp_path, fork_small, monkeypatch):
    out = tmp_path / "forked.xlsx"
    write_xlsx(out, tables())
    forked = parts(out)
    assert order(out)[-1] == "xl/worksheets/sheet2.xml"  # added last, when its child was done
    rows = sheet_rows(out, BIG)
    assert len(rows) == 301 and rows[1] == ["P000", "指标 & <0>", " 文本0 "] and rows[2] == ["P001", "指标 & <1>", 1.0]
    assert forked == serial_copy(tmp_path, monkeypatch)  # every part, byte for byte


def test_a_failed_child_costs_time_not_the_sheet(tmp_path, fork_small, monkeypatch):
    monkeypatch.setattr(sheet_xml, "_die_with_parent", lambda: os._exit(3))  # only the child calls it
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert len(sheet_rows(out, BIG)) == 301
    assert parts(out) == serial_copy(tmp_path, monkeypatch)


def test_the_child_is_stopped_when_the_parent_fails(tmp_path, fork_small, monkeypatch):
    started = []
    real = sheet_xml._ForkedPart.__init__

    def record(self, *args):
        monkeypatch.setattr(sheet_xml, "_die_with_parent", lambda: __import__("time").sleep(30))  # the child lingers
        real(self, *args)
        started.append(self.pid)

    def broken(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sheet_xml._ForkedPart, "__init__", record)
    monkeypatch.setattr(sheet_xml, "_copy_part", broken)
    with pytest.raises(OSError, match="No space"):
        write_xlsx(tmp_path / "m.xlsx", tables())
    assert started and started[0] > 0
    with pytest.raises(ChildProcessError):  # killed and reaped: no zombie, nothing left running
        os.waitpid(started[0], os.WNOHANG)


def test_no_fork_while_another_thread_runs(tmp_path, fork_small):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        out = tmp_path / "m.xlsx"
        write_xlsx(out, tables())
    finally:
        stop.set()
        other.join()
    assert order(out).index("xl/worksheets/sheet2.xml") < order(out).index("xl/worksheets/sheet3.xml")
    assert len(sheet_rows(out, BIG)) == 301


def test_small_sheets_stay_in_process(tmp_path, monkeypatch):
    monkeypatch.setattr(sheet_xml, "FORK_MIN_CELLS", 301 * 3 + 1)  # one cell more than the biggest sheet has
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert order(out).index("xl/worksheets/sheet2.xml") < order(out).index("xl/worksheets/sheet3.xml")


def test_an_entry_written_deflated_is_read_back_whole(tmp_path):
    import tempfile
    import zlib

    data = "<x>数据</x>".encode() * 1000
    packed = zlib.compressobj(1, zlib.DEFLATED, -15)
    with tempfile.TemporaryFile() as raw:
        raw.write(packed.compress(data) + packed.flush())
        raw.flush()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("a.xml", b"<a/>")
            assert sheet_xml._write_deflated(zf, zipfile.ZipInfo("b.xml"), raw, zlib.crc32(data), len(data))
            zf.writestr("c.xml", b"<c/>")
    with zipfile.ZipFile(buf) as zf:
        assert zf.testzip() is None
        assert [zf.read(n) for n in ("a.xml", "b.xml", "c.xml")] == [b"<a/>", data, b"<c/>"]
        assert zf.getinfo("b.xml").compress_size < len(data) // 10


def test_splice_refuses_a_sheet_without_data(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    with pytest.raises(ValueError, match="sheet1.xml"):
        splice_rows(buf.getvalue(), tmp_path / "x.xlsx", {"xl/worksheets/sheet1.xml": (["a"], [])}, {})


def test_a_failed_write_stops_the_stream_and_is_raised():
    class Full(OSError):
        pass

    class Disk:
        def __init__(self):
            self.chunks = []

        def write(self, chunk):
            if len(self.chunks) == 2:
                raise Full("disk full")
            self.chunks.append(chunk)

    produced = []

    def chunks():
        for i in range(100):
            produced.append(i)
            yield b"x"

    disk = Disk()
    with pytest.raises(Full, match="disk full"):
        write_overlapped(disk, chunks())
    assert disk.chunks == [b"x", b"x"] and len(produced) < 100  # stopped early, not after every chunk


@pytest.mark.parametrize("broken", ["fork", "tempfile"])
def test_no_process_or_no_temporary_file_writes_the_sheet_here(tmp_path, fork_small, monkeypatch, broken):
    import tempfile

    def refused(*_args, **_kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    if broken == "fork":
        monkeypatch.setattr(os, "fork", refused)
    else:
        monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert order(out).index("xl/worksheets/sheet2.xml") < order(out).index("xl/worksheets/sheet3.xml")  # not forked
    assert parts(out) == serial_copy(tmp_path, monkeypatch)


def test_cell_text_escapes_and_cuts_as_xlsxwriter_does():
    from xlperf.sheet_xml import cell_text

    def t(inner: str, space: bool = False) -> str:
        preserve = ' xml:space="preserve"' if space else ""
        return f' t="inlineStr"><is><t{preserve}>{inner}</t></is></c>'

    assert cell_text("plain") == t("plain")
    assert cell_text("") == t("")
    assert cell_text("a&b<c>d") == t("a&amp;b&lt;c&gt;d")
    assert cell_text(" lead") == t(" lead", True) and cell_text("trail\n") == t("trail\n", True)
    assert cell_text("mid dle") == t("mid dle")
    assert cell_text("_x0041_ and _x00ab_ and _x00AB_") == t("_x005F_x0041_ and _x005F_x00ab_ and _x005F_x00AB_")
    assert cell_text("_x004_ _xZZZZ_") == t("_x004_ _xZZZZ_")  # not an escape: left as it is
    assert cell_text("\x00\x08\x0b\x0c\x1f|\t\n\r|\ufffe\uffff") == \
        t("_x0000__x0008__x000B__x000C__x001F_|\t\n_x000D_|_xFFFE__xFFFF_")
    assert cell_text("x\x01_x0041_") == t("x_x0001__x005F_x0041_")  # both kinds in one text
    assert cell_text("长" * 40000) == t("长" * 32767)  # Excel's limit for one cell
    assert cell_text("&" * 40000) == t("&amp;" * 32767)  # cut before escaping


def test_rows_xml_writes_each_value_kind_in_its_cell(tmp_path):
    from xlperf.sheet_xml import rows_xml

    cols = ["t", "n", "x"]
    rows = [{"t": "a", "n": 1, "x": 0.1},
            {"t": "a", "n": True, "x": float("nan")},
            {"t": "", "n": None, "x": float("inf")},
            {"n": 12345678901234567, "x": -2.5e-7, "t": 7},
            {"t": "a", "n": "a", "x": ["l"]}]
    xml = b"".join(rows_xml(cols, rows, {"n": 5})).decode()
    text = ' t="inlineStr"><is><t>{}</t></is></c>'.format
    assert xml == (
        '<row r="2"><c r="A2"' + text("a") + '<c r="B2" s="5"><v>1</v></c><c r="C2"><v>0.1</v></c></row>'
        '<row r="3"><c r="A3"' + text("a") + '<c r="B3" s="5"' + text("True") + '<c r="C3"' + text("nan")
        + '</row>'
        '<row r="4"><c r="C4"' + text("inf") + '</row>'
        '<row r="5"><c r="A5"><v>7</v></c><c r="B5" s="5"><v>1.234567890123457E+16</v></c>'
        '<c r="C5"><v>-2.5E-07</v></c></row>'
        '<row r="6"><c r="A6"' + text("a") + '<c r="B6" s="5"' + text("a") + '<c r="C6"' + text("['l']") + '</row>')


def test_rows_xml_numbers_rows_past_nine_and_columns_past_z():
    from xlperf.sheet_xml import rows_xml

    cols = [f"c{i}" for i in range(28)]
    rows = [{"c0": i, "c27": f"v{i % 2}"} for i in range(12)]
    xml = b"".join(rows_xml(cols, rows, {})).decode()
    assert xml.count("<row ") == 12 and '<row r="13"><c r="A13"><v>11</v></c><c r="AB13"' in xml
    assert xml.endswith('<c r="AB13" t="inlineStr"><is><t>v1</t></is></c></row>')


def test_rows_xml_yields_chunks_of_batch_rows():
    from xlperf.sheet_xml import rows_xml

    rows = [{"a": i} for i in range(5)]
    chunks = list(rows_xml(["a"], rows, {}, batch=2))
    assert [c.count(b"<row ") for c in chunks] == [2, 2, 1]
    assert b"".join(chunks) == b"".join(rows_xml(["a"], rows, {}))
    assert [c.count(b"<row ") for c in rows_xml(["a"], rows[:4], {}, batch=2)] == [2, 2]
    assert list(rows_xml(["a"], [], {})) == []
    assert "长".encode() in b"".join(rows_xml(["a"], [{"a": "长"}], {}))  # UTF-8


def test_lazy_rows_build_once_and_only_when_the_sample_cannot_answer():
    from xlperf.sheet_xml import LazyRows

    full = [{"a": i} for i in range(5)]
    builds = []

    def build():
        builds.append(1)
        return list(full)

    rows = LazyRows(5, full[:2], build)
    assert len(rows) == 5
    assert rows[:0] == [] and rows[:2] == full[:2] and rows[0:1] == full[:1] and builds == []
    assert rows[:3] == full[:3] and len(builds) == 1
    assert rows[1:2] == full[1:2] and rows[:-1] == full[:-1] and rows[::2] == full[::2] and rows[:] == full
    assert rows[4] == full[4] and list(rows) == full and rows.rows() == full and len(builds) == 1
    for key in (slice(1, 2), slice(None, -1), slice(None, 2, 1), slice(None, None), 0):
        fresh = LazyRows(5, full[:2], build)
        builds.clear()
        assert fresh[key] == full[key] and len(builds) == 1, key
    whole = LazyRows(2, full[:2], lambda: 1 / 0)  # the sample is every row: nothing to build for a prefix
    assert whole[:5] == full[:2] and whole[:2] == full[:2]


def test_sheet_ends_cover_the_rows_in_the_dimension():
    from xlperf.sheet_xml import _sheet_ends

    xml = b'<worksheet><dimension ref="A1:C2"/><sheetData><row r="1"/></sheetData><dimension ref="Z9"/></worksheet>'
    head, tail = _sheet_ends("s.xml", xml, ["a", "b", "c"], 10)
    assert head == b'<worksheet><dimension ref="A1:C11"/><sheetData><row r="1"/>'
    assert tail == b'</sheetData><dimension ref="Z9"/></worksheet>'
    head, _tail = _sheet_ends("s.xml", xml, ["a"], 0)
    assert head.startswith(b'<worksheet><dimension ref="A1:A1"/>')
    head, _tail = _sheet_ends("s.xml", xml, [], 3)
    assert head.startswith(b'<worksheet><dimension ref="A1:A4"/>')


def test_no_table_to_fill_copies_the_workbook_as_it_is(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xml", b"<a/>" * 100)
        zf.writestr("b/c.xml", b"<c/>")
    splice_rows(buf.getvalue(), tmp_path / "x.xlsx", {}, {})
    assert parts(tmp_path / "x.xlsx") == {"a.xml": b"<a/>" * 100, "b/c.xml": b"<c/>"}
    assert order(tmp_path / "x.xlsx") == ["a.xml", "b/c.xml"]


@pytest.mark.parametrize("forked", [True, False])
def test_the_sheet_entries_are_level_1_deflate_with_sizes_in_their_header(tmp_path, fork_small, monkeypatch, forked):
    from xlperf.zlib_fast import zlib  # the deflater the sheets are written with (isal where installed)

    if not forked:
        monkeypatch.setattr(sheet_xml, "FORK_MIN_CELLS", 10**12)
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert len(order(out)) == len(set(order(out)))  # each sheet once
    with zipfile.ZipFile(out) as zf:
        sheets = [zi for zi in zf.infolist() if zi.filename.startswith("xl/worksheets/sheet")]
        for zi in sheets[:3]:
            data = zf.read(zi)
            level1 = zlib.compressobj(1, zlib.DEFLATED, -15)
            assert zi.compress_type == zipfile.ZIP_DEFLATED and zi.flag_bits & 0x08 == 0, zi.filename
            assert zi.file_size == len(data), zi.filename
            assert zi.compress_size == len(level1.compress(data) + level1.flush()), zi.filename
            assert zi.external_attr == 0o600 << 16, zi.filename


def test_the_sheet_rows_count_exactly_in_each_dimension(tmp_path, fork_small):
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    xml = parts(out)
    assert b'<dimension ref="A1:C301"/>' in xml["xl/worksheets/sheet2.xml"]
    assert xml["xl/worksheets/sheet2.xml"].count(b"<row ") == 301
    assert b'<dimension ref="A1:B21"/>' in xml["xl/worksheets/sheet1.xml"]


@pytest.mark.parametrize(("threshold", "forked"), [(300 * 3, True), (300 * 3 + 1, False)])
def test_the_biggest_sheet_goes_to_a_child_from_the_threshold_on(tmp_path, fork_small, monkeypatch, threshold, forked):
    monkeypatch.setattr(sheet_xml, "FORK_MIN_CELLS", threshold)
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert (order(out)[-1] == "xl/worksheets/sheet2.xml") is forked
    assert len(sheet_rows(out, BIG)) == 301


@pytest.mark.parametrize("why", ["platform", "no fork"])
def test_no_fork_where_fork_is_not_cheap_or_not_there(tmp_path, fork_small, monkeypatch, why):
    if why == "platform":
        monkeypatch.setattr(sheet_xml.sys, "platform", "darwin")
    else:
        monkeypatch.delattr(os, "fork")
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert order(out).index("xl/worksheets/sheet2.xml") < order(out).index("xl/worksheets/sheet3.xml")
    assert parts(out) == serial_copy(tmp_path, monkeypatch)


def test_a_child_that_reports_nothing_costs_time_not_the_sheet(tmp_path, fork_small, monkeypatch):
    monkeypatch.setattr(os, "write", lambda fd, data: len(data))  # the child's report is lost, its exit is 0
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert parts(out) == serial_copy(tmp_path, monkeypatch)


def test_a_zipfile_without_the_expected_internals_gets_the_sheet_through_its_writer(tmp_path, fork_small, monkeypatch):
    import zlib  # zipfile deflates with the standard library's

    monkeypatch.setattr(sheet_xml, "_write_deflated", lambda *_args: False)
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    assert sorted(order(out)) == sorted(set(order(out)))  # each sheet once
    with zipfile.ZipFile(out) as zf:
        for zi in zf.infolist():
            if zi.filename.startswith("xl/worksheets/sheet") and zi.filename <= "xl/worksheets/sheet3.xml":
                level1 = zlib.compressobj(1, zlib.DEFLATED, -15)
                data = zf.read(zi)
                assert zi.compress_type == zipfile.ZIP_DEFLATED, zi.filename
                assert zi.compress_size == len(level1.compress(data) + level1.flush()), zi.filename
    assert parts(out) == serial_copy(tmp_path, monkeypatch)


def test_write_deflated_refuses_while_another_entry_is_open():
    import tempfile

    buf = io.BytesIO()
    with tempfile.TemporaryFile() as raw, zipfile.ZipFile(buf, "w") as zf:
        raw.write(b"\x03\x00")  # an empty raw deflate stream
        with zf.open("open.xml", "w") as fh:
            assert not sheet_xml._write_deflated(zf, zipfile.ZipInfo("b.xml"), raw, 0, 0)
            fh.write(b"<x/>")
        assert not sheet_xml._write_deflated(object(), zipfile.ZipInfo("b.xml"), raw, 0, 0)
    with zipfile.ZipFile(buf) as zf:
        assert zf.namelist() == ["open.xml"] and zf.read("open.xml") == b"<x/>"


@pytest.mark.parametrize("limit", ["size", "compressed", "between", "above"])
def test_write_deflated_marks_entries_past_the_zip64_limit(monkeypatch, limit):
    import struct
    import tempfile
    import zlib

    import random

    # stored bigger than it is (random bytes) for the limit at the compressed size, else XML
    data = random.Random(0).randbytes(5000) if limit == "compressed" else b"<row/>" * 2000
    packed = zlib.compressobj(1, zlib.DEFLATED, -15)
    raw_data = packed.compress(data) + packed.flush()
    # an entry "bigger than 4 GiB" without writing one
    at = {"size": len(data), "compressed": len(raw_data), "between": len(raw_data) + 1, "above": len(data) - 1}[limit]
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", at)
    buf = io.BytesIO()
    with tempfile.TemporaryFile() as raw:
        raw.write(raw_data)
        with zipfile.ZipFile(buf, "w") as zf:
            info = zipfile.ZipInfo("big.xml")
            info.external_attr = 0o644 << 16  # given permissions are kept
            assert sheet_xml._write_deflated(zf, info, raw, zlib.crc32(data), len(data))
            assert zf.getinfo("big.xml").file_size == len(data)
    with zipfile.ZipFile(buf) as zf:
        assert zf.read("big.xml") == data
        assert zf.getinfo("big.xml").external_attr == 0o644 << 16
    extra_len = struct.unpack_from("<H", buf.getvalue(), 28)[0]  # of the local header, at offset 0
    assert extra_len == (20 if limit in ("between", "above") else 0)  # a zip64 extra field only past the limit


def test_the_childs_sheet_is_used_and_the_child_is_reaped_not_killed(tmp_path, fork_small, monkeypatch):
    import zlib

    copied, results, killed, children = [], [], [], []
    real_copy, real_result = sheet_xml._copy_part, sheet_xml._ForkedPart.result

    def copy(src, out, zi, *args):
        copied.append(zi.filename)
        return real_copy(src, out, zi, *args)

    def result(self):
        children.append(self.pid)
        results.append(real_result(self))
        return results[-1]

    monkeypatch.setattr(sheet_xml, "_copy_part", copy)
    monkeypatch.setattr(sheet_xml._ForkedPart, "result", result)
    monkeypatch.setattr(os, "kill", lambda *args: killed.append(args))
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    sheet = parts(out)["xl/worksheets/sheet2.xml"]
    assert "xl/worksheets/sheet2.xml" not in copied and "xl/worksheets/sheet1.xml" in copied
    assert results == [(zlib.crc32(sheet), len(sheet))]  # the child's report, taken as it is
    assert killed == []  # a child that finished is reaped, never signalled
    assert len(children) == 1 and children[0] > 0
    with pytest.raises(ChildProcessError):  # and the child is not left behind (the test process may have others)
        os.waitpid(children[0], os.WNOHANG)


class _Prctl:
    def __init__(self, calls):
        self.calls = calls

    def __call__(self, _name):
        return self

    def prctl(self, *args):
        self.calls.append(args)
        return 0


class _Exited(BaseException):
    pass


def test_die_with_parent_asks_for_sigkill(monkeypatch):
    import ctypes
    import signal

    calls = []
    monkeypatch.setattr(ctypes, "CDLL", _Prctl(calls))
    monkeypatch.setattr(os, "_exit", lambda code: (_ for _ in ()).throw(_Exited(code)))
    sheet_xml._die_with_parent()  # the same parent before and after: the child goes on
    assert calls == [(1, int(signal.SIGKILL), 0, 0, 0)]  # PR_SET_PDEATHSIG, SIGKILL


def test_die_with_parent_stops_a_child_whose_parent_is_already_gone(monkeypatch):
    import ctypes

    parents = iter([100, 1])  # the parent changed between the look-up and prctl: it died meanwhile
    monkeypatch.setattr(os, "getppid", lambda: next(parents))
    monkeypatch.setattr(ctypes, "CDLL", _Prctl([]))
    monkeypatch.setattr(os, "_exit", lambda code: (_ for _ in ()).throw(_Exited(code)))
    with pytest.raises(_Exited) as exited:
        sheet_xml._die_with_parent()
    assert exited.value.args == (1,)


def test_die_with_parent_without_prctl_lets_the_child_go_on(monkeypatch):
    import ctypes

    def no_libc(_name):
        raise OSError("no libc")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    monkeypatch.setattr(os, "_exit", lambda code: (_ for _ in ()).throw(_Exited(code)))
    sheet_xml._die_with_parent()  # returns: nothing raised, no exit


def test_the_child_dies_with_its_parent():
    import ctypes
    import signal

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: asks the kernel what it set
        try:
            sheet_xml._die_with_parent()
            value = ctypes.c_int(-1)
            ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
            os.write(write_end, str(value.value).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        got = pipe.read()
    os.waitpid(pid, 0)
    assert got == str(int(signal.SIGKILL)).encode()


def test_the_fallback_writer_marks_a_sheet_past_the_zip64_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sheet_xml, "_write_deflated", lambda *_args: False)
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 20_000)  # a sheet "bigger than 4 GiB" without writing one
    out = tmp_path / "m.xlsx"
    write_xlsx(out, tables())
    with zipfile.ZipFile(out) as zf:
        assert zf.getinfo("xl/worksheets/sheet2.xml").file_size > 20_000
    assert len(sheet_rows(out, BIG)) == 301
