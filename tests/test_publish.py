"""publish: one document per unit, incomplete units withheld or marked, the year, the 公文 style, the render;
and the master's year and print setup."""
from __future__ import annotations

import csv
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from docx.table import _Cell

from conftest import run_cli
from soffice import pdf_page_count_and_sizes, require_soffice, to_pdf
from xlperf.fill import fill_project, fill_workbook, input_cells, load_projects, load_unit
from xlperf.master import write_master
from xlperf.pipeline import run
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.rules import Options
from xlperf.spec import UNIT_FORM, load_spec
from xlperf.writer import generate, unit_rows

YEAR = "2022"
UNIT_B = ("201002", "北戴河区测试局")
MOVED = 5  # the last five bundled projects belong to unit B
CODE = re.compile(r"13030421[0-9A-Z]{13}")


# ------------------------------------------------------------------ the round --
def _set_year(path: Path, year: str) -> None:
    """The round's year in a return's metadata, as `generate --year` writes it."""
    wb = openpyxl.load_workbook(path)
    meta = next(ws for ws in wb.worksheets if ws.sheet_state == "veryHidden" and ws["A1"].value == "form_id")
    for row in meta.iter_rows():
        if row[0].value == "year":
            row[1].value = year
    wb.save(path)


def _master(tmp: Path, name: str, returns: list[Path], registry) -> Path:
    inbox = tmp / f"inbox_{name}"
    inbox.mkdir()
    for p in returns:
        (inbox / p.name).write_bytes(p.read_bytes())
    report = run([inbox], registry, Options(duplicates="latest"))
    assert report.count("rejected") == 0, [f.to_json() for f in report.files if f.status != "accepted"]
    out = tmp / f"{name}.xlsx"
    write_master(out, report, registry)
    return out


@pytest.fixture(scope="module")
def round2(tmp_path_factory) -> dict:
    """A two-unit 2022 round: generate → fill → consolidate, complete and with gaps."""
    tmp = tmp_path_factory.mktemp("round2")
    rows = list(csv.DictReader(bundled_registry_path().open(encoding="utf-8-sig")))
    for r in rows[-MOVED:]:
        r["单位编码"], r["单位名称"] = UNIT_B
    reg_path = tmp / "registry.csv"
    with reg_path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    registry = load_registry(reg_path)
    spec, unit_spec = load_spec(), load_spec(UNIT_FORM)
    templates = generate(spec, registry.rows, tmp / "templates", password="pw")
    unit_templates = generate(unit_spec, unit_rows(registry.rows), tmp / "templates", password="pw")
    projects, unit = load_projects(), load_unit()
    returns: dict[str, Path] = {}
    for row, tpl in zip(registry.rows, templates):
        fill_project(tpl, tmp / "returns" / tpl.name, projects[row["项目编码"]], spec)
        returns[row["项目编码"]] = tmp / "returns" / tpl.name
    for row, tpl in zip(unit_rows(registry.rows), unit_templates):
        fill_workbook(tpl, tmp / "returns" / tpl.name, input_cells(unit_spec, unit), unit_spec.sheet)
        returns["unit:" + row["单位编码"]] = tmp / "returns" / tpl.name
    for p in returns.values():
        _set_year(p, YEAR)
    codes_a = [r["项目编码"] for r in registry.rows if r["单位编码"] != UNIT_B[0]]
    codes_b = [r["项目编码"] for r in registry.rows if r["单位编码"] == UNIT_B[0]]
    unit_a = (registry.rows[0]["单位编码"], registry.rows[0]["单位名称"])
    everything = list(returns.values())
    dropped = codes_b[1]
    return {
        "tmp": tmp, "registry": reg_path, "codes_a": codes_a, "codes_b": codes_b, "unit_a": unit_a,
        "dropped": dropped,
        "full": _master(tmp, "full", everything, registry),
        "project_gap": _master(tmp, "project_gap", [p for k, p in returns.items() if k != dropped], registry),
        "unit_form_gap": _master(tmp, "unit_form_gap",
                                 [p for k, p in returns.items() if k != "unit:" + unit_a[0]], registry),
    }


def _doc_name(unit: tuple[str, str]) -> str:
    return f"{unit[0]}_{unit[1]}_{YEAR}年部门预算绩效目标.docx"


def _tables(path: Path) -> list[list[list[str]]]:
    """Each table as rows of its physical cells (a merged cell once, a merged-down cell empty below)."""
    d = docx.Document(str(path))
    return [[[_Cell(tc, t).text for tc in row._tr.tc_lst] for row in t.rows] for t in d.tables]


def _paras(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def _codes_in(path: Path) -> list[str]:
    return [t[1][1] for t in _tables(path)]


# ------------------------------------------------------------------ per unit ---
def test_one_document_per_unit_with_its_own_projects(round2, tmp_path):
    out = tmp_path / "docs"
    proc = run_cli("publish", round2["full"], "-o", out, "--no-pdf", env={"XLPERF_YEAR": "1999"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    a, b = out / _doc_name(round2["unit_a"]), out / _doc_name(UNIT_B)
    assert sorted(p.name for p in out.iterdir()) == sorted([a.name, b.name])
    for path, (code, name), codes in ((a, round2["unit_a"], round2["codes_a"]), (b, UNIT_B, round2["codes_b"])):
        paras = _paras(path)
        assert paras[0] == f"{name}{YEAR}年部门预算绩效目标"  # XLPERF_YEAR no longer counts
        assert _codes_in(path) == sorted(codes)
        assert all(t[0][0] == f"{code}{name}" for t in _tables(path))
        assert docx.Document(str(path)).core_properties.title == paras[0]
        assert not any("2021年部门预算绩效目标" in p for p in paras)
    assert f"{YEAR} 年：已生成 2 个单位的公开文本，未生成 0 个" in proc.stdout


def test_missing_project_withholds_only_that_unit(round2, tmp_path):
    out = tmp_path / "docs"
    proc = run_cli("publish", round2["project_gap"], "-o", out, "--no-pdf")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [p.name for p in out.iterdir()] == [_doc_name(round2["unit_a"])]
    assert f"未生成 {UNIT_B[0]} {UNIT_B[1]} 的公开文本" in proc.stderr
    assert round2["dropped"] in proc.stderr and "未报送" in proc.stderr
    assert "Traceback" not in proc.stderr
    en = run_cli("--lang", "en", "publish", round2["project_gap"], "-o", tmp_path / "en", "--no-pdf")
    assert en.returncode == 1
    assert f"not published: {UNIT_B[0]}" in en.stderr and f"{round2['dropped']}" in en.stderr
    assert "not returned" in en.stderr and "未生成" not in en.stderr


def test_allow_incomplete_marks_the_missing_project(round2, tmp_path):
    out = tmp_path / "docs"
    proc = run_cli("publish", round2["project_gap"], "-o", out, "--no-pdf", "--allow-incomplete")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"提示：{UNIT_B[0]} {UNIT_B[1]}" in proc.stdout and round2["dropped"] in proc.stdout
    doc_b = out / _doc_name(UNIT_B)
    tables = _tables(doc_b)
    assert _codes_in(doc_b) == sorted(round2["codes_b"])  # the gap keeps its place and its code
    gap = next(t for t in tables if t[1][1] == round2["dropped"])
    assert gap[2] == ["（未报送）"]
    assert any("其中 1 个项目未报送" in p for p in _paras(doc_b))


def test_missing_unit_form_is_named_and_marked(round2, tmp_path):
    proc = run_cli("publish", round2["unit_form_gap"], "-o", tmp_path / "a", "--no-pdf")
    assert proc.returncode == 1
    assert f"未生成 {round2['unit_a'][0]}" in proc.stderr and "部门整体绩效目标" in proc.stderr
    assert [p.name for p in (tmp_path / "a").iterdir()] == [_doc_name(UNIT_B)]
    proc = run_cli("publish", round2["unit_form_gap"], "-o", tmp_path / "b", "--no-pdf", "--allow-incomplete")
    assert proc.returncode == 0, proc.stderr
    paras = _paras(tmp_path / "b" / _doc_name(round2["unit_a"]))
    part1 = paras.index("第一部分 部门整体绩效目标")
    assert paras[part1 + 1] == "（未报送）" and paras[part1 + 2] == "第二部分 预算项目绩效目标"


def test_unit_option_and_single_file(round2, tmp_path):
    proc = run_cli("publish", round2["full"], "-o", tmp_path / "one", "--unit", UNIT_B[0], "--no-pdf")
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in (tmp_path / "one").iterdir()] == [_doc_name(UNIT_B)]
    bad = run_cli("publish", round2["full"], "-o", tmp_path / "x", "--unit", "999999", "--no-pdf")
    assert bad.returncode == 2 and "999999" in bad.stderr and UNIT_B[0] in bad.stderr
    assert not (tmp_path / "x").exists()
    many = run_cli("publish", round2["full"], "-o", tmp_path / "all.docx", "--no-pdf")
    assert many.returncode == 2 and "--unit" in many.stderr and not (tmp_path / "all.docx").exists()
    single = run_cli("publish", round2["full"], "-o", tmp_path / "b.docx", "--unit", UNIT_B[0], "--no-pdf")
    assert single.returncode == 0, single.stderr
    assert _codes_in(tmp_path / "b.docx") == sorted(round2["codes_b"])


def test_master_without_a_year_needs_year_option(round2, tmp_path):
    old = tmp_path / "old.xlsx"
    wb = openpyxl.load_workbook(round2["full"])
    ws = wb["项目汇总"]
    head = [c.value for c in ws[1]]
    ws.delete_cols(head.index("年度") + 1)
    wb.properties.title = "绩效目标汇总"
    wb.save(old)
    proc = run_cli("publish", old, "-o", tmp_path / "d", "--no-pdf")
    assert proc.returncode == 2 and "--year" in proc.stderr
    proc = run_cli("publish", old, "-o", tmp_path / "d", "--no-pdf", "--year", "2023", "--unit", UNIT_B[0])
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "d" / f"{UNIT_B[0]}_{UNIT_B[1]}_2023年部门预算绩效目标.docx").exists()


def test_unreadable_master_is_a_usage_error(tmp_path):
    fake = tmp_path / "master.xlsx"
    fake.write_bytes(b"not a workbook")
    proc = run_cli("publish", fake, "-o", tmp_path / "d", "--no-pdf")
    assert proc.returncode == 2 and str(fake) in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ style ------
def _rfonts(style) -> dict:
    fonts = style.element.rPr.rFonts
    return {k.split("}")[1]: v for k, v in fonts.attrib.items()}


def test_document_style_is_a4_gongwen(round2, tmp_path):
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    run_cli("publish", round2["full"], "-o", tmp_path, "--no-pdf", "--unit", UNIT_B[0])
    d = docx.Document(str(tmp_path / _doc_name(UNIT_B)))
    sec = d.sections[0]
    assert sec.orientation == WD_ORIENT.PORTRAIT
    assert abs(sec.page_width - Cm(21)) < Cm(0.05) and abs(sec.page_height - Cm(29.7)) < Cm(0.05)
    for side, cm in (("top", 3.7), ("bottom", 3.5), ("left", 2.8), ("right", 2.6)):
        assert abs(getattr(sec, f"{side}_margin") - Cm(cm)) < Cm(0.05), side
    want = {"Normal": ("仿宋", 16), "Heading 1": ("黑体", 16), "Heading 2": ("楷体", 16), "Title": ("宋体", 22),
            "xlperf 表格文字": ("仿宋", 10.5)}
    for name, (east_asia, size) in want.items():
        st = d.styles[name]
        fonts = _rfonts(st)
        assert fonts.get("eastAsia") == east_asia, (name, fonts)
        assert not any(k.endswith("Theme") or k == "cstheme" for k in fonts), (name, fonts)  # no theme fonts
        assert st.font.size == Pt(size), name
        color = st.element.rPr.find(qn("w:color"))
        assert color is not None and color.get(qn("w:val")) == "000000" and color.get(qn("w:themeColor")) is None
    assert d.styles["Title"].font.bold and d.styles["Title"].paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert d.paragraphs[0].style.name == "Title"
    styles = {p.style.name for t in d.tables for row in t.rows for c in row.cells for p in c.paragraphs}
    assert styles == {"xlperf 表格文字"}
    # the project code has a cell spanning 7 cm or more: 21 characters at 10.5 pt fit on one line
    code_cell = d.tables[0].rows[1]._tr.tc_lst[1]
    assert code_cell.grid_span == 3 and code_cell.width >= Cm(7)


# ------------------------------------------------------------------ render -----
def test_rendered_pdf_is_a4_with_every_code_on_one_line(round2, tmp_path):
    require_soffice(need_poppler=True)
    proc = run_cli("publish", round2["full"], "-o", tmp_path, "--pdf")
    assert proc.returncode == 0, proc.stderr
    for unit, codes in ((round2["unit_a"], round2["codes_a"]), (UNIT_B, round2["codes_b"])):
        pdf = tmp_path / _doc_name(unit).replace(".docx", ".pdf")
        assert pdf.exists() and f"已生成 {pdf}" in proc.stdout, proc.stdout
        info = pdf_page_count_and_sizes(pdf)
        assert info["pages"] >= len(codes) + 1  # each 绩效目标表 starts a page
        assert all(abs(w - 595.3) < 1 and abs(h - 841.9) < 1 for w, h in info["sizes"])  # A4 portrait
        layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert sorted(CODE.findall(layout)) == sorted(codes)  # each once, never broken
        assert layout.lstrip().startswith(unit[1][:6])


def test_master_carries_the_year_and_print_setup(round2):
    wb = openpyxl.load_workbook(round2["full"])
    ws = wb["项目汇总"]
    head = [c.value for c in ws[1]]
    # 年度 was the last column; 来源汇总表 (collection up a unit tree) was added after it, never before
    assert head[-2:] == ["年度", "来源汇总表"]
    assert {ws.cell(r, len(head) - 1).value for r in range(2, ws.max_row + 1)} == {YEAR}
    assert wb.properties.title == f"{YEAR}年绩效目标汇总"
    with zipfile.ZipFile(round2["full"]) as zf:
        book = zf.read("xl/workbook.xml").decode()
        names = re.findall(r'<definedName name="_xlnm.Print_Titles" localSheetId="(\d+)"', book)
        shown = [n for n in wb.sheetnames if wb[n].sheet_state == "visible"]  # not the hidden metadata, last
        assert sorted(map(int, names)) == list(range(len(shown))) and wb.sheetnames[:len(shown)] == shown
        for i, name in enumerate(shown, start=1):
            xml = zf.read(f"xl/worksheets/sheet{i}.xml").decode()
            setup = re.search(r"<pageSetup [^>]*>", xml).group(0)
            assert 'paperSize="9"' in setup and 'orientation="landscape"' in setup, (name, setup)
            assert 'fitToHeight="0"' in setup and '<pageSetUpPr fitToPage="1"/>' in xml, name
            assert "&amp;P" in xml and f"{YEAR}年" in xml, name  # page numbers, the year in the header


def test_master_prints_on_few_a4_pages(round2, tmp_path):
    require_soffice(need_poppler=True)
    pdf = to_pdf(round2["full"], tmp_path)
    info = pdf_page_count_and_sizes(pdf)
    assert all(abs(w - 841.9) < 1 and abs(h - 595.3) < 1 for w, h in info["sizes"]), info["sizes"]  # A4 landscape
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) == info["pages"] <= 12, info
    heads = [p.strip().splitlines()[0].split() for p in pages]  # the page header: title … sheet name
    assert all(h[0] == f"{YEAR}年绩效目标汇总" for h in heads), heads
    indicator_pages = [p for p, h in zip(pages, heads) if h[-1] == "绩效指标"]
    assert 1 <= len(indicator_pages) <= 5, len(indicator_pages)  # was 44 pages
    assert all("绩效指标描述" in p for p in indicator_pages)  # the header row repeats on every page
    assert all(re.search(r"第 \d+ 页，共 \d+ 页", p) for p in pages)


# ------------------------------------------------------------------ the demo ---
def _rows(table: list) -> list:
    return table[8:]


def test_publish_rebuilds_the_seed_document(demo_dir):
    doc = demo_dir / "绩效目标公开文本.docx"
    paras, tables = _paras(doc), _tables(doc)
    seed = list(load_projects().values())
    titles = [p for p in paras if p.endswith("绩效目标表")]
    assert titles == [f"{i}.{p['项目名称']}绩效目标表" for i, p in enumerate(seed, start=1)]
    assert any("226.42" in p for p in paras)
    assert len(tables) == 15
    for project, table in zip(seed, tables):
        body = _rows(table)
        assert len(body) == 9
        for want, row in zip(project["indicators"], body):
            assert row[4] == want["指标值"]
            # 涉密 exactly where the seed shows it (the seed text is what projects.json holds)
            assert row[2] == want["三级指标"] and row[3] == want["绩效指标描述"]
            assert row[5] == want["指标值确定依据"]
        goals = table[6][1]
        if project["涉密"]:
            assert re.fullmatch(r"(\d\.涉密\n?)+", goals) and goals == project["绩效目标"]
        else:
            assert goals == project["绩效目标"].strip()
        assert table[1][:2] == ["项目编码", project["项目编码"]]
    unit = load_unit()
    assert "第一部分 部门整体绩效目标" in paras
    assert unit["总体绩效目标"].splitlines()[0] in paras
    assert all(any(item["标题"] in p for p in paras) for item in unit["工作保障措施"])


def test_secret_counts_match_the_seed(demo_dir):
    tables = _tables(demo_dir / "绩效目标公开文本.docx")
    published = sum(cell == "涉密" for t in tables for row in _rows(t) for cell in row)
    seed = sum(v == "涉密" for p in load_projects().values() for i in p["indicators"]
               for v in (i["三级指标"], i["绩效指标描述"], i["指标值确定依据"]))
    assert published == seed == 7 * 18 + 2 * 9


def test_amounts_label_and_value_in_separate_cells(demo_dir):
    tables = _tables(demo_dir / "绩效目标公开文本.docx")
    seed = list(load_projects().values())
    assert [t[2][1:] for t in tables[:1]] == [["预算数", "2.70", "其中：财政资金", "2.70", "其他资金", "0"]]
    assert [t[1][1] for t in tables] == [p["项目编码"] for p in seed]
