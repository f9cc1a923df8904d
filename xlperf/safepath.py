"""sys.path without the working folder: returns and their neighbours are never imported as code."""
import os
import sys


def without_working_folder(path: list[str]) -> list[str]:
    """*path* minus '' / '.' and any entry that is the working folder (the folder of returns, typically,
    where a ``typer.py`` or ``select.py`` that arrived as an attachment would otherwise be imported)."""
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:  # the working folder was removed: keep only entries that still resolve
        cwd = None
    keep = []
    for entry in path:
        if entry in ("", "."):
            continue
        try:
            if cwd is not None and os.path.realpath(entry) == cwd:
                continue
        except (OSError, ValueError):
            continue
        keep.append(entry)
    return keep


def drop_working_folder() -> None:
    """Take the working folder off this process's sys.path (``python -m`` puts it first)."""
    if not sys.flags.safe_path:
        sys.path[:] = without_working_folder(sys.path)
