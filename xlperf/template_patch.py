"""Fast path of generate: one xlsxwriter skeleton per form, each template patched from it at the XML level."""
from __future__ import annotations

import io
import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from html import unescape

from . import writer as W
from .spec import FormSpec, parse_ref

# Set to 1 to write every template with xlsxwriter (the benchmark's "before"; a way out if a patched
# template is ever suspected).
DISABLE_ENV = "XLPERF_NO_TEMPLATE_PATCH"
# Meta keys whose value depends on the registry row or the moment (the others are the form's).
_META_VARIABLE = ("unit_code", "project_code", "locked_digest", "generated_at")
_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_ROW = re.compile(r'<row r="(\d+)"[^>]*>')
_SI = re.compile(r"<si>.*?</si>", re.S)
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_MAX_TEXT = 16000  # longer texts take xlsxwriter's own path (its UTF-16 length check and truncation)


class _Unsupported(Exception):
    """The skeleton cannot stand for the normal writer here: write the template with xlsxwriter."""


@dataclass
class _Member:
    info: zipfile.ZipInfo
    header: bytes = b""  # local file header, for a member that is the same in every template
    data: bytes = b""  # its compressed bytes
    crc: int = 0
    size: int = 0
    fields: tuple = ()

    def central(self, crc: int, csize: int, size: int, offset: int) -> bytes:
        before, after, tail = self.fields or _central_fields(self.info)
        return _CENTRAL.pack(*before, crc, csize, size, *after, offset) + tail


def _deflate(raw: bytes) -> bytes:
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # as zipfile's ZIP_DEFLATED
    return c.compress(raw) + c.flush()


def _deflate_piece(raw: bytes, last: bool, small: bool) -> bytes:
    """Deflate blocks of one piece of a part. A piece that is not the last ends on a sync flush (byte
    aligned, not final), so the pieces of a part, each deflated on its own, concatenate to one valid
    stream. A small compressor (8 KiB window) for the pieces made per template: the default one
    allocates ~256 KiB, and that allocation, not the compression, would cost most of the time."""
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -13 if small else -15, 3 if small else 8)
    return c.compress(raw) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class _Pieces:
    """A part as constant pieces (deflated once) and per-template pieces (None), in order."""

    def __init__(self, template: list):
        self.items = []
        for i, raw in enumerate(template):
            last = i == len(template) - 1
            self.items.append(None if raw is None else (raw, _deflate_piece(raw, last, small=False), last))
        self.last = len(template) - 1

    def build(self, variable: list[bytes]) -> tuple[bytes, int, int]:
        """(deflated bytes, CRC-32, size) of the part with these per-template pieces."""
        out, crc, size, it = [], 0, 0, iter(variable)
        for i, item in enumerate(self.items):
            if item is None:
                raw = next(it)
                out.append(_deflate_piece(raw, i == self.last, small=True))
            else:
                raw = item[0]
                out.append(item[1])
            crc = zlib.crc32(raw, crc)
            size += len(raw)
        return b"".join(out), crc, size


_SST_WRITER: list = []


_PLAIN_TEXT = re.compile(r"[\x00-\x1f]|_x|^<r>|^\s|\s$")


def _si_xml(text: str) -> str:
    """A shared string entry exactly as xlsxwriter writes it (escapes, _xHHHH_, xml:space)."""
    if not _PLAIN_TEXT.search(text):  # the common case, without xlsxwriter's special cases
        return "<si><t>" + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</t></si>"
    if text.startswith("<r>") and text.endswith("</r>"):
        raise _Unsupported  # xlsxwriter would copy it unescaped: the writer's own path writes it safely
    if not _SST_WRITER:
        from xlsxwriter.sharedstrings import SharedStrings

        _SST_WRITER.append(SharedStrings())
    ss = _SST_WRITER[0]
    ss.fh = io.StringIO()
    ss._write_si(text)
    return ss.fh.getvalue()


_ROW_TAGS: dict = {}


def _row_tag(row0: int, spans: str | None, height) -> str:
    """A <row> start tag exactly as xlsxwriter writes it for set_row(row0, height) (or no set_row)."""
    key = (row0, spans, height)
    if key not in _ROW_TAGS:
        from xlsxwriter.worksheet import Worksheet

        ws = Worksheet()
        ws.fh = io.StringIO()
        if height is not None:
            ws.set_row(row0, height)
        ws._write_row(row0, spans, ws.row_info.get(row0))
        _ROW_TAGS[key] = ws.fh.getvalue()
    return _ROW_TAGS[key]


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf' {name}="([^"]*)"', attrs)
    return m.group(1) if m else None


class _Sheet:
    """One worksheet part cut into constant text and slots: ('cell', ref, style) or ('row', row0, spans)."""

    def __init__(self, xml: str, cells: set[str], rows: set[int]):
        self.parts: list = []
        pos = 0
        spots = []
        for m in _CELL.finditer(xml):
            ref = m.group(1) + m.group(2)
            if ref in cells:
                spots.append((m.start(), m.end(), ("cell", ref, _attr(m.group(3), "s"))))
        for m in _ROW.finditer(xml):
            r0 = int(m.group(1)) - 1
            if r0 in rows:
                spots.append((m.start(), m.end(), ("row", r0, _attr(m.group(0), "spans"))))
        found = {s[2][1] for s in spots}
        if found != cells | rows:
            raise _Unsupported(f"slots not found: {(cells | rows) - found}")
        for start, end, slot in sorted(spots):
            self.parts.append(xml[pos:start])
            self.parts.append(slot)
            pos = end
        self.parts.append(xml[pos:])
        # deflated once: the text before the first slot and after the last; the rest per template
        self.pieces = _Pieces([self.parts[0].encode(), None, self.parts[-1].encode()])


def _sheet_parts(raw: dict[str, bytes]) -> dict[str, str]:
    """Worksheet name -> part name, from xl/workbook.xml and its relationships."""
    rels = dict(re.findall(r'<Relationship Id="([^"]+)" Type="[^"]*/worksheet" Target="([^"]+)"',
                           raw["xl/_rels/workbook.xml.rels"].decode()))
    sheets = re.findall(r'<sheet name="([^"]*)" sheetId="\d+"[^>]*? r:id="([^"]+)"', raw["xl/workbook.xml"].decode())
    return {unescape(name): "xl/" + rels[rid] for name, rid in sheets}


def _probe_row(row: dict) -> dict:
    """Every text column of the row replaced by a marker no registry value contains."""
    return {k: (f"\ue000{i}\ue001" if isinstance(k, str) else v) for i, (k, v) in enumerate(row.items())}


class Skeleton:
    """The templates of one form, password and slot count: xlsxwriter's output with the row's cells as slots."""

    def __init__(self, spec: FormSpec, keys, password: str, slots: int | None):
        self.spec, self.password, self.slots = spec, password, slots
        self.key = (spec, password, slots, keys, os.environ.get("SOURCE_DATE_EPOCH"))
        probe = _probe_row(dict.fromkeys(keys, ""))
        self.var_fields = [f for f in spec.fields if f.locked or (not f.default and f.name in probe)]
        self.const_inputs = [f.name for f in spec.fields if not f.locked and not f.default and f.name not in probe]
        self._height_rows = {parse_ref(f.cell)[0] for f in spec.fields
                             if f.locked and f.type != "money" and f.style != "unit_line"}
        self._height_fields = []  # (row0, field, width in characters) of the fields on those rows
        for f in spec.fields:
            r, c = parse_ref(f.cell)
            if r in self._height_rows:
                width = sum(spec.widths[parse_ref(f.merge.split(":")[0])[1]:parse_ref(f.merge.split(":")[-1])[1] + 1]) \
                    if f.merge else spec.widths[c]
                self._height_fields.append((r, f, width))
        data = W.template_bytes(spec, probe, password=password, slots=slots)
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        raw = {i.filename: zf.read(i) for i in infos}
        parts = _sheet_parts(raw)
        self.form_part, self.meta_part = parts[spec.sheet], parts[spec.meta_sheet]
        sst_xml = raw["xl/sharedStrings.xml"].decode()
        entries = _SI.findall(sst_xml)
        self._sst_head = sst_xml[:sst_xml.index("<sst ")]
        self._sst_tag = re.search(r"<sst [^>]*>", sst_xml).group(0)

        form_xml, meta_xml = raw[self.form_part].decode(), raw[self.meta_part].decode()
        form_cells = {f.cell for f in self.var_fields}
        meta_rows = {}  # meta key -> its row (1-based) on the meta sheet
        for m in _CELL.finditer(meta_xml):
            if m.group(1) == "A" and 't="s"' in m.group(3):
                meta_rows[_entry_text(entries[int(re.search(r"<v>(\d+)</v>", m.group(4)).group(1))])] = m.group(2)
        meta_keys = [k for k in _META_VARIABLE if k in meta_rows and (k != "project_code" or spec.kind == "project")]
        self.meta_cells = {k: "B" + meta_rows[k] for k in meta_keys}
        variable = {self.form_part: form_cells, self.meta_part: set(self.meta_cells.values())}

        # The constant shared strings: those a constant cell refers to, in xlsxwriter's order.
        sheet_xml = {name: raw[name].decode() for name in parts.values()}
        used, count = set(), 0
        for name, xml in sheet_xml.items():
            for m in _CELL.finditer(xml):
                if 't="s"' in m.group(3) and m.group(1) + m.group(2) not in variable.get(name, ()):
                    used.add(int(re.search(r"<v>(\d+)</v>", m.group(4)).group(1)))
                    count += 1
        order = sorted(used)
        renumber = {old: new for new, old in enumerate(order)}
        self._sst_const = [entries[i] for i in order]
        self._sst_index = {e: i for i, e in enumerate(self._sst_const)}
        self._sst_count = count
        self._sst = _Pieces([None, "".join(self._sst_const).encode(), None])

        def renumbered(xml: str, skip) -> str:
            def sub(m):
                if 't="s"' not in m.group(3) or m.group(1) + m.group(2) in skip:
                    return m.group(0)
                old = int(re.search(r"<v>(\d+)</v>", m.group(4)).group(1))
                return m.group(0).replace(f"<v>{old}</v>", f"<v>{renumber[old]}</v>")
            return _CELL.sub(sub, xml)

        for name in sheet_xml:
            raw[name] = renumbered(sheet_xml[name], variable.get(name, ())).encode()
        self.form = _Sheet(raw[self.form_part].decode(), form_cells, self._height_rows)
        self.meta = _Sheet(raw[self.meta_part].decode(), set(self.meta_cells.values()), set())
        self._core = raw["docProps/core.xml"].decode()
        self._core_cache: dict[str, tuple] = {}
        self._epoch_core = bool((os.environ.get("SOURCE_DATE_EPOCH") or "").isdigit())
        variable_parts = {self.form_part, self.meta_part, "xl/sharedStrings.xml", "docProps/core.xml"}
        self.members = []
        for info in infos:
            m = _Member(info, fields=_central_fields(info))
            if info.filename not in variable_parts:
                m.data, m.crc, m.size = _deflate(raw[info.filename]), zlib.crc32(raw[info.filename]), len(raw[info.filename])
                m.header = _local_header(info, m.crc, len(m.data), m.size)
            self.members.append(m)

    # -- one template ------------------------------------------------------------------------
    def cell_values(self, row: dict) -> dict[str, object]:
        """A1 ref -> the value the normal writer puts in each row-dependent cell ("" for a blank)."""
        for name in self.const_inputs:
            if row.get(name):
                raise _Unsupported(name)  # an input the skeleton holds blank has a value in this row
        locked = W.locked_values(self.spec, row)
        out = {}
        for f in self.var_fields:
            if f.locked:
                value = W._number_or_text(locked[f.name]) if f.type == "money" else locked[f.name]
            else:
                value = row.get(f.name) or ""
                if f.type == "percent" and isinstance(value, str):
                    value = W._number_or_text(value)
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise _Unsupported(f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise _Unsupported(f.name)
            if isinstance(value, str) and len(value) > _MAX_TEXT:
                raise _Unsupported(f.name)
            out[f.cell] = value
        return out, locked

    def heights(self, locked: dict) -> dict[int, float]:
        """Row heights of the rows a locked text may wrap in, as _write_form_sheet sets them."""
        heights: dict[int, float] = {}
        for r, f, width in self._height_fields:
            if f.height:
                heights[r] = max(heights.get(r, 0), f.height)  # no prefill on this path: the field is blank
            elif f.locked and f.type != "money" and f.style != "unit_line" and W._lines(locked[f.name], width) > 1:
                heights[r] = max(heights.get(r, 0), W._text_height(locked[f.name], width, base=0))
        return heights

    def render(self, row: dict) -> bytes:
        values, locked = self.cell_values(row)
        heights = self.heights(locked)
        spec = self.spec
        meta = {"unit_code": str(row.get("单位编码", "")),
                "project_code": str(row.get(spec.key, "")) if spec.kind == "project" else "",
                "locked_digest": W.locked_digest(spec, locked), "generated_at": W.generated_at()}
        meta_values = {ref: meta[k] for k, ref in self.meta_cells.items()}
        added: dict[str, int] = {}  # <si> of a new string -> its index
        n_const, strings = len(self._sst_const), [0]

        def cell(ref: str, style: str | None, value) -> str:
            s = f' s="{style}"' if style is not None else ""
            if value is None or value == "":
                if style is None:  # a string cell without a format (the meta sheet): "" is a string there
                    pass
                else:
                    return f'<c r="{ref}"{s}/>'
            if isinstance(value, (int, float)) and not isinstance(value, str):
                return f"<c r=\"{ref}\"{s}><v>{value:.16G}</v></c>"
            si = _si_xml(value)
            idx = self._sst_index.get(si)
            if idx is None:
                idx = added.setdefault(si, n_const + len(added))
            strings[0] += 1
            return f'<c r="{ref}"{s} t="s"><v>{idx}</v></c>'

        def fill(sheet: _Sheet, cells: dict) -> tuple:
            out = []
            for p in sheet.parts[1:-1]:
                if p.__class__ is str:
                    out.append(p)
                elif p[0] == "cell":
                    out.append(cell(p[1], p[2], cells[p[1]]))
                else:
                    out.append(_row_tag(p[1], p[2], heights.get(p[1])))
            return sheet.pieces.build(["".join(out).encode()])

        form = fill(self.form, values)
        meta_xml = fill(self.meta, meta_values)
        tag = re.sub(r'count="\d+"', f'count="{self._sst_count + strings[0]}"', self._sst_tag)
        tag = re.sub(r'uniqueCount="\d+"', f'uniqueCount="{n_const + len(added)}"', tag)
        sst = self._sst.build([(self._sst_head + tag).encode(), ("".join(added) + "</sst>").encode()])
        variable = {self.form_part: form, self.meta_part: meta_xml, "xl/sharedStrings.xml": sst}
        return self._zip(variable)

    def _core_member(self):
        stamp = _STAMP.search(self._core).group(0) if self._epoch_core else W.generated_at()
        if stamp not in self._core_cache:
            raw = _STAMP.sub(stamp, self._core).encode()
            self._core_cache = {stamp: (_deflate(raw), zlib.crc32(raw), len(raw))}
        return self._core_cache[stamp]

    def _zip(self, variable: dict[str, bytes]) -> bytes:
        out, central, offset = [], [], 0
        for m in self.members:
            name = m.info.filename
            if m.header:
                header, data, crc, size = m.header, m.data, m.crc, m.size
            else:
                if name == "docProps/core.xml":
                    data, crc, size = self._core_member()
                else:
                    data, crc, size = variable[name]
                header = _local_header(m.info, crc, len(data), size)
            out += (header, data)
            central.append(m.central(crc, len(data), size, offset))
            offset += len(header) + len(data)
        cd = b"".join(central)
        end = struct.pack(zipfile.structEndArchive, zipfile.stringEndArchive, 0, 0,
                          len(central), len(central), len(cd), offset, 0)
        return b"".join(out) + cd + end


def _entry_text(si: str) -> str:
    m = re.search(r"<t[^>]*>(.*?)</t>", si, re.S)
    return unescape(m.group(1)) if m else ""


_CENTRAL = struct.Struct(zipfile.structCentralDir)


def _local_header(info: zipfile.ZipInfo, crc: int, csize: int, size: int) -> bytes:
    info.CRC, info.compress_size, info.file_size = crc, csize, size
    return info.FileHeader(False)


def _central_fields(info: zipfile.ZipInfo) -> tuple:
    """The central directory entry of a member but for CRC, sizes and offset: (before, after, tail)."""
    dt = info.date_time
    dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
    dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
    name = info.filename.encode("ascii")
    return ((zipfile.stringCentralDir, info.create_version, info.create_system, info.extract_version, info.reserved,
             info.flag_bits, info.compress_type, dostime, dosdate),
            (len(name), len(info.extra), len(info.comment), 0, info.internal_attr, info.external_attr),
            name + info.extra + info.comment)


# -- the dispatch generate() uses ------------------------------------------------------------

_SKELETONS: dict = {}


def normalized(data: bytes) -> dict[str, bytes]:
    """A template's parts with shared-string indexes resolved and timestamps blanked: two templates
    with the same cells, formats and everything else compare equal, whatever the order of their
    shared strings. The shared strings part becomes its sorted set of entries."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    raw = {i.filename: zf.read(i) for i in zf.infolist()}
    entries = _SI.findall(raw.get("xl/sharedStrings.xml", b"").decode())
    out = {}
    for name, body in raw.items():
        text = body.decode("utf-8", "replace") if name.endswith((".xml", ".rels")) else None
        if text is None:
            out[name] = body
            continue
        if name.startswith("xl/worksheets/"):
            text = re.sub(r'( t="s"><v>)(\d+)(</v>)', lambda m: m.group(1) + entries[int(m.group(2))] + m.group(3), text)
        if name == "xl/sharedStrings.xml":
            text = "\n".join(sorted(set(entries))) + f"\n{len(entries)}"
        out[name] = _STAMP.sub("T", text).encode()
    out["[order]"] = "\n".join(raw).encode()
    return out


def _self_check(sk: Skeleton, row: dict) -> None:
    """The skeleton stands for xlsxwriter only if it reproduces its template for this row and a
    row with every text made long (wrapped names, amounts that are not numbers)."""
    long_row = {k: (str(v) * 12 if isinstance(k, str) and isinstance(v, str) and v else v) for k, v in row.items()}
    for probe in (row, long_row):
        try:
            fast = sk.render(probe)
        except _Unsupported:
            continue
        normal = W.template_bytes(sk.spec, probe, password=sk.password, slots=sk.slots)
        if normalized(fast) != normalized(normal):
            raise _Unsupported("the patched template differs from xlsxwriter's")


def fast_template(spec: FormSpec, row: dict, *, password: str, slots: int | None = None) -> bytes | None:
    """The template of `row` patched from the form's skeleton, or None: then write it with xlsxwriter
    (a spec or row the skeleton cannot stand for, or the fast path switched off)."""
    if os.environ.get(DISABLE_ENV) == "1":
        return None
    keys = tuple(k for k in row if k.__class__ is str)
    last = _SKELETONS.get("last")
    if last and last.spec is spec and last.key[1:] == (password, slots, keys, os.environ.get("SOURCE_DATE_EPOCH")):
        return _render(last, row)  # the same form as the template before: no need to hash the spec
    key = (spec, password, slots, keys, os.environ.get("SOURCE_DATE_EPOCH"))
    sk = _SKELETONS.get(key)
    if sk is None:
        try:
            sk = Skeleton(spec, keys, password, slots)
            _self_check(sk, row)
        except Exception:  # noqa: BLE001 - any surprise means the normal writer, never a wrong template
            sk = False
        _SKELETONS[key] = sk
    if sk is False:
        return None
    _SKELETONS["last"] = sk
    return _render(sk, row)


def _render(sk: Skeleton, row: dict) -> bytes | None:
    try:
        return sk.render(row)
    except _Unsupported:
        return None
