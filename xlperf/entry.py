"""The `xlperf` command's entry point: Ctrl-C is handled before anything heavy is imported."""
from __future__ import annotations

import os
import signal
import sys


def _on_interrupt(_signum, _frame) -> None:
    # Objects cut off mid-write (a zip being built) complain when they are freed: noise after an
    # interruption the user asked for, which must end in one line and no traceback.
    sys.unraisablehook = lambda _unraisable: None
    raise KeyboardInterrupt


def _interrupted_text(argv: list[str]) -> str:
    pairs = zip(argv, argv[1:] + [""])
    english = "--lang=en" in argv or ("--lang", "en") in pairs \
        or (os.environ.get("XLPERF_LANG") or "").lower().startswith("en")
    return "interrupted" if english else "已中断"


def main() -> None:
    try:
        signal.signal(signal.SIGINT, _on_interrupt)
    except ValueError:  # not the main thread (embedded use): keep the default handler
        pass
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write(_interrupted_text(sys.argv[1:]) + "\n")
        sys.exit(130)
    cli_main()
