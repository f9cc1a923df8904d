"""Spreadsheets from other projects' public test suites (tests/foreign, listed in MANIFEST.tsv): strict OOXML,
chartsheets, pivots, macros, encrypted, fuzzer crash files, odd part paths. Each is accounted for once,
none is accepted, and every message is Chinese."""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import run_cli

FOREIGN = Path(__file__).parent / "foreign"
# Product, format and technical words a Chinese message may name.
ALLOWED_WORDS = {"Excel", "WPS", "LibreOffice", "xlsx", "xlsm", "xls", "xlsb", "ods", "fods", "XML", "DOCTYPE",
                 "vbaProject", "OpenDocument", "macOS", "Word", "PowerPoint", "HTML", "Apple", "Numbers", "lock"}
_QUOTED = re.compile(r"“[^”]*”|'[^']*'")  # values quoted from the file (sheet names, cell text)
_PATHLIKE = re.compile(r"[\w\-\[\]\\~$#]*[/\\.][\w./\\\-\[\]~$#]*")  # part names, file names, extensions
_SIGNAL = re.compile(r"\bSIG[A-Z]+\b")


def english_words(message: str, file_name: str) -> list[str]:
    """Runs of 4+ ASCII letters in *message* that are not data from the file nor an allowed product word."""
    rest = message.replace(file_name, "")
    rest = _QUOTED.sub("", rest)
    rest = _PATHLIKE.sub("", rest)
    rest = _SIGNAL.sub("", rest)
    return [w for w in re.findall(r"[A-Za-z]{4,}", rest) if w not in ALLOWED_WORDS]


def test_the_checker_catches_english():
    assert english_words("读取工作簿失败：XlsxError: Invalid XML", "a.xlsx") == ["XlsxError", "Invalid"]
    assert english_words("工作表“Sheet1”的数据范围过大（xl/worksheets/sheet1.xml）", "a.xlsx") == []


@pytest.fixture(scope="module")
def corpus_report(tmp_path_factory, registry_path) -> dict:
    out = tmp_path_factory.mktemp("foreign") / "r.json"
    proc = run_cli("validate", FOREIGN, "--registry", registry_path, "--json", out, "--jobs", "2", "-q",
                   timeout=600)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_manifest_lists_every_file():
    with open(FOREIGN / "MANIFEST.tsv", encoding="utf-8", newline="") as fh:
        listed = {row["file"] for row in csv.DictReader(fh, delimiter="\t")}
    on_disk = {p.name for p in FOREIGN.iterdir()} - {"MANIFEST.tsv"}
    assert listed == on_disk and len(on_disk) >= 250


def test_every_file_once_none_accepted(corpus_report):
    seen = Counter(Path(f["path"]).name for f in corpus_report["files"])
    on_disk = {p.name for p in FOREIGN.iterdir()}
    assert set(seen) == on_disk and set(seen.values()) == {1}
    by_name = {Path(f["path"]).name: f for f in corpus_report["files"]}
    assert [n for n, f in by_name.items() if f["status"] == "accepted"] == []
    skipped = sorted(n for n, f in by_name.items() if f["status"] == "skipped")
    assert skipped == ["MANIFEST.tsv"]  # every spreadsheet is judged, none set aside
    for name, f in by_name.items():
        assert f["issues"], name


def test_formats_are_named(corpus_report):
    by_name = {Path(f["path"]).name: f for f in corpus_report["files"]}
    for name, f in by_name.items():
        ext = name.rsplit(".", 1)[-1]
        first = f["issues"][0]
        if ext in ("xls", "xlsb", "ods", "fods"):
            assert first["code"] == "F005" and f"（.{ext}）" in first["message"], (name, first)
        if ext == "xlsm":
            assert first["code"] == "F012", (name, first)


def test_every_message_is_chinese(corpus_report):
    bad = []
    for f in corpus_report["files"]:
        name = Path(f["path"]).name
        for issue in f["issues"]:
            words = english_words(issue["message"], name)
            if words:
                bad.append((name, issue["code"], words))
    assert not bad, bad[:20]


def test_english_report_too(tmp_path, registry_path):
    out = tmp_path / "r.json"
    proc = run_cli("validate", FOREIGN, "--registry", registry_path, "--json", out, "--jobs", "2", "-q",
                   env={"XLPERF_LANG": "en"}, timeout=600)
    assert "Traceback" not in proc.stdout + proc.stderr
    files = json.loads(out.read_text(encoding="utf-8"))["files"]
    assert len(files) == len(list(FOREIGN.iterdir()))
    assert not any(re.search(r"[\u4e00-\u9fff]{2,}", i["message"].replace(Path(f["path"]).name, ""))
                   and i["code"].startswith("F") for f in files for i in f["issues"])
