"""Extract the published 201001 2021 部门预算绩效目标 seed text into registry.csv, projects.json and unit.json."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

YEAR = 2021
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEED = ROOT / "workbooks" / "seed_201001_2021.txt"
DEFAULT_OUT = ROOT / "workbooks"

REGISTRY_HEADER = ["单位编码", "单位名称", "项目编码", "项目名称", "预算数", "财政资金", "其他资金", "资金用途", "主管部门"]
INDICATOR_KEYS = ["一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据"]
LEVEL2_ORDER = ["数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标",
                "社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标"]
PLAN_LABELS = ["3月底", "6月底", "10月底", "12月底"]

PART1_MARK = "第一部分"
PART2_MARK = "第二部分"
# Word TOC field codes left behind by the export, e.g. " TC 总体绩效目标 \f A \l 1 ".
FIELD_CODE_RE = re.compile(r"\s+TC\s.*?\\f\s+[A-Z]\s+\\l\s+\d+\s*$")
TABLE_HEAD_RE = re.compile(r"^(\d+)\.(\S+?)绩效目标表\s+TC\s")
SECTION_RE = re.compile(r"^([一二三四五六七八九十]+)、(.+)$")
ITEM_RE = re.compile(r"^（([一二三四五六七八九十]+)）(.+)$")
UNIT_RE = re.compile(r"^(\d+)(\D.*)$")
SECRET_GOAL_RE = re.compile(r"^\d+\.涉密$")


class SeedError(ValueError):
    """The seed text does not have the expected structure."""


def strip_field_code(line: str) -> str:
    return FIELD_CODE_RE.sub("", line).strip()


def split_parts(text: str) -> tuple[list[str], list[str]]:
    """Return (part1 lines, part2 lines), each without its 第X部分 marker line."""
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if ln.strip() == PART1_MARK]
    ends = [i for i, ln in enumerate(lines) if ln.strip() == PART2_MARK]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        raise SeedError("expected exactly one 第一部分 followed by one 第二部分")
    return lines[starts[0] + 1:ends[0]], lines[ends[0] + 1:]


# --------------------------------------------------------------------------- part 1

def _paragraphs(lines: list[str]) -> list[str]:
    return [ln.strip() for ln in lines if ln.strip()]


def _sections(lines: list[str]) -> dict[str, list[str]]:
    """Group the part-1 paragraphs under their 一、/二、/三、 headings (field codes stripped)."""
    sections: dict[str, list[str]] = {}
    current = None
    for para in _paragraphs(lines):
        m = SECTION_RE.match(para)
        if m and FIELD_CODE_RE.search(para):
            current = strip_field_code(m.group(2))
            sections[current] = []
        elif current is not None:
            sections[current].append(para)
    return sections


def _items(paras: list[str]) -> tuple[str, list[tuple[str, list[str]]]]:
    """Split paragraphs into (intro, [(heading text, following paragraphs), ...])."""
    intro: list[str] = []
    items: list[tuple[str, list[str]]] = []
    for para in paras:
        m = ITEM_RE.match(para)
        if m:
            items.append((m.group(2), []))
        elif items:
            items[-1][1].append(para)
        else:
            intro.append(para)
    return "\n".join(intro), items


def parse_part1(text: str) -> dict:
    part1, _ = split_parts(text)
    sections = _sections(part1)
    try:
        overall = sections["总体绩效目标"]
        sub = sections["分项绩效目标"]
        measures = sections["工作保障措施"]
    except KeyError as exc:
        raise SeedError(f"part 1 section missing: {exc}") from None

    sub_intro, sub_items = _items(sub)
    meas_intro, meas_items = _items(measures)
    measure_list = []
    for heading, rest in meas_items:
        title, sep, body = heading.partition("。")
        if not sep:
            raise SeedError(f"保障措施 item without a title sentence: {heading[:20]}")
        measure_list.append({"标题": title, "内容": "\n".join([body, *rest]) if rest else body})
    return {
        "unit_code": None,  # filled by build_unit from the part-2 header
        "unit_name": None,
        "year": YEAR,
        "总体绩效目标": "\n".join(overall),
        "分项绩效目标概述": sub_intro,
        "分项绩效目标": [{"标题": h, "内容": "\n".join(rest)} for h, rest in sub_items],
        "工作保障措施概述": meas_intro,
        "工作保障措施": measure_list,
    }


# --------------------------------------------------------------------------- part 2

def split_tables(text: str) -> list[tuple[int, str, list[str]]]:
    """Return [(order, heading name, body lines)] for each 绩效目标表 in part 2."""
    _, part2 = split_parts(text)
    tables: list[tuple[int, str, list[str]]] = []
    for ln in part2:
        m = TABLE_HEAD_RE.match(ln)
        if m:
            tables.append((int(m.group(1)), m.group(2), []))
        elif tables:
            tables[-1][2].append(ln)
        elif ln.strip():
            if ln.strip() != "预算项目绩效目标":
                raise SeedError(f"unexpected line before first table: {ln!r}")
    return tables


def table_rows(lines: list[str]) -> list[list[str]]:
    """Turn a table's lines into rows of cells.

    A line starting with a tab opens a new cell; a non-empty line without a tab continues
    the previous cell (multi-line text, blank lines in between are kept); blank lines
    otherwise separate rows.
    """
    rows: list[list[str]] = []
    row: list[str] = []
    pending_blank = 0
    for ln in lines:
        if ln.startswith("\t"):
            if pending_blank and row:
                rows.append(row)
                row = []
            pending_blank = 0
            row.append(ln[1:])
        elif ln == "" or not ln.strip():
            pending_blank += 1
        else:
            if not row:
                raise SeedError(f"continuation line without a cell: {ln!r}")
            row[-1] += "\n" * (pending_blank + 1) + ln
            pending_blank = 0
    if row:
        rows.append(row)
    return rows


def _after(cells: list[str], label: str) -> str:
    idx = [i for i, c in enumerate(cells) if c == label]
    if len(idx) != 1 or idx[0] + 1 >= len(cells):
        raise SeedError(f"label {label!r} found {len(idx)} times")
    return cells[idx[0] + 1]


def _amount(s: str) -> Decimal:
    if not re.fullmatch(r"\d+(\.\d+)?", s):
        raise SeedError(f"bad amount {s!r}")
    return Decimal(s)


def _percent(s: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)%", s)
    if not m:
        raise SeedError(f"bad percentage {s!r}")
    return float(m.group(1))


def parse_table(order: int, heading: str, lines: list[str]) -> dict:
    rows = table_rows(lines)
    cells = [c for r in rows for c in r]
    where = f"table {order} ({heading})"

    unit_m = UNIT_RE.match(rows[0][0])
    if not unit_m:
        raise SeedError(f"{where}: no unit header")
    code = _after(cells, "项目编码")
    name = _after(cells, "项目名称")
    if name != heading:
        raise SeedError(f"{where}: 项目名称 {name!r} differs from heading")

    budget = _amount(_after(cells, "预算数"))
    fiscal = _amount(_after(cells, "其中：财政资金"))
    other = _amount(_after(cells, "其他资金"))

    purpose_rows = [r for r in rows if len(r) == 2 and r[0] == "" and "%" not in r[1]]
    if len(purpose_rows) != 1:
        raise SeedError(f"{where}: 资金用途 row not found")
    purpose = purpose_rows[0][1]

    plan_i = next(i for i, r in enumerate(rows) if r and r[0] == "资金支出计划（%）")
    if rows[plan_i][1:] != PLAN_LABELS or rows[plan_i + 1][0] != "" or len(rows[plan_i + 1]) != 5:
        raise SeedError(f"{where}: unexpected 资金支出计划 layout")
    plan = {lab: _percent(v) for lab, v in zip(PLAN_LABELS, rows[plan_i + 1][1:])}

    goals = _after(cells, "绩效目标").rstrip("\n")
    goal_lines = goals.split("\n")
    secret = all(SECRET_GOAL_RE.match(g) for g in goal_lines)

    head_i = next(i for i, r in enumerate(rows) if r == INDICATOR_KEYS)
    indicators = []
    level1 = ""
    for r in rows[head_i + 1:]:
        if len(r) != 6:
            raise SeedError(f"{where}: indicator row with {len(r)} cells: {r}")
        level1 = r[0] or level1
        indicators.append(dict(zip(INDICATOR_KEYS, [level1, *r[1:]])))
    if [i["二级指标"] for i in indicators] != LEVEL2_ORDER:
        raise SeedError(f"{where}: 二级指标 not in the expected order")

    return {
        "unit_code": unit_m.group(1),
        "unit_name": unit_m.group(2),
        "order": order,
        "项目编码": code,
        "项目名称": name,
        "预算数": budget,
        "财政资金": fiscal,
        "其他资金": other,
        "资金用途": purpose,
        "资金支出计划": plan,
        "绩效目标": goals,
        "涉密": secret,
        "indicators": indicators,
    }


def parse_projects(text: str) -> list[dict]:
    tables = split_tables(text)
    projects = [parse_table(*t) for t in tables]
    if [p["order"] for p in projects] != list(range(1, len(projects) + 1)):
        raise SeedError("table numbers are not 1..N in order")
    units = {(p["unit_code"], p["unit_name"]) for p in projects}
    if len(units) != 1:
        raise SeedError(f"tables name more than one unit: {units}")
    for p in projects:
        if p["预算数"] != p["财政资金"] + p["其他资金"]:
            raise SeedError(f"table {p['order']}: 预算数 != 财政资金 + 其他资金")
    return projects


# --------------------------------------------------------------------------- output

def _money(d: Decimal) -> str:
    return f"{d:.2f}"


def build_registry(projects: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REGISTRY_HEADER)
    for p in projects:
        w.writerow([p["unit_code"], p["unit_name"], p["项目编码"], p["项目名称"],
                    _money(p["预算数"]), _money(p["财政资金"]), _money(p["其他资金"]),
                    p["资金用途"], ""])
    return buf.getvalue()


def build_projects_doc(projects: list[dict]) -> dict:
    out = []
    for p in projects:
        out.append({
            "order": p["order"],
            "项目编码": p["项目编码"],
            "项目名称": p["项目名称"],
            "预算数": float(p["预算数"]),
            "财政资金": float(p["财政资金"]),
            "其他资金": float(p["其他资金"]),
            "资金用途": p["资金用途"],
            "资金支出计划": p["资金支出计划"],
            "绩效目标": p["绩效目标"],
            "涉密": p["涉密"],
            "indicators": p["indicators"],
        })
    return {"year": YEAR, "unit_code": projects[0]["unit_code"],
            "unit_name": projects[0]["unit_name"], "projects": out}


def build_unit(text: str, projects: list[dict]) -> dict:
    unit = parse_part1(text)
    unit["unit_code"] = projects[0]["unit_code"]
    unit["unit_name"] = projects[0]["unit_name"]
    return unit


def dump_json(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


def extract(seed: Path, out: Path) -> dict[str, Path]:
    text = seed.read_text(encoding="utf-8")
    projects = parse_projects(text)
    unit = build_unit(text, projects)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "registry.csv": (build_registry(projects), "utf-8-sig"),
        "projects.json": (dump_json(build_projects_doc(projects)), "utf-8"),
        "unit.json": (dump_json(unit), "utf-8"),
    }
    written = {}
    for fname, (content, enc) in files.items():
        path = out / fname
        with open(path, "w", encoding=enc, newline="") as fh:
            fh.write(content)
        written[fname] = path
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("seed", nargs="?", type=Path, default=DEFAULT_SEED, help="seed text file")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = ap.parse_args(argv)
    try:
        written = extract(args.seed, args.out)
    except SeedError as exc:
        print(f"extract_seed: {exc}", file=sys.stderr)
        return 1
    for path in written.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
