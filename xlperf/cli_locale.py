"""Chinese for the command-line framework's own words: help layout, type names and usage errors.

Typer (with its vendored Click) prints fixed English ("Usage:", "Show this message and exit.",
"<bool>", "Missing option …"). Help is localised by small patches applied before the app is built;
usage errors are not printed by Typer at all: the CLI runs it with ``standalone_mode=False`` and
renders the exception here, from its class and parameters, in the interface language.
The patches touch Typer internals, so pyproject pins Typer to the minor version they were written
for, and tests/test_cli_round.py checks the real help and error output.
"""
from __future__ import annotations

import re

# Type labels Typer shows in help (display_type), in Chinese; None hides the label (flags).
TYPE_LABELS_ZH = {
    "<bool>": None,
    "<path>": "<路径>",
    "<list[Path]>": "<路径>",
    "<str>": "<文本>",
    "<text>": "<文本>",
    "<int>": "<整数>",
    "<int range>": "<整数>",
    "<float>": "<数字>",
    "<float range>": "<数字>",
}

TEXTS = {
    "usage": ("用法：", "Usage: "),
    "options_metavar": ("[选项]", "[OPTIONS]"),
    "help_option": ("显示本帮助并退出。", "Show this message and exit."),
    "try_help": ("查看帮助：{command} {help}", "Try '{command} {help}' for help."),
    "error": ("错误：", "Error: "),
    "missing_option": ("缺少必填选项 {name}", "Missing option {name}."),
    "missing_argument": ("缺少必填参数 {name}", "Missing argument {name}."),
    "no_such_option": ("没有这个选项：{name}", "No such option: {name}"),
    "did_you_mean": ("（是否想用 {names}？）", " (Possible options: {names})"),
    "option_needs_value": ("选项 {name} 需要一个值", "Option {name} requires an argument."),
    "option_takes_no_value": ("选项 {name} 不接受值", "Option {name} does not take a value."),
    "bad_value": ("{name} 的值无效：{detail}", "Invalid value for {name}: {detail}"),
    "bad_value_plain": ("{name} 的值无效", "Invalid value for {name}"),
    "extra_args": ("多余的参数：{args}", "Got unexpected extra argument(s): {args}"),
    "no_such_command": ("没有这个命令：{name}（可用命令见 xlperf -h）", "No such command: {name} (see xlperf -h)"),
    "missing_command": ("缺少命令（可用命令见 xlperf -h）", "Missing command (see xlperf -h)."),
    "usage_other": ("命令行用法有误", "Invalid usage"),
    "interrupted": ("已中断", "interrupted"),
}

# Click's English detail of a bad value, by pattern, in Chinese; what matches none is not shown in Chinese.
_DETAILS_ZH = (
    (re.compile(r"^'?(.*?)'? is not a valid integer(?: range)?\.?$"), "“{0}”不是整数"),
    (re.compile(r"^'?(.*?)'? is not a valid float(?: range)?\.?$"), "“{0}”不是数字"),
    (re.compile(r"^'?(.*?)'? is not a valid boolean\.?$"), "“{0}”不是 是/否 值"),
    (re.compile(r"^(.*?) is not in the range (.*?)\.?$"), "{0} 不在允许范围 {1} 内"),
    (re.compile(r"^'?(.*?)'? is not one of (.*?)\.?$"), "“{0}”不是可选值 {1} 之一"),
    # Typer 0.29 coerces with pydantic: its messages
    (re.compile(r"^Input should be a valid integer"), "应为整数"),
    (re.compile(r"^Input should be a valid number"), "应为数字"),
    (re.compile(r"^Input should be a valid boolean"), "应为 是/否 值"),
    (re.compile(r"^Input should be less than or equal to (\S+)"), "应不大于 {0}"),
    (re.compile(r"^Input should be greater than or equal to (\S+)"), "应不小于 {0}"),
    (re.compile(r"^Input should be less than (\S+)"), "应小于 {0}"),
    (re.compile(r"^Input should be greater than (\S+)"), "应大于 {0}"),
)


def t(key: str, lang: str, **params) -> str:
    zh, en = TEXTS[key]
    return (en if lang == "en" else zh).format(**params)


def when_imported(name: str, patch) -> None:
    """Call patch(module) once the module *name* is imported: now if it already is, else right after
    its code has run (a finder placed first on sys.meta_path wraps its loader, then steps aside)."""
    import sys

    if name in sys.modules:
        patch(sys.modules[name])
    else:
        sys.meta_path.insert(0, _PatchOnImport(name, patch))


class _PatchOnImport:
    """The finder of :func:`when_imported`: finds nothing itself, it only wraps the real loader."""

    def __init__(self, name: str, patch):
        self.name, self.patch = name, patch

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        import importlib.util
        import sys

        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, self.patch)
        return spec


class _PatchingLoader:
    def __init__(self, loader, patch):
        self.loader, self.patch = loader, patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        self.patch(module)


def localise_help(lang: str) -> None:
    """Patch the help layout's fixed words (Chinese only; English keeps Typer's own)."""
    if lang == "en":
        return
    from typer import core as typer_core
    from typer._click import core as click_core
    from typer._click import formatting

    def panel_words(rich_utils) -> None:
        rich_utils.OPTIONS_PANEL_TITLE = "选项"
        rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
        rich_utils.COMMANDS_PANEL_TITLE = "命令"
        rich_utils.REQUIRED_LONG_STRING = "[必填]"
        rich_utils.DEFAULT_STRING = "[默认：{}]"
        rich_utils.ENVVAR_STRING = "[环境变量：{}]"
        rich_utils.ERRORS_PANEL_TITLE = "错误"
        rich_utils.ABORTED_TEXT = t("interrupted", lang)
        rich_utils.DEPRECATED_STRING = "（已弃用）"

    # Typer imports its help layout only to print help (~0.1 s with rich's markdown): patched then.
    when_imported("typer.rich_utils", panel_words)

    write_usage = formatting.HelpFormatter.write_usage

    def write_usage_zh(self, prog, args="", prefix=None):
        args = args.replace("[OPTIONS]", t("options_metavar", lang)).replace("COMMAND [ARGS]...", "命令 [参数]...")
        return write_usage(self, prog, args,
                           t("usage", lang) if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = write_usage_zh

    for cls in (typer_core.TyperOption, typer_core.TyperArgument):
        original = cls.display_type_rich

        def display_type_zh(self, ctx, _original=original):
            label = _original(self, ctx)
            return TYPE_LABELS_ZH.get(label, label) if isinstance(label, str) else label

        cls.display_type_rich = display_type_zh

    get_help_option = click_core.Command.get_help_option

    def get_help_option_zh(self, ctx):
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = t("help_option", lang)
        return option

    click_core.Command.get_help_option = get_help_option_zh


def _param_name(exc) -> str:
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if hint:
        return " / ".join(hint) if isinstance(hint, (list, tuple)) else str(hint)
    if param is not None:
        opts = [o for o in getattr(param, "opts", []) if o.startswith("-")]
        if opts:
            return " / ".join(opts)
        return (getattr(param, "name", "") or "").upper()
    return ""


def _detail(message: str, lang: str) -> str:
    if lang == "en":
        return message
    for pattern, zh in _DETAILS_ZH:
        m = pattern.match(message.strip())
        if m:
            return zh.format(*m.groups())
    return ""


def usage_error_text(exc, lang: str) -> str:
    """The message of a Click/Typer usage error, in the interface language, from its class and fields."""
    from typer._click import exceptions as ce

    name = _param_name(exc)
    if isinstance(exc, ce.MissingParameter):
        kind = getattr(exc, "param_type", None) or getattr(getattr(exc, "param", None), "param_type_name", "")
        return t("missing_argument" if kind == "argument" else "missing_option", lang, name=name)
    if isinstance(exc, ce.NoSuchOption):
        text = t("no_such_option", lang, name=exc.option_name)
        if getattr(exc, "possibilities", None):
            text += t("did_you_mean", lang, names="、".join(sorted(exc.possibilities)))
        return text
    if isinstance(exc, ce.BadOptionUsage):
        key = "option_takes_no_value" if "does not take" in exc.message else "option_needs_value"
        return t(key, lang, name=exc.option_name)
    if isinstance(exc, ce.BadParameter):
        detail = _detail(exc.message, lang)
        return t("bad_value", lang, name=name, detail=detail) if detail else t("bad_value_plain", lang, name=name)
    message = getattr(exc, "message", "") or ""
    m = re.match(r"Got unexpected extra arguments? \((.*)\)", message)
    if m:
        return t("extra_args", lang, args=m.group(1))
    m = re.match(r"No such command '?(.*?)'?\.?$", message)
    if m:
        return t("no_such_command", lang, name=m.group(1))
    if message.startswith("Missing command"):
        return t("missing_command", lang)
    return message if lang == "en" else t("usage_other", lang)


def print_usage_error(exc, lang: str, echo) -> None:
    """Usage line, where help is, and the error: what Click prints, in the interface language."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        usage = ctx.get_usage()
        if lang != "en":
            usage = usage.replace("Usage: ", t("usage", lang)).replace("[OPTIONS]", t("options_metavar", lang)) \
                .replace("COMMAND [ARGS]...", "命令 [参数]...")
        echo(usage)
        echo(t("try_help", lang, command=ctx.command_path, help="-h"))
    echo(t("error", lang) + usage_error_text(exc, lang))
