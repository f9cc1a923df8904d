"""The collection round as plain functions: find files, read them (in worker processes), validate, report."""
from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from pathlib import Path

from .model import FileResult, Issue
from .reader import discover
from .registry import Registry
from .report import Report  # noqa: F401  (the report type every stage fills; imported from here since 0.1)
from .rules import Options, prepare, validate_results
from .workers import read_isolated


def round_year(results: list[FileResult], registry: Registry, explicit: int | None = None) -> int | None:
    """The year a round collects: given, else the registry's 年度, else the year most returns carry
    (the later one on a tie); None when nothing says."""
    if explicit:
        return explicit
    if getattr(registry, "year", None):
        return registry.year
    return majority_year(results)


def majority_year(results: list[FileResult]) -> int | None:
    """The year most of *results* carry in their metadata (the later one on a tie); None when none does."""
    from collections import Counter

    years = Counter(y for y in (r.data.year if r.data is not None else None for r in results) if y)
    if not years:
        return None
    return max(years.items(), key=lambda item: (item[1], item[0]))[0]


def check_year(results: list[FileResult], year: int | None) -> None:
    """A return made from another year's template is rejected, naming both years."""
    if not year:
        return
    for res in results:
        found = res.data.year if res.data is not None else None
        if found is not None and found != year:
            res.add(Issue.make("E010", found=found, expected=year))


def check_round(results: list[FileResult]) -> None:
    """One run collects one round: the round most returns belong to (targets on a tie); a return of
    another round (a monitoring form among self-evaluations) is rejected, naming both, never dropped."""
    from collections import Counter

    from .spec import load_spec

    specs = {name: load_spec(name) for name in {r.data.spec_name for r in results if r.data is not None}}
    rounds = Counter(specs[r.data.spec_name].round for r in results if r.data is not None)
    if len(rounds) <= 1:
        return
    main = max(rounds.items(), key=lambda item: (item[1], item[0] == "targets"))[0]
    names = {s.round: s.round_name for s in specs.values()}
    for res in results:
        spec = specs.get(res.data.spec_name) if res.data is not None else None
        if spec is not None and spec.round != main:
            res.add(Issue.make("E315", spec.meta_sheet, "round", expected=names[main], found=spec.round_name,
                               form=spec.title))


def run(paths: list, registry: Registry, opts: Options | None = None, jobs: int = 1, progress=None,
        on_total=None, year: int | None = None, found: tuple | None = None) -> Report:
    """Discover, read and validate; every file given ends up in the report exactly once.

    *found* is what :func:`discover` returned for *paths*, when the caller has already walked them."""
    files, skipped = found if found is not None else discover(paths)
    if on_total:
        on_total(len(files))
    opts = opts or Options()
    prepared: list = [None] * len(files)

    def on_result(i: int, res: FileResult) -> None:
        # The per-return rules, while the workers read on: ~0.2 ms a return that would
        # otherwise run after the last file, on one core. A failure here is left to validate_results.
        try:
            prepared[i] = prepare(res, registry, opts)
        except Exception:
            prepared[i] = None

    with gc_paused():  # unpickling 10,000 results makes no garbage cycles, only ~1.5 million objects to walk
        # worker processes: a crash costs one file
        results = read_isolated(files, jobs, progress=progress, on_result=on_result)
        # Frozen before the GC is on again: else its first pass walks all of them, still in generation 0
        # (~0.25 s at 10,000 returns). gc_frozen() below returns them to the GC when validation is done.
        gc.freeze()
    from .collection import expand

    results, prepared = expand(results, prepared)  # a sub-master's projects are judged one by one, like returns
    expected_year = round_year(results, registry, year)
    check_year(results, expected_year)
    check_round(results)
    with gc_frozen():
        validate_results(results, registry, opts, prepared)
    return Report(results + skipped, year=expected_year)


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside the block (the reference counting frees as usual)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def gc_frozen():
    """The cyclic GC skips every object that exists now: each full pass over the results of 10,000
    returns walks ~1.5 million objects (~0.15 s), and a growing heap triggers one pass after another.
    New garbage is still collected; the frozen objects return to the GC at the end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def write_json_atomic(path: Path, data) -> None:
    from .atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.write("\n")

