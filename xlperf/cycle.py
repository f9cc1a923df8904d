"""The later rounds of the year: table-form templates made from the registry and the targets master."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .model import text
from .spec import FormSpec
from .table_form import Record, write_table_template
from .writer import FormValues, safe_filename, format_source, unit_folder


@dataclass
class Prefill:
    """What a targets master gives the later rounds: per project code, its 项目汇总 row and indicator rows."""
    projects: dict = field(default_factory=dict)  # code -> 项目汇总 row
    indicators: dict = field(default_factory=dict)  # code -> [绩效指标 row, ...] in the master's order
    year: str = ""


def read_prefill(master_path: Path) -> Prefill:
    """A targets master as prefill (raises publish.PublishError with a message key when it is not one)."""
    from .master import KEY, SHEETS, TARGET
    from .publish import master_year, read_master, value_display

    master = read_master(master_path)
    out = Prefill(year=master_year(master_path, master))
    for row in master[SHEETS[0]]:
        out.projects[text(row.get(KEY))] = row
    for row in master[SHEETS[1]]:
        shown = dict(row)
        shown[TARGET] = value_display(row)
        out.indicators.setdefault(text(row.get(KEY)), []).append(shown)
    return out


@dataclass
class Plan:
    """The templates a round will make, and the registry projects it cannot make one for."""
    records: list = field(default_factory=list)  # Record, in registry order
    not_in_prefill: list = field(default_factory=list)  # registry rows with no approved targets


def plan_records(spec: FormSpec, registry_rows: list[dict], prefill: Prefill | None) -> Plan:
    """One record per registry project: its registry values, the targets master's row and indicator rows.

    The registry stays the authority for what it holds (codes, names, amounts); the targets master adds
    what only it has (the goals, the indicators). A form without a prefill source uses the registry alone."""
    plan = Plan()
    for reg in registry_rows:
        code = text(reg.get(spec.key))
        values: dict = {}
        if prefill is not None:
            approved = prefill.projects.get(code)
            if approved is None:
                plan.not_in_prefill.append(reg)
                continue
            values.update({k: v for k, v in approved.items() if v not in (None, "")})
        values.update({k: v for k, v in reg.items() if v not in (None, "")})
        rows = prefill.indicators.get(code, []) if prefill is not None else []
        plan.records.append(Record(values=values, rows=rows))
    return plan


def default_points(spec: FormSpec, record: Record) -> list:
    """The 分值 each row starts with: the spec's weights split within each 一级指标 (none without scoring)."""
    level1 = spec.role("level1")
    if not spec.scoring or level1 is None or spec.role("points") is None:
        return []
    from .scoring import ScoringRules
    from .scoring import default_points as split

    rules = ScoringRules.from_table(spec.scoring)
    return split([text(row.get(level1.source)) for row in record.rows], rules)


def template_path(spec: FormSpec, record: Record, out_dir: Path) -> Path:
    return out_dir / unit_folder(record.values) / safe_filename(format_source(spec.file_name, record.values))


def generate_round(spec: FormSpec, records: list[Record], out_dir: Path, *, password: str, progress=None) -> list[Path]:
    """One table-form template per record, in its unit's folder; each file appears whole or not at all."""
    from .atomic import atomic_path

    paths = []
    for record in records:
        path = template_path(spec, record, out_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            write_table_template(spec, record, fh, password=password, default_points=default_points(spec, record))
        paths.append(path)
        if progress:
            progress()
    return paths


def record_from_return(spec: FormSpec, data, registry) -> Record:
    """The record a return was made from, for its feedback workbook: the registry's row, and for the
    other locked cells the values the template was generated with (its metadata keeps them by cell),
    so a locked cell the unit overwrote comes back as it was."""
    import json

    from .table_form import row_refs

    try:
        snapshot = json.loads(data.meta.get("locked", "") or "{}")
    except (ValueError, RecursionError):  # the metadata is the unit's file: any text can arrive
        snapshot = {}
    snapshot = snapshot if isinstance(snapshot, dict) else {}
    reg = registry.by_code.get(data.key, {}) if registry is not None else {}
    values: dict = {}
    for f in spec.locked_fields:
        if f.source and not f.source.startswith("=") and "{" not in f.source:
            values[f.source] = snapshot.get(f.cell, data.fields.get(f.name))
    values.update({k: v for k, v in reg.items() if v not in (None, "")})
    rows = []
    for i, refs in enumerate(row_refs(spec, len(data.indicators))):
        held = data.indicators[i].values
        rows.append({c.source: snapshot.get(refs[c.name], held.get(c.name)) for c in spec.columns if c.locked})
    return Record(values=values, rows=rows)


def typed_values(spec: FormSpec, data) -> FormValues:
    """The unit's own entries of a return, to write back into its feedback workbook."""
    from .table_form import ROWS_KEY

    values = FormValues(fields={f.name: data.fields.get(f.name) for f in spec.input_fields})
    values.fields.update({name: data.fields.get(name) for name in data.fields if name.startswith(spec.total_label or "\0")})
    values.indicators[ROWS_KEY] = [{c.name: ir.values.get(c.name) for c in spec.columns if not c.locked}
                                   for ir in data.indicators]
    values.formats = dict(data.number_formats)
    return values
