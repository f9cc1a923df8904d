"""Hostile and messy returns: every file accounted for, nothing lost, nothing trusted.

One folder holds the file-level corpus (tests/hostile.py, 40 cases made from a real generated
template) and the content-level corpus (tests/hostile_content.py, made from a real filled return);
``xlperf validate`` runs over it once as a subprocess and the tests below read that run.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import xlperf_cmd
from hostile import build_corpus
from hostile_content import CONTENT_CELL, build_content_corpus
from xlperf.model import FileResult
from xlperf.safety import Limits
from xlperf.workers import read_isolated

GiB = 2**30
CJK = re.compile(r"[\u4e00-\u9fff]")

# In a folder run (default limits, real template) some file-level cases read differently from a
# precheck() call: the clean controls are unfilled templates (rejected for empty required cells),
# 'oversize' is padded past the default 20 MiB here, and 'directory' is a folder, walked into.
FOLDER_OVERRIDES = {
    "clean": ("E101", "rejected"),
    "clean_with_svg_image": ("E101", "rejected"),
    "oversize": ("F004", "rejected"),
}
NOT_A_FILE = {"directory"}


def _fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every file under *root*; a symlink is fingerprinted by its target, never followed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                out[str(p)] = "link:" + os.readlink(p)
            elif p.is_file():
                h = hashlib.sha256()
                with open(p, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                out[str(p)] = h.hexdigest()
            else:
                out[str(p)] = "dir"
    return out


def _walk_files(root: Path) -> list[str]:
    """Every non-directory entry (files, lock files, broken links), spelled like discover() spells them."""
    out = []
    for dirpath, _dirnames, filenames in os.walk(root):
        out += [str(Path(dirpath) / n) for n in filenames]
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "收件箱"
    work = tmp_path_factory.mktemp("hostile_work")
    content = build_content_corpus(root / "内容级", work_dir=work)
    file_cases = build_corpus(root / "文件级", template=content.blank_template)
    expected: dict[str, tuple[str, str | None, str]] = {}  # path -> (case, code, status)
    for c in file_cases:
        if c.name in NOT_A_FILE:
            continue
        code, status = FOLDER_OVERRIDES.get(c.name, (c.expected_code, c.expected_status))
        expected[str(c.path)] = (c.name, code, status)
    oversize = next(c.path for c in file_cases if c.name == "oversize")
    with open(oversize, "ab") as fh:  # a real workbook with 21 MiB of trailing junk
        fh.write(b"\0" * (Limits().max_file_bytes + 2**20))
    for c in content.cases:
        expected[str(c.path)] = (c.name, c.expected_code, c.expected_status)
    return root, expected


def test_folder_run_exits_1_without_traceback_fast_and_small(run):
    stats, stdout, stderr, *_ = run
    assert stats["rc"] == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert "stack backtrace" not in stdout + stderr and "panicked" not in stdout + stderr
    print(f"\nvalidate over the hostile folder: {stats['wall']:.2f} s wall, {stats['cpu']:.2f} s CPU, "
          f"peak RSS {stats['maxrss_kb'] / 1024:.0f} MiB")
    assert stats["wall"] < 30
    assert stats["maxrss_kb"] * 1024 < GiB


@pytest.fixture(scope="module")
def run(corpus, registry_path, tmp_path_factory):
    """One `xlperf validate` run over the whole folder, measured by a wrapper process."""
    root, expected = corpus
    out = tmp_path_factory.mktemp("hostile_out")
    before = _fingerprint(root)
    report = out / "report.json"
    cmd = [*xlperf_cmd(), "validate", str(root), "--registry", str(registry_path), "--json", str(report)]
    # The wrapper's RUSAGE_CHILDREN covers exactly this CLI run: the CLI, its fork server and every
    # worker (the fork server is stopped and reaped at exit, so the workers count too).
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]\n"
        "t = time.perf_counter()\n"
        "with open(out, 'wb') as o, open(err, 'wb') as e:\n"
        "    p = subprocess.run(cmd, stdout=o, stderr=e)\n"
        "wall = time.perf_counter() - t\n"
        "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': p.returncode, 'wall': wall, 'maxrss_kb': ru.ru_maxrss,"
        " 'cpu': ru.ru_utime + ru.ru_stime}))\n"
    )
    out_txt, err_txt = out / "stdout.txt", out / "stderr.txt"
    proc = subprocess.run([sys.executable, "-c", wrapper, str(out_txt), str(err_txt), *cmd], capture_output=True,
                          text=True, env={**os.environ, "XLPERF_LANG": "zh"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    data = json.loads(report.read_text(encoding="utf-8"))
    return (stats, out_txt.read_text(encoding="utf-8"), err_txt.read_text(encoding="utf-8"), data, before,
            root, expected)


def test_every_file_is_accounted_for_exactly_once(run):
    _stats, _out, _err, data, _before, root, expected = run
    files = data["files"]
    s = data["summary"]
    assert s["accepted"] + s["rejected"] + s["skipped"] == s["files"] == len(files)
    on_disk = _walk_files(root)
    assert Counter(f["path"] for f in files) == Counter(on_disk)  # each path exactly once, nothing extra
    assert set(expected) == set(on_disk)  # and the test knows what every one of them is
    names = {Path(p).name for p in on_disk}
    assert {"broken_link.xlsx", "已删除的报表.xlsx", "~$returns.xlsx", ".~lock.returns.xlsx#"} <= names
    assert any(len(n.encode("utf-8")) >= 240 for n in names)


def test_every_case_gets_its_status_and_code(run):
    _stats, _out, _err, data, _before, _root, expected = run
    by_path = {f["path"]: f for f in data["files"]}
    wrong = []
    for path, (case, code, status) in expected.items():
        f = by_path[path]
        codes = [i["code"] for i in f["issues"]]
        if f["status"] != status or (code is not None and code not in codes):
            wrong.append((case, status, code, f["status"], codes[:4]))
    assert not wrong, wrong


def test_messages_are_chinese_and_point_at_file_and_cell(run):
    _stats, stdout, _err, data, _before, _root, expected = run
    by_path = {f["path"]: f for f in data["files"]}
    for path, (case, code, status) in expected.items():
        f = by_path[path]
        if status == "accepted":
            continue
        main = next(i for i in f["issues"] if i["severity"] in ("error", "skip"))
        assert CJK.search(main["message"]), (case, main)
        assert len(main["message"]) < 400, (case, len(main["message"]))  # nothing huge echoed back
        if case in CONTENT_CELL:
            sheet, cell = CONTENT_CELL[case]
            hit = [i for i in f["issues"] if i["code"] == code]
            assert hit and (hit[0]["sheet"], hit[0]["cell"]) == (sheet, cell), (case, hit)
    given_up = [f for f in data["files"] if any(i["code"] == "F017" for i in f["issues"])]
    assert [Path(f["path"]).name for f in given_up] == ["远处单元格_无范围.xlsx"]
    msg = next(i["message"] for i in given_up[0]["issues"] if i["code"] == "F017")
    assert "远处单元格_无范围.xlsx" in msg and "SIGABRT" in msg
    dup = next(f for f in data["files"] if Path(f["path"]).name.startswith("副本_"))
    kept = next(p for p, (case, *_r) in expected.items() if case == "valid")
    assert any(i["code"] == "W207" and kept in i["message"] for i in dup["issues"])
    assert "共 " in stdout and "退回" in stdout  # the console summary


def test_inputs_are_never_modified(run):
    _stats, _out, _err, _data, before, root, _expected = run
    assert _fingerprint(root) == before


# --------------------------------------------------------------------------- outputs are atomic


@pytest.fixture(scope="module")
def small_report(registry_path, tmp_path_factory):
    from xlperf.fill import fill_project, load_projects
    from xlperf.pipeline import run as run_pipeline
    from xlperf.registry import load_registry
    from xlperf.rules import Options
    from xlperf.spec import load_spec
    from xlperf.writer import generate

    d = tmp_path_factory.mktemp("atomic")
    spec, reg = load_spec(), load_registry(registry_path)
    [tpl] = generate(spec, reg.rows[:1], d / "tpl", password="pw")
    fill_project(tpl, d / "in" / tpl.name, load_projects()[reg.rows[0]["项目编码"]], spec)
    return run_pipeline([d / "in"], reg, Options(duplicates="latest")), reg


def _assert_failed_write_leaves_master(tmp_path, small_report, monkeypatch, sabotage) -> None:
    from xlperf import master

    report, reg = small_report
    out = tmp_path / "master.xlsx"
    master.write_master(out, report, reg)
    previous = out.read_bytes()
    sabotage(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        master.write_master(out, report, reg)
    assert out.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]  # no temp file left


def test_master_survives_a_failure_after_sheets_were_written(tmp_path, small_report, monkeypatch):
    from xlperf import master

    def sabotage(mp):
        def chart(*a, **k):  # the last step of write_xlsx, after every sheet has been filled
            raise OSError("disk full")

        mp.setattr(master, "_chart", chart)

    _assert_failed_write_leaves_master(tmp_path, small_report, monkeypatch, sabotage)


def test_master_survives_a_failure_halfway_through_the_zip(tmp_path, small_report, monkeypatch):
    import zipfile

    def sabotage(mp):
        calls = {"n": 0}

        def failing(real):
            def step(self, *a, **k):  # parts go into the temp master one by one; the 4th one fails
                name = Path(str(getattr(self, "filename", "") or ""))
                if name.parent == tmp_path and name.name.startswith(".master.xlsx"):
                    calls["n"] += 1
                    if calls["n"] == 4:
                        assert name.stat().st_size > 0  # the temp master is on disk, partly written
                        raise OSError("disk full")
                return real(self, *a, **k)
            return step

        mp.setattr(zipfile.ZipFile, "writestr", failing(zipfile.ZipFile.writestr))
        mp.setattr(zipfile.ZipFile, "write", failing(zipfile.ZipFile.write))

    _assert_failed_write_leaves_master(tmp_path, small_report, monkeypatch, sabotage)


# --------------------------------------------------------------------------- worker isolation


@pytest.fixture(scope="module")
def good_return(corpus):
    _root, expected = corpus
    return Path(next(p for p, (case, *_r) in expected.items() if case == "valid"))


def _copies(d: Path, good: Path, names: list[str]) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for n in names:
        p = d / n
        shutil.copyfile(good, p)
        out.append(p)
    return out


@pytest.mark.parametrize("jobs", [1, 2])
def test_only_the_culprit_is_given_up(tmp_path, good_return, jobs):
    import hostile_content

    names = [f"ok{i:02d}.xlsx" for i in range(12)]
    names[2], names[7], names[9] = "crash.xlsx", "hang.xlsx", "oom.xlsx"
    files = _copies(tmp_path, good_return, names)
    ticks = []
    t = time.perf_counter()
    res = read_isolated(files, jobs=jobs, timeout_s=1.5, mem_limit_mb=256, progress=lambda: ticks.append(1),
                        reader=hostile_content.misbehaving_reader)
    took = time.perf_counter() - t
    assert [r.path for r in res] == [str(f) for f in files]  # input order kept
    assert len(ticks) == len(files)
    for f, r in zip(files, res):
        codes = [i.code for i in r.issues]
        if f.name.startswith(("crash", "hang", "oom")):
            assert codes == ["F017"] and r.status == "rejected", (f.name, codes)
            msg = r.issues[0].message("zh")
            assert f.name in msg
            expect = {"crash": "SIGABRT", "hang": "超过 1.5 秒", "oom": "内存超限"}[f.name[:-5]]
            assert expect in msg, msg
            assert "reader process" in r.issues[0].message("en") or "within" in r.issues[0].message("en")
        else:
            assert r.data is not None and not r.errors, (f.name, codes)
    assert took < 15  # a hang costs two timeouts (first try, then alone), not the batch


def test_a_real_parser_crash_costs_one_file(tmp_path, corpus, good_return):
    _root, expected = corpus
    crash = Path(next(p for p, (case, *_r) in expected.items() if case == "far_cell_no_dimension"))
    files = _copies(tmp_path, good_return, ["a.xlsx"]) + [crash] + _copies(tmp_path, good_return, ["b.xlsx"])
    res = read_isolated(files, jobs=1)
    assert [r.data is not None for r in res] == [True, False, True]
    [issue] = res[1].issues
    assert issue.code == "F017"
    assert "内存超限" in issue.message("zh") and crash.name in issue.message("zh")
    assert "memory allocation" in issue.message("en")  # the native crash line: English only, never in Chinese
    assert "memory allocation" not in issue.message("zh")


def test_isolation_keeps_results_identical_to_in_process(tmp_path, corpus):
    _root, expected = corpus
    files = [Path(p) for p, (case, *_r) in expected.items()
             if case not in ("far_cell_no_dimension",) and "文件级" in p][:25]
    a = read_isolated(files, jobs=2)
    b = read_isolated(files, isolate=False)
    assert [(r.path, r.issues, r.data is None) for r in a] == [(r.path, r.issues, r.data is None) for r in b]


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("XLPERF_READ_TIMEOUT", "2.5")
    monkeypatch.setenv("XLPERF_READ_MEM_MB", "300")
    monkeypatch.setenv("XLPERF_MAX_SHEET_ROWS", "500")
    lim = Limits.from_env()
    assert (lim.read_timeout_s, lim.read_mem_mb, lim.max_sheet_rows) == (2.5, 300, 500)
    monkeypatch.setenv("XLPERF_READ_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="XLPERF_READ_TIMEOUT"):
        Limits.from_env()


def test_sheet_limits_are_configurable(corpus, monkeypatch):
    from xlperf.reader import read_file

    _root, expected = corpus
    valid = Path(next(p for p, (case, *_r) in expected.items() if case == "valid"))
    rows_100k = Path(next(p for p, (case, *_r) in expected.items() if case == "rows_100k"))
    assert read_file(valid, limits=Limits(max_sheet_rows=10)).issues[0].code == "F018"
    r = read_file(rows_100k, limits=Limits(max_sheet_rows=200_000, max_sheet_cells=10**7))
    assert r.data is not None and not r.errors  # allowed: read, and the rows below the form ignored


def test_empty_input_and_results_are_plain_file_results(tmp_path, good_return):
    assert read_isolated([]) == []
    [r] = read_isolated(_copies(tmp_path, good_return, ["x.xlsx"]))
    assert isinstance(r, FileResult) and r.sha256 and r.data is not None
