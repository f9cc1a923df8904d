"""Real-client (LibreOffice headless) helpers for the venv-based pytest suite.

The UNO work happens in ``tests/lo/uno_tool.py``, run by the SYSTEM python
(``/usr/bin/python3``, the only interpreter with Debian's ``python3-uno``); this module
only shells out to it and to poppler (``pdftoppm`` / ``pdfinfo``).

Install the tools with ``bash .ci/install_soffice.sh``.

Environment:
  XLPERF_REQUIRE_SOFFICE=1  missing LibreOffice/UNO (or poppler) fails tests instead of skipping
  XLPERF_UNO_PYTHON         interpreter for uno_tool.py (default /usr/bin/python3)
  XLPERF_UNO_TIMEOUT        per-call timeout in seconds (default 180)
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

UNO_TOOL = Path(__file__).resolve().parent / "lo" / "uno_tool.py"
UNO_PYTHON = os.environ.get("XLPERF_UNO_PYTHON", "/usr/bin/python3")
DEFAULT_TIMEOUT = float(os.environ.get("XLPERF_UNO_TIMEOUT", "180"))


class SofficeError(RuntimeError):
    """A LibreOffice / poppler helper failed; the message carries its stderr/JSON error."""


# ----------------------------------------------------------------- availability

@functools.lru_cache(maxsize=None)
def _uno_importable() -> bool:
    if not Path(UNO_PYTHON).exists():
        return False
    try:
        r = subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def soffice_available() -> bool:
    """True when ``soffice`` is on PATH and the system python can ``import uno``."""
    return shutil.which("soffice") is not None and UNO_TOOL.is_file() and _uno_importable()


def poppler_available() -> bool:
    return shutil.which("pdftoppm") is not None and shutil.which("pdfinfo") is not None


def _missing(need_poppler: bool) -> list[str]:
    missing = []
    if shutil.which("soffice") is None:
        missing.append("soffice (libreoffice-calc-nogui)")
    if not _uno_importable():
        missing.append(f"{UNO_PYTHON} -c 'import uno' (python3-uno)")
    if need_poppler and not poppler_available():
        missing.append("pdftoppm/pdfinfo (poppler-utils)")
    return missing


def require_soffice(need_poppler: bool = False) -> None:
    """Skip the test when LibreOffice/UNO is missing, or FAIL it when
    ``XLPERF_REQUIRE_SOFFICE=1`` (CI sets it so a broken install cannot pass as skips)."""
    missing = _missing(need_poppler)
    if not missing:
        return
    msg = "LibreOffice harness unavailable, missing: " + ", ".join(missing) + \
        " (run: bash .ci/install_soffice.sh)"
    if os.environ.get("XLPERF_REQUIRE_SOFFICE") == "1":
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


# ------------------------------------------------------------------- uno_tool

def _run_uno_tool(*args: str, timeout: float | None = None) -> dict:
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    cmd = [UNO_PYTHON, str(UNO_TOOL), "--timeout", str(max(timeout - 10, 10)), *args]
    env = dict(os.environ)
    # the system python must not pick up the venv's site-packages
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(var, None)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise SofficeError(f"uno_tool {args[0]} timed out after {timeout}s; "
                           f"stderr: {(exc.stderr or '')!s}") from exc
    doc = None
    out = r.stdout.strip()
    if out:
        try:
            doc = json.loads(out.splitlines()[-1])
        except json.JSONDecodeError:
            doc = None
    if r.returncode != 0 or not isinstance(doc, dict) or not doc.get("ok"):
        err = doc.get("error") if isinstance(doc, dict) else None
        raise SofficeError(
            f"uno_tool {' '.join(args)} failed (exit {r.returncode}): {err or out}\n"
            f"--- stderr ---\n{r.stderr.strip()}")
    return doc


def uno_inspect(path: str | os.PathLike, timeout: float | None = None) -> dict:
    """Open *path* in LibreOffice and describe it (see uno_tool.py ``inspect``)."""
    return _run_uno_tool("inspect", str(Path(path).resolve()), timeout=timeout)


def uno_fill(src: str | os.PathLike, out: str | os.PathLike, values: dict,
             timeout: float | None = None) -> dict:
    """Type *values* ``{"Sheet": {"B7": 25, ...}}`` into the UNLOCKED cells of a copy of
    *src* as a LibreOffice user would and save as xlsx to *out*.
    Returns ``{"ok", "out", "written", "refused", "refused_reasons", "timing"}``."""
    with tempfile.TemporaryDirectory(prefix="xlperf-fill-") as tmp:
        vpath = Path(tmp) / "values.json"
        vpath.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
        return _run_uno_tool("fill", str(Path(src).resolve()), str(Path(out).resolve()),
                             str(vpath), timeout=timeout)


def to_pdf(path: str | os.PathLike, outdir: str | os.PathLike,
           timeout: float | None = None, sheet: str | None = None) -> Path:
    """Export *path* to ``outdir/<stem>.pdf`` with LibreOffice's calc_pdf_Export
    (only the sheet named *sheet* when given: the others are hidden in a private copy)."""
    extra = ("--sheet", sheet) if sheet else ()
    doc = _run_uno_tool("convert", str(Path(path).resolve()), str(Path(outdir).resolve()),
                        "--to", "pdf", *extra, timeout=timeout)
    return Path(doc["path"])


# --------------------------------------------------------------------- poppler

def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise SofficeError(f"{cmd[0]} timed out after {timeout}s") from exc
    except FileNotFoundError as exc:
        raise SofficeError(f"{cmd[0]} not found (install poppler-utils)") from exc
    if r.returncode != 0:
        raise SofficeError(f"{' '.join(cmd)} failed (exit {r.returncode}): {r.stderr.strip()}")
    return r


def pdf_to_png(pdf: str | os.PathLike, out_png: str | os.PathLike, dpi: int = 110,
               timeout: float = 60) -> Path:
    """Render the FIRST page of *pdf* to *out_png* (pdftoppm -png -singlefile)."""
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    root = out_png.with_suffix("")  # pdftoppm appends .png itself
    _run(["pdftoppm", "-png", "-singlefile", "-r", str(dpi), str(pdf), str(root)], timeout)
    produced = root.with_suffix(".png")
    if produced != out_png:
        produced.replace(out_png)
    if not out_png.is_file():
        raise SofficeError(f"pdftoppm did not write {out_png}")
    return out_png


def pdf_page_count_and_sizes(pdf: str | os.PathLike, timeout: float = 30) -> dict:
    """``{"pages": N, "sizes": [(w_pt, h_pt), ...]}`` from ``pdfinfo`` (one size per page)."""
    r = _run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], timeout)
    pages = None
    sizes: list[tuple[float, float]] = []
    for line in r.stdout.splitlines():
        if line.startswith("Pages:"):
            pages = int(line.split(":", 1)[1])
        m = re.match(r"Page\s+\d+\s+size:\s+([\d.]+)\s+x\s+([\d.]+)\s+pts", line)
        if m:
            sizes.append((float(m.group(1)), float(m.group(2))))
    if pages is None:
        raise SofficeError(f"pdfinfo gave no page count for {pdf}: {r.stdout!r}")
    return {"pages": pages, "sizes": sizes}


def cells_of(rng: str) -> set[str]:
    """'E5:F5' -> {'E5', 'F5'}; 'B7' -> {'B7'}."""
    from xlperf.spec import make_ref, parse_ref

    a, _, b = rng.partition(":")
    (r1, c1), (r2, c2) = parse_ref(a), parse_ref(b or a)
    return {make_ref(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}


def sheet_of(doc: dict, name: str) -> dict:
    """One sheet of an ``uno_inspect`` document, by name."""
    by_name = {s["name"]: s for s in doc["sheets"]}
    assert name in by_name, list(by_name)
    return by_name[name]


def pdf_text(pdf: str | os.PathLike, page: int | None = None, timeout: float = 60) -> str:
    """The text of *pdf* (or of one page) with ``pdftotext -layout``."""
    rng = ["-f", str(page), "-l", str(page)] if page else []
    return _run(["pdftotext", "-layout", *rng, str(pdf), "-"], timeout).stdout
