"""Regenerate docs/validation.md from xlperf.messages (the codes table) and the prose kept here."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlperf.messages import ISSUES  # noqa: E402

HEAD = "# Validation: rules, codes and the JSON report\n\n`xlperf validate` reads every return, checks it against the registry and the form spec,\nand reports each problem with a stable code, a severity, the sheet and the cell.\n\n- **F…** — the file itself, checked before any spreadsheet parser opens it (see `security.md`).\n- **E0…** — is this our form, the right version, the right project; is the layout intact.\n- **E1…** — content errors: the return is rejected.\n- **W2…** — quality warnings the published seed itself has; accepted unless `--strict`\n  (and `--reject-yesno` turns `是否` into the error E120).\n\nSeverity `skip` sets a file aside without judging it (lock files, identical copies, superseded returns).\n\n## How the checks run\n\n1. `safety.precheck` — size, zip directory, OLE2/encryption, macros, DOCTYPE (no parser involved).\n2. `reader.parse_workbook` — python-calamine reads the metadata sheet (very hidden, or hidden after a\n   LibreOffice save) to identify form, version and project; labels and merges must sit where the spec\n   puts them; every value keeps its cell.\n3. `rules.build_frames` + `rules.build_schemas` — one DataFrame of scalar fields and one of indicator\n   rows for *all* returns; the 指标值 text is parsed first (`values.parse_indicator_value`), then a pandera\n   schema derived from the spec runs once with `lazy=True`; each failure case maps back through the\n   row's file index and the column's cell.\n4. Cross-field rules in plain Python: registry match of locked values, 预算数 = 财政资金 + 其他资金,\n   the spending plan, required 二级指标, formulas in input cells, duplicates; then the quality lint.\n\n"
TAIL = ' such as `{field}` are filled with the field, the value found and the expected value.\n\n## JSON report\n\n`--json OUT` writes the report; its JSON Schema is [`report.schema.json`](report.schema.json).\nEvery file given is accounted for: `accepted + rejected + skipped == files`.\n\n```json\n{"files": [{"path": "returns/130304211DGTGIWENVORV_党史宣传研究工作经费.xlsx", "status": "rejected",\n            "kind": "project", "project_code": "130304211DGTGIWENVORV",\n            "issues": [{"code": "E102", "severity": "error", "sheet": "项目绩效目标表", "cell": "B5",\n                        "message": "“预算数”与项目库不一致：表中为 3.70，项目库为 2.70（锁定内容不得修改）"}]}],\n "summary": {"files": 1, "accepted": 0, "rejected": 1, "skipped": 0, "errors": 1, "warnings": 0}}\n```\n\n## Feedback workbooks\n\n`--feedback DIR` writes, for every rejected return that can be identified, a fresh copy of its\ntemplate (locked values from the registry) prefilled with the unit\'s own values in the same cells;\nevery problem cell is shaded red with a comment carrying the message, and a 问题清单 sheet lists\nall issues. Once the marked cells are fixed, the file validates clean. The protection password is\n`--password` or a new one written to `DIR/password.txt`.\n'


def main() -> None:
    rows = ["## Codes", "", "| code | severity | 中文说明 | English |", "| --- | --- | --- | --- |"]
    for code, (sev, zh, en) in ISSUES.items():
        rows.append(f"| {code} | {sev} | {zh.replace('|', '/')} | {en.replace('|', '/')} |")
    text = HEAD + "\n".join(rows) + "\n\nPlaceholders" + TAIL
    (ROOT / "docs" / "validation.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
