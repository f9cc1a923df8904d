"""Regenerate the codes table of docs/validation.md from xlperf.messages; the prose around it is kept as written."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlperf.messages import ISSUES  # noqa: E402

DOC = ROOT / "docs" / "validation.md"
START = "## Codes\n"  # the table runs from this heading to the line that starts the placeholders note
END = "\nPlaceholders"


def codes_table() -> str:
    rows = ["## Codes", "", "| code | severity | 中文说明 | English |", "| --- | --- | --- | --- |"]
    for code, (sev, zh, en) in ISSUES.items():
        rows.append(f"| {code} | {sev} | {zh.replace('|', '/')} | {en.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    DOC.write_text(head + codes_table() + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
