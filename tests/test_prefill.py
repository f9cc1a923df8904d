"""涉密 in the templates: never preselected, chosen by the unit, and carried forward by --prefill when 是."""
from __future__ import annotations

import openpyxl
import pytest

from xlperf.demo import fill_all
from xlperf.fill import fill_workbook, input_cells, load_projects
from xlperf.master import write_master
from xlperf.pipeline import run
from xlperf.prefill import prefill_values
from xlperf.registry import bundled_registry_path, load_registry
from xlperf.rules import Options
from xlperf.spec import load_spec
from xlperf.writer import generate

SPEC = load_spec()
SECRET = SPEC.field("涉密")


@pytest.fixture(scope="module")
def demo_round(tmp_path_factory):
    """Last year's round, in-process: templates, the seed fill, the master."""
    out = tmp_path_factory.mktemp("round")
    registry = load_registry(bundled_registry_path())
    templates = generate(SPEC, registry.rows, out / "templates", password="pw")
    returns = fill_all(SPEC, templates, out / "returns", load_projects(), registry)
    report = run([out / "returns"], registry, Options())
    write_master(out / "master.xlsx", report, registry)
    return out, registry, templates, returns, report


def _secret(path) -> object:
    return openpyxl.load_workbook(path)[SPEC.sheet][SECRET.cell].value


def test_a_fresh_template_does_not_preselect_secret(demo_round):
    _out, _registry, templates, _returns, _report = demo_round
    assert {_secret(t) for t in templates} == {None}
    ws = openpyxl.load_workbook(templates[0])[SPEC.sheet]
    assert ws[SECRET.cell].protection.locked is False
    assert any(SECRET.cell in str(dv.sqref) and dv.type == "list" for dv in ws.data_validations.dataValidation)


def test_the_demo_fill_chooses_secret_explicitly(demo_round):
    _out, _registry, _templates, returns, report = demo_round
    projects = load_projects()
    classified = {code for code, p in projects.items() if p.get("涉密")}
    assert len(classified) == 7
    got = {r.name.split("_")[0]: _secret(r) for r in returns}
    assert got == {code: ("是" if code in classified else "否") for code in projects}
    assert all(f.status == "accepted" for f in report.files)


def test_an_empty_secret_is_rejected_as_required(demo_round, tmp_path):
    _out, registry, templates, _returns, _report = demo_round
    code = load_projects()
    tpl = templates[0]
    project = code[tpl.name.split("_")[0]]
    cells = {k: v for k, v in input_cells(SPEC, project).items() if k != SECRET.cell}
    target = tmp_path / tpl.name
    assert fill_workbook(tpl, target, cells, SPEC.sheet) == []
    (res,) = run([target], registry, Options()).files
    assert res.status == "rejected"
    assert [(i.code, i.cell) for i in res.errors] == [("E101", SECRET.cell)]


def test_prefill_keeps_a_classified_project_classified(demo_round, tmp_path):
    out, registry, _templates, _returns, _report = demo_round
    projects = load_projects()
    prefill = prefill_values(out / "master.xlsx")
    for code, p in projects.items():
        assert prefill[code].fields.get("涉密", "") == ("是" if p.get("涉密") else "")
    nxt = generate(SPEC, registry.rows, tmp_path / "next", password="pw", prefill=prefill)
    got = {t.name.split("_")[0]: _secret(t) for t in nxt}
    # 是 carries over; 否 is not preselected: the unit confirms it again this year
    assert got == {code: ("是" if p.get("涉密") else None) for code, p in projects.items()}
