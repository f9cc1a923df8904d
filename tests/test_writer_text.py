"""Text that looks like xlsxwriter's own rich-string XML is written as text, never as XML."""
from __future__ import annotations

import zipfile

from python_calamine import CalamineWorkbook

from conftest import run_cli
from xlperf.registry import load_registry

INJECTED = "<r><t>a</t></r><r><rPr><b/></rPr><t>b</t></r>"


def test_a_registry_text_shaped_like_rich_string_xml_stays_text(registry_path, tmp_path):
    rows = registry_path.read_text(encoding="utf-8").splitlines()
    head, first = rows[0], rows[1].split(",")
    first[3] = INJECTED  # 项目名称
    reg = tmp_path / "registry.csv"
    reg.write_text("\n".join([head, ",".join(first)]) + "\n", encoding="utf-8")
    for env in ({}, {"XLPERF_NO_TEMPLATE_PATCH": "1"}):  # the patched templates and xlsxwriter's
        out = tmp_path / ("patched" if not env else "plain")
        proc = run_cli("generate", reg, "-o", out, "--password", "pw", env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        [template] = [p for p in out.rglob("*.xlsx") if "部门整体" not in p.name and p.name.startswith(first[2])]
        shared = zipfile.ZipFile(template).read("xl/sharedStrings.xml").decode("utf-8")
        assert "<t>a</t></r><r><rPr><b/>" not in shared  # never copied as markup
        grid = CalamineWorkbook.from_path(str(template)).get_sheet_by_name("项目绩效目标表").to_python()
        assert any(INJECTED in row for row in grid)
    assert load_registry(reg).rows[0]["项目名称"] == INJECTED
