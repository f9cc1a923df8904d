"""Collection up a unit tree: 二级单位 send masters up, the 主管部门 consolidates them with direct returns."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import TREE_DEPARTMENT as DEPARTMENT
from conftest import TREE_PLAN as PLAN
from conftest import TREE_UNITS as UNITS
from conftest import inbox, run_cli, tree_status, tree_sub_masters
from conftest import write_registry_csv as _write_registry
from xlperf.collection import META_SHEET, VIA_COLUMN
from xlperf.master import SHEETS


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict:
    """The 主管部门's registry and one per 二级单位, the filled returns, and each 二级单位's master made by the CLI."""
    from xlperf.fill import fill_project, load_projects
    from xlperf.registry import bundled_registry_path, load_registry
    from xlperf.spec import load_spec
    from xlperf.writer import generate

    root = tmp_path_factory.mktemp("tree")
    rows = list(csv.DictReader(open(bundled_registry_path(), encoding="utf-8-sig")))
    assert len(rows) == len(PLAN)
    for row, unit in zip(rows, PLAN):
        row["单位编码"], row["单位名称"] = UNITS[unit]
        row["主管部门"] = DEPARTMENT
    registry = _write_registry(root / "registry.csv", rows)
    reg = load_registry(registry)
    spec = load_spec()
    templates = generate(spec, reg.rows, root / "templates", password="pw")
    seed = load_projects()
    returns: dict[str, dict[str, Path]] = {u: {} for u in UNITS}
    for row, tpl, unit in zip(reg.rows, templates, PLAN):
        folder = root / "returns" / unit
        folder.mkdir(parents=True, exist_ok=True)
        fill_project(tpl, folder / tpl.name, seed[row["项目编码"]], spec)
        returns[unit][row["项目编码"]] = folder / tpl.name
    masters = tree_sub_masters(root, rows)
    return {"root": root, "registry": registry, "returns": returns, "masters": masters}


def _folder(tree: dict, name: str, *files: Path) -> Path:
    """The 主管部门's inbox: copies of the files given (the sub-masters and the originals stay untouched)."""
    return inbox(tree["root"], name, *files)


def _consolidate(tree: dict, folder: Path, *extra) -> tuple:
    out = folder.parent / f"{folder.name}_out"
    shutil.rmtree(out, ignore_errors=True)
    proc = run_cli("consolidate", folder, "-r", tree["registry"], "-o", out / "master.xlsx",
                   "--json", out / "report.json", *extra)
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return proc, report, out / "master.xlsx"


def _table(path: Path, sheet: str) -> list[dict]:
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _meta(path: Path) -> dict:
    ws = openpyxl.load_workbook(path)[META_SHEET]
    return {k: v for k, v in ws.iter_rows(values_only=True)}


def _direct(tree: dict) -> Path:
    [path] = tree["returns"]["C"].values()
    return path


def test_a_master_describes_itself_in_hidden_metadata(tree):
    wb = openpyxl.load_workbook(tree["masters"]["A"])
    assert wb.sheetnames == [*SHEETS, META_SHEET] and wb[META_SHEET].sheet_state == "veryHidden"
    meta = _meta(tree["masters"]["A"])
    assert meta["kind"] == "master" and meta["form_id"] == "xlperf.project-targets"
    assert meta["units"] == UNITS["A"][0] and meta["departments"] == DEPARTMENT
    assert meta["projects"] == "7" and meta["year"].isdigit() and meta["created_at"] and meta["tool_version"]


def test_reading_a_master_gives_one_record_per_project(tree):
    from xlperf.reader import read_file

    res = read_file(tree["masters"]["A"])
    assert res.kind == "master" and not res.issues
    assert sorted(r.project_code for r in res.records) == sorted(tree["returns"]["A"])
    rec = next(r for r in res.records if r.project_code == "130304211DGTGIWENVORV")
    assert rec.kind == "project" and rec.data.fields["预算数"] == "2.7"  # as a template holds it
    assert [rec.data.fields[p] for p in ("3月底", "6月底", "10月底", "12月底")] == [25, 50, 75, 100]
    assert len(rec.data.indicators) == 9 and rec.data.origin["home"] == ("项目汇总", "C2")
    assert rec.data.origin["file"].endswith("returns/A/" + tree["returns"]["A"]["130304211DGTGIWENVORV"].name)


def test_department_consolidates_sub_masters_and_a_direct_return(tree):
    folder = _folder(tree, "inbox", tree["masters"]["A"], tree["masters"]["B"], _direct(tree))
    proc, report, master = _consolidate(tree, folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["summary"]["accepted"] == 15 and report["summary"]["errors"] == 0
    projects = _table(master, "项目汇总")
    codes = [p["项目编码"] for p in projects]
    assert len(codes) == 15 and set(codes) == {c for u in UNITS for c in tree["returns"][u]}
    for p in projects:
        unit = next(u for u in UNITS if p["项目编码"] in tree["returns"][u])
        original = tree["returns"][unit][p["项目编码"]]
        if unit == "C":  # a direct return: its own file, no sub-master
            assert p[VIA_COLUMN] is None and p["来源文件"].endswith(f"inbox/{original.name}")
        else:  # the sub-master it came through, and the original return's file and cell as that master kept them
            assert p[VIA_COLUMN].endswith(f"inbox/master_{unit}.xlsx")
            assert p["来源文件"].endswith(f"returns/{unit}/{original.name}") and p["来源单元格"] == "B3"
            assert p["单位编码"] == UNITS[unit][0]
    indicators = _table(master, "绩效指标")
    assert len(indicators) == 135
    via_a = [r for r in indicators if (r[VIA_COLUMN] or "").endswith("master_A.xlsx")]
    assert len(via_a) == 63 and all(r["来源文件"].startswith(str(tree["root"] / "returns" / "A")) or
                                    "returns/A/" in r["来源文件"] for r in via_a)
    assert all(":" in r["来源单元格"] for r in via_a)  # the original cell range, not the sub-master's row
    meta = _meta(master)
    assert meta["units"] == "201001,201002,201003" and meta["projects"] == "15"


def test_tampered_sub_master_is_an_error_at_its_own_cell(tree):
    code = "130304213BQ28XLGKG7TX"
    tampered = tree["root"] / "tampered" / "master_A.xlsx"
    tampered.parent.mkdir(exist_ok=True)
    wb = openpyxl.load_workbook(tree["masters"]["A"])
    ws = wb["项目汇总"]
    head = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, head.index("项目编码") + 1).value == code)
    cell = ws.cell(row, head.index("预算数") + 1)
    cell.value = 99.0
    wb.save(tampered)
    folder = _folder(tree, "inbox_tampered", tampered, tree["masters"]["B"], _direct(tree))
    proc, report, master = _consolidate(tree, folder)
    assert proc.returncode == 1
    [rec] = [f for f in report["files"] if f["project_code"] == code]
    assert rec["status"] == "rejected" and rec["path"].endswith("inbox_tampered/master_A.xlsx")
    e102 = next(i for i in rec["issues"] if i["code"] == "E102")
    assert (e102["sheet"], e102["cell"]) == ("项目汇总", cell.coordinate)
    assert "99.00" in e102["message"] and "5.00" in e102["message"]
    assert code not in {p["项目编码"] for p in _table(master, "项目汇总")}
    assert len(_table(master, "项目汇总")) == 14  # the other projects of that master still count
    assert "master_A.xlsx" in proc.stdout and f"项目汇总!{cell.coordinate}" in proc.stdout


def test_a_project_arriving_twice_is_counted_once(tree):
    code = "130304211DGTGIWENVORV"
    again = tree["returns"]["A"][code]  # the unit also sent its return straight to the 主管部门
    folder = _folder(tree, "inbox_twice", tree["masters"]["A"], tree["masters"]["B"], _direct(tree), again)
    proc, report, master = _consolidate(tree, folder)
    assert proc.returncode == 0, proc.stdout
    rows = [p for p in _table(master, "项目汇总") if p["项目编码"] == code]
    assert len(rows) == 1 and rows[0][VIA_COLUMN] is None  # the direct return counts
    assert rows[0]["来源文件"].endswith(f"inbox_twice/{again.name}")
    [copy] = [f for f in report["files"] if f["project_code"] == code and f["path"].endswith("master_A.xlsx")]
    assert copy["status"] == "skipped"
    [w] = [i for i in copy["issues"] if i["code"] == "W241"]
    assert again.name in w["message"] and "master_A.xlsx（项目汇总!C2）" in w["message"]
    assert len(_table(master, "项目汇总")) == 15 and len(_table(master, "绩效指标")) == 135


def test_two_sub_masters_with_the_same_projects_count_once(tree):
    folder = _folder(tree, "inbox_two", tree["masters"]["A"], tree["masters"]["B"], _direct(tree))
    shutil.copy2(tree["masters"]["A"], folder / "master_A_again.xlsx")
    proc, report, master = _consolidate(tree, folder)
    assert proc.returncode == 0, proc.stdout
    assert sorted(p["项目编码"] for p in _table(master, "项目汇总")) == sorted(
        c for u in UNITS for c in tree["returns"][u])
    skipped = [f for f in report["files"] if f["status"] == "skipped"]
    assert len(skipped) == 7 and all(any(i["code"] == "W241" for i in f["issues"]) for f in skipped)


def test_master_without_or_with_forged_metadata_is_refused_clearly(tree):
    work = tree["root"] / "forged"
    work.mkdir(exist_ok=True)
    variants = {}

    def variant(name, change):
        wb = openpyxl.load_workbook(tree["masters"]["A"])
        change(wb)
        variants[name] = work / f"{name}.xlsx"
        wb.save(variants[name])

    variant("no_meta", lambda wb: wb.remove(wb[META_SHEET]))
    variant("forged_kind", lambda wb: wb[META_SHEET].__setitem__("B1", "template"))
    variant("unknown_form", lambda wb: wb[META_SHEET].__setitem__("B2", "xlperf.evil"))
    variant("no_column", lambda wb: wb["绩效指标"].delete_cols(8))  # 指标值
    variant("no_sheet", lambda wb: wb.remove(wb["绩效指标"]))
    variant("old_year", lambda wb: wb[META_SHEET].__setitem__("B4", "2019"))
    folder = _folder(tree, "inbox_forged", *variants.values(), _direct(tree))
    # the round's year said (the registry has no 年度): else the 7 projects of the old master outvote the 1 return
    proc, report, master = _consolidate(tree, folder, "--year", _meta(tree["masters"]["A"])["year"])
    assert proc.returncode == 1
    by_path = {}
    for f in report["files"]:
        by_path.setdefault(Path(f["path"]).stem, []).append(f)
    first = {name: by_path[name][0]["issues"][0] for name in variants}
    assert first["no_meta"]["code"] == "E141" and META_SHEET in first["no_meta"]["message"]
    assert (first["forged_kind"]["code"], first["forged_kind"]["sheet"], first["forged_kind"]["cell"]) == (
        "E142", META_SHEET, "B1")
    assert first["unknown_form"]["code"] == "E142" and "xlperf.evil" in first["unknown_form"]["message"]
    assert (first["no_column"]["code"], first["no_column"]["sheet"]) == ("E144", "绩效指标")
    assert "指标值" in first["no_column"]["message"]
    assert (first["no_sheet"]["code"], first["no_sheet"]["sheet"]) == ("E143", "绩效指标")
    # another year's master: every project of it is refused as a return of another year would be
    assert len(by_path["old_year"]) == 7 and all(
        f["status"] == "rejected" and f["issues"][0]["code"] == "E010" and f["issues"][0]["cell"] == "B4"
        for f in by_path["old_year"])
    for name in ("no_meta", "forged_kind", "unknown_form", "no_column", "no_sheet"):
        assert [f["status"] for f in by_path[name]] == ["rejected"], name  # one entry: nothing of it is used
    import jsonschema

    from conftest import ROOT

    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)  # a broken master's entry (kind master) is in the documented shape
    assert {f["kind"] for f in report["files"] if Path(f["path"]).stem == "no_sheet"} == {"master"}
    # the batch went on: the direct return is in the master, nothing of the broken masters is
    assert [p["项目编码"] for p in _table(master, "项目汇总")] == list(tree["returns"]["C"])


def test_master_problems_in_english(tree):
    folder = _folder(tree, "inbox_en", tree["masters"]["A"])
    wb = openpyxl.load_workbook(folder / "master_A.xlsx")
    wb[META_SHEET]["B1"] = "template"
    wb.save(folder / "master_A.xlsx")
    proc = run_cli("validate", folder, "-r", tree["registry"], "--lang", "en")
    assert proc.returncode == 1 and "E142" in proc.stdout and "metadata 'kind' is invalid" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_status_rolls_up_sub_masters_by_department_and_unit(tree):
    folder = _folder(tree, "inbox_status", tree["masters"]["A"], tree["masters"]["B"], _direct(tree))
    data = tree_status(folder, tree["registry"], tree["root"] / "status.json")
    carried = [p for p in data["projects"] if p["unit_code"] == UNITS["A"][0]]
    assert all(p["file"].endswith("master_A.xlsx") and p["state"] == "accepted" for p in carried)
    assert "按主管部门汇总" in data["_stdout"] and DEPARTMENT in data["_stdout"]


# ---------------------------------------------------------------- unit-level forms through a sub-master ----
@pytest.fixture(scope="module")
def unit_tree(tree) -> dict:
    """The same tree where every unit also filled its 部门整体绩效目标表: A's and B's went to their own 二级
    consolidation only (so the 主管部门 sees them only inside master_A / master_B), C's came directly."""
    from xlperf.fill import fill_workbook, input_cells, load_unit
    from xlperf.registry import load_registry
    from xlperf.spec import UNIT_FORM, load_spec
    from xlperf.writer import generate, unit_rows

    root = tree["root"] / "units"
    spec = load_spec(UNIT_FORM)
    reg = load_registry(tree["registry"])
    templates = generate(spec, unit_rows(reg.rows), root / "templates", password="pw")
    content = load_unit()
    forms, masters = {}, {}
    for unit, tpl in zip(UNITS, templates):
        assert UNITS[unit][0] in tpl.name
        folder = root / "returns" / unit
        shutil.copytree(tree["root"] / "returns" / unit, folder)
        cells = input_cells(spec, content)
        cells[spec.field("总体绩效目标").cell] = f"{UNITS[unit][1]}的总体绩效目标。"  # each unit its own text
        fill_workbook(tpl, folder / tpl.name, cells, spec.sheet)
        forms[unit] = folder / tpl.name
    for unit in "AB":
        rows = list(csv.DictReader(open(tree["registry"], encoding="utf-8")))
        sub_registry = _write_registry(root / f"registry_{unit}.csv", [r for r in rows if r["单位编码"] == UNITS[unit][0]])
        masters[unit] = root / f"sub_{unit}" / f"master_{unit}.xlsx"
        proc = run_cli("consolidate", root / "returns" / unit, "-r", sub_registry, "-o", masters[unit], "-q")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return {**tree, "forms": forms, "unit_masters": masters}


def _unit_inbox(unit_tree: dict, name: str, *extra: Path) -> Path:
    return _folder(unit_tree, name, unit_tree["unit_masters"]["A"], unit_tree["unit_masters"]["B"], _direct(unit_tree),
                   unit_tree["forms"]["C"], *extra)


def _part1(rows: list[dict], unit_code: str) -> list[tuple]:
    return [(r["部分"], r["序号"], r["标题"], r["内容"]) for r in rows if r["单位编码"] == unit_code]


def test_unit_level_forms_come_up_through_sub_masters(unit_tree):
    from xlperf.reader import read_file

    sub = read_file(unit_tree["unit_masters"]["A"])
    [unit_record] = [r for r in sub.records if r.kind == "unit"]
    assert unit_record.project_code == UNITS["A"][0] and len(sub.records) == 8
    folder = _unit_inbox(unit_tree, "inbox_units")
    proc, report, master = _consolidate(unit_tree, folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    units = [f for f in report["files"] if f["kind"] == "unit"]
    assert sorted((f["project_code"], f["status"]) for f in units) == [(UNITS[u][0], "accepted") for u in "ABC"]
    assert {f["path"] for f in units if f["project_code"] == UNITS["A"][0]} == {str(folder / "master_A.xlsx")}
    part1 = _table(master, "部门整体目标")
    for unit in "ABC":  # every unit's Part 1 is in the 主管部门's master, as its own 二级 master has it
        rows = _part1(part1, UNITS[unit][0])
        assert rows and rows[0][3] == f"{UNITS[unit][1]}的总体绩效目标。"
        if unit != "C":
            assert rows == _part1(_table(unit_tree["unit_masters"][unit], "部门整体目标"), UNITS[unit][0])
    via = [r for r in part1 if r["单位编码"] == UNITS["A"][0]]
    assert all(r[VIA_COLUMN].endswith("inbox_units/master_A.xlsx") for r in via)
    # the original unit form's file and cell, as master_A recorded them
    assert all(r["来源文件"].endswith(f"units/returns/A/{unit_tree['forms']['A'].name}") for r in via)
    cells = {(r["部分"], r["序号"]): r["来源单元格"] for r in via}
    assert (cells[("总体绩效目标", 0)], cells[("分项绩效目标", 1)], cells[("工作保障措施", 1)]) == ("B3", "B7", "B20")
    assert all(r[VIA_COLUMN] is None for r in part1 if r["单位编码"] == UNITS["C"][0])


def test_status_and_publish_see_unit_forms_carried_by_sub_masters(unit_tree):
    folder = _unit_inbox(unit_tree, "inbox_units_status")
    out = unit_tree["root"] / "units_status.json"
    proc = run_cli("status", folder, "-r", unit_tree["registry"], "--json", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {u["unit_code"]: u["unit_form"] for u in data["by_unit"]} == {UNITS[u][0]: "accepted" for u in "ABC"}
    assert data["units"] == {UNITS[u][0]: "accepted" for u in "ABC"} and data["summary"]["open_units"] == 0
    assert data["reminders"] == []
    _proc, _report, master = _consolidate(unit_tree, folder)
    docs = unit_tree["root"] / "units_docs"
    proc = run_cli("publish", master, "-o", docs, "--no-pdf")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name.split("_")[0] for p in docs.glob("*.docx")) == [UNITS[u][0] for u in "ABC"]


def test_a_unit_form_arriving_twice_is_counted_once(unit_tree):
    folder = _unit_inbox(unit_tree, "inbox_units_twice", unit_tree["forms"]["A"])  # A also sent it directly
    proc, report, master = _consolidate(unit_tree, folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = UNITS["A"][0]
    [copy] = [f for f in report["files"] if f["kind"] == "unit" and f["project_code"] == code
              and f["path"].endswith("master_A.xlsx")]
    assert copy["status"] == "skipped"
    [w] = [i for i in copy["issues"] if i["code"] == "W244"]
    assert unit_tree["forms"]["A"].name in w["message"] and "master_A.xlsx（部门整体目标!A2）" in w["message"]
    rows = [r for r in _table(master, "部门整体目标") if r["单位编码"] == code]
    assert rows and all(r[VIA_COLUMN] is None for r in rows)  # the direct return counts, once
    assert len(rows) == len(_part1(_table(unit_tree["unit_masters"]["A"], "部门整体目标"), code))


def test_a_unit_form_edited_in_a_sub_master_is_an_error_at_its_cell(unit_tree):
    work = unit_tree["root"] / "units_tampered"
    work.mkdir(exist_ok=True)
    cells = {}

    def tamper(unit: str, column: str, row: int, value: str) -> Path:
        wb = openpyxl.load_workbook(unit_tree["unit_masters"][unit])
        ws = wb["部门整体目标"]
        head = [c.value for c in ws[1]]
        cell = ws.cell(row, head.index(column) + 1)
        cell.value = value
        cells[unit] = cell.coordinate
        wb.save(work / f"master_{unit}.xlsx")
        return work / f"master_{unit}.xlsx"

    renamed = tamper("A", "单位名称", 2, "改过的单位")  # the locked unit name, checked against the registry
    unknown_part = tamper("B", "部分", 3, "不存在的部分")  # a part the form does not have
    folder = _folder(unit_tree, "inbox_units_tampered", renamed, unknown_part, _direct(unit_tree),
                     unit_tree["forms"]["C"])
    proc, report, master = _consolidate(unit_tree, folder)
    assert proc.returncode == 1
    issues = {}
    for unit in "AB":
        [rec] = [f for f in report["files"] if f["kind"] == "unit" and f["project_code"] == UNITS[unit][0]]
        assert rec["status"] == "rejected" and rec["path"].endswith(f"master_{unit}.xlsx")
        issues[unit] = {(i["code"], i["sheet"], i["cell"]) for i in rec["issues"]}
    assert ("E102", "部门整体目标", cells["A"]) in issues["A"]
    assert ("E145", "部门整体目标", cells["B"]) in issues["B"]
    assert {r["单位编码"] for r in _table(master, "部门整体目标")} == {UNITS["C"][0]}
    assert len(_table(master, "项目汇总")) == 15  # the masters' projects still count
