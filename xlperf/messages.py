"""User-facing texts in Chinese and English, keyed by stable issue codes and UI keys."""
from __future__ import annotations

import os

# code: (severity, Chinese, English). Severity "error" rejects a return, "warning" does not,
# "skip" means the file is set aside without being judged (lock files, duplicates).
ISSUES: dict[str, tuple[str, str, str]] = {
    # -- the file itself (checked before any parser opens it) --
    "F001": ("skip", "Excel/WPS/LibreOffice 打开文件时留下的临时锁定文件或 macOS 元数据文件（~$、.~lock.、._ 开头），不是报表，已跳过", "lock file left by Excel/WPS/LibreOffice or macOS metadata file (~$…, .~lock.…, ._…), not a return; skipped"),
    "F002": ("error", "无法读取该文件（链接失效、不存在或不是普通文件：{reason}）", "cannot read the file (broken link, missing or not a regular file: {reason})"),
    "F003": ("error", "文件为空（0 字节）", "the file is empty (0 bytes)"),
    "F004": ("error", "文件过大（{size} 字节，上限 {limit} 字节）", "file too large ({size} bytes, limit {limit})"),
    "F005": ("error", "这是旧版 .xls（Excel 97-2003）文件，请用模板（.xlsx）填报", "legacy .xls (Excel 97-2003) file; please fill in the .xlsx template"),
    "F006": ("error", "工作簿设置了打开密码（已加密），无法读取，请取消密码后重新报送", "the workbook is password-protected (encrypted); remove the password and send it again"),
    "F007": ("error", "不是 Excel 工作簿（内容为 {kind}），可能是改了扩展名的其他文件", "not an Excel workbook (content looks like {kind}); probably another file renamed"),
    "F008": ("error", "文件已损坏或不完整（压缩包无法打开：{reason}）", "the file is corrupt or truncated (zip cannot be opened: {reason})"),
    "F009": ("error", "工作簿内部文件过多（{entries} 个，上限 {limit} 个）", "too many parts in the workbook ({entries}, limit {limit})"),
    "F010": ("error", "疑似压缩炸弹：{entry} 解压后过大或压缩比过高（{reason}），已拒收", "suspected zip bomb: {entry} inflates too much ({reason}); rejected"),
    "F011": ("error", "不是 Excel 工作簿（缺少 xl/workbook.xml，可能是 Word 文档或普通压缩包）", "not an Excel workbook (no xl/workbook.xml: a Word document or a plain zip?)"),
    "F012": ("error", "含宏的工作簿（.xlsm/vbaProject），出于安全原因拒收，请用模板（.xlsx）填报", "macro-enabled workbook (vbaProject) rejected for safety; use the .xlsx template"),
    "F013": ("error", "工作簿中的 XML 含有 DOCTYPE/实体声明（{entry}），出于安全原因拒收", "XML with DOCTYPE/entity declarations ({entry}) rejected for safety"),
    "F014": ("error", "工作簿内部文件被加密，无法读取", "encrypted parts inside the workbook; cannot read it"),
    "F015": ("skip", "不是电子表格文件（扩展名 {ext}），已跳过", "not a spreadsheet file (extension {ext}), skipped"),
    "F016": ("error", "读取工作簿失败：{error}", "reading the workbook failed: {error}"),
    "F017": ("error", "读取“{name}”时{reason_zh}，已放弃该文件（文件可能已损坏或被特意构造；请用 Excel/WPS 打开确认后另存为 .xlsx 再报送）", "reading '{name}' {reason_en}; file given up (damaged or crafted? open it in Excel/WPS, save it as .xlsx again and resend)"),
    "F018": ("error", "工作表“{sheet_name}”的数据范围过大（{ref}，共 {rows} 行；上限 {limit_rows} 行、{limit_cells} 个单元格），可能在表格下方或右侧粘贴了大量内容，请删除多余的行列后重新报送", "sheet '{sheet_name}' has an absurd used range ({ref}, {rows} rows; limit {limit_rows} rows, {limit_cells} cells): lots of content pasted below or beside the form? delete the extra rows/columns and resend"),
    # -- is this our form? --
    "E001": ("error", "不是本表（{title}）：找不到“{form_sheet}”工作表和模板标识，可能是其他工作簿", "not this form ({title}): no '{form_sheet}' sheet and no template metadata; another workbook?"),
    "E002": ("error", "模板标识（隐藏的元数据表）已被删除，无法确认这是哪一个项目的模板，请使用下发的模板", "the template metadata (hidden sheet) was deleted; cannot tell which template this is; use the template sent to you"),
    "E003": ("error", "模板版本不符：该文件是 {found}，当前要求 {expected}，请使用新模板", "wrong template version: file is {found}, expected {expected}; use the new template"),
    "E004": ("error", "找不到“{form_sheet}”工作表（工作表被改名或删除）", "sheet '{form_sheet}' is missing (renamed or deleted)"),
    "E005": ("error", "表格结构被改动：此处应为“{expected}”，实际为“{found}”（是否插入/删除了行或拆分了合并单元格？）", "the layout was changed: expected '{expected}' here, found '{found}' (rows inserted/deleted or cells unmerged?)"),
    "E006": ("error", "模板标识中的项目编码 {meta} 与表中项目编码 {found} 不一致", "project code in the template metadata ({meta}) differs from the sheet ({found})"),
    "E007": ("error", "锁定内容校验值不符：模板锁定的内容被修改过", "locked-values digest mismatch: locked content of the template was changed"),
    "E008": ("error", "合并单元格被拆分：{range} 应为一个合并单元格", "merged cells were split: {range} should be one merged cell"),
    "E009": ("error", "单元格内容过长：{length} 个字符，超过 Excel 单元格上限 {limit} 个字符（可能粘贴了异常内容），已拒收", "cell content too long: {length} characters, over Excel's cell limit of {limit} (abnormal content pasted?); rejected"),
    # -- content errors --
    "E101": ("error", "必填项“{field}”未填写", "required field '{field}' is empty"),
    "E102": ("error", "“{field}”与项目库不一致：表中为 {found}，项目库为 {expected}（锁定内容不得修改）", "'{field}' differs from the registry: {found} in the sheet, {expected} in the registry (locked values must not change)"),
    "E103": ("error", "预算数 {total} ≠ 财政资金 {fiscal} + 其他资金 {other}", "budget {total} ≠ fiscal {fiscal} + other {other}"),
    "E104": ("error", "资金支出计划“{field}”应为 0–100 的数字，实际为 {found}", "spending plan '{field}' must be a number 0–100, found {found}"),
    "E105": ("error", "资金支出计划应逐期累计不减少：“{field}” {found} 小于上一期 {previous}", "spending plan must not decrease: '{field}' {found} is below the previous {previous}"),
    "E106": ("error", "资金支出计划“12月底”应为 100，实际为 {found}", "spending plan at end of December must be 100, found {found}"),
    "E107": ("error", "“{level2}”至少需要填写一个三级指标", "'{level2}' needs at least one indicator"),
    "E108": ("error", "指标行只填了一部分：缺少“{missing}”", "indicator row partly filled: '{missing}' missing"),
    "E109": ("error", "指标值未填写", "indicator value is empty"),
    "E110": ("error", "指标值“{found}”是未填写的占位符，请填写实际目标值（如 ≥95%）", "indicator value '{found}' is an unfilled placeholder; enter the real target (e.g. ≥95%)"),
    "E111": ("error", "无法识别指标值“{found}”，请写成 ≥95%、≥100本、2人 或 达成预期指标 这样的形式", "cannot read indicator value '{found}'; write it like ≥95%, ≥100本, 2人 or 达成预期指标"),
    "E112": ("error", "指标值“{found}”缺少计量单位（如 %、本、人、天）", "indicator value '{found}' has no unit (e.g. %, 本, 人, 天)"),
    "E113": ("error", "“{field}”超过 {limit} 个字（{length} 个字）", "'{field}' is longer than {limit} characters ({length})"),
    "E114": ("error", "项目编码 {found} 不在项目库中", "project code {found} is not in the registry"),
    "E115": ("error", "同一项目 {project} 报送了内容不同的多份：{other}，请确认以哪一份为准", "project {project} was returned more than once with different content: {other}; say which one counts"),
    "E116": ("error", "输入单元格中是公式“{found}”，请直接填写内容", "formula '{found}' in an input cell; type the value itself"),
    "E117": ("error", "“{field}”应为 {choices} 之一，实际为“{found}”", "'{field}' must be one of {choices}, found '{found}'"),
    "E118": ("error", "“{level1}”下至少需要填写 {count} 项", "'{level1}' needs at least {count} item(s)"),
    "E119": ("error", "单位 {found} 不在项目库中", "unit {found} is not in the registry"),
    "E120": ("error", "指标值为“是否”（模板占位），请改为具体目标值或 达成预期指标", "indicator value is '是否' (a template placeholder); give the real target or 达成预期指标"),
    # -- warnings: quality problems the published seed itself has --
    "W201": ("warning", "指标值为“是否”（模板占位），请改为具体目标值或 达成预期指标", "indicator value is '是否' (a template placeholder); give the real target or 达成预期指标"),
    "W202": ("warning", "绩效目标中有重复的条目：“{line}”", "duplicated line in the goals: '{line}'"),
    "W203": ("warning", "绩效指标描述与三级指标名称相同（“{found}”），请说明指标的具体含义", "description is identical to the indicator name ('{found}'); explain what it measures"),
    "W204": ("warning", "成本指标的目标值为“{found}”：成本指标通常应为 ≤ 某个数值", "cost indicator target is '{found}'; a cost target is usually ≤ some value"),
    "W205": ("warning", "资金用途过于简短（“{found}”），请写明资金的具体用途", "use of funds is too short ('{found}'); say what the money is for"),
    "W206": ("warning", "文件名中的项目编码 {name_code} 与表中（模板标识）的项目编码 {found} 不同，以表中内容为准", "the file name names project {name_code} but the sheet (template metadata) is project {found}; the content counts"),
    "W207": ("skip", "与 {other} 内容完全相同的重复报送，已跳过", "identical copy of {other}, skipped"),
    "W208": ("skip", "该项目已有更新的有效报送 {other}，本文件被替代", "superseded by a newer valid return {other}"),
    # 指标值 and spending-plan spellings that deserve advice of their own rather than E111
    "E131": ("error", "指标值“{found}”是一个范围，指标值只能填一个数：请用 ≥ 写下限（如 ≥90%），或用 ≤ 写上限", "indicator value '{found}' is a range; a target is one number: write the lower bound with ≥ (e.g. ≥90%) or the upper bound with ≤"),
    "E132": ("error", "指标值“{found}”是日期：时效目标请写成 ≤ 月份（如 12月底前 写成 ≤12月，6月30日前 写成 ≤6月），具体日期写在绩效指标描述中", "indicator value '{found}' is a date: write a deadline as ≤ a month (by the end of December is ≤12月, by 30 June is ≤6月) and put the exact date in the description"),
    "E133": ("error", "资金支出计划混用了小数和百分数（{found}）：“{field}”的 {fraction} 应是 {percent}？请统一填写百分数（如 25、50、75、100）；若确为 {fraction}%，请填写“{fraction}%”", "the spending plan mixes fractions and percentages ({found}): is {fraction} in '{field}' meant as {percent}? write every period as a percentage (e.g. 25, 50, 75, 100); if {fraction}% is meant, type '{fraction}%'"),
    "W231": ("warning", "指标值“{found}”像是把百分数写成了小数：是否应为 {meant}？", "indicator value '{found}' looks like a percentage written as a fraction: did you mean {meant}?"),
}

UI: dict[str, tuple[str, str]] = {
    "accepted": ("通过", "accepted"),
    "rejected": ("退回", "rejected"),
    "skipped": ("跳过", "skipped"),
    "error": ("错误", "error"),
    "warning": ("提示", "warning"),
    "file": ("文件", "file"),
    "status": ("状态", "status"),
    "project": ("项目", "project"),
    "sheet": ("工作表", "sheet"),
    "cell": ("单元格", "cell"),
    "code": ("代码", "code"),
    "message": ("说明", "message"),
    "summary": ("共 {files} 个文件：通过 {accepted}，退回 {rejected}，跳过 {skipped}；错误 {errors} 条，提示 {warnings} 条", "{files} files: {accepted} accepted, {rejected} rejected, {skipped} skipped; {errors} errors, {warnings} warnings"),
    "no_issues": ("无问题", "no issues"),
    "reading": ("读取", "reading"),
    "generated": ("已生成 {count} 个模板到 {dir}", "generated {count} templates in {dir}"),
    "generated_units": ("已生成 {count} 个部门整体绩效目标表到 {dir}", "generated {count} unit-level forms in {dir}"),
    "password_file": ("工作表保护密码已写入 {path}（请勿随模板发出）", "sheet protection password written to {path} (do not send it with the templates)"),
    "master_written": ("汇总表已写入 {path}：{projects} 个项目，预算数合计 {total} 万元，{indicators} 条绩效指标", "master written to {path}: {projects} projects, budget total {total} (10k CNY), {indicators} indicator rows"),
    "missing": ("未报送 {count} 个项目", "{count} registry projects without an accepted return"),
    "registry_error": ("项目库文件 {path} 有误：{error}", "registry {path} is invalid: {error}"),
    "no_inputs": ("没有找到任何文件：{paths}", "no files found: {paths}"),
    "json_written": ("校验报告（JSON）已写入 {path}", "validation report (JSON) written to {path}"),
    "feedback_written": ("已为 {count} 个退回文件生成反馈工作簿到 {dir}", "feedback workbooks for {count} rejected returns written to {dir}"),
    "prefilled": ("{count} 个模板已用 {path} 中上一年的内容预填", "{count} templates prefilled from last year's {path}"),
    "status_summary": ("已通过 {accepted}，退回 {rejected}，未报送 {missing}", "{accepted} accepted, {rejected} rejected, {missing} missing"),
    "reminders": ("催报清单：", "reminders:"),
    "diff_kinds": ("{old} 与 {new} 不是同一种表，无法比较", "{old} and {new} are different forms; cannot compare"),
    "diff_count": ("共 {count} 处改动", "{count} changed cells"),
    "published": ("已生成 {path}", "written {path}"),
    "old": ("旧值", "old"),
    "new": ("新值", "new"),
    "field": ("字段", "field"),
    "demo_step": ("== {step} ==", "== {step} =="),
    "more_issues": ("…… 另有 {count} 条，见 JSON 报告", "… {count} more, see the JSON report"),
}


def get_lang(explicit: str | None = None) -> str:
    lang = (explicit or os.environ.get("XLPERF_LANG") or "zh").lower()
    return "en" if lang.startswith("en") else "zh"


def issue_text(code: str, lang: str = "zh", **kw) -> str:
    _sev, zh, en = ISSUES[code]
    template = en if lang == "en" else zh
    return template.format_map(_Blank(kw))


class _Blank(dict):
    """Missing message parameters print as '?' rather than breaking the message."""

    def __missing__(self, key):
        return "?"


def severity(code: str) -> str:
    return ISSUES[code][0]


def ui(key: str, lang: str = "zh", **kw) -> str:
    zh, en = UI[key]
    return (en if lang == "en" else zh).format(**kw)
