"""The round's command-line contract: unit folders, password, year, usage errors, Ctrl-C, any file name."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from conftest import run_cli, xlperf_cmd

UNIT_DIR = "201001_中国共产党秦皇岛市北戴河区委员会办公室(本级)"


def _meta(path: Path) -> dict:
    wb = CalamineWorkbook.from_path(str(path))
    return {r[0]: r[1] for r in wb.get_sheet_by_name("_xlperf_meta").to_python() if r and r[0]}


def test_generate_writes_one_folder_per_unit_and_zips(tmp_path, registry_path):
    out = tmp_path / "out"
    proc = run_cli("generate", registry_path, "-o", out, "--zip")
    assert proc.returncode == 0, proc.stderr
    unit = out / UNIT_DIR
    assert sorted(p.name for p in out.iterdir()) == sorted([UNIT_DIR, UNIT_DIR + ".zip", "password.txt"])
    names = sorted(p.name for p in unit.iterdir())
    assert len(names) == 16 and f"{UNIT_DIR}_部门整体绩效目标.xlsx" in names
    with zipfile.ZipFile(out / (UNIT_DIR + ".zip")) as zf:
        inside = sorted(Path(n).name for n in zf.namelist())
        assert inside == names
        assert all(n.startswith(UNIT_DIR + "/") for n in zf.namelist())
        pw = (out / "password.txt").read_text(encoding="utf-8").strip()
        assert all(pw.encode() not in zf.read(n) for n in zf.namelist())
    assert not list(out.rglob("*.tmp*"))


def test_second_generate_reuses_the_password(tmp_path, registry_path):
    out = tmp_path / "out"
    assert run_cli("generate", registry_path, "-o", out).returncode == 0
    first = (out / "password.txt").read_text(encoding="utf-8")
    proc = run_cli("generate", registry_path, "-o", out, "--no-unit-form")
    assert proc.returncode == 0, proc.stderr
    assert (out / "password.txt").read_text(encoding="utf-8") == first
    assert "沿用" in proc.stdout and "password.txt" in proc.stdout


def test_year_defaults_to_next_year_and_is_visible(tmp_path, registry_path):
    out = tmp_path / "out"
    assert run_cli("generate", registry_path, "-o", out).returncode == 0
    next_year = dt.date.today().year + 1
    tpl = next(out.rglob("130304211*.xlsx"))
    assert _meta(tpl)["year"] == str(next_year)
    guide = CalamineWorkbook.from_path(str(tpl)).get_sheet_by_name("填报说明").to_python()
    assert f"{next_year}" in guide[0][0]
    visible = " ".join(str(c) for name in ("填报说明", "项目绩效目标表")
                       for row in CalamineWorkbook.from_path(str(tpl)).get_sheet_by_name(name).to_python() for c in row)
    assert "2021" not in visible


def test_return_of_another_year_is_rejected_naming_both(tmp_path, registry_path, demo_dir):
    returns = tmp_path / "returns"
    shutil.copytree(demo_dir / "returns", returns)
    other = tmp_path / "t2022"
    assert run_cli("generate", registry_path, "-o", other, "--year", "2022", "--no-unit-form").returncode == 0
    wrong = next(other.rglob("130304211*.xlsx"))
    shutil.copy(wrong, returns / "old_template.xlsx")
    proc = run_cli("validate", returns, "-r", registry_path, "--json", tmp_path / "r.json", "--duplicates", "latest")
    assert proc.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    bad = next(f for f in report["files"] if f["path"].endswith("old_template.xlsx"))
    assert bad["status"] == "rejected"
    [issue] = [i for i in bad["issues"] if i["code"] == "E010"]
    assert "2022" in issue["message"] and "2021" in issue["message"]
    assert sum(f["status"] == "accepted" for f in report["files"]) == 16
    # the year can be given: then the 2021 returns are the wrong ones
    proc = run_cli("validate", returns, "-r", registry_path, "--year", "2022", "-q")
    assert proc.returncode == 1 and "通过 0，退回 17" in proc.stdout


def test_missing_input_path_is_a_usage_error(tmp_path, registry_path):
    proc = run_cli("validate", tmp_path / "nosuchdir", "-r", registry_path)
    assert proc.returncode == 2
    assert "找不到" in proc.stderr and "nosuchdir" in proc.stderr and "Traceback" not in proc.stderr


def test_consolidate_output_format_follows_the_file_name(tmp_path, registry_path, demo_dir):
    proc = run_cli("consolidate", demo_dir / "returns", "-r", registry_path, "-o", tmp_path / "m.csv", "-q")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "m.csv").exists()  # never an xlsx named .csv
    table = (tmp_path / "m_项目汇总.csv").read_bytes()
    assert not table.startswith(b"PK")
    assert "项目编码" in table.decode("utf-8-sig").splitlines()[0]
    proc = run_cli("consolidate", demo_dir / "returns", "-r", registry_path, "-o", tmp_path / "m.csv",
                   "--format", "xlsx")
    assert proc.returncode == 2 and ".xlsx" in proc.stderr
    proc = run_cli("consolidate", demo_dir / "returns", "-r", registry_path, "-o", tmp_path / "m.txt")
    assert proc.returncode == 2 and not (tmp_path / "m.txt").exists()


@pytest.mark.parametrize("args, zh, en", [
    (("validate", "x"), "缺少必填选项 --registry", "Missing option --registry"),
    (("validate", "x", "-r", "y", "--jobs", "abc"), "应为整数", "--jobs"),
    (("validate", "x", "--bogus"), "没有这个选项：--bogus", "No such option: --bogus"),
    (("generate",), "缺少必填参数", "Missing argument"),
    (("frobnicate",), "没有这个命令", "No such command"),
])
def test_usage_errors_speak_the_interface_language(args, zh, en):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert zh in proc.stderr and "Usage" not in proc.stderr and "Error" not in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli(*args, "--lang", "en")
    assert proc.returncode == 2 and en in proc.stderr


def test_help_has_no_framework_english():
    for cmd in ("generate", "validate", "consolidate", "status"):
        out = run_cli(cmd, "-h", env={"COLUMNS": "200"}).stdout
        for word in ("Usage:", "Show this message", "<bool>", "<path>", "[OPTIONS]", "Options", "Arguments"):
            assert word not in out, (cmd, word)
        assert "用法：" in out and "显示本帮助并退出" in out
    assert "Show this message and exit." in run_cli("validate", "-h", "--lang", "en", env={"COLUMNS": "200"}).stdout


def _interrupt(args: list, started, cwd: Path, extra: float = 0.0) -> subprocess.CompletedProcess:
    """Run the CLI, press Ctrl-C once `started()` says its work has begun (plus `extra` seconds)."""
    env = {**os.environ, "XLPERF_LANG": "zh"}
    proc = subprocess.Popen([*xlperf_cmd(), *map(str, args)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not started() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(extra)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def test_ctrl_c_leaves_one_line_and_no_temporary_file(tmp_path, registry_path):
    import csv

    rows = list(csv.DictReader(open(registry_path, encoding="utf-8-sig")))
    big = tmp_path / "big.csv"
    with open(big, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        # enough templates that generate (~400 a second with patched templates) is still running when interrupted
        for i in range(3000):
            writer.writerow({**rows[0], "项目编码": f"130304{i:015d}", "项目名称": f"项目{i}"})
    out = tmp_path / "out"
    assert run_cli("generate", big, "-o", out, "--year", "2021").returncode == 0
    templates = sorted(out.rglob("*.xlsx"))
    interrupted = 0
    for extra in (0.0, 0.3, 0.7):
        mark = time.time()
        rewritten = lambda: any(p.stat().st_mtime > mark for p in templates[:3])  # noqa: E731
        proc = _interrupt(["generate", big, "-o", out, "--year", "2021"], rewritten, tmp_path, extra)
        if proc.returncode == 0:
            continue  # finished before the signal arrived
        interrupted += 1
        assert proc.returncode == 130, proc.stderr
        assert proc.stderr.strip() == "已中断", proc.stderr
        assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
    assert interrupted
    for p in templates:  # every template is whole: rewritten completely or not at all
        with zipfile.ZipFile(p) as zf:
            assert zf.testzip() is None
    reading = lambda: True  # noqa: E731
    proc = _interrupt(["consolidate", out, "-r", big, "-o", tmp_path / "m.xlsx"], reading, tmp_path, 1.0)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 130:
        assert proc.stderr.strip() == "已中断"
        assert not (tmp_path / "m.xlsx").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_a_finished_run_leaves_no_temporary_folder_and_no_process(tmp_path, registry_path, demo_dir):
    # The command exits without freeing its objects one by one (xlperf/entry.py): the exit handlers
    # must still stop the fork server and remove the temporary folders, and all output must be out.
    temp = tmp_path / "tmp"
    temp.mkdir()
    master = tmp_path / "m.xlsx"
    proc = run_cli("consolidate", demo_dir / "returns", "-r", registry_path, "-o", master, "--jobs", "2",
                   env={"TMPDIR": str(temp)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().splitlines()[-1].startswith("汇总表已写入"), proc.stdout
    assert list(temp.iterdir()) == []
    with zipfile.ZipFile(master) as zf:
        assert zf.testzip() is None
    # nothing started by the run is still alive: no process has the run's TMPDIR in its environment
    for env_file in Path("/proc").glob("[0-9]*/environ"):
        try:
            assert f"TMPDIR={temp}".encode() not in env_file.read_bytes().split(b"\0")
        except (PermissionError, ProcessLookupError, FileNotFoundError):
            pass


def test_gbk_file_names_go_through_every_command(tmp_path, registry_path, demo_dir):
    returns = tmp_path / "returns"
    shutil.copytree(demo_dir / "returns", returns)
    src = returns / "130304211DGTGIWENVORV_党史宣传研究工作经费.xlsx"
    gbk_name = "党史宣传研究工作经费（第二版）.xlsx".encode("gbk")
    target = os.path.join(os.fsencode(returns), gbk_name)
    os.rename(src, target)
    # one more return with a GBK name that is rejected, so feedback is written for it
    wb = openpyxl.load_workbook(returns / "130304213BQ28XLGKG7TX_电子政务内网建设维护经费.xlsx")
    wb["项目绩效目标表"]["B5"] = 999  # a changed locked amount: E102
    bad_name = os.path.join(os.fsencode(returns), "错误报表.xlsx".encode("gbk"))
    wb.save(os.fsdecode(bad_name))
    os.remove(returns / "130304213BQ28XLGKG7TX_电子政务内网建设维护经费.xlsx")
    escaped = os.fsdecode(gbk_name).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")

    proc = run_cli("validate", returns, "-r", registry_path, "--json", tmp_path / "r.json",
                   "--feedback", tmp_path / "fb")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert len(report["files"]) == 16
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert by_name[escaped]["status"] == "accepted"
    assert any(f["status"] == "rejected" and "\\x" in f["path"] for f in report["files"])
    assert [p for p in (tmp_path / "fb").iterdir() if p.suffix == ".xlsx"]  # feedback for the GBK-named return

    proc = run_cli("consolidate", returns, "-r", registry_path, "-o", tmp_path / "m.xlsx",
                   "--format", "xlsx,csv,parquet", "--json", tmp_path / "c.json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    projects = openpyxl.load_workbook(tmp_path / "m.xlsx")["项目汇总"]
    sources = [str(r[-1].value) for r in projects.iter_rows(min_row=2)]
    assert any(escaped in s for s in sources) or any(
        escaped in str(c.value) for r in projects.iter_rows() for c in r)
    assert escaped in (tmp_path / "m_项目汇总.csv").read_text(encoding="utf-8-sig")
    import pyarrow.parquet as pq

    assert any(escaped in str(v) for v in pq.read_table(tmp_path / "m_项目汇总.parquet").to_pylist()
               for v in v.values())

    proc = run_cli("status", returns, "-r", registry_path, "--json", tmp_path / "s.json")
    assert "Traceback" not in proc.stderr and proc.returncode == 1
    status = (tmp_path / "s.json").read_text(encoding="utf-8")
    assert "\\\\x" in status  # escaped names in the JSON

    proc = run_cli("diff", os.fsdecode(target), returns / "13030421XVRUR16MROFUW_党务活动经费.xlsx")
    assert "Traceback" not in proc.stderr and proc.returncode in (0, 1)


def test_unknown_form_spec_is_a_localised_usage_error(tmp_path, registry_path):
    proc = run_cli("generate", registry_path, "-o", tmp_path / "o", "--form", "nosuch")
    assert proc.returncode == 2 and "找不到表单规格" in proc.stderr and "Errno" not in proc.stderr
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").rglob("*.xlsx"))


def test_a_patch_waits_for_its_module_to_be_imported(tmp_path, monkeypatch):
    # the help layout's words are patched when Typer imports it, not on every command (~0.1 s)
    import sys

    from xlperf.cli_locale import when_imported

    (tmp_path / "late_module.py").write_text("WORD = 'Options'\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "late_module", raising=False)
    seen = []
    when_imported("late_module", lambda m: (seen.append(m.WORD), setattr(m, "WORD", "选项")))
    assert seen == [] and "late_module" not in sys.modules
    import late_module

    assert seen == ["Options"] and late_module.WORD == "选项"
    assert not [f for f in sys.meta_path if type(f).__name__ == "_PatchOnImport" and f.name == "late_module"]
    when_imported("late_module", lambda m: seen.append("again"))  # already imported: patched at once
    assert seen == ["Options", "again"]
    monkeypatch.delitem(sys.modules, "late_module")


def test_help_words_are_not_loaded_by_a_command_that_prints_no_help(tmp_path, registry_path):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "xlperf", "validate", tmp_path / "none",
                           "-r", registry_path], capture_output=True, text=True, env={**os.environ, "XLPERF_LANG": "zh"})
    assert proc.returncode == 2 and "找不到" in proc.stderr
    assert "typer.rich_utils" not in proc.stderr
