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
    assert len(pictures) >= 6
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
