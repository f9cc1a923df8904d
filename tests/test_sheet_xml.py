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
