"""Load a declarative form spec (templates/*.toml) into the objects every other module reads."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEFAULT_FORM = "project"
UNIT_FORM = "unit"
# Names the bundled specs had before they were renamed (files made then name them in scripts and docs).
SPEC_ALIASES = {"project_2021": "project", "unit_2021": "unit"}


def col_index(col: str) -> int:
    """'A' -> 0, 'AA' -> 26."""
    n = 0
    for ch in col:
        n = n * 26 + ord(ch.upper()) - 64
    return n - 1


def col_letter(idx: int) -> str:
    s = ""
    idx += 1
    while idx:
        idx, rem = divmod(idx - 1, 26)
        s = chr(65 + rem) + s
    return s


_REF = re.compile(r"^([A-Z]+)(\d+)$")


def parse_ref(ref: str) -> tuple[int, int]:
    """'B5' -> (row0, col0) = (4, 1)."""
    m = _REF.match(ref.upper())
    if not m:
        raise ValueError(f"bad cell reference {ref!r}")
    return int(m.group(2)) - 1, col_index(m.group(1))


def make_ref(row0: int, col0: int) -> str:
    return f"{col_letter(col0)}{row0 + 1}"


@dataclass(frozen=True)
class Label:
    cell: str
    text: str
    merge: str = ""
    style: str = "label"


@dataclass(frozen=True)
class Field:
    name: str
    name_en: str
    cell: str
    type: str = "text"
    merge: str = ""
    locked: bool = False
    source: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str = ""
    min_length: int = 0
    max_length: int = 0
    group: str = ""
    prompt: str = ""
    style: str = ""
    height: int = 0
    role: str = ""  # what the cell means to the engine (key, name, unit, budget, ...; docs/forms.md)
    fallback: str = ""  # table forms: the source used when `source` is empty ("=value": a constant)


@dataclass(frozen=True)
class IndicatorColumn:
    name: str
    name_en: str
    col: str
    type: str = "text"
    max_length: int = 0
    suggest: tuple[str, ...] = ()
    prompt: str = ""
    # table forms (engine = "table"): a prefilled, locked column names its `source`; `label` is the
    # header text when it differs from the name ({through} is filled in); `role` as for fields
    source: str = ""
    role: str = ""
    label: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()

    @property
    def locked(self) -> bool:
        return bool(self.source)


@dataclass(frozen=True)
class Level2:
    name: str
    level1: str
    required: bool = False
    cost: bool = False


@dataclass(frozen=True)
class Group:
    name: str
    level2: tuple[Level2, ...]
    min_filled: int = 0


@dataclass(frozen=True)
class Slot:
    """One indicator row of a template: which 二级指标 it belongs to and where it sits."""
    row0: int
    level1: str
    level2: str
    index: int  # 0-based slot number within its 二级指标


@dataclass(frozen=True)
class Section:
    """A repeated block of the unit-level form (e.g. 分项绩效目标 rows)."""
    name: str
    name_en: str
    first_row: int
    slots: int
    title_col: str
    text_col: str
    text_merge_to: str
    min_filled: int = 0


@dataclass(frozen=True)
class FormSpec:
    id: str
    version: str
    kind: str
    year: int
    title: str
    title_en: str
    sheet: str
    meta_sheet: str
    guide_sheet: str
    lists_sheet: str
    font: str
    widths: tuple[int, ...]
    file_name: str
    key: str
    labels: tuple[Label, ...]
    fields: tuple[Field, ...]
    header_row: int = 0
    first_row: int = 0
    slots: int = 0
    max_slots: int = 0
    headers: tuple[str, ...] = ()
    level1_col: str = "A"
    level2_col: str = "B"
    columns: tuple[IndicatorColumn, ...] = ()
    groups: tuple[Group, ...] = ()
    sections: tuple[Section, ...] = ()
    qualitative: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    path: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    # -- table forms (engine = "table"): one row per prefilled record, checks and master declared --
    engine: str = "slots"  # "slots": the targets forms' fixed slots per 二级指标; "table": rows from a prefill
    round: str = "targets"  # the collection round the form belongs to
    round_name: str = "绩效目标"
    round_name_en: str = "targets"
    prefill: str = ""  # where a table form's locked values come from ("targets": a targets master)
    through: int = 0  # the last month a monitoring round covers (labels say 1-{through}月)
    max_rows: int = 0
    total_label: str = ""
    scoring: dict = field(default_factory=dict, compare=False, hash=False)
    checks: tuple = field(default=(), compare=False, hash=False)  # the [[checks]] tables, in order
    masters: tuple = field(default=(), compare=False, hash=False)  # the [[master]] tables

    def role(self, role: str):
        """The field or table column with this role, or None."""
        for item in (*self.fields, *self.columns):
            if item.role == role:
                return item
        return None

    def roles(self, role: str) -> tuple:
        """Every field or table column with this role, in spec order (the spending plan's periods share one)."""
        return tuple(item for item in (*self.fields, *self.columns) if item.role == role)

    def role_name(self, role: str) -> str:
        """The name of the field or column with this role ("" when the form has none): the key its value
        is read under, and the master column it goes to."""
        item = self.role(role)
        return item.name if item is not None else ""

    def label_covering(self, row0: int, col0: int) -> str:
        """The text of the label at this cell or merged over it ("" when none): a field's caption is the
        label left of it or above it, and its block's the one in column A of its row."""
        for lb in self.labels:
            first, _sep, last = (lb.merge or lb.cell).partition(":")
            (r1, c1), (r2, c2) = parse_ref(first), parse_ref(last or first)
            if r1 <= row0 <= r2 and c1 <= col0 <= c2:
                return lb.text
        return ""

    def checks_of(self, kind: str) -> list[dict]:
        """The declared [[checks]] of one kind, in order."""
        return [c for c in self.checks if c.get("kind") == kind]

    def fill_text(self, template: str) -> str:
        """A label's text with the form's own values: {title}, {year}, {through}."""
        return template.format(title=self.title, year=self.year, through=self.through)

    # -- derived views ----------------------------------------------------
    @property
    def level2s(self) -> tuple[Level2, ...]:
        return tuple(l2 for g in self.groups for l2 in g.level2)

    @property
    def locked_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.locked)

    @property
    def input_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.locked)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def column(self, name: str) -> IndicatorColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def slot_rows(self, slots: int | None = None) -> list[Slot]:
        n = slots or self.slots
        out, row0 = [], self.first_row - 1
        for l2 in self.level2s:
            for i in range(n):
                out.append(Slot(row0, l2.level1, l2.name, i))
                row0 += 1
        return out

    def last_row(self, slots: int | None = None) -> int:
        """1-based last row used by the form sheet."""
        if self.groups:
            return self.first_row - 1 + len(self.level2s) * (slots or self.slots)
        rows = [parse_ref(f.cell)[0] + 1 for f in self.fields]
        rows += [s.first_row + s.slots - 1 for s in self.sections]
        return max(rows)


def _tuple(x) -> tuple:
    return tuple(x or ())


def _build(data: dict, path: str) -> FormSpec:
    form = data["form"]
    ind = data.get("indicators", {})
    groups = tuple(
        Group(
            name=g["name"],
            min_filled=g.get("min_filled", 0),
            level2=tuple(
                Level2(name=l["name"], level1=g["name"], required=l.get("required", False), cost=l.get("cost", False))
                for l in g["level2"]
            ),
        )
        for g in ind.get("groups", ())
    )
    fields = tuple(
        Field(**{**f, "choices": _tuple(f.get("choices"))}) for f in data.get("fields", ())
    )
    table = data.get("table", {})
    columns = tuple(
        IndicatorColumn(**{**c, "suggest": _tuple(c.get("suggest")), "choices": _tuple(c.get("choices"))})
        for c in (*ind.get("columns", ()), *table.get("columns", ()))
    )
    return FormSpec(
        id=form["id"],
        version=form["version"],
        kind=form["kind"],
        year=form["year"],
        title=form["title"],
        title_en=form.get("title_en", form["title"]),
        sheet=form["sheet"],
        meta_sheet=form["meta_sheet"],
        guide_sheet=form["guide_sheet"],
        lists_sheet=form.get("lists_sheet", "_lists"),
        font=form.get("font", "宋体"),
        widths=_tuple(form["widths"]),
        file_name=form["file_name"],
        key=form["key"],
        labels=tuple(Label(**lb) for lb in data.get("labels", ())),
        fields=fields,
        header_row=ind.get("header_row", table.get("header_row", 0)),
        first_row=ind.get("first_row", table.get("first_row", 0)),
        slots=ind.get("slots", 0),
        max_slots=ind.get("max_slots", 0),
        headers=_tuple(ind.get("headers")),
        level1_col=ind.get("level1_col", "A"),
        level2_col=ind.get("level2_col", "B"),
        columns=columns,
        groups=groups,
        sections=tuple(Section(**s) for s in data.get("sections", ())),
        qualitative=_tuple(data.get("qualitative", {}).get("values")),
        examples=_tuple(data.get("guide", {}).get("examples")),
        path=path,
        engine=form.get("engine", "slots"),
        round=form.get("round", "targets"),
        round_name=form.get("round_name", "绩效目标"),
        round_name_en=form.get("round_name_en", "targets"),
        prefill=form.get("prefill", ""),
        through=form.get("through", 0),
        max_rows=table.get("max_rows", 0),
        total_label=table.get("total_label", ""),
        scoring=data.get("scoring", {}),
        checks=tuple(data.get("checks", ())),
        masters=tuple(data.get("master", ())),
    )


def load_spec_file(path: Path | str) -> FormSpec:
    path = Path(path)
    with path.open("rb") as fh:
        return _build(tomllib.load(fh), str(path))


def data_dir(name: str) -> Path:
    """templates/ or workbooks/: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"xlperf data folder {name!r} not found")


# Form specs outside templates/ that this run knows too: paths separated by os.pathsep. The CLI's
# --form sets it, so worker processes (which inherit the environment) recognise the same forms.
EXTRA_FORMS_ENV = "XLPERF_FORMS"


def extra_spec_paths() -> list[Path]:
    import os

    return [Path(p) for p in os.environ.get(EXTRA_FORMS_ENV, "").split(os.pathsep) if p.strip()]


def add_extra_form(path: Path | str) -> None:
    """Make a spec file known to this process and to the workers it starts."""
    import os

    paths = [str(p) for p in extra_spec_paths()]
    resolved = str(Path(path).resolve())
    if resolved not in paths:
        os.environ[EXTRA_FORMS_ENV] = os.pathsep.join([*paths, resolved])


@lru_cache(maxsize=None)
def load_spec(name: str = DEFAULT_FORM) -> FormSpec:
    """A bundled spec by name (templates/NAME.toml), an extra form's stem, or a path to a spec file."""
    if name.endswith(".toml") or "/" in name:
        return load_spec_file(name)
    name = SPEC_ALIASES.get(name, name)
    bundled = data_dir("templates") / f"{name}.toml"
    if not bundled.is_file():
        for extra in extra_spec_paths():
            if extra.stem == name:
                return load_spec_file(extra)
    return load_spec_file(bundled)


def bundled_specs() -> list[FormSpec]:
    """Every form this run knows: templates/*.toml, then the extra forms (see EXTRA_FORMS_ENV)."""
    # the targets forms first: a workbook that is no form at all is told it is not the 项目绩效目标表 (E001)
    order = {DEFAULT_FORM: 0, UNIT_FORM: 1}
    stems = sorted((p.stem for p in data_dir("templates").glob("*.toml")), key=lambda stem: (order.get(stem, 2), stem))
    specs = [load_spec(stem) for stem in stems]
    return specs + [load_spec(str(p)) for p in extra_spec_paths() if p.is_file()]


def spec_by_id(form_id: str) -> FormSpec | None:
    return next((s for s in bundled_specs() if s.id == form_id), None)
