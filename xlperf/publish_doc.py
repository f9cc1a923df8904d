"""The disclosure document of one unit (python-docx) in a 公文-like style: A4, 仿宋 body, 黑体/楷体 headings."""
from __future__ import annotations

import re
from decimal import Decimal

from .master import (BASIS, BUDGET, BUDGET_TOTAL, DESCRIPTION, FISCAL, GOAL, INDICATOR, KEY, NAME, OTHER_FUNDS, PLAN,
                     RAW_TARGET, SECRET as SECRET_COLUMN, TARGET, TARGETS, UNIT_TARGETS, USE_OF_FUNDS)
from .model import text
from .registry import money
from .spec import parse_ref
from .values import EQ, QUALITATIVE, format_number

SECRET = "涉密"  # what the document shows in place of a classified project's content
GAP = "（未报送）"
_CN_NUM = "一二三四五六七八九十"
_GOAL_NUM = re.compile(r"^\s*(\d+)\s*[.、．]")

# The look of the document. Fonts every Chinese Windows/WPS has (仿宋_GB2312 and 方正小标宋 are often not
# installed, and Word would silently substitute them); Latin text (codes, numbers) in Times New Roman.
LATIN = "Times New Roman"
BODY_FONT, BODY_PT = "仿宋", 16  # 三号
TABLE_FONT, TABLE_PT = "仿宋", 10.5  # 五号
H1_FONT, H2_FONT, HEADING_PT = "黑体", "楷体", 16
TITLE_FONT, TITLE_PT = "宋体", 22  # 二号
PAGE_CM = (21.0, 29.7)  # A4 portrait
MARGINS_CM = {"top": 3.7, "bottom": 3.5, "left": 2.8, "right": 2.6}
TABLE_STYLE = "xlperf 表格文字"
# The project table's grid (cm, 15.6 = the text width): the project code spans columns 1–3 (7.2 cm) so a
# 21-character code fits on one line at TABLE_PT; labels and values sit in cells of their own.
GRID_CM = (2.0, 2.2, 2.8, 2.2, 2.2, 2.0, 2.2)


# ------------------------------------------------------------------ values -----
def value_display(row: dict) -> str:
    """指标值 as published: canonical (≥95%, 2人) when parsed, as typed otherwise."""
    symbol = text(row.get("计算符号"))
    if symbol == QUALITATIVE or not symbol:
        return text(row.get(RAW_TARGET)) or text(row.get(TARGET))
    number = row.get(TARGET)
    try:
        num = format_number(float(number))
    except (TypeError, ValueError):
        return text(row.get(RAW_TARGET))
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


def _cn(i: int) -> str:
    return _CN_NUM[i] if i < 10 else str(i + 1)


# ------------------------------------------------------------------ styles -----
def _set_fonts(style_or_run_element, latin: str, east_asia: str) -> None:
    """Explicit fonts on an rPr: theme font attributes would override them, so they go."""
    from docx.oxml.ns import qn

    rpr = style_or_run_element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)


def _style(doc, name: str, east_asia: str, size: float, bold: bool = False, base: str | None = None,
           paragraph: bool = True):
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    styles = doc.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base:
        style.base_style = styles[base]
    _set_fonts(style.element, LATIN, east_asia)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)  # replaces the heading styles' blue theme colour
    rpr = style.element.get_or_add_rPr()
    from docx.oxml.ns import qn

    color = rpr.find(qn("w:color"))
    if color is not None:
        for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
            color.attrib.pop(qn(attr), None)
    if paragraph:
        ppr = style.element.get_or_add_pPr()
        border = ppr.find(qn("w:pBdr"))  # the Title style's blue rule
        if border is not None:
            ppr.remove(border)
    return style


def apply_styles(doc) -> None:
    """Page, margins, fonts and heading styles of the whole document."""
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Cm, Pt

    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
        section.top_margin, section.bottom_margin = Cm(MARGINS_CM["top"]), Cm(MARGINS_CM["bottom"])
        section.left_margin, section.right_margin = Cm(MARGINS_CM["left"]), Cm(MARGINS_CM["right"])
        _page_number_footer(section)
    normal = _style(doc, "Normal", BODY_FONT, BODY_PT)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28)  # 公文: 22 lines a page at 三号
    fmt.space_before = fmt.space_after = Pt(0)
    body = _style(doc, "Body Text", BODY_FONT, BODY_PT, base="Normal")
    body.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    for name, font, size in (("Title", TITLE_FONT, TITLE_PT), ("Heading 1", H1_FONT, HEADING_PT),
                             ("Heading 2", H2_FONT, HEADING_PT)):
        st = _style(doc, name, font, size, bold=name == "Title", base="Normal")
        pf = st.paragraph_format
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(max(28, size * 1.5))
        pf.space_before = Pt(12 if name == "Title" else 6)
        pf.space_after = Pt(12 if name == "Title" else 6)
        pf.keep_with_next = True
        if name == "Title":
            pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cell = _style(doc, TABLE_STYLE, TABLE_FONT, TABLE_PT, base="Normal")
    cf = cell.paragraph_format
    cf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    cf.first_line_indent = Pt(0)


def _page_number_footer(section) -> None:
    """'— 1 —' centred at the foot of every page (a PAGE field)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    run.append(t)
    field.append(run)
    para._p.append(field)
    para.add_run(" —")


# ------------------------------------------------------------------ content ----
def _para(doc, content: str, indent: bool = True):
    return doc.add_paragraph(content, style="Body Text" if indent else "Normal")


def _set_cell(cell, value: str, bold: bool = False, center: bool = False) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    cell.text = ""
    para = cell.paragraphs[0]
    para.style = TABLE_STYLE
    run = para.add_run(value)
    run.bold = bold
    if center:
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def write_part1(doc, unit_rows: list[dict]) -> None:
    """Part 1 from the unit form: its goal field, then each section's introduction (the `intro` fields, in
    order) and items, under headings named as the form names them."""
    doc.add_heading(f"第一部分 {UNIT_TARGETS.title}", level=1)
    if not unit_rows:
        _para(doc, GAP, indent=False)
        return
    by_part: dict[str, list] = {}
    for r in unit_rows:
        by_part.setdefault(text(r.get("部分")), []).append(r)
    goal = UNIT_TARGETS.role_name("goal")
    doc.add_heading(f"一、{goal}", level=2)
    for r in by_part.get(goal, []):
        for line in text(r.get("内容")).splitlines():
            _para(doc, line)
    (goals, safeguards), (goals_intro, safeguards_intro) = UNIT_TARGETS.sections, UNIT_TARGETS.roles("intro")
    doc.add_heading(f"二、{goals.name}", level=2)
    for r in by_part.get(goals_intro.name, []):
        _para(doc, text(r.get("内容")))
    for i, r in enumerate(by_part.get(goals.name, [])):
        _para(doc, f"（{_cn(i)}）{text(r.get('标题'))}")
        for line in text(r.get("内容")).splitlines():
            _para(doc, line)
    doc.add_heading(f"三、{safeguards.name}", level=2)
    for r in by_part.get(safeguards_intro.name, []):
        _para(doc, text(r.get("内容")))
    for i, r in enumerate(by_part.get(safeguards.name, [])):
        _para(doc, f"（{_cn(i)}）{text(r.get('标题'))}。{text(r.get('内容'))}")


def _table(doc, rows: int):
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    t = doc.add_table(rows=rows, cols=len(GRID_CM))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False  # fixed layout: the widths below hold in Word, WPS and LibreOffice
    for col, width in zip(t.columns, GRID_CM):
        col.width = Cm(width)
    for row in t.rows:
        for cell, width in zip(row.cells, GRID_CM):
            cell.width = Cm(width)
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))  # a row is never split over two pages
    tbl_w = t._tbl.tblPr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        t._tbl.tblPr.append(tbl_w)
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(round(sum(GRID_CM) / 2.54 * 1440)))
    return t


def _caption(name: str, where: str) -> str:
    """The form's label of a targets field (the document repeats the form's captions): the label left of
    the field, above it, or in column A of its row (the block it belongs to)."""
    row0, col0 = parse_ref(TARGETS.field(name).cell)
    at = {"left": (row0, col0 - 1), "above": (row0 - 1, col0), "block": (row0, 0)}[where]
    return TARGETS.label_covering(*at)


def _project_head(t, p: dict) -> None:
    """Rows 0–1: the unit and the unit of amounts; 项目编码 | code | 项目名称 | name."""
    c = t.cell
    _set_cell(c(0, 0).merge(c(0, 4)), f"{text(p.get('单位编码'))}{text(p.get('单位名称'))}")
    _set_cell(c(0, 5).merge(c(0, 6)), "单位：万元")
    _set_cell(c(1, 0), _caption(KEY, "left"), True, True)
    _set_cell(c(1, 1).merge(c(1, 3)), text(p.get(KEY)))
    _set_cell(c(1, 4), _caption(NAME, "left"), True, True)
    _set_cell(c(1, 5).merge(c(1, 6)), text(p.get(NAME)))


def write_project_table(doc, n: int, p: dict, indicators: list[dict]) -> None:
    """One 绩效目标表 in the seed's layout: every label and every value in a cell of its own."""
    secret = text(p.get(SECRET_COLUMN)) == TARGETS.role("secret").choices[0]
    _project_heading(doc, n, p)
    t = _table(doc, 8 + len(indicators))
    c = t.cell
    _project_head(t, p)
    _set_cell(c(2, 0).merge(c(3, 0)), _caption(BUDGET, "block"), True, True)
    for i, key in enumerate((BUDGET, FISCAL, OTHER_FUNDS)):
        _set_cell(c(2, 1 + 2 * i), _caption(key, "above"), True, True)
        _set_cell(c(2, 2 + 2 * i), _money(p.get(key)), center=True)
    _set_cell(c(3, 1).merge(c(3, 6)), text(p.get(USE_OF_FUNDS)))
    _set_cell(c(4, 0).merge(c(5, 0)), _caption(PLAN[0], "block"), True, True)
    for (first, last), key in zip(((1, 1), (2, 2), (3, 4), (5, 6)), PLAN):
        _set_cell(c(4, first).merge(c(4, last)), _caption(key, "above"), True, True)
        _set_cell(c(5, first).merge(c(5, last)), _pct(p.get(key)), center=True)
    _set_cell(c(6, 0), _caption(GOAL, "left"), True, True)
    goals = text(p.get(GOAL))
    _set_cell(c(6, 1).merge(c(6, 6)), redact_goals(goals) if secret else goals)
    spans = ((0, 0), (1, 1), (2, 2), (3, 4), (5, 5), (6, 6))
    for (first, last), head in zip(spans, TARGETS.headers):
        _set_cell(c(7, first).merge(c(7, last)), head, True, True)
    for i, ind in enumerate(indicators):
        r = 8 + i
        values = (None, text(ind.get("二级指标")), SECRET if secret else text(ind.get(INDICATOR)),
                  SECRET if secret else text(ind.get(DESCRIPTION)), value_display(ind),
                  text(ind.get(BASIS)))
        for (first, last), v in zip(spans[1:], values[1:]):
            _set_cell(c(r, first).merge(c(r, last)) if last > first else c(r, first), v, center=first in (1, 5))
    _merge_down(t, 0, 8, [text(ind.get("一级指标")) for ind in indicators])


def _project_heading(doc, n: int, p: dict) -> None:
    """Each 绩效目标表 starts a page, as in the seed: a table is read (and printed) as one sheet."""
    heading = doc.add_heading(f"{n}.{text(p.get(NAME))}绩效目标表", level=2)
    heading.paragraph_format.page_break_before = True


def write_missing_project(doc, n: int, p: dict) -> None:
    """A project the master lacks: its heading, its code and name, and a visible （未报送）."""
    _project_heading(doc, n, p)
    t = _table(doc, 3)
    _project_head(t, p)
    _set_cell(t.cell(2, 0).merge(t.cell(2, 6)), GAP, True, True)


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


def build_unit_document(unit, year: str):
    """The document of one unit: title, Part 1, Part 2 (published projects and, if any, the gaps)."""
    import docx

    doc = docx.Document()
    apply_styles(doc)
    doc.add_heading(f"{unit.name}{year}年部门预算绩效目标", level=0)
    write_part1(doc, unit.part1)
    doc.add_heading("第二部分 预算项目绩效目标", level=1)
    entries = sorted([(text(p.get(KEY)), p, False) for p in unit.projects] +
                     [(g.code, g.row, True) for g in unit.gaps if g.kind == "project"], key=lambda e: e[0])
    total = sum((money(p.get(BUDGET)) or Decimal(0) for _c, p, _m in entries), Decimal(0))
    missing = sum(1 for e in entries if e[2])
    note = f"（其中 {missing} 个项目未报送）" if missing else ""
    _para(doc, f"共 {len(entries)} 个项目{note}，{BUDGET_TOTAL} {total:.2f} 万元。")
    for n, (code, p, gap) in enumerate(entries, start=1):
        if gap:
            write_missing_project(doc, n, {**p, "单位编码": unit.code, "单位名称": unit.name})
        else:
            write_project_table(doc, n, p, unit.indicators.get(code, []))
    return doc
