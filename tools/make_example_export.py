"""Write workbooks/预算系统导出示例_2022.xlsx: a registry as the budget system exports it (two units, 元)."""
from __future__ import annotations

import csv
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from xlperf.registry import bundled_registry_path  # noqa: E402

EXAMPLE_EXPORT = ROOT / "workbooks" / "预算系统导出示例_2022.xlsx"
BUDGET_EXPORT_HEADERS = ["单位代码", "单位名称", "项目代码", "项目名称", "预算数（元）", "财政拨款（元）", "其他资金（元）"]
SECOND_UNIT = ("201002", "秦皇岛市北戴河区财政局(本级)")


def budget_export_rows(year: int = 2022) -> list[dict]:
    """The two-unit round of write_budget_export: the first ten bundled projects (so the bundled
    content can fill them), five under the bundled unit and five under a second unit, amounts in 元.
    Each row also carries the amounts the registry must hold in 万元 (key "万元")."""
    with open(bundled_registry_path(), encoding="utf-8-sig", newline="") as fh:
        bundled = list(csv.DictReader(fh))[:10]
    rows = []
    for i, b in enumerate(bundled):
        unit = (b["单位编码"], b["单位名称"]) if i < 5 else SECOND_UNIT
        total = Decimal(b["预算数"]) * 10000
        fiscal, other = total, Decimal(0)
        if i == 1:  # a project with other funds
            fiscal, other = total - 12000, Decimal(12000)
        if i == 6:  # 元 amounts that end in a half cent of 万元: 25050 元 = 2.505 万元 -> 2.51
            total = fiscal = Decimal(25050)
        amounts = {"预算数": total, "财政资金": fiscal, "其他资金": other}
        rows.append({"单位编码": unit[0], "单位名称": unit[1], "项目编码": b["项目编码"], "项目名称": b["项目名称"],
                     "元": amounts, "年度": year,
                     "万元": {k: (v / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP) for k, v in amounts.items()}})
    return rows


def write_budget_export(path: Path, year: int = 2022, *, year_column: bool = False) -> list[dict]:
    """Write a registry as a budget system exports it: a merged title row naming the year, a unit line
    (单位：元), a blank row, then the header (单位代码, 项目代码, 预算数（元）, 财政拨款（元）…) and two
    units of five projects each, codes as text, amounts in 元. Returns budget_export_rows(year)."""
    import openpyxl

    rows = budget_export_rows(year)
    headers = BUDGET_EXPORT_HEADERS + (["预算年度"] if year_column else [])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目支出预算"
    ws.append([f"{year}年部门预算项目支出明细表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append(["单位：元"])
    ws.append([])
    ws.append(headers)
    for r in rows:
        a = r["元"]
        ws.append([r["单位编码"], r["单位名称"], r["项目编码"], r["项目名称"], float(a["预算数"]), float(a["财政资金"]),
                   float(a["其他资金"])] + ([year] if year_column else []))
    for row in ws.iter_rows(min_row=5, max_col=3):
        for c in row:
            c.number_format = "@"
    # readable when a reader opens the example: wide name columns (no effect on what is read)
    for col, width in zip("ABCDEFG", (10, 36, 26, 30, 14, 14, 14)):
        ws.column_dimensions[col].width = width
    wb.properties.creator = "xlperf"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return rows


def main(argv: list[str] | None = None) -> None:
    out = Path(argv[0]) if argv else EXAMPLE_EXPORT
    write_budget_export(out, 2022)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1:])
