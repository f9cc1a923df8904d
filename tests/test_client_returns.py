"""Returns saved by real clients (tests/files: LibreOffice, Gnumeric, ExcelJS, SheetJS): outcomes and master content.

The files were made once by tools/make_client_returns.py (see tests/files/README.md); these tests
need none of those programs, only the committed files and the xlperf CLI.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from conftest import run_cli
from xlperf.master import INDICATOR_COLUMNS, PROJECT_COLUMNS, SHEETS
from xlperf.spec import load_spec

FILES = Path(__file__).resolve().parent / "files"
CLIENT_FOLDERS = ("libreoffice", "gnumeric", "exceljs", "exceljs_filled", "sheetjs")
ALL_FOLDERS = (*CLIENT_FOLDERS, "errors")
# every master row ends with where it came from (file, sheet, cell): that part differs by folder
SOURCE_COLUMNS = frozenset(PROJECT_COLUMNS[-3:])
# a part and a string each client writes (openpyxl writes neither): proves a file went through it
CLIENT_MARK = {"libreoffice": ("docProps/app.xml", "<Application>LibreOffice/"),
               "gnumeric": ("docProps/app.xml", "<Application>gnumeric</Application>"),
               "sheetjs": ("docProps/app.xml", "<Application>SheetJS</Application>"),
               "exceljs": ("xl/workbook.xml", 'filterPrivacy="1"'),
               "exceljs_filled": ("xl/workbook.xml", 'filterPrivacy="1"')}


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def master_tables(path: Path) -> dict[str, list[list]]:
    """Every master sheet as rows, without the source file/sheet/cell columns."""
    wb = CalamineWorkbook.from_path(str(path))
    tables = {}
    for name in SHEETS:
        rows = wb.get_sheet_by_name(name).to_python() if name in wb.sheet_names else []
        keep = [i for i, h in enumerate(rows[0]) if h not in SOURCE_COLUMNS] if rows else []
        tables[name] = [[r[i] for i in keep] for r in rows]
    return tables


def outcome(file_report: dict) -> dict:
    issues = sorted(f"{i['code']} {i['sheet']}!{i['cell']}" if i["sheet"] else f"{i['code']} {i['cell']}".strip()
                    for i in file_report["issues"])
    return {"status": file_report["status"], "project_code": file_report["project_code"], "issues": issues}


def consolidate(paths: list[Path], out: Path, registry: Path) -> tuple:
    proc = run_cli("consolidate", *paths, "--registry", registry, "-o", out / "master.xlsx",
                   "--json", out / "report.json", "-q")
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return proc, report, master_tables(out / "master.xlsx")


@pytest.fixture(scope="module")
def reference(demo_dir, registry_path, tmp_path_factory):
    """The openpyxl-filled demo returns, consolidated the same way."""
    out = tmp_path_factory.mktemp("ref")
    proc, report, tables = consolidate([demo_dir / "returns"], out, registry_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["summary"]["accepted"] == 16
    return tables


@pytest.fixture(scope="module")
def client_runs(registry_path, tmp_path_factory) -> dict:
    """`xlperf consolidate --json` once per folder of tests/files, with the folder's hashes before and after."""
    runs = {}
    for folder in ALL_FOLDERS:
        src = FILES / folder
        out = tmp_path_factory.mktemp(f"client_{folder}")
        before = tree_hashes(src)
        proc, report, tables = consolidate([src], out, registry_path)
        runs[folder] = {"proc": proc, "report": report, "tables": tables,
                        "before": before, "after": tree_hashes(src)}
    return runs


def expected(folder: str) -> dict:
    return json.loads((FILES / "expected" / f"{folder}.json").read_text(encoding="utf-8"))["files"]


@pytest.mark.parametrize("folder", CLIENT_FOLDERS)
def test_client_saved_returns_consolidate_to_the_demo_master(folder, client_runs, reference):
    run = client_runs[folder]
    assert run["proc"].returncode == 0, run["proc"].stdout + run["proc"].stderr
    assert run["report"]["summary"]["accepted"] == 16, run["proc"].stdout
    for sheet in SHEETS:
        got, want = run["tables"][sheet], reference[sheet]
        assert len(got) == len(want), (sheet, len(got), len(want))
        diff = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
        assert not diff, f"{folder}: {sheet} differs from the openpyxl demo master, first rows: {diff[:3]}"


@pytest.mark.parametrize("folder", ALL_FOLDERS)
def test_each_client_saved_file_has_its_expected_outcome(folder, client_runs):
    want = expected(folder)
    got = {Path(f["path"]).name: outcome(f) for f in client_runs[folder]["report"]["files"]}
    assert sorted(got) == sorted(want) == sorted(p.name for p in (FILES / folder).glob("*.xlsx"))
    wrong = {name: (got[name], {k: want[name][k] for k in ("status", "project_code", "issues")})
             for name in want if got[name] != {k: want[name][k] for k in ("status", "project_code", "issues")}}
    assert not wrong, json.dumps(wrong, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("folder", ALL_FOLDERS)
def test_client_saved_files_are_not_modified(folder, client_runs):
    run = client_runs[folder]
    assert run["before"], folder
    assert run["after"] == run["before"]


def test_mistakes_saved_by_clients_are_caught_and_tolerated_ones_keep_their_values(client_runs, reference):
    """Rejected mistakes name the right cell; a percent typed as 25% (LibreOffice) and numbers
    sent as text (ExcelJS web form) are accepted with the same values as the clean return."""
    run = client_runs["errors"]
    files = {Path(f["path"]).name: outcome(f) for f in run["report"]["files"]}
    assert {name: o["status"] for name, o in files.items()} == {
        name: o["status"] for name, o in expected("errors").items()}
    errors_of = {name: [i for i in o["issues"] if i[0] in "EF"] for name, o in files.items()}
    by_case = {name.rsplit("_", 1)[0]: errs for name, errs in errors_of.items()}
    assert [i.split()[0] for i in by_case["lo_budget_changed"]] == ["E102", "E103"]
    assert [i.split()[0] for i in by_case["gnumeric_plan_decreasing"]] == ["E105"]
    assert [i.split()[0] for i in by_case["exceljs_placeholder"]] == ["E110"]
    assert [i.split()[0] for i in by_case["sheetjs_value_missing"]] == ["E109"]
    assert by_case["lo_percent_typed"] == [] and by_case["exceljs_numbers_as_text"] == []

    accepted = {o["project_code"] for o in files.values() if o["status"] == "accepted"}
    assert len(accepted) == 2
    projects, indicators = SHEETS[0], SHEETS[1]
    key = load_spec().key
    code_at = {projects: PROJECT_COLUMNS.index(key), indicators: INDICATOR_COLUMNS.index(key)}
    for sheet in (projects, indicators):
        head = [h for h in PROJECT_COLUMNS if h not in SOURCE_COLUMNS] if sheet == projects else \
            [h for h in INDICATOR_COLUMNS if h not in SOURCE_COLUMNS]
        assert run["tables"][sheet][0] == head
        col = code_at[sheet]
        got = sorted((r for r in run["tables"][sheet][1:] if r[col] in accepted), key=str)
        want = sorted((r for r in reference[sheet][1:] if r[col] in accepted), key=str)
        assert got and got == want, (sheet, got[:2], want[:2])


@pytest.mark.parametrize("folder", CLIENT_FOLDERS)
def test_golden_files_really_come_from_their_client(folder):
    part, mark = CLIENT_MARK[folder]
    paths = sorted((FILES / folder).glob("*.xlsx"))
    assert len(paths) == 16
    for path in paths:
        with zipfile.ZipFile(path) as z:
            text = z.read(part).decode("utf-8")
        assert mark in text, (path.name, text[:300])


def test_golden_files_are_those_the_recipe_recorded():
    """Changing a file without re-running tools/make_client_returns.py leaves stale expectations."""
    recorded = json.loads((FILES / "clients.json").read_text(encoding="utf-8"))["sha256"]
    on_disk = {f"{p.parent.name}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted(FILES.glob("*/*.xlsx"))}
    assert on_disk == recorded
