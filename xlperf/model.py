"""Plain data passed between reader, rules, master and reports: issues, returns, file results."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from .messages import issue_text, severity


def text(v) -> str:
    """A cell value as stripped text: None is empty, 2.0 reads as '2'."""
    if v.__class__ is str:  # the common case first: this runs for every cell of every return
        return v.strip()
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


@dataclass(frozen=True)
class Issue:
    code: str
    sheet: str = ""
    cell: str = ""
    params: tuple = ()  # sorted (key, value) pairs, so issues stay hashable and picklable

    @classmethod
    def make(cls, code: str, sheet: str = "", cell: str = "", **params) -> "Issue":
        return cls(code, sheet, cell, tuple(sorted((k, _plain(v)) for k, v in params.items())))

    @property
    def severity(self) -> str:
        return severity(self.code)

    def message(self, lang: str = "zh") -> str:
        return issue_text(self.code, lang, **dict(self.params))

    def to_json(self, lang: str = "zh") -> dict:
        return {"code": self.code, "severity": self.severity, "sheet": self.sheet, "cell": self.cell,
                "message": self.message(lang)}


def _plain(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


@dataclass
class IndicatorRow:
    level1: str
    level2: str
    slot: int
    row: int  # 1-based sheet row
    values: dict  # column name -> raw value
    refs: dict  # column name -> A1 ref


@dataclass
class ReturnData:
    """What one workbook holds, each value with the cell it came from."""
    spec_name: str
    sheet: str
    meta: dict
    fields: dict  # name -> raw value
    refs: dict  # name -> A1 ref
    indicators: list = field(default_factory=list)  # IndicatorRow
    sections: dict = field(default_factory=dict)  # name -> list of {"标题", "内容", "ref"}
    formulas: dict = field(default_factory=dict)  # A1 ref -> formula text (input cells only)
    number_formats: dict = field(default_factory=dict)  # A1 ref -> format code, numeric indicator cells
    # Table forms: what xlperf works out from the return (rates, scores, grade; per row: score...),
    # filled by the checks (xlperf/checks.py) and read by the master. Never taken from the file.
    computed: dict = field(default_factory=dict)
    row_computed: list = field(default_factory=list)
    # Set for a record read from a sub-master (xlperf.collection): the master's cells and the original provenance
    origin: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.fields.get("项目编码") or self.meta.get("project_code") or self.meta.get("unit_code") or "")

    @property
    def year(self) -> int | None:
        """The budget year the template was generated for (its metadata); None when absent or not a number."""
        try:
            return int(self.meta.get("year", ""))
        except (TypeError, ValueError):
            return None


def printable_path(path) -> str:
    """A file name as text every output can carry (console, JSON, xlsx, CSV, Parquet).

    Names that are not valid UTF-8 (zips made on Chinese Windows unpack with GBK bytes) come from the
    file system as surrogate escapes, which no encoder accepts: their bytes are shown as \\xNN instead,
    a lossless form (the original bytes can be read back from it). Valid names are returned unchanged.
    """
    name = os.fspath(path)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def legacy_name_guess(path: str) -> str:
    """What a \\xNN-escaped name reads as in GBK (GB18030), for a person to recognise it; '' if nothing."""
    if "\\x" not in path:
        return ""
    try:
        raw = path.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1")
        return raw.decode("gb18030")
    except (UnicodeError, ValueError):
        return ""


@dataclass
class FileResult:
    path: str  # printable (see printable_path): what reports, the master and messages show
    status: str = "accepted"  # accepted | rejected | skipped
    kind: str = ""  # spec kind: project | unit
    data: ReturnData | None = None
    issues: list = field(default_factory=list)
    mtime: float = 0.0
    sha256: str = ""
    source: str = ""  # the file system path, to open the file again (may hold surrogate escapes)
    records: list = field(default_factory=list)  # a sub-master's projects, one FileResult each (xlperf.collection)

    def __post_init__(self):
        if not self.source:
            self.source = os.fspath(self.path)
        self.path = printable_path(self.path)

    @property
    def project_code(self) -> str:
        return self.data.key if self.data else ""

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    @property
    def errors(self) -> list:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list:
        return [i for i in self.issues if i.severity == "warning"]

    def settle(self, strict: bool = False) -> None:
        """Status from the issues found: any error rejects (any warning too when strict); a skip sets aside."""
        if self.errors or (strict and self.warnings):
            self.status = "rejected"
        elif any(i.severity == "skip" for i in self.issues):
            self.status = "skipped"
        else:
            self.status = "accepted"

    def to_json(self, lang: str = "zh") -> dict:
        return {"path": self.path, "status": self.status, "kind": self.kind, "project_code": self.project_code,
                "issues": [i.to_json(lang) for i in self.issues]}


def to_dict(obj) -> dict:
    return asdict(obj)
