"""Fuzzing the reader with mutated real workbooks: read_file never raises, and always explains itself.

The inputs are a real generated template and a real filled return (xlperf.writer.generate +
xlperf.fill), mutated at three levels: raw bytes (flips, truncation, deleted spans), one XML part
(flips, spans, inserted tokens, replaced attribute values; re-zipped with valid CRCs so the parser
really reads it) and the zip structure (parts dropped, renamed, duplicated, swapped, replaced by
noise, sheet names shuffled).

Each example is read by ``read_file`` in a long-lived forked child with the worker's memory limit
(restarted if it dies): a Python exception is reported back and fails the test (and hypothesis
shrinks it), so does a read taking over 30 s; a native crash (calamine can abort on crafted files)
is not a raise, so for such a file the test checks instead that ``read_isolated`` turns it into
F017 for that file alone.
"""
from __future__ import annotations

import io
import multiprocessing
import re
import resource
import tempfile
import traceback
import warnings
import zipfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlperf.messages import ISSUES
from xlperf.model import FileResult, Issue
from xlperf.reader import read_file

SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CHILD_MEM = 1024 * 2**20
HANG_S = 30
_TMP = Path(tempfile.mkdtemp(prefix="xlperf-fuzz-"))
CRASHES: list[str] = []
OUTCOMES: Counter = Counter()  # first issue code (or 'read') per example, printed at the end


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    if child_reader.cache_info().currsize:
        child_reader().close()
    print(f"\nfuzz outcomes: {sum(OUTCOMES.values())} examples, native crashes contained: {len(CRASHES)}; "
          + ", ".join(f"{k} {v}" for k, v in OUTCOMES.most_common()))


@lru_cache(maxsize=None)
def bases() -> dict[str, bytes]:
    from xlperf.fill import fill_project, load_projects
    from xlperf.registry import bundled_registry_path, load_registry
    from xlperf.spec import load_spec
    from xlperf.writer import generate

    spec, reg = load_spec(), load_registry(bundled_registry_path())
    [tpl] = generate(spec, reg.rows[:1], _TMP / "tpl", password="pw")
    filled = _TMP / "filled.xlsx"
    fill_project(tpl, filled, load_projects()[reg.rows[0]["项目编码"]], spec)
    return {"template": tpl.read_bytes(), "filled": filled.read_bytes()}


@lru_cache(maxsize=None)
def parts(base: str) -> tuple[tuple[zipfile.ZipInfo, bytes], ...]:
    with zipfile.ZipFile(io.BytesIO(bases()[base])) as zf:
        return tuple((zi, zf.read(zi)) for zi in zf.infolist())


def rezip(items: list[tuple[str, bytes]], stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are one of the mutations
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
            for name, data in items:
                zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


# --------------------------------------------------------------------------- reading one example


def _serve(conn) -> None:
    """The reading child: limited like a worker, reads one path per request until told to stop.

    Forked from pytest, it inherits pytest's address space (pandas and all), so its limit is that
    plus the worker's default budget.
    """
    with open("/proc/self/statm") as fh:
        vsz = int(fh.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (vsz + CHILD_MEM, resource.getrlimit(resource.RLIMIT_AS)[1]))
    while True:
        path = conn.recv()
        if path is None:
            return
        try:
            out = ("ok", read_file(path))
        except BaseException as exc:  # noqa: BLE001 - report anything, the parent decides
            out = ("raised", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        conn.send(out)


class ChildReader:
    """read_file in one long-lived forked child (a fork per example would cost more than the read)."""

    def __init__(self):
        self.ctx = multiprocessing.get_context("fork")
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        child.close()

    def read(self, path: Path) -> tuple:
        """('ok', FileResult) | ('raised', text) | ('died', exit code) | ('hung', seconds)."""
        self.conn.send(str(path))
        if not self.conn.poll(HANG_S):
            self.proc.kill()
            self.proc.join()
            self._start()
            return ("hung", HANG_S)
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.proc.join()
            code = self.proc.exitcode
            self._start()
            return ("died", code)

    def close(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(5)
        if self.proc.exitcode is None:
            self.proc.kill()
            self.proc.join()


@lru_cache(maxsize=None)
def child_reader() -> ChildReader:
    return ChildReader()


def check(data: bytes) -> None:
    path = _TMP / "fuzz.xlsx"
    path.write_bytes(data)
    outcome = child_reader().read(path)
    if outcome[0] == "raised":
        raise AssertionError(f"read_file raised:\n{outcome[1]}")
    if outcome[0] == "hung":
        raise AssertionError(f"read_file did not finish within {HANG_S} s")
    if outcome[0] == "died":  # a native crash: the worker pool must contain it to this one file
        from xlperf.workers import read_isolated

        keep = _TMP / f"crash{len(CRASHES)}.xlsx"
        keep.write_bytes(data)
        CRASHES.append(str(keep))
        [res] = read_isolated([keep], timeout_s=20)
        assert [i.code for i in res.issues] == ["F017"] and res.status == "rejected", res.issues
        OUTCOMES["crash→F017"] += 1
        return
    res = outcome[1]
    assert isinstance(res, FileResult) and res.path == str(path)
    assert all(isinstance(i, Issue) and i.code in ISSUES for i in res.issues), res.issues
    for i in res.issues:
        assert i.message("zh") and i.message("en")
    res.settle()
    assert res.status in ("accepted", "rejected", "skipped")
    OUTCOMES[res.errors[0].code if res.errors else "read"] += 1
    if res.data is None:  # nothing read: there must be a reason, and the file cannot pass
        assert res.issues and res.status != "accepted", res.issues


# --------------------------------------------------------------------------- strategies

BASE = st.sampled_from(["filled", "template"])
TOKENS = [b'<row r="5">', b"</row>", b'<c r="B3" t="s"><v>999</v></c>', b'<c r="A1" t="e"><v>#DIV/0!</v></c>',
          b'<c r="C2" t="b"><v>2</v></c>', b'<c r="D4"><v>1e308</v></c>', b'<c r="E5" t="d"><v>not a date</v></c>',
          b'<c r="E7"><f>SUM(A1:A2)</f><v>1</v></c>', b'<c r="CV9000"><v>1</v></c>', b'<mergeCell ref="A1:F999"/>',
          b'<mergeCell ref="Z9:A1"/>', b'<dimension ref="A1:F40"/>', b'<sheet name="x" sheetId="9" r:id="rId99"/>',
          b"&amp;", b"&#0;", b"&#xD800;", b"<![CDATA[x]]>", b"\x00", b"\xff\xfe", "项目绩效目标表".encode(),
          b'<?xml version="1.0"?>', b'<x:y xmlns:x="urn:z"/>', b"<is><t>", b"</t></is>", b"<si><t>a</t></si>",
          b'<c r="A1" t="inlineStr"><is><t>' + b"x" * 40000 + b"</t></is></c>"]
VALUES = [b"A1:XFD10", b"-1", b"99999999999", b"", b"s", b"e", b"str", b"inlineStr", b"b", b"n", b"d", b"rId1",
          b"rId7", b"Sheet1", "项目绩效目标表".encode(), b"_xlperf_meta", b"1048577", b"ZZZZ1", b"A0", b"F36:A1",
          b"veryHidden", b"worksheets/sheet9.xml", b"/xl/worksheets/sheet1.xml", b"0", b"1.5", b"NaN"]


@st.composite
def byte_mutants(draw) -> bytes:
    data = bytearray(bases()[draw(BASE)])
    op = draw(st.sampled_from(["flip", "truncate", "delete", "flip_tail"]))
    n = len(data)
    if op == "flip":
        for _ in range(draw(st.integers(1, 24))):
            data[draw(st.integers(0, n - 1))] ^= draw(st.integers(1, 255))
    elif op == "flip_tail":  # the central directory lives at the end
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(max(0, n - 1500), n - 1))] ^= draw(st.integers(1, 255))
    elif op == "truncate":
        del data[draw(st.integers(0, n - 1)):]
    else:
        i = draw(st.integers(0, n - 1))
        del data[i:i + draw(st.integers(1, 4096))]
    return bytes(data)


@st.composite
def xml_mutants(draw) -> bytes:
    base = draw(BASE)
    items = [(zi.filename, data) for zi, data in parts(base)]
    k = draw(st.integers(0, len(items) - 1))
    if draw(st.booleans()):  # the form sheet and workbook.xml matter most: pick them half of the time
        want = draw(st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                     "xl/styles.xml", "xl/worksheets/sheet4.xml"]))
        k = next((i for i, (n, _d) in enumerate(items) if n == want), k)
    name, x = items[k]
    x = bytearray(x)
    for _ in range(draw(st.integers(1, 4))):
        n = max(1, len(x))
        op = draw(st.sampled_from(["flip", "delete", "duplicate", "insert", "value", "truncate"]))
        i = draw(st.integers(0, n - 1))
        if op == "flip" and x:
            x[i] ^= draw(st.integers(1, 255))
        elif op == "delete":
            del x[i:i + draw(st.integers(1, 200))]
        elif op == "duplicate":
            x[i:i] = x[i:i + draw(st.integers(1, 200))]
        elif op == "insert":
            x[i:i] = draw(st.sampled_from(TOKENS))
        elif op == "truncate":
            del x[i:]
        else:  # replace the value of one attribute: types, references, ids, names
            spans = [m.span(1) for m in re.finditer(rb'="([^"]*)"', bytes(x))]
            if spans:
                a, b = spans[draw(st.integers(0, len(spans) - 1))]
                x[a:b] = draw(st.sampled_from(VALUES))
    items[k] = (name, bytes(x))
    return rezip(items)


@st.composite
def zip_mutants(draw) -> bytes:
    items = [(zi.filename, data) for zi, data in parts(draw(BASE))]
    op = draw(st.sampled_from(["drop", "rename", "duplicate", "swap", "noise", "shuffle_names", "stored", "empty"]))
    k = draw(st.integers(0, len(items) - 1))
    name, data = items[k]
    if op == "drop":
        del items[k]
    elif op == "rename":
        items[k] = (draw(st.sampled_from(["xl/worksheets/sheet9.xml", "XL/WORKBOOK.XML", "xl/workbook.xml.bak",
                                          "xl/sharedStrings.xml", "xl/styles.xml", "../evil.xml", "/abs.xml"])), data)
    elif op == "duplicate":
        items.insert(draw(st.integers(0, len(items))), (draw(st.sampled_from(
            ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet5.xml", "docProps/extra.xml"])), data))
    elif op == "swap":
        j = draw(st.integers(0, len(items) - 1))
        items[k], items[j] = (name, items[j][1]), (items[j][0], data)
    elif op == "noise":
        items[k] = (name, draw(st.binary(min_size=0, max_size=2048)))
    elif op == "empty":
        items[k] = (name, b"")
    elif op == "shuffle_names":  # sheet names permuted in workbook.xml: the form is now another sheet
        wb_i = next(i for i, (n, _d) in enumerate(items) if n == "xl/workbook.xml")
        wb = items[wb_i][1]
        names = re.findall(rb'<sheet [^>]*?name="([^"]*)"', wb)
        order = draw(st.permutations(names))
        it = iter(order)
        wb = re.sub(rb'(<sheet [^>]*?name=")([^"]*)(")', lambda m: m.group(1) + next(it) + m.group(3), wb)
        items[wb_i] = ("xl/workbook.xml", wb)
    return rezip(items, stored=(op == "stored"))


# --------------------------------------------------------------------------- the properties


def test_the_unmutated_bases_read_cleanly():
    for data in bases().values():
        check(data)


@settings(max_examples=500, **SETTINGS)
@given(byte_mutants())
def test_byte_mutations(data):
    check(data)


@settings(max_examples=900, **SETTINGS)
@given(xml_mutants())
def test_xml_part_mutations(data):
    check(data)


@settings(max_examples=500, **SETTINGS)
@given(zip_mutants())
def test_zip_structure_mutations(data):
    check(data)
