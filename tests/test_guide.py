"""The officer guide (docs/guide.md) stays true: its commands, codes, pictures and example export exist."""
from __future__ import annotations

import re
import shlex
import sys
from decimal import Decimal

import pytest
import typer

from conftest import ROOT
from xlperf.cli import build_app
from xlperf.messages import ISSUES
from xlperf.registry import load_registry

sys.path.insert(0, str(ROOT / "tools"))
from gen_guide_codes import codes_table, with_codes_table  # noqa: E402
from make_example_export import EXAMPLE_EXPORT, SECOND_UNIT, budget_export_rows  # noqa: E402

GUIDE = ROOT / "docs" / "guide.md"


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cli() -> object:
    return typer.main.get_command(build_app())


def quoted_commands(text: str) -> list[str]:
    """Every xlperf command line the guide shows: console lines `$ xlperf …` and inline `xlperf …` spans."""
    lines = [m.group(1) for m in re.finditer(r"^\$ (xlperf .+)$", text, re.M)]
    return lines + re.findall(r"`(xlperf [^`]+)`", text)


HELP = {"-h", "--help"}  # added by the CLI's context settings, not a declared parameter


def options_of(command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")} | HELP


def test_the_guide_quotes_commands(guide):
    commands = quoted_commands(guide)
    assert len(commands) >= 15
    assert {shlex.split(c)[1] for c in commands} >= {"generate", "status", "validate", "consolidate", "publish",
                                                     "diff", "demo"}


def test_every_quoted_command_names_a_real_subcommand_and_options(guide, cli):
    for line in quoted_commands(guide):
        words = shlex.split(line)
        name = words[1]
        assert name in cli.commands, line
        known = options_of(cli.commands[name]) | options_of(cli)
        used = {w.split("=", 1)[0] for w in words[2:] if w.startswith("-") and w != "-"}
        assert used <= known, (line, used - known)


def test_every_option_the_prose_names_exists(guide, cli):
    known = set().union(options_of(cli), *(options_of(c) for c in cli.commands.values()))
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", guide))
    assert named and named <= known, named - known


def test_every_issue_code_mentioned_exists(guide):
    mentioned = set(re.findall(r"\b([EFWR]\d{3})\b", guide))
    assert {"E102", "E110", "E115", "E010", "W201"} <= mentioned
    assert mentioned - {c for c in mentioned if c.startswith("R")} <= set(ISSUES), mentioned - set(ISSUES)


def test_the_codes_table_is_generated_from_the_messages(guide):
    assert codes_table() in guide
    assert with_codes_table(guide) == guide  # regenerate with: python tools/gen_guide_codes.py
    for code in ISSUES:
        assert f"| {code} |" in guide, code


def test_every_picture_exists_and_is_small(guide):
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", guide)
    assert len(pictures) >= 13
    for rel in pictures:
        path = GUIDE.parent / rel
        assert path.is_file(), rel
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", rel
        assert 5_000 < path.stat().st_size < 200_000, (rel, path.stat().st_size)


def test_every_linked_doc_exists(guide):
    for rel in re.findall(r"\]\(([\w./-]+\.md)\)", guide):
        assert (GUIDE.parent / rel).is_file(), rel


def test_the_example_export_is_a_two_unit_2022_registry(guide):
    assert EXAMPLE_EXPORT.name in guide
    reg = load_registry(EXAMPLE_EXPORT, "zh")
    assert reg.year == 2022
    units = {r["单位编码"]: r["单位名称"] for r in reg.rows}
    assert len(units) == 2 and units[SECOND_UNIT[0]] == SECOND_UNIT[1]
    # the committed file holds what tools/make_example_export.py writes today, in 万元
    expected = {r["项目编码"]: r["万元"]["预算数"] for r in budget_export_rows(2022)}
    assert {r["项目编码"]: Decimal(str(r["预算数"])).quantize(Decimal("0.01")) for r in reg.rows} == expected


# ---------------------------------------------------------------- the later rounds and the unit tree

LATER = ("## 十一、年中：绩效运行监控", "## 十二、年终：绩效自评", "## 十三、逐级汇总：主管部门通过二级单位收集")
WALKTHROUGH = ROOT / "tools" / "guide_walkthrough.py"


def later_sections(guide: str) -> str:
    start = guide.index(LATER[0])
    return guide[start:guide.index("\n## ", guide.index(LATER[-1]) + 1)]


def walkthrough_calls() -> list[list[str | None]]:
    """The arguments of every `w.xlperf(name, *args)` call in the walkthrough (None where not a literal)."""
    import ast

    calls = []
    for node in ast.walk(ast.parse(WALKTHROUGH.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "xlperf":
            calls.append([a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                          for a in node.args[1:]])
    return calls


def test_the_guide_has_the_two_rounds_and_the_unit_tree(guide):
    assert all(title in guide for title in LATER)
    text = later_sections(guide)
    for code in ("E310", "E305", "W307", "E102", "W241"):
        assert code in text, code
    commands = quoted_commands(text)
    shown = [shlex.split(c) for c in commands]
    assert any(w[1] == "generate" and w[w.index("--form") + 1] == "monitoring" and "--through" in w
               and "--prefill" in w for w in shown if "--form" in w)
    assert any(w[1] == "generate" and w[w.index("--form") + 1] == "self-evaluation" and "--prefill" in w
               for w in shown if "--form" in w)
    assert {w[1] for w in shown} >= {"generate", "validate", "consolidate", "publish", "status"}


def test_every_command_of_the_later_rounds_is_one_the_walkthrough_runs(guide):
    """Each `$ xlperf …` line of sections 十一–十三 matches a call of tools/guide_walkthrough.py: same
    subcommand, every literal argument of the call present, no option the call does not pass."""
    calls = walkthrough_calls()
    lines = [m.group(1) for m in re.finditer(r"^\$ (xlperf .+)$", later_sections(guide), re.M)]
    assert len(lines) >= 12
    for line in lines:
        words = shlex.split(line)[1:]
        options = {w for w in words if w.startswith("-")}
        assert any(call and call[0] == words[0] and all(a is None or a in words for a in call)
                   and options == {a for a in call if a and a.startswith("-")} for call in calls), line


@pytest.mark.parametrize("target, actual, shown", [
    ("≥95%", "90%", "12.5 × 90 ÷ 95 = 11.84"),
    ("≤3天", "4天", "12.5 × 3 ÷ 4 = 9.38"),
    ("2人", "1人", "12.5 × 1 ÷ 2 = 6.25"),
    ("达成预期指标", "部分达成", "部分达成：6.25"),
])
def test_the_scoring_examples_are_what_xlperf_computes(guide, target, actual, shown):
    from xlperf.scoring import ScoringRules, score_indicator
    from xlperf.spec import load_spec

    rules = ScoringRules.from_table(load_spec("self-evaluation").scoring)
    assert shown in later_sections(guide)
    assert f"{score_indicator(target, actual, 12.5, rules).score:.2f}" == shown.rsplit(" ", 1)[-1].split("：")[-1]


def test_the_later_rounds_show_their_screenshots(guide):
    pictures = set(re.findall(r"!\[[^\]]*\]\(img/([^)]+)\)", later_sections(guide)))
    assert pictures >= {"monitoring_template.png", "self_template.png", "self_feedback.png",
                        "self_master_summary.png", "self_master_overview.png", "self_publish.png",
                        "tree_master_via.png"}
    source = WALKTHROUGH.read_text(encoding="utf-8")
    assert all(f'"{name}"' in source for name in pictures)  # each is rendered by the walkthrough
