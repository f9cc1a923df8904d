"""The report of a round: every file with its issues, and every way it is rendered (JSON, 问题清单, notes, console)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .messages import severity, ui
from .model import FileResult, Issue

# The 问题清单 sheet of the master (a contract: finance and other programs read it).
ISSUE_COLUMNS = ["来源文件", "状态", "项目编码", "代码", "级别", "工作表", "单元格", "说明"]
# The 问题清单 of a feedback workbook: the same rows for one file, without the columns naming the file.
FILE_ISSUE_COLUMNS = ["代码", "级别", "工作表", "单元格", "说明"]
STATUS_ZH = {"accepted": "通过", "rejected": "退回", "skipped": "跳过"}
SEVERITY_ZH = {"error": "错误", "warning": "提示", "skip": "跳过"}

REJECTED_SHOWN = 20  # rejected files listed on the console by default; the rest are counted
PROBLEMS_SHOWN = 3  # problems listed per rejected file by default


def status_label(status: str, lang: str) -> str:
    return STATUS_ZH.get(status, status) if lang == "zh" else status


def severity_label(severity: str, lang: str) -> str:
    return SEVERITY_ZH.get(severity, severity) if lang == "zh" else severity


def where(issue: Issue) -> str:
    """Sheet!cell, or whichever of the two the issue has."""
    return f"{issue.sheet}!{issue.cell}" if issue.sheet and issue.cell else (issue.sheet or issue.cell)


def issue_row(issue: Issue, lang: str = "zh") -> dict:
    """One issue as a 问题清单 row of one file."""
    return {"代码": issue.code, "级别": severity_label(issue.severity, lang), "工作表": issue.sheet,
            "单元格": issue.cell, "说明": issue.message(lang)}


def file_rows(res: FileResult, lang: str = "zh") -> list[dict]:
    """A file's 问题清单 (the first sheet of its feedback workbook)."""
    return [issue_row(i, lang) for i in res.issues]


def cell_notes(res: FileResult, sheet: str, lang: str = "zh") -> dict[str, list[str]]:
    """A1 ref -> the comments a feedback workbook puts on that cell of *sheet*: "[code] message"."""
    notes: dict[str, list[str]] = {}
    for i in res.issues:
        if i.sheet == sheet and i.cell:
            notes.setdefault(i.cell, []).append(f"[{i.code}] {i.message(lang)}")
    return notes


@dataclass
class Report:
    files: list = field(default_factory=list)  # FileResult, in input order
    year: int | None = None  # the round's budget year the returns were checked against

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def summary(self) -> dict:
        from collections import Counter

        statuses = Counter(f.status for f in self.files)
        severities = Counter(severity(i.code) for f in self.files for i in f.issues)  # one pass over the issues
        return {
            "files": len(self.files),
            "accepted": statuses["accepted"],
            "rejected": statuses["rejected"],
            "skipped": statuses["skipped"],
            "errors": severities["error"],
            "warnings": severities["warning"],
        }

    @property
    def accepted(self) -> list:
        return [f for f in self.files if f.status == "accepted"]

    # -- renderings ----------------------------------------------------------------
    def to_descriptor(self, lang: str = "zh", extra: dict | None = None) -> dict:
        """The JSON report (docs/report.schema.json)."""
        out = {"files": [f.to_json(lang) for f in self.files], "summary": self.summary()}
        if extra:
            out["summary"].update(extra)
        return out

    to_json = to_descriptor  # the name callers have used since the first release

    def flatten(self, lang: str = "zh") -> list[dict]:
        """Every issue of every file as a row of the master's 问题清单 (ISSUE_COLUMNS)."""
        rows = []
        for res in self.files:
            head = {"来源文件": res.path, "状态": status_label(res.status, lang), "项目编码": res.project_code}
            rows.extend({**head, **issue_row(i, lang)} for i in res.issues)
        return rows

    def to_summary(self, lang: str = "zh") -> str:
        """The one-line summary the console ends with."""
        return ui("summary", lang, **self.summary())

    def render_console(self, con, lang: str = "zh", *, quiet: bool = False, verbose: bool = False,
                       limit: int = 30, details: str = "") -> None:
        """The report on a rich console, at a cost that does not grow with the round.

        quiet: the summary only. Default: the rejected files (the first few, with their first problems),
        the summary and where the full detail is. verbose: every file with every problem (a table each)."""
        if verbose:
            self._print_every_file(con, lang, limit)
        elif not quiet:
            self._print_rejected(con, lang)
        con.print(self.to_summary(lang), soft_wrap=True)
        if not quiet and not verbose and self.count("rejected"):
            con.print(ui("details_hint", lang, where=details or ui("details_default", lang)), soft_wrap=True)

    def _print_rejected(self, con, lang: str) -> None:
        from rich.markup import escape

        rejected = [f for f in self.files if f.status == "rejected"]
        sep = ": " if lang == "en" else "："
        for f in rejected[:REJECTED_SHOWN]:
            code = f"  ({f.project_code})" if f.project_code else ""
            con.print(f"[red]{ui('rejected', lang)}[/] {escape(f.path)}{code}", soft_wrap=True)
            problems = f.errors or f.issues
            for i in problems[:PROBLEMS_SHOWN]:
                place = where(i)
                con.print(f"    [red]{i.code}[/] " + (f"{escape(place)}{sep}" if place else "") + escape(i.message(lang)),
                          soft_wrap=True)
            if len(problems) > PROBLEMS_SHOWN:
                con.print("    " + ui("more_problems", lang, count=len(problems) - PROBLEMS_SHOWN))
        if len(rejected) > REJECTED_SHOWN:
            con.print(ui("more_rejected", lang, count=len(rejected) - REJECTED_SHOWN))

    def _print_every_file(self, con, lang: str, limit: int) -> None:
        from rich.markup import escape
        from rich.table import Table

        for f in self.files:
            color = {"accepted": "green", "rejected": "red", "skipped": "yellow"}[f.status]
            title = f"[{color}]{ui(f.status, lang)}[/] {escape(f.path)}" + (f"  ({f.project_code})" if f.project_code else "")
            if not f.issues:
                con.print(f"{title}  —  {ui('no_issues', lang)}")
                continue
            table = Table(title=title, title_justify="left", show_lines=False, expand=False)
            for key in ("code", "cell", "message"):
                table.add_column(ui(key, lang), overflow="fold")
            for i in f.issues[:limit]:
                severity = "red" if i.severity == "error" else "yellow"
                table.add_row(f"[{severity}]{i.code}[/]", escape(where(i)), escape(i.message(lang)))
            if len(f.issues) > limit:
                table.add_row("…", "", ui("more_issues", lang, count=len(f.issues) - limit))
            con.print(table)
