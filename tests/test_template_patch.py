"""The patched templates of generate (xlperf.template_patch) against xlsxwriter's, row by row."""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xlperf import template_patch, writer
from xlperf.fill import fill_project, fill_workbook, input_cells, load_projects, load_unit
from xlperf.pipeline import run
from xlperf.reader import read_file
from xlperf.registry import load_registry
from xlperf.spec import load_spec
from xlperf.writer import generate, template_bytes, unit_rows

PASSWORD = "pw-测试"


@pytest.fixture(scope="module")
def reg(registry_path):
    return load_registry(registry_path)


def awkward_rows(base: dict) -> list[dict]:
    """Registry rows a real export can hold, each beside the bundled row it is made from."""
    names = [
        "党史宣传 & 研究 <工作> \"经费\" '专项'",  # XML escaping
        "数字化🚀档案馆建设 🌏 工程",  # emoji (outside the BMP)
        "第一行\n第二行的项目名称",  # a newline: a control character in a cell
        "  前后有空格的项目名称  ",  # xml:space="preserve"
        "名称含 _x0041_ 的转义样式",  # xlsxwriter escapes its own escape syntax
        "超长项目名称" * 60,  # wraps over several lines: the row grows
    ]
    rows = []
    for i, name in enumerate(names):
        rows.append({**base, "项目编码": f"{base['项目编码'][:-3]}X{i:02d}", "项目名称": name})
    rows.append({**base, "预算数": Decimal("99999999.99"), "财政资金": Decimal("99999999.99"),
                 "其他资金": Decimal("0.00")})  # big amounts
    rows.append({**base, "单位名称": "单位&<名称>" + "很长" * 40, "资金用途": ""})  # no registry 资金用途
    rows.append({**base, "资金用途": "用途 & <用途>\n第二行"})
    rows.append({**base, "预算数": "不是数字"})  # an amount that is not a number stays text
    return rows


def test_text_shaped_like_rich_string_xml_falls_back_to_the_safe_writer(reg):
    """xlsxwriter copies <r>…</r> text into sharedStrings.xml as markup; the fast path leaves such a row to
    writer.write_text, which writes it as escaped text (tests/test_writer_text.py)."""
    spec = load_spec()
    row = {**reg.rows[0], "项目名称": "<r>不是富文本</r>"}
    assert template_patch.fast_template(spec, row, password=PASSWORD) is None


def _fast(spec, row, slots=None) -> bytes:
    data = template_patch.fast_template(spec, row, password=PASSWORD, slots=slots)
    assert data is not None, "the fast path fell back to xlsxwriter"
    return data


def _openpyxl_view(data: bytes) -> dict:
    """Everything openpyxl reads of a template: cells (value, type, format, lock), merges, validations,
    sheet states and protection, row heights and column widths."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {"sheets": wb.sheetnames, "active": wb.active.title}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                cells[c.coordinate] = (c.value, c.data_type, c.number_format, c.protection.locked,
                                       c.protection.hidden, c.font.b, c.fill.fgColor.rgb, c.alignment.wrap_text)
        p = ws.protection
        out[ws.title] = {
            "cells": cells, "state": ws.sheet_state, "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "protection": (p.sheet, p.password, p.selectLockedCells, p.selectUnlockedCells, p.formatRows),
            "validations": sorted((str(v.sqref), v.type, v.operator, v.formula1, v.formula2, v.errorStyle,
                                   v.promptTitle, v.prompt, v.errorTitle, v.error) for v in ws.data_validations.dataValidation),
            "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height},
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "print": (ws.print_area, ws.print_title_rows, ws.freeze_panes),
        }
    return out


def _read(data: bytes, tmp_path: Path, name: str):
    """The xlperf reader's view: status, issue codes, ReturnData (meta apart from generated_at)."""
    path = tmp_path / name
    path.write_bytes(data)
    res = read_file(path)
    assert res.data is not None, res.issues
    meta = dict(res.data.meta)
    meta.pop("generated_at")
    return res.status, [i.code for i in res.issues], replace(res.data, meta=meta), meta


@pytest.mark.parametrize("form", ["project", "unit"])
def test_patched_template_reads_back_as_xlsxwriter_writes_it(form, reg, tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "generated_at", lambda: "2024-03-01T08:00:00Z")  # no second boundary between the two
    spec = replace(load_spec(form), year=2024)
    rows = reg.rows if form == "project" else unit_rows(reg.rows)
    sample = rows[:4] + awkward_rows(reg.rows[0])
    for i, row in enumerate(sample):
        fast, normal = _fast(spec, row), template_bytes(spec, row, password=PASSWORD)
        assert zipfile.ZipFile(io.BytesIO(fast)).testzip() is None  # every CRC right
        assert template_patch.normalized(fast) == template_patch.normalized(normal), row
        assert _openpyxl_view(fast) == _openpyxl_view(normal), row
        assert _read(fast, tmp_path, f"f{i}.xlsx") == _read(normal, tmp_path, f"n{i}.xlsx"), row


def test_the_comparison_sees_a_different_row(reg):
    """normalized() and the openpyxl view are not blind: another row's template differs."""
    spec = load_spec()
    a, b = reg.rows[0], reg.rows[1]
    assert template_patch.normalized(_fast(spec, a)) != template_patch.normalized(template_bytes(spec, b, password=PASSWORD))
    assert _openpyxl_view(_fast(spec, a)) != _openpyxl_view(template_bytes(spec, b, password=PASSWORD))
    long = {**a, "项目名称": "很长的名称" * 50}
    view = _openpyxl_view(_fast(spec, long))[spec.sheet]
    assert view["heights"][3] > _openpyxl_view(_fast(spec, a))[spec.sheet]["heights"].get(3, 0)


def test_locked_values_digest_and_meta_are_the_rows(reg, tmp_path):
    spec = load_spec()
    row = awkward_rows(reg.rows[0])[0]
    status, codes, data, meta = _read(_fast(spec, row), tmp_path, "a.xlsx")
    assert meta["project_code"] == row["项目编码"] and meta["unit_code"] == row["单位编码"]
    assert meta["locked_digest"] == writer.locked_digest(spec, writer.locked_values(spec, row))
    wb = openpyxl.load_workbook(io.BytesIO(_fast(spec, row)))
    ws = wb[spec.sheet]
    assert ws["E3"].value == row["项目名称"] and ws["B3"].value == row["项目编码"]
    assert ws["B5"].value == float(row["预算数"]) and ws["B5"].number_format == "0.00"
    assert ws["E5"].value == row["资金用途"] and ws["E5"].protection.locked is False
    assert ws["B3"].protection.locked is True and ws.protection.sheet is True
    assert wb[spec.meta_sheet].sheet_state == "veryHidden"


def test_generated_at_is_the_moment_of_each_template(reg, monkeypatch):
    spec = load_spec()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = openpyxl.load_workbook(io.BytesIO(_fast(spec, reg.rows[0])))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    later = _fast(spec, reg.rows[0])
    wb = openpyxl.load_workbook(io.BytesIO(later))
    meta = {r[0]: r[1] for r in wb[spec.meta_sheet].iter_rows(values_only=True)}
    assert meta["generated_at"] == "2027-01-15T08:00:00Z"
    assert wb.properties.created.year == 2027
    assert {r[0]: r[1] for r in first[spec.meta_sheet].iter_rows(values_only=True)}["generated_at"].startswith("2023-11-14")


def test_slots_and_password_make_their_own_skeleton(reg):
    spec = load_spec()
    row = reg.rows[2]
    fast = template_patch.fast_template(spec, row, password="another", slots=5)
    normal = template_bytes(spec, row, password="another", slots=5)
    assert template_patch.normalized(fast) == template_patch.normalized(normal)
    assert template_patch.normalized(fast) != template_patch.normalized(_fast(spec, row))


@pytest.mark.parametrize("form", ["project", "unit"])
def test_patched_template_filled_is_accepted(form, reg, tmp_path):
    spec = load_spec(form)
    if form == "project":
        row = reg.rows[0]
        tpl = tmp_path / "tpl.xlsx"
        tpl.write_bytes(_fast(spec, row))
        assert fill_project(tpl, tmp_path / "ret.xlsx", load_projects()[row["项目编码"]], spec) == []
    else:
        row = unit_rows(reg.rows)[0]
        tpl = tmp_path / "tpl.xlsx"
        tpl.write_bytes(_fast(spec, row))
        assert fill_workbook(tpl, tmp_path / "ret.xlsx", input_cells(spec, load_unit()), spec.sheet) == []
    report = run([tmp_path / "ret.xlsx"], reg)
    [res] = report.files
    assert res.status == "accepted" and res.errors == [], res.issues


def test_generate_falls_back_to_xlsxwriter_for_prefilled_rows(reg, tmp_path, monkeypatch):
    """A prefilled row is written by xlsxwriter, the others are patched; both read back the same."""
    spec = load_spec()
    calls = []
    real = writer.write_template
    monkeypatch.setattr(writer, "write_template", lambda *a, **k: calls.append(a[1]["项目编码"]) or real(*a, **k))
    values = writer.FormValues(fields={"资金用途": "预填的用途", "绩效目标": "1.预填"})
    rows = reg.rows[:3]
    paths = generate(spec, rows, tmp_path, password=PASSWORD, prefill={rows[1]["项目编码"]: values})
    assert calls == [rows[1]["项目编码"]]
    assert openpyxl.load_workbook(paths[1])[spec.sheet]["E5"].value == "预填的用途"
    for p in paths:
        assert read_file(p).status != "rejected"


def test_switch_turns_the_fast_path_off(reg, monkeypatch):
    monkeypatch.setenv(template_patch.DISABLE_ENV, "1")
    assert template_patch.fast_template(load_spec(), reg.rows[0], password=PASSWORD) is None


def test_a_row_with_an_input_the_skeleton_holds_blank_falls_back(reg):
    """A registry column named like an input cell, absent from the rows the skeleton was made for."""
    spec = load_spec()
    row = dict(reg.rows[0])
    keys = tuple(k for k in row if isinstance(k, str))
    sk = template_patch.Skeleton(spec, keys, PASSWORD, None)
    assert template_patch._render(sk, {**row, "绩效目标": "来自登记表"}) is None
    assert template_patch._render(sk, row) is not None


def test_a_skeleton_that_differs_from_xlsxwriter_is_never_used(reg, monkeypatch):
    """The self-check: if patching stopped matching xlsxwriter, generate would write with xlsxwriter."""
    spec = replace(load_spec(), year=2031)
    monkeypatch.setattr(template_patch.Skeleton, "heights", lambda self, locked: {})  # a broken patch
    row = {**reg.rows[0], "项目名称": "会换行的很长项目名称" * 20}
    assert template_patch.fast_template(spec, row, password="x") is None


def test_generate_writes_patched_templates_with_jobs_and_unit_folders(reg, tmp_path):
    spec = load_spec()
    rows = (reg.rows * 7)[:100]
    rows = [{**r, "项目编码": f"{r['项目编码']}{i:03d}"} for i, r in enumerate(rows)]
    paths = generate(spec, rows, tmp_path, password=PASSWORD, jobs=2, per_unit=True)
    assert len(paths) == 100 and all(p.parent.parent == tmp_path for p in paths)
    for p, row in zip(paths[::17], rows[::17]):
        assert template_patch.normalized(p.read_bytes()) == \
            template_patch.normalized(template_bytes(spec, row, password=PASSWORD))


def test_patched_template_in_libreoffice_is_what_xlsxwriter_makes_and_stays_locked(reg, tmp_path):
    """LibreOffice headless: the patched template of an awkward row shows the same sheets, protection,
    unlocked cells, validations and values as xlsxwriter's, and refuses typing into locked cells."""
    from soffice import require_soffice, sheet_of, uno_fill, uno_inspect

    require_soffice()
    spec = load_spec()
    row = {**reg.rows[0], "项目名称": "党史 & <宣传> \"研究\" 🚀" + "很长的名称" * 20}
    fast, normal = tmp_path / "fast.xlsx", tmp_path / "normal.xlsx"
    fast.write_bytes(_fast(spec, row))
    normal.write_bytes(template_bytes(spec, row, password=PASSWORD))
    seen_fast, seen_normal = uno_inspect(fast), uno_inspect(normal)
    assert seen_fast["sheets"] == seen_normal["sheets"]
    form = sheet_of(seen_fast, spec.sheet)
    assert form["protected"] is True and form["visible"] is True
    assert form["cells"]["E3"] == row["项目名称"] and form["cells"]["B5"] == float(row["预算数"])
    assert sheet_of(seen_fast, spec.meta_sheet)["visible"] is False
    assert "B3" not in form["unlocked"] and "E5" in form["unlocked"]
    res = uno_fill(fast, tmp_path / "typed.xlsx", {spec.sheet: {"B3": "130304211XXXXXXXXXXXX", "B5": 999, "E5": "用途"}})
    assert sorted(res["refused"]) == [f"{spec.sheet}!B3", f"{spec.sheet}!B5"]
    assert res["written"] == [f"{spec.sheet}!E5"]
