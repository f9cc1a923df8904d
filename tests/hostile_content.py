"""Generator of content-level hostile and messy returns, made from real generated templates.

``build_content_corpus(out_dir)`` generates two templates from the bundled registry
(``xlperf.writer.generate``), fills the first one with its seed content (``xlperf.fill``) the way a
sub-unit does, and derives one file per case from that real return: huge cells, rows pasted below
the form, a cell far away, renamed and deleted sheets, inserted rows, unmerged cells, formulas,
copies, an Excel lock file, a very long file name in a sub-folder and a broken symbolic link.

It returns the cases with the status and issue code ``xlperf validate`` must give each file
(``CONTENT_EXPECTED``). The blank template of the second project is returned too: it is a good
``template`` for ``tests.hostile.build_corpus`` (zip-level cases made from a real workbook).
"""
from __future__ import annotations

import base64
import os
import random
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

# name -> (expected code, expected status).  The code must be among the file's issues.
CONTENT_EXPECTED: dict[str, tuple[str | None, str]] = {
    "valid": (None, "accepted"),  # the control: a correctly filled return
    "duplicate_copy": ("W207", "skipped"),  # identical copy, older: skipped, names the kept file
    "long_file_name": ("W207", "skipped"),  # another identical copy, ≥ 240-byte name in a sub-folder
    "excel_lock": ("F001", "skipped"),  # ~$… owner file Excel leaves beside an open workbook
    "broken_symlink": ("F002", "rejected"),  # link in a sub-folder pointing nowhere
    "long_text_at_excel_limit": ("E113", "rejected"),  # 32,767 characters pasted into 资金用途 (max 500)
    "huge_cell": ("E009", "rejected"),  # 10 MB of (incompressible) text in 资金用途: a crafted file
    "huge_cell_repetitive": ("F010", "rejected"),  # 10 MB of one repeated sentence: ratio over the limit
    "rows_100k": ("F018", "rejected"),  # 100,000 rows pasted below the form
    "far_cell": ("F018", "rejected"),  # one value in XFD1048576, honest <dimension>
    "far_cell_no_dimension": ("F017", "rejected"),  # same without <dimension>: calamine aborts
    "form_sheet_renamed": ("E004", "rejected"),
    "meta_sheet_deleted": ("E002", "rejected"),
    "rows_inserted": ("E005", "rejected"),  # a row inserted inside the indicator table
    "cells_unmerged": ("E008", "rejected"),  # the 产出指标 merge of the indicator table split
    "formula_div0": ("E116", "rejected"),  # =1/0 in 3月底
    "formula_external_link": ("E116", "rejected"),  # =[1]Sheet1!A1 in 资金用途
}

# where each case's issue points (sheet, cell), when it has one
CONTENT_CELL: dict[str, tuple[str, str]] = {
    "huge_cell": ("项目绩效目标表", "E5"),
    "long_text_at_excel_limit": ("项目绩效目标表", "E5"),
    "formula_div0": ("项目绩效目标表", "B7"),
    "formula_external_link": ("项目绩效目标表", "E5"),
    "cells_unmerged": ("项目绩效目标表", "A10"),
}

SUBFOLDER = "转发的邮件附件"
_MB = 10 * 2**20


@dataclass(frozen=True)
class ContentCase:
    name: str
    path: Path
    expected_code: str | None
    expected_status: str


@dataclass(frozen=True)
class ContentCorpus:
    cases: list[ContentCase]
    blank_template: Path  # a generated, unfilled template of another project (outside out_dir)
    work_dir: Path


def _long_name(base: str) -> str:
    """A mail-client style name of 240-255 UTF-8 bytes: 回复：转发：…{base}(最终版)(1).xlsx."""
    stem = base[:-5] if base.endswith(".xlsx") else base
    name = "回复：转发：" + stem + "(最终版)"
    while len((name + "(修改稿)" + "(1).xlsx").encode("utf-8")) <= 250:
        name += "(修改稿)"
    name += "(1).xlsx"
    n = len(name.encode("utf-8"))
    assert 240 <= n <= 255, n
    return name


def _rewrite(src: Path, dst: Path, part: str, fn) -> Path:
    """Copy the zip *src* to *dst* with the member *part* replaced by fn(old bytes)."""
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            data = zi.read(info)
            if info.filename == part:
                data = fn(data)
            zo.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return dst


def _set_cell(xml: bytes, ref: str, text: bytes) -> bytes:
    """Replace cell *ref* of a sheet XML by an inline string (*text* must be XML-safe), keeping its style."""
    pat = re.compile(rb'<c r="' + ref.encode() + rb'"([^>]*?)(?:/>|>.*?</c>)', re.S)
    m = pat.search(xml)
    assert m, f"cell {ref} not found"
    style = re.search(rb'\bs="\d+"', m.group(1))
    cell = b'<c r="' + ref.encode() + b'" ' + (style.group(0) + b" " if style else b"") + b't="inlineStr"><is><t>' \
        + text + b"</t></is></c>"
    return xml[:m.start()] + cell + xml[m.end():]


def _edit(src: Path, dst: Path, fn) -> Path:
    """Open *src* with openpyxl (as a user's Excel would), apply fn(workbook), save to *dst*."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dst)
    return dst


def build_content_corpus(out_dir: Path, registry_path: Path | None = None, work_dir: Path | None = None,
                         seed: int = 20240301) -> ContentCorpus:
    from xlperf.fill import fill_project, load_projects
    from xlperf.reader import _sheet_xml_path
    from xlperf.registry import bundled_registry_path, load_registry
    from xlperf.spec import load_spec
    from xlperf.writer import generate

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="xlperf-content-"))
    work.mkdir(parents=True, exist_ok=True)
    spec = load_spec()
    reg = load_registry(registry_path or bundled_registry_path())
    row_a, row_b = reg.rows[0], reg.rows[1]
    tpl_a, tpl_b = generate(spec, [row_a, row_b], work / "templates", password="pw")
    base = work / "filled.xlsx"
    refused = fill_project(tpl_a, base, load_projects()[row_a["项目编码"]], spec)
    assert not refused, refused
    with zipfile.ZipFile(base) as zf:
        form_part = _sheet_xml_path(zf, spec.sheet)
    assert form_part, "form sheet not found in the filled return"
    rng = random.Random(seed)
    paths: dict[str, Path] = {}
    sub = out / SUBFOLDER
    sub.mkdir(exist_ok=True)

    # the control and its copies (identical bytes; mtimes decide which one is kept)
    now = time.time()
    paths["valid"] = out / tpl_a.name
    shutil.copyfile(base, paths["valid"])
    paths["duplicate_copy"] = out / f"副本_{tpl_a.name}"
    shutil.copyfile(base, paths["duplicate_copy"])
    paths["long_file_name"] = sub / _long_name(tpl_a.name)
    shutil.copyfile(base, paths["long_file_name"])
    for name, age in (("valid", 0), ("duplicate_copy", 60), ("long_file_name", 120)):
        os.utime(paths[name], (now - age, now - age))

    # Excel's owner file: 1 byte name length, the user name (UTF-16, padded), as Excel writes it
    lock = out / f"~${tpl_a.name}"
    user = "张三财务科"
    lock.write_bytes(bytes([len(user)]) + (user + " " * (54 - len(user))).encode("utf-16-le") + b"\x00" * 54)
    paths["excel_lock"] = lock

    link = sub / "已删除的报表.xlsx"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(work / "gone" / "已删除的报表.xlsx", link)
    paths["broken_symlink"] = link

    # Text pasted into 资金用途: Excel and openpyxl cut a cell at 32,767 characters, so that is the
    # longest a user can send; 10 MB in one cell only comes from a crafted file (sheet XML edited):
    # random text (does not compress, passes the zip checks, exceeds Excel's cell limit) and one
    # sentence repeated (compresses ~1000:1, so the zip check calls it a bomb).
    sentence = "用于党史资料印刷、宣传册制作及相关会议组织的各项支出。"
    at_limit = (sentence * (32_767 // len(sentence) + 1))[:32_767]
    paths["long_text_at_excel_limit"] = _edit(base, out / "资金用途超长.xlsx",
                                              lambda wb: wb[spec.sheet].__setitem__("E5", at_limit))
    noise = base64.b64encode(rng.randbytes(_MB * 3 // 4))
    paths["huge_cell"] = _rewrite(base, out / "超长单元格.xlsx", form_part, lambda x: _set_cell(x, "E5", noise))
    repeated = (sentence * (_MB // len(sentence.encode("utf-8")) + 1)).encode("utf-8")
    paths["huge_cell_repetitive"] = _rewrite(base, out / "超长重复内容.xlsx", form_part,
                                             lambda x: _set_cell(x, "E5", repeated))

    # rows pasted below the form, a value far away: sheet XML edited like Excel would save it
    def add_rows(xml: bytes) -> bytes:
        last = 100 + 100_000
        rows = b"".join(b'<row r="%d"><c r="A%d" t="n"><v>%d</v></c><c r="B%d" t="inlineStr"><is><t>x%d</t></is></c></row>'
                        % (r, r, r, r, rng.randrange(10**6)) for r in range(101, last + 1))
        xml = xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:F%d"' % last, xml, count=1)

    paths["rows_100k"] = _rewrite(base, out / "下方粘贴十万行.xlsx", form_part, add_rows)
    far = b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'
    paths["far_cell"] = _rewrite(
        base, out / "远处单元格.xlsx", form_part,
        lambda x: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"',
                         x.replace(b"</sheetData>", far, 1), count=1))
    paths["far_cell_no_dimension"] = _rewrite(
        base, out / "远处单元格_无范围.xlsx", form_part,
        lambda x: re.sub(rb"<dimension [^>]*/>", b"", x.replace(b"</sheetData>", far, 1), count=1))

    # structural edits a user makes in Excel (protection removed first: it is not security)
    def rename(wb):
        wb[spec.sheet].title = "Sheet1"

    def drop_meta(wb):
        del wb[spec.meta_sheet]

    def insert_row(wb):
        wb[spec.sheet].insert_rows(spec.first_row + 2)

    def unmerge(wb):
        wb[spec.sheet].unmerge_cells(f"{spec.level1_col}{spec.first_row}:{spec.level1_col}{spec.first_row + 11}")

    paths["form_sheet_renamed"] = _edit(base, out / "工作表改名.xlsx", rename)
    paths["meta_sheet_deleted"] = _edit(base, out / "删除隐藏表.xlsx", drop_meta)
    paths["rows_inserted"] = _edit(base, out / "插入行.xlsx", insert_row)
    paths["cells_unmerged"] = _edit(base, out / "拆分合并单元格.xlsx", unmerge)
    paths["formula_div0"] = _edit(base, out / "公式除零.xlsx", lambda wb: wb[spec.sheet].__setitem__("B7", "=1/0"))
    paths["formula_external_link"] = _edit(base, out / "外部链接公式.xlsx",
                                           lambda wb: wb[spec.sheet].__setitem__("E5", "=[1]Sheet1!A1"))

    missing = set(CONTENT_EXPECTED) - set(paths)
    assert not missing, f"cases not built: {sorted(missing)}"
    cases = [ContentCase(n, paths[n], *CONTENT_EXPECTED[n]) for n in CONTENT_EXPECTED]
    return ContentCorpus(cases, tpl_b, work)


# --------------------------------------------------------------------------- misbehaving readers
# For xlperf.workers.read_isolated(reader=...): module-level (workers import them by name) and
# cheap to import. Each misbehaves only for files whose name starts with its trigger word.


def crashing_reader(path, limits=None):
    """os.abort() (SIGABRT, like a native panic) on 'crash*' files; read_file otherwise."""
    from xlperf.reader import read_file

    if Path(path).name.startswith("crash"):
        os.abort()
    return read_file(path, limits=limits)


def hanging_reader(path, limits=None):
    """Sleeps for an hour on 'hang*' files (an endless loop in the parser)."""
    from xlperf.reader import read_file

    if Path(path).name.startswith("hang"):
        time.sleep(3600)
    return read_file(path, limits=limits)


def greedy_reader(path, limits=None):
    """Allocates without bound on 'oom*' files until the worker's memory limit stops it."""
    from xlperf.reader import read_file

    if Path(path).name.startswith("oom"):
        hoard = []
        while True:
            hoard.append(bytearray(64 * 2**20))
    return read_file(path, limits=limits)


def misbehaving_reader(path, limits=None):
    """All three at once: crash*, hang*, oom* files."""
    name = Path(path).name
    if name.startswith("crash"):
        return crashing_reader(path, limits)
    if name.startswith("hang"):
        return hanging_reader(path, limits)
    return greedy_reader(path, limits)


if __name__ == "__main__":  # pragma: no cover - manual use: python tests/hostile_content.py OUT_DIR
    import sys

    t0 = time.perf_counter()
    corpus = build_content_corpus(Path(sys.argv[1]))
    for c in corpus.cases:
        print(f"{c.expected_code or '-':5} {c.expected_status:9} {c.path}")
    print(f"{len(corpus.cases)} cases in {time.perf_counter() - t0:.2f}s (blank template {corpus.blank_template})")
