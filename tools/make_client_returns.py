"""Recipe for tests/files: the demo returns as saved by LibreOffice, Gnumeric, ExcelJS and SheetJS, with expected outcomes.

Run from the repository root with the project's venv (LibreOffice + python3-uno, gnumeric's
ssconvert, Node >= 18 and npm needed; nothing of this is needed to run the tests):

    .venv/bin/python tools/make_client_returns.py [--out tests/files] [--work /tmp/xlperf-clients]
        [--node-dir /tmp/xlperf-node]

Steps: a fresh `xlperf demo` round (templates + openpyxl-filled returns); each client re-saves
the 16 returns (ExcelJS also fills the blank templates itself, as a web collector does); a few
returns with typical mistakes are saved by the clients; then every folder is validated with
the real xlperf and its outcomes are written to OUT/expected/<folder>.json for review.
OUT/clients.json records the client versions, the time of every step and the file sizes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from xlperf.fill import fill_workbook, input_cells, load_projects, load_unit, template_slots
from xlperf.registry import load_registry
from xlperf.spec import UNIT_FORM, load_spec, make_ref, parse_ref

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
UNO_PYTHON = os.environ.get("XLPERF_UNO_PYTHON", "/usr/bin/python3")
CLIENT_FOLDERS = ("libreoffice", "gnumeric", "exceljs", "exceljs_filled", "sheetjs")
# SheetJS declares this default content type in every file it writes (no macro part behind it)
SHEETJS_BIN_DEFAULT = b'<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'


def sh(cmd: list, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}\n{r.stdout}\n{r.stderr}")
    return r


def xlperf(*args) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("xlperf")
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True,
                       env={**os.environ, "XLPERF_LANG": "zh"})
    if r.returncode not in (0, 1):
        raise SystemExit(f"xlperf {' '.join(map(str, args))} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def node(node_modules: Path, *args) -> dict:
    r = subprocess.run(["node", str(TOOLS / "client_resave.js"), *map(str, args)], capture_output=True,
                       text=True, env={**os.environ, "XLPERF_NODE_MODULES": str(node_modules)})
    doc = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
    if r.returncode != 0 or not doc.get("ok"):
        raise SystemExit(f"client_resave.js {args[0]} failed: {doc.get('error') or r.stderr}")
    return doc


def lo_resave(jobs: list[dict], work: Path) -> None:
    jobs_file = work / "lo_jobs.json"
    jobs_file.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    r = subprocess.run([UNO_PYTHON, str(TOOLS / "lo_resave.py"), str(jobs_file)], capture_output=True,
                       text=True, env=env, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"lo_resave.py failed: {r.stdout}\n{r.stderr}")


def ssconvert(src: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # ssconvert picks its xlsx exporter from the extension; its stderr warnings are harmless
    sh(["ssconvert", src, out])


def ensure_node_modules(node_dir: Path) -> Path:
    modules = node_dir / "node_modules"
    if not (modules / "exceljs").is_dir() or not (modules / "xlsx").is_dir():
        node_dir.mkdir(parents=True, exist_ok=True)
        if not (node_dir / "package.json").exists():
            sh(["npm", "init", "-y"], cwd=node_dir)
        sh(["npm", "i", "exceljs", "xlsx"], cwd=node_dir)
    return modules


def plan_cells(spec) -> list[str]:
    plan_group = next(f.group for f in spec.fields if f.name_en == "end of March")
    return [f.cell for f in spec.fields if f.group == plan_group]


def first_target_cell(spec, slots: int) -> str:
    col = next(c.col for c in spec.columns if c.name_en == "target value")
    slot = spec.slot_rows(slots)[0]
    return make_ref(slot.row0, parse_ref(col + "1")[1])


def project_cells(spec, template: Path, project: dict) -> dict:
    return input_cells(spec, project, template_slots(template, spec))


def make_errors(demo: Path, work: Path, errors: Path, node_modules: Path) -> dict[str, str]:
    """Returns with typical mistakes, each saved by one client; name -> what was done."""
    spec = load_spec()
    registry = load_registry(demo / "registry.csv")
    projects = load_projects()
    rows = registry.rows
    codes = [r[spec.key] for r in rows]
    tpl = {c: next((demo / "templates").glob(f"{c}_*.xlsx")) for c in codes}
    ret = {c: next((demo / "returns").glob(f"{c}_*.xlsx")) for c in codes}
    budget_field = next(f for f in spec.fields if f.name_en == "budget")
    budget, plan = budget_field.cell, plan_cells(spec)
    made: dict[str, str] = {}
    lo_jobs = []

    # 1. LibreOffice: the locked budget changed (the officer removed the protection)
    code = codes[0]
    cells = project_cells(spec, tpl[code], projects[code])
    old = float(rows[0][budget_field.source])
    name = f"lo_budget_changed_{code}.xlsx"
    lo_jobs.append({"src": str(ret[code]), "out": str(errors / name), "sheet": spec.sheet,
                    "cells": {budget: old + 1}})
    made[name] = f"LibreOffice: locked {budget} changed from {old} to {old + 1}"

    # 2. LibreOffice: spending plan typed as 25% (LibreOffice stores 0.25 and a percent format)
    code = codes[1]
    cells = project_cells(spec, tpl[code], projects[code])
    name = f"lo_percent_typed_{code}.xlsx"
    lo_jobs.append({"src": str(ret[code]), "out": str(errors / name), "sheet": spec.sheet,
                    "cells": {c: cells[c] / 100 for c in plan}, "formats": {c: "0%" for c in plan}})
    made[name] = f"LibreOffice: {', '.join(plan)} typed as percent (value/100, number format 0%)"
    lo_resave(lo_jobs, work)

    # 3. Gnumeric: spending plan decreasing (filled with openpyxl, then re-saved by ssconvert)
    code = codes[2]
    cells = project_cells(spec, tpl[code], projects[code])
    cells[plan[1]] = cells[plan[0]] - 5 if cells[plan[0]] >= 5 else 0
    cells[plan[0]] = max(cells[plan[0]], cells[plan[1]] + 5)
    staged = work / "staged" / f"gnumeric_plan_decreasing_{code}.xlsx"
    fill_workbook(tpl[code], staged, cells, spec.sheet)
    name = staged.name
    ssconvert(staged, errors / name)
    made[name] = f"Gnumeric: {plan[1]} {cells[plan[1]]} < {plan[0]} {cells[plan[0]]}"

    # 4. ExcelJS web collector: a placeholder left as the target value
    code = codes[3]
    cells = project_cells(spec, tpl[code], projects[code])
    target = first_target_cell(spec, template_slots(tpl[code], spec))
    cells[target] = "≥**本"
    name = f"exceljs_placeholder_{code}.xlsx"
    # 5. ExcelJS web collector: every number posted as text (form fields arrive as strings)
    code5 = codes[4]
    cells5 = {k: (f"{v:g}" if isinstance(v, (int, float)) else v)
              for k, v in project_cells(spec, tpl[code5], projects[code5]).items()}
    name5 = f"exceljs_numbers_as_text_{code5}.xlsx"
    node(node_modules, "exceljs-fill", _jobs_file(work, "exceljs_err", [
        {"template": str(tpl[code]), "out": str(errors / name), "sheet": spec.sheet, "cells": cells},
        {"template": str(tpl[code5]), "out": str(errors / name5), "sheet": spec.sheet, "cells": cells5}]))
    made[name] = f"ExcelJS fill: {target} = ≥**本 (template placeholder left)"
    made[name5] = "ExcelJS fill: every number written as a text cell"

    # 6. SheetJS: one target value left empty (openpyxl fill, then SheetJS re-save)
    code = codes[5]
    cells = project_cells(spec, tpl[code], projects[code])
    target = first_target_cell(spec, template_slots(tpl[code], spec))
    cells.pop(target, None)
    stage_dir = work / "staged_sheetjs"
    name = f"sheetjs_value_missing_{code}.xlsx"
    fill_workbook(tpl[code], stage_dir / name, cells, spec.sheet)
    node(node_modules, "sheetjs-resave", stage_dir, errors)
    made[name] = f"SheetJS re-save: target value {target} left empty"
    return made


def _jobs_file(work: Path, stem: str, jobs: list) -> Path:
    p = work / f"{stem}.json"
    p.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    return p


def fill_jobs(demo: Path, out_dir: Path) -> list[dict]:
    """ExcelJS fill jobs: every blank template with the same values the demo typed in with openpyxl."""
    spec, unit_spec = load_spec(), load_spec(UNIT_FORM)
    projects = load_projects()
    jobs = []
    for tpl in sorted((demo / "templates").glob("*.xlsx")):
        code = tpl.name.split("_", 1)[0]
        if code in projects:
            jobs.append({"template": str(tpl), "out": str(out_dir / tpl.name), "sheet": spec.sheet,
                         "cells": project_cells(spec, tpl, projects[code])})
        else:
            jobs.append({"template": str(tpl), "out": str(out_dir / tpl.name), "sheet": unit_spec.sheet,
                         "cells": input_cells(unit_spec, load_unit())})
    return jobs


def has_macro_part(path: Path) -> bool:
    names = [n.lower() for n in zipfile.ZipFile(path).namelist()]
    return any("vbaproject" in n or "macrosheet" in n for n in names)


def issue_key(issue: dict) -> str:
    """'W201 项目绩效目标表!E16': the code and where it points (the message text is not compared)."""
    where = f"{issue['sheet']}!{issue['cell']}" if issue["sheet"] else issue["cell"]
    return f"{issue['code']} {where}".strip()


def outcomes(folder: Path, registry: Path, work: Path) -> dict:
    report = work / f"report_{folder.name}.json"
    xlperf("validate", folder, "--registry", registry, "--json", report)
    files = json.loads(report.read_text(encoding="utf-8"))["files"]
    return {Path(f["path"]).name: {
        "status": f["status"], "project_code": f["project_code"],
        "issues": sorted(issue_key(i) for i in f["issues"])}
        for f in files}


def sheetjs_outcomes(folder: Path, registry: Path, work: Path, found: dict) -> dict:
    """The outcome of SheetJS files with no macro part, validated without SheetJS's 'bin' default.

    xlperf (before the issue-11 fix) takes that content-type default for a macro (F012); the
    expected outcome is what the same content gets once that is fixed."""
    suspects = [n for n, o in found.items() if "F012" in o["issues"] and not has_macro_part(folder / n)]
    if not suspects:
        return {}
    neutral = work / f"neutral_{folder.name}"
    shutil.rmtree(neutral, ignore_errors=True)
    neutral.mkdir(parents=True)
    for n in suspects:
        with zipfile.ZipFile(folder / n) as zi, zipfile.ZipFile(neutral / n, "w") as zo:
            for info in zi.infolist():
                data = zi.read(info)
                if info.filename == "[Content_Types].xml":
                    data = data.replace(SHEETJS_BIN_DEFAULT, b"")
                zo.writestr(info, data)
    return {n: o for n, o in outcomes(neutral, registry, work).items() if n in suspects}


def versions(node_modules: Path) -> dict:
    js = node(node_modules, "versions")
    lo = sh(["soffice", "--version"]).stdout.strip()
    gn = sh(["ssconvert", "--version"]).stdout.strip().splitlines()[0]
    spec, unit_spec = load_spec(), load_spec(UNIT_FORM)
    return {"libreoffice": lo, "gnumeric": gn, "exceljs": js["exceljs"], "sheetjs (npm xlsx)": js["xlsx"],
            "node": js["node"], "templates": {spec.id: spec.version, unit_spec.id: unit_spec.version}}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "files")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "xlperf-clients")
    ap.add_argument("--node-dir", type=Path, default=Path(tempfile.gettempdir()) / "xlperf-node")
    args = ap.parse_args()
    out, work = args.out.resolve(), args.work.resolve()
    timings: dict[str, float] = {}

    def step(name: str, fn, *a):
        t = time.monotonic()
        result = fn(*a)
        timings[name] = round(time.monotonic() - t, 2)
        print(f"{name}: {timings[name]} s", flush=True)
        return result

    t_all = time.monotonic()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    node_modules = step("npm install (cached after the first run)", ensure_node_modules, args.node_dir.resolve())
    demo = work / "demo"
    step("xlperf demo (templates + openpyxl returns)", xlperf, "demo", "-o", demo)
    returns = demo / "returns"
    for sub in (*CLIENT_FOLDERS, "errors", "expected"):
        shutil.rmtree(out / sub, ignore_errors=True)
    step("libreoffice re-save (UNO, one soffice)", lo_resave,
         [{"src": str(p), "out": str(out / "libreoffice" / p.name)} for p in sorted(returns.glob("*.xlsx"))], work)
    step("gnumeric re-save (ssconvert per file)",
         lambda: [ssconvert(p, out / "gnumeric" / p.name) for p in sorted(returns.glob("*.xlsx"))])
    step("exceljs re-save", node, node_modules, "exceljs-resave", returns, out / "exceljs")
    step("exceljs fill of the blank templates", node, node_modules, "exceljs-fill",
         _jobs_file(work, "exceljs_fill", fill_jobs(demo, out / "exceljs_filled")))
    step("sheetjs re-save", node, node_modules, "sheetjs-resave", returns, out / "sheetjs")
    errors_made = step("returns with typical mistakes", make_errors, demo, work, out / "errors", node_modules)

    registry = demo / "registry.csv"
    (out / "expected").mkdir(parents=True)
    sizes = {}
    for folder in (*CLIENT_FOLDERS, "errors"):
        found = outcomes(out / folder, registry, work)
        fixed = sheetjs_outcomes(out / folder, registry, work, found)
        doc = {"folder": folder, "files": {}}
        for name, o in sorted(found.items()):
            if name in fixed:
                o = {**fixed[name], "note": "xlperf before the issue-11 fix rejects it with F012 "
                                            "(SheetJS 'bin' content-type default, no macro part)"}
            if folder == "errors":
                o = {**o, "made": errors_made[name]}
            doc["files"][name] = o
        (out / "expected" / f"{folder}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        sizes[folder] = sum(p.stat().st_size for p in (out / folder).glob("*.xlsx"))
    timings["total"] = round(time.monotonic() - t_all, 2)
    info = {"versions": versions(node_modules), "timings_s": timings, "sizes_bytes": sizes,
            "total_bytes": sum(sizes.values()),
            "sha256": {f"{p.parent.name}/{p.name}": sha(p) for p in sorted(out.glob("*/*.xlsx"))}}
    (out / "clients.json").write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: info[k] for k in ("versions", "timings_s", "sizes_bytes", "total_bytes")},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
