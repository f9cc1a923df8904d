"""status: the newest return of each project and unit form counts (as in consolidate), unreadable files, reminders."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from conftest import resave_return, run_cli
from xlperf.master import project_rows
from xlperf.pipeline import run
from xlperf.registry import load_registry
from xlperf.rules import Options
from xlperf.status import collect, reminders, status_json

CODE = "130304211DGTGIWENVORV"
PLACEHOLDER = "≥**本"  # E110: an unfilled placeholder
MARCH = [dt.datetime(2022, 3, d, 9, 0, 0) for d in range(1, 10)]


@pytest.fixture(scope="module")
def registry(registry_path):
    return load_registry(registry_path)


@pytest.fixture()
def source(demo_dir) -> Path:
    return next((demo_dir / "returns").glob(f"{CODE}_*.xlsx"))


def status_of(inbox: Path, registry, lang: str = "zh", **kw):
    """What `status` computes, in-process: the same options as the command (newest valid return wins)."""
    report = run([inbox], registry, Options(duplicates="latest"))
    return report, collect(report, registry, lang, **kw)


def project(status, code: str = CODE):
    return next(s for s in status.projects if s.code == code)


def master_source(report, code: str = CODE) -> str:
    """The file the consolidated master takes this project from ('' when none)."""
    return next((r["来源文件"] for r in project_rows(report) if r["项目编码"] == code), "")


# ------------------------------------------------------------ state transitions ---------
def test_missing_then_rejected_then_accepted(source, registry, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _, st = status_of(inbox, registry)
    assert project(st).state == "missing" and project(st).files == []

    resave_return(source, inbox / "第一次.xlsx", MARCH[0], {"E10": PLACEHOLDER})
    report, st = status_of(inbox, registry)
    s = project(st)
    assert s.state == "rejected" and Path(s.file).name == "第一次.xlsx"
    assert [(e["code"], e["cell"]) for e in s.errors] == [("E110", "E10")]
    assert master_source(report) == ""

    resave_return(source, inbox / "第二次.xlsx", MARCH[1])
    report, st = status_of(inbox, registry)
    s = project(st)
    # the old rejected return never outranks the accepted newer fix
    assert s.state == "accepted" and s.errors == [] and s.problems == [] and not s.open
    assert s.files == [s.file] and Path(s.file).name == "第二次.xlsx"
    assert master_source(report) == s.file  # status and consolidate follow the same return
    assert CODE not in "".join(b["text"] for b in reminders(st, registry))


def test_errors_already_fixed_are_not_quoted(source, registry, tmp_path):
    """Defect: status joined the errors of every version; only the newest return's errors stand."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    resave_return(source, inbox / "a_first.xlsx", MARCH[0], {"E10": PLACEHOLDER, "E13": PLACEHOLDER})
    resave_return(source, inbox / "b_second.xlsx", MARCH[1], {"E13": PLACEHOLDER})  # E10 fixed
    _, st = status_of(inbox, registry)
    s = project(st)
    assert s.state == "rejected" and Path(s.file).name == "b_second.xlsx"
    assert [e["cell"] for e in s.errors] == ["E13"]
    assert len(s.problems) == 1 and s.problems[0].startswith("E13")
    text = next(b["text"] for b in reminders(st, registry))
    assert "E13" in text and "!E10" not in text and "a_first.xlsx" not in text


def test_newest_by_saved_time_not_by_name(source, registry, tmp_path):
    """The order is consolidate's: the saved time in the workbook first, not the file name or file time."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    resave_return(source, inbox / "z_old.xlsx", MARCH[0], {"E10": PLACEHOLDER, "E13": PLACEHOLDER})
    resave_return(source, inbox / "a_new.xlsx", MARCH[5], {"E13": PLACEHOLDER})
    _, st = status_of(inbox, registry)
    assert Path(project(st).file).name == "a_new.xlsx"
    assert [e["cell"] for e in project(st).errors] == ["E13"]


def test_accepted_then_newer_rejected(source, registry, tmp_path):
    """The master keeps the accepted return (newest VALID wins), so the state stays accepted; the newer
    rejected return is still open: it is named with its errors in the reminder."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    resave_return(source, inbox / "good.xlsx", MARCH[0])
    resave_return(source, inbox / "later_bad.xlsx", MARCH[3], {"E10": PLACEHOLDER})
    report, st = status_of(inbox, registry)
    s = project(st)
    assert s.state == "accepted" and Path(s.file).name == "good.xlsx"
    assert master_source(report) == s.file
    assert s.newer_rejected and Path(s.newer_rejected["path"]).name == "later_bad.xlsx"
    assert [e["cell"] for e in s.newer_rejected["errors"]] == ["E10"]
    assert s.open and st.is_open
    text = next(b["text"] for b in reminders(st, registry))
    assert "later_bad.xlsx" in text and "E10" in text and "good.xlsx" in text


def test_identical_copy_is_one_return(source, registry, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(source, inbox / "original.xlsx")
    shutil.copyfile(source, inbox / "copy of original.xlsx")
    report, st = status_of(inbox, registry)
    s = project(st)
    assert s.state == "accepted" and len(s.files) == 1 and not s.open
    copies = [f for f in report.files if f.status == "skipped"]
    assert len(copies) == 1 and copies[0].issues[0].code == "W207"
    assert master_source(report) == s.file


def test_unreadable_file_named_after_a_project(registry, tmp_path):
    """Defect: a file rejected before its contents were known has no project code, and status said
    nothing of it (the project was a bare 未报送). It is tied to the project code in its name."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"{CODE}_党史宣传研究工作经费.xlsx").write_bytes(b"this is not a workbook at all\n" * 10)
    (inbox / "说明.xlsx").write_bytes(b"PK\x03\x04 truncated")
    _, st = status_of(inbox, registry)
    s = project(st)
    assert s.state == "unreadable" and s.open
    assert len(s.unreadable) == 1 and s.unreadable[0]["code"].startswith("F")
    assert Path(s.unreadable[0]["path"]).name == f"{CODE}_党史宣传研究工作经费.xlsx"
    assert [Path(u["path"]).name for u in st.unidentified] == ["说明.xlsx"]
    assert st.unidentified[0]["code"].startswith("F") and st.unidentified[0]["message"]
    text = next(b["text"] for b in reminders(st, registry))
    assert f"{CODE}_党史宣传研究工作经费.xlsx" in text and s.unreadable[0]["message"] in text
    assert "无法读取" in text


def test_unreadable_copy_after_acceptance_is_named(source, registry, tmp_path):
    """A correction sent later in a form that cannot be read: the accepted return still counts, and the
    unit is told its later file was not read. One sent before the accepted return is history."""
    import os

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    resave_return(source, inbox / f"{CODE}.xlsx", MARCH[0])
    old = inbox / f"{CODE}_旧.ods"
    new = inbox / f"{CODE}_更正.xlsb"
    for p in (old, new):
        p.write_bytes(b"\x00\x01 not a zip")
    now = (inbox / f"{CODE}.xlsx").stat().st_mtime
    os.utime(old, (now - 3600, now - 3600))
    os.utime(new, (now + 3600, now + 3600))
    _, st = status_of(inbox, registry)
    s = project(st)
    assert s.state == "accepted" and s.open
    assert [Path(u["path"]).name for u in s.unreadable] == [new.name]


def test_only_the_unit_form_missing_gives_a_reminder(demo_dir, registry, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(demo_dir / "returns", inbox)
    [unit_form] = list(inbox.glob("201001_*.xlsx"))
    unit_form.unlink()
    _, st = status_of(inbox, registry, deadline=dt.date(2022, 3, 15))
    assert all(s.state == "accepted" for s in st.projects)
    assert st.unit_forms["201001"].state == "missing" and st.is_open
    [block] = reminders(st, registry)
    assert block["unit_code"] == "201001" and [i["kind"] for i in block["items"]] == ["unit"]
    assert "2022年3月15日" in block["text"] and "部门整体绩效目标" in block["text"]
    assert block["deadline"] == "2022-03-15"


def test_json_keeps_the_contract_and_extends_it(demo_dir, registry, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(demo_dir / "returns", inbox)
    next(inbox.glob(f"{CODE}_*.xlsx")).unlink()
    _, st = status_of(inbox, registry)
    data = status_json(st, registry, "en")
    assert isinstance(data["projects"], list) and isinstance(data["reminders"][0], str)
    assert data["units"] == {"201001": "accepted"}
    assert {k: data["summary"][k] for k in ("accepted", "rejected", "missing")} == {
        "accepted": 14, "rejected": 0, "missing": 1}
    p = next(p for p in data["projects"] if p["code"] == CODE)
    assert {"unit_code", "unit_name", "code", "name", "state", "files", "problems"} <= set(p)
    assert data["by_unit"] == [{"unit_code": "201001", "unit_name": registry.units["201001"], "projects": 15,
                                "accepted": 14, "rejected": 0, "unreadable": 0, "missing": 1,
                                "unit_form": "accepted", "open": True}]
    assert "not returned yet" in data["reminders"][0] and "尚未报送" not in data["reminders"][0]


# ------------------------------------------------------------ the command ---------
def test_status_lists_exactly_the_removed_projects(demo_dir, registry_path, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(demo_dir / "returns", inbox)
    removed = sorted(inbox.glob("13030421*.xlsx"))[3:6]
    codes = {p.name.split("_")[0] for p in removed}
    for p in removed:
        p.unlink()
    proc = run_cli("status", inbox, "--registry", registry_path, "--json", tmp_path / "s.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    missing = {p["code"] for p in data["projects"] if p["state"] == "missing"}
    assert missing == codes
    assert {k: data["summary"][k] for k in ("accepted", "rejected", "unreadable", "missing")} == {
        "accepted": 12, "rejected": 0, "unreadable": 0, "missing": 3}
    assert len(data["reminders"]) == 1 and all(c in data["reminders"][0] for c in codes)
    assert "未报送" in proc.stdout and "催报清单" in proc.stdout


def test_status_all_returned_exits_0(demo_dir, registry_path):
    proc = run_cli("status", demo_dir / "returns", "--registry", registry_path)
    assert proc.returncode == 0, proc.stdout
    assert "催报清单" not in proc.stdout


def test_reminder_per_unit_with_deadline_errors_and_feedback(demo_dir, registry_path, source, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = resave_return(source, inbox / f"{CODE}_退回.xlsx", MARCH[0], {"E10": PLACEHOLDER, "E13": PLACEHOLDER})
    fb = tmp_path / "反馈"
    proc = run_cli("validate", inbox, "--registry", registry_path, "--feedback", fb, "-q")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    proc = run_cli("status", inbox, "--registry", registry_path, "--deadline", "2022-03-15", "--feedback", fb,
                   "--json", tmp_path / "s.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    [block] = data["reminder_details"]
    item = next(i for i in block["items"] if i["code"] == CODE)
    assert item["state"] == "rejected" and [e["cell"] for e in item["errors"]] == ["E10", "E13"]
    assert Path(item["feedback"]).is_file() and Path(item["feedback"]).parent == fb  # the file validate wrote
    text = data["reminders"][0]
    assert text == block["text"] and "请于 2022年3月15日 前完成以下 16 项" in text
    assert "项目绩效目标表!E10" in text and Path(item["feedback"]).name in text and bad.name in text
    assert text in proc.stdout  # printed whole, never wrapped by the console
    assert data["deadline"] == "2022-03-15"


def test_reminder_in_english(registry_path, source, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"{CODE}_x.ods").write_bytes(b"not a spreadsheet")
    proc = run_cli("--lang", "en", "status", inbox, "--registry", registry_path, "--deadline", "2022-03-15")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "by 2022-03-15" in out and "not returned yet" in out and "cannot be read" in out
    assert "collection status" in out and "unreadable" in out
    for zh in ("尚未报送", "催报", "请于", "已通过", "无法读取", "按单位汇总"):
        assert zh not in out


@pytest.mark.parametrize("value", ["2022-3-15", "15/03/2022", "2022-02-30", "明天"])
def test_bad_deadline_is_a_usage_error(registry_path, tmp_path, value):
    proc = run_cli("status", tmp_path, "--registry", registry_path, "--deadline", value)
    assert proc.returncode == 2
    assert "--deadline" in proc.stderr and "YYYY-MM-DD" in proc.stderr and value in proc.stderr
    assert "Traceback" not in proc.stderr and "应为" in proc.stderr
    en = run_cli("--lang", "en", "status", tmp_path, "--registry", registry_path, "--deadline", value)
    assert en.returncode == 2 and "must be a date" in en.stderr


def test_rollup_by_unit_and_department(demo_dir, registry_path, tmp_path):
    """Counts per unit and per 主管部门 in the console; a second unit that sent nothing is all open."""
    lines = registry_path.read_text(encoding="utf-8-sig").splitlines()
    reg = tmp_path / "registry.csv"
    rows = [lines[0]] + [ln + "区委" if ln.endswith(",") else ln for ln in lines[1:]]
    rows += ["201002,北戴河区财政局,130304299AAAAAAAAAAAA,财政专项一,10.00,10.00,0.00,专项资金,区政府",
             "201002,北戴河区财政局,130304299BBBBBBBBBBBB,财政专项二,5.00,5.00,0.00,专项资金,区政府"]
    reg.write_text("\n".join(rows) + "\n", encoding="utf-8")
    proc = run_cli("status", demo_dir / "returns", "--registry", reg, "--json", tmp_path / "s.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    by_unit = {u["unit_code"]: u for u in data["by_unit"]}
    assert (by_unit["201001"]["accepted"], by_unit["201001"]["missing"], by_unit["201001"]["unit_form"]) == (15, 0, "accepted")
    assert (by_unit["201002"]["accepted"], by_unit["201002"]["missing"], by_unit["201002"]["unit_form"]) == (0, 2, "missing")
    depts = {d["department"]: d for d in data["by_department"]}
    assert (depts["区委"]["units"], depts["区委"]["projects"], depts["区委"]["accepted"]) == (1, 15, 15)
    assert (depts["区政府"]["units"], depts["区政府"]["projects"], depts["区政府"]["missing"]) == (1, 2, 2)
    assert "按单位汇总" in proc.stdout and "按主管部门汇总" in proc.stdout and "区政府" in proc.stdout
    assert [b["unit_code"] for b in data["reminder_details"]] == ["201002"]


def test_command_quotes_only_the_newest_return_and_names_unreadable_files(registry_path, source, tmp_path):
    """Both halves of the defect through the command: errors already fixed in a newer return are not
    quoted, and a file that could not be read is listed under the project its name carries."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    resave_return(source, inbox / "a_first.xlsx", MARCH[0], {"E10": PLACEHOLDER, "E13": PLACEHOLDER})
    resave_return(source, inbox / "b_second.xlsx", MARCH[1], {"E13": PLACEHOLDER})
    other = "130304213BQ28XLGKG7TX"
    (inbox / f"{other}_电子政务内网建设维护经费.xlsx").write_bytes(b"\x00 damaged \x00" * 20)
    proc = run_cli("status", inbox, "--registry", registry_path, "--json", tmp_path / "s.json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    by_code = {p["code"]: p for p in data["projects"]}
    assert len(by_code[CODE]["problems"]) == 1 and by_code[CODE]["problems"][0].startswith("E13")
    assert by_code[other]["state"] != "missing"
    assert f"{other}_电子政务内网建设维护经费.xlsx" in data["reminders"][0]
    assert "a_first.xlsx" not in data["reminders"][0]


def test_names_that_are_not_utf8(source, registry_path, tmp_path):
    """GBK names (zips made on Chinese Windows): tied to their project by the code in the name, and shown
    escaped in the console and the JSON, never a crash."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    raw = bytes(inbox) + b"/130304213BQ28XLGKG7TX_" + "电子政务".encode("gbk") + b".xlsx"
    with open(raw, "wb") as fh:
        fh.write(b"junk" * 50)
    shutil.copyfile(source, bytes(inbox) + b"/" + "党史".encode("gbk") + b"_" + CODE.encode() + b".xlsx")
    proc = run_cli("status", inbox, "--registry", registry_path, "--json", tmp_path / "s.json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    by_code = {p["code"]: p for p in data["projects"]}
    assert by_code[CODE]["state"] == "accepted"
    assert by_code["130304213BQ28XLGKG7TX"]["state"] == "unreadable"
    assert "\\x" in by_code["130304213BQ28XLGKG7TX"]["unreadable"][0]["path"]
