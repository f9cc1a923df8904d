"""The fast paths of reading and validating give what the plain paths give.

- ``safety.read_checked`` judges a file exactly as ``precheck`` does, and hands over the very bytes
  it checked plus the zip parts it inflated; the reader parses those without opening the file again.
- ``workers.read_isolated`` reports each result once to ``on_result`` (isolated or not), in its slot.
- ``rules.validate_results`` with ``prepare``d returns (what ``pipeline.run`` does while files are
  still being read) files the same issues, in the same order, as without.
"""
from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

import pytest

from xlperf.reader import discover, parse_workbook, read_file
from xlperf.registry import load_registry
from xlperf.rules import Options, prepare, validate_results
from xlperf.safety import Limits, precheck, read_checked
from xlperf.workers import read_isolated

try:
    from hostile import build_corpus
except ImportError:  # pragma: no cover - importlib mode / running from the repo root
    from tests.hostile import build_corpus


@pytest.fixture(scope="module")
def returns(demo_dir) -> list[Path]:
    files, _skipped = discover([demo_dir / "returns"])
    assert len(files) >= 15
    return files


def test_read_checked_agrees_with_precheck(tmp_path):
    for case in build_corpus(tmp_path / "hostile"):
        limits = case.limits or Limits()
        parts: dict = {}
        rej, data, _st = read_checked(case.path, limits, parts)
        assert rej == precheck(case.path, limits), case.name
        if rej is None:
            assert data == Path(case.path).read_bytes()
        else:
            assert data is None and not parts


def test_parts_are_the_inflated_entries(returns):
    raw = returns[0].read_bytes()
    parts: dict = {}
    rej, data, st = read_checked(returns[0], Limits(), parts)
    assert rej is None and data == raw and st.st_size == len(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert parts and all(zf.read(name) == body for name, body in parts.items())
        assert "xl/workbook.xml" in parts


def test_parsing_the_checked_bytes_is_parsing_the_file(returns):
    for f in returns:
        parts: dict = {}
        _rej, raw, _st = read_checked(f, Limits(), parts)
        a = parse_workbook(f, raw=raw, parts=parts)
        b = parse_workbook(f)
        assert (a.issues, a.data, a.kind, a.sha256) == (b.issues, b.data, b.kind, b.sha256), f.name
        assert read_file(f).data == b.data


@pytest.mark.parametrize("isolate,jobs", [(True, 1), (True, 2), (False, 1)])
def test_on_result_sees_every_result_once(returns, isolate, jobs):
    seen: dict = {}

    def on_result(i, res):
        assert i not in seen
        seen[i] = res

    out = read_isolated(returns, jobs=jobs, isolate=isolate, on_result=on_result)
    assert sorted(seen) == list(range(len(returns)))
    assert all(seen[i] is res for i, res in enumerate(out))
    assert [r.path for r in out] == [str(f) for f in returns]


@pytest.mark.parametrize("opts", [Options(), Options(strict=True, reject_yesno=True, duplicates="latest")])
def test_prepared_validation_is_the_same(returns, demo_dir, opts):
    reg = load_registry(demo_dir / "registry.csv")
    read = read_isolated(returns + returns[:2], isolate=False)  # two duplicates: the cross-return rule too
    plain, fast = copy.deepcopy(read), copy.deepcopy(read)
    validate_results(plain, reg, opts)
    prepared = [prepare(r, reg, opts) for r in fast]
    prepared[3] = None  # a return not prepared in time is done in validate_results
    validate_results(fast, reg, opts, prepared)
    assert [(r.status, r.issues) for r in fast] == [(r.status, r.issues) for r in plain]
    assert any(r.issues for r in plain)


def test_plan_cell_typed_as_percent_is_read_as_its_percentage(demo_dir, registry_path, tmp_path):
    """A unit types 25% in the 3月底 cell (stored as 0.25 with a % format) and plain numbers elsewhere:
    the reader passes the cell's format, so the plan is 25/50/75/100, accepted, and the master says so."""
    import openpyxl

    from xlperf.master import project_rows
    from xlperf.pipeline import run

    src = sorted((demo_dir / "returns").glob("130304211*.xlsx"))[0]
    wb = openpyxl.load_workbook(src)
    ws = wb["项目绩效目标表"]
    ws["B7"] = 0.25
    ws["B7"].number_format = "0%"
    target = tmp_path / src.name
    wb.save(target)
    registry = load_registry(registry_path)
    report = run([target], registry, Options())
    [res] = report.files
    assert res.status == "accepted", [i.code for i in res.issues]
    assert not any(i.code in ("E104", "E105", "E133") for i in res.issues)
    [row] = project_rows(report)
    assert (row["3月底"], row["6月底"], row["12月底"]) == (0.25, 0.5, 1.0)
