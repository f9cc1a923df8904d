"""Shared fixtures: the bundled registry, a demo round run once, and the CLI as a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlperf.registry import bundled_registry_path

ROOT = Path(__file__).resolve().parents[1]


def xlperf_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("xlperf")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "xlperf.cli"]


def run_cli(*args, env: dict | None = None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "XLPERF_LANG": "zh", **(env or {})}
    return subprocess.run([*xlperf_cmd(), *map(str, args)], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session")
def registry_path() -> Path:
    return bundled_registry_path()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    proc = run_cli("demo", "-o", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    (out / "demo_stdout.txt").write_text(proc.stdout, encoding="utf-8")
    return out
