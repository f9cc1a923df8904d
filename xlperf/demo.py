"""The demo round on the bundled seed data: generate, fill like a sub-unit, validate, consolidate."""
from __future__ import annotations

import shutil
from pathlib import Path

from .fill import fill_project, fill_workbook, input_cells, load_projects, load_unit
from .messages import ui
from .pipeline import run, write_json_atomic
from .registry import bundled_registry_path, load_registry
from .rules import Options
from .spec import UNIT_FORM, load_spec
from .writer import generate, new_password, unit_rows

DEMO_PASSWORD_FILE = "password.txt"


def fill_all(spec, templates: list[Path], out_dir: Path, projects: dict, registry) -> list[Path]:
    """Fill every generated template with its project's seed content, as a sub-unit would."""
    out = []
    for row, tpl in zip(registry.rows, templates):
        project = projects[row[spec.key]]
        target = out_dir / tpl.name
        fill_project(tpl, target, project, spec)
        out.append(target)
    return out


def run_demo(out: Path, lang: str, echo, print_report, write_master) -> int:
    spec = load_spec()
    registry = load_registry(bundled_registry_path())
    projects = load_projects()
    for sub in ("templates", "returns"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(registry.path, out / "registry.csv")
    echo(ui("demo_step", lang, step="1. generate / 生成模板"))
    pw = new_password()
    (out / DEMO_PASSWORD_FILE).write_text(pw + "\n", encoding="utf-8")
    templates = generate(spec, registry.rows, out / "templates", password=pw)
    echo(ui("generated", lang, count=len(templates), dir=out / "templates", units=1, year=spec.year))
    unit_spec = load_spec(UNIT_FORM)
    [unit_tpl] = generate(unit_spec, unit_rows(registry.rows), out / "templates", password=pw)
    echo(ui("generated_units", lang, count=1, dir=out / "templates"))
    echo(ui("demo_step", lang, step="2. fill / 模拟填报 (openpyxl)"))
    returns = fill_all(spec, templates, out / "returns", projects, registry)
    fill_workbook(unit_tpl, out / "returns" / unit_tpl.name, input_cells(unit_spec, load_unit()), unit_spec.sheet)
    returns.append(out / "returns" / unit_tpl.name)
    echo(f"{len(returns)} → {out / 'returns'}")
    echo(ui("demo_step", lang, step="3. validate / 校验"))
    report = run([out / "returns"], registry, Options(duplicates="latest"))
    print_report(report, quiet=False, limit=12)
    write_json_atomic(out / "report.json", report.to_json(lang))
    echo(ui("json_written", lang, path=out / "report.json"))
    echo(ui("demo_step", lang, step="4. consolidate / 汇总"))
    info = write_master(out / "master.xlsx", report, registry, ("xlsx", "csv", "parquet"))
    echo(ui("demo_step", lang, step="5. publish / 生成公开文本"))
    from .publish import publish

    docs = publish(out / "master.xlsx", out / "绩效目标公开文本.docx")
    for p in docs:
        echo(ui("published", lang, path=p))
    echo("")
    echo(("输出：" if lang == "zh" else "outputs:"))
    for label, p in (("templates", out / "templates"), ("returns", out / "returns"), ("password", out / DEMO_PASSWORD_FILE),
                     ("report", out / "report.json"), ("master", out / "master.xlsx"),
                     ("document", out / "绩效目标公开文本.docx")):
        echo(f"  {label:10s} {p}")
    echo(ui("demo_totals", lang, projects=info["projects"], total=info["budget_total"], indicators=info["indicators"]))
    return 0 if report.count("rejected") == 0 and info["missing"] == 0 else 1


# The later rounds of the demo year: (form spec, folder under the demo's output, --through).
CYCLE_ROUNDS = (("monitoring", "monitoring", 7), ("self-evaluation", "self-evaluation", None))


def run_cycle(out: Path, lang: str, echo, print_report, write_master) -> int:
    """After the targets round: monitoring and self-evaluation made from its master, filled, scored, consolidated."""
    from dataclasses import replace

    from .cycle import generate_round, plan_records, read_prefill
    from .cycle_demo import fill_table_return

    registry = load_registry(bundled_registry_path())
    approved = read_prefill(out / "master.xlsx")
    password = (out / DEMO_PASSWORD_FILE).read_text(encoding="utf-8").strip()
    code = 0
    for step, (form, folder, through) in enumerate(CYCLE_ROUNDS, start=6):
        spec = load_spec(form)
        spec = replace(spec, year=int(approved.year) if approved.year.isdigit() else spec.year,
                       through=through or spec.through)
        base = out / folder
        for sub in ("templates", "returns"):
            shutil.rmtree(base / sub, ignore_errors=True)
        echo(ui("demo_step", lang, step=f"{step}. {spec.round_name} / {spec.round_name_en}"))
        plan = plan_records(spec, registry.rows, approved)
        templates = generate_round(spec, plan.records, base / "templates", password=password)
        echo(ui("generated_round", lang, count=len(templates), dir=base / "templates", units=1, year=spec.year,
                form=spec.title if lang == "zh" else spec.title_en))
        returns = []
        for i, template in enumerate(templates):
            target = base / "returns" / template.name
            fill_table_return(template, target, spec, i)
            returns.append(target)
        echo(f"{len(returns)} → {base / 'returns'}")
        report = run([base / "returns"], registry, Options(duplicates="latest"))
        print_report(report, quiet=False, limit=12)
        write_json_atomic(base / "report.json", report.to_json(lang))
        info = write_master(base / "master.xlsx", report, registry, ("xlsx", "csv"))
        code = max(code, 0 if report.count("rejected") == 0 and info["missing"] == 0 else 1)
    return code
