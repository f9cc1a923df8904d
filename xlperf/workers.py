"""Read untrusted workbooks in worker processes, so that a crash or a hang costs one file, not the batch.

Returned workbooks are hostile input, and the parser is native code: a 13 KB workbook whose one cell
sits at XFD1048576 (and whose ``<dimension>`` is left out) makes calamine ask for 512 GiB and abort the
whole process. :func:`read_isolated` therefore runs :func:`xlperf.reader.read_file` in worker
processes that

- are forked from a lean fork server (``forkserver`` context: no inherited threads or locks from the
  parent, whose rich progress thread or background imports would make a plain ``fork`` unsafe, and
  an address space small enough for a meaningful memory limit);
- limit their own address space (``RLIMIT_AS``, ``Limits.read_mem_mb`` / ``XLPERF_READ_MEM_MB``);
- get their work in chunks (the next one sent ahead, so a worker never waits for the parent) and
  send the results back in batches: one pickle per chunk, or every ~0.25 s, whichever comes first.
  A shared 8-byte slot (an mmap) says which file a worker is on, so the parent knows the culprit
  without a message per file: one wake-up of the parent per batch instead of 3-4 per file, and the
  parent waits on all pipes with one long-lived selector;
- are killed when one file takes longer than ``Limits.read_timeout_s`` (``XLPERF_READ_TIMEOUT``);
  the kernel also ends a worker that burns CPU far beyond that (RLIMIT_CPU) or outlives the main
  process, so nothing is left running after a ``kill -9``.

When a worker dies (signal, abort, exit) or times out, the results it already sent are kept, the
file it was on is retried alone in a fresh worker, and its other files (read but not yet sent, or not
started) go back to the queue. Only a file that kills a fresh worker on its own is given up, as
``F017`` naming the file and the cause, so one poisoned file never takes a neighbour down with it.

Isolation is on even for a single file: one crafted file would otherwise end the run without a
report (a native abort cannot be caught), and a worker costs a few milliseconds once the fork
server runs, next to ~1 s of interpreter and pandas start-up. ``isolate=False`` (or
``XLPERF_READ_ISOLATION=0``) reads in-process, for debugging only.
"""
from __future__ import annotations

import contextlib
import math
import mmap
import os
import pickle
import selectors
import struct
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Callable

from .safepath import without_working_folder
from .model import FileResult, Issue
from .reader import read_file
from .safety import Limits

__all__ = ["read_isolated"]

_MiB = 2**20
_CHUNK_MAX = 64
# Imported once in the fork server, so every worker starts warm (the reader imports some lazily;
# xml.sax.saxutils alone pulls in urllib/http/email, ~45 ms per process).
_PRELOAD = ["xlperf.workers", "xlperf.safety", "python_calamine", "zipfile", "xml.sax.saxutils", "defusedxml.ElementTree"]
_READY = b"ready"
_STARTUP_S = 60.0  # extra time a worker gets to start (the first one waits for the fork server)
_FLUSH_S = 0.25  # a worker sends what it has at least this often (progress), else once per chunk
_POS = struct.Struct("<q")  # the shared slot: 1 + index of the file the worker is on (0: none yet)
_DELIVER_SLICE = 16  # results handed to on_result between two looks at the pipes


# --------------------------------------------------------------------------- worker side


def _worker_main(conn, mem_limit_mb: int, reader: Callable, limits: Limits, err_path: str,
                 cpu_budget_s: float = 60.0, pos_path: str = "") -> None:
    """Loop of one worker: receive a chunk [(index, path)], send back batches [(index, FileResult)].

    Before each file, its index goes into the slot at *pos_path* (shared with the parent): if the
    worker dies or hangs, the parent blames that file and no other.
    """
    _quiet_stderr(err_path)
    os.environ["RUST_BACKTRACE"] = "0"  # one line in the crash log, not a backtrace
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills the workers
    _die_with_main_process()
    _limit_memory(mem_limit_mb)
    try:
        from .spec import bundled_specs

        bundled_specs()  # parse the form specs once per worker, not once per file
    except Exception:
        pass
    pos = _open_pos(pos_path)
    dumps = pickle.dumps
    try:
        conn.send_bytes(_READY)  # started cleanly: from now on a death is blamed on a file
    except (BrokenPipeError, EOFError, OSError):
        return
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        batch: list = []
        flush_at = time.monotonic() + _FLUSH_S
        for k, (idx, path) in enumerate(chunk):
            if pos is not None:
                _POS.pack_into(pos, 0, idx + 1)
            _cpu_budget(cpu_budget_s)
            try:
                res = reader(path, limits=limits)
            except MemoryError:
                os._exit(99)  # the parent retries the file alone and reports it if it fails again
            except Exception as exc:  # a reader must not raise; if it does, the file is still reported
                res = _result(path, "F016", error=f"{type(exc).__name__}: {str(exc)[:200]}")
            batch.append((idx, res))
            # without the shared slot the parent can only blame the first unanswered file: answer each one
            if pos is None or k == len(chunk) - 1 or time.monotonic() >= flush_at:
                try:  # one pickle per batch: strings shared across its results are stored once
                    data = dumps(batch, pickle.HIGHEST_PROTOCOL)
                except MemoryError:
                    os._exit(99)
                try:
                    conn.send_bytes(data)
                except (BrokenPipeError, EOFError, OSError):
                    return
                batch = []
                flush_at = time.monotonic() + _FLUSH_S


def _open_pos(pos_path: str):
    """The worker's end of the shared slot (an mmap of a small file), or None if it cannot be had."""
    if not pos_path:
        return None
    try:
        with open(pos_path, "r+b") as fh:
            return mmap.mmap(fh.fileno(), _POS.size)
    except (OSError, ValueError):
        return None


def _quiet_stderr(err_path: str) -> None:
    """Native crash messages (Rust panics, 'memory allocation failed') go to a file the parent reads."""
    try:
        fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stderr = open(2, "w", closefd=False, errors="replace")
    except OSError:
        pass


def _die_with_main_process() -> None:
    """Do not outlive a main process killed without cleaning up (kill -9), even stuck in a parse.

    The fork server exits once every copy of its "alive" pipe is closed; the main process holds
    one and each worker inherits one, so the worker drops its copy, then asks the kernel (Linux
    PR_SET_PDEATHSIG) for SIGKILL when its parent, the fork server, goes away.
    """
    try:
        from multiprocessing import forkserver

        fs = getattr(forkserver, "_forkserver", None)
        fd = getattr(fs, "_forkserver_alive_fd", None)
        if fd is not None:
            os.close(fd)
            fs._forkserver_alive_fd = None
    except Exception:
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            parent = os.getppid()
            ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent went away before the request took effect
                os._exit(0)
        except Exception:
            pass


def _cpu_budget(seconds: float) -> None:
    """Let the kernel end this worker (SIGXCPU) if the next file burns more CPU than its budget.

    The parent's wall-clock timeout normally comes first; this is the net for a worker whose parent
    was killed without cleaning up (a parse stuck in native code holds the GIL, so no Python-level
    watchdog could act, and the fork server lives as long as its workers do).
    """
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(ru.ru_utime + ru.ru_stime + seconds) + 1
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass


def _limit_memory(mem_limit_mb: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    if not mem_limit_mb:
        return
    limit = int(mem_limit_mb) * _MiB
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _result(path, code: str, **params) -> FileResult:
    res = FileResult(str(path))
    res.add(Issue.make(code, **params))
    res.settle()
    return res


# --------------------------------------------------------------------------- parent side


class _Worker:
    __slots__ = ("proc", "conn", "pending", "deadline", "used", "fresh_for", "err_path", "ready", "pos", "pos_path",
                 "seen_pos", "chunk_ends")

    def __init__(self, proc, conn, err_path: str, pos_path: str = "", pos=None):
        self.proc = proc
        self.conn = conn
        self.pending: deque[int] = deque()  # file indexes sent and not yet answered, in order
        self.deadline = math.inf
        self.used = False  # has been given work before (no longer a clean room for a retry)
        self.fresh_for: int | None = None  # the one file this fresh worker was started to retry
        self.err_path = err_path
        self.ready = False  # sent its handshake (imports done, memory limit set)
        self.pos_path = pos_path
        self.pos = pos  # the slot the worker writes 1 + the index of the file it is on into (mmap), or None
        self.seen_pos = 0  # its value when the parent last looked
        self.chunk_ends: deque[int] = deque()  # last file index of each chunk sent and not finished

    def current(self) -> int | None:
        """Index of the file the worker is on (or was on last), from the shared slot."""
        if self.pos is None:
            return None
        try:
            v = _POS.unpack_from(self.pos, 0)[0]
        except (ValueError, struct.error):  # closed
            return None
        return v - 1 if v > 0 else None

    def moved_on(self) -> bool:
        """True once if the worker started another file since the last call."""
        if self.pos is None:
            return False
        try:
            v = _POS.unpack_from(self.pos, 0)[0]
        except (ValueError, struct.error):
            return False
        if v != self.seen_pos:
            self.seen_pos = v
            return True
        return False


_stop_registered = False


def _context():
    import multiprocessing as mp

    global _stop_registered
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        # '__main__' too: otherwise every worker re-runs the main script (the xlperf entry point
        # imports typer and rich); multiprocessing needs that main importable either way.
        ctx.set_forkserver_preload(["__main__", *_PRELOAD])
        if not _stop_registered:
            import atexit

            atexit.register(_stop_fork_server)
            _stop_registered = True
        return ctx
    return mp.get_context("spawn")  # pragma: no cover - Windows


@contextlib.contextmanager
def _safe_import_path():
    """Start processes that import nothing from the working folder (typically the folder of returns).

    The fork server (and, with ``spawn``, every worker) is a new interpreter run as ``python -c``, which
    puts the working folder first on sys.path and then imports ``selectors``, ``socket``, ``signal`` …:
    a ``select.py`` that arrived with the returns would run. ``PYTHONSAFEPATH=1`` keeps the working
    folder off that interpreter's path; the sys.path handed to the child (multiprocessing sends the
    parent's, with ``''`` turned into the working folder) is cleaned the same way.
    """
    saved_env = os.environ.get("PYTHONSAFEPATH")
    saved_path = list(sys.path)
    os.environ["PYTHONSAFEPATH"] = "1"
    sys.path[:] = without_working_folder(saved_path)
    try:
        yield
    finally:
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = saved_env


def _stop_fork_server() -> None:
    """At exit, stop and reap the fork server instead of leaving it to notice our death.

    It has reaped the workers, so their resource usage (peak memory, CPU) is then accounted to this
    process and to whoever waits for it, like that of ordinary child processes.
    """
    try:
        from multiprocessing import forkserver

        stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
        if stop is not None:
            stop()
    except Exception:
        pass


def start_early() -> None:
    """Start the fork server now: its interpreter starts and imports the reader (~0.15 s) while the
    caller goes on (loads the registry, walks the folders), instead of when the first file is read.
    Nothing to do without isolation or where there is no fork server."""
    if not _isolation_default():
        return
    ctx = _context()
    if ctx.get_start_method() != "forkserver":
        return  # pragma: no cover - Windows
    from multiprocessing import forkserver

    with _safe_import_path():
        forkserver.ensure_running()


def _isolation_default() -> bool:
    return os.environ.get("XLPERF_READ_ISOLATION", "1").strip().lower() not in ("0", "off", "no", "false")


def read_isolated(files: list, jobs: int = 1, timeout_s: float | None = None, mem_limit_mb: int | None = None,
                  progress: Callable[[], None] | None = None, *, reader: Callable = read_file,
                  limits: Limits | None = None, isolate: bool | None = None,
                  on_result: Callable[[int, FileResult], None] | None = None) -> list[FileResult]:
    """Read every file in worker processes; one result per file, in input order.

    *reader* is called as ``reader(path, limits=limits)`` in a worker and must be a module-level
    function (it is pickled by reference). *timeout_s* is the budget of one file; *mem_limit_mb* the
    address-space limit of a worker; both default to *limits* (``Limits.from_env()``).
    *progress* is called once per file as results arrive (a batch at a time). *on_result(index, result)*,
    if given, is called once per file too, in the parent, after the workers have been given their next
    work, so that what it does overlaps with the reading.
    """
    files = list(files)
    limits = limits or Limits.from_env()
    timeout_s = float(timeout_s if timeout_s is not None else limits.read_timeout_s)
    mem_limit_mb = int(mem_limit_mb if mem_limit_mb is not None else limits.read_mem_mb)
    if not files:
        return []
    if not (_isolation_default() if isolate is None else isolate):
        return _read_in_process(files, reader, limits, progress, on_result)
    pool = _Pool(files, max(1, min(int(jobs or 1), len(files))), timeout_s, mem_limit_mb, reader, limits, progress,
                 on_result)
    return pool.run()


def _read_in_process(files, reader, limits, progress, on_result=None) -> list[FileResult]:
    out = []
    for i, f in enumerate(files):
        try:
            res = reader(f, limits=limits)
        except Exception as exc:
            res = _result(f, "F016", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        out.append(res)
        if progress:
            progress()
        if on_result:
            on_result(i, res)
    return out


class _Pool:
    def __init__(self, files, jobs, timeout_s, mem_limit_mb, reader, limits, progress, on_result=None):
        self.files = files
        self.jobs = jobs
        self.timeout_s = timeout_s
        self.mem_limit_mb = mem_limit_mb
        self.reader = reader
        self.limits = limits
        self.progress = progress
        self.on_result = on_result
        self.arrived: list[int] = []  # indexes whose results on_result has not seen yet
        self.results: list[FileResult | None] = [None] * len(files)
        self.left = len(files)
        size = self.size = max(1, min(_CHUNK_MAX, math.ceil(len(files) / (jobs * 4))))
        idx = list(range(len(files)))
        self.queue: deque[list[int]] = deque(idx[i:i + size] for i in range(0, len(idx), size))
        self.solo: deque[int] = deque()  # files to retry alone in a fresh worker
        self.workers: list[_Worker] = []
        self.ctx = _context()
        self.tmp = tempfile.mkdtemp(prefix="xlperf-workers-")
        self.started = 0
        self.startup_failures = 0
        # how often the parent looks at the workers' slots: a hang is noticed within timeout + poll_s
        self.poll_s = max(0.05, min(1.0, timeout_s / 10))
        self.sel = selectors.DefaultSelector()  # every worker's pipe and sentinel, registered once

    # -- lifecycle

    def run(self) -> list[FileResult]:
        try:
            while self.left:
                self._dispatch()
                # The workers have their next chunk: what on_result does overlaps with their reading. A slice at
                # a time, so that their answers are collected (and their pipes emptied) in between.
                self._deliver(_DELIVER_SLICE)
                if not self.left:
                    break
                busy = [w for w in self.workers if w.pending]
                if not busy:  # cannot happen while files are left; guard against a silent spin
                    raise RuntimeError("worker pool stalled")
                now = time.monotonic()
                timeout = 0.0 if self.arrived else max(0.0, min(min(w.deadline for w in busy) - now, self.poll_s))
                seen = set()
                for key, _events in self.sel.select(timeout):
                    w = key.data
                    if id(w) in seen or w not in self.workers:
                        continue
                    seen.add(id(w))
                    self._drain(w)
                now = time.monotonic()
                for w in list(self.workers):
                    if w.pending and w.ready and w.moved_on():  # started another file: its own time budget
                        w.deadline = max(w.deadline, now + self.timeout_s)
                    if w.pending and now >= w.deadline:
                        self._drain(w)  # answers that raced the deadline still count
                        if w.pending and w in self.workers:
                            self._lost(w, timed_out=True)
            self._deliver()
            return self.results  # type: ignore[return-value]
        finally:
            self._shutdown()
            self.sel.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        self.started += 1
        err_path = os.path.join(self.tmp, f"w{self.started}.err")
        pos_path, pos = _new_pos(os.path.join(self.tmp, f"w{self.started}.pos"))
        proc = self.ctx.Process(target=_worker_main, name=f"xlperf-reader-{self.started}",
                                args=(child, self.mem_limit_mb, self.reader, self.limits, err_path,
                                      2 * self.timeout_s + 5, pos_path), daemon=True)
        with _safe_import_path():
            proc.start()
        child.close()
        w = _Worker(proc, parent, err_path, pos_path, pos)
        self.workers.append(w)
        self.sel.register(w.conn, selectors.EVENT_READ, w)
        self.sel.register(proc.sentinel, selectors.EVENT_READ, w)
        return w

    def _unregister(self, w: _Worker) -> None:
        for h in (w.conn, w.proc.sentinel):
            try:
                self.sel.unregister(h)
            except (KeyError, ValueError, OSError):
                pass

    def _retire(self, w: _Worker) -> None:
        self.workers.remove(w)
        self._unregister(w)
        try:
            w.conn.send(None)
        except (OSError, EOFError, BrokenPipeError):
            pass
        w.conn.close()
        w.proc.join(timeout=5)
        if w.proc.exitcode is None:
            w.proc.kill()
            w.proc.join()
        _unlink(w.err_path)
        _close_pos(w)

    def _shutdown(self) -> None:
        for w in list(self.workers):
            if w.pending:  # interrupted (Ctrl-C, an error): do not wait for a worker that may be stuck
                w.proc.kill()
                self._reap(w)
            else:
                self._retire(w)

    def _reap(self, w: _Worker) -> None:
        if w in self.workers:
            self.workers.remove(w)
        self._unregister(w)
        w.conn.close()
        if w.proc.exitcode is None:
            w.proc.kill()
        w.proc.join()
        _unlink(w.err_path)
        _close_pos(w)

    # -- scheduling

    def _send(self, w: _Worker, idxs: list[int]) -> None:
        if not w.pending:  # a chunk sent ahead does not extend the time of the file the worker is on
            w.deadline = time.monotonic() + self.timeout_s + (0 if w.ready else _STARTUP_S)
        w.pending.extend(idxs)
        w.chunk_ends.append(idxs[-1])
        w.used = True
        try:
            w.conn.send([(i, self.files[i]) for i in idxs])
        except (OSError, EOFError, BrokenPipeError):
            self._lost(w, timed_out=False)

    def _dispatch(self) -> None:
        for w in [w for w in self.workers if not w.pending]:
            if self.solo or not self.queue:
                self._retire(w)  # a retry needs a clean room; with no work left, the slot is freed
            else:
                self._send(w, self.queue.popleft())
        while len(self.workers) < self.jobs and (self.solo or self.queue):
            w = self._start()
            if self.solo:
                i = self.solo.popleft()
                w.fresh_for = i
                self._send(w, [i])
            else:
                self._send(w, self.queue.popleft())
        # Send the next chunk ahead to a worker on its last one, so that it never waits for the parent.
        if not self.solo:
            for w in list(self.workers):
                if self.queue and w.ready and w.fresh_for is None and len(w.chunk_ends) == 1 and w in self.workers:
                    self._send(w, self.queue.popleft())

    def _drain(self, w: _Worker) -> None:
        """Collect every answer waiting on *w*'s pipe; handle its death if the pipe is closed."""
        eof = False
        while True:
            try:
                if not w.conn.poll():
                    break
                data = w.conn.recv_bytes()
            except (EOFError, OSError):
                eof = True
                break
            if data == _READY:
                w.ready = True
                self.startup_failures = 0
                w.deadline = time.monotonic() + self.timeout_s
                continue
            for idx, res in pickle.loads(data):  # a batch: [(index, FileResult)]
                if w.pending and w.pending[0] == idx:
                    w.pending.popleft()
                else:  # out of order cannot happen with one sequential worker; stay correct anyway
                    try:
                        w.pending.remove(idx)
                    except ValueError:
                        continue
                if w.chunk_ends and w.chunk_ends[0] == idx:
                    w.chunk_ends.popleft()
                self._done(idx, res)
            w.deadline = time.monotonic() + self.timeout_s
        if not w.pending:
            w.chunk_ends.clear()
        if not eof and w.proc.exitcode is None:
            return
        if w.pending:
            w.proc.join(timeout=1)
            self._lost(w, timed_out=False)
        elif w in self.workers:
            self._reap(w)

    def _done(self, idx: int, res: FileResult) -> None:
        if self.results[idx] is None:
            self.left -= 1
            if self.progress:
                self.progress()
            if self.on_result:
                self.arrived.append(idx)
        self.results[idx] = res

    def _deliver(self, limit: int = 0) -> None:
        """Hand arrived results to on_result: all of them, or at most *limit*."""
        if not self.arrived:
            return
        if limit and len(self.arrived) > limit:
            now, self.arrived = self.arrived[:limit], self.arrived[limit:]
        else:
            now, self.arrived = self.arrived, []
        for idx in now:
            self.on_result(idx, self.results[idx])

    def _lost(self, w: _Worker, timed_out: bool) -> None:
        """*w* died or overran: blame only the file it was on, and only if it fails alone."""
        if w.proc.exitcode is None:
            w.proc.kill()
        w.proc.join()
        detail = _crash_detail(w.err_path)
        if not w.ready:  # died before touching a file: the environment is at fault, not the input
            self.startup_failures += 1
            if w.fresh_for is not None:
                self.solo.appendleft(w.fresh_for)
            else:
                self.queue.appendleft(list(w.pending))
            w.pending.clear()
            w.chunk_ends.clear()
            self._reap(w)
            if self.startup_failures >= 3:
                raise RuntimeError(f"reader worker processes cannot start (exit code {w.proc.exitcode}"
                                   + (f": {detail}" if detail else "") + ")")
            return
        # The file it was on, from the shared slot; the others of its batch (done but not sent, or not
        # started) go back to the queue. Without a slot reading, the first unanswered file is suspected.
        cur = w.current()
        culprit = cur if cur is not None and cur in w.pending else w.pending[0]
        rest = [i for i in w.pending if i != culprit]
        w.pending.clear()
        w.chunk_ends.clear()
        self._reap(w)
        if rest:
            self.queue.appendleft(rest)
        if w.fresh_for == culprit:
            self._done(culprit, self._given_up(culprit, w.proc.exitcode, timed_out, detail))
        else:
            self.solo.append(culprit)

    def _given_up(self, idx: int, exitcode: int | None, timed_out: bool, detail: str) -> FileResult:
        path = self.files[idx]
        zh, en = _reason(exitcode, timed_out, self.timeout_s, self.mem_limit_mb, detail)
        return _result(path, "F017", name=Path(path).name, reason_zh=zh, reason_en=en,
                       exitcode=exitcode, detail=detail)


def _reason(exitcode: int | None, timed_out: bool, timeout_s: float, mem_mb: int, detail: str) -> tuple[str, str]:
    secs = f"{timeout_s:g}"
    if timed_out:
        return (f"超过 {secs} 秒仍未读完（读取进程已被终止）", f"did not finish within {secs} s (reader process killed)")
    memory = exitcode == 99 or "memory allocation" in detail or "MemoryError" in detail
    sig = ""
    if exitcode is not None and exitcode < 0:
        try:
            sig = signal.Signals(-exitcode).name
        except ValueError:
            sig = f"signal {-exitcode}"
    if sig == "SIGXCPU":
        return ("CPU 时间超限（读取进程已被终止）", "used up its CPU time budget (reader process ended)")
    # The crash line (a Rust panic, "memory allocation … failed") is the library's English: English only.
    tail_en = f": {detail}" if detail else ""
    signo = sig  # a signal's name (SIGABRT) is an identifier an administrator can look up, not a sentence
    if memory:
        return (f"读取进程内存超限（上限 {mem_mb} MB{('，' + signo) if signo else ''}）",
                f"the reader process ran out of memory (limit {mem_mb} MB{(', ' + sig) if sig else ''}){tail_en}")
    if sig:
        return (f"读取进程崩溃（{signo}）", f"crashed the reader process ({sig}){tail_en}")
    return (f"读取进程意外退出（退出码 {exitcode}）", f"the reader process exited unexpectedly (exit code {exitcode}){tail_en}")


def _crash_detail(err_path: str) -> str:
    """The first meaningful line a dying worker wrote to stderr (e.g. Rust's 'memory allocation … failed')."""
    try:
        with open(err_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 8192))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    keys = ("memory allocation", "panicked", "Fatal Python error", "Error", "error")
    for ln in lines:
        if any(k in ln for k in keys) and not ln.startswith(("Traceback", "File ")):
            return ln[:160]
    return lines[-1][:160] if lines else ""


def _new_pos(path: str):
    """A zeroed 8-byte file and the parent's mmap of it: ``(path, mmap)``, or ``("", None)`` if that fails."""
    try:
        with open(path, "w+b") as fh:
            fh.write(b"\0" * _POS.size)
            fh.flush()
            return path, mmap.mmap(fh.fileno(), _POS.size)
    except (OSError, ValueError):
        _unlink(path)
        return "", None


def _close_pos(w: _Worker) -> None:
    if w.pos is not None:
        try:
            w.pos.close()
        except (OSError, ValueError, BufferError):
            pass
        w.pos = None
    if w.pos_path:
        _unlink(w.pos_path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
