"""Rebuild the disclosure document (python-docx) from a master: Part 1 per unit, Part 2 one table per project."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

from .atomic import atomic_path
from .model import text
from .registry import money
from .values import EQ, QUALITATIVE, format_number

SECRET = "涉密"
_CN_NUM = "一二三四五六七八九十"
_GOAL_NUM = re.compile(r"^\s*(\d+)\s*[.、．]")


class PublishError(Exception):
    """The master cannot be published; the message says which sheet is wrong."""


def read_master(path: Path) -> dict[str, list[dict]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine has several error types
        raise PublishError(f"{path}: {exc}") from exc
    out = {}
    for name in ("项目汇总", "绩效指标", "部门整体目标"):
        if name not in wb.sheet_names:
            if name == "部门整体目标":
                out[name] = []
                continue
            raise PublishError(f"{path}: 缺少工作表 / missing sheet {name}")
        rows = wb.get_sheet_by_name(name).to_python()
        head = [str(h) for h in rows[0]] if rows else []
        out[name] = [dict(zip(head, r)) for r in rows[1:]]
    return out


def value_display(row: dict) -> str:
    """指标值 as published: canonical (≥95%, 2人) when parsed, as typed otherwise."""
    symbol = text(row.get("计算符号"))
    if symbol == QUALITATIVE or not symbol:
        return text(row.get("原始指标值")) or text(row.get("指标值"))
    number = row.get("指标值")
    try:
        num = format_number(float(number))
    except (TypeError, ValueError):
        return text(row.get("原始指标值"))
    unit = text(row.get("计量单位"))
    return f"{num}{unit}" if symbol == EQ else f"{symbol}{num}{unit}"


def redact_goals(goals: str) -> str:
    """Classified goals keep their numbering and nothing else: '1.涉密' per line."""
    lines = [ln for ln in goals.splitlines() if ln.strip()]
    out = []
    for i, ln in enumerate(lines, start=1):
        m = _GOAL_NUM.match(ln)
        out.append(f"{m.group(1) if m else i}.{SECRET}")
    return "\n".join(out) or f"1.{SECRET}"


def _money(v) -> str:
    m = money(v)
    if m is None:
        return text(v)
    return "0" if m == 0 else f"{m:.2f}"


def _pct(v) -> str:
    try:
        return f"{float(v) * 100:.2f}%"
    except (TypeError, ValueError):
        return text(v)


def _set_cell(cell, text: str, bold: bool = False, center: bool = False):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    cell.text = ""
    para = cell.paragraphs[0]
    run = para.add_run(text)
    run.bold = bold
    if center:
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _font(doc):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


def _heading(doc, text: str, level: int):
    h = doc.add_heading(text, level=level)
    return h


def write_part1(doc, unit_rows: list[dict]) -> None:
    doc.add_heading("第一部分 部门整体绩效目标", level=1)
    by_part: dict[str, list] = {}
    for r in unit_rows:
        by_part.setdefault(text(r["部分"]), []).append(r)
    doc.add_heading("一、总体绩效目标", level=2)
    for r in by_part.get("总体绩效目标", []):
        for para in text(r["内容"]).splitlines():
            doc.add_paragraph(para)
    doc.add_heading("二、分项绩效目标", level=2)
    for r in by_part.get("分项绩效目标概述", []):
        doc.add_paragraph(text(r["内容"]))
    for i, r in enumerate(by_part.get("分项绩效目标", [])):
        doc.add_paragraph(f"（{_CN_NUM[i] if i < 10 else i + 1}）{text(r['标题'])}")
        for para in text(r["内容"]).splitlines():
            doc.add_paragraph(para)
    doc.add_heading("三、工作保障措施", level=2)
    for r in by_part.get("工作保障措施概述", []):
        doc.add_paragraph(text(r["内容"]))
    for i, r in enumerate(by_part.get("工作保障措施", [])):
        doc.add_paragraph(f"（{_CN_NUM[i] if i < 10 else i + 1}）{text(r['标题'])}。{text(r['内容'])}")


def write_project_table(doc, n: int, p: dict, indicators: list[dict]) -> None:
    """One 绩效目标表 in the seed's layout (6 columns; amounts row spread as in the seed)."""
    secret = text(p.get("涉密")) == "是"
    doc.add_heading(f"{n}.{text(p['项目名称'])}绩效目标表", level=2)
    rows = 8 + len(indicators)
    t = doc.add_table(rows=rows, cols=6)
    t.style = "Table Grid"
    c = t.cell
    c(0, 0).merge(c(0, 3))
    _set_cell(c(0, 0), f"{text(p['单位编码'])}{text(p['单位名称'])}")
    c(0, 4).merge(c(0, 5))
    _set_cell(c(0, 4), "单位：万元")
    _set_cell(c(1, 0), "项目编码", True)
    c(1, 1).merge(c(1, 2))
    _set_cell(c(1, 1), text(p["项目编码"]))
    _set_cell(c(1, 3), "项目名称", True)
    c(1, 4).merge(c(1, 5))
    _set_cell(c(1, 4), text(p["项目名称"]))
    c(2, 0).merge(c(3, 0))
    _set_cell(c(2, 0), "预算规模及资金用途", True)
    for col, (label, key) in enumerate((("预算数", "预算数"), ("其中：财政资金", "财政资金"), ("其他资金", "其他资金"))):
        _set_cell(c(2, 1 + col), f"{label} {_money(p[key])}")
    c(2, 4).merge(c(2, 5))
    c(3, 1).merge(c(3, 5))
    _set_cell(c(3, 1), text(p.get("资金用途")))
    c(4, 0).merge(c(5, 0))
    _set_cell(c(4, 0), "资金支出计划（%）", True)
    for col, key in enumerate(("3月底", "6月底", "10月底", "12月底")):
        _set_cell(c(4, 1 + col), key, True, True)
        _set_cell(c(5, 1 + col), _pct(p.get(key)), center=True)
    _set_cell(c(6, 0), "绩效目标", True)
    c(6, 1).merge(c(6, 5))
    goals = text(p.get("绩效目标"))
    _set_cell(c(6, 1), redact_goals(goals) if secret else goals)
    for col, head in enumerate(("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据")):
        _set_cell(c(7, col), head, True, True)
    for i, ind in enumerate(indicators):
        r = 8 + i
        _set_cell(c(r, 1), text(ind["二级指标"]))
        _set_cell(c(r, 2), SECRET if secret else text(ind["三级指标"]))
        _set_cell(c(r, 3), SECRET if secret else text(ind["绩效指标描述"]))
        _set_cell(c(r, 4), value_display(ind))
        _set_cell(c(r, 5), text(ind["指标值确定依据"]))
    _merge_down(t, 0, 8, [text(ind["一级指标"]) for ind in indicators])


def _merge_down(table, col: int, first: int, labels: list[str]) -> None:
    """一级指标 merged down over its rows, as in the seed's tables."""
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            cell = table.cell(first + start, col)
            if i - 1 > start:
                cell = cell.merge(table.cell(first + i - 1, col))
            _set_cell(cell, labels[start], center=True)
            start = i


def build_document(master: dict, title: str | None = None):
    import docx

    doc = docx.Document()
    _font(doc)
    projects = master["项目汇总"]
    units = {(text(p["单位编码"]), text(p["单位名称"])) for p in projects}
    unit_name = next(iter(sorted(units)))[1] if units else ""
    year = os.environ.get("XLPERF_YEAR", "2021")
    doc.add_heading(title or f"{unit_name}{year}年部门预算绩效目标", level=0)
    write_part1(doc, master["部门整体目标"])
    doc.add_heading("第二部分 预算项目绩效目标", level=1)
    total = sum((money(p["预算数"]) or Decimal(0) for p in projects), Decimal(0))
    doc.add_paragraph(f"共 {len(projects)} 个项目，预算数合计 {total:.2f} 万元。")
    by_code: dict[str, list] = {}
    for ind in master["绩效指标"]:
        by_code.setdefault(text(ind["项目编码"]), []).append(ind)
    for n, p in enumerate(projects, start=1):
        write_project_table(doc, n, p, by_code.get(text(p["项目编码"]), []))
    return doc


def _fixed_core(doc):
    import datetime as dt

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch and epoch.isdigit() else None
    cp = doc.core_properties
    cp.author = "xlperf"
    if when:
        cp.created = when
        cp.modified = when
        cp.last_modified_by = "xlperf"
        cp.revision = 1


def normalise_zip(path: Path) -> None:
    """Fixed entry timestamps so SOURCE_DATE_EPOCH gives byte-identical documents."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not (epoch and epoch.isdigit()):
        return
    import time

    stamp = time.gmtime(max(int(epoch), 315532800))[:6]
    tmp = path.with_name(path.name + ".norm")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            zi = zipfile.ZipInfo(info.filename, stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, src.read(info.filename))
    os.replace(tmp, path)


def publish(master_path: Path, out: Path, pdf: bool = True) -> list[Path]:
    master = read_master(master_path)
    doc = build_document(master)
    _fixed_core(doc)
    with atomic_path(out) as tmp:
        doc.save(str(tmp))
        normalise_zip(tmp)
    written = [out]
    if pdf and shutil.which("soffice"):
        p = to_pdf(out)
        if p:
            written.append(p)
    return written


def to_pdf(docx_path: Path, timeout: int = 180) -> Path | None:
    """PDF through LibreOffice headless with a private profile; None when conversion fails."""
    with tempfile.TemporaryDirectory(prefix="xlperf-lo-") as prof:
        cmd = ["soffice", f"-env:UserInstallation=file://{prof}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(docx_path.parent), str(docx_path)]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
    pdf = docx_path.with_suffix(".pdf")
    return pdf if pdf.exists() else None
