#!/usr/bin/python3
"""LibreOffice (UNO) helper for xlperf's real-client tests.

Run with the SYSTEM interpreter (``/usr/bin/python3``): only it can ``import uno``
(Debian's python3-uno). The venv-based pytest calls this script through
``tests/soffice.py``; it is not imported by pytest.

Every invocation starts its own headless soffice with a private, throw-away profile
(``-env:UserInstallation=file:///tmp/xlperf-lo-<random>``), connects to it over a
named pipe (retrying while it boots), does one job, prints ONE JSON document on
stdout and always terminates soffice (process group) and deletes the profile.

Subcommands::

    uno_tool.py inspect FILE.xlsx
    uno_tool.py fill FILE.xlsx OUT.xlsx VALUES.json
    uno_tool.py convert FILE OUTDIR --to pdf [--sheet NAME]   # NAME: print only that sheet

Global option ``--timeout SECONDS`` (default 120, or env XLPERF_UNO_TIMEOUT): a
watchdog thread kills soffice and exits 124 with a JSON error when it fires.

JSON shapes (A1 refs without "$"; lists of cells/ranges are row-major)::

    inspect -> {"ok": true, "file": str, "timing": {"load_s", "startup_s", "work_s"},
                "sheets": [{"index": int, "name": str, "visible": bool, "protected": bool,
                  "used_range": "A1:C5" | null,   # content + visibly formatted blanks
                  "scan_range": "A1:D14" | null,  # used_range grown by bounded unlocked/
                                                  # validated/merged ranges
                  "unlocked": ["B4", "B5", ...],  # single cells, clipped to scan_range
                  "unlocked_ranges": ["B4", "B5:C5", "K1:K1048576"],  # unclipped, joined
                  "merged": ["A2:C2", ...],       # top-left inside scan_range
                  "validations": [{"type": "LIST"|"WHOLE"|"DECIMAL"|"DATE"|"TIME"|
                                            "TEXT_LEN"|"CUSTOM",
                      "operator": "BETWEEN"|"GREATER_EQUAL"|..., "formula1": str,
                      "formula2": str, "show_input_message": bool, "input_title": str,
                      "input_message": str, "show_error_message": bool,
                      "error_title": str, "error_message": str,
                      "error_style": "STOP"|"WARNING"|"INFO"|"MACRO",
                      "ignore_blank": bool, "show_list": int,  # 0 none, 1 unsorted, 2 sorted
                      "ranges": ["B4", "C12:C14"]}],          # unclipped, joined
                  "cells": {"A1": "text", "B3": 2024, "D5": 12.5},  # non-empty, in used_range
                  "formulas": {"C9": "=SUM(C1:C8)"},
                  "comments": {"A4": "text"},
                  "charts": [{"name": str, "type": "com.sun.star.chart.BarDiagram" | null,
                              "ranges": ["概览.A2:A3", ...]}]}]}  # data ranges, row-major
    fill    -> {"ok": true, "out": str, "written": ["Sheet!B7", ...],
                "refused": ["Sheet!A1", ...],
                "refused_reasons": {"Sheet!A1": "locked" | "no such sheet"},
                "timing": {"startup_s", "work_s"}}
    convert -> {"ok": true, "path": "/abs/OUTDIR/<stem>.pdf", "timing": {...}}

``fill`` refuses every cell whose CellProtection.IsLocked is true (whether or not the
sheet is protected: the UNO API itself would happily write into protected cells, and it
does not apply data validation either). JSON numbers -> setValue, strings -> setString,
null -> clear; booleans are an error.

On failure: exit status non-zero, stdout holds
``{"ok": false, "error": "...", "type": "...", "traceback": "..."}``.
On success every document carries ``"ok": true``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path

try:
    import uno  # noqa: F401  (system python3-uno only)
    from com.sun.star.beans import PropertyValue
    from com.sun.star.connection import NoConnectException
except Exception as exc:  # pragma: no cover - reported as JSON
    print(json.dumps({"ok": False, "type": type(exc).__name__,
                      "error": f"cannot import uno (run with /usr/bin/python3 and python3-uno): {exc}"}))
    sys.exit(3)


# --------------------------------------------------------------------------- util

_print_lock = threading.Lock()
_printed = False


def emit(doc: dict, code: int = 0) -> None:
    """Print the single JSON document (once) and flush."""
    global _printed
    with _print_lock:
        if _printed:
            return
        _printed = True
        sys.stdout.write(json.dumps(doc, ensure_ascii=False))
        sys.stdout.write("\n")
        sys.stdout.flush()


def col_letters(col: int) -> str:
    """0-based column index -> 'A', 'B', ..., 'AA'."""
    s = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def a1(col: int, row: int) -> str:
    return f"{col_letters(col)}{row + 1}"


def parse_a1(ref: str) -> tuple[int, int]:
    """'B7' -> (col=1, row=6); accepts '$B$7'."""
    ref = ref.replace("$", "").strip().upper()
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    letters, digits = ref[:i], ref[i:]
    if not letters or not digits.isdigit():
        raise ValueError(f"bad cell reference {ref!r}")
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return col - 1, int(digits) - 1


def range_ref(addr) -> str:
    """CellRangeAddress -> 'B7' or 'B7:C9'."""
    start = a1(addr.StartColumn, addr.StartRow)
    if addr.StartColumn == addr.EndColumn and addr.StartRow == addr.EndRow:
        return start
    return f"{start}:{a1(addr.EndColumn, addr.EndRow)}"


def props(**kw) -> tuple:
    out = []
    for k, v in kw.items():
        p = PropertyValue()
        p.Name = k
        p.Value = v
        out.append(p)
    return tuple(out)


def enum_value(v) -> str:
    """UNO enum -> its name ('LIST'); ints/others -> str."""
    return getattr(v, "value", None) or str(v)


# ------------------------------------------------------------------ soffice life

class Office:
    """A private headless soffice, reached over a named pipe."""

    def __init__(self, connect_timeout: float = 60.0):
        self.connect_timeout = connect_timeout
        self.token = uuid.uuid4().hex[:12]
        self.profile = Path(f"/tmp/xlperf-lo-{self.token}")
        self.pipe = f"xlperf_lo_{self.token}"
        self.proc: subprocess.Popen | None = None
        self.desktop = None
        self.ctx = None

    def start(self) -> "Office":
        soffice = os.environ.get("XLPERF_SOFFICE") or shutil.which("soffice") or "/usr/bin/soffice"
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{self.profile}",
            "--headless", "--invisible", "--nologo", "--norestore",
            "--nodefault", "--nolockcheck", "--nofirststartwizard",
            f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext",
        ]
        env = dict(os.environ)
        env.setdefault("HOME", "/tmp")
        env.setdefault("SAL_USE_VCLPLUGIN", "svp")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=env, start_new_session=True,
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + self.connect_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.stderr else ""
                raise RuntimeError(f"soffice exited early with {self.proc.returncode}: {err.strip()}")
            try:
                self.ctx = resolver.resolve(url)
                break
            except NoConnectException as exc:
                last = exc
                time.sleep(0.25)
        else:
            raise TimeoutError(f"could not connect to soffice within {self.connect_timeout}s: {last}")
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        return self

    def load(self, path: Path, read_only: bool = False):
        url = uno.systemPathToFileUrl(str(Path(path).resolve()))
        doc = self.desktop.loadComponentFromURL(
            url, "_blank", 0,
            props(Hidden=True, ReadOnly=read_only, MacroExecutionMode=0,
                  UpdateDocMode=0))  # NO_UPDATE / NEVER_EXECUTE
        if doc is None:
            raise RuntimeError(
                f"LibreOffice returned None loading {path} (unreadable file, wrong format, "
                f"or a stale lock file .~lock.{Path(path).name}#)")
        if not hasattr(doc, "Sheets"):
            try:
                doc.close(True)
            finally:
                raise RuntimeError(f"{path} did not load as a spreadsheet")
        return doc

    def stop(self) -> None:
        if self.desktop is not None:
            try:
                self.desktop.terminate()
            except Exception:
                pass  # DisposedException is normal: the bridge dies with soffice
            self.desktop = None
        self.kill(grace=10.0)

    def kill(self, grace: float = 0.0) -> None:
        proc = self.proc
        if proc is not None:
            try:
                proc.wait(timeout=grace) if grace else None
            except subprocess.TimeoutExpired:
                pass
            # soffice is a shell script -> oosplash -> soffice.bin: kill the whole group
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=5)
                    # the group may still hold soffice.bin after the script exited
                    os.killpg(proc.pid, 0)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    pass
                time.sleep(0.2)
            self.proc = None
        shutil.rmtree(self.profile, ignore_errors=True)


def close_doc(doc) -> None:
    if doc is None:
        return
    try:
        doc.close(True)
    except Exception:
        try:
            doc.dispose()
        except Exception:
            pass


# ----------------------------------------------------------------------- inspect

def validation_of(cell) -> dict | None:
    v = cell.Validation
    vtype = enum_value(v.Type)
    if vtype == "ANY":
        return None
    return {
        "type": vtype,
        "operator": enum_value(v.getOperator()),
        "formula1": v.getFormula1(),
        "formula2": v.getFormula2(),
        "show_input_message": bool(v.ShowInputMessage),
        "input_title": v.InputTitle,
        "input_message": v.InputMessage,
        "show_error_message": bool(v.ShowErrorMessage),
        "error_title": v.ErrorTitle,
        "error_message": v.ErrorMessage,
        "error_style": enum_value(v.ErrorAlertStyle),
        "ignore_blank": bool(v.IgnoreBlankCells),
        "show_list": int(v.ShowList),
    }


def clip(addr, box) -> tuple[int, int, int, int] | None:
    """Intersect a CellRangeAddress with box (c0, r0, c1, r1); None if empty."""
    c0 = max(addr.StartColumn, box[0])
    r0 = max(addr.StartRow, box[1])
    c1 = min(addr.EndColumn, box[2])
    r1 = min(addr.EndRow, box[3])
    if c0 > c1 or r0 > r1:
        return None
    return c0, r0, c1, r1


def used_box(sheet) -> tuple[int, int, int, int] | None:
    """(c0, r0, c1, r1) of the content-used area, or None for an empty sheet."""
    cur = sheet.createCursor()
    cur.gotoStartOfUsedArea(False)
    cur.gotoEndOfUsedArea(True)
    ad = cur.getRangeAddress()
    box = (ad.StartColumn, ad.StartRow, ad.EndColumn, ad.EndRow)
    if box == (0, 0, 0, 0):
        c = sheet.getCellByPosition(0, 0)
        if enum_value(c.Type) == "EMPTY":
            return None
    return box


# Ranges of "interesting" formatting (unlocked / validated / merged) larger than this
# many rows or columns (typically a whole-column format) do not grow the scan box.
BOX_GROW_MAX_ROWS = 2000
BOX_GROW_MAX_COLS = 200


def joined(doc, addrs) -> list:
    """Let LibreOffice merge adjacent range addresses (C12 + C13:C14 -> C12:C14)."""
    if len(addrs) < 2:
        return list(addrs)
    ranges = doc.createInstance("com.sun.star.sheet.SheetCellRanges")
    ranges.addRangeAddresses(tuple(addrs), True)
    return list(ranges.getRangeAddresses())


def inspect_sheet(doc, sheet, index: int) -> dict:
    name = sheet.Name
    content_box = used_box(sheet)

    # One pass over groups of identically formatted cells (the whole sheet): every
    # group shares one attribute set, hence one protection, validation and merge span.
    groups = []
    uniq = sheet.getUniqueCellFormatRanges()
    for i in range(uniq.getCount()):
        grp = uniq.getByIndex(i)
        addrs = grp.getRangeAddresses()
        if not addrs:
            continue
        first = sheet.getCellByPosition(addrs[0].StartColumn, addrs[0].StartRow)
        locked = bool(first.CellProtection.IsLocked)
        val = validation_of(first)
        merged_span = None
        probe = sheet.getCellRangeByPosition(addrs[0].StartColumn, addrs[0].StartRow,
                                             addrs[0].StartColumn, addrs[0].StartRow)
        if probe.getIsMerged():
            cur = sheet.createCursorByRange(probe)
            cur.collapseToMergedArea()
            m = cur.getRangeAddress()
            merged_span = (m.EndColumn - m.StartColumn, m.EndRow - m.StartRow)
            if merged_span == (0, 0):
                merged_span = None
        if locked and val is None and merged_span is None:
            continue
        groups.append((addrs, locked, val, merged_span))

    # scan box = content used area, grown by bounded interesting ranges
    box = content_box
    for addrs, _locked, _val, _span in groups:
        for ad in addrs:
            if (ad.EndRow - ad.StartRow + 1 > BOX_GROW_MAX_ROWS
                    or ad.EndColumn - ad.StartColumn + 1 > BOX_GROW_MAX_COLS):
                continue
            if box is None:
                box = (ad.StartColumn, ad.StartRow, ad.EndColumn, ad.EndRow)
            else:
                box = (min(box[0], ad.StartColumn), min(box[1], ad.StartRow),
                       max(box[2], ad.EndColumn), max(box[3], ad.EndRow))

    unlocked_cells: list[tuple[int, int]] = []
    validations: dict[str, dict] = {}
    merged: list[str] = []
    unlocked_addrs = []
    for addrs, locked, val, span in groups:
        if not locked:
            for ad in addrs:
                unlocked_addrs.append(ad)
                if box is not None:
                    c = clip(ad, box)
                    if c:
                        for r in range(c[1], c[3] + 1):
                            for col in range(c[0], c[2] + 1):
                                unlocked_cells.append((r, col))
        if val is not None:
            key = json.dumps(val, sort_keys=True, ensure_ascii=False)
            entry = validations.setdefault(key, dict(val, _addrs=[]))
            entry["_addrs"].extend(addrs)
        if span is not None and box is not None:
            for ad in addrs:
                c = clip(ad, box)
                if not c:
                    continue
                for r in range(c[1], c[3] + 1):
                    for col in range(c[0], c[2] + 1):
                        merged.append(f"{a1(col, r)}:{a1(col + span[0], r + span[1])}")

    def rowmajor(ref: str):
        head = ref.split(":")[0]
        col, row = parse_a1(head)
        return (row, col)

    unlocked_cells.sort()
    unlocked_ranges = sorted((range_ref(ad) for ad in joined(doc, unlocked_addrs)), key=rowmajor)
    merged.sort(key=rowmajor)
    vlist = list(validations.values())
    for v in vlist:
        v["ranges"] = sorted((range_ref(ad) for ad in joined(doc, v.pop("_addrs"))), key=rowmajor)
    vlist.sort(key=lambda v: rowmajor(v["ranges"][0]))

    # values / formulas over the content area (one bulk call each)
    cells: dict[str, object] = {}
    formulas: dict[str, str] = {}
    if content_box is not None:
        rng = sheet.getCellRangeByPosition(*content_box)
        data = rng.getDataArray()
        forms = rng.getFormulaArray()
        for dr, (drow, frow) in enumerate(zip(data, forms)):
            for dc, (val, form) in enumerate(zip(drow, frow)):
                ref = a1(content_box[0] + dc, content_box[1] + dr)
                if isinstance(form, str) and form.startswith("="):
                    formulas[ref] = form
                if val == "" and not (isinstance(form, str) and form.startswith("=")):
                    continue
                if isinstance(val, float) and val.is_integer() and abs(val) < 2 ** 53:
                    val = int(val)
                cells[ref] = val

    comments: dict[str, str] = {}
    anns = sheet.getAnnotations()
    for i in range(anns.getCount()):
        ann = anns.getByIndex(i)
        pos = ann.getPosition()
        comments[a1(pos.Column, pos.Row)] = ann.getString()

    charts = []
    table_charts = sheet.getCharts()
    for cname in table_charts.getElementNames():
        tc = table_charts.getByName(cname)
        try:
            ctype = tc.getEmbeddedObject().getDiagram().getDiagramType()
        except Exception:
            ctype = None
        sheet_names = doc.Sheets.getElementNames()
        ranges = [f"{sheet_names[ad.Sheet]}.{range_ref(ad)}" for ad in tc.getRanges()]
        charts.append({"name": cname, "type": ctype, "ranges": ranges})

    return {
        "index": index,
        "name": name,
        "visible": bool(sheet.IsVisible),
        "protected": bool(sheet.isProtected()),
        "used_range": None if content_box is None else range_ref(_Addr(*content_box)),
        "scan_range": None if box is None else range_ref(_Addr(*box)),
        "unlocked": [a1(c, r) for r, c in unlocked_cells],
        "unlocked_ranges": unlocked_ranges,
        "merged": merged,
        "validations": vlist,
        "cells": cells,
        "formulas": formulas,
        "comments": comments,
        "charts": charts,
    }


class _Addr:
    def __init__(self, c0, r0, c1, r1):
        self.StartColumn, self.StartRow, self.EndColumn, self.EndRow = c0, r0, c1, r1


def cmd_inspect(office: Office, args) -> dict:
    src = Path(args.file)
    if not src.is_file():
        raise FileNotFoundError(src)
    with tempfile.TemporaryDirectory(prefix="xlperf-lo-in-") as tmp:
        copy = Path(tmp) / src.name
        shutil.copy2(src, copy)
        t0 = time.monotonic()
        doc = office.load(copy, read_only=True)
        t_load = time.monotonic() - t0
        try:
            sheets = doc.Sheets
            out = [inspect_sheet(doc, sheets.getByIndex(i), i) for i in range(sheets.getCount())]
        finally:
            close_doc(doc)
    return {"ok": True, "file": str(src), "sheets": out,
            "timing": {"load_s": round(t_load, 3)}}


# -------------------------------------------------------------------------- fill

def cmd_fill(office: Office, args) -> dict:
    src = Path(args.file)
    out = Path(args.out)
    if not src.is_file():
        raise FileNotFoundError(src)
    values = json.loads(Path(args.values).read_text(encoding="utf-8"))
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise ValueError('VALUES.json must be {"SheetName": {"B7": value, ...}, ...}')
    written: list[str] = []
    refused: list[str] = []
    reasons: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="xlperf-lo-fill-") as tmp:
        copy = Path(tmp) / src.name
        shutil.copy2(src, copy)
        doc = office.load(copy, read_only=False)
        try:
            sheets = doc.Sheets
            for sheet_name, cellmap in values.items():
                if not sheets.hasByName(sheet_name):
                    for ref in cellmap:
                        key = f"{sheet_name}!{ref}"
                        refused.append(key)
                        reasons[key] = "no such sheet"
                    continue
                sheet = sheets.getByName(sheet_name)
                for ref, value in cellmap.items():
                    key = f"{sheet_name}!{ref.replace('$', '').upper()}"
                    col, row = parse_a1(ref)
                    cell = sheet.getCellByPosition(col, row)
                    if cell.CellProtection.IsLocked:
                        refused.append(key)
                        reasons[key] = "locked"
                        continue
                    if value is None:
                        cell.setString("")
                    elif isinstance(value, bool):
                        raise ValueError(f"{key}: booleans are not supported, use 1/0 or text")
                    elif isinstance(value, (int, float)):
                        cell.setValue(float(value))
                    elif isinstance(value, str):
                        cell.setString(value)
                    else:
                        raise ValueError(f"{key}: unsupported value type {type(value).__name__}")
                    written.append(key)
            out.parent.mkdir(parents=True, exist_ok=True)
            doc.storeToURL(uno.systemPathToFileUrl(str(out.resolve())),
                           props(FilterName="Calc MS Excel 2007 XML", Overwrite=True))
        finally:
            close_doc(doc)
    if not out.is_file():
        raise RuntimeError(f"LibreOffice did not write {out}")
    return {"ok": True, "out": str(out), "written": written, "refused": refused,
            "refused_reasons": reasons}


# ----------------------------------------------------------------------- convert

def cmd_convert(office: Office, args) -> dict:
    if args.to != "pdf":
        raise ValueError("only --to pdf is supported")
    src = Path(args.file)
    outdir = Path(args.outdir)
    if not src.is_file():
        raise FileNotFoundError(src)
    outdir.mkdir(parents=True, exist_ok=True)
    pdf = (outdir / (src.stem + ".pdf")).resolve()
    with tempfile.TemporaryDirectory(prefix="xlperf-lo-pdf-") as tmp:
        copy = Path(tmp) / src.name
        shutil.copy2(src, copy)
        # a read-only document ignores IsVisible changes: --sheet needs an editable copy
        doc = office.load(copy, read_only=not args.sheet)
        try:
            if args.sheet:  # print one sheet: hide the others in this private copy (not saved)
                sheets = doc.Sheets
                if not sheets.hasByName(args.sheet):
                    raise ValueError(f"no sheet named {args.sheet!r}: {list(sheets.getElementNames())}")
                target = sheets.getByName(args.sheet)
                target.IsVisible = True
                controller = doc.getCurrentController()
                if controller is not None:  # the active sheet cannot be hidden
                    controller.setActiveSheet(target)
                for i in range(sheets.getCount()):
                    if sheets.getByIndex(i).Name != args.sheet:
                        # a hidden sheet's print area would still be exported: drop it too
                        sheets.getByIndex(i).setPrintAreas(())
                        sheets.getByIndex(i).IsVisible = False
            doc.storeToURL(uno.systemPathToFileUrl(str(pdf)),
                           props(FilterName="calc_pdf_Export", Overwrite=True))
        finally:
            close_doc(doc)
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"LibreOffice did not write {pdf}")
    return {"ok": True, "path": str(pdf)}


# -------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="uno_tool.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float,
                    default=float(os.environ.get("XLPERF_UNO_TIMEOUT", "120")))
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("inspect")
    p.add_argument("file")
    p = sub.add_parser("fill")
    p.add_argument("file")
    p.add_argument("out")
    p.add_argument("values")
    p = sub.add_parser("convert")
    p.add_argument("file")
    p.add_argument("outdir")
    p.add_argument("--to", default="pdf")
    p.add_argument("--sheet", default=None, help="export only this sheet")
    args = ap.parse_args(argv)

    office = Office(connect_timeout=min(60.0, args.timeout))
    t_start = time.monotonic()

    def on_timeout():
        emit({"ok": False, "type": "Timeout",
              "error": f"uno_tool {args.cmd} exceeded {args.timeout}s; soffice killed"})
        try:
            office.kill()
        finally:
            os._exit(124)

    watchdog = threading.Timer(args.timeout, on_timeout)
    watchdog.daemon = True
    watchdog.start()
    code = 0
    try:
        office.start()
        t_ready = time.monotonic()
        handler = {"inspect": cmd_inspect, "fill": cmd_fill, "convert": cmd_convert}[args.cmd]
        doc = handler(office, args)
        doc.setdefault("timing", {})
        doc["timing"]["startup_s"] = round(t_ready - t_start, 3)
        doc["timing"]["work_s"] = round(time.monotonic() - t_ready, 3)
        emit(doc)
    except BaseException as exc:  # noqa: BLE001 - everything becomes a JSON error
        code = 2
        emit({"ok": False, "type": type(exc).__name__, "error": str(exc) or repr(exc),
              "traceback": traceback.format_exc()}, code)
        print(traceback.format_exc(), file=sys.stderr)
    finally:
        try:
            office.stop()
        finally:
            watchdog.cancel()
    return code


if __name__ == "__main__":
    sys.exit(main())
