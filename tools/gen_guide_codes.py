"""Regenerate the problem-code table of docs/guide.md (between its codes markers) from xlperf.messages.ISSUES."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xlperf.messages import ISSUES  # noqa: E402

GUIDE = ROOT / "docs" / "guide.md"
START, END = "<!-- 问题代码表：由 tools/gen_guide_codes.py 生成，请勿手改 -->", "<!-- 问题代码表结束 -->"
OUTCOME = {"error": "退回", "warning": "提示（--strict 时退回）", "skip": "跳过"}


def codes_table() -> str:
    rows = ["| 代码 | 结果 | 说明（“…”处为具体内容） |", "| --- | --- | --- |"]
    for code, (severity, zh, _en) in ISSUES.items():
        text = re.sub(r"\{[a-z_]+\}", "…", zh).replace("|", "/")
        rows.append(f"| {code} | {OUTCOME.get(severity, severity)} | {text} |")
    return "\n".join(rows)


def with_codes_table(guide: str) -> str:
    head, rest = guide.split(START, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{START}\n{codes_table()}\n{END}{tail}"


def main() -> None:
    GUIDE.write_text(with_codes_table(GUIDE.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
