"""Read a registry export (xlsx or CSV) into a grid and find its header row, columns and units."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

HEADER_SCAN_ROWS = 20  # budget-system exports put a title, a unit line and blank rows above the header
MAX_FILE_BYTES = 50 * 1024 * 1024

# Registry column -> header names the budget systems and hand-made lists use for it, most specific
# first. Headers are compared after normalise_header(): full-width forms folded, spaces, units in
# brackets and a leading "其中：" removed, English lower-cased.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "单位编码": ("单位编码", "单位代码", "单位编号", "预算单位编码", "预算单位代码", "项目单位编码", "项目单位代码",
                 "unit_code", "unitcode"),
    "单位名称": ("单位名称", "预算单位", "预算单位名称", "项目单位", "项目单位名称", "单位", "unit_name", "unitname"),
    "项目编码": ("项目编码", "项目代码", "项目编号", "project_code", "projectcode"),
    "项目名称": ("项目名称", "项目", "project_name", "projectname"),
    "预算数": ("预算数", "预算金额", "预算数合计", "预算总额", "项目预算", "项目预算数", "项目金额", "年度预算数",
               "合计", "金额合计", "资金合计", "budget", "total"),
    "财政资金": ("财政资金", "财政拨款", "财政拨款资金", "财政拨款收入", "一般公共预算拨款", "一般公共预算",
                 "财政资金合计", "fiscal", "fiscal_funds"),
    "其他资金": ("其他资金", "其他来源资金", "其他来源", "非财政拨款资金", "非财政拨款", "其他收入", "其他",
                 "other", "other_funds"),
    "资金用途": ("资金用途", "资金主要用途", "主要用途", "用途", "purpose", "use_of_funds"),
    "主管部门": ("主管部门", "主管部门名称", "主管单位", "主管单位名称", "department"),
    "主管部门编码": ("主管部门编码", "主管部门代码", "主管单位编码", "主管单位代码", "department_code"),
    "年度": ("年度", "预算年度", "年份", "year"),
}
MONEY_FIELDS = ("预算数", "财政资金", "其他资金")
REQUIRED_TEXT = ("单位编码", "单位名称", "项目编码", "项目名称")

# A unit named in a header or a unit line, and what one of it is in 万元.
UNIT_FACTORS = {"元": Decimal("0.0001"), "千元": Decimal("0.1"), "万元": Decimal(1), "亿元": Decimal(10000)}
_UNIT = re.compile(r"(万|亿|千)?元")
_BRACKETED = re.compile(r"[(\[【〔<]([^)\]】〕>]*)[)\]】〕>]")
_UNIT_LINE = re.compile(r"单位[:]?((?:万|亿|千)?元)")
_LEADING = re.compile(r"^(其中[:,、]?|\*+|\d+[.、])")
# Safety rejections whose message parameters are numbers or names only, shown as they are.
_PLAIN_REJECTIONS = ("F004", "F006", "F009", "F014", "F018")
TOTAL_WORDS = ("合计", "总计", "小计", "总合计")


def _nfkc(value) -> str:
    return unicodedata.normalize("NFKC", str(value if value is not None else "")).replace("\ufeff", "")


def normalise_header(cell) -> tuple[str, str | None]:
    """(comparable header name, unit it names or None): '其中：财政拨款（元）' -> ('财政拨款', '元')."""
    s = re.sub(r"\s+", "", _nfkc(cell))
    unit = None
    for m in _BRACKETED.finditer(s):
        u = _UNIT.search(m.group(1))
        if u:
            unit = u.group(0)
    s = _BRACKETED.sub("", s)
    m = re.search(r"[/](?:单位:)?((?:万|亿|千)?元)$", s)
    if m:
        unit, s = m.group(1), s[: m.start()]
    s = _LEADING.sub("", s).rstrip(":")
    return s.lower(), unit


_LOOKUP = {normalise_header(a)[0]: f for f, names in FIELD_ALIASES.items() for a in names}
_RANK = {normalise_header(a)[0]: i for names in FIELD_ALIASES.values() for i, a in enumerate(names)}


def field_of(cell) -> str | None:
    return _LOOKUP.get(normalise_header(cell)[0])


@dataclass
class Header:
    """Where the header is and what each used column holds."""

    row: int  # 0-based index of the (last) header row in the grid
    columns: dict[str, int] = field(default_factory=dict)  # registry column -> grid column index
    labels: dict[str, str] = field(default_factory=dict)  # registry column -> header text as written
    units: dict[str, str] = field(default_factory=dict)  # money column -> unit of its amounts
    clashes: list[tuple[str, int, int]] = field(default_factory=list)  # (column, index kept, other index)
    found: list[str] = field(default_factory=list)  # the header texts of that row, for messages

    @property
    def score(self) -> int:
        return len(self.columns)


def _cell_label(cell) -> str:
    """A header as the user wrote it (only line breaks and spaces dropped), for messages."""
    return re.sub(r"\s+", "", str(cell if cell is not None else "")).replace("\ufeff", "")


def map_header(cells: list, parent: list | None = None) -> Header:
    """Map one header row (and, for a two-row header, the group row above it) to registry columns."""
    h = Header(row=0)
    ranks: dict[str, int] = {}
    for j, cell in enumerate(cells):
        name, unit = normalise_header(cell)
        label = _cell_label(cell)
        if parent is not None and name not in _LOOKUP and j < len(parent):
            name, unit = normalise_header(parent[j])  # a group header standing alone over its row
            label = _cell_label(parent[j])
        elif parent is not None and unit is None and j < len(parent):
            unit = normalise_header(parent[j])[1]  # "预算数（元）" over "合计 | 财政拨款 | 其他资金"
        f = _LOOKUP.get(name)
        if label:
            h.found.append(label)
        if f is None:
            continue
        if f in h.columns:
            if h.columns[f] != j and _RANK[name] == ranks[f]:
                h.clashes.append((f, h.columns[f], j))
            if _RANK[name] >= ranks[f]:
                continue
        h.columns[f], h.labels[f], ranks[f] = j, label, _RANK[name]
        if f in MONEY_FIELDS and unit:
            h.units[f] = unit
    return h


def find_header(grid: list[list]) -> Header | None:
    """The row in the first HEADER_SCAN_ROWS that names the most registry columns (a two-row header
    counts when its lower row adds columns); None when no row names two."""
    best: Header | None = None
    for i, cells in enumerate(grid[:HEADER_SCAN_ROWS]):
        cand = map_header(cells)
        cand.row = i
        if i + 1 < len(grid):
            lower = map_header(grid[i + 1], parent=cells)
            lower.row = i + 1
            own = map_header(grid[i + 1])
            if own.score >= 2 and lower.score > cand.score:
                cand = lower
        if best is None or cand.score > best.score:
            best = cand
    return best if best is not None and best.score >= 2 else None


def unit_line(grid: list[list], header_row: int) -> str | None:
    """The unit a line above the header states for all amounts ('单位：元', '金额单位：万元')."""
    for cells in grid[:header_row]:
        for cell in cells:
            m = _UNIT_LINE.search(re.sub(r"\s+", "", _nfkc(cell)))
            if m:
                return m.group(1)
    return None


def title_year(grid: list[list], header_row: int) -> tuple[int, str] | None:
    """A budget year named in a title above the header ('2022年部门预算项目表')."""
    for cells in grid[:header_row]:
        for cell in cells:
            text = _nfkc(cell).strip()
            m = re.search(r"(20\d\d)\s*年", text)
            if m:
                return int(m.group(1)), text[:60]
    return None


def is_total_row(cells: list) -> bool:
    return any(re.sub(r"\s+", "", _nfkc(c)) in TOTAL_WORDS for c in cells if isinstance(c, str))


class ReadProblem(Exception):
    """The file cannot be read as a table: code (REGISTRY or F…) and its parameters."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


def read_grid(path: Path) -> tuple[list[list], str, bool]:
    """(rows of cells, sheet name or '', whether the sheet chosen is not the first) for an xlsx or CSV."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ReadProblem("R002", ext=suffix or path.name[-20:])
    try:
        if not path.is_file():
            raise ReadProblem("R001")
        size = path.stat().st_size
    except OSError:
        raise ReadProblem("R001") from None
    if size == 0:
        raise ReadProblem("R005")
    if suffix == ".csv":
        if size > MAX_FILE_BYTES:
            raise ReadProblem("F004", size=size, limit=MAX_FILE_BYTES)
        try:
            raw = path.read_bytes()
        except OSError:
            raise ReadProblem("R001") from None
        return _csv_rows(raw), "", False
    return _xlsx_rows(path)


def _csv_rows(raw: bytes) -> list[list]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReadProblem("R004")
    try:
        return list(csv.reader(io.StringIO(text.replace("\x00", ""))))
    except csv.Error:
        raise ReadProblem("R004") from None


def _xlsx_rows(path: Path) -> tuple[list[list], str, bool]:
    from python_calamine import CalamineWorkbook

    from .safety import Limits, read_checked

    # The registry is untrusted like any return: the same zip/XML checks, with room for a big list.
    limits = Limits(max_file_bytes=MAX_FILE_BYTES, max_sheet_rows=200_000, max_sheet_cells=20_000_000)
    rej, raw, _st = read_checked(path, limits)
    if rej is not None:
        if rej.code == "F005":  # an .xls (OLE2) file renamed .xlsx
            raise ReadProblem("R002", ext=".xls")
        if rej.code in _PLAIN_REJECTIONS:
            raise ReadProblem(rej.code, **rej.detail)
        raise ReadProblem("R003")  # the other reasons carry a parser's English words
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        visible = [m.name for m in wb.sheets_metadata if str(m.visible).endswith("Visible")
                   and "Worksheet" in str(m.typ)] or list(wb.sheet_names)
        best = None
        for k, name in enumerate(visible):
            sheet = wb.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False)
            _fill_merged(grid, sheet.merged_cell_ranges or ())
            header = find_header(grid)
            score = header.score if header else 0
            if best is None or score > best[0]:
                best = (score, grid, name, k > 0)
            if score >= len(REQUIRED_TEXT) + 1:
                break  # a complete header: later sheets (notes, summaries) need not be read
    except ReadProblem:
        raise
    except Exception:  # calamine raises many error types for damaged files; their text is English
        raise ReadProblem("R003") from None
    if best is None:
        raise ReadProblem("R005")
    return best[1], best[2], best[3]


def _fill_merged(grid: list[list], ranges) -> None:
    """Give every cell of a merged range its top-left value: a unit name merged down over its
    projects, a group header merged across its columns."""
    budget = 2_000_000
    for (r1, c1), (r2, c2) in ranges:
        if r1 >= len(grid) or c1 >= len(grid[r1]):
            continue
        value = grid[r1][c1]
        for r in range(r1, min(r2, len(grid) - 1) + 1):
            row = grid[r]
            for c in range(c1, min(c2, len(row) - 1) + 1):
                budget -= 1
                if budget < 0:
                    return
                row[c] = value
