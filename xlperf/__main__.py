"""python -m xlperf: the same as the xlperf command."""
import os as _os
import sys as _sys


def _drop_working_folder() -> None:
    """Take the working folder off sys.path before anything else is imported.

    ``python -m`` puts the working folder first on sys.path; it is typically the folder of returns,
    where a ``typer.py`` or ``select.py`` that arrived as an attachment would otherwise be imported.
    """
    if _sys.flags.safe_path:
        return
    try:
        cwd = _os.path.realpath(_os.getcwd())
    except OSError:  # the working folder was removed: keep only absolute entries that still resolve
        cwd = None
    keep = []
    for entry in _sys.path:
        if entry in ("", "."):
            continue
        try:
            if cwd is not None and _os.path.realpath(entry) == cwd:
                continue
        except (OSError, ValueError):
            continue
        keep.append(entry)
    _sys.path[:] = keep


_drop_working_folder()

from xlperf.entry import main  # noqa: E402  (after the sys.path clean-up, on purpose)

if __name__ == "__main__":
    main()
