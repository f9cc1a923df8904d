"""Read the project registry (CSV or xlsx), the authority every return is checked against."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .model import text

COLUMNS = ["单位编码", "单位名称", "项目编码", "项目名称", "预算数", "财政资金", "其他资金", "资金用途", "主管部门"]
REQUIRED = COLUMNS[:7]
MONEY = ("预算数", "财政资金", "其他资金")
ALIASES = {
    "unit_code": "单位编码", "unit_name": "单位名称", "project_code": "项目编码",
    "project_name": "项目名称", "budget": "预算数", "fiscal": "财政资金", "fiscal_funds": "财政资金",
    "other": "其他资金", "other_funds": "其他资金", "purpose": "资金用途", "use_of_funds": "资金用途",
    "department": "主管部门", "其中：财政资金": "财政资金", "其中:财政资金": "财政资金",
}


class RegistryError(Exception):
    """The registry cannot be used; the message names the file and row."""


@dataclass
class Registry:
    path: str
    rows: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.by_code = {r["项目编码"]: r for r in self.rows}

    def get(self, code: str) -> dict | None:
        return self.by_code.get(code)

    @property
    def units(self) -> dict[str, str]:
        return {r["单位编码"]: r["单位名称"] for r in self.rows}


def money(value) -> Decimal | None:
    """Parse an amount (万元) to a 2-decimal Decimal; None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    return d.quantize(Decimal("0.01"))


def _canon_header(h: object) -> str:
    text = str(h or "").strip().lstrip("\ufeff")
    return ALIASES.get(text, ALIASES.get(text.lower(), text))


def _read_table(path: Path) -> list[list]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        from python_calamine import CalamineWorkbook

        try:
            wb = CalamineWorkbook.from_path(str(path))
            return wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises several types for bad files
            raise RegistryError(f"{exc}") from exc
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RegistryError("encoding is neither UTF-8 nor GB18030")
    return list(csv.reader(io.StringIO(text)))


def load_registry(path: Path | str) -> Registry:
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"file not found / 文件不存在: {path}")
    table = _read_table(path)
    if not table:
        raise RegistryError("empty / 空文件")
    headers = [_canon_header(h) for h in table[0]]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        raise RegistryError(f"missing columns / 缺少列: {', '.join(missing)}")
    idx = {h: i for i, h in enumerate(headers) if h in COLUMNS}
    rows, problems = [], []
    for n, raw in enumerate(table[1:], start=2):
        if not any(text(v) for v in raw):
            continue
        row = {c: text(raw[i]) if i < len(raw) else "" for c, i in idx.items()}
        for c in COLUMNS:
            row.setdefault(c, "")
        row["_row"] = n
        for c in MONEY:
            amount = money(row[c] or "0")
            if amount is None:
                problems.append(f"row {n} / 第{n}行: {c} = {row[c]!r}")
            row[c] = amount
        for c in ("单位编码", "项目编码", "项目名称"):
            if not row[c]:
                problems.append(f"row {n} / 第{n}行: {c} empty / 为空")
        if None not in (row["预算数"], row["财政资金"], row["其他资金"]):
            if row["预算数"] != row["财政资金"] + row["其他资金"]:
                problems.append(f"row {n} / 第{n}行: 预算数 ≠ 财政资金 + 其他资金")
        rows.append(row)
    seen: dict[str, int] = {}
    for r in rows:
        if r["项目编码"] in seen:
            problems.append(f"row {r['_row']} / 第{r['_row']}行: 项目编码 {r['项目编码']} duplicated / 重复 (row {seen[r['项目编码']]})")
        seen.setdefault(r["项目编码"], r["_row"])
    if problems:
        raise RegistryError("; ".join(problems[:10]) + (" …" if len(problems) > 10 else ""))
    if not rows:
        raise RegistryError("no projects / 没有项目")
    return Registry(str(path), rows)


def bundled_registry_path() -> Path:
    from .spec import data_dir

    return data_dir("workbooks") / "registry.csv"
