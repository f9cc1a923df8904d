#!/usr/bin/env bash
# Mutation score of the core modules with mutmut 3 (not in CI: tens of minutes per module on 2 cores).
#   tools/mutation.sh                        # every module of only_mutate in [tool.mutmut] of pyproject.toml (hours)
#   tools/mutation.sh reader safety          # some modules (names as in xlperf/NAME.py; each must be in only_mutate)
#   tools/mutation.sh --keep 'safety.x__sniff*' 'safety.x_shared_zip*'
#                                            # parts of a module (mutant name patterns, mutmut's fnmatch), keeping
#                                            # the results already in mutants/ so parts measured one by one add up
#   tools/mutation.sh --report values rules  # only tally the results already in mutants/
# Needs: pip install -e '.[test,mutation]'. Writes the figures between the markers of docs/testing.md: the rows
# of the modules named are replaced, the other rows are kept (each names its commit).
# A module listed in [tool.xlperf-mutation.test_selection] of pyproject.toml is run against those test files
# instead of [tool.mutmut]'s selection; modules of different selections are measured one selection at a time
# (mutmut drops the results in mutants/ when the selection changes, so --keep adds up parts of one selection).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
MUTMUT=${MUTMUT:-$(dirname "$PY")/mutmut}
CHILDREN=${MUTATION_CHILDREN:-1}   # the machine is shared: one mutant at a time unless told otherwise
report_only=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --report) report_only=1; shift ;;
    --keep) keep=1; shift ;;
    *) break ;;
  esac
done
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(values rules status feedback master reader safety checks scoring sheet_xml)
# The test files of one module as JSON ("" when it uses [tool.mutmut]'s selection).
selection_of() {
  "$PY" -c 'import json, sys, tomllib
sel = tomllib.load(open("pyproject.toml", "rb")).get("tool", {}).get("xlperf-mutation", {}).get("test_selection", {})
print(json.dumps(sel[sys.argv[1]]) if sys.argv[1] in sel else "")' "$1"
}
declare -A selection_by_module=()
for a in "${args[@]}"; do  # one look-up per module (a run may name hundreds of mutants)
  m=${a%%.*}
  [ -n "${selection_by_module[$m]+set}" ] || selection_by_module[$m]=$(selection_of "$m")
done
selections=()
for a in "${args[@]}"; do
  s=${selection_by_module[${a%%.*}]}
  [[ " ${selections[*]-} " == *" $s "* ]] || selections+=("$s")
done
if [ ${#selections[@]} -gt 1 ]; then  # one run per selection, each with the arguments of its modules
  flags=()
  [ $report_only -eq 1 ] && flags+=(--report)
  [ $keep -eq 1 ] && flags+=(--keep)
  for s in "${selections[@]}"; do
    group=()
    for a in "${args[@]}"; do [ "${selection_by_module[${a%%.*}]}" = "$s" ] && group+=("$a"); done
    "$0" ${flags[@]+"${flags[@]}"} "${group[@]}"
  done
  exit 0
fi
selection=${selections[0]}
patterns=()
modules=()
for a in "${args[@]}"; do
  m=${a%%.*}
  if [ "$a" = "$m" ]; then patterns+=("xlperf.$m.*"); else patterns+=("xlperf.$a"); fi
  [[ " ${modules[*]-} " == *" $m "* ]] || modules+=("$m")
done
if [ $report_only -eq 0 ]; then
  [ $keep -eq 0 ] && rm -rf mutants  # a fresh copy of the sources, so the figures belong to the commit below
  if [ -z "$selection" ]; then
    "$MUTMUT" run --max-children "$CHILDREN" "${patterns[@]}" > /dev/null  # one run: the test stats are taken once
  else  # mutmut reads its test selection from pyproject.toml only: the launcher hands it the module's own
    XLPERF_MUTATION_TESTS="$selection" "$PY" -c 'import json, os, sys
import mutmut.configuration as configuration
tests = json.loads(os.environ["XLPERF_MUTATION_TESTS"])
read = configuration._config_reader
def reader():
    s = read()
    return lambda key, default: tests if key == "pytest_add_cli_args_test_selection" else s(key, default)
configuration._config_reader = reader
from mutmut.__main__ import cli
sys.argv[0] = "mutmut"
sys.exit(cli())' run --max-children "$CHILDREN" "${patterns[@]}" > /dev/null
  fi
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
at = f"`{commit}`{' + uncommitted changes' if dirty.strip() else ''}"
rows = {}
for module in wanted:
    c = tally[module]
    checked = sum(v for k, v in c.items() if k != "not checked")
    detected = c["killed"] + c["timeout"]
    score = f"{100 * detected / checked:.1f} %" if checked else "–"
    part = f" (part: {checked} of {checked + c['not checked']} mutants)" if c["not checked"] else ""
    rows[module] = (f"| {module}.py{part} | {checked} | {c['killed']} | {c['timeout']} | {c['survived']} "
                    f"| {c['no tests']} | {score} | {at} |")
doc = Path("docs/testing.md")
text = doc.read_text(encoding="utf-8")
begin, end = "<!-- mutation:begin -->\n", "<!-- mutation:end -->"
head, rest = text.split(begin, 1)
old, tail = rest.split(end, 1)
# keep the rows and survivor lists of the modules not measured now
kept_rows = [ln for ln in old.splitlines() if ln.startswith("| ") and not ln.startswith(("| module", "| ---"))
             and re.match(r"\| (\w+)\.py", ln) and re.match(r"\| (\w+)\.py", ln).group(1) not in wanted]
kept_surv = [ln for ln in old.splitlines() if ln.startswith("Surviving in ")
             and ln.split()[2].removesuffix(":").removesuffix(".py") not in wanted]
table = ["| module | mutants | killed | timeout | survived | no tests | score | commit |",
         "| --- | --- | --- | --- | --- | --- | --- | --- |", *kept_rows, *rows.values()]
lines = [f"mutmut {__import__('importlib.metadata').metadata.version('mutmut')}; each row names the commit it "
         "was measured at.", "", *table, ""]
for ln in kept_surv:
    lines += [ln, ""]
for module in wanted:
    if survivors[module]:
        lines += [f"Surviving in {module}.py: " + ", ".join(f"`{s}`" for s in sorted(survivors[module])) + ".", ""]
block = "\n".join(lines).rstrip() + "\n"
doc.write_text(head + begin + block + end + tail, encoding="utf-8")
print("\n".join(table))
PYEOF
