"""Command line (Typer): parse options, show progress, print reports, choose exit codes."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .messages import get_lang, ui

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
    "unit_form": ("同时为每个单位生成一份“部门整体绩效目标”表。", "also generate one unit-level form (部门整体绩效目标) per unit."),
    "validate": ("校验报送的工作簿（文件或文件夹，递归查找），逐个文件列出问题。退出码：0 全部通过，1 有退回或缺报，2 用法或输入错误。", "validate returned workbooks (files or folders, searched recursively) and list the problems per file. Exit codes: 0 all accepted, 1 something rejected or missing, 2 bad usage or unreadable inputs."),
    "paths": ("报送的工作簿或文件夹。", "returned workbooks or folders."),
    "json": ("把校验报告写成 JSON 文件。", "write the validation report as JSON."),
    "strict": ("提示（warning）也作为退回处理。", "treat warnings as rejections."),
    "reject_yesno": ("指标值为“是否”时作为错误退回（默认只提示）。", "reject '是否' as an indicator value (default: warning)."),
    "duplicates": ("同一项目多份不同内容的报送：error 报错（默认于 validate），latest 以最新一份为准。", "several different returns of one project: error, or latest wins."),
    "feedback": ("为每个退回的文件生成反馈工作簿（问题单元格标红并加批注，附问题清单）到该文件夹。", "write a feedback workbook per rejected return (problem cells marked with comments, plus a 问题清单 sheet) into this folder."),
    "prefill": ("用上一年的汇总表（master.xlsx）预填相同项目编码的绩效目标和指标（仍可修改）。", "prefill goals and indicators of the same project codes from last year's master (still editable)."),
    "status": ("报送情况：按单位和项目列出 已通过 / 退回 / 未报送，并给出可直接发送的催报清单。", "collection status per unit and project (accepted / rejected / missing) and a reminder list ready to send."),
    "diff": ("比较同一项目的两份报送，列出改动的单元格及新旧值。", "compare two returns of one project and list the changed cells with old and new values."),
    "old": ("旧的报送文件。", "the older return."),
    "new": ("新的报送文件。", "the newer return."),
    "publish": ("由汇总表为每个单位生成一份公开文本（{单位编码}_{单位名称}_{年度}年部门预算绩效目标.docx，涉密内容以“涉密”代替）；有 LibreOffice 时同时生成 PDF。缺部门整体绩效目标表或有项目未报送的单位不生成（退出码 1）。", "build one disclosure document per unit from a master ({单位编码}_{单位名称}_{年度}年部门预算绩效目标.docx, classified content shown as 涉密); a PDF too when LibreOffice is present. A unit whose unit-level form or any project is missing is not published (exit 1)."),
    "master_in": ("汇总表（xlperf consolidate 的输出）。", "the master workbook (output of xlperf consolidate)."),
    "docx_out": ("输出文件夹（每个单位一份）；只生成一个单位时也可给出 .docx 文件路径。", "output folder (one document per unit); a .docx file path when exactly one unit is published."),
    "pdf": ("有 LibreOffice 时同时转换为 PDF。", "also convert to PDF when LibreOffice is present."),
    "jobs": ("并行读取的进程数。", "worker processes for reading."),
    "jobs_generate": ("并行生成模板的进程数（如 2 = 用两个 CPU 核）。", "processes writing templates (e.g. 2 = use two CPU cores)."),
    "quiet": ("只输出汇总，不逐个文件列出。", "print only the summary, not every file."),
    "consolidate": ("校验并把通过的报送汇总成总表（项目汇总、绩效指标、问题清单、未报送、概览）。", "validate and consolidate the accepted returns into the master workbook (项目汇总, 绩效指标, 问题清单, 未报送, 概览)."),
    "master_out": ("汇总表输出路径（.xlsx）。", "master workbook path (.xlsx)."),
    "format": ("输出格式，逗号分隔：xlsx,csv,parquet。", "output formats, comma separated: xlsx,csv,parquet."),
    "demo": ("演示完整流程：用内置的 15 个项目生成模板、模拟填报、校验并汇总。", "run the whole round on the bundled 15 projects: generate, fill, validate, consolidate."),
    "demo_out": ("演示输出文件夹。", "demo output folder."),
    "publish_unit": ("只生成该单位编码的公开文本。", "publish this unit code only."),
    "allow_incomplete": ("缺项的单位也生成公开文本，缺项处标明“（未报送）”。", "publish incomplete units too, with the gaps marked （未报送）."),
    "publish_year": ("年度（默认取汇总表中的年度）。", "the year (default: the year the master carries)."),
}


def h(key: str) -> str:
    zh, en = HELP[key]
    return en if LANG == "en" else zh


def _localise_typer() -> None:
    if LANG != "zh":
        return
    try:
        import typer.rich_utils as ru

        ru.OPTIONS_PANEL_TITLE = "选项"
        ru.ARGUMENTS_PANEL_TITLE = "参数"
        ru.COMMANDS_PANEL_TITLE = "命令"
        ru.REQUIRED_LONG_STRING = "[必填]"
        ru.DEFAULT_STRING = "[默认：{}]"
        ru.ENVVAR_STRING = "[环境变量：{}]"
    except Exception:  # cosmetic only
        pass


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _err(msg: str, code: int = 2):
    typer.echo(msg, err=True)
    raise typer.Exit(code)


def _registry(path: Path):
    from .registry import RegistryError, load_registry

    try:
        return load_registry(path)
    except RegistryError as exc:
        _err(ui("registry_error", LANG, path=path, error=exc))


def _spec(name: str):
    from .spec import load_spec

    try:
        return load_spec(name)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        _err(f"{name}: {exc}")


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


def _run_validation(paths, registry, opts, jobs, allow_empty: bool = False):
    from .pipeline import run
    from .reader import discover

    files, skipped = discover(paths)
    if not files and not skipped and not allow_empty:
        _err(ui("no_inputs", LANG, paths=" ".join(map(str, paths))))
    with _progress(len(files), ui("reading", LANG)) as (prog, task):
        tick = (lambda: prog.advance(task)) if prog else None
        return run(paths, registry, opts, jobs=jobs, progress=tick)


def print_report(report, quiet: bool = False, limit: int = 30) -> None:
    from rich.table import Table

    con = _console()
    if not quiet:
        for f in report.files:
            status = ui(f.status, LANG)
            color = {"accepted": "green", "rejected": "red", "skipped": "yellow"}[f.status]
            title = f"[{color}]{status}[/] {f.path}" + (f"  ({f.project_code})" if f.project_code else "")
            if not f.issues:
                con.print(f"{title}  —  {ui('no_issues', LANG)}")
                continue
            t = Table(title=title, title_justify="left", show_lines=False, expand=False)
            for key in ("code", "cell", "message"):
                t.add_column(ui(key, LANG), overflow="fold")
            for i in f.issues[:limit]:
                where = f"{i.sheet}!{i.cell}" if i.sheet and i.cell else (i.sheet or i.cell)
                sev = "red" if i.severity == "error" else "yellow"
                t.add_row(f"[{sev}]{i.code}[/]", where, i.message(LANG))
            if len(f.issues) > limit:
                t.add_row("…", "", ui("more_issues", LANG, count=len(f.issues) - limit))
            con.print(t)
    con.print(ui("summary", LANG, **report.summary()))


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

    @app.command("generate", help=h("generate"))
    def generate_cmd(
        registry: Path = typer.Argument(..., help=h("registry")),
        out: Path = typer.Option(..., "-o", "--out", help=h("out_dir")),
        password: Optional[str] = typer.Option(None, "--password", help=h("password")),
        slots: Optional[int] = typer.Option(None, "--slots", min=1, max=10, help=h("slots")),
        form: str = typer.Option("project_2021", "--form", help=h("form")),
        unit_form: bool = typer.Option(True, "--unit-form/--no-unit-form", help=h("unit_form")),
        prefill: Optional[Path] = typer.Option(None, "--prefill", help=h("prefill")),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help=h("jobs_generate")),
    ):
        from .spec import UNIT_FORM
        from .writer import generate, new_password, unit_rows

        spec = _spec(form)
        reg = _registry(registry)
        values = _prefill(prefill) if prefill else None
        pw = password or _write_password(out, new_password())
        with _progress(len(reg.rows), "生成" if LANG == "zh" else "generating") as (prog, task):
            paths = generate(spec, reg.rows, out, password=pw, slots=slots, prefill=values, jobs=jobs,
                             progress=(lambda: prog.advance(task)) if prog else None)
        typer.echo(ui("generated", LANG, count=len(paths), dir=out))
        if values is not None:
            typer.echo(ui("prefilled", LANG, count=sum(1 for r in reg.rows if r["项目编码"] in values), path=prefill))
        if unit_form:
            units = generate(_spec(UNIT_FORM), unit_rows(reg.rows), out, password=pw)
            typer.echo(ui("generated_units", LANG, count=len(units), dir=out))
        if not password:
            typer.echo(ui("password_file", LANG, path=out / "password.txt"))

    @app.command("validate", help=h("validate"))
    def validate_cmd(
        paths: List[Path] = typer.Argument(..., help=h("paths")),
        registry: Path = typer.Option(..., "--registry", "-r", help=h("registry")),
        json_out: Optional[Path] = typer.Option(None, "--json", help=h("json")),
        strict: bool = typer.Option(False, "--strict", help=h("strict")),
        reject_yesno: bool = typer.Option(False, "--reject-yesno", help=h("reject_yesno")),
        duplicates: str = typer.Option("error", "--duplicates", help=h("duplicates")),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help=h("jobs")),
        quiet: bool = typer.Option(False, "--quiet", "-q", help=h("quiet")),
        feedback: Optional[Path] = typer.Option(None, "--feedback", help=h("feedback")),
        password: Optional[str] = typer.Option(None, "--password", help=h("password")),
    ):
        reg = _registry(registry)
        report = _run_validation(paths, reg, _options(strict, reject_yesno, duplicates), jobs)
        print_report(report, quiet)
        if feedback:
            from .feedback import write_all_feedback
            from .writer import new_password

            pw = password or _write_password(feedback, new_password())
            written = write_all_feedback(report.files, reg, feedback, pw, LANG)
            typer.echo(ui("feedback_written", LANG, count=len(written), dir=feedback))
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, report.to_json(LANG))
            typer.echo(ui("json_written", LANG, path=json_out))
        raise typer.Exit(0 if report.count("rejected") == 0 else 1)

    @app.command("consolidate", help=h("consolidate"))
    def consolidate_cmd(
        paths: List[Path] = typer.Argument(..., help=h("paths")),
        registry: Path = typer.Option(..., "--registry", "-r", help=h("registry")),
        out: Path = typer.Option(..., "-o", "--out", help=h("master_out")),
        fmt: str = typer.Option("xlsx", "--format", help=h("format")),
        json_out: Optional[Path] = typer.Option(None, "--json", help=h("json")),
        strict: bool = typer.Option(False, "--strict", help=h("strict")),
        reject_yesno: bool = typer.Option(False, "--reject-yesno", help=h("reject_yesno")),
        duplicates: str = typer.Option("latest", "--duplicates", help=h("duplicates")),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help=h("jobs")),
        quiet: bool = typer.Option(False, "--quiet", "-q", help=h("quiet")),
    ):
        formats = _formats(fmt)
        reg = _registry(registry)
        report = _run_validation(paths, reg, _options(strict, reject_yesno, duplicates), jobs)
        print_report(report, quiet)
        info = _write_master(out, report, reg, formats)
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, report.to_json(LANG, {"master": info}))
        raise typer.Exit(0 if report.count("rejected") == 0 and info["missing"] == 0 else 1)

    @app.command("status", help=h("status"))
    def status_cmd(
        paths: List[Path] = typer.Argument(..., help=h("paths")),
        registry: Path = typer.Option(..., "--registry", "-r", help=h("registry")),
        json_out: Optional[Path] = typer.Option(None, "--json", help=h("json")),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help=h("jobs")),
    ):
        from .status import STATE_EN, STATE_ZH, project_states, reminders, status_json, unit_states

        reg = _registry(registry)
        report = _run_validation(paths, reg, _options(False, False, "latest"), jobs, allow_empty=True)
        states = project_states(report, reg, LANG)
        units = unit_states(report, reg)
        lines = reminders(states, units, reg, LANG)
        names = STATE_EN if LANG == "en" else STATE_ZH
        from rich.table import Table

        t = Table(title="报送情况" if LANG == "zh" else "collection status", title_justify="left")
        for col in (("单位", "unit"), ("项目编码", "project code"), ("项目名称", "project name"), ("状态", "status"), ("文件", "file")):
            t.add_column(col[1] if LANG == "en" else col[0], overflow="fold")
        color = {"accepted": "green", "rejected": "red", "missing": "yellow"}
        for s in states:
            t.add_row(s.unit_code, s.code, s.name, f"[{color[s.state]}]{names[s.state]}[/]", "；".join(s.files))
        con = _console()
        con.print(t)
        counts = status_json(states, units, lines)["summary"]
        con.print(ui("status_summary", LANG, **counts))
        if lines:
            con.print(ui("reminders", LANG))
            for ln in lines:
                typer.echo(ln)
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, status_json(states, units, lines))
        bad = counts["rejected"] + counts["missing"] + sum(1 for v in units.values() if v != "accepted")
        raise typer.Exit(1 if bad else 0)

    @app.command("diff", help=h("diff"))
    def diff_cmd(old: Path = typer.Argument(..., help=h("old")), new: Path = typer.Argument(..., help=h("new")),
                 json_out: Optional[Path] = typer.Option(None, "--json", help=h("json"))):
        from .reader import read_file
        from .status import diff_returns

        a, b = read_file(old), read_file(new)
        for res in (a, b):
            if res.data is None:
                msgs = "; ".join(i.message(LANG) for i in res.issues)
                _err(f"{res.path}: {msgs}")
        if a.kind != b.kind:
            _err(ui("diff_kinds", LANG, old=old, new=new))
        changes = diff_returns(a, b)
        from rich.table import Table

        t = Table(title=f"{old} → {new}", title_justify="left")
        for col in ("cell", "field", "old", "new"):
            t.add_column(ui(col, LANG), overflow="fold")
        for c in changes:
            t.add_row(f"{c['sheet']}!{c['cell']}", c["field"], c["old"], c["new"])
        _console().print(t)
        typer.echo(ui("diff_count", LANG, count=len(changes)))
        if json_out:
            from .pipeline import write_json_atomic

            write_json_atomic(json_out, {"old": str(old), "new": str(new), "changes": changes})
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
    def demo_cmd(out: Path = typer.Option(Path("xlperf-demo"), "-o", "--out", help=h("demo_out"))):
        from .demo import run_demo

        code = run_demo(out, LANG, echo=typer.echo, print_report=print_report, write_master=_write_master)
        raise typer.Exit(code)

    return app


def _formats(fmt: str) -> tuple[str, ...]:
    formats = tuple(x.strip().lower() for x in fmt.split(",") if x.strip())
    bad = [x for x in formats if x not in ("xlsx", "csv", "parquet")]
    if bad or not formats:
        _err(f"--format: xlsx,csv,parquet ({fmt})")
    return formats


def _write_master(out: Path, report, reg, formats=("xlsx",)) -> dict:
    from .master import write_master

    try:
        info = write_master(out, report, reg, formats, LANG)
    except OSError as exc:
        _err(f"{out}: {exc}")
    typer.echo(ui("master_written", LANG, path=out, projects=info["projects"], total=info["budget_total"],
                  indicators=info["indicators"]))
    if info["missing"]:
        typer.echo(ui("missing", LANG, count=info["missing"]))
    return info


def _write_password(out: Path, pw: str) -> str:
    out.mkdir(parents=True, exist_ok=True)
    p = out / "password.txt"
    p.write_text(pw + "\n", encoding="utf-8")
    try:
        os.chmod(p, 0o600)
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


def main(argv: list[str] | None = None) -> None:
    args = _take_lang(list(sys.argv[1:] if argv is None else argv))
    os.environ["XLPERF_LANG"] = LANG
    app = build_app()
    try:
        app(args=args, prog_name="xlperf")
    except KeyboardInterrupt:
        typer.echo("已中断" if LANG == "zh" else "interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # last resort: a message, never a traceback (XLPERF_DEBUG=1 shows it)
        if os.environ.get("XLPERF_DEBUG"):
            raise
        typer.echo(("内部错误：" if LANG == "zh" else "internal error: ") + f"{type(exc).__name__}: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
