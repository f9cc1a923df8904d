"""Publish a master as one disclosure document per unit; units with missing forms are withheld."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import atomic_path
from .master import KEY, NAME
from .messages import get_lang, ui
from .model import text
from .publish_doc import build_unit_document, redact_goals, value_display  # noqa: F401  (prefill imports them here)

REQUIRED_SHEETS = ("项目汇总", "绩效指标")
OPTIONAL_SHEETS = ("部门整体目标", "未报送", "概览")
TOTAL_ROW = "合计"  # the 概览 sheet's last row
_YEAR = re.compile(r"^(\d{4})$")
_TITLE_YEAR = re.compile(rb"<dc:title>(\d{4})\xe5\xb9\xb4")  # "YYYY年" in docProps/core.xml


class PublishError(Exception):
    """The master cannot be published: a UI message key and its parameters (the CLI exits 2)."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params

    def message(self, lang: str | None = None) -> str:
        return ui(self.key, lang or get_lang(), **self.params)

    def __str__(self) -> str:
        return self.message()


@dataclass
class Gap:
    """Something a unit's document needs and the master lacks: its unit-level form or one project."""
    kind: str  # "unit_form" | "project"
    code: str = ""
    name: str = ""
    state: str = ""  # the master's 情况: 未报送 | 已退回
    row: dict = field(default_factory=dict)

    def message(self, lang: str) -> str:
        if self.kind == "unit_form":
            return ui("publish_gap_unit_form", lang)
        state = self.state if lang == "zh" else {"未报送": "not returned", "已退回": "rejected"}.get(self.state, self.state)
        return ui("publish_gap_project", lang, code=self.code, name=self.name, state=state)


@dataclass
class UnitContent:
    code: str
    name: str
    projects: list = field(default_factory=list)  # 项目汇总 rows
    indicators: dict = field(default_factory=dict)  # project code -> 绩效指标 rows
    part1: list = field(default_factory=list)  # 部门整体目标 rows
    gaps: list = field(default_factory=list)  # Gap


@dataclass
class PublishResult:
    written: list = field(default_factory=list)  # paths
    withheld: list = field(default_factory=list)  # UnitContent not published (incomplete)
    marked: list = field(default_factory=list)  # UnitContent published with their gaps marked
    year: str = ""

    def __iter__(self):  # callers that only want the files: `for path in publish(...)`
        return iter(self.written)


# ------------------------------------------------------------------ reading ----
def read_master(path: Path) -> dict[str, list[dict]]:
    """Sheet name -> rows (header -> value); the optional sheets are [] when absent."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine has several error types; the message names the file
        raise PublishError("publish_unreadable", path=path, error=type(exc).__name__) from exc
    out = {}
    for name in (*REQUIRED_SHEETS, *OPTIONAL_SHEETS):
        if name not in wb.sheet_names:
            if name in OPTIONAL_SHEETS:
                out[name] = []
                continue
            raise PublishError("publish_no_sheet", path=path, sheet=name)
        try:
            rows = wb.get_sheet_by_name(name).to_python()
        except Exception as exc:
            raise PublishError("publish_unreadable", path=path, error=type(exc).__name__) from exc
        head = [str(h) for h in rows[0]] if rows else []
        out[name] = [dict(zip(head, r)) for r in rows[1:]]
    if any(KEY not in r for r in out["项目汇总"][:1]):
        raise PublishError("publish_no_sheet", path=path, sheet="项目汇总")
    return out


def master_year(path: Path, master: dict) -> str:
    """The round's year: the 项目汇总 年度 column, else the master's title ("2022年绩效目标汇总"); "" if none."""
    years = Counter(text(p.get("年度")) for p in master["项目汇总"])
    years = Counter({y: n for y, n in years.items() if _YEAR.match(y)})
    if years:
        return years.most_common(1)[0][0]
    try:
        with zipfile.ZipFile(path) as zf:
            with zf.open("docProps/core.xml") as fh:
                m = _TITLE_YEAR.search(fh.read(1 << 20))
    except (OSError, KeyError, zipfile.BadZipFile):
        return ""
    return m.group(1).decode() if m else ""


def units_of(master: dict) -> list[UnitContent]:
    """Every unit the master knows (概览 lists all registry units), with its content and its gaps."""
    units: dict[str, UnitContent] = {}

    def unit(code, name) -> UnitContent:
        code = text(code)
        u = units.setdefault(code, UnitContent(code, text(name)))
        if not u.name:
            u.name = text(name)
        return u

    for r in master["概览"]:
        if text(r.get("单位编码")) and text(r.get("单位编码")) != TOTAL_ROW:
            unit(r.get("单位编码"), r.get("单位名称"))
    for r in master["未报送"]:
        unit(r.get("单位编码"), r.get("单位名称")).gaps.append(
            Gap("project", text(r.get(KEY)), text(r.get(NAME)), text(r.get("情况")), r))
    for r in master["部门整体目标"]:
        unit(r.get("单位编码"), r.get("单位名称")).part1.append(r)
    by_code = {}
    for p in master["项目汇总"]:
        u = unit(p.get("单位编码"), p.get("单位名称"))
        u.projects.append(p)
        by_code[text(p.get(KEY))] = u
    for ind in master["绩效指标"]:
        u = by_code.get(text(ind.get(KEY)))
        if u is not None:
            u.indicators.setdefault(text(ind.get(KEY)), []).append(ind)
    for u in units.values():
        if not u.part1:
            u.gaps.insert(0, Gap("unit_form"))
    units.pop("", None)
    return [units[k] for k in sorted(units)]


# ------------------------------------------------------------------ writing ----
def document_name(unit: UnitContent, year: str) -> str:
    from .writer import safe_filename

    return safe_filename(f"{unit.code}_{unit.name}_{year}年部门预算绩效目标.docx")


def publish(master_path: Path, out: Path, pdf: bool = True, unit: str | None = None,
            allow_incomplete: bool = False, year: str | int | None = None) -> PublishResult:
    """One document per unit into the folder `out` (or into the file `out` when it ends in .docx and one
    unit is published). A unit with gaps is withheld unless allow_incomplete, which marks the gaps."""
    from .publish_round import master_spec, publish_round

    round_spec = master_spec(_sheet_names(master_path))
    if round_spec is not None:  # the master of a later round: the document its spec declares
        return publish_round(round_spec, master_path, out, pdf, unit, allow_incomplete, year)
    master = read_master(master_path)
    round_year = str(year) if year else master_year(master_path, master)
    if not round_year:
        raise PublishError("publish_no_year", path=master_path)
    units = units_of(master)
    return publish_units(units, master_path, out, round_year, unit, allow_incomplete, pdf,
                         name=lambda u: document_name(u, round_year),
                         write=lambda u, target: _write_document(u, round_year, target))


def publish_units(units: list, master_path: Path, out: Path, round_year: str, unit: str | None, allow_incomplete: bool,
                  pdf: bool, name, write) -> PublishResult:
    """The documents of the chosen units (every round): *name(u)* is a unit's file name in the folder *out*,
    *write(u, target)* writes its document. Incomplete units are withheld unless allow_incomplete."""
    if unit is not None:
        chosen = [u for u in units if u.code == unit.strip()]
        if not chosen:
            raise PublishError("publish_unknown_unit", unit=unit, units="、".join(u.code for u in units) or "-")
        units = chosen
    if not units:
        raise PublishError("publish_no_units", path=master_path)
    single = out.suffix.lower() == ".docx"
    if single and len(units) > 1:
        raise PublishError("publish_docx_many", path=out, count=len(units))
    if not single and out.exists() and not out.is_dir():
        raise PublishError("publish_not_folder", path=out)
    result = PublishResult(year=round_year)
    for u in units:
        if u.gaps and not allow_incomplete:
            result.withheld.append(u)
            continue
        if u.gaps:
            result.marked.append(u)
        target = out if single else out / name(u)
        write(u, target)
        result.written.append(target)
    if pdf and result.written and shutil.which("soffice"):
        pdfs = to_pdfs(list(result.written))  # one LibreOffice start for all units
        result.written = [p for d in result.written for p in (d, pdfs.get(d)) if p]
    return result


def _sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:  # read_master reports the unreadable file with its message
        return []


def _write_document(u: UnitContent, year: str, target: Path) -> None:
    doc = build_unit_document(u, year)
    _fixed_core(doc, f"{u.name}{year}年部门预算绩效目标")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        doc.save(str(tmp))
        normalise_zip(tmp)


def _fixed_core(doc, title: str):
    import datetime as dt

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch and epoch.isdigit() else None
    cp = doc.core_properties
    cp.author = "xlperf"
    cp.title = title
    if when:
        cp.created = when
        cp.modified = when
        cp.last_modified_by = "xlperf"
        cp.revision = 1


def normalise_zip(path: Path) -> None:
    """Fixed entry timestamps so SOURCE_DATE_EPOCH gives byte-identical documents."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not (epoch and epoch.isdigit()):
        return
    import time

    stamp = time.gmtime(max(int(epoch), 315532800))[:6]
    tmp = path.with_name(path.name + ".norm")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            zi = zipfile.ZipInfo(info.filename, stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, src.read(info.filename))
    os.replace(tmp, path)


def to_pdf(docx_path: Path, timeout: int = 180) -> Path | None:
    """PDF through LibreOffice headless with a private profile; None when conversion fails."""
    return to_pdfs([docx_path], timeout).get(docx_path)


def to_pdfs(docs: list[Path], timeout: int = 180) -> dict[Path, Path]:
    """Each document's PDF beside it, in one LibreOffice run per folder; a failed one is left out."""
    by_dir: dict[Path, list[Path]] = {}
    for d in docs:
        d.with_suffix(".pdf").unlink(missing_ok=True)  # a stale PDF of an earlier run is no success
        by_dir.setdefault(d.parent, []).append(d)
    for folder, group in by_dir.items():
        with tempfile.TemporaryDirectory(prefix="xlperf-lo-") as prof:
            cmd = ["soffice", f"-env:UserInstallation=file://{prof}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(folder), *map(str, group)]
            try:
                subprocess.run(cmd, capture_output=True, timeout=timeout + 30 * len(group), check=False)
            except (OSError, subprocess.TimeoutExpired):
                continue
    return {d: d.with_suffix(".pdf") for d in docs if d.with_suffix(".pdf").exists()}
