#!/usr/bin/python3
"""Open xlsx files in a private headless LibreOffice, optionally type into cells, save them back as xlsx.

Run with the SYSTEM python (the one with python3-uno); tools/make_client_returns.py calls it.
It reuses the soffice start/stop helpers of tests/lo/uno_tool.py (private throw-away profile,
named pipe, process-group kill).

    lo_resave.py JOBS.json

JOBS.json is a list of {"src": path, "out": path, "sheet": name,
"cells": {"B7": 25, "E10": "text"}, "formats": {"B7": "0%"}}; "cells" and "formats" are
optional. Cells are written whether locked or not (the jobs that change a locked cell imitate
an officer who removed the protection). One JSON line is printed: {"ok": true, "saved": [...]}.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lo"))
import uno  # noqa: E402
from uno_tool import Office, close_doc, parse_a1, props  # noqa: E402

XLSX_FILTER = "Calc MS Excel 2007 XML"


def apply_cells(doc, job: dict) -> None:
    if not job.get("cells") and not job.get("formats"):
        return
    sheet = doc.Sheets.getByName(job["sheet"])
    formats = doc.getNumberFormats()
    locale = doc.CharLocale
    for ref, value in (job.get("cells") or {}).items():
        col, row = parse_a1(ref)
        cell = sheet.getCellByPosition(col, row)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell.setValue(float(value))
        else:
            cell.setString(str(value))
    for ref, code in (job.get("formats") or {}).items():
        col, row = parse_a1(ref)
        key = formats.queryKey(code, locale, False)
        if key == -1:
            key = formats.addNew(code, locale)
        sheet.getCellByPosition(col, row).NumberFormat = key


def main() -> int:
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    office = Office(connect_timeout=60).start()
    saved = []
    try:
        for job in jobs:
            src, out = Path(job["src"]), Path(job["out"])
            with tempfile.TemporaryDirectory(prefix="xlperf-lo-resave-") as tmp:
                copy = Path(tmp) / src.name  # never open the source itself (lock files, autosave)
                shutil.copy2(src, copy)
                doc = office.load(copy)
                try:
                    apply_cells(doc, job)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    doc.storeToURL(uno.systemPathToFileUrl(str(out.resolve())),
                                   props(FilterName=XLSX_FILTER, Overwrite=True))
                finally:
                    close_doc(doc)
            saved.append(str(out))
    finally:
        office.stop()
    print(json.dumps({"ok": True, "saved": saved}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
