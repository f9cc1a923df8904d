"""Load and check the project registry (项目库), the authority every return is checked against."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from .messages import get_lang, issue_text, registry_place, registry_text
from .model import Issue, ReturnData, text
from .spec import FormSpec, col_letter
from .registry_import import (FIELD_ALIASES, HEADER_SCAN_ROWS, MONEY_FIELDS, REQUIRED_TEXT, UNIT_FACTORS, Header,
                              ReadProblem, find_header, is_total_row, read_grid, title_year, unit_line)

COLUMNS = ["单位编码", "单位名称", "项目编码", "项目名称", "预算数", "财政资金", "其他资金", "资金用途", "主管部门"]
REQUIRED = COLUMNS[:7]
MONEY = MONEY_FIELDS
EXTRA_COLUMNS = ("主管部门编码", "年度")  # kept on each row when the export has them
# Any amount above this (万元, i.e. one trillion 元) is a slip, usually 元 under a 万元 header.
MAX_AMOUNT = Decimal(100_000_000)
MAX_PROBLEMS = 20  # shown in one message; the rest are counted
CENT = Decimal("0.01")
_BAD_CODE = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """One reason the registry is refused: a REGISTRY (R…) or file (F…) code, where, and the values."""

    code: str
    row: int | None = None  # 1-based row in the file
    col: str = ""  # column letter ("" for CSV-wide or file problems)
    header: str = ""  # the column's header as written in the file
    params: tuple = ()

    @classmethod
    def make(cls, code: str, row: int | None = None, col: str = "", header: str = "", **params) -> "Problem":
        return cls(code, row, col, header, tuple(sorted((k, str(v)) for k, v in params.items())))

    def message(self, lang: str = "zh") -> str:
        kw = dict(self.params)
        body = issue_text(self.code, lang, **kw) if self.code.startswith("F") else registry_text(self.code, lang, **kw)
        return registry_place(self.row, self.col, self.header, lang) + body

    def to_json(self, lang: str = "zh") -> dict:
        return {"code": self.code, "row": self.row, "column": self.header, "cell": f"{self.col}{self.row or ''}",
                "params": dict(self.params), "message": self.message(lang)}


@dataclass(frozen=True)
class Note:
    """Something the loader did that the user should know (元 converted, title rows skipped)."""

    code: str
    params: tuple = ()

    @classmethod
    def make(cls, code: str, **params) -> "Note":
        return cls(code, tuple(sorted((k, str(v)) for k, v in params.items())))

    def message(self, lang: str = "zh") -> str:
        return registry_text(self.code, lang, **dict(self.params))

    def to_json(self, lang: str = "zh") -> dict:
        return {"code": self.code, "params": dict(self.params), "message": self.message(lang)}


class RegistryError(Exception):
    """The registry cannot be used. str() is every problem (up to MAX_PROBLEMS) in the language of
    load_registry; .problems keeps them as codes, places and parameters."""

    def __init__(self, problems: list[Problem], lang: str = "zh"):
        self.problems, self.lang = problems, lang
        super().__init__(self.render(lang))

    def render(self, lang: str = "zh", limit: int = MAX_PROBLEMS) -> str:
        lines = [p.message(lang) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(registry_text("R099", lang, count=len(self.problems) - limit))
        return lines[0] if len(lines) == 1 else "\n  " + "\n  ".join(lines)

    def __str__(self) -> str:
        return self.render(self.lang)


@dataclass
class Registry:
    path: str
    rows: list[dict] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    year: int | None = None  # the budget year the registry names (a 年度 column or its title)

    def __post_init__(self):
        self.by_code = {r["项目编码"]: r for r in self.rows}

    def get(self, code: str) -> dict | None:
        return self.by_code.get(code)

    @property
    def units(self) -> dict[str, str]:
        return {r["单位编码"]: r["单位名称"] for r in self.rows}

    def note_lines(self, lang: str = "zh") -> list[str]:
        return [n.message(lang) for n in self.notes]


def round_money(d: Decimal) -> Decimal:
    """Two decimals, half up (1.005 -> 1.01), as budget offices round."""
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value) -> Decimal | None:
    """An amount as an exact Decimal (not rounded); None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as the same float: 1.005, not 1.00499…
    s = str(value).strip()
    for ch in (",", "，", " ", "\u3000", "¥", "￥"):
        s = s.replace(ch, "")
    if not s:
        return None
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def money(value) -> Decimal | None:
    """Parse an amount (万元) to a 2-decimal Decimal, rounded half up; None when it is not a number."""
    d = parse_amount(value)
    return None if d is None else round_money(d)


def _show(d: Decimal) -> str:
    return f"{d:.2f}" if d == d.quantize(CENT) else f"{d.normalize():f}"


def load_registry(path: Path | str, lang: str | None = None) -> Registry:
    """Read and check a registry export; raise RegistryError listing every problem found.

    *lang* chooses the language of str(RegistryError) (default: XLPERF_LANG, else Chinese).
    """
    lang = get_lang(lang)
    path = Path(path)
    try:
        grid, sheet, not_first = read_grid(path)
    except ReadProblem as exc:
        raise RegistryError([Problem.make(exc.code, **exc.params)], lang) from None
    if not any(text(c) for r in grid for c in r):
        raise RegistryError([Problem.make("R005")], lang)
    header = find_header(grid)
    if header is None:
        raise RegistryError([Problem.make("R007", scanned=min(HEADER_SCAN_ROWS, len(grid)))], lang)
    notes: list[Note] = []
    if not_first:
        notes.append(Note.make("R106", sheet=sheet))
    problems = _header_problems(header, grid)
    if problems:
        raise RegistryError(problems, lang)
    if header.row > 0:
        notes.append(Note.make("R101", row=header.row + 1, skipped=header.row))
    factors = _units(header, grid, notes)
    rows, problems = _rows(header, grid, factors)
    problems += _cross_row_problems(header, rows)
    year, year_problems = _year(header, grid, rows, notes)
    problems += year_problems
    if not rows and not problems:
        problems.append(Problem.make("R008", row=header.row + 1))
    if problems:
        raise RegistryError(sorted(problems, key=lambda p: (p.row or 0, p.col)), lang)
    _derive_and_round(header, rows, notes)
    return Registry(str(path), rows, notes, year)


def _header_problems(header: Header, grid: list[list]) -> list[Problem]:
    cols = header.columns
    missing = [c for c in REQUIRED_TEXT if c not in cols]
    if "预算数" not in cols and not ("财政资金" in cols and "其他资金" in cols):
        missing.append("预算数")
    elif "财政资金" not in cols and "其他资金" not in cols:
        missing.append("财政资金")
    problems = []
    if missing:
        problems.append(Problem.make("R006", row=header.row + 1, missing="、".join(missing),
                                     scanned=min(HEADER_SCAN_ROWS, len(grid)), found="、".join(header.found) or "—"))
    for f, kept, other in header.clashes:
        problems.append(Problem.make("R021", row=header.row + 1, col=col_letter(other),
                                     header=_label(grid, header, other), column=_label(grid, header, kept),
                                     other=_label(grid, header, other), field=f))
    return problems


def _label(grid, header: Header, j: int) -> str:
    cells = grid[header.row]
    return re.sub(r"\s+", "", str(cells[j])) if j < len(cells) else ""


def _units(header: Header, grid: list[list], notes: list[Note]) -> dict[str, Decimal]:
    """Factor to 万元 of each money column: its header's unit, else the unit line above, else 万元."""
    default = unit_line(grid, header.row) or "万元"
    units = {f: header.units.get(f, default) for f in MONEY_FIELDS if f in header.columns}
    converted: dict[str, list[str]] = {}
    for f, u in units.items():
        if u != "万元":
            converted.setdefault(u, []).append(header.labels[f])
    for u, labels in converted.items():
        notes.append(Note.make("R102", columns="、".join(labels)) if u == "元" else
                     Note.make("R107", unit=u, columns="、".join(labels)))
    return {f: UNIT_FACTORS[u] for f, u in units.items()}


def _rows(header: Header, grid: list[list], factors: dict[str, Decimal]) -> tuple[list[dict], list[Problem]]:
    cols = header.columns
    places = {f: (col_letter(j), header.labels[f]) for f, j in cols.items()}
    text_cols = [(f, j) for f, j in cols.items() if f not in MONEY_FIELDS]
    rows, problems = [], []
    for i in range(header.row + 1, len(grid)):
        cells = grid[i]
        if not any(v != "" and v is not None and (v.__class__ is not str or v.strip()) for v in cells):
            continue
        n = i + 1
        width = len(cells)
        row: dict = dict.fromkeys(COLUMNS, "")
        for f, j in text_cols:
            row[f] = text(cells[j]) if j < width else ""
        if not row["项目编码"] and not row["项目名称"] and is_total_row(cells):
            continue  # a 合计/小计 line of the export, not a project
        row["_row"] = n

        def cell(f, cells=cells, width=width):
            j = cols.get(f)
            return cells[j] if j is not None and j < width else ""

        def where(f, n=n):
            return {"row": n, "col": places[f][0], "header": places[f][1]}

        for f in REQUIRED_TEXT:
            if not row[f]:
                problems.append(Problem.make("R010", **where(f)))
        for f in ("单位编码", "项目编码"):
            raw = cell(f)
            if isinstance(raw, float) and abs(raw) >= 1e15:
                problems.append(Problem.make("R019", **where(f), value=row[f]))
            elif _BAD_CODE.search(row[f]):
                problems.append(Problem.make("R020", **where(f), value=row[f]))
        source: dict[str, Decimal | None] = {}
        for f in MONEY_FIELDS:
            if f not in cols:
                continue
            raw = cell(f)
            blank = text(raw) in ("", "-", "—", "－")
            amount = Decimal(0) if blank and f != "预算数" else parse_amount(raw)
            if blank and f == "预算数":
                problems.append(Problem.make("R010", **where(f)))
            elif amount is None:
                problems.append(Problem.make("R013", **where(f), value=text(raw)[:40]))
            elif amount < 0:
                problems.append(Problem.make("R014", **where(f), value=_show(amount)))
                amount = None
            elif amount * factors[f] > MAX_AMOUNT:
                problems.append(Problem.make("R015", **where(f), value=_show(amount * factors[f]),
                                             limit=_show(MAX_AMOUNT)))
                amount = None
            source[f] = amount
        row["_source"] = source
        problems += _derived_negative(header, where, source, factors)
        if len(source) == 3 and None not in source.values() and len(set(factors.values())) == 1:
            total, fiscal, other = (source[f] for f in MONEY_FIELDS)
            if total != fiscal + other:
                unit = next(u for u, k in UNIT_FACTORS.items() if k == factors["预算数"])
                problems.append(Problem.make(
                    "R016", **where("预算数"), total_col=header.labels["预算数"], fiscal_col=header.labels["财政资金"],
                    other_col=header.labels["其他资金"], total=_show(total), fiscal=_show(fiscal),
                    other=_show(other), diff=_show(total - fiscal - other), unit=unit))
        elif len(source) == 3 and None not in source.values():
            total, fiscal, other = (source[f] * factors[f] for f in MONEY_FIELDS)
            if total != fiscal + other:  # mixed units: compare in 万元, exactly
                problems.append(Problem.make(
                    "R016", **where("预算数"), total_col=header.labels["预算数"], fiscal_col=header.labels["财政资金"],
                    other_col=header.labels["其他资金"], total=_show(total), fiscal=_show(fiscal),
                    other=_show(other), diff=_show(total - fiscal - other), unit="万元"))
        row["_factors"] = factors
        rows.append(row)
    return rows, problems


def _derived_negative(header: Header, where: dict, source: dict, factors: dict) -> list[Problem]:
    """A money column the export lacks is computed from the other two; it must not come out negative."""
    if len(source) != 2 or None in source.values() or "预算数" not in source:
        return []
    part = next(f for f in source if f != "预算数")
    missing = next(f for f in MONEY_FIELDS if f not in source)
    value = source["预算数"] * factors["预算数"] - source[part] * factors[part]
    if value >= 0:
        return []
    return [Problem.make("R022", **where(part), column=missing, value=_show(value),
                         formula=f"{header.labels['预算数']} − {header.labels[part]}")]


def _cross_row_problems(header: Header, rows: list[dict]) -> list[Problem]:
    cols, labels = header.columns, header.labels
    problems = []
    names: dict[str, tuple[str, int]] = {}
    codes: dict[str, int] = {}
    for r in rows:
        n = r["_row"]
        if r["单位编码"] and r["单位名称"]:
            first = names.setdefault(r["单位编码"], (r["单位名称"], n))
            if first[0] != r["单位名称"]:
                problems.append(Problem.make("R011", row=n, col=col_letter(cols["单位名称"]), header=labels["单位名称"],
                                             value=r["单位编码"], name=r["单位名称"], first_name=first[0],
                                             first_row=first[1]))
        if r["项目编码"]:
            first_row = codes.setdefault(r["项目编码"], n)
            if first_row != n:
                problems.append(Problem.make("R012", row=n, col=col_letter(cols["项目编码"]), header=labels["项目编码"],
                                             value=r["项目编码"], first_row=first_row))
    return problems


def _year(header: Header, grid: list[list], rows: list[dict], notes: list[Note]) -> tuple[int | None, list[Problem]]:
    """The one budget year of the registry: its 年度 column, else a year in the title, else None."""
    if "年度" not in header.columns:
        found = title_year(grid, header.row)
        if found:
            notes.append(Note.make("R105", year=found[0], title=found[1]))
            return found[0], []
        return None, []
    where = dict(col=col_letter(header.columns["年度"]), header=header.labels["年度"])
    year, first_row, problems = None, 0, []
    for r in rows:
        raw = r["年度"]
        if not raw:
            continue
        m = re.fullmatch(r"(20\d\d)(?:\.0+)?\s*年?(?:度)?", raw)
        if not m:
            problems.append(Problem.make("R017", row=r["_row"], **where, value=raw[:20]))
            continue
        y = int(m.group(1))
        r["年度"] = str(y)
        if year is None:
            year, first_row = y, r["_row"]
        elif y != year:
            problems.append(Problem.make("R018", row=r["_row"], **where, value=y, first=year, first_row=first_row))
    return year, problems


def _derive_and_round(header: Header, rows: list[dict], notes: list[Note]) -> None:
    """Amounts to 万元 with two decimals; a missing money column computed from the other two; when
    rounding 元 to 万元 breaks 预算数 = 财政资金 + 其他资金 by a cent, 其他资金 takes the cent."""
    present = [f for f in MONEY_FIELDS if f in header.columns]
    missing = [f for f in MONEY_FIELDS if f not in present]
    if missing:
        formula = {"预算数": "财政资金 + 其他资金", "财政资金": "预算数 − 其他资金", "其他资金": "预算数 − 财政资金"}
        notes.append(Note.make("R104", column=missing[0], formula=formula[missing[0]]))
    adjusted = []
    for r in rows:
        src, factors = r.pop("_source"), r.pop("_factors")
        wan = {f: round_money(src[f] * factors[f]) for f in present}
        if missing == ["预算数"]:
            wan["预算数"] = wan["财政资金"] + wan["其他资金"]
        elif missing == ["财政资金"]:
            wan["财政资金"] = wan["预算数"] - wan["其他资金"]
        elif missing == ["其他资金"]:
            wan["其他资金"] = wan["预算数"] - wan["财政资金"]
        elif wan["预算数"] != wan["财政资金"] + wan["其他资金"]:
            wan["其他资金"] = wan["预算数"] - wan["财政资金"]
            adjusted.append(str(r["_row"]))
        for f in MONEY_FIELDS:
            r[f] = wan[f]
    if adjusted:
        shown = "、".join(adjusted[:10]) + ("…" if len(adjusted) > 10 else "")
        notes.append(Note.make("R103", count=len(adjusted), rows=shown))


def bundled_registry_path() -> Path:
    from .spec import data_dir

    return data_dir("workbooks") / "registry.csv"


def project_row_of(spec: FormSpec, data: ReturnData, registry: Registry) -> tuple[dict | None, list[Issue]]:
    """The registry row a project return (its ReturnData read with this FormSpec) is judged against, or None,
    and the issues its code gives: E006 when the form's code and the metadata's differ, E114 when the
    project is not in the registry. The targets rules and the table forms' checks both decide them here."""
    key = spec.role("key") or spec.field(spec.key)
    code = text(data.fields.get(key.name))
    meta_code = text(data.meta.get("project_code"))
    issues = []
    if meta_code and code and meta_code != code:
        issues.append(Issue.make("E006", spec.meta_sheet, "project_code", meta=meta_code, found=code))
    row = registry.get(code)
    if row is None and meta_code:
        row = registry.get(meta_code)  # the locked code was typed over: judge against the template's project (E102)
    if row is None:
        issues.append(Issue.make("E114", spec.sheet, key.cell, found=code or meta_code or "（空）"))
    return row, issues


__all__ = ["COLUMNS", "REQUIRED", "MONEY", "FIELD_ALIASES", "MAX_AMOUNT", "Problem", "Note", "Registry",
           "RegistryError", "load_registry", "money", "parse_amount", "round_money", "bundled_registry_path",
           "project_row_of"]
