#!/usr/bin/env bash
# Mutation score of the core modules with mutmut 3 (not in CI: tens of minutes on 2 cores).
#   tools/mutation.sh              # every module of only_mutate in [tool.mutmut] of pyproject.toml (hours)
#   tools/mutation.sh status feedback   # some modules (names as in xlperf/NAME.py; each must be in only_mutate)
#   tools/mutation.sh --report values rules   # only tally the results already in mutants/
# Needs: pip install -e '.[test,mutation]'. Writes the figures between the markers of docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
MUTMUT=${MUTMUT:-$(dirname "$PY")/mutmut}
CHILDREN=${MUTATION_CHILDREN:-1}   # the machine is shared: one mutant at a time unless told otherwise
report_only=0
if [ "${1:-}" = "--report" ]; then report_only=1; shift; fi
modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=(values rules status feedback master)
if [ $report_only -eq 0 ]; then
  rm -rf mutants  # a fresh copy of the sources, so the figures belong to the commit below
  patterns=()
  for m in "${modules[@]}"; do patterns+=("xlperf.$m.*"); done
  "$MUTMUT" run --max-children "$CHILDREN" "${patterns[@]}" > /dev/null  # one run: the test stats are taken once
fi
"$MUTMUT" results --all true > mutants/results.txt
"$PY" - "${modules[@]}" <<'PYEOF'
"""Tally mutmut's results per module and write them between the markers of docs/testing.md."""
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

wanted = sys.argv[1:]
tally = defaultdict(Counter)
survivors = defaultdict(list)
for line in Path("mutants/results.txt").read_text().splitlines():
    m = re.match(r"\s*(xlperf\.(\w+)\.\S+): (.+)$", line)
    if not m or m.group(2) not in wanted:
        continue
    name, module, status = m.groups()
    tally[module][status] += 1
    if status not in ("killed", "timeout", "not checked"):
        survivors[module].append(f"{name} ({status})")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "xlperf", "tests"], capture_output=True, text=True).stdout
rows = [f"Measured at commit `{commit}`{' (with uncommitted changes)' if dirty.strip() else ''}, "
        f"mutmut {__import__('importlib.metadata').metadata.version('mutmut')}.", "",
        "| module | mutants | killed | timeout | survived | no tests | score |", "| --- | --- | --- | --- | --- | --- | --- |"]
for module in wanted:
    c = tally[module]
    checked = sum(v for k, v in c.items() if k != "not checked")
    detected = c["killed"] + c["timeout"]
    score = f"{100 * detected / checked:.1f} %" if checked else "–"
    rows.append(f"| {module}.py | {checked} | {c['killed']} | {c['timeout']} | {c['survived']} | {c['no tests']} | {score} |")
rows.append("")
for module in wanted:
    if survivors[module]:
        rows.append(f"Surviving in {module}.py: " + ", ".join(f"`{s}`" for s in sorted(survivors[module])) + ".")
        rows.append("")
block = "\n".join(rows).rstrip() + "\n"
doc = Path("docs/testing.md")
text = doc.read_text(encoding="utf-8")
begin, end = "<!-- mutation:begin -->\n", "<!-- mutation:end -->"
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
doc.write_text(head + begin + block + end + tail, encoding="utf-8")
print(block)
PYEOF
