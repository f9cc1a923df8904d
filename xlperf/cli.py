"""Command line (Typer): parse options, show progress, print reports, choose exit codes."""

import os
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .messages import get_lang, ui
from .spec import DEFAULT_FORM

LANG = get_lang()

# key: (Chinese, English) help texts; the language is chosen before the app is built.
HELP = {
    "app": ("xlperf：项目绩效目标表的模板生成、报送校验与汇总工具。", "xlperf: generate, validate and consolidate 项目绩效目标表 (project performance targets) workbooks."),
    "lang": ("界面语言：zh（默认）或 en；也可设置环境变量 XLPERF_LANG。", "interface language: zh (default) or en; or set XLPERF_LANG."),
    "generate": ("按项目库为每个项目生成一个锁定的填报模板（{项目编码}_{项目名称}.xlsx）。", "generate one locked template per registry project ({项目编码}_{项目名称}.xlsx)."),
    "registry": ("项目库文件（.csv 或 .xlsx，中文表头）。", "registry file (.csv or .xlsx, Chinese headers)."),
    "out_dir": ("输出文件夹。", "output folder."),
    "password": ("工作表保护密码；不填则自动生成并写入输出文件夹的 password.txt。", "sheet protection password; when omitted one is generated and written to password.txt in the output folder."),
    "slots": ("每个二级指标预留的三级指标行数。", "indicator rows per 二级指标."),
    "form": ("表单规格（templates/ 中的名称或 .toml 路径）。", "form spec (a name in templates/ or a .toml path)."),
    "demo_cycle": ("在绩效目标之后继续演示全年的另外两轮：运行监控（1-7月）和绩效自评（打分）。", "after the targets round, run the year's other two rounds: monitoring (to July) and self-evaluation (scored)."),
    "extra_form": ("另外识别的表单规格文件（.toml，可多次指定）：本轮收集的是 templates/ 以外的自定义表单时使用。", "another form spec file to recognise (.toml, may repeat): for a custom form outside templates/."),
    "through": ("运行监控表覆盖到几月底（1–12，默认 7：“1-7月执行数”）。", "the last month the monitoring form covers (1–12, default 7: 1-7月)."),
    "unit_form": ("同时为每个单位生成一份“部门整体绩效目标”表。", "also generate one unit-level form (部门整体绩效目标) per unit."),
    "validate": ("校验报送的工作簿（文件或文件夹，递归查找），逐个文件列出问题。退出码：0 全部通过，1 有退回或缺报，2 用法或输入错误。", "validate returned workbooks (files or folders, searched recursively) and list the problems per file. Exit codes: 0 all accepted, 1 something rejected or missing, 2 bad usage or unreadable inputs."),
    "paths": ("报送的工作簿或文件夹。", "returned workbooks or folders."),
    "json": ("把校验报告写成 JSON 文件。", "write the validation report as JSON."),
    "strict": ("提示（warning）也作为退回处理。", "treat warnings as rejections."),
    "reject_yesno": ("指标值为“是否”时作为错误退回（默认只提示）。", "reject '是否' as an indicator value (default: warning)."),
    "duplicates": ("同一项目多份不同内容的报送：error 报错（默认于 validate），latest 以最新一份为准。", "several different returns of one project: error, or latest wins."),
    "feedback": ("为每个退回的文件生成反馈工作簿（问题单元格标红并加批注，附问题清单）到该文件夹。", "write a feedback workbook per rejected return (problem cells marked with comments, plus a 问题清单 sheet) into this folder."),
    "prefill": ("绩效目标表：用上一年的汇总表（master.xlsx）预填相同项目编码的绩效目标和指标（仍可修改）；运行监控表、自评表：本年度绩效目标的汇总表（必需），目标和指标由它预填并锁定。", "targets form: prefill goals and indicators of the same project codes from last year's master (still editable); monitoring and self-evaluation: this year's targets master (required), whose goals and indicators are prefilled and locked."),
    "status": ("报送情况：只看每个项目最新的一份报送（与汇总规则相同：最新的有效报送为准），按单位和项目列出 已通过 / 退回 / 无法读取 / 未报送，无法读取的文件按文件名中的项目编码归到项目下，按单位（及主管部门）汇总，并为每个单位生成可直接发送的催报通知。退出码：0 全部通过，1 仍有未完成事项，2 用法或输入错误。", "collection status: follows the newest return of each project (the consolidate rule: the newest valid return counts) and lists accepted / rejected / unreadable / missing per unit and project; files that cannot be read are tied to the project code in their name; counts by unit (and supervising department); one reminder per unit ready to send. Exit codes: 0 all accepted, 1 something open, 2 bad usage or unreadable inputs."),
    "diff": ("比较两份报送（列出改动的单元格及新旧值），或两份汇总表（上一年与本年：逐项目的预算数增减、新增/取消的项目、新增/删除/修改的绩效指标）。退出码：0 无差异，1 有差异，2 用法或输入错误。", "compare two returns of one project (changed cells with old and new values), or two masters (last year and this year: budget change per project, projects added or dropped, indicators added, dropped or changed). Exit codes: 0 no difference, 1 differences, 2 bad usage or unreadable inputs."),
    "old": ("旧的报送文件或上一年的汇总表。", "the older return, or last year's master."),
    "new": ("新的报送文件或本年的汇总表。", "the newer return, or this year's master."),
    "deadline": ("催报截止日期（YYYY-MM-DD），写入每个单位的催报通知。", "deadline (YYYY-MM-DD) written into each unit's reminder."),
    "status_feedback": ("反馈工作簿所在文件夹（validate --feedback 的输出）：催报通知注明每个退回项目要发送的反馈文件。", "folder of the feedback workbooks (validate --feedback): each reminder names the feedback file to send."),
    "diff_json": ("把比较结果写成 JSON 文件。", "write the comparison as JSON."),
    "publish": ("由汇总表为每个单位生成一份公开文本（{单位编码}_{单位名称}_{年度}年部门预算绩效目标.docx，涉密内容以“涉密”代替）；有 LibreOffice 时同时生成 PDF。缺部门整体绩效目标表或有项目未报送的单位不生成（退出码 1）。", "build one disclosure document per unit from a master ({单位编码}_{单位名称}_{年度}年部门预算绩效目标.docx, classified content shown as 涉密); a PDF too when LibreOffice is present. A unit whose unit-level form or any project is missing is not published (exit 1)."),
    "master_in": ("汇总表（xlperf consolidate 的输出）。", "the master workbook (output of xlperf consolidate)."),
    "docx_out": ("输出文件夹（每个单位一份）；只生成一个单位时也可给出 .docx 文件路径。", "output folder (one document per unit); a .docx file path when exactly one unit is published."),
    "pdf": ("有 LibreOffice 时同时转换为 PDF。", "also convert to PDF when LibreOffice is present."),
    "jobs": ("并行读取的进程数；默认用本机全部可用的 CPU 核（文件很少时用 1 个）。", "worker processes for reading; default: every usable CPU core (1 for small batches)."),
    "jobs_generate": ("并行生成模板的进程数；默认用本机全部可用的 CPU 核。", "processes writing templates; default: every usable CPU core."),
    "quiet": ("只输出汇总，不逐个文件列出。", "print only the summary, not every file."),
    "consolidate": ("校验并把通过的报送汇总成总表（项目汇总、绩效指标、问题清单、未报送、概览）。", "validate and consolidate the accepted returns into the master workbook (项目汇总, 绩效指标, 问题清单, 未报送, 概览)."),
    "master_out": ("汇总表输出路径（.xlsx）。", "master workbook path (.xlsx)."),
    "format": ("输出格式，逗号分隔：xlsx,csv,parquet。", "output formats, comma separated: xlsx,csv,parquet."),
    "demo": ("演示完整流程：用内置的 15 个项目生成模板、模拟填报、校验并汇总。", "run the whole round on the bundled 15 projects: generate, fill, validate, consolidate."),
    "demo_out": ("演示输出文件夹。", "demo output folder."),
    "year_generate": ("预算年度（写入模板、填报说明和汇总表）；默认取项目库的“年度”列，没有时为下一年。", "budget year (in the templates, the instructions and the master); default: the registry's 年度 column, else next year."),
    "year_check": ("本轮的预算年度：其他年度的模板被退回；默认取项目库的“年度”列，没有时取多数报送文件的年度。", "the round's budget year: returns of another year are rejected; default: the registry's 年度 column, else the year most returns carry."),
    "verbose": ("逐个文件列出全部问题（含通过的文件）。", "list every file with all its problems (accepted files too)."),
    "status_verbose": ("列出全部项目（默认只列未完成的）。", "list every project (default: the open ones only)."),
    "zip": ("另为每个单位打一个 .zip 压缩包（便于邮件发送）。", "also write one .zip per unit (ready to mail)."),
    "registry_metavar": ("项目库", "REGISTRY"),
    "paths_metavar": ("文件或文件夹", "PATHS"),
    "publish_unit": ("只生成该单位编码的公开文本。", "publish this unit code only."),
    "allow_incomplete": ("缺项的单位也生成公开文本，缺项处标明“（未报送）”。", "publish incomplete units too, with the gaps marked （未报送）."),
    "publish_year": ("年度（默认取汇总表中的年度）。", "the year (default: the year the master carries)."),
}


def h(key: str) -> str:
    zh, en = HELP[key]
    return en if LANG == "en" else zh


def _localise_typer() -> None:
    from .cli_locale import localise_help

    localise_help(LANG)


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _err(msg: str, code: int = 2):
    typer.echo(msg, err=True)
    raise typer.Exit(code)


def _registry(path: Path, notes: bool = False):
    """The registry, or exit 2 with every problem; *notes* prints what the import did (元 → 万元, the
    header row found, the year) — once, when templates are generated from it, not on every command."""
    from .registry import RegistryError, load_registry

    try:
        reg = load_registry(path, lang=LANG)
    except RegistryError as exc:
        _err(ui("registry_error", LANG, path=path, error=exc))
    for line in reg.note_lines(LANG) if notes else ():
        typer.echo(line)
    return reg


def _spec(name: str):
    from .spec import load_spec

    try:
        return load_spec(name)
    except OSError:
        _err(ui("spec_missing", LANG, name=name))
    except (KeyError, ValueError, TypeError) as exc:  # tomllib and the spec loader say what is wrong
        _err(ui("spec_invalid", LANG, name=name, error=exc))


def _progress(total_hint: int, label: str):
    """A rich progress bar on a terminal; nothing when output is piped."""
    from contextlib import nullcontext

    if not sys.stdout.isatty() or total_hint < 20:
        return nullcontext((None, None))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)

    class _Ctx:
        def __enter__(self):
            prog.__enter__()
            task = prog.add_task(label, total=total_hint)
            return prog, task

        def __exit__(self, *a):
            return prog.__exit__(*a)

    return _Ctx()


def _prefill(path: Path):
    from .publish import PublishError
    from .prefill import prefill_values

    try:
        return prefill_values(path)
    except PublishError as exc:
        _err(str(exc))


def _generate_round(spec, reg, out: Path, prefill: Optional[Path], password: Optional[str], through: Optional[int],
                    make_zip: bool, year_given: bool = True) -> None:
    """generate for a table form (monitoring, self-evaluation): one template per approved project."""
    from dataclasses import replace

    from .cycle import generate_round, plan_records, read_prefill
    from .publish import PublishError
    from .writer import unit_folder, zip_unit_folders

    if through is not None:
        if spec.through:
            spec = replace(spec, through=through)
        else:
            typer.echo(ui("through_ignored", LANG))
    approved = None
    if spec.prefill:
        if prefill is None:
            _err(ui("round_needs_prefill", LANG, form=spec.title))
        try:
            approved = read_prefill(prefill)
        except PublishError as exc:
            _err(str(exc))
        if not year_given and approved.year.isdigit():
            spec = replace(spec, year=int(approved.year))
        if approved.year and approved.year != str(spec.year):
            typer.echo(ui("prefill_year_differs", LANG, found=approved.year, year=spec.year))
    plan = plan_records(spec, reg.rows, approved)
    pw, password_note = (password, None) if password else _password_for(out)
    with _progress(len(plan.records), "生成" if LANG == "zh" else "generating") as (prog, task):
        paths = generate_round(spec, plan.records, out, password=pw,
                               progress=(lambda: prog.advance(task)) if prog else None)
    folders = list(dict.fromkeys(out / unit_folder(r.values) for r in plan.records))
    typer.echo(ui("generated_round", LANG, count=len(paths), dir=out, units=len(folders), year=spec.year,
                  form=spec.title if LANG == "zh" else spec.title_en))
    if plan.not_in_prefill:
        codes = "、".join(r["项目编码"] for r in plan.not_in_prefill[:10]) + ("……" if len(plan.not_in_prefill) > 10 else "")
        typer.echo(ui("not_in_prefill", LANG, count=len(plan.not_in_prefill), path=prefill, codes=codes))
    if make_zip:
        zips = zip_unit_folders(out, folders)
        typer.echo(ui("zipped", LANG, count=len(zips), dir=out))
    if password_note:
        typer.echo(password_note)


def _add_forms(forms) -> None:
    """Form specs beyond templates/ (--form FILE.toml): checked to load, then known to the workers too."""
    from .spec import add_extra_form

    for path in forms or ():
        _spec(str(path))
        add_extra_form(path)


def _reading_setup(forms, registry: Path):
    """What a command that reads returns does first: its extra form specs, the reading workers' fork
    server (started after --form has set the environment its workers inherit, so that it starts
    while the registry loads), then the registry."""
    from .workers import start_early

    _add_forms(forms)
    start_early()
    return _registry(registry)


def _run_validation(paths, registry, opts, jobs, allow_empty: bool = False, year: int | None = None):
    from .model import printable_path
    from .pipeline import run
    from .reader import discover

    for p in paths:  # a path the user typed that is not there is a usage error, not a rejected return
        if not os.path.lexists(p):
            _err(ui("path_not_found", LANG, path=printable_path(p)))
    files, skipped = discover(paths)
    if not files and not skipped and not allow_empty:
        _err(ui("no_inputs", LANG, paths=" ".join(printable_path(p) for p in paths)))
    jobs = jobs or auto_jobs(len(files))
    with _progress(len(files), ui("reading", LANG)) as (prog, task):
        tick = (lambda: prog.advance(task)) if prog else None
        return run(paths, registry, opts, jobs=jobs, progress=tick, year=year, found=(files, skipped))


def usable_cores() -> int:
    """The CPU cores this process may run on (affinity and cgroup-free count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


SMALL_BATCH = 40  # files below which one reading worker beats starting more (start-up ~0.1 s each)


def auto_jobs(n_files: int) -> int:
    """Reading workers for a batch: every usable core, one for small batches where start-up dominates."""
    return 1 if n_files < SMALL_BATCH else min(usable_cores(), 16)


def print_report(report, quiet: bool = False, limit: int = 30, verbose: bool = False, details: str = "") -> None:
    """The report on the console, rendered by the report itself (xlperf/report.py)."""
    report.render_console(_console(), LANG, quiet=quiet, verbose=verbose, limit=limit, details=details)


def _diff_round_masters(old: Path, new: Path, rounds: list, json_out: Optional[Path]) -> None:
    from rich.table import Table

    from .diff import diff_round_masters
    from .model import printable_path
    from .publish import PublishError
    from .publish_round import read_round_master

    if rounds[0] is None or rounds[1] is None or rounds[0].id != rounds[1].id:
        _err(ui("diff_kinds", LANG, old=printable_path(str(old)), new=printable_path(str(new))))
    spec = rounds[0]
    try:
        changes = diff_round_masters(spec, read_round_master(old, spec), read_round_master(new, spec))
    except PublishError:
        _err(ui("diff_master_unreadable", LANG, path=printable_path(str(old))))
    table = Table(title=f"{printable_path(str(old))} → {printable_path(str(new))}", title_justify="left")
    for col in ("sheet", "project", "field", "old", "new"):
        table.add_column(ui(col, LANG), overflow="fold")
    for c in changes:
        table.add_row(c["sheet"], c["key"], c["field"], c["old"], c["new"])
    _console().print(table)
    typer.echo(ui("diff_count", LANG, count=len(changes)))
    if json_out:
        from .pipeline import write_json_atomic

        write_json_atomic(json_out, {"old": printable_path(str(old)), "new": printable_path(str(new)),
                                     "kind": "round-masters", "form": spec.id, "changes": changes})
    raise typer.Exit(1 if changes else 0)


def _options(strict, reject_yesno, duplicates):
    from .rules import Options

    if duplicates not in ("error", "latest"):
        _err(f"--duplicates: error | latest ({duplicates})")
    return Options(strict=strict, reject_yesno=reject_yesno, duplicates=duplicates)


def build_app() -> typer.Typer:
    _localise_typer()
    app = typer.Typer(help=h("app"), add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                      context_settings={"help_option_names": ["-h", "--help"]})

    @app.callback()
    def _main(lang: str = typer.Option("zh", "--lang", help=h("lang"))):
        pass

    # Options shared by validate, consolidate and status: declared once (help texts in the chosen language).
    Paths = Annotated[List[Path], typer.Argument(help=h("paths"), metavar=h("paths_metavar"))]
    RegistryPath = Annotated[Path, typer.Option("--registry", "-r", help=h("registry"))]
    JsonOut = Annotated[Optional[Path], typer.Option("--json", help=h("json"))]
    Strict = Annotated[bool, typer.Option("--strict", help=h("strict"))]
    RejectYesno = Annotated[bool, typer.Option("--reject-yesno", help=h("reject_yesno"))]
    Jobs = Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, max=64, help=h("jobs"))]
    Quiet = Annotated[bool, typer.Option("--quiet", "-q", help=h("quiet"))]
    Verbose = Annotated[bool, typer.Option("--verbose", "-v", help=h("verbose"))]
    Year = Annotated[Optional[int], typer.Option("--year", min=2000, max=2100, help=h("year_check"))]
    ExtraForms = Annotated[Optional[list[Path]], typer.Option("--form", help=h("extra_form"))]

    @app.command("generate", help=h("generate"))
    def generate_cmd(
        registry: Path = typer.Argument(..., help=h("registry"), metavar=h("registry_metavar")),
        out: Path = typer.Option(..., "-o", "--out", help=h("out_dir")),
        password: Optional[str] = typer.Option(None, "--password", help=h("password")),
        slots: Optional[int] = typer.Option(None, "--slots", min=1, max=10, help=h("slots")),
        form: str = typer.Option(DEFAULT_FORM, "--form", help=h("form")),
        unit_form: bool = typer.Option(True, "--unit-form/--no-unit-form", help=h("unit_form")),
        prefill: Optional[Path] = typer.Option(None, "--prefill", help=h("prefill")),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, max=64, help=h("jobs_generate")),
        year: Optional[int] = typer.Option(None, "--year", min=2000, max=2100, help=h("year_generate")),
        make_zip: bool = typer.Option(False, "--zip", help=h("zip")),
        through: Optional[int] = typer.Option(None, "--through", min=1, max=12, help=h("through")),
    ):
        from dataclasses import replace

        from .spec import UNIT_FORM
        from .writer import generate, unit_folder, unit_rows, zip_unit_folders

        reg = _registry(registry, notes=True)
        if year and reg.year and year != reg.year:
            typer.echo(ui("year_conflict", LANG, registry=reg.year, year=year))
        round_year = year or reg.year or default_round_year()
        spec = replace(_spec(form), year=round_year)
        if spec.engine == "table":
            # the later rounds belong to the targets' year: the prefill master's, unless the registry or --year says
            _generate_round(spec, reg, out, prefill, password, through, make_zip, year_given=bool(year or reg.year))
            return
        values = _prefill(prefill) if prefill else None
        pw, password_note = (password, None) if password else _password_for(out)
        with _progress(len(reg.rows), "生成" if LANG == "zh" else "generating") as (prog, task):
            paths = generate(spec, reg.rows, out, password=pw, slots=slots, prefill=values, per_unit=True,
                             jobs=jobs or usable_cores(),
                             progress=(lambda: prog.advance(task)) if prog else None)
        folders = list(dict.fromkeys(out / unit_folder(r) for r in reg.rows))
        typer.echo(ui("generated", LANG, count=len(paths), dir=out, units=len(folders), year=round_year))
        if values is not None:
            typer.echo(ui("prefilled", LANG, count=sum(1 for r in reg.rows if r["项目编码"] in values), path=prefill))
        if unit_form:
            units = generate(replace(_spec(UNIT_FORM), year=round_year), unit_rows(reg.rows), out, password=pw,
                             per_unit=True, jobs=jobs or usable_cores())
            typer.echo(ui("generated_units", LANG, count=len(units), dir=out))
        if make_zip:
            zips = zip_unit_folders(out, folders)
            typer.echo(ui("zipped", LANG, count=len(zips), dir=out))
        if password_note:
            typer.echo(password_note)

    @app.command("validate", help=h("validate"))
    def validate_cmd(
        paths: Paths,
        registry: RegistryPath,
        json_out: JsonOut = None,
        strict: Strict = False,
        reject_yesno: RejectYesno = False,
        duplicates: str = typer.Option("error", "--duplicates", help=h("duplicates")),
        jobs: Jobs = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
        feedback: Optional[Path] = typer.Option(None, "--feedback", help=h("feedback")),
        password: Optional[str] = typer.Option(None, "--password", help=h("password")),
        year: Year = None,
        forms: ExtraForms = None,
    ):
        reg = _reading_setup(forms, registry)
        report = _run_validation(paths, reg, _options(strict, reject_yesno, duplicates), jobs, year=year)
        print_report(report, quiet, verbose=verbose,
                     details=ui("details_with_json", LANG, json=json_out) if json_out else "")
        if feedback:
            from .feedback import write_all_feedback

            pw = password or _password_for(feedback)[0]
            written = write_all_feedback(report.files, reg, feedback, pw, LANG, year=report.year)
            typer.echo(ui("feedback_written", LANG, count=len(written), dir=feedback))
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, report.to_json(LANG))
            typer.echo(ui("json_written", LANG, path=json_out))
        raise typer.Exit(0 if report.count("rejected") == 0 else 1)

    @app.command("consolidate", help=h("consolidate"))
    def consolidate_cmd(
        paths: Paths,
        registry: RegistryPath,
        out: Path = typer.Option(..., "-o", "--out", help=h("master_out")),
        fmt: Optional[str] = typer.Option(None, "--format", help=h("format")),
        json_out: JsonOut = None,
        strict: Strict = False,
        reject_yesno: RejectYesno = False,
        duplicates: str = typer.Option("latest", "--duplicates", help=h("duplicates")),
        jobs: Jobs = None,
        quiet: Quiet = False,
        verbose: Verbose = False,
        year: Year = None,
        forms: ExtraForms = None,
    ):
        formats = _output_formats(out, fmt)
        reg = _reading_setup(forms, registry)
        report = _run_validation(paths, reg, _options(strict, reject_yesno, duplicates), jobs, year=year)
        print_report(report, quiet, verbose=verbose,
                     details=ui("details_with_master", LANG, master=out) if "xlsx" in formats else "")
        info = _write_master(out, report, reg, formats)
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, report.to_json(LANG, {"master": info}))
        raise typer.Exit(0 if report.count("rejected") == 0 and info["missing"] == 0 else 1)

    @app.command("status", help=h("status"))
    def status_cmd(
        paths: Paths,
        registry: RegistryPath,
        json_out: JsonOut = None,
        jobs: Jobs = None,
        year: Year = None,
        deadline: Optional[str] = typer.Option(None, "--deadline", help=h("deadline")),
        feedback: Optional[Path] = typer.Option(None, "--feedback", help=h("status_feedback")),
        verbose: bool = typer.Option(False, "--verbose", "-v", help=h("status_verbose")),
        forms: ExtraForms = None,
    ):
        from .status import collect, parse_deadline, print_status, status_json

        due = None
        if deadline is not None:
            due = parse_deadline(deadline)
            if due is None:
                _err(ui("bad_deadline", LANG, value=deadline))
        reg = _reading_setup(forms, registry)
        # the newest valid return wins, exactly as in consolidate (its default --duplicates latest)
        report = _run_validation(paths, reg, _options(False, False, "latest"), jobs, allow_empty=True, year=year)
        status = collect(report, reg, LANG, feedback_dir=feedback, deadline=due)
        data = status_json(status, reg, LANG)
        print_status(_console(), status, data, LANG, feedback, verbose=verbose)
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, data)
        raise typer.Exit(1 if status.is_open else 0)

    @app.command("diff", help=h("diff"))
    def diff_cmd(old: Path = typer.Argument(..., help=h("old")), new: Path = typer.Argument(..., help=h("new")),
                 json_out: Optional[Path] = typer.Option(None, "--json", help=h("diff_json"))):
        from .diff import diff_returns, is_master
        from .model import printable_path

        from .diff import sheet_names
        from .publish_round import master_spec

        rounds = [master_spec(sheet_names(path)) if path.is_file() else None for path in (old, new)]
        if any(rounds):  # masters of a later round: the sheets their spec declares, row by row
            _diff_round_masters(old, new, rounds, json_out)
        masters = (is_master(old), is_master(new))
        if all(masters):
            from .diff import diff_masters, has_changes, print_masters
            from .publish import PublishError, read_master

            loaded = []
            for path in (old, new):
                try:
                    loaded.append(read_master(path))
                except (PublishError, OSError):
                    _err(ui("diff_master_unreadable", LANG, path=printable_path(str(path))))
            result = diff_masters(*loaded)
            print_masters(_console(), result, old, new, LANG)
            if json_out:
                from .pipeline import write_json_atomic

                write_json_atomic(json_out, {"old": printable_path(str(old)), "new": printable_path(str(new)), "kind": "masters", **result})
            # the exit code as for two returns: 1 when anything differs
            raise typer.Exit(1 if has_changes(result) else 0)
        if any(masters):
            master, other = (old, new) if masters[0] else (new, old)
            _err(ui("diff_master_mixed", LANG, master=printable_path(str(master)), other=printable_path(str(other))))
        from .reader import read_file

        a, b = read_file(old), read_file(new)
        for res in (a, b):
            if res.data is None:
                msgs = "; ".join(i.message(LANG) for i in res.issues)
                _err(ui("diff_return_unreadable", LANG, path=printable_path(res.path), message=msgs))
        if a.kind != b.kind:
            _err(ui("diff_kinds", LANG, old=printable_path(str(old)), new=printable_path(str(new))))
        changes = diff_returns(a, b)
        from rich.table import Table

        t = Table(title=f"{printable_path(str(old))} → {printable_path(str(new))}", title_justify="left")
        for col in ("cell", "field", "old", "new"):
            t.add_column(ui(col, LANG), overflow="fold")
        for c in changes:
            t.add_row(f"{c['sheet']}!{c['cell']}", c["field"], c["old"], c["new"])
        _console().print(t)
        typer.echo(ui("diff_count", LANG, count=len(changes)))
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, {"old": printable_path(str(old)), "new": printable_path(str(new)), "changes": changes})
        raise typer.Exit(1 if changes else 0)

    @app.command("publish", help=h("publish"))
    def publish_cmd(master: Path = typer.Argument(..., help=h("master_in")),
                    out: Path = typer.Option(..., "-o", "--out", help=h("docx_out")),
                    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help=h("pdf")),
                    unit: Optional[str] = typer.Option(None, "--unit", help=h("publish_unit")),
                    allow_incomplete: bool = typer.Option(False, "--allow-incomplete", help=h("allow_incomplete")),
                    year: Optional[int] = typer.Option(None, "--year", min=1900, max=2999, help=h("publish_year"))):
        from .publish import PublishError, publish

        try:
            result = publish(master, out, pdf=pdf, unit=unit, allow_incomplete=allow_incomplete, year=year)
        except PublishError as exc:
            _err(exc.message(LANG))
        except OSError as exc:
            _err(f"{out}: {exc.strerror or exc}")
        sep = "；" if LANG == "zh" else "; "
        for u in result.withheld:
            typer.echo(ui("publish_withheld", LANG, unit=u.code, name=u.name,
                          gaps=sep.join(g.message(LANG) for g in u.gaps)), err=True)
        for u in result.marked:
            for g in u.gaps:
                typer.echo(ui("publish_marked", LANG, unit=u.code, name=u.name, gap=g.message(LANG)))
        for p in result.written:
            typer.echo(ui("published", LANG, path=p))
        typer.echo(ui("publish_summary", LANG, year=result.year, withheld=len(result.withheld),
                      published=len({p.with_suffix("") for p in result.written})))
        raise typer.Exit(1 if result.withheld else 0)

    @app.command("demo", help=h("demo"))
    def demo_cmd(out: Path = typer.Option(Path("xlperf-demo"), "-o", "--out", help=h("demo_out")),
                 cycle: bool = typer.Option(False, "--cycle", help=h("demo_cycle"))):
        from .demo import run_demo

        code = run_demo(out, LANG, echo=typer.echo, print_report=print_report, write_master=_write_master)
        if cycle:
            from .demo import run_cycle

            code = max(code, run_cycle(out, LANG, echo=typer.echo, print_report=print_report,
                                       write_master=_write_master))
        raise typer.Exit(code)

    return app


def _formats(fmt: str) -> tuple[str, ...]:
    formats = tuple(x.strip().lower() for x in fmt.split(",") if x.strip())
    bad = [x for x in formats if x not in ("xlsx", "csv", "parquet")]
    if bad or not formats:
        _err(f"--format: xlsx,csv,parquet ({fmt})")
    return formats


def _output_formats(out: Path, fmt: str | None) -> tuple[str, ...]:
    """The formats to write: --format if given, else the one -o names (master.csv means CSV tables)."""
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in ("xlsx", "csv", "parquet"):
        _err(ui("out_suffix", LANG, path=out))
    if fmt is None:
        return (suffix,)
    formats = _formats(fmt)
    if "xlsx" in formats and suffix != "xlsx":
        _err(ui("out_format_conflict", LANG, path=out, formats=fmt))
    return formats


def _write_master(out: Path, report, reg, formats=("xlsx",)) -> dict:
    from .master import write_master

    try:
        info = write_master(out, report, reg, formats, LANG)
    except OSError as exc:
        _err(f"{out}: {exc}")
    if "xlsx" in formats:
        typer.echo(ui("master_written", LANG, path=out, projects=info["projects"], total=info["budget_total"],
                      indicators=info["indicators"]))
    else:
        typer.echo(ui("written_files", LANG, files="、".join(info["written"])))
    if "score_mean" in info:
        grades = list(info["grades"].values()) + [0, 0, 0, 0]
        typer.echo(ui("cycle_scores", LANG, mean=info["score_mean"], excellent=grades[0], good=grades[1],
                      fair=grades[2], poor=grades[3]))
    if info["missing"]:
        typer.echo(ui("missing", LANG, count=info["missing"]))
    return info


PASSWORD_FILE = "password.txt"


def default_round_year() -> int:
    """The budget year being prepared: next calendar year."""
    import datetime as dt

    return dt.date.today().year + 1


def _password_for(out: Path) -> tuple[str, str]:
    """The output folder's password and what to tell about it: the one already in password.txt
    (templates sent earlier stay openable with it), else a new one written there. Never replaced."""
    from .writer import new_password

    path = out / PASSWORD_FILE
    if path.is_file():
        existing = path.read_text(encoding="utf-8", errors="replace").strip()
        if existing:
            return existing, ui("password_reused", LANG, path=path)
    return _write_password(out, new_password()), ui("password_file", LANG, path=path)


def _write_password(out: Path, pw: str) -> str:
    from .atomic import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / PASSWORD_FILE) as tmp:
        tmp.write_text(pw + "\n", encoding="utf-8")
        try:
            os.chmod(tmp, 0o600)
        except OSError:
            pass
    return pw


def _take_lang(argv: list[str]) -> list[str]:
    """Pull --lang out of argv wherever it stands, so help texts are built in that language."""
    global LANG
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--lang" and i + 1 < len(argv):
            LANG = get_lang(argv[i + 1])
            i += 2
            continue
        if a.startswith("--lang="):
            LANG = get_lang(a.split("=", 1)[1])
            i += 1
            continue
        out.append(a)
        i += 1
    return out


def _safe_stdio() -> None:
    """Console output never fails on a character: a file name that is not UTF-8 prints as \\xNN."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):  # replaced streams (tests, pipes) keep their own settings
            pass


def main(argv: list[str] | None = None) -> None:
    from .cli_locale import print_usage_error, t

    _safe_stdio()
    err = lambda text: typer.echo(text, err=True)  # noqa: E731
    try:
        args = _take_lang(list(sys.argv[1:] if argv is None else argv))
        os.environ["XLPERF_LANG"] = LANG
        app = build_app()
        code = app(args=args, prog_name="xlperf", standalone_mode=False)
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # last resort: a message, never a traceback (XLPERF_DEBUG=1 shows it)
        from typer._click import exceptions as click_errors

        if isinstance(exc, typer.Abort):
            code = 130
        elif exc.__class__.__name__ == "NoArgsIsHelpError":
            typer.echo(exc.ctx.get_help())
            code = 0
        elif isinstance(exc, click_errors.UsageError):
            print_usage_error(exc, LANG, err)
            code = 2
        elif isinstance(exc, click_errors.ClickException):
            err(t("error", LANG) + exc.format_message())
            code = exc.exit_code
        elif os.environ.get("XLPERF_DEBUG"):
            raise
        else:
            err(("内部错误：" if LANG == "zh" else "internal error: ") + f"{type(exc).__name__}: {exc}")
            code = 2
    if code == 130:
        sys.unraisablehook = lambda _unraisable: None  # see entry._on_interrupt
        err(t("interrupted", LANG))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
