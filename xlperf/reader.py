"""Read returned workbooks (python-calamine) into ReturnData, every value with its cell."""
from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from functools import lru_cache
from pathlib import Path

from .model import FileResult, IndicatorRow, Issue, ReturnData, text
from .spec import FormSpec, bundled_specs, make_ref, parse_ref

EXCEL_CELL_MAX = 32_767  # characters Excel can hold in one cell
# Files in a folder that are read (and so accepted or rejected, never skipped): every spreadsheet format a
# unit might send, whatever the case of its extension; the content, not the name, then says what it is.
SPREADSHEET_EXT = {".xlsx", ".xlsm", ".xls", ".xlt", ".xltx", ".xltm", ".xlam", ".xlsb", ".et", ".ett", ".ods",
                   ".ots", ".fods", ".numbers"}
_CELL = re.compile(rb'<c\b([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_ATTR = re.compile(rb'\b(r|s|t)="([^"]*)"')
_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
_PERCENT_BUILTIN = {9, 10}


def _grid_get(grid: list, ref: str):
    r, c = parse_ref(ref)
    if r < len(grid) and c < len(grid[r]):
        return grid[r][c]
    return ""


def _meta_dict(rows: list) -> dict:
    out = {}
    for row in rows:
        if len(row) >= 2 and row[0] not in ("", None):
            out[text(row[0])] = text(row[1])
    return out


def _sheet_xml_path(zf: "_Parts", sheet: str) -> str | None:
    """The zip path of a sheet's XML, from workbook.xml and its relationships."""
    wb = zf.read("xl/workbook.xml")
    rels = zf.read("xl/_rels/workbook.xml.rels")
    if len(wb) + len(rels) > 65536:  # keep big (odd or hostile) parts out of the cache
        return _resolve_sheet_path.__wrapped__(wb, rels, sheet)
    return _resolve_sheet_path(wb, rels, sheet)


@lru_cache(maxsize=256)
def _resolve_sheet_path(wb: bytes, rels: bytes, sheet: str) -> str | None:
    """Cached: the returns of one round share their workbook.xml, so the regexes run once, not per file."""
    from xml.sax.saxutils import escape

    name = escape(sheet, {'"': "&quot;"}).encode("utf-8")
    m = re.search(rb'<(?:\w+:)?sheet\b[^>]*\bname="' + re.escape(name) + rb'"[^>]*>', wb)
    if not m:
        return None
    rid = re.search(rb'\br:id="([^"]+)"|\bid="([^"]+)"', m.group(0))
    if not rid:
        return None
    rid_v = rid.group(1) or rid.group(2)
    for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
        tag = rel.group(0)
        if re.search(rb'\bId="' + re.escape(rid_v) + rb'"', tag):
            target = re.search(rb'\bTarget="([^"]+)"', tag).group(1).decode("utf-8")
            target = target.lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    return None


def _num_formats(zf: "_Parts") -> list[str]:
    """Number format code per cellXfs index (enough to tell percent cells)."""
    try:
        styles = zf.read("xl/styles.xml")
    except KeyError:
        return []
    if len(styles) > 262_144:  # keep big (odd or hostile) parts out of the cache
        return list(_styles_formats.__wrapped__(styles))
    return list(_styles_formats(styles))


@lru_cache(maxsize=64)
def _styles_formats(styles: bytes) -> tuple[str, ...]:
    """Cached: the returns of one round mostly share their styles.xml, so the regexes run once, not per file."""
    custom = {int(m.group(1)): _unescape(m.group(2).decode("utf-8", "replace"))  # 0.00"%" is stored 0.00&quot;%&quot;
              for m in re.finditer(rb'<numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"', styles)}
    xfs = re.search(rb"<cellXfs\b.*?</cellXfs>", styles, re.S)
    out = []
    for m in re.finditer(rb"<xf\b[^>]*>", xfs.group(0) if xfs else b""):
        fid = re.search(rb'numFmtId="(\d+)"', m.group(0))
        n = int(fid.group(1)) if fid else 0
        out.append("0%" if n in _PERCENT_BUILTIN else custom.get(n, ""))
    return tuple(out)


class _Parts:
    """Zip parts by name: those the safety check already inflated (and CRC-checked), the rest from the zip,
    opened only if one is needed."""

    def __init__(self, src: Path | bytes, parts: dict | None):
        self.src = src
        self.parts = parts or {}
        self.zf: zipfile.ZipFile | None = None

    def read(self, name: str) -> bytes:
        hit = self.parts.get(name)
        if hit is not None:
            return hit
        if self.zf is None:
            self.zf = zipfile.ZipFile(io.BytesIO(self.src) if isinstance(self.src, bytes) else self.src)
        return self.zf.read(name)

    def __enter__(self) -> "_Parts":
        return self

    def __exit__(self, *exc) -> None:
        if self.zf is not None:
            self.zf.close()


def scan_sheet_xml(path: Path | bytes, sheet: str, refs: set[str], numeric_refs: set[str],
                   parts: dict | None = None) -> tuple[dict, dict]:
    """Formulas in `refs` and number formats of `numeric_refs`, straight from the sheet XML.

    calamine gives cached values only: a formula written by openpyxl has none, so the
    XML is the only place that shows what the cell really holds. *parts* (name -> bytes, from
    :func:`xlperf.safety.read_checked`) spares inflating the parts again.
    """
    formulas, formats = {}, {}
    with _Parts(path, parts) as zf:
        xml_path = _sheet_xml_path(zf, sheet)
        if not xml_path:
            return formulas, formats
        xml = zf.read(xml_path)
        has_f = _has_formula(xml)  # not b"<f": <formula1> of every data validation matches that
        if not has_f and not numeric_refs:
            return formulas, formats
        fmts = _num_formats(zf) if numeric_refs else []
        if not has_f:  # the common case: a few numeric cells, looked up one by one (no walk over every cell)
            for ref in numeric_refs:
                m = _cell_tag(ref).search(xml)
                if m and fmts:
                    s = _ATTR_S.search(m.group(1))
                    i = int(s.group(1)) if s else 0
                    formats[ref] = fmts[i] if i < len(fmts) else ""
            return formulas, formats
        for m in _CELL.finditer(xml):
            attrs = dict((k.decode(), v.decode()) for k, v in _ATTR.findall(m.group(1)))
            ref = attrs.get("r", "")
            body = m.group(2) or b""
            if ref in refs and has_f:
                f = _FORMULA.search(body)
                if f:
                    ftext = (f.group(1) or b"").decode("utf-8", "replace")
                    formulas[ref] = "=" + _unescape(ftext) if ftext else "=(shared formula)"
            if ref in numeric_refs and fmts:
                s = int(attrs.get("s", "0") or 0)
                formats[ref] = fmts[s] if s < len(fmts) else ""
    return formulas, formats


_ATTR_S = re.compile(rb'\bs="(\d+)"')


@lru_cache(maxsize=4096)
def _cell_tag(ref: str) -> re.Pattern:
    """The opening tag of one cell (its attributes in group 1), in any attribute order."""
    return re.compile(rb'<c\b([^>]*?\br="' + ref.encode("ascii") + rb'"[^>]*)>')


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def identify(meta: dict, specs: list[FormSpec]) -> tuple[FormSpec | None, Issue | None]:
    """Which form a workbook claims to be, from its metadata."""
    same_id = [s for s in specs if s.id == meta.get("form_id")]
    for s in same_id:
        if s.version == meta.get("form_version"):
            return s, None
    if same_id:
        return None, Issue.make("E003", same_id[0].meta_sheet, "", found=meta.get("form_version", "?"),
                                expected=same_id[0].version)
    return None, None


def _check_layout(spec: FormSpec, grid: list, merged: set, slots: int, res_issues: list) -> None:
    """Labels and merges must sit where the spec puts them; otherwise cells moved."""
    sheet = spec.sheet
    lay = _layout(spec, slots)
    for ref, r, c, want in lay["expected"]:
        found = text(grid[r][c] if r < len(grid) and c < len(grid[r]) else "")
        if found != want:
            res_issues.append(Issue.make("E005", sheet, ref, expected=want, found=found or "（空）"))
            return  # one moved label is enough; the rest would repeat it
    for rng in lay["merges"]:
        if rng not in merged:
            res_issues.append(Issue.make("E008", sheet, rng.split(":")[0], range=rng))
            return


_LAYOUTS: dict = {}


def _layout(spec: FormSpec, slots: int) -> dict:
    """Where everything sits on one form at one slot count, worked out once per process, not per workbook."""
    hit = _LAYOUTS.get((id(spec), slots))
    if hit is not None and hit[0] is spec:
        return hit[1]
    expected = [(lb.cell, lb.text.format(title=spec.title)) for lb in spec.labels]
    rows = spec.slot_rows(slots) if spec.groups else []
    if spec.groups:
        expected += [(make_ref(spec.header_row - 1, i), h) for i, h in enumerate(spec.headers)]
        c1, c2 = parse_ref(spec.level1_col + "1")[1], parse_ref(spec.level2_col + "1")[1]
        seen1 = set()
        for s in rows:
            if s.level1 not in seen1:
                seen1.add(s.level1)
                expected.append((make_ref(s.row0, c1), s.level1))
            if s.index == 0:
                expected.append((make_ref(s.row0, c2), s.level2))
    cols = [(c.name, parse_ref(c.col + "1")[1]) for c in spec.columns]
    lay = {"expected": [(ref, *parse_ref(ref), text) for ref, text in expected],
           "merges": _expected_merges(spec, slots),
           "fields": [(f.name, f.cell, *parse_ref(f.cell)) for f in spec.fields],
           "slots": [(s, [(name, c, make_ref(s.row0, c)) for name, c in cols]) for s in rows],
           "input_refs": frozenset(_input_refs(spec, slots)),
           "spec_name": Path(spec.path).stem}
    _LAYOUTS[(id(spec), slots)] = (spec, lay)
    return lay


def _expected_merges(spec: FormSpec, slots: int) -> list[str]:
    out = [x.merge for x in (*spec.labels, *spec.fields) if x.merge]
    if spec.groups and slots > 1:
        rows = spec.slot_rows(slots)
        for col, attr in ((spec.level1_col, "level1"), (spec.level2_col, "level2")):
            names = []
            for s in rows:
                if getattr(s, attr) not in names:
                    names.append(getattr(s, attr))
            for n in names:
                rr = [s.row0 for s in rows if getattr(s, attr) == n]
                out.append(f"{col}{rr[0] + 1}:{col}{rr[-1] + 1}")
    return out


_MERGED: dict = {}


def _merged_set(sheet) -> frozenset:
    """The merged ranges as A1 text; worked out once per distinct set of merges (a round shares one)."""
    ranges = tuple(sheet.merged_cell_ranges or ())
    hit = _MERGED.get(ranges)
    if hit is None:
        hit = frozenset(f"{make_ref(r1, c1)}:{make_ref(r2, c2)}" for (r1, c1), (r2, c2) in ranges)
        if len(ranges) <= 1000:  # the form has a few dozen; an odd file's thousands are not kept
            if len(_MERGED) >= 64:
                _MERGED.clear()
            _MERGED[ranges] = hit
    return hit


def _input_refs(spec: FormSpec, slots: int) -> list[str]:
    refs = [f.cell for f in spec.input_fields]
    for s in spec.slot_rows(slots) if spec.groups else ():
        refs += [make_ref(s.row0, parse_ref(c.col + "1")[1]) for c in spec.columns]
    for sec in spec.sections:
        for i in range(sec.slots):
            refs += [f"{sec.title_col}{sec.first_row + i}", f"{sec.text_col}{sec.first_row + i}"]
    return refs


def _extract(spec: FormSpec, grid: list, meta: dict, slots: int) -> ReturnData:
    lay = _layout(spec, slots)
    n = len(grid)
    fields = {name: grid[r][c] if r < n and c < len(grid[r]) else "" for name, _ref, r, c in lay["fields"]}
    refs = {name: ref for name, ref, _r, _c in lay["fields"]}
    data = ReturnData(spec_name=lay["spec_name"], sheet=spec.sheet, meta=meta, fields=fields, refs=refs)
    for s, cells in lay["slots"]:
        row = grid[s.row0] if s.row0 < n else ()
        vals = {name: row[c] if c < len(row) else "" for name, c, _ref in cells}
        if _filled(vals.values()):
            crefs = {name: ref for name, _c, ref in cells}
            data.indicators.append(IndicatorRow(s.level1, s.level2, s.index, s.row0 + 1, vals, crefs))
    for sec in spec.sections:
        items = []
        for i in range(sec.slots):
            r = sec.first_row + i
            title, body = text(_grid_get(grid, f"{sec.title_col}{r}")), text(_grid_get(grid, f"{sec.text_col}{r}"))
            if title or body:
                items.append({"标题": title, "内容": body, "ref": f"{sec.title_col}{r}", "text_ref": f"{sec.text_col}{r}"})
        data.sections[sec.name] = items
    return data


def _huge_cell(grid: list) -> tuple[int, int, int] | None:
    """(row, column, length) of the first text cell longer than Excel allows, or None."""
    for row in grid:
        for v in row:
            if isinstance(v, str) and len(v) > EXCEL_CELL_MAX:  # rare: then find where
                return next((r, c, len(x)) for r, rw in enumerate(grid) for c, x in enumerate(rw)
                            if isinstance(x, str) and len(x) > EXCEL_CELL_MAX)
    return None


def _cells_fit(entries: list | None, parts: dict | None) -> bool:
    """True when no cell can hold more than Excel allows, without looking at the cells.

    A cell's text comes from one XML part (the sheet's inline strings or the shared strings), and a
    character takes at least one byte: if every part was inflated whole by the safety check (so its
    length is known, not claimed) and none is longer than EXCEL_CELL_MAX bytes, no cell is either.
    """
    if not entries or not parts:
        return False
    whole = 0
    for zi in entries:
        body = parts.get(zi.filename)
        if body is not None:
            if len(body) > EXCEL_CELL_MAX:
                return False
            whole += 1
        elif not zi.filename.endswith("/"):
            return False  # a part calamine inflates itself (media, a big sheet): look at the cells
    return whole > 0


def _has_formula(xml: bytes) -> bool:
    """A formula element anywhere in the sheet XML; the regex only runs when a cheap count cannot rule one out
    (every ``<f`` of a plain sheet is the ``<formula1>`` of a data validation)."""
    if b":f" not in xml and xml.count(b"<f") == xml.count(b"<formula"):
        return False
    return _HAS_FORMULA.search(xml) is not None


def _filled(values) -> bool:
    """any(text(v) for v in values), without a text() call per cell."""
    for v in values:
        if v.__class__ is str:
            if v and not v.isspace():  # what str.strip() would leave non-empty
                return True
        elif text(v):
            return True
    return False


def _slots_from_meta(spec: FormSpec, meta: dict) -> int:
    try:
        n = int(meta.get("slots", spec.slots))
    except ValueError:
        return spec.slots
    return n if 1 <= n <= max(spec.max_slots, spec.slots) else spec.slots


_BUNDLED: list = []


def _bundled_specs() -> list[FormSpec]:
    """The bundled specs, listed once per process (bundled_specs() globs templates/ on every call)."""
    if not _BUNDLED:
        _BUNDLED.extend(bundled_specs())
    return list(_BUNDLED)


def parse_workbook(path: Path, specs: list[FormSpec] | None = None, raw: bytes | None = None,
                   parts: dict | None = None, entries: list | None = None) -> FileResult:
    """Read one workbook that passed the safety precheck. Never raises for a bad workbook.

    *raw* is the file's content if the caller has it already (the bytes the safety check read), and
    *parts* the zip parts that check inflated. With *entries* too (the checked zip's entries), calamine
    is given those parts stored (:func:`xlperf.safety.shared_zip`): each part is inflated once, by the check.
    """
    from python_calamine import CalamineWorkbook

    specs = specs or _bundled_specs()
    res = FileResult(str(path))
    try:
        if raw is None:
            raw = Path(path).read_bytes()  # read once: calamine, the XML scan and the digest share it
        res.sha256 = hashlib.sha256(raw).hexdigest()
        book = raw
        if entries and parts:
            from .safety import shared_zip

            book = shared_zip(raw, entries, parts)
        wb = CalamineWorkbook.from_filelike(io.BytesIO(book))
        names = wb.sheet_names
        meta_names = {s.meta_sheet for s in specs}
        meta_sheet = next((n for n in names if n in meta_names), None)
        if meta_sheet is None:
            from .collection import is_master, looks_like_master, parse_master

            if is_master(names) or looks_like_master(names):  # a sub-master sent up with the returns
                return parse_master(path, wb, names, specs, res)
        meta = _meta_dict(wb.get_sheet_by_name(meta_sheet).to_python()) if meta_sheet else {}
        spec, problem = identify(meta, specs) if meta else (None, None)
        if problem:
            res.add(problem)
            return res
        if spec is None:
            form = next((s for s in specs if s.sheet in names), None)
            if form is None or meta:
                res.add(Issue.make("E001", title=specs[0].title, form_sheet=specs[0].sheet))
            else:
                res.add(Issue.make("E002", form.sheet))
            return res
        res.kind = spec.kind
        if spec.sheet not in names:
            res.add(Issue.make("E004", spec.sheet, "", form_sheet=spec.sheet))
            return res
        sheet = wb.get_sheet_by_name(spec.sheet)
        grid = sheet.to_python(skip_empty_area=False)
        huge = None if _cells_fit(entries, parts) else _huge_cell(grid)
        if huge:  # beyond what Excel can hold: never echo it into messages, reports or the master
            res.add(Issue.make("E009", spec.sheet, make_ref(huge[0], huge[1]), length=huge[2], limit=EXCEL_CELL_MAX))
            return res
        if spec.engine == "table":
            _parse_table_form(res, spec, grid, sheet, meta, raw, parts)
            return res
        slots = _slots_from_meta(spec, meta)
        _check_layout(spec, grid, _merged_set(sheet), slots, res.issues)
        if res.issues:
            return res
        data = _extract(spec, grid, meta, slots)
        vcol = next((c.name for c in spec.columns if c.type == "indicator_value"), "")  # the target column
        numeric = {ir.refs[vcol] for ir in data.indicators
                   if vcol in ir.refs and isinstance(ir.values.get(vcol), (int, float))}
        # percent fields (the spending plan) typed as 25% arrive as 0.25: their format says so
        numeric |= {data.refs[f.name] for f in spec.fields
                    if f.type == "percent" and isinstance(data.fields.get(f.name), (int, float))}
        data.formulas, data.number_formats = scan_sheet_xml(raw, spec.sheet, _layout(spec, slots)["input_refs"], numeric,
                                                            parts)
        res.data = data
    except Exception as exc:  # calamine raises many error types for damaged files
        res.add(Issue.make("F016", error=f"{type(exc).__name__}: {str(exc)[:200]}"))
    return res


def _parse_table_form(res: FileResult, spec: FormSpec, grid: list, sheet, meta: dict, raw: bytes, parts) -> None:
    """A table form (xlperf/table_form.py): rows counted by the metadata, layout checked, values read."""
    from . import table_form

    spec = table_form.with_meta(spec, meta)
    n_rows = table_form.rows_from_meta(spec, meta)
    if n_rows is None:
        res.add(Issue.make("E314", spec.meta_sheet, "rows"))
        return
    moved = table_form.check_layout(spec, grid, _merged_set(sheet), n_rows)
    if moved:
        code, ref, params = moved
        res.add(Issue.make(code, spec.sheet, ref, **params))
        return
    data = table_form.extract(spec, grid, meta, n_rows)
    inputs = table_form.input_refs(spec, n_rows)
    numeric = {ref for ref in inputs if isinstance(_grid_get(grid, ref), (int, float))}
    numeric |= {ir.refs[c.name] for ir in data.indicators for c in spec.columns
                if c.locked and isinstance(ir.values.get(c.name), (int, float))}
    data.formulas, data.number_formats = scan_sheet_xml(raw, spec.sheet, set(inputs), numeric, parts)
    res.data = data


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_file(path: Path | str, specs: list[FormSpec] | None = None, limits=None) -> FileResult:
    """Precheck then parse one file; the unit of work a worker process runs.

    The file is read once: the safety check gets its bytes, and the parser the very bytes that passed.
    """
    from .safety import Limits, read_checked

    path = Path(path)
    parts: dict = {}
    entries: list = []
    rej, raw, st = read_checked(path, limits or Limits.from_env(), parts, entries)
    if rej is not None:
        res = FileResult(str(path))
        res.add(Issue.make(rej.code, **rej.detail))
        res.settle()
        return res
    res = parse_workbook(path, specs, raw=raw, parts=parts, entries=entries)
    res.mtime = st.st_mtime
    if not res.sha256:
        res.sha256 = hashlib.sha256(raw).hexdigest()
    return res


def discover(paths: list[str | Path]) -> tuple[list[Path], list[FileResult]]:
    """Expand files and folders (recursively, sorted). Non-spreadsheets in folders are reported, not lost."""
    files: list[Path] = []
    skipped: list[FileResult] = []
    seen = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames.sort()
                for name in sorted(filenames):
                    f = Path(dirpath) / name
                    if f.suffix.lower() in SPREADSHEET_EXT or name.startswith(("~$", ".~lock.")):
                        candidates = [f]
                    else:
                        r = FileResult(str(f))
                        r.add(Issue.make("F015", ext=f.suffix or "（无）"))
                        r.settle()
                        skipped.append(r)
                        candidates = []
                    for c in candidates:
                        if c not in seen:
                            seen.add(c)
                            files.append(c)
        elif p not in seen:
            seen.add(p)
            files.append(p)
    return files, skipped
