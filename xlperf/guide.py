"""Build the 填报说明 (filling instructions) text of a template from its form spec."""
from __future__ import annotations

from .messages import ISSUES
from .spec import FormSpec

# The error codes a sub-unit can cause by what it types, shown as "what gets rejected".
_CONTENT_CODES = {
    "project": ("E101", "E104", "E105", "E106", "E107", "E108", "E110", "E111", "E112", "E113", "E116"),
    "unit": ("E101", "E108", "E113", "E116", "E118"),
}


def _generic(code: str) -> str:
    text = ISSUES[code][1]
    for key in ("field", "found", "previous", "level2", "missing", "limit", "length", "choices", "level1", "count"):
        text = text.replace("{" + key + "}", "…")
    return text


def guide_lines(spec: FormSpec) -> list[tuple[str, str]]:
    """(kind, text) lines: kind 'h' heading, 'b' bold, 'p' plain."""
    out = [("h", f"{spec.title} 填报说明（{spec.year} 年度）"), ("p", "")]
    # Every sentence names only what this form has: the unit-level form has no project fields and no indicator rows.
    locked = "、".join(f.name for f in spec.locked_fields)
    out.append(("p", f"1. 只填写浅黄色底纹的单元格；其他内容（{locked}）由财务部门锁定，请勿修改。"))
    if spec.groups:
        rows = "指标行不够时，请联系财务部门重新生成模板。"
    else:
        rows = "；".join(f"“{sec.name}”最多填写 {sec.slots} 项" for sec in spec.sections) + "。" if spec.sections else ""
    out.append(("p", f"2. 不要插入、删除行或拆分合并单元格；{rows}"))
    out.append(("p", f"3. 不要更改工作表名称，不要删除隐藏的工作表；文件名可以修改，系统按表内的{spec.key}识别报表。"))
    out.append(("p", ""))
    out.append(("b", "需要填写的内容："))
    for f in spec.input_fields:
        req = "（必填）" if f.required else ""
        out.append(("p", f"· {f.name}{req}：{f.prompt}"))
    for c in spec.columns:
        out.append(("p", f"· {c.name}：{c.prompt}"))
    for s in spec.sections:
        out.append(("p", f"· {s.name}：每行一项，左侧填标题，右侧填内容。"))
    if spec.groups:
        req = [l2.name for l2 in spec.level2s if l2.required]
        out.append(("p", f"· 必须填写的二级指标：{'、'.join(req)}。"))
        for g in spec.groups:
            if g.min_filled:
                out.append(("p", f"· “{g.name}”下至少填写 {g.min_filled} 个{spec.role_name('indicator')}。"))
        out.append(("p", ""))
        out.append(("b", f"{spec.role_name('target')}的写法（示例）："))
        for ex in spec.examples:
            out.append(("p", f"    {ex}"))
        out.append(("p", "    定量指标写成“符号 + 数值 + 单位”，如 ≥95%、≤3天、≥100本；只写数值（如 2人）表示“等于”。"))
        out.append(("p", "    定性指标只能写：" + "、".join(spec.qualitative) + "。"))
        out.append(("p", "    “是否”、“≥**%”、“__人”、“-” 等占位内容视为未填写。"))
    out.append(("p", ""))
    out.append(("b", "以下情况会被退回："))
    for code in _CONTENT_CODES.get(spec.kind, _CONTENT_CODES["project"]):
        if code == "E108" and not spec.groups:  # the message speaks of indicator rows; here it is a section row
            names = "、".join(f"“{sec.name}”" for sec in spec.sections)
            out.append(("p", f"· [{code}] {names}的某一行只填了标题或只填了内容"))
            continue
        out.append(("p", f"· [{code}] {_generic(code)}"))
    out.append(("p", "· 修改了锁定内容、删除或改名工作表、使用旧版模板、文件加密或含宏。"))
    return out
