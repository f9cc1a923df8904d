"""Collection status: the return that counts for each project and unit-level form, what is open, reminders per unit."""
from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .messages import ui
from .model import FileResult, printable_path
from .pipeline import Report
from .registry import Registry
from .rules import saved_at

STATES = ("accepted", "rejected", "unreadable", "missing")
REMINDER_ERRORS = 3  # errors quoted per return in a reminder; the feedback workbook carries all of them
_CODE_TOKEN = re.compile(r"[0-9A-Za-z]+")
_MIN_CODE_IN_NAME = 6  # shorter codes are matched as whole tokens only, never inside other letters


def state_name(state: str, lang: str = "zh") -> str:
    return ui(f"state_{state}", lang)


def format_deadline(deadline: date | None, lang: str = "zh") -> str:
    if deadline is None:
        return ""
    return deadline.isoformat() if lang == "en" else f"{deadline.year}年{deadline.month}月{deadline.day}日"


def parse_deadline(value: str) -> date | None:
    """YYYY-MM-DD as a date; None when it is not one."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def newest_first(items: list[FileResult]) -> list[FileResult]:
    """Returns of one form, newest first, in the order consolidate uses (rules.check_duplicates):
    saved time in the workbook, then file time, then path. The saved time is read only when two compete.
    Files are opened by their file system path (source): the printable path of a non-UTF-8 name is no file."""
    if len(items) < 2:
        return list(items)
    return sorted(items, key=lambda r: (saved_at(r.source), r.mtime, r.path), reverse=True)


def feedback_name(res: FileResult) -> str:
    """The name `validate --feedback` gives the feedback workbook of this return when its stem is unique."""
    from .feedback import feedback_candidates

    return next(feedback_candidates(res))


def _file_time(res: FileResult) -> float:
    if res.mtime:
        return res.mtime
    try:  # a file rejected before it was read has no time recorded
        return os.lstat(res.source).st_mtime
    except (OSError, ValueError):
        return 0.0


def _issue_json(res: FileResult, lang: str) -> list[dict]:
    return [i.to_json(lang) for i in res.errors]


def _problem_of(res: FileResult, lang: str) -> dict:
    """Why a file could not be read (or used): its first error, or its first issue of any kind."""
    issue = (res.errors or res.issues or [None])[0]
    return {"path": res.path, "code": issue.code if issue else "",
            "message": issue.message(lang) if issue else ""}


@dataclass
class FormState:
    """One project (or one unit's unit-level form) of the registry and the returns received for it."""
    unit_code: str
    unit_name: str
    code: str  # project code; the unit code for the unit-level form
    name: str
    state: str  # accepted | rejected | unreadable | missing
    files: list  # the return that counts, first
    problems: list  # "cell: message" of the errors of the return that counts (the newest rejected one)
    kind: str = "project"
    department: str = ""
    file: str = ""  # the return that counts: the accepted one, else the newest rejected one
    errors: list = field(default_factory=list)  # that return's errors: {code, severity, sheet, cell, message}
    unreadable: list = field(default_factory=list)  # files named after this form that could not be read
    newer_rejected: dict | None = None  # a rejected return newer than the accepted one: {path, errors}
    feedback: str = ""  # the feedback workbook to send with the reminder, when it exists

    @property
    def open(self) -> bool:
        """Something for the unit to do: not accepted, or a later return of it was rejected or unreadable."""
        return self.state != "accepted" or self.newer_rejected is not None or bool(self.unreadable)

    def to_json(self) -> dict:
        out = dict(self.__dict__)
        out["open"] = self.open
        return out


@dataclass
class Status:
    projects: list  # FormState per registry project, registry order
    unit_forms: dict  # unit code -> FormState of its unit-level form
    unidentified: list  # {path, code, message}: files that could not be tied to any project or unit
    deadline: date | None = None
    unit_forms_expected: bool = True  # the targets round collects one; the later rounds do not

    def __post_init__(self):
        self.by_unit: dict[str, list] = defaultdict(list)
        for s in self.projects:
            self.by_unit[s.unit_code].append(s)

    def open_forms(self, unit_code: str) -> list[FormState]:
        forms = [s for s in self.by_unit.get(unit_code, []) if s.open]
        unit_form = self.unit_forms.get(unit_code)
        return forms + ([unit_form] if unit_form is not None and unit_form.open else [])

    @property
    def is_open(self) -> bool:
        return bool(self.unidentified) or any(s.open for s in self.projects) or any(
            s.open for s in self.unit_forms.values())


class _NameIndex:
    """Registry codes found in file names (templates are named {项目编码}_{项目名称}.xlsx, unit forms
    {单位编码}_{单位名称}_…): ties a file that could not be read to its project or unit."""

    def __init__(self, registry: Registry):
        self.projects = set(registry.by_code)
        self.units = set(registry.units)
        self.long_codes = sorted((c for c in self.projects if len(c) >= _MIN_CODE_IN_NAME), key=len, reverse=True)

    def match(self, path: str) -> tuple[str, str]:
        """("project", code) or ("unit", code) or ("", "")."""
        name = Path(path).name
        tokens = _CODE_TOKEN.findall(name)
        for tok in tokens:
            if tok in self.projects:
                return "project", tok
        for code in self.long_codes:  # a code run into other letters: "…VORVv2.ods"
            if code in name:
                return "project", code
        for tok in tokens:
            if tok in self.units:
                return "unit", tok
        return "", ""


def _is_foreign(res: FileResult) -> bool:
    """A file set aside unread for what it is (not a spreadsheet), rather than a lock file or a duplicate."""
    return res.status == "skipped" and res.data is None and not any(i.code == "F001" for i in res.issues)


def collect(report: Report, registry: Registry, lang: str = "zh", feedback_dir: Path | None = None,
            deadline: date | None = None) -> Status:
    """Follow the newest return of every project and unit-level form, as consolidate does: the newest
    valid return counts (older ones are superseded, W208; identical copies skipped, W207); with no valid
    return, the newest rejected one gives the errors to fix. Files that could not be read are tied to
    the project or unit their name carries, or listed as unidentified."""
    from .spec import UNIT_FORM, load_spec

    readable: dict[tuple, list] = defaultdict(list)
    loose: list[FileResult] = []
    for f in report.files:
        if f.data is not None and f.kind in ("project", "unit") and f.project_code:
            readable[(f.kind, f.project_code)].append(f)
        elif f.status == "rejected" or _is_foreign(f):
            loose.append(f)
    # readable returns of no registry project or unit cannot be followed by content either
    for (kind, key), items in list(readable.items()):
        known = key in registry.by_code if kind == "project" else key in registry.units
        if not known:
            loose += [f for f in items if f.status == "rejected"]
            del readable[(kind, key)]
    names = _NameIndex(registry)
    attached: dict[tuple, list] = defaultdict(list)
    unidentified = []
    for f in loose:
        kind, code = names.match(f.path)
        if kind:
            attached[(kind, code)].append(f)
        elif f.status == "rejected":  # a stray non-spreadsheet (a note, a PDF of something else) is no return
            unidentified.append(_problem_of(f, lang))

    def follow(kind: str, code: str, row: dict, name: str) -> FormState:
        files = readable.get((kind, code), [])
        accepted = newest_first([f for f in files if f.status == "accepted"])
        rejected = newest_first([f for f in files if f.status == "rejected"])
        unread = attached.get((kind, code), [])
        s = FormState(row["单位编码"], row["单位名称"], code, name, "missing", [], [], kind=kind,
                      department=row.get("主管部门", "") or "")
        if accepted:
            counted = accepted[0]
            s.state, s.file = "accepted", counted.path
            order = (saved_at(counted.source), counted.mtime, counted.path) if rejected else None
            newer = [r for r in rejected if (saved_at(r.source), r.mtime, r.path) > order] if rejected else []
            if newer:
                s.newer_rejected = {"path": newer[0].path, "errors": _issue_json(newer[0], lang)}
                s.feedback = _feedback(newer[0], feedback_dir)
            # an unreadable file counts only when it came after the accepted return (a correction lost)
            unread = [f for f in unread if _file_time(f) > _file_time(counted)]
        elif rejected:
            counted = rejected[0]
            s.state, s.file = "rejected", counted.path
            s.errors = _issue_json(counted, lang)
            s.problems = [f"{i.cell}: {i.message(lang)}" if i.cell else i.message(lang) for i in counted.errors]
            s.feedback = _feedback(counted, feedback_dir)
        elif unread:
            s.state = "unreadable"
        s.unreadable = [_problem_of(f, lang) for f in sorted(unread, key=lambda f: f.path)]
        s.files = [p for p in [s.file] if p] + [u["path"] for u in s.unreadable]
        return s

    targets = load_spec()
    name_column = targets.role("name").source  # the registry column the form's project name comes from
    projects = [follow("project", r[targets.key], r, r[name_column]) for r in registry.rows]
    if not _collects_unit_forms(report):
        return Status(projects, {}, unidentified, deadline, unit_forms_expected=False)
    unit_spec = load_spec(UNIT_FORM)
    form_title = unit_spec.title_en if lang == "en" else unit_spec.title
    first_row = {}
    for r in registry.rows:
        first_row.setdefault(r["单位编码"], r)
    unit_forms = {code: follow("unit", code, row, form_title) for code, row in first_row.items()}
    return Status(projects, unit_forms, unidentified, deadline)


def _collects_unit_forms(report: Report) -> bool:
    """The targets round also collects one unit-level form per unit; the later rounds (their forms say
    so: a round other than targets) collect project forms only."""
    from .spec import load_spec

    rounds = {load_spec(f.data.spec_name).round for f in report.files if f.data is not None}
    return not rounds or "targets" in rounds


def _feedback(res: FileResult, feedback_dir: Path | None) -> str:
    if feedback_dir is None or res.data is None:
        return ""
    target = Path(feedback_dir) / feedback_name(res)
    return printable_path(str(target)) if target.is_file() else ""


# ---------------------------------------------------------------- reminders ---------
def reminder_text(unit_code: str, unit_name: str, forms: list[FormState], deadline: date | None,
                  lang: str = "zh") -> str:
    """The block of text to send one unit: every open form, what is wrong and what to send back."""
    unit = f"{unit_code} {unit_name}"
    head = (ui("reminder_head_deadline", lang, unit=unit, deadline=format_deadline(deadline, lang), count=len(forms))
            if deadline else ui("reminder_head", lang, unit=unit, count=len(forms)))
    lines = [head]
    for n, s in enumerate(forms, start=1):
        what = f"{s.code}「{s.name}」" if s.kind == "project" else s.name
        if s.state == "missing":
            lines.append(f"{n}. " + ui("rem_missing", lang, what=what))
        elif s.state == "unreadable":
            lines.append(f"{n}. " + ui("rem_unreadable", lang, what=what))
        elif s.state == "rejected":
            lines.append(f"{n}. " + ui("rem_rejected", lang, what=what, file=Path(s.file).name))
            lines += _error_lines(s.errors, lang)
        else:  # accepted, but a later return was rejected or could not be read
            newer = s.newer_rejected["path"] if s.newer_rejected else s.unreadable[0]["path"]
            lines.append(f"{n}. " + ui("rem_newer", lang, what=what, file=Path(s.file).name, newer=Path(newer).name))
            if s.newer_rejected:
                lines += _error_lines(s.newer_rejected["errors"], lang)
        for u in s.unreadable:
            lines.append(ui("rem_unreadable_file", lang, file=Path(u["path"]).name, code=u["code"], message=u["message"]))
        if s.feedback:
            lines.append(ui("rem_feedback", lang, file=Path(s.feedback).name))
    return "\n".join(lines)


def _error_lines(errors: list[dict], lang: str) -> list[str]:
    out = []
    for e in errors[:REMINDER_ERRORS]:
        where = f"{e['sheet']}!{e['cell']}" if e["sheet"] and e["cell"] else (e["cell"] or e["sheet"])
        out.append(ui("rem_error", lang, code=e["code"], where=where + (" " if where else ""), message=e["message"]))
    if len(errors) > REMINDER_ERRORS:
        out.append(ui("rem_more", lang, count=len(errors) - REMINDER_ERRORS))
    return out


def reminders(status: Status, registry: Registry, lang: str = "zh") -> list[dict]:
    """One reminder per unit with anything open (the unit-level form alone is enough), registry order."""
    out = []
    for unit_code, unit_name in registry.units.items():
        forms = status.open_forms(unit_code)
        if not forms:
            continue
        out.append({"unit_code": unit_code, "unit_name": unit_name,
                    "deadline": status.deadline.isoformat() if status.deadline else "",
                    "items": [{"kind": s.kind, "code": s.code, "name": s.name, "state": s.state,
                               "state_name": state_name(s.state, lang), "file": s.file, "errors": s.errors,
                               "unreadable": s.unreadable, "newer_rejected": s.newer_rejected,
                               "feedback": s.feedback} for s in forms],
                    "text": reminder_text(unit_code, unit_name, forms, status.deadline, lang)})
    return out


# ---------------------------------------------------------------- roll-up ---------
def _counts(forms: list[FormState]) -> dict:
    return {k: sum(1 for s in forms if s.state == k) for k in STATES}


def rollup(status: Status, registry: Registry) -> dict:
    """Counts by unit, and by 主管部门 when the registry names one."""
    by_unit = []
    for unit_code, unit_name in registry.units.items():
        mine = status.by_unit.get(unit_code, [])
        form = status.unit_forms.get(unit_code)
        by_unit.append({"unit_code": unit_code, "unit_name": unit_name, "projects": len(mine), **_counts(mine),
                        "unit_form": form.state if form else ("missing" if status.unit_forms_expected else ""),
                        "open": bool(status.open_forms(unit_code))})
    by_department = []
    departments: dict[str, list] = defaultdict(list)
    for s in status.projects:
        if s.department:
            departments[s.department].append(s)
    for dept, mine in departments.items():
        units = {s.unit_code for s in mine}
        by_department.append({"department": dept, "units": len(units), "projects": len(mine), **_counts(mine),
                              "unit_forms_accepted": sum(1 for u in units if u in status.unit_forms
                                                         and status.unit_forms[u].state == "accepted")})
    return {"by_unit": by_unit, "by_department": by_department}


def summary(status: Status) -> dict:
    forms = list(status.unit_forms.values())
    return {**_counts(status.projects), "unit_forms": _counts(forms),
            "newer_rejected": sum(1 for s in status.projects + forms if s.newer_rejected),
            "unidentified": len(status.unidentified),
            "open_units": sum(1 for u in status.unit_forms if status.open_forms(u))}


def status_json(status: Status, registry: Registry, lang: str = "zh") -> dict:
    """The --json report: projects, units, summary and reminders as before, and the details beside them."""
    blocks = reminders(status, registry, lang)
    return {"projects": [s.to_json() for s in status.projects],
            "units": {code: s.state for code, s in status.unit_forms.items()},
            "summary": summary(status),
            "reminders": [b["text"] for b in blocks],
            "deadline": status.deadline.isoformat() if status.deadline else "",
            "unit_forms": [s.to_json() for s in status.unit_forms.values()],
            "unidentified": status.unidentified,
            "reminder_details": blocks,
            **rollup(status, registry)}


# ---------------------------------------------------------------- console ---------
STATUS_ROWS_SHOWN = 50  # open items listed by default; every item with --verbose


def _code_width(codes: list[str], console_width: int) -> int | None:
    """The minimum width that keeps every unit code whole in its column, so units that differ only in their
    last digits stay apart: when a console is too narrow for all the columns, rich narrows every column,
    codes too, and the other columns must give way instead. A code longer than the console itself gets a
    column as wide as the console."""
    from rich.cells import cell_len

    longest = max((cell_len(c) for c in codes), default=0)
    return min(longest, max(1, console_width - 4)) or None  # 4: the column's two borders and padding


def print_status(con, status: Status, data: dict, lang: str = "zh", feedback_dir: Path | None = None,
                 verbose: bool = False) -> None:
    """The status console output: forms, unidentified files, roll-ups, totals and the reminders.

    By default the table lists the open items only (the first STATUS_ROWS_SHOWN), so its cost does not
    grow with the round; verbose lists every project and unit-level form.
    """
    from rich.markup import escape as esc
    from rich.table import Table

    items = [*status.projects, *status.unit_forms.values()]
    if not verbose:
        items = [s for s in items if s.state != "accepted" or s.newer_rejected or s.unreadable]
    hidden = max(0, len(items) - STATUS_ROWS_SHOWN) if not verbose else 0
    items = items[:STATUS_ROWS_SHOWN] if hidden else items
    t = Table(title=ui("status_title", lang), title_justify="left")
    unit_width = _code_width([s.unit_code for s in items], con.width)
    for key in ("col_unit", "col_project_code", "col_project_name", "status", "file", "col_note"):
        # codes whole: never wrapped, and the unit code's column is never narrowed below the longest code
        t.add_column(ui(key, lang), overflow="fold", no_wrap=key in ("col_unit", "col_project_code"),
                     min_width=unit_width if key == "col_unit" else None)
    color = {"accepted": "green", "rejected": "red", "unreadable": "red", "missing": "yellow"}
    for s in items:
        note = ""
        if s.newer_rejected:
            note = ui("note_newer_rejected", lang, file=s.newer_rejected["path"])
        elif s.state == "accepted" and s.unreadable:
            note = ui("note_newer_unreadable", lang, file=s.unreadable[0]["path"])
        elif s.errors:
            e = s.errors[0]
            note = " ".join(x for x in (e["code"], e["cell"], e["message"]) if x)
        elif s.unreadable:
            note = f"{s.unreadable[0]['code']} {s.unreadable[0]['message']}"
        t.add_row(esc(s.unit_code), esc(s.code) if s.kind == "project" else "", esc(s.name),
                  f"[{color[s.state]}]{state_name(s.state, lang)}[/]", esc("；".join(s.files)), esc(note))
    if items:
        con.print(t)
    if hidden:
        con.print(ui("status_rows_hidden", lang, count=hidden), markup=False, soft_wrap=True)
    if status.unidentified:
        u = Table(title=ui("unidentified_title", lang), title_justify="left")
        for key in ("file", "code", "message"):
            u.add_column(ui(key, lang), overflow="fold")
        for f in status.unidentified:
            u.add_row(esc(f["path"]), f["code"], esc(f["message"]))
        con.print(u)
    r = Table(title=ui("rollup_unit_title", lang), title_justify="left")
    unit_column = ("col_unit_form",) if status.unit_forms_expected else ()
    unit_width = _code_width([row["unit_code"] for row in data["by_unit"]], con.width)
    for key in ("col_unit_code", "col_unit_name", "col_projects", *(f"state_{k}" for k in STATES), *unit_column):
        r.add_column(ui(key, lang), overflow="fold", min_width=unit_width if key == "col_unit_code" else None)
    for row in data["by_unit"]:
        r.add_row(esc(row["unit_code"]), esc(row["unit_name"]), str(row["projects"]), *(str(row[k]) for k in STATES),
                  *([state_name(row["unit_form"], lang)] if unit_column else []))
    con.print(r)
    if data["by_department"]:
        d = Table(title=ui("rollup_department_title", lang), title_justify="left")
        for key in ("col_department", "col_units", "col_projects", *(f"state_{k}" for k in STATES)):
            d.add_column(ui(key, lang), overflow="fold")
        for row in data["by_department"]:
            d.add_row(esc(row["department"]), str(row["units"]), str(row["projects"]), *(str(row[k]) for k in STATES))
        con.print(d)
    totals = data["summary"]
    con.print(ui("status_summary", lang, **totals), markup=False, soft_wrap=True)
    unit_forms_open = sum(v for k, v in totals["unit_forms"].items() if k != "accepted")
    if totals["unreadable"] or unit_forms_open or totals["unidentified"]:
        key = "status_more" if status.unit_forms_expected else "status_more_projects_only"  # later rounds
        con.print(ui(key, lang, unreadable=totals["unreadable"], unit_forms_open=unit_forms_open,
                     unidentified=totals["unidentified"]), markup=False, soft_wrap=True)
    if feedback_dir is not None:
        lacking = sum(1 for s in [*status.projects, *status.unit_forms.values()]
                      if (s.state == "rejected" or s.newer_rejected) and not s.feedback)
        if lacking:
            con.print(ui("feedback_absent", lang, count=lacking, dir=printable_path(str(feedback_dir))), markup=False,
                      soft_wrap=True)
    if data["reminders"]:
        con.print(ui("reminders_deadline", lang, deadline=format_deadline(status.deadline, lang))
                  if status.deadline else ui("reminders", lang))
        for block in data["reminders"]:
            # soft wrap: a reminder is pasted into a message, the console must not break its lines
            con.print(block + "\n", markup=False, highlight=False, soft_wrap=True)
