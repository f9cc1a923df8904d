"""Every broken return is rejected with the expected code at the expected cell; the demo's returns pass.

The corpus (tests/broken.py) is built once per module: real templates, filled with seed content,
one problem each. It is validated through the library (default and --strict options) and once
through the CLI as a subprocess; the demo's 15 returns are validated with the default options,
--strict and --reject-yesno.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from broken import SPEC, build_broken, case_names, icell, registry_path, returns_dir  # noqa: E402
from xlperf.demo import fill_all  # noqa: E402
from xlperf.fill import load_projects  # noqa: E402
from xlperf.pipeline import run  # noqa: E402
from xlperf.registry import bundled_registry_path, load_registry  # noqa: E402
from xlperf.rules import Options  # noqa: E402
from xlperf.writer import generate  # noqa: E402

NAMES = case_names()
DEMO_GOALS_DUP = "电子政务内网建设维护经费"


# ------------------------------------------------------------------ fixtures ----
@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("broken")
    cases = build_broken(out)
    return out, {c.name: c for c in cases}


@pytest.fixture(scope="module")
def corpus_registry(corpus):
    return load_registry(registry_path(corpus[0]))


def _by_name(report) -> dict:
    return {Path(f.path).name: f for f in report.files}


@pytest.fixture(scope="module")
def default_report(corpus, corpus_registry):
    return _by_name(run([returns_dir(corpus[0])], corpus_registry, Options()))


@pytest.fixture(scope="module")
def strict_report(corpus, corpus_registry):
    return _by_name(run([returns_dir(corpus[0])], corpus_registry, Options(strict=True)))


def _cli() -> list[str]:
    """`python -m xlperf.cli` when it runs, else the console script beside the interpreter."""
    probe = subprocess.run([sys.executable, "-m", "xlperf.cli", "--help"], capture_output=True, text=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "xlperf.cli"]
    return [str(Path(sys.executable).with_name("xlperf"))]


@pytest.fixture(scope="module")
def cli_run(corpus):
    out, _cases = corpus
    js = out / "report.json"
    proc = subprocess.run([*_cli(), "validate", str(returns_dir(out)), "--registry", str(registry_path(out)),
                           "--json", str(js)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "XLPERF_LANG": "zh"})
    return proc, json.loads(js.read_text(encoding="utf-8")) if js.exists() else None


@pytest.fixture(scope="module")
def demo_returns(tmp_path_factory):
    """The demo round's 15 filled returns, made through the library like `xlperf demo` does."""
    from xlperf.spec import load_spec

    out = tmp_path_factory.mktemp("demo")
    spec = load_spec()
    registry = load_registry(bundled_registry_path())
    templates = generate(spec, registry.rows, out / "templates", password="demo-pw")
    fill_all(spec, templates, out / "returns", load_projects(), registry)
    return out / "returns", registry


# ------------------------------------------------------------------ the corpus ----
def _hit(res, case):
    return [i for i in res.issues if i.code == case.code and i.sheet == case.sheet and i.cell == case.cell]


def test_corpus_covers_every_content_code(corpus):
    _out, cases = corpus
    assert len(cases) >= 40
    assert list(cases) == NAMES
    codes = {c.code for c in cases.values()}
    wanted = {f"E{n:03d}" for n in range(1, 9)} | {f"E{n}" for n in range(101, 119)} | {f"W{n}" for n in range(201, 208)}
    assert wanted <= codes, sorted(wanted - codes)
    files = [p for p in returns_dir(_out).rglob("*") if p.is_file()]
    assert sorted(files) == sorted(c.path for c in cases.values())


@pytest.mark.parametrize("name", NAMES)
def test_case_default_options(name, corpus, default_report):
    case = corpus[1][name]
    res = default_report[case.path.name]
    got = [(i.code, i.sheet, i.cell) for i in res.issues]
    assert res.status == case.status, got
    if case.code:
        assert _hit(res, case), (case.code, case.sheet, case.cell, got)
    else:
        assert res.issues == [], got
    assert not {i.code for i in res.issues} & set(case.absent), got
    for text in case.mentions:
        assert any(text in i.message() for i in _hit(res, case)), [i.message() for i in res.issues]


@pytest.mark.parametrize("name", NAMES)
def test_case_strict(name, corpus, strict_report):
    case = corpus[1][name]
    res = strict_report[case.path.name]
    expected = "rejected" if case.strict else case.status
    assert res.status == expected, [(i.code, i.sheet, i.cell) for i in res.issues]
    if case.code:
        assert _hit(res, case)


def test_messages_name_what_is_wrong(corpus, default_report):
    cases = corpus[1]
    msg = {n: [i.message() for i in default_report[cases[n].path.name].issues if i.code == cases[n].code]
           for n in cases}
    assert any("资金用途" in m for m in msg["e101_资金用途"])
    assert any("150" in m for m in msg["e104_over_100"])
    assert any("≥**%" in m for m in msg["e110_stars"])
    assert any("101" in m for m in msg["e113_三级指标_101"])
    assert any("=1/0" in m for m in msg["e116_div_zero"])
    assert any("也许" in m for m in msg["e117_涉密_maybe"])
    assert any("TYPO" in m for m in msg["e102_项目编码"])
    for code, text in (("E001", SPEC.sheet), ("E004", SPEC.sheet)):
        case = next(c for c in cases.values() if c.code == code)
        res = default_report[case.path.name]
        assert any(text in i.message() and text in i.message("en") for i in res.issues if i.code == code)


def test_cli_over_the_corpus(corpus, cli_run):
    out, cases = corpus
    proc, report = cli_run
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert report is not None
    n = sum(1 for p in returns_dir(out).rglob("*") if p.is_file())
    s = report["summary"]
    assert s["files"] == n == len(report["files"]) == len(cases)
    assert s["accepted"] + s["rejected"] + s["skipped"] == n
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    for case in cases.values():
        f = by_name[case.path.name]
        assert f["status"] == case.status, (case.name, f)
        if case.code:
            assert any(i["code"] == case.code and i["sheet"] == case.sheet and i["cell"] == case.cell
                       for i in f["issues"]), (case.name, f["issues"])
        assert all(i["message"] for i in f["issues"])


# ------------------------------------------------------------------ the demo returns ----
def _expected_cells(projects: dict, test) -> set:
    """(project code, cell) of every seed indicator for which `test(indicator)` holds."""
    out = []
    for code, p in projects.items():
        seen = Counter()
        for ind in p["indicators"]:
            slot = seen[ind["二级指标"]]
            seen[ind["二级指标"]] += 1
            if test(ind):
                out.append((code, ind, slot))
    return out


def _cells(projects, test, column):
    return {(code, icell(ind["二级指标"], slot, column)) for code, ind, slot in _expected_cells(projects, test)}


def _issues(report, code):
    return {(f.project_code, i.cell) for f in report.files for i in f.issues if i.code == code}


def test_demo_returns_are_accepted_with_the_seed_warnings(demo_returns):
    folder, registry = demo_returns
    report = run([folder], registry, Options())
    assert len(report.files) == 15
    assert [f.status for f in report.files] == ["accepted"] * 15, [(f.path, f.errors) for f in report.files]
    projects = load_projects()
    yesno = _issues(report, "W201")
    assert len(yesno) == 35 == sum(1 for f in report.files for i in f.issues if i.code == "W201")
    assert yesno == _cells(projects, lambda i: i["指标值"] == "是否", "指标值")
    goals = [(f, i) for f in report.files for i in f.issues if i.code == "W202"]
    dup = [(f, i) for f, i in goals if DEMO_GOALS_DUP in f.path]
    assert len(dup) == 1 and dup[0][1].cell == "B8" and dup[0][1].sheet == SPEC.sheet
    assert "电子公文系统正常运转" in dup[0][1].message()
    same = _cells(projects, lambda i: i["三级指标"] == i["绩效指标描述"] != "涉密", "绩效指标描述")
    assert same and _issues(report, "W203") == same


def test_demo_strict_and_reject_yesno(demo_returns):
    folder, registry = demo_returns
    base = run([folder], registry, Options())
    warned = {f.path for f in base.files if f.warnings}
    assert warned and len(warned) < 15
    strict = run([folder], registry, Options(strict=True))
    assert {f.path for f in strict.files if f.status == "rejected"} == warned
    assert all(f.status == "accepted" for f in strict.files if f.path not in warned)
    yn = run([folder], registry, Options(reject_yesno=True))
    assert _issues(yn, "W201") == set()
    assert _issues(yn, "E120") == _issues(base, "W201")
    with_yesno = {f.path for f in base.files if any(i.code == "W201" for i in f.issues)}
    assert {f.path for f in yn.files if f.status == "rejected"} == with_yesno
    assert all(i.code == "E120" for f in yn.files for i in f.errors)
