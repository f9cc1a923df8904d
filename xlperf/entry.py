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
    try:
        cli_main()
    except SystemExit as done:
        if isinstance(done.code, int):
            _leave(done.code)
        raise


def _leave(code: int) -> None:
    """Exit without freeing every object one by one: after a round that is ~0.1 s per 1,000 returns
    read, spent on memory the system takes back anyway. The exit handlers still run (they stop the
    reading workers' fork server and remove multiprocessing's temporary folder), output is flushed,
    and every file the command wrote is closed by then."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed pipe: nothing more can be said on it
            pass
    os._exit(code)
