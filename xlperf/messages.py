"""User-facing texts in Chinese and English, keyed by stable issue codes and UI keys."""
from __future__ import annotations

import os

# code: (severity, Chinese, English). Severity "error" rejects a return, "warning" does not,
# "skip" means the file is set aside without being judged (lock files, duplicates).
ISSUES: dict[str, tuple[str, str, str]] = {
    # -- the file itself (checked before any parser opens it) --
    "F001": ("skip", "Excel/WPS/LibreOffice 打开文件时留下的临时锁定文件或 macOS 元数据文件（~$、.~lock.、._ 开头），不是报表，已跳过", "lock file left by Excel/WPS/LibreOffice or macOS metadata file (~$…, .~lock.…, ._…), not a return; skipped"),
    "F002": ("error", "无法读取该文件（{reason}）", "cannot read the file ({reason})"),
    "F003": ("error", "文件为空（0 字节）", "the file is empty (0 bytes)"),
    "F004": ("error", "文件过大（{size} 字节，上限 {limit} 字节）", "file too large ({size} bytes, limit {limit})"),
    "F005": ("error", "这是{format}文件：请用 Excel、WPS 或 LibreOffice 另存为 .xlsx 后重新报送", "this is {format} file: open it in Excel, WPS or LibreOffice, save it as .xlsx and send it again"),
    "F006": ("error", "工作簿设置了打开密码（已加密），无法读取，请取消密码后重新报送", "the workbook is password-protected (encrypted); remove the password and send it again"),
    "F007": ("error", "不是 Excel 工作簿（内容为{kind}），可能是改了扩展名的其他文件，请用模板（.xlsx）填报", "not an Excel workbook (the content is {kind}); probably another file renamed; please fill in the .xlsx template"),
    "F008": ("error", "文件已损坏或不完整（{reason}），请重新保存后报送", "the file is corrupt or truncated ({reason}); save it again and resend"),
    "F009": ("error", "工作簿内部文件过多（{entries} 个，上限 {limit} 个）", "too many parts in the workbook ({entries}, limit {limit})"),
    "F010": ("error", "疑似压缩炸弹：内部文件 {entry} 压缩比异常（{compressed} 字节解压为 {size} 字节，压缩比 {ratio}，上限 {limit}），已拒收", "suspected zip bomb: part {entry} inflates abnormally ({compressed} bytes to {size} bytes, ratio {ratio}, limit {limit}); rejected"),
    "F011": ("error", "不是标准的 Excel 工作簿（{kind}）：请用 Excel、WPS 或 LibreOffice 打开确认，另存为 .xlsx 后重新报送", "not a standard Excel workbook ({kind}): open it in Excel, WPS or LibreOffice, save it as .xlsx and send it again"),
    "F012": ("error", "含宏的工作簿（.xlsm/vbaProject），出于安全原因拒收，请用模板（.xlsx）填报", "macro-enabled workbook (vbaProject) rejected for safety; use the .xlsx template"),
    "F013": ("error", "工作簿中的 XML 含有 DOCTYPE/实体声明（{entry}），出于安全原因拒收", "XML with DOCTYPE/entity declarations ({entry}) rejected for safety"),
    "F014": ("error", "工作簿内部文件被加密，无法读取", "encrypted parts inside the workbook; cannot read it"),
    "F015": ("skip", "不是电子表格文件（扩展名 {ext}），已跳过", "not a spreadsheet file (extension {ext}), skipped"),
    "F016": ("error", "无法读取工作簿内容（文件可能已损坏，或不是由 Excel/WPS 正常保存的）：请用 Excel 或 WPS 打开确认，另存为 .xlsx 后重新报送", "reading the workbook failed ({error}): open it in Excel or WPS, save it as .xlsx and send it again"),
    "F017": ("error", "读取“{name}”时{reason_zh}，已放弃该文件（文件可能已损坏或被特意构造；请用 Excel/WPS 打开确认后另存为 .xlsx 再报送）", "reading '{name}' {reason_en}; file given up (damaged or crafted? open it in Excel/WPS, save it as .xlsx again and resend)"),
    "F018": ("error", "工作表“{sheet_name}”的数据范围过大（{ref}，共 {rows} 行；上限 {limit_rows} 行、{limit_cells} 个单元格），可能在表格下方或右侧粘贴了大量内容，请删除多余的行列后重新报送", "sheet '{sheet_name}' has an absurd used range ({ref}, {rows} rows; limit {limit_rows} rows, {limit_cells} cells): lots of content pasted below or beside the form? delete the extra rows/columns and resend"),
    "F019": ("error", "工作簿内容过大：解压后 {size_mb} MB，上限 {limit_mb} MB（可能在表格中粘贴了大量内容或图片），请删除多余内容后重新报送", "the workbook is too large: {size_mb} MB inflated, limit {limit_mb} MB (lots of content or pictures pasted?); delete what is not needed and resend"),
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
    "E010": ("error", "模板年度不符：该文件是 {found} 年度的模板，本轮收集的是 {expected} 年度，请用 {expected} 年度下发的模板重新填报", "wrong year: this return was made from a {found} template, the round collects {expected}; fill in the {expected} template"),
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
    # table forms (monitoring, self-evaluation and forms declared like them): xlperf/checks.py
    "E301": ("error", "“{field}”应为数字，实际为“{found}”", "'{field}' must be a number, found '{found}'"),
    "E302": ("error", "“{field}”为 {found}，应在 {low}–{high} 之间", "'{field}' is {found}, must be within {low}–{high}"),
    "E303": ("error", "“{left}” {left_value} 大于“{right}” {right_value}", "'{left}' {left_value} is greater than '{right}' {right_value}"),
    "W303": ("warning", "“{left}” {left_value} 大于“{right}” {right_value}，请核实", "'{left}' {left_value} is greater than '{right}' {right_value}; please check"),
    "E304": ("error", "“{field}”合计应为 {expected}，实际为 {found}（含{plus}）", "'{field}' must total {expected}, found {found} (including {plus})"),
    "E305": ("error", "指标“{indicator}”未完全完成（年度指标值 {target}，实际完成值 {actual}，得分 {score}/{points}）：请填写“{field}”", "indicator '{indicator}' was not fully met (target {target}, actual {actual}, score {score}/{points}): fill in '{field}'"),
    "W306": ("warning", "指标“{indicator}”实际完成值 {actual} 超过年度指标值 {target} 的 {percent}%：目标可能设置偏低", "indicator '{indicator}': actual {actual} is above {percent}% of the target {target}: the target may have been set too low"),
    "W307": ("warning", "填写的“{field}”为 {typed}，系统计算为 {computed}（以系统计算为准）", "'{field}' was typed as {typed}; xlperf computes {computed} (xlperf's figure counts)"),
    "E308": ("error", "执行率 {rate} 低于 {limit}：请填写“{field}”，说明原因和改进措施", "execution rate {rate} is below {limit}: fill in '{field}' with the reasons and remedies"),
    "E309": ("error", "指标“{indicator}”的“{field}”为“{found}”，无法与年度指标值“{target}”比较：请按年度指标值的写法填写（如 {example}）", "indicator '{indicator}': '{field}' is '{found}', which cannot be compared with the target '{target}': write it like the target (e.g. {example})"),
    "E310": ("error", "指标“{indicator}”全年预计完成值 {forecast} 达不到年度指标值 {target}：请选择“{field}”", "indicator '{indicator}': the expected value {forecast} falls short of the target {target}: choose '{field}'"),
    "W311": ("warning", "执行率 {rate} 远低于时间进度 {elapsed}（截至{through}月底）：请在“{field}”中说明原因", "execution rate {rate} is far behind the share of the year elapsed {elapsed} (to the end of month {through}): explain in '{field}'"),
    "E312": ("error", "“{field}”为 0，无法计算执行率", "'{field}' is 0: the execution rate cannot be computed"),
    "E313": ("error", "锁定内容“{field}”被修改：应为“{expected}”，实际为“{found}”（锁定内容来自已批复的绩效目标，不得修改）", "locked content '{field}' was changed: expected '{expected}', found '{found}' (it comes from the approved targets and must not change)"),
    "E314": ("error", "模板标识中的行数（rows）缺失或无效，无法确认表格范围，请使用下发的模板", "the template metadata has no valid row count (rows): use the template you were sent"),
    "E315": ("error", "本轮收集的是“{expected}”，此文件是“{found}”（{form}）", "this round collects '{expected}'; this file is '{found}' ({form})"),
    # -- collection up a unit tree: sub-masters sent with the returns (xlperf.collection) --
    "E141": ("error", "这是汇总表（有“{sheets}”工作表），但缺少 xlperf 的隐藏元数据表 {meta_sheet}，无法确认它由 xlperf 汇总生成：请下级单位用 xlperf consolidate 重新生成汇总表后报送", "this is a master (it has the sheets {sheets}) without xlperf's hidden metadata sheet {meta_sheet}, so where it comes from cannot be told: have the sub-unit produce it again with xlperf consolidate"),
    "E142": ("error", "汇总表元数据“{key}”无效：为“{found}”，应为 {expected}（元数据可能被改动），该汇总表未采用", "the master's metadata '{key}' is invalid: '{found}', expected {expected} (edited?); the master is not used"),
    "E143": ("error", "汇总表缺少工作表“{sheet_name}”，该汇总表未采用", "the master has no sheet '{sheet_name}'; the master is not used"),
    "E144": ("error", "汇总表工作表“{sheet_name}”缺少“{column}”列，该汇总表未采用", "the master's sheet '{sheet_name}' has no column '{column}'; the master is not used"),
    "E145": ("error", "汇总表中“{column}”为“{found}”，与表样或原始填报不符（应为 {expected}）：汇总表可能被改动", "the master's '{column}' is '{found}', which does not match the form or the original entry (expected {expected}): was the master edited?"),
    "W241": ("skip", "项目 {project} 重复：{here} 与 {other} 都报送了该项目，以 {other} 为准（直接报送的原表优先，其次是保存时间较新的汇总表），此处不重复计入", "project {project} arrives twice: {here} and {other}; {other} counts (a direct return first, else the newest master by saved time), this one is not counted again"),
    "W242": ("warning", "“绩效指标”中有项目 {project} 的指标行，但“{sheet_name}”中没有该项目，这些指标未采用", "indicator rows of project {project} with no row in '{sheet_name}': not used"),
    "W243": ("warning", "汇总表“{sheet_name}”中没有项目", "the master's '{sheet_name}' holds no project"),
    # -- collection up a unit tree, later additions --
    "W244": ("skip", "单位 {unit} 的“{form}”重复：{here} 与 {other} 都报送了，以 {other} 为准（直接报送的原表优先，其次是保存时间较新的汇总表），此处不重复计入", "the '{form}' of unit {unit} arrives twice: {here} and {other}; {other} counts (a direct return first, else the newest master by saved time), this one is not counted again"),
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
    "generated": ("已生成 {year} 年度模板 {count} 个，按单位分为 {units} 个文件夹，位于 {dir}", "generated {count} templates for {year} in {units} unit folders under {dir}"),
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
    "details_hint": ("每个文件的全部问题：{where}", "every problem of every file: {where}"),
    "details_default": ("加 --verbose 逐个文件列出，或用 --json 写出报告", "add --verbose to list every file, or --json to write the report"),
    "details_with_json": ("JSON 报告 {json}，或加 --verbose 逐个文件列出", "the JSON report {json}, or --verbose to list every file"),
    "details_with_master": ("汇总表的“问题清单”工作表（{master}），或加 --verbose 逐个文件列出", "the 问题清单 sheet of {master}, or --verbose to list every file"),
    "more_problems": ("…… 另有 {count} 条", "… {count} more"),
    "more_rejected": ("…… 另有 {count} 个退回的文件", "… {count} more rejected files"),
    "status_rows_hidden": ("…… 另有 {count} 项未完成，见 --json 或加 --verbose", "… {count} more open items: see --json or --verbose"),
    "spec_missing": ("找不到表单规格“{name}”（应为 templates/ 中的名称，如 project、unit，或一个 .toml 文件的路径）", "form spec '{name}' not found (a name in templates/, such as project or unit, or a .toml path)"),
    "spec_invalid": ("表单规格“{name}”有误：{error}", "form spec '{name}' is invalid: {error}"),
    "year_conflict": ("注意：项目库的年度是 {registry}，按 --year 生成 {year} 年度的模板", "note: the registry's year is {registry}; generating {year} templates as --year says"),
    "demo_totals": ("合计：{projects} 个项目，预算数 {total} 万元，{indicators} 条绩效指标", "totals: {projects} projects, budget {total} (10k CNY), {indicators} indicator rows"),
    "zipped": ("已为 {count} 个单位各打一个压缩包到 {dir}", "{count} unit zips written to {dir}"),
    "password_reused": ("沿用 {path} 中已有的保护密码（此前下发的模板用同一密码）", "reusing the password in {path} (the templates sent earlier use it)"),
    "path_not_found": ("找不到 {path}（文件或文件夹不存在）", "{path} not found (no such file or folder)"),
    "out_suffix": ("输出路径 {path} 的扩展名应为 .xlsx、.csv 或 .parquet", "output {path} must end in .xlsx, .csv or .parquet"),
    "out_format_conflict": ("输出路径 {path} 与 --format {formats} 不一致：汇总表（xlsx）的路径应以 .xlsx 结尾", "output {path} does not match --format {formats}: the xlsx master's path must end in .xlsx"),
    "written_files": ("已写入：{files}", "written: {files}"),
    "publish_unreadable": ("无法读取汇总表 {path}（{error}），请确认是 xlperf consolidate 生成的 .xlsx", "cannot read the master {path} ({error}); is it an .xlsx written by xlperf consolidate?"),
    "publish_no_sheet": ("{path} 不是 xlperf 汇总表：缺少工作表“{sheet}”或其表头", "{path} is not an xlperf master: sheet '{sheet}' or its header row is missing"),
    "publish_no_year": ("汇总表 {path} 中没有年度（旧版汇总表？），请用 --year 指定年度", "the master {path} carries no year (an older master?); give it with --year"),
    "publish_unknown_unit": ("汇总表中没有单位 {unit}（现有单位：{units}）", "no unit {unit} in the master (units: {units})"),
    "publish_no_units": ("汇总表 {path} 中没有任何单位，无可生成的公开文本", "the master {path} holds no unit; nothing to publish"),
    "publish_docx_many": ("-o {path} 是单个 .docx 文件，但有 {count} 个单位：请给出文件夹（每个单位一份），或用 --unit 指定一个单位", "-o {path} is one .docx file but there are {count} units: give a folder (one document per unit) or choose one unit with --unit"),
    "publish_not_folder": ("{path} 已存在且不是文件夹", "{path} exists and is not a folder"),
    "publish_gap_unit_form": ("缺少部门整体绩效目标表", "the unit-level form (部门整体绩效目标) is missing"),
    "publish_gap_project": ("项目 {code} {name}{state}", "project {code} {name} {state}"),
    "publish_withheld": ("未生成 {unit} {name} 的公开文本，缺：{gaps}。补报后重新汇总，或加 --allow-incomplete 生成标明缺项的文本", "not published: {unit} {name}, missing: {gaps}. Consolidate again once they are in, or use --allow-incomplete to publish with the gaps marked"),
    "publish_marked": ("提示：{unit} {name} 的公开文本中标为“（未报送）”：{gap}", "warning: {unit} {name} published with a gap marked （未报送）: {gap}"),
    "publish_summary": ("{year} 年：已生成 {published} 个单位的公开文本，未生成 {withheld} 个", "{year}: {published} units published, {withheld} withheld"),
}


def get_lang(explicit: str | None = None) -> str:
    lang = (explicit or os.environ.get("XLPERF_LANG") or "zh").lower()
    return "en" if lang.startswith("en") else "zh"


def issue_text(code: str, lang: str = "zh", **kw) -> str:
    _sev, zh, en = ISSUES[code]
    template = en if lang == "en" else zh
    return template.format_map(_Blank(_named(kw, lang)))


class _Blank(dict):
    """Missing message parameters print as '?' rather than breaking the message."""

    def __missing__(self, key):
        return "?"


def severity(code: str) -> str:
    return ISSUES[code][0]


def ui(key: str, lang: str = "zh", **kw) -> str:
    zh, en = UI[key]
    return (en if lang == "en" else zh).format(**kw)


# -- the registry (项目库) import: code -> (Chinese, English). R0… problems refuse the registry; each
# is shown after its place (第n行 X列“表头”), R1… are notes the CLI prints once when the registry loads.
REGISTRY: dict[str, tuple[str, str]] = {
    "R001": ("文件不存在或不是普通文件", "the file does not exist or is not a regular file"),
    "R002": ("不支持的文件格式“{ext}”：项目库请用 .xlsx 或 .csv（.xls/.et/.ods 请在 Excel/WPS 中另存为 .xlsx）", "unsupported file format '{ext}': give the registry as .xlsx or .csv (save .xls/.et/.ods as .xlsx in Excel/WPS)"),
    "R003": ("无法读取该工作簿（文件已损坏，或不是 .xlsx 工作簿）", "cannot read the workbook (damaged, or not an .xlsx workbook)"),
    "R004": ("CSV 文件的编码既不是 UTF-8 也不是 GB18030，请另存为 UTF-8 的 CSV 或 .xlsx", "the CSV is neither UTF-8 nor GB18030; save it as UTF-8 CSV or .xlsx"),
    "R005": ("文件中没有内容", "the file has no content"),
    "R006": ("缺少列：{missing}（前 {scanned} 行中最像表头的是第 {row} 行：{found}）", "missing columns: {missing} (the likeliest header in the first {scanned} rows is row {row}: {found})"),
    "R007": ("前 {scanned} 行中找不到表头（应有 单位编码、单位名称、项目编码、项目名称、预算数、财政资金、其他资金 等列）", "no header found in the first {scanned} rows (expected columns such as 单位编码, 单位名称, 项目编码, 项目名称, 预算数, 财政资金, 其他资金)"),
    "R008": ("表头下面没有任何项目", "no project rows below the header"),
    "R010": ("不能为空", "must not be empty"),
    "R011": ("单位编码 {value} 对应两个单位名称：本行为“{name}”，第 {first_row} 行为“{first_name}”", "unit code {value} has two names: '{name}' here, '{first_name}' in row {first_row}"),
    "R012": ("项目编码 {value} 重复（第 {first_row} 行已有）", "project code {value} is duplicated (already in row {first_row})"),
    "R013": ("金额“{value}”不是数字", "amount '{value}' is not a number"),
    "R014": ("金额 {value} 是负数", "amount {value} is negative"),
    "R015": ("金额 {value} 万元超过上限 {limit} 万元（是否把以元为单位的金额放在了万元列？）", "amount {value} (10k CNY) is over the limit of {limit} (10k CNY); amounts in 元 under a 万元 header?"),
    "R016": ("“{total_col}” {total} ≠ “{fiscal_col}” {fiscal} + “{other_col}” {other}（相差 {diff}，单位：{unit}）", "'{total_col}' {total} ≠ '{fiscal_col}' {fiscal} + '{other_col}' {other} (difference {diff}, unit: {unit})"),
    "R017": ("年度“{value}”不是 2000–2099 之间的四位年份", "year '{value}' is not a four-digit year 2000–2099"),
    "R018": ("年度 {value} 与第 {first_row} 行的 {first} 不一致（一个项目库只能属于一个年度）", "year {value} differs from {first} in row {first_row} (one registry, one year)"),
    "R019": ("编码 {value} 被存成了数字：超过 15 位的数字在 Excel 中会丢失末几位，请把该列设为文本后重新导出", "code {value} is stored as a number: Excel loses the last digits of numbers over 15 digits; make the column text and export again"),
    "R020": ("编码“{value}”中含有空格或控制字符", "code '{value}' contains spaces or control characters"),
    "R021": ("“{column}”与“{other}”都是{field}列，无法确定用哪一列", "'{column}' and '{other}' are both {field} columns; which one counts?"),
    "R022": ("按 {formula} 算得{column} {value} 万元，是负数", "{column} computed as {formula} is {value} (10k CNY), negative"),
    "R099": ("…… 另有 {count} 条问题", "… {count} more problems"),
    "R101": ("表头在第 {row} 行，上方 {skipped} 行（标题、单位说明等）已跳过", "the header is in row {row}; the {skipped} rows above it (title, unit line) were skipped"),
    "R102": ("金额以元为单位（{columns}），已换算为万元（÷10000，四舍五入保留两位小数）", "amounts are in 元 ({columns}); converted to 万元 (÷10000, rounded half up to two decimals)"),
    "R103": ("{count} 个项目换算为万元取整后三项金额差 0.01，已按 预算数 − 财政资金 调整其他资金（第 {rows} 行）", "{count} projects were 0.01 off after rounding to 万元; 其他资金 set to 预算数 − 财政资金 (rows {rows})"),
    "R104": ("没有“{column}”列，按 {formula} 计算", "no '{column}' column; computed as {formula}"),
    "R105": ("年度 {year} 取自标题“{title}”", "year {year} taken from the title '{title}'"),
    "R106": ("读取的是工作表“{sheet}”", "read sheet '{sheet}'"),
    "R107": ("金额以{unit}为单位（{columns}），已换算为万元", "amounts are in {unit} ({columns}); converted to 万元"),
}


def registry_text(code: str, lang: str = "zh", **kw) -> str:
    zh, en = REGISTRY[code]
    return (en if lang == "en" else zh).format_map(_Blank(kw))


def registry_place(row: int | None, col: str, header: str, lang: str = "zh") -> str:
    """Where a registry problem is: '第5行 E列“预算数（元）”：' / 'row 5, column E '预算数（元）': '."""
    if lang == "en":
        parts = ([f"row {row}"] if row else []) + ([f"column {col} '{header}'" if col else f"'{header}'"] if header else [])
        return (", ".join(parts) + ": ") if parts else ""
    where = (f"第{row}行" if row else "") + (f" {col}列“{header}”" if col and header else f"“{header}”" if header else "")
    return (where.strip() + "：") if where else ""
# -- status (collection state, reminders per unit) and diff (two returns, two masters) --
UI.update({
    "state_accepted": ("已通过", "accepted"),
    "state_rejected": ("退回", "rejected"),
    "state_unreadable": ("无法读取", "unreadable"),
    "state_missing": ("未报送", "missing"),
    "status_title": ("报送情况", "collection status"),
    "col_unit": ("单位", "unit"),
    "col_unit_code": ("单位编码", "unit code"),
    "col_unit_name": ("单位名称", "unit name"),
    "col_project_code": ("项目编码", "project code"),
    "col_project_name": ("项目名称", "project name"),
    "col_department": ("主管部门", "supervising department"),
    "col_projects": ("项目数", "projects"),
    "col_units": ("单位数", "units"),
    "col_unit_form": ("部门整体绩效目标表", "unit-level form"),
    "col_note": ("说明", "note"),
    "note_newer_rejected": ("之后报送的 {file} 被退回", "a later return {file} was rejected"),
    "note_newer_unreadable": ("之后报送的 {file} 无法读取", "a later file {file} could not be read"),
    "unidentified_title": ("无法识别的文件（对应不到任何项目或单位）", "files that match no project or unit"),
    "rollup_unit_title": ("按单位汇总", "by unit"),
    "rollup_department_title": ("按主管部门汇总", "by supervising department"),
    "status_more": ("无法读取 {unreadable}；部门整体绩效目标表未通过 {unit_forms_open}；无法识别的文件 {unidentified}",
                    "{unreadable} unreadable; {unit_forms_open} unit-level forms not accepted; {unidentified} unidentified files"),
    "status_more_projects_only": ("无法读取 {unreadable}；无法识别的文件 {unidentified}",
                                  "{unreadable} unreadable; {unidentified} unidentified files"),
    "reminders_deadline": ("催报清单（截止 {deadline}）：", "reminders (deadline {deadline}):"),
    "reminder_head": ("{unit}：请尽快完成以下 {count} 项：", "{unit}: please complete the following {count} item(s) as soon as possible:"),
    "reminder_head_deadline": ("{unit}：请于 {deadline} 前完成以下 {count} 项：",
                               "{unit}: please complete the following {count} item(s) by {deadline}:"),
    "rem_missing": ("{what}：尚未报送", "{what}: not returned yet"),
    "rem_rejected": ("{what}：被退回（{file}），请修改以下问题后重新报送：", "{what}: rejected ({file}); fix these problems and send it again:"),
    "rem_unreadable": ("{what}：收到的文件无法读取，请按说明处理后重新报送：", "{what}: the file received cannot be read; fix it as said and send it again:"),
    "rem_newer": ("{what}：已通过（{file}），但之后报送的 {newer} 未通过，汇总仍采用已通过的一份；如需更正，请处理以下问题后重新报送：",
                  "{what}: accepted ({file}), but the later {newer} was not; the master keeps the accepted one. To correct it, fix these problems and send it again:"),
    "rem_error": ("   - {code} {where}{message}", "   - {code} {where}{message}"),
    "rem_more": ("   - ……另有 {count} 条问题（见反馈文件或校验报告）", "   - … {count} more problems (see the feedback file or the validation report)"),
    "rem_unreadable_file": ("   - 文件 {file} 无法读取（{code}）：{message}", "   - file {file} cannot be read ({code}): {message}"),
    "rem_feedback": ("   请随本通知发送反馈文件 {file}：按其中标红的单元格修改后重新报送。",
                     "   send the feedback file {file} with this notice: fix the cells marked red and send it again."),
    "bad_deadline": ("--deadline 应为 YYYY-MM-DD 格式的日期，如 2022-03-15（收到：{value}）",
                     "--deadline must be a date as YYYY-MM-DD, e.g. 2022-03-15 (got: {value})"),
    "feedback_absent": ("{count} 份退回的报送在 {dir} 中还没有反馈文件，可运行 xlperf validate … --feedback {dir} 生成",
                        "{count} rejected returns have no feedback file in {dir} yet; run xlperf validate … --feedback {dir}"),
    "diff_master_title": ("年度对比（项目）：{old} → {new}", "year over year (projects): {old} → {new}"),
    "diff_indicator_title": ("年度对比（绩效指标）", "year over year (indicators)"),
    "col_change": ("变化", "change"),
    "col_budget_old": ("原预算数", "old budget"),
    "col_budget_new": ("新预算数", "new budget"),
    "col_budget_delta": ("增减", "change"),
    "col_indicators": ("指标 新增/删除/修改", "indicators added/dropped/changed"),
    "col_level2": ("二级指标", "level-2 indicator"),
    "col_level3": ("三级指标", "indicator"),
    "change_added": ("新增", "added"),
    "change_dropped": ("取消", "dropped"),
    "change_changed": ("调整", "changed"),
    "change_same": ("不变", "unchanged"),
    "ind_added": ("新增", "added"),
    "ind_dropped": ("删除", "dropped"),
    "ind_changed": ("修改", "changed"),
    "diff_master_summary": ("项目：原 {old_projects} 个，现 {new_projects} 个（新增 {added}，取消 {dropped}，调整 {changed}，不变 {unchanged}）；"
                            "预算数 {budget_old} → {budget_new} 万元（{budget_delta}）；指标新增 {indicators_added}，删除 {indicators_dropped}，修改 {indicators_changed}",
                            "projects: {old_projects} before, {new_projects} now ({added} added, {dropped} dropped, {changed} changed, {unchanged} unchanged); "
                            "budget {budget_old} → {budget_new} (10k CNY, {budget_delta}); indicators {indicators_added} added, {indicators_dropped} dropped, {indicators_changed} changed"),
    "diff_master_unreadable": ("{path} 无法作为汇总表读取（应为 xlperf consolidate 生成的 .xlsx）", "{path} cannot be read as a master (an .xlsx written by xlperf consolidate)"),
    "diff_master_mixed": ("{master} 是汇总表而 {other} 不是：年度对比需要两份汇总表，报送比较需要两份报送",
                          "{master} is a master and {other} is not: compare two masters, or two returns"),
    "diff_return_unreadable": ("{path}：{message}", "{path}: {message}"),
})
# Parameter values that are keys, not text: the file checks say *what* they found ("ods", "bad_zip") and
# the message names it in the reader's language, so no code word reaches a Chinese message.
PARAM_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "format": {
        "xls": (" Excel 97-2003（.xls）", "an Excel 97-2003 (.xls)"),
        "et": (" WPS 表格（.et）", "a WPS spreadsheet (.et)"),
        "xlsb": ("二进制工作簿（.xlsb）", "a binary workbook (.xlsb)"),
        "ods": (" OpenDocument 表格（.ods）", "an OpenDocument spreadsheet (.ods)"),
        "fods": ("平面 ODF 表格（.fods）", "a flat ODF spreadsheet (.fods)"),
        "numbers": (" Apple Numbers 表格（.numbers）", "an Apple Numbers (.numbers)"),
    },
    "kind": {
        "text": ("纯文本或 CSV", "plain text or CSV"),
        "html": ("网页（HTML）", "a web page (HTML)"),
        "pdf": (" PDF 文档", "a PDF document"),
        "xml": (" XML 文件", "an XML file"),
        "rtf": (" RTF 文档", "an RTF document"),
        "archive": ("其他格式的压缩包（RAR、7z 等）", "another kind of archive (RAR, 7z …)"),
        "unknown": ("无法识别的二进制数据", "unrecognised binary data"),
        "doc": (" Word 97-2003 文档（.doc）", "a Word 97-2003 document (.doc)"),
        "ppt": (" PowerPoint 97-2003 演示文稿（.ppt）", "a PowerPoint 97-2003 presentation (.ppt)"),
        "ole": ("无法识别的 Office 97-2003 复合文档", "an unrecognised Office 97-2003 compound file"),
        "docx": ("这是 Word 文档", "a Word document"),
        "pptx": ("这是 PowerPoint 演示文稿", "a PowerPoint presentation"),
        "odf": ("这是 OpenDocument 文本或演示文稿", "an OpenDocument text or presentation"),
        "zip": ("普通压缩包，或内部结构不标准的工作簿", "a plain zip, or a workbook with a non-standard structure"),
    },
    "reason": {
        # F002
        "broken_symlink": ("链接指向的文件不存在", "a link to a file that does not exist"),
        "missing": ("文件不存在", "the file does not exist"),
        "not_regular_file": ("不是普通文件", "not a regular file"),
        "unreadable": ("没有读取权限或读取出错", "no permission to read it, or a read error"),
        # F008
        "no_central_directory": ("找不到压缩包目录，可能只下载或复制了一部分", "no zip directory: only part of it downloaded or copied?"),
        "bad_zip": ("压缩包无法打开", "the zip cannot be opened"),
        "unreadable_zip": ("压缩包无法打开", "the zip cannot be opened"),
        "duplicate_entry": ("含有重名的内部文件", "two parts with the same name"),
        "unsupported_compression": ("使用了不支持的压缩方式", "an unsupported compression method"),
        "entry_beyond_end": ("内部文件超出文件末尾，文件不完整", "a part runs past the end of the file: truncated"),
        "size_mismatch": ("内部文件大小前后不一致", "a part's sizes disagree"),
        "bad_local_header": ("内部文件头已损坏", "a damaged part header"),
        "overlapping_entries": ("内部文件互相重叠，疑似特意构造", "overlapping parts (crafted?)"),
        "bad_entry": ("内部文件无法解压或校验失败", "a part cannot be inflated or fails its checksum"),
    },
}


def _named(kw: dict, lang: str) -> dict:
    """*kw* with the values of key-like parameters (format, kind, reason) replaced by their names in *lang*."""
    out = kw
    for key, names in PARAM_NAMES.items():
        value = kw.get(key)
        if isinstance(value, str) and value in names:
            if out is kw:
                out = dict(kw)
            out[key] = names[value][1 if lang == "en" else 0]
    return out


# The later rounds (table forms: monitoring, self-evaluation), xlperf/cycle.py and the CLI.
UI.update({
    "round_needs_prefill": ("“{form}”的模板由已批复的绩效目标生成：请用 --prefill 指定绩效目标汇总表（consolidate 生成的 master.xlsx）", "'{form}' templates are made from the approved targets: give the targets master (consolidate's master.xlsx) with --prefill"),
    "generated_round": ("已生成 {year} 年度“{form}”模板 {count} 个，按单位分为 {units} 个文件夹，位于 {dir}", "generated {count} '{form}' templates for {year} in {units} unit folders under {dir}"),
    "not_in_prefill": ("{count} 个项目在项目库中但不在绩效目标汇总表 {path} 中（没有已批复的目标），未生成模板：{codes}", "{count} registry projects are not in the targets master {path} (no approved targets) and got no template: {codes}"),
    "prefill_year_differs": ("注意：绩效目标汇总表是 {found} 年度的，本轮是 {year} 年度", "note: the targets master is for {found}; this round is {year}"),
    "through_ignored": ("--through 只用于运行监控表，已忽略", "--through applies to the monitoring form only; ignored"),
    "wrong_round_files": ("{count} 个文件属于其他轮次（本轮：{round}），已退回", "{count} files belong to another round (this round: {round}) and were rejected"),
    "round_master_written": ("汇总表已写入 {path}：{projects} 个项目", "master written to {path}: {projects} projects"),
    "cycle_scores": ("自评得分：平均 {mean} 分，优 {excellent} 个，良 {good} 个，中 {fair} 个，差 {poor} 个", "self-evaluation scores: mean {mean}; {excellent} 优, {good} 良, {fair} 中, {poor} 差"),
})

