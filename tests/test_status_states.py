"""status in-process, on returns built in memory: every state and transition, reminders, roll-ups, console."""
from __future__ import annotations

import io
import os
import sys
from decimal import Decimal
import zipfile
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from xlperf.messages import ui
from xlperf.model import FileResult, Issue, printable_path
from xlperf.pipeline import Report
from xlperf.registry import Registry
from xlperf.status import (REMINDER_ERRORS, STATUS_ROWS_SHOWN, collect, feedback_name, format_deadline, newest_first,
                           parse_deadline, print_status, reminder_text, reminders, rollup, state_name,
                           status_json, summary)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inmemory import CODE, PROJECTS, REGISTRY, SPEC, UNIT_SPEC, make_return, make_unit_return  # noqa: E402

UNIT = REGISTRY.rows[0]["单位编码"]
OTHER = next(r["项目编码"] for r in REGISTRY.rows if r["项目编码"] != CODE)


def project_return(path: str, status: str = "accepted", mtime: float = 1000.0, cells: tuple = (),
                   code: str = CODE) -> FileResult:
    """A readable return of *code*; each cell in *cells* carries an unfilled placeholder (E110)."""
    res = make_return(code if code in PROJECTS else CODE, path=path)  # the seed's content under any code
    res.data.fields["项目编码"] = code
    res.mtime = mtime
    for cell in cells:
        res.add(Issue.make("E110", SPEC.sheet, cell, found="≥**本"))
    res.status = status if not cells else "rejected"
    return res


def unit_return(path: str, status: str = "accepted", mtime: float = 1000.0) -> FileResult:
    res = make_unit_return(path)
    res.mtime = mtime
    if status == "rejected":
        res.add(Issue.make("E109", UNIT_SPEC.sheet, "B9"))
    res.status = status
    return res


def unreadable(path: str, mtime: float = 0.0, code: str = "F003") -> FileResult:
    """A file rejected before its contents were known: no data, no project code."""
    res = FileResult(path, status="rejected", mtime=mtime)
    res.add(Issue.make(code, reason="x"))
    return res


def foreign(path: str) -> FileResult:
    res = FileResult(path)
    res.add(Issue.make("F015", ext=Path(path).suffix))
    res.settle()
    return res


def status_of(*files, registry: Registry = REGISTRY, lang: str = "zh", **kw):
    return collect(Report(list(files)), registry, lang, **kw)


def project(st, code: str = CODE):
    return next(s for s in st.projects if s.code == code)


def saved_zip(path: Path, modified: str) -> str:
    """A zip holding only docProps/core.xml with this saved time: all saved_at reads."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("docProps/core.xml", f'<cp:coreProperties><dcterms:modified xsi:type="dcterms:W3CDTF">'
                                         f'{modified}</dcterms:modified></cp:coreProperties>')
    return str(path)


def two_unit_registry() -> Registry:
    """The bundled registry under department 区委, and a second unit of two projects under 区政府."""
    rows = [{**r, "主管部门": "区委"} for r in REGISTRY.rows]
    extra = [{"单位编码": "201002", "单位名称": "财政局", "项目编码": f"130304299{c * 12}", "项目名称": f"专项{c}",
              "预算数": Decimal("1.00"), "财政资金": Decimal("1.00"), "其他资金": Decimal("0.00"), "资金用途": "", "主管部门": "区政府"}
             for c in "AB"]
    return Registry("two.csv", rows + extra)


# ------------------------------------------------------------ states and transitions ---------
def test_nothing_received_everything_missing():
    st = status_of()
    assert {s.state for s in st.projects} == {"missing"} and len(st.projects) == len(REGISTRY.rows)
    s = project(st)
    assert (s.files, s.errors, s.problems, s.unreadable, s.file, s.feedback) == ([], [], [], [], "", "")
    assert s.open and s.newer_rejected is None and s.kind == "project" and s.unit_code == UNIT
    assert st.unit_forms[UNIT].state == "missing" and st.unit_forms[UNIT].kind == "unit"
    assert st.unit_forms[UNIT].name == UNIT_SPEC.title and st.is_open and st.unidentified == []
    assert collect(Report([]), REGISTRY, "en").unit_forms[UNIT].name == UNIT_SPEC.title_en


def test_missing_then_rejected_then_accepted():
    first = project_return("inbox/第一次.xlsx", mtime=100, cells=("E10", "E13"))
    st = status_of(first)
    s = project(st)
    assert s.state == "rejected" and s.file == first.path and s.files == [first.path] and s.open
    assert [(e["code"], e["sheet"], e["cell"]) for e in s.errors] == [("E110", SPEC.sheet, "E10"),
                                                                       ("E110", SPEC.sheet, "E13")]
    assert s.problems == [f"E10: {first.issues[0].message()}", f"E13: {first.issues[1].message()}"]
    fix = project_return("inbox/第二次.xlsx", mtime=200)
    for order in ([first, fix], [fix, first]):  # the order of the report does not matter
        s = project(status_of(*order))
        assert s.state == "accepted" and s.file == fix.path and s.files == [fix.path]
        assert s.errors == [] and s.problems == [] and s.newer_rejected is None and not s.open


def test_an_older_rejected_return_never_outranks_the_accepted_fix():
    """Even when the rejected return is named later, or is newer by file time but older by saved time."""
    old_bad = project_return("inbox/z_later_name.xlsx", mtime=100, cells=("E10",))
    fix = project_return("inbox/a.xlsx", mtime=200)
    s = project(status_of(old_bad, fix))
    assert (s.state, s.file, s.newer_rejected, s.open) == ("accepted", fix.path, None, False)


def test_saved_time_orders_before_file_time(tmp_path):
    bad = project_return(saved_zip(tmp_path / "bad.xlsx", "2022-03-01T09:00:00Z"), mtime=900, cells=("E10",))
    fix = project_return(saved_zip(tmp_path / "fix.xlsx", "2022-03-02T09:00:00Z"), mtime=100)
    s = project(status_of(bad, fix))
    assert s.state == "accepted" and s.newer_rejected is None and not s.open
    later = project_return(saved_zip(tmp_path / "later.xlsx", "2022-03-03T09:00:00Z"), mtime=50, cells=("E13",))
    s = project(status_of(bad, fix, later))
    assert s.newer_rejected["path"] == later.path and s.open
    assert newest_first([bad, fix, later]) == [later, fix, bad]


def test_accepted_then_a_newer_rejected_return():
    good = project_return("inbox/good.xlsx", mtime=100)
    bad = project_return("inbox/later_bad.xlsx", mtime=200, cells=("E10",))
    st = status_of(good, bad)
    s = project(st)
    assert s.state == "accepted" and s.file == good.path and s.errors == [] and s.problems == []
    assert s.newer_rejected == {"path": bad.path, "errors": [bad.issues[0].to_json()]}
    assert s.open and st.is_open and st.open_forms(UNIT)[0] is s
    assert summary(st)["newer_rejected"] == 1
    text = reminder_text(UNIT, "单位", [s], None)
    assert "good.xlsx" in text and "later_bad.xlsx" in text and "E10" in text and "已通过" in text


def test_newest_of_several_and_ties_broken_by_path():
    a = project_return("inbox/a.xlsx", mtime=100, cells=("E10",))
    b = project_return("inbox/b.xlsx", mtime=100, cells=("E13",))
    c = project_return("inbox/c.xlsx", mtime=50, cells=("E16",))
    s = project(status_of(a, b, c))
    assert s.file == b.path and [e["cell"] for e in s.errors] == ["E13"]
    good1 = project_return("inbox/g1.xlsx", mtime=300)
    good2 = project_return("inbox/g2.xlsx", mtime=400)
    s = project(status_of(good2, good1, a))
    assert s.file == good2.path and s.newer_rejected is None
    assert newest_first([a]) == [a] and newest_first([]) == []


def test_identical_copy_counts_once():
    original = project_return("inbox/original.xlsx", mtime=100)
    copy = project_return("inbox/copy.xlsx", mtime=100)
    copy.status = "skipped"
    copy.add(Issue.make("W207", other=original.path))
    st = status_of(original, copy)
    s = project(st)
    assert s.state == "accepted" and s.files == [original.path] and not s.open and st.unidentified == []


def test_unreadable_file_named_after_a_project():
    bad = unreadable(f"inbox/{CODE}_党史宣传研究工作经费.xlsx")
    stray = unreadable("inbox/说明.xlsx", code="F002")
    st = status_of(bad, stray)
    s = project(st)
    assert s.state == "unreadable" and s.open and s.file == "" and s.errors == []
    assert s.unreadable == [{"path": bad.path, "code": "F003", "message": bad.issues[0].message()}]
    assert s.files == [bad.path]
    assert st.unidentified == [{"path": stray.path, "code": "F002", "message": stray.issues[0].message()}]
    assert st.is_open and summary(st)["unidentified"] == 1 and summary(st)["unreadable"] == 1
    text = reminder_text(UNIT, "单位", [s], None)
    assert "无法读取" in text and Path(bad.path).name in text and "F003" in text


def test_unidentified_files_alone_keep_the_round_open():
    files = [project_return(f"inbox/{r['项目编码']}.xlsx", code=r["项目编码"]) for r in REGISTRY.rows]
    files.append(unit_return("inbox/unit.xlsx"))
    st = status_of(*files)
    assert not st.is_open and reminders(st, REGISTRY) == []
    st = status_of(*files, unreadable("inbox/note.xlsx"))
    assert st.is_open and reminders(st, REGISTRY) == []  # nothing to send a unit: the officer sees the list


def test_a_lock_file_or_a_note_is_no_return():
    lock = FileResult(f"inbox/~${CODE}.xlsx")
    lock.add(Issue.make("F001"))
    lock.settle()
    st = status_of(lock, foreign("inbox/说明.pdf"))
    assert project(st).state == "missing" and st.unidentified == [] and project(st).unreadable == []
    s = project(status_of(foreign(f"inbox/{CODE}_扫描件.pdf")))
    assert s.state == "unreadable" and [u["code"] for u in s.unreadable] == ["F015"]


def test_unreadable_file_only_counts_after_the_accepted_return():
    good = project_return("inbox/good.xlsx", mtime=1000)
    before = unreadable(f"inbox/{CODE}_旧.ods", mtime=999)
    after = unreadable(f"inbox/{CODE}_更正.xlsb", mtime=1001)
    s = project(status_of(good, before, after))
    assert s.state == "accepted" and s.open and [u["path"] for u in s.unreadable] == [after.path]
    assert s.files == [good.path, after.path]
    s = project(status_of(good, before))
    assert s.unreadable == [] and not s.open
    text = reminder_text(UNIT, "单位", [project(status_of(good, after))], None)
    assert Path(after.path).name in text and "good.xlsx" in text


def test_unreadable_file_time_from_the_disk(tmp_path):
    """A file rejected before it was read has no time recorded: its time on disk is used."""
    good = project_return("good.xlsx", mtime=1000)
    late, early = tmp_path / f"{CODE}_late.ods", tmp_path / f"{CODE}_early.ods"
    for p, t in ((late, 2000), (early, 500)):
        p.write_bytes(b"x")
        os.utime(p, (t, t))
    s = project(status_of(good, unreadable(str(late)), unreadable(str(early)), unreadable(str(tmp_path / f"{CODE}_gone"))))
    assert [Path(u["path"]).name for u in s.unreadable] == [late.name]


def test_unreadable_files_are_listed_by_path_beside_a_rejected_return():
    bad = project_return("inbox/bad.xlsx", mtime=10, cells=("E10",))
    u2, u1 = unreadable(f"inbox/{CODE}_b.ods"), unreadable(f"inbox/{CODE}_a.ods")
    s = project(status_of(bad, u2, u1))
    assert s.state == "rejected" and [u["path"] for u in s.unreadable] == [u1.path, u2.path]
    assert s.files == [bad.path, u1.path, u2.path]


def test_names_tie_files_to_projects_and_units():
    short = Registry("r.csv", [{**REGISTRY.rows[0], "项目编码": "P1"}, {**REGISTRY.rows[1], "项目编码": "P12"}])
    st = status_of(unreadable("inbox/P12_x.ods"), unreadable("inbox/XP1Y.ods"), registry=short)
    assert [s.state for s in st.projects] == ["missing", "unreadable"]  # short codes: whole tokens only
    assert [u["path"] for u in st.unidentified] == ["inbox/XP1Y.ods"]
    st = status_of(unreadable(f"inbox/{CODE}v2.ods"))  # a long code run into other letters
    assert project(st).state == "unreadable"
    st = status_of(unreadable(f"inbox/{UNIT}_部门整体.xlsx"))
    assert st.unit_forms[UNIT].state == "unreadable" and {s.state for s in st.projects} == {"missing"}
    st = status_of(unreadable(f"inbox/{UNIT}_{CODE}.xlsx"))  # a project code wins over the unit code
    assert project(st).state == "unreadable" and st.unit_forms[UNIT].state == "missing"


def test_readable_return_of_a_project_not_in_the_registry():
    stranger = project_return("inbox/stranger.xlsx", mtime=1, cells=("E10",))
    stranger.data.fields["项目编码"] = "999999999XXXXXXXXXXXX"
    st = status_of(stranger)
    assert [u["path"] for u in st.unidentified] == [stranger.path] and st.unidentified[0]["code"] == "E110"
    accepted_stranger = project_return("inbox/ok.xlsx")
    accepted_stranger.data.fields["项目编码"] = "999999999XXXXXXXXXXXX"
    assert status_of(accepted_stranger).unidentified == []
    named = project_return(f"inbox/{OTHER}.xlsx", mtime=1, cells=("E10",))
    named.data.fields["项目编码"] = "999999999XXXXXXXXXXXX"
    st = status_of(named)
    assert project(st, OTHER).state == "unreadable" and project(st, OTHER).unreadable[0]["code"] == "E110"
    unit = unit_return("inbox/unit.xlsx", "rejected")
    unit.data.meta["unit_code"] = "999999"
    assert [u["path"] for u in status_of(unit).unidentified] == ["inbox/unit.xlsx"]


def test_unit_form_states():
    st = status_of(unit_return("inbox/u1.xlsx", "rejected", mtime=1))
    form = st.unit_forms[UNIT]
    assert form.state == "rejected" and [e["code"] for e in form.errors] == ["E109"] and form.code == UNIT
    assert form.problems == [f"B9: {Issue.make('E109').message()}"]
    st = status_of(unit_return("inbox/u1.xlsx", "rejected", mtime=1), unit_return("inbox/u2.xlsx", mtime=2))
    assert st.unit_forms[UNIT].state == "accepted" and not st.unit_forms[UNIT].open


def test_only_the_unit_level_form_missing_gives_a_reminder():
    files = [project_return(f"inbox/{r['项目编码']}.xlsx", code=r["项目编码"]) for r in REGISTRY.rows]
    st = status_of(*files, deadline=date(2022, 3, 15))
    assert all(s.state == "accepted" and not s.open for s in st.projects)
    assert st.unit_forms[UNIT].state == "missing" and st.is_open
    assert [s.kind for s in st.open_forms(UNIT)] == ["unit"]
    [block] = reminders(st, REGISTRY)
    assert block["unit_code"] == UNIT and [i["kind"] for i in block["items"]] == ["unit"]
    assert block["deadline"] == "2022-03-15" and block["items"][0]["state_name"] == "未报送"
    assert block["text"].splitlines() == [
        f"{UNIT} {REGISTRY.units[UNIT]}：请于 2022年3月15日 前完成以下 1 项：", f"1. {UNIT_SPEC.title}：尚未报送"]
    assert summary(st)["open_units"] == 1 and summary(st)["unit_forms"]["missing"] == 1
    [row] = rollup(st, REGISTRY)["by_unit"]
    assert row["unit_form"] == "missing" and row["open"] and row["accepted"] == len(REGISTRY.rows)


# ------------------------------------------------------------ feedback files named in status ---------
def test_feedback_named_only_when_the_file_exists(tmp_path):
    bad = project_return("inbox/退回.xlsx", mtime=1, cells=("E10",))
    assert project(status_of(bad, feedback_dir=tmp_path)).feedback == ""
    assert project(status_of(bad)).feedback == ""
    (tmp_path / feedback_name(bad)).write_bytes(b"x")
    assert feedback_name(bad) == "退回_反馈.xlsx"
    assert project(status_of(bad, feedback_dir=tmp_path)).feedback == str(tmp_path / "退回_反馈.xlsx")
    good = project_return("inbox/good.xlsx", mtime=0)
    s = project(status_of(good, bad, feedback_dir=tmp_path))  # the newer rejected return's feedback
    assert s.state == "accepted" and s.feedback == str(tmp_path / "退回_反馈.xlsx")
    gone = unreadable(f"inbox/{CODE}_x.xlsx")
    (tmp_path / feedback_name(gone)).write_bytes(b"x")
    assert project(status_of(gone, feedback_dir=tmp_path)).feedback == ""  # nothing read: no feedback


# ------------------------------------------------------------ reminder text ---------
def test_reminder_lists_every_open_form_with_its_errors():
    many = project_return("inbox/many.xlsx", mtime=1, cells=("E10", "E13", "E16", "E19", "E22"))
    st = status_of(many, feedback_dir=None)
    s = project(st)
    s.feedback = "fb/many_反馈.xlsx"
    text = reminder_text(UNIT, "某单位", [s, project(st, OTHER)], None).splitlines()
    assert text[0] == f"{UNIT} 某单位：请尽快完成以下 2 项："
    assert text[1] == f"1. {CODE}「{s.name}」：被退回（many.xlsx），请修改以下问题后重新报送："
    assert text[2] == f"   - E110 {SPEC.sheet}!E10 {many.issues[0].message()}"
    assert len([t for t in text if t.startswith("   - E110")]) == REMINDER_ERRORS == 3
    assert text[5] == "   - ……另有 2 条问题（见反馈文件或校验报告）"
    assert text[6] == "   请随本通知发送反馈文件 many_反馈.xlsx：按其中标红的单元格修改后重新报送。"
    assert text[7] == f"2. {OTHER}「{project(st, OTHER).name}」：尚未报送" and len(text) == 8
    en = reminder_text(UNIT, "unit", [s], date(2022, 3, 5), "en")
    assert "by 2022-03-05" in en and "rejected (many.xlsx)" in en and "2 more problems" in en


def test_error_lines_without_sheet_or_cell():
    s = project(status_of(project_return("inbox/x.xlsx", mtime=1, cells=("E10",))))
    s.errors = [{"code": "E007", "sheet": "_meta", "cell": "", "message": "m1"},
                {"code": "E001", "sheet": "", "cell": "", "message": "m2"},
                {"code": "E109", "sheet": "", "cell": "C9", "message": "m3"}]
    lines = reminder_text(UNIT, "u", [s], None).splitlines()[2:5]
    assert lines == ["   - E007 _meta m1", "   - E001 m2", "   - E109 C9 m3"]


def test_reminders_per_unit_in_registry_order():
    reg = two_unit_registry()
    st = status_of(registry=reg, deadline=date(2022, 1, 2))
    blocks = reminders(st, reg, "en")
    assert [b["unit_code"] for b in blocks] == [UNIT, "201002"]
    assert [len(b["items"]) for b in blocks] == [len(REGISTRY.rows) + 1, 3]
    item = blocks[1]["items"][0]
    assert item == {"kind": "project", "code": "130304299AAAAAAAAAAAA", "name": "专项A", "state": "missing",
                    "state_name": "missing", "file": "", "errors": [], "unreadable": [], "newer_rejected": None,
                    "feedback": ""}
    assert blocks[1]["deadline"] == "2022-01-02" and "2022-01-02" in blocks[1]["text"]


# ------------------------------------------------------------ roll-ups and JSON ---------
def test_rollup_by_unit_and_department():
    reg = two_unit_registry()
    files = [project_return(f"inbox/{r['项目编码']}.xlsx", code=r["项目编码"]) for r in REGISTRY.rows[:3]]
    files += [project_return("inbox/bad.xlsx", code=REGISTRY.rows[3]["项目编码"], cells=("E10",)),
              unreadable(f"inbox/{REGISTRY.rows[4]['项目编码']}.ods"), unit_return("inbox/unit.xlsx")]
    st = status_of(*files, registry=reg)
    data = rollup(st, reg)
    n = len(REGISTRY.rows)
    assert data["by_unit"] == [
        {"unit_code": UNIT, "unit_name": REGISTRY.units[UNIT], "projects": n, "accepted": 3, "rejected": 1,
         "unreadable": 1, "missing": n - 5, "unit_form": "accepted", "open": True},
        {"unit_code": "201002", "unit_name": "财政局", "projects": 2, "accepted": 0, "rejected": 0,
         "unreadable": 0, "missing": 2, "unit_form": "missing", "open": True}]
    assert data["by_department"] == [
        {"department": "区委", "units": 1, "projects": n, "accepted": 3, "rejected": 1, "unreadable": 1,
         "missing": n - 5, "unit_forms_accepted": 1},
        {"department": "区政府", "units": 1, "projects": 2, "accepted": 0, "rejected": 0, "unreadable": 0,
         "missing": 2, "unit_forms_accepted": 0}]
    assert rollup(status_of(), REGISTRY)["by_department"] == []  # the bundled registry names none
    assert summary(st) == {"accepted": 3, "rejected": 1, "unreadable": 1, "missing": n - 5 + 2, "unit_forms": {
        "accepted": 1, "rejected": 0, "unreadable": 0, "missing": 1}, "newer_rejected": 0, "unidentified": 0,
        "open_units": 2}


def test_status_json_shape():
    bad = project_return("inbox/bad.xlsx", mtime=1, cells=("E10",))
    st = status_of(bad, deadline=date(2022, 3, 15))
    data = status_json(st, REGISTRY, "en")
    assert set(data) == {"projects", "units", "summary", "reminders", "deadline", "unit_forms", "unidentified",
                         "reminder_details", "by_unit", "by_department"}
    p = next(p for p in data["projects"] if p["code"] == CODE)
    assert p["state"] == "rejected" and p["open"] is True and p["file"] == bad.path
    assert data["units"] == {UNIT: "missing"} and data["deadline"] == "2022-03-15"
    assert data["reminders"] == [b["text"] for b in data["reminder_details"]] and len(data["reminders"]) == 1
    assert data["unit_forms"][0]["kind"] == "unit" and data["unit_forms"][0]["open"] is True
    assert status_json(status_of(), REGISTRY)["deadline"] == ""
    assert reminders(status_of(), REGISTRY)[0]["deadline"] == ""


# ------------------------------------------------------------ small helpers ---------
def test_dates_and_names():
    assert parse_deadline("2022-03-15") == date(2022, 3, 15) and parse_deadline(" 2022-03-15 ") == date(2022, 3, 15)
    for bad in ("2022-3-15", "2022-02-30", "15/03/2022", "", "2022-03-15x"):
        assert parse_deadline(bad) is None
    assert format_deadline(date(2022, 3, 5)) == "2022年3月5日" and format_deadline(date(2022, 3, 5), "en") == "2022-03-05"
    assert format_deadline(None) == "" and format_deadline(None, "en") == ""
    assert printable_path("党史.xlsx") == "党史.xlsx"
    assert printable_path("a\udcb5\udcb3.xlsx") == "a\\xb5\\xb3.xlsx"
    assert state_name("missing") == "未报送" and state_name("missing", "en") == "missing"


# ------------------------------------------------------------ the console ---------
def console_of(st, registry=REGISTRY, lang="zh", **kw) -> str:
    buf = io.StringIO()
    con = Console(file=buf, width=300, color_system=None, legacy_windows=False)
    print_status(con, st, status_json(st, registry, lang), lang, **kw)
    return buf.getvalue()


def test_console_lists_open_items_and_totals(tmp_path):
    good = project_return("inbox/good.xlsx", mtime=1)
    later = project_return("inbox/later.xlsx", mtime=2, cells=("E10",))
    other = project_return("inbox/o.xlsx", code=OTHER, mtime=1, cells=("E13",))
    stray = unreadable("inbox/说明.xlsx")
    out = console_of(status_of(good, later, other, stray, deadline=date(2022, 3, 15)), feedback_dir=tmp_path)
    assert "报送情况" in out and "之后报送的 inbox/later.xlsx 被退回" in out
    assert f"E110 E13 {other.issues[0].message()}" in out
    assert "无法识别的文件" in out and "inbox/说明.xlsx" in out and "按单位汇总" in out
    assert "按主管部门汇总" not in out
    assert f"已通过 1，退回 1，未报送 {len(REGISTRY.rows) - 2}" in out
    assert "无法读取 0；部门整体绩效目标表未通过 1；无法识别的文件 1" in out
    assert f"2 份退回的报送在 {tmp_path} 中还没有反馈文件" in out
    assert "催报清单（截止 2022年3月15日）：" in out and "请于 2022年3月15日 前完成" in out
    rows = [line for line in out.splitlines() if CODE in line]
    assert len(rows) >= 2  # the table row and the reminder


def test_console_accepted_rows_only_when_verbose():
    files = [project_return(f"inbox/{r['项目编码']}.xlsx", code=r["项目编码"]) for r in REGISTRY.rows]
    st = status_of(*files, unit_return("inbox/u.xlsx"))
    out = console_of(st)
    assert "报送情况" not in out and "催报清单" not in out and CODE not in out
    assert "部门整体绩效目标表未通过" not in out
    out = console_of(st, verbose=True)
    assert "报送情况" in out and CODE in out and "已通过" in out


def test_console_unreadable_notes_and_departments(tmp_path):
    reg = two_unit_registry()
    good = project_return("inbox/good.xlsx", mtime=1000)
    after = unreadable(f"inbox/{CODE}_更正.xlsb", mtime=2000)
    gone = unreadable(f"inbox/{OTHER}_x.ods", code="F002")
    bad = project_return("inbox/bad.xlsx", code=REGISTRY.rows[3]["项目编码"], cells=("E10",))
    (tmp_path / "bad_反馈.xlsx").write_bytes(b"x")
    out = console_of(status_of(good, after, gone, bad, registry=reg, lang="en", feedback_dir=tmp_path), reg, "en",
                     feedback_dir=tmp_path)
    assert f"a later file inbox/{CODE}_更正.xlsb could not be read" in out
    assert f"F002 {gone.issues[0].message('en')}" in out
    assert "by supervising department" in out and "区政府" in out
    assert "1 unreadable; 2 unit-level forms not accepted; 0 unidentified files" in out
    assert "send the feedback file bad_反馈.xlsx" in out
    assert "no feedback file in" not in out  # the one rejected return has its feedback workbook


def test_console_caps_the_open_rows():
    rows = [{"单位编码": "201009", "单位名称": "大单位", "项目编码": f"P{i:05d}", "项目名称": f"项目{i}", "预算数": "1.00",
             "财政资金": "1.00", "其他资金": "0.00", "资金用途": "", "主管部门": ""} for i in range(STATUS_ROWS_SHOWN + 7)]
    reg = Registry("big.csv", rows)
    out = console_of(status_of(registry=reg), reg)
    assert "另有 8 项未完成" in out  # 57 projects and the unit-level form open, 50 shown
    assert "P00049" in out.split("另有")[0] and "P00050" not in out.split("另有")[0]
    verbose = console_of(status_of(registry=reg), reg, verbose=True)
    assert "另有" not in verbose and f"P{STATUS_ROWS_SHOWN + 6:05d}" in verbose  # verbose lists every item


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_console_language(lang):
    out = console_of(status_of(unreadable("inbox/说明.xlsx")), lang=lang)
    assert ("未报送" in out) == (lang == "zh") and ("missing" in out) == (lang == "en")


def test_names_that_are_not_utf8_are_ordered_by_their_saved_time(tmp_path):
    """Defect: status read the saved time (and the file time) from the printable path, which for a GBK
    name (\\xNN escapes) is no file: it fell back to the file time, and could follow another return
    than consolidate, which reads the file system path."""
    from xlperf.rules import Options, check_duplicates

    names = [os.fsdecode(bytes(tmp_path) + b"/" + "党史".encode("gbk") + n + b".xlsx") for n in (b"1", b"2")]
    bad = project_return(saved_zip(Path(names[0]), "2022-03-02T09:00:00Z"), mtime=100, cells=("E10",))
    fix = project_return(saved_zip(Path(names[1]), "2022-03-01T09:00:00Z"), mtime=900)
    assert "\\x" in bad.path and bad.source == names[0]
    s = project(status_of(bad, fix))
    assert s.state == "accepted" and s.newer_rejected["path"] == bad.path  # saved later than the fix
    assert newest_first([fix, bad]) == [bad, fix]
    twins = [project_return(names[0], mtime=100), project_return(names[1], mtime=900)]
    check_duplicates(twins, Options(duplicates="latest"))
    kept = next(r for r in twins if r.status == "accepted")
    assert project(status_of(*twins)).file == kept.path == twins[0].path  # status follows consolidate
    late = os.fsdecode(bytes(tmp_path) + b"/" + CODE.encode() + "更正".encode("gbk") + b".ods")
    Path(late).write_bytes(b"x")
    os.utime(late, (2000, 2000))
    s = project(status_of(fix, unreadable(late)))
    assert [u["path"] for u in s.unreadable] == [unreadable(late).path]  # its time read from the disk


def test_console_prints_untrusted_names_as_text(tmp_path):
    """File and unit names come from outside: rich markup in them is shown, never interpreted."""
    fb = tmp_path / "[b]反馈"
    bad = project_return("inbox/[red]退回.xlsx", mtime=1, cells=("E10",))
    odd = unreadable(f"inbox/{OTHER}_[bold]x.ods")
    stray = unreadable("inbox/[link=x]说明.xlsx")
    st = status_of(bad, odd, stray, feedback_dir=fb)
    reg = Registry("r.csv", [{**r, "单位名称": "[u]单位[/u]", "主管部门": "[i]部门[/i]", "项目名称": "[s]" + r["项目名称"]}
                             for r in REGISTRY.rows])
    out = console_of(status_of(bad, odd, stray, registry=reg, feedback_dir=fb), reg, feedback_dir=fb)
    tables, rest = out.split("催报清单")  # the tables and totals, then the reminders
    for text in ("[red]退回.xlsx", "[bold]x.ods", "[link=x]说明.xlsx", "[u]单位[/u]", "[i]部门[/i]", str(fb),
                 "[s]" + REGISTRY.get(CODE)["项目名称"]):
        assert text in tables, text
    assert "[red]退回.xlsx" in rest and "[u]单位[/u]" in rest
    assert st.unidentified[0]["path"] == stray.path


def test_console_keeps_codes_and_reminder_lines_whole_when_narrow():
    bad = project_return("inbox/" + "很长的文件名" * 8 + ".xlsx", mtime=1, cells=("E10",))
    buf = io.StringIO()
    con = Console(file=buf, width=60, color_system=None, legacy_windows=False)
    st = status_of(bad)
    print_status(con, st, status_json(st, REGISTRY), "zh")
    out = buf.getvalue()
    rows = [line for line in out.splitlines() if CODE in line]
    assert rows and all("│" in line for line in rows[:1])  # the code stays whole in its table cell
    line = next(line for line in reminder_text(UNIT, REGISTRY.units[UNIT], [project(st)], None).splitlines()
                if "被退回" in line)
    assert line in out.splitlines()  # a reminder is pasted into a message: never wrapped by the console


def test_exactly_the_quoted_number_of_errors_has_no_more_line():
    s = project(status_of(project_return("inbox/x.xlsx", mtime=1, cells=("E10", "E13", "E16"))))
    lines = reminder_text(UNIT, "u", [s], None).splitlines()
    assert len(lines) == 2 + REMINDER_ERRORS and "另有" not in "\n".join(lines)


def test_errors_in_the_language_asked_for():
    bad = project_return("inbox/bad.xlsx", mtime=2, cells=("E10",))
    good = project_return("inbox/good.xlsx", mtime=1)
    st = status_of(bad, unreadable("inbox/说明.xlsx"), lang="en")
    assert project(st).errors[0]["message"] == bad.issues[0].message("en") != bad.issues[0].message("zh")
    assert project(st).problems == [f"E10: {bad.issues[0].message('en')}"]
    assert st.unidentified[0]["message"] == Issue.make("F003").message("en")
    s = project(status_of(good, bad, lang="en"))
    assert s.newer_rejected["errors"][0]["message"] == bad.issues[0].message("en")


# ------------------------------------------------------------ the console, cell by cell ---------
def ascii_registry() -> Registry:
    """Two units under two departments, every name ASCII: any Chinese in an English console is a UI text."""
    rows = [{"单位编码": u, "单位名称": f"Unit {u}", "项目编码": f"{u}PROJECT{i}", "项目名称": f"Project {u}-{i}",
             "预算数": Decimal("1.00"), "财政资金": Decimal("1.00"), "其他资金": Decimal("0.00"), "资金用途": "",
             "主管部门": f"Dept {u[-1]}"} for u in ("700001", "700002") for i in (1, 2)]
    return Registry("ascii.csv", rows)


def cells(out: str) -> list[list[str]]:
    """The rows of every table printed: the text of each cell."""
    return [[c.strip() for c in line.strip().strip("│┃").split("│")] for line in out.splitlines()
            if line.startswith("│")]


def ascii_round(reg):
    good = project_return("in/good.xlsx", code="700001PROJECT1", mtime=1)
    good.data.fields["项目编码"] = "700001PROJECT1"
    later = project_return("in/later.xlsx", code="700001PROJECT1", mtime=2, cells=("E10",))
    later.data.fields["项目编码"] = "700001PROJECT1"
    lost = unreadable("in/700002PROJECT1_x.ods", code="F002")
    stray = unreadable("in/note.xlsx")
    return status_of(good, later, lost, stray, registry=reg, lang="en", deadline=date(2022, 3, 15))


def test_english_console_has_no_chinese_ui_text(tmp_path):
    reg = ascii_registry()
    st = ascii_round(reg)
    out = console_of(st, reg, "en", feedback_dir=tmp_path)
    ui_part = out.split("reminders (deadline")[0]  # the reminders quote the form's sheet name and the values
    cjk = [ch for ch in ui_part if "\u4e00" <= ch <= "\u9fff" or ch in "，：；（）「」"]
    assert cjk == [], "".join(cjk)
    lines = out.splitlines()
    for title in ("collection status", "files that match no project or unit", "by unit",
                  "by supervising department"):
        assert title in [line.rstrip() for line in lines], title  # a title line of its own, flush left
    assert "1 accepted, 0 rejected, 2 missing" in lines
    assert "1 unreadable; 2 unit-level forms not accepted; 1 unidentified files" in lines
    assert any(line.startswith("1 rejected returns have no feedback file in") for line in lines)
    assert "reminders (deadline 2022-03-15):" in lines and "XX" not in out
    for block in status_json(st, reg, "en")["reminders"]:
        assert block + "\n\n" in out


def test_console_table_cells(tmp_path):
    reg = ascii_registry()
    st = ascii_round(reg)
    rows = cells(console_of(st, reg, "en", verbose=True))
    assert ["700001", "700001PROJECT1", "Project 700001-1", "accepted", "in/good.xlsx",
            "a later return in/later.xlsx was rejected"] in rows
    assert ["700002", "700002PROJECT1", "Project 700002-1", "unreadable", "in/700002PROJECT1_x.ods",
            f"F002 {Issue.make('F002', reason='x').message('en')}"] in rows
    assert ["700001", "", UNIT_SPEC.title_en, "missing", "", ""] in rows
    assert ["in/note.xlsx", "F003", Issue.make("F003").message("en")] in rows
    assert ["700001", "Unit 700001", "2", "1", "0", "0", "1", "missing"] in rows
    assert ["700002", "Unit 700002", "2", "0", "0", "1", "1", "missing"] in rows
    assert ["Dept 1", "1", "2", "1", "0", "0", "1"] in rows and ["Dept 2", "1", "2", "0", "0", "1", "1"] in rows
    good = project_return("in/good.xlsx", code="700001PROJECT1", mtime=1)
    good.data.fields["项目编码"] = "700001PROJECT1"
    after = unreadable("in/700001PROJECT1_b.ods", mtime=5)
    rows = cells(console_of(status_of(good, after, registry=reg, lang="en"), reg, "en"))
    assert ["700001", "700001PROJECT1", "Project 700001-1", "accepted", "in/good.xlsx；in/700001PROJECT1_b.ods",
            "a later file in/700001PROJECT1_b.ods could not be read"] in rows


def test_console_totals_lines_by_what_is_open():
    reg = ascii_registry()
    files = [project_return(f"in/{r['项目编码']}.xlsx", code=r["项目编码"]) for r in reg.rows]
    for f, r in zip(files, reg.rows):
        f.data.fields["项目编码"] = r["项目编码"]
    units = [unit_return(f"in/u{n}.xlsx") for n in (1, 2)]
    for u, code in zip(units, ("700001", "700002")):
        u.data.meta["unit_code"] = code
    out = console_of(status_of(*files, *units, registry=reg, lang="en"), reg, "en")
    assert "unreadable;" not in out and "more open items" not in out and "reminders" not in out
    lost = unreadable(f"in/{reg.rows[0]['项目编码']}_late.ods")
    out = console_of(status_of(*files[1:], *units, lost, registry=reg, lang="en"), reg, "en")
    assert "1 unreadable; 0 unit-level forms not accepted; 0 unidentified files" in out.splitlines()
    out = console_of(status_of(*files, units[0], registry=reg, lang="en"), reg, "en")
    assert "0 unreadable; 1 unit-level forms not accepted; 0 unidentified files" in out.splitlines()


def test_narrow_console_folds_rather_than_cuts(tmp_path):
    reg = ascii_registry()
    buf = io.StringIO()
    con = Console(file=buf, width=70, color_system=None, legacy_windows=False)
    st = ascii_round(reg)
    print_status(con, st, status_json(st, reg, "en"), "en", feedback_dir=tmp_path / ("long" * 10))
    out = buf.getvalue()
    assert "…" not in out.split("1 accepted, ")[0]  # long names fold onto more lines, never cut with an ellipsis
    lines = out.splitlines()
    assert "1 unreadable; 2 unit-level forms not accepted; 1 unidentified files" in lines  # not wrapped
    assert any(line.startswith("1 rejected returns have no feedback file in") and line.endswith("--feedback "
               + str(tmp_path / ("long" * 10))) for line in lines)


@pytest.mark.parametrize("width", [24, 80])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unit_codes_are_never_cut_on_a_narrow_console(width, lang):
    """Defect: on a 24-column console the unit column was cut to its first characters, so units 700001
    and 700002 both read 70; every unit code stays whole in the status table and in the roll-up by unit."""
    reg = Registry("units.csv", [{**r, "主管部门": ""} for r in ascii_registry().rows])  # two tables only
    good = project_return("in/good.xlsx", code="700001PROJECT1", mtime=1)
    later = project_return("in/later.xlsx", code="700001PROJECT1", mtime=2, cells=("E10",))
    st = status_of(good, later, unreadable("in/700002PROJECT1_x.ods"), registry=reg, lang=lang)
    buf = io.StringIO()
    con = Console(file=buf, width=width, color_system=None, legacy_windows=False)
    print_status(con, st, status_json(st, reg, lang), lang)
    tables = buf.getvalue().split(ui("reminders", lang))[0]
    first_cells = [row[0] for row in cells(tables) if row[0]]
    for unit in reg.units:
        open_items = sum(1 for s in [*st.projects, *st.unit_forms.values()] if s.unit_code == unit and s.open)
        # each open item of the unit in the status table, and the unit's roll-up row, carry the whole code
        assert first_cells.count(unit) == open_items + 1, (unit, first_cells)
    assert set(first_cells) == set(reg.units), first_cells  # and no piece of a code cut or folded


def test_reminders_are_printed_without_highlighting():
    reg = ascii_registry()
    st = ascii_round(reg)
    buf = io.StringIO()
    con = Console(file=buf, width=300, force_terminal=True, color_system="standard", legacy_windows=False)
    print_status(con, st, status_json(st, reg, "en"), "en")
    out = buf.getvalue()
    for block in status_json(st, reg, "en")["reminders"]:
        assert block in out  # no colour codes inside: the text is pasted into a message as printed


# ------------------------------------------------------------ edges found by mutation testing ---------
def test_english_reminders_for_every_state():
    reg = ascii_registry()
    st = ascii_round(reg)
    st.deadline = None
    blocks = reminders(st, reg, "en")
    assert [b["unit_name"] for b in blocks] == ["Unit 700001", "Unit 700002"]
    first, second = (b["text"].splitlines() for b in blocks)
    assert first[0] == "700001 Unit 700001: please complete the following 3 item(s) as soon as possible:"
    assert first[1].startswith("1. 700001PROJECT1「Project 700001-1」: accepted (good.xlsx), but the later later.xlsx")
    assert second[1] == ("1. 700002PROJECT1「Project 700002-1」: the file received cannot be read; fix it as said "
                         "and send it again:")
    assert second[2] == f"   - file 700002PROJECT1_x.ods cannot be read (F002): {Issue.make('F002', reason='x').message('en')}"


def test_reminders_skip_a_unit_with_nothing_open():
    reg = ascii_registry()
    done = [project_return(f"in/{c}.xlsx", code=c) for c in ("700001PROJECT1", "700001PROJECT2")]
    unit = unit_return("in/u.xlsx")
    unit.data.meta["unit_code"] = "700001"
    st = status_of(*done, unit, registry=reg)
    assert [b["unit_code"] for b in reminders(st, reg)] == ["700002"] and st.open_forms("999999") == []


def test_long_codes_inside_names_longest_first():
    rows = [{**REGISTRY.rows[0], "项目编码": c} for c in ("ABCDEF12", "ABCDEF1234", "ABC123")]
    reg = Registry("r.csv", rows)
    st = status_of(unreadable("in/xABCDEF1234v2.ods"), unreadable("in/yABC123z.ods"), registry=reg)
    assert [s.state for s in st.projects] == ["missing", "unreadable", "unreadable"] and st.unidentified == []


def test_unidentified_files_of_both_kinds_are_kept():
    stranger = project_return("in/stranger.xlsx", mtime=1, cells=("E10",), code="999999999XXXXXXXXXXXX")
    st = status_of(unreadable("in/note.xlsx"), stranger)
    assert sorted(u["path"] for u in st.unidentified) == ["in/note.xlsx", "in/stranger.xlsx"]


def test_form_state_fields_and_departments():
    reg = Registry("r.csv", [{k: v for k, v in r.items() if k != "主管部门"} for r in REGISTRY.rows])
    s = project(status_of(registry=reg))
    assert (s.unit_code, s.unit_name, s.department) == (UNIT, REGISTRY.units[UNIT], "")


def test_unreadable_at_the_same_time_as_the_accepted_return_is_history():
    good = project_return("in/good.xlsx", mtime=1000)
    same = unreadable(f"in/{CODE}_x.ods", mtime=1000)
    assert project(status_of(good, same)).unreadable == []


def test_problems_of_errors_without_a_cell():
    res = make_return(path="in/x.xlsx")
    res.add(Issue.make("E001", "", "", title="t", form_sheet=SPEC.sheet))
    res.settle()
    assert project(status_of(res)).problems == [res.issues[0].message()]
    assert project(status_of(res, lang="en")).problems == [res.issues[0].message("en")]


# ------------------------------------------------------------ later rounds and console layout ---------
def test_a_later_round_expects_no_unit_level_form():
    """Monitoring and self-evaluation collect project forms only: no unit-level form is followed, counted,
    shown as a column or reminded, while projects, unidentified files and the deadline are kept."""
    from inmemory import TABLE_CODE, make_table_return

    _, mon = make_table_return("monitoring")
    mon.path, mon.mtime = "in/mon.xlsx", 1000.0
    stray = unreadable("in/note.xlsx")
    st = status_of(mon, stray, deadline=date(2022, 9, 30))
    assert st.unit_forms == {} and not st.unit_forms_expected and st.deadline == date(2022, 9, 30)
    assert len(st.projects) == len(REGISTRY.rows) and project(st, TABLE_CODE).state == "accepted"
    assert [u["path"] for u in st.unidentified] == ["in/note.xlsx"]
    assert st.open_forms(UNIT) == [s for s in st.projects if s.unit_code == UNIT and s.state == "missing"]
    roll = rollup(st, REGISTRY)
    assert {u["unit_form"] for u in roll["by_unit"]} == {""}
    out = console_of(st, verbose=True)
    headers = [line for line in out.splitlines() if line.startswith("┃")]
    assert headers and not any("部门整体绩效目标表" in h for h in headers)  # no unit-form column
    # nor a count of unit-level forms in the totals (an unidentified file makes that line appear)
    assert "无法识别的文件 1" in out and "部门整体绩效目标表" not in out
    assert "unit-level" not in console_of(st, lang="en") and "1 unidentified files" in console_of(st, lang="en")
    assert not any("部门整体绩效目标表" in b for b in status_json(st, REGISTRY)["reminders"])
    by_unit = [r for r in cells(out) if r and r[0] == UNIT and len(r) == 7]  # 单位编码 … 未报送, no unit-form column
    assert by_unit and by_unit[0][1] == REGISTRY.units[UNIT]
    # the targets round (or nothing received yet) still expects one per unit
    assert status_of().unit_forms_expected and rollup(status_of(), REGISTRY)["by_unit"][0]["unit_form"] == "missing"


def test_console_column_headings_and_titles_flush_left():
    reg = two_unit_registry()
    out = console_of(status_of(unreadable("in/note.xlsx"), registry=reg), reg)
    lines = [line.rstrip() for line in out.splitlines()]
    for title in ("报送情况", "无法识别的文件（对应不到任何项目或单位）", "按单位汇总", "按主管部门汇总"):
        assert title in lines, title  # a title line of its own, not centred over a wide table
    headers = [line for line in lines if line.startswith("┃")]
    from xlperf.messages import ui

    heading_of = {  # every column of each table, in the order printed
        "status": ("col_unit", "col_project_code", "col_project_name", "status", "file", "col_note"),
        "unidentified": ("file", "code", "message"),
        "by unit": ("col_unit_code", "col_unit_name", "col_projects", "state_accepted", "col_unit_form"),
        "by department": ("col_department", "col_units", "col_projects", "state_missing"),
    }
    assert len(headers) == len(heading_of)
    for header, (title, keys) in zip(headers, heading_of.items()):
        for key in keys:
            word = ui(key, "zh")
            assert word in header, (title, key, word)


def test_english_reminders_heading_and_hidden_rows_without_deadline():
    rows = [{"单位编码": "700009", "单位名称": "Big", "项目编码": f"P{i:05d}", "项目名称": f"p{i}", "预算数": "1.00",
             "财政资金": "1.00", "其他资金": "0.00", "资金用途": "", "主管部门": ""} for i in range(STATUS_ROWS_SHOWN + 2)]
    reg = Registry("big.csv", rows)
    lines = console_of(status_of(registry=reg, lang="en"), reg, "en").splitlines()
    assert "reminders:" in lines and "… 3 more open items: see --json or --verbose" in lines


def test_totals_lines_are_never_wrapped_on_a_narrow_console():
    """The one-line totals (and the hidden-rows line) are soft-wrapped: the terminal folds them, rich inserts
    no line break, so a copied line stays whole."""
    rows = [{"单位编码": "700009", "单位名称": "Big", "项目编码": f"P{i:05d}", "项目名称": f"p{i}", "预算数": "1.00",
             "财政资金": "1.00", "其他资金": "0.00", "资金用途": "", "主管部门": ""} for i in range(STATUS_ROWS_SHOWN + 2)]
    reg = Registry("big.csv", rows)
    st = status_of(unreadable("in/P00001_x.ods"), registry=reg, lang="en")
    buf = io.StringIO()
    con = Console(file=buf, width=24, color_system=None, legacy_windows=False)
    print_status(con, st, status_json(st, reg, "en"), "en")
    lines = buf.getvalue().splitlines()
    assert "… 3 more open items: see --json or --verbose" in lines
    assert "0 accepted, 0 rejected, 51 missing" in lines  # and P00001 unreadable
    assert "1 unreadable; 1 unit-level forms not accepted; 0 unidentified files" in lines
