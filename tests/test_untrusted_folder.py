"""No code lying in the working folder (the folder of returns) is ever imported, by the parent or by a worker."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli

# Modules the parent, the fork server or a worker imports (or might), standard and third-party, plus the
# hooks the interpreter itself looks for at start-up.
SHADOWED = [
    "select", "socket", "signal", "pickle", "selectors", "struct", "zipfile", "zlib", "io", "typing", "json",
    "re", "threading", "multiprocessing", "typer", "click", "rich", "pandas", "numpy", "pandera", "openpyxl",
    "xlsxwriter", "python_calamine", "defusedxml", "docx", "pyarrow", "sitecustomize", "usercustomize",
    "errno", "warnings", "weakref", "tempfile", "shutil", "mmap", "resource", "ctypes", "hashlib", "base64",
    "logging", "traceback", "copyreg", "functools", "collections", "enum", "random", "secrets", "uuid",
    "datetime", "decimal", "fractions", "numbers", "string", "textwrap", "unicodedata", "codecs", "locale",
    "tomllib", "csv", "glob", "fnmatch", "posixpath", "stat", "subprocess", "atexit", "queue", "heapq",
    "bisect", "contextlib", "dataclasses", "inspect", "ast", "tokenize", "dis", "opcode", "pathlib",
    "importlib_metadata", "platform", "sysconfig", "binascii", "array", "copy", "keyword", "linecache",
    "operator", "reprlib", "types", "abc", "runpy", "pkgutil", "xml", "shlex", "gettext", "argparse",
    "email", "http", "urllib", "html", "calendar", "_posixsubprocess", "pyexpat", "_pickle",
    "_socket", "_ssl", "ssl", "lzma", "bz2", "gzip", "tarfile", "encodings", "markdown_it", "pygments",
    "shellingham", "typing_extensions", "dateutil", "pytz", "tzdata", "lxml", "et_xmlfile", "six",
]


def _plant(folder: Path, markers: Path) -> None:
    for name in SHADOWED:
        (folder / f"{name}.py").write_text(
            "import os as _os\n"
            f"open(_os.path.join({str(markers)!r}, {name!r} + '.' + str(_os.getpid())), 'w').close()\n",
            encoding="utf-8")


@pytest.fixture(scope="module")
def returns_folder(demo_dir, tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("untrusted")
    folder, markers = base / "returns", base / "markers"
    markers.mkdir()
    shutil.copytree(demo_dir / "returns", folder)
    _plant(folder, markers)
    return folder, markers


def _xlperf_exe() -> Path:
    exe = Path(sys.executable).with_name("xlperf")
    assert exe.exists(), "the console script is installed with the package"
    return exe


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("entry", ["script", "module"])
def test_validate_in_a_folder_of_py_files_imports_none(returns_folder, registry_path, tmp_path, entry, jobs):
    folder, markers = returns_folder
    for old in markers.iterdir():  # each run is judged on its own
        old.unlink()
    report = tmp_path / "r.json"
    cmd = ([str(_xlperf_exe())] if entry == "script" else [sys.executable, "-m", "xlperf"])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSAFEPATH", "PYTHONPATH")}
    env["XLPERF_LANG"] = "zh"
    proc = subprocess.run([*cmd, "validate", ".", "--registry", str(registry_path), "--jobs", str(jobs),
                           "--json", str(report)], cwd=folder, capture_output=True, text=True, env=env,
                          timeout=300)
    ran = sorted(p.name for p in markers.iterdir())
    assert not ran, f"modules imported from the working folder: {ran}"
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    files = json.loads(report.read_text(encoding="utf-8"))["files"]
    by_name = {Path(f["path"]).name: f for f in files}
    accepted = [n for n, f in by_name.items() if f["status"] == "accepted"]
    assert accepted, "the real returns in the folder were read"
    assert all(by_name[f"{n}.py"]["status"] == "skipped" for n in SHADOWED)


def test_the_check_would_see_an_import(returns_folder, tmp_path):
    """The planted modules do write their marker when imported (so an empty marker folder means something)."""
    folder, markers = returns_folder
    probe = tmp_path / "probe"
    probe.mkdir()
    shutil.copy(folder / "select.py", probe / "select.py")
    before = set(markers.iterdir())
    subprocess.run([sys.executable, "-c", "import select"], cwd=probe, check=True)
    new = set(markers.iterdir()) - before
    assert [p.name.split(".")[0] for p in new] == ["select"]
    for p in new:
        p.unlink()


def test_main_module_drops_the_working_folder_from_sys_path(tmp_path):
    (tmp_path / "typer.py").write_text("raise SystemExit('typer.py from the working folder was imported')\n")
    proc = subprocess.run([sys.executable, "-m", "xlperf", "--help"], cwd=tmp_path, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "working folder" not in proc.stdout + proc.stderr
